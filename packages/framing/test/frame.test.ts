import { describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_MAX_FRAME_SIZE,
  decodeHeader,
  encodeFrame,
  encodeHeader,
  HEADER_SIZE,
} from '../src/index.js';
import { hex, prng, runPerl } from './support/test-support.js';

describe('constants', () => {
  it('has a 12-byte header and a 16 MiB default body limit', () => {
    expect(HEADER_SIZE).toBe(12);
    expect(DEFAULT_MAX_FRAME_SIZE).toBe(16 * 1024 * 1024);
  });
});

describe('encodeHeader / decodeHeader', () => {
  it('writes msg, len, sync as unsigned 32-bit little-endian words', () => {
    expect(encodeHeader(0x11, 0x0203, 0x01020304)).toEqual(hex('11000000 03020000 04030201'));
    expect(encodeHeader(0xffffffff, 0, 0x80000000)).toEqual(hex('ffffffff 00000000 00000080'));
  });

  it('reads a header at an offset', () => {
    const bytes = hex('aabb 0d000000 05000000 feffffff');
    expect(decodeHeader(bytes, 2)).toEqual({ msg: 13, len: 5, sync: 0xfffffffe });
    expect(decodeHeader(bytes.subarray(2))).toEqual({ msg: 13, len: 5, sync: 0xfffffffe });
  });

  it('reads from a plain Uint8Array too', () => {
    const bytes = new Uint8Array(hex('01000000 02000000 03000000'));
    expect(decodeHeader(bytes)).toEqual({ msg: 1, len: 2, sync: 3 });
  });

  it('rejects a short header and out-of-range fields', () => {
    expect(() => decodeHeader(hex('01000000 02000000 030000'))).toThrow(RangeError);
    expect(() => decodeHeader(hex('01000000 02000000 03000000'), 1)).toThrow(/need 12 bytes at offset 1/);
    expect(() => decodeHeader(hex('01000000 02000000 03000000 00'), 0.5)).toThrow(/at offset 0.5/);
    expect(() => encodeHeader(-1, 0, 0)).toThrow(/msg must be an integer/);
    expect(() => encodeHeader(0, 2 ** 32, 0)).toThrow(RangeError);
    expect(() => encodeHeader(0, 0, 1.5)).toThrow(/sync/);
    expect(() => encodeHeader(Number.NaN, 0, 0)).toThrow(RangeError);
  });

  it("matches Perl's pack('L3', msg, len, sync) for edge and random values", () => {
    const rand = prng(7);
    const triples: number[][] = [
      [0, 0, 0],
      [1, 2, 3],
      [0xffffffff, 0xffffffff, 0xffffffff],
      [0x7fffffff, 0x80000000, 0x100],
    ];
    for (let i = 0; i < 200; i++) triples.push([0, 0, 0].map(() => Math.floor(rand() * 2 ** 32)));
    const out = runPerl(
      'while (<STDIN>) { my @v = split; print unpack("H*", pack("L3", @v)), "\\n" }',
      triples.map((t) => t.join(' ')).join('\n') + '\n',
    );
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(triples.length);
    triples.forEach(([msg, len, sync], i) => {
      expect(encodeHeader(msg, len, sync).toString('hex')).toBe(lines[i]);
      expect(decodeHeader(hex(lines[i]))).toEqual({ msg, len, sync });
    });
  });
});

describe('encodeFrame', () => {
  it('puts the body length in the header and the body after it', () => {
    expect(encodeFrame(17, 42, Buffer.from('abc'))).toEqual(hex('11000000 03000000 2a000000 616263'));
  });

  it('builds a header-only frame without a body or with an empty one', () => {
    expect(encodeFrame(0xff00, 9)).toEqual(hex('00ff0000 00000000 09000000'));
    expect(encodeFrame(0xff00, 9, new Uint8Array(0))).toEqual(hex('00ff0000 00000000 09000000'));
  });

  it('writes a string body as UTF-8', () => {
    expect(encodeFrame(1, 2, 'é!')).toEqual(hex('01000000 03000000 02000000 c3a921'));
    expect(encodeFrame(1, 2, '')).toEqual(hex('01000000 00000000 02000000'));
  });

  it('rejects out-of-range msg and sync', () => {
    expect(() => encodeFrame(2 ** 32, 0)).toThrow(RangeError);
    expect(() => encodeFrame(0, -5)).toThrow(/sync/);
  });

  // Regression: len wrapped at 2^32 (a fake length stands in for a 4 GiB buffer).
  it('refuses a body longer than a header can announce with FrameError ERR_FRAME_TOO_LARGE', () => {
    const huge = Object.defineProperty(new Uint8Array(1), 'length', { value: 2 ** 32 + 5 });
    expect(() => encodeFrame(1, 2, huge)).toThrow(
      expect.objectContaining({ name: 'FrameError', code: 'ERR_FRAME_TOO_LARGE', len: 2 ** 32 + 5 }),
    );
    const spy = vi.spyOn(Buffer, 'byteLength').mockReturnValueOnce(2 ** 32);
    try {
      expect(() => encodeFrame(1, 2, 'x')).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE' }));
    } finally {
      spy.mockRestore();
    }
  });
});
