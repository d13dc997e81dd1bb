import { describe, expect, it } from 'vitest';
import { bufferView } from './fast-buffer.js';
import { unpack } from './index.js';

describe('bufferView', () => {
  it('makes a real Buffer that shares the memory it views', () => {
    const backing = Buffer.from('00112233445566', 'hex');
    const view = bufferView(backing.buffer, backing.byteOffset + 2, 3);
    expect(Object.getPrototypeOf(view)).toBe(Buffer.prototype);
    expect(Buffer.isBuffer(view)).toBe(true);
    expect(view.constructor).toBe(Buffer);
    expect(view.toString('hex')).toBe('223344');
    backing[3] = 0xff;
    expect(view[1]).toBe(0xff);
    // Buffer methods, including those that build new buffers, work on it.
    expect(view.subarray(1).toString('hex')).toBe('ff44');
    expect(Buffer.isBuffer(view.subarray(1))).toBe(true);
    expect(view.readUInt16BE(0)).toBe(0x22ff);
  });

  it('gives unpacked fields as Buffer views of the data, also from a plain Uint8Array', () => {
    const data = new Uint8Array([1, 0, 0, 0, 2, 0x61, 0x62, 1, 0, 0, 0, 1, 0x63]);
    const [, key, , field] = unpack('L w/a* L(w/a*)*', data) as [number, Buffer, number, Buffer];
    for (const b of [key, field]) {
      expect(Object.getPrototypeOf(b)).toBe(Buffer.prototype);
      expect(b.buffer).toBe(data.buffer);
    }
    expect(key.toString()).toBe('ab');
    expect(field.byteOffset).toBe(12);
    const [many] = unpack('(w/a*)*', Buffer.from([2, 0x78, 0x79])) as [Buffer];
    expect(Buffer.isBuffer(many) && many.toString()).toBe('xy');
    const [plain] = unpack('a2', Buffer.from('hi')) as [Buffer];
    expect(Object.getPrototypeOf(plain)).toBe(Buffer.prototype);
  });
});
