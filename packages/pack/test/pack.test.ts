import { describe, expect, it } from 'vitest';
import { compile, PackError, pack, unpack } from '../src/index.js';

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

  it('unpackRange reads a range of a larger buffer as unpack reads that range', () => {
    const bytes = Buffer.concat([
      Buffer.from('ffeedd', 'hex'),
      pack('L3', 1, 2, 3),
      pack('L w/a* L(w/a*)*', 1, 'abc', 2, 'x', 'yy'),
      Buffer.from('cc', 'hex'),
    ]);
    // A fixed layout (read in place), a tuple and a template for the general engine.
    for (const [template, start, end] of [
      ['L3', 3, 15],
      ['L w/a* L(w/a*)*', 15, bytes.length - 1],
      ['a3 x2 a*', 0, 9],
    ] as const) {
      const compiled = compile(template);
      expect(compiled.unpackRange(bytes, start, end), template).toEqual(
        unpack(template, bytes.subarray(start, end)),
      );
    }
    expect(compile('L w/a* L(w/a*)*').unpackRange(bytes, 15, bytes.length - 1, { strings: 'utf8' })).toEqual([
      1,
      'abc',
      2,
      'x',
      'yy',
    ]);
    // A short range reads as short data does (Perl stops at the end), never past the range.
    expect(compile('L3').unpackRange(bytes, 3, 14)).toEqual([1, 2]);
    expect(compile('L3').unpackRange(bytes, 3, 14)).toEqual(unpack('L3', bytes.subarray(3, 14)));
    expect(() => compile('L3').unpackRange(bytes, 5, 2)).toThrow(/0 <= start <= end <= 33/);
    expect(() => compile('L3').unpackRange(bytes, 0, 34)).toThrow(RangeError);
    expect(() => compile('L3').unpackRange('abc' as never, 0, 1)).toThrow(/data must be a Uint8Array/);
  });

  it('throws PackError where Perl dies', () => {
    expect(() => pack('c', 200)).toThrow(PackError);
    expect(() => pack('c', 200)).toThrow("Character in 'c' format wrapped in pack");
    expect(() => pack('L3', 1, 2)).toThrow(expect.objectContaining({ code: 'ERR_PACK_VALUE' }));
    expect(() => pack('p', 1)).toThrow(expect.objectContaining({ code: 'ERR_PACK_UNSUPPORTED' }));
    expect(() => unpack('x5', Buffer.alloc(2))).toThrow(expect.objectContaining({ code: 'ERR_PACK_DATA' }));
    expect(PackError.isPackError(new PackError('ERR_PACK_DATA', 'x'))).toBe(true);
    // A PackError of another loaded copy (the CommonJS build beside this one): brand and name.
    class OtherCopy extends Error {
      override readonly name = 'PackError';
    }
    Object.defineProperty(OtherCopy.prototype, Symbol.for('iproto.error'), { value: true });
    expect(new OtherCopy('x')).toBeInstanceOf(PackError);
    expect(new Error('x') instanceof PackError).toBe(false);
    class Narrow extends PackError {}
    expect(new PackError('ERR_PACK_DATA', 'x') instanceof Narrow).toBe(false);
    expect((new PackError('ERR_PACK_DATA', 'x') as any)[Symbol.for('iproto.error')]).toBe(true);
  });
});

describe('Perl behaviours, with expected bytes taken from perl 5.36', () => {
  it('drops the `/` of the symbol right after a group, as pp_pack.c does', () => {
    expect(hex(pack('(C) S/a*', 1, 5, 'abc'))).toBe('010500616263');
  });

  it('applies < and > on letters and groups', () => {
    expect(hex(pack('s< s> (s l)> q<', 1, 1, 1, 1, 1))).toBe('010000010001000000010100000000000000');
  });

  it('aligns with x! and X!, positions with @ (group-relative) and .', () => {
    expect(hex(pack('C x![L] C X!2 C', 1, 2, 3))).toBe('0100000003');
    expect(hex(pack('C (C @2 C) C', 1, 2, 3, 4))).toBe('0102000304');
    expect(hex(pack('C3 .', 1, 2, 3, 1))).toBe('01');
    expect(unpack('x3 X2 C .', Buffer.from([1, 2, 3, 4]))).toEqual([2, 2]);
  });

  it('takes counts from [template]', () => {
    expect(hex(pack('x[L] C x[(a2 S)2]', 1))).toBe('00000000010000000000000000');
  });

  it('sums checksums and counts bits', () => {
    expect(unpack('%32C* %8b*', Buffer.from([0xff, 0xff, 0x01]))).toEqual([511, 0]);
  });

  it('reads / counts for groups and strips Z and A strings', () => {
    expect(unpack('C/(n)', Buffer.from('02000100020003', 'hex'))).toEqual([1, 2]);
    expect(unpack('Z* Z5 A*', Buffer.from('ab\0cd\0\0\0\0xy  \0', 'latin1'))).toEqual([
      Buffer.from('ab'),
      Buffer.from('cd'),
      Buffer.from('\0xy', 'latin1'),
    ]);
  });

  it('packs BER integers of any size, bit and hex strings, uuencode', () => {
    expect(hex(pack('w3', 0, 127, 128))).toBe('007f8100');
    expect(hex(pack('w', '18446744073709551616'))).toBe('82808080808080808000');
    expect(unpack('w', Buffer.from('82808080808080808000', 'hex'))).toEqual([18446744073709551616n]);
    expect(hex(pack('b* B* h* H*', '1011', '1011', '1a', '1a'))).toBe('0db0a11a');
    expect(hex(pack('u', 'hello'))).toBe('253a26354c3b265c600a');
    expect(unpack('u', Buffer.from('253a26354c3b265c600a', 'hex'))).toEqual([Buffer.from('hello')]);
  });

  it('writes U as characters (UTF-8 when wide) and C0U as UTF-8 bytes', () => {
    expect(hex(pack('U', 0x263a))).toBe('e298ba');
    expect(hex(pack('U', 200))).toBe('c8');
    expect(hex(pack('C0U', 200))).toBe('c388');
    expect(unpack('C0U*', Buffer.from('e298ba', 'hex'))).toEqual([0x263a]);
    expect(unpack('U*', Buffer.from('e298ba', 'hex'))).toEqual([0xe2, 0x98, 0xba]);
  });

  it('keeps Perl quirk: (w/a*)* at the end of the data dies', () => {
    expect(() => unpack('L(w/a*)*', Buffer.alloc(4))).toThrow("Code missing after '/' in unpack");
  });

  it('reports the template and the value in errors', () => {
    try {
      pack('L w/a*', 1, 'x', 'not used', {});
      pack('L', 'abc');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PackError);
      expect((error as PackError).template).toBe('L');
      expect((error as PackError).message).toBe('Argument "abc" isn\'t numeric in pack');
    }
  });
});
