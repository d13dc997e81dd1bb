import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../src/crc32.js';

describe('crc32', () => {
  it('gives the standard check values', () => {
    expect(crc32('')).toBe(0);
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32(new Uint8Array([0]))).toBe(0xd202ef8d);
  });

  it('continues from init as Digest::CRC crc32($data, $init) does', () => {
    // The value the Perl reference computes: perl -MDigest::CRC=crc32 -e 'print crc32("1", 12345)'
    expect(crc32('1', 12345)).toBe(3705235343);
    // Nothing to add: the CRC so far (perl: crc32("", 860425986)).
    expect(crc32('', 860425986)).toBe(860425986);
  });

  it('agrees with zlib on random data and seeds', () => {
    for (let i = 0; i < 200; i++) {
      const data = randomBytes(1 + (i % 97));
      const init = (Math.random() * 2 ** 32) >>> 0;
      expect(crc32(data)).toBe(zlib.crc32(data));
      expect(crc32(data, init)).toBe(zlib.crc32(data, init));
    }
  });

  it('chains: crc32(b, crc32(a)) is crc32(a + b)', () => {
    const a = randomBytes(33);
    const b = randomBytes(50);
    expect(crc32(b, crc32(a))).toBe(crc32(Buffer.concat([a, b])));
  });

  it('hashes random UTF-16 (lone surrogates too) as Buffer.from(text, "utf8") encodes it', () => {
    for (let i = 0; i < 500; i++) {
      const units = Array.from({ length: i % 30 }, () =>
        Math.random() < 0.5 ? Math.floor(Math.random() * 0x80) : Math.floor(Math.random() * 0x10000),
      );
      const text = String.fromCharCode(...units);
      expect(crc32(text)).toBe(zlib.crc32(Buffer.from(text, 'utf8')));
    }
  });

  it('hashes a string as its UTF-8 bytes, short or long, ASCII or not', () => {
    const samples = [
      'é',
      'ключ',
      '☺',
      '😀𝄞',
      'x'.repeat(64),
      `${'a'.repeat(70)}€`,
      'ab\ud800c',
      '\udc00',
      'z\ud83d',
    ];
    for (const text of samples) {
      expect(crc32(text)).toBe(zlib.crc32(Buffer.from(text, 'utf8')));
    }
  });
});
