import { describe, expect, it } from 'vitest';
import { compile, PackError, pack, unpack } from './index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('pack/unpack basics', () => {
  it('packs the iproto header as L3', () => {
    expect(hex(pack('L3', 17, 5, 0xffffffff))).toBe('1100000005000000ffffffff');
    expect(unpack('L3', Buffer.from('1100000005000000ffffffff', 'hex'))).toEqual([17, 5, 0xffffffff]);
  });

  it('round-trips the MR::Tarantool::Box tuple template', () => {
    const bytes = pack('L w/a* L(w/a*)*', 1, 'abc', 2, 'x', 'yy');
    expect(hex(bytes)).toBe('0100000003616263020000000178027979');
    expect(unpack('L w/a* L(w/a*)*', bytes)).toEqual([
      1,
      Buffer.from('abc'),
      2,
      Buffer.from('x'),
      Buffer.from('yy'),
    ]);
  });

  it('caches compiled templates by their text', () => {
    expect(compile('L3')).toBe(compile('L3'));
    expect(compile('L3')).not.toBe(compile('L4'));
  });

  it('throws PackError where Perl dies', () => {
    expect(() => pack('c', 200)).toThrow(PackError);
    expect(() => pack('c', 200)).toThrow("Character in 'c' format wrapped in pack");
    expect(() => pack('L3', 1, 2)).toThrow(expect.objectContaining({ code: 'ERR_PACK_VALUE' }));
    expect(() => pack('p', 1)).toThrow(expect.objectContaining({ code: 'ERR_PACK_UNSUPPORTED' }));
    expect(() => unpack('x5', Buffer.alloc(2))).toThrow(expect.objectContaining({ code: 'ERR_PACK_DATA' }));
    expect(PackError.isPackError(new PackError('ERR_PACK_DATA', 'x'))).toBe(true);
    expect((new PackError('ERR_PACK_DATA', 'x') as any)[Symbol.for('iproto.error')]).toBe(true);
  });
});
