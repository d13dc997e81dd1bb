import { describe, expect, it } from 'vitest';
import { allocResult, bufferView } from '../src/fast-buffer.js';
import { compile, pack, unpack } from '../src/index.js';

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

describe('allocResult (pooled pack results)', () => {
  it('hands out disjoint, 8-byte aligned Buffers and never the same bytes twice', () => {
    const seen: Buffer[] = [];
    // Enough to run through several slabs.
    for (let i = 0; i < 20_000; i++) {
      const b = allocResult(1 + (i % 13));
      expect(b.byteOffset % 8).toBe(0);
      b.fill(i & 0xff);
      seen.push(b);
    }
    seen.forEach((b, i) => {
      expect(Object.getPrototypeOf(b)).toBe(Buffer.prototype);
      expect(b.length).toBe(1 + (i % 13));
      expect(b.every((x) => x === (i & 0xff))).toBe(true);
    });
    const big = allocResult(100_000);
    expect(big.length).toBe(100_000);
  });

  it('keeps every earlier pack result intact while later packs reuse the pool', () => {
    const header = compile('L3');
    const tuple = compile('L w/a* L(w/a*)*');
    const kept: Array<[Buffer, string]> = [];
    for (let i = 0; i < 3000; i++) {
      const a = header.pack(i, i * 7, 0xfffffff0 + (i % 16));
      const b = tuple.pack(i, `key${i}`, 2, 'x'.repeat(i % 50), Buffer.from([i & 0xff]));
      const c = pack('a* N', `general ${i}`, i);
      kept.push([a, `L3 ${i}`], [b, `tuple ${i}`], [c, `general ${i}`]);
    }
    for (let i = 0; i < 3000; i++) {
      const [a, b, c] = [kept[3 * i][0], kept[3 * i + 1][0], kept[3 * i + 2][0]];
      expect(unpack('L3', a)).toEqual([i, i * 7, 0xfffffff0 + (i % 16)]);
      const t = unpack('L w/a* L(w/a*)*', b);
      expect(t).toEqual([
        i,
        Buffer.from(`key${i}`),
        2,
        Buffer.from('x'.repeat(i % 50)),
        Buffer.from([i & 0xff]),
      ]);
      expect(unpack('a* N', c)).toHaveLength(1); // a* takes everything
      expect(c.subarray(0, c.length - 4).toString()).toBe(`general ${i}`);
      expect(c.readUInt32BE(c.length - 4)).toBe(i);
    }
  });
});
