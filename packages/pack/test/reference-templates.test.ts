import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, pack, unpack } from '../src/index.js';
import { PerlChild, sameValue, toWire } from './support/perl-child.js';

/**
 * The templates that real iproto code uses (MR::Tarantool::Box, per
 * /work/shared/reference/perl-mr-iproto.md): same bytes and values as Perl, and they round-trip.
 */

const b = (s: string) => Buffer.from(s);

/** roundTrip: unpack(pack(values)) gives the values back; every case re-packs its unpacked values. */
const CASES: Array<{ t: string; values: unknown[]; roundTrip: boolean; repack?: false }> = [
  {
    t: 'L w/a* L(w/a*)*',
    values: [7, b('key'), 3, b('f1'), b('field two'), Buffer.from([0, 1, 255])],
    roundTrip: true,
  },
  { t: 'L w/a* L(w/a*)*', values: [1, b('x'.repeat(300)), 1, b('y'.repeat(20000))], roundTrip: true },
  { t: 'LLL (w/a*)*', values: [13, 0, 2, b('a'), b('bb')], roundTrip: true },
  { t: 'L(w/a*)*', values: [2, b('one'), b('two')], roundTrip: true },
  { t: 'LX[L]CSC', values: [0, 5, 0x0605, 7], roundTrip: false },
  // `a*` takes the rest of the data on unpack: this one is only ever packed.
  {
    t: 'LLLL a* La*',
    values: [0, 0, 0, 100, b('\x01\x00\x00\x00\x03abc'), 1, b('\x02\x00')],
    roundTrip: false,
    repack: false,
  },
  { t: '(H2)*', values: ['ab', 'cd', '0f'], roundTrip: true },
  { t: 'l*', values: [-1, 0, 2147483647, -2147483648], roundTrip: true },
  { t: 'x4', values: [], roundTrip: true },
  { t: 'L3', values: [17, 5, 0xffffffff], roundTrip: true },
  { t: 'Q', values: [18446744073709551615n], roundTrip: true },
  { t: 'q', values: [-9223372036854775808n], roundTrip: true },
  { t: 'L', values: [4294967295], roundTrip: true },
  { t: 'l', values: [-2147483648], roundTrip: true },
  { t: 'S', values: [65535], roundTrip: true },
  { t: 's', values: [-32768], roundTrip: true },
  { t: 'C', values: [255], roundTrip: true },
  { t: 'c', values: [-128], roundTrip: true },
];

let perl: PerlChild;
beforeAll(() => {
  perl = new PerlChild();
});
afterAll(async () => {
  await perl.close();
});

describe('templates of MR::Tarantool::Box', () => {
  for (const { t, values, roundTrip, repack } of CASES) {
    it(`${t} packs and unpacks as Perl does${roundTrip ? ', and round-trips' : ''}`, async () => {
      const bytes = pack(t, ...values);
      const theirs = await perl.pack(t, values.map(toWire));
      expect(bytes.toString('hex')).toBe(theirs.ok);

      const ours = unpack(t, bytes);
      const theirValues = await perl.unpack(t, bytes);
      expect(Array.isArray(theirValues.ok)).toBe(true);
      const perlValues = theirValues.ok as [];
      expect(ours.length).toBe(perlValues.length);
      expect(ours.map((v, i) => sameValue(v, perlValues[i])).filter(Boolean)).toEqual([]);

      // Bytes -> values -> the same bytes, through the compiled form too.
      if (repack !== false) expect(compile(t).pack(...ours)).toEqual(bytes);
      if (roundTrip) expect(ours).toEqual(values);
    });
  }

  it('dies like Perl on a tuple with no fields (regression: Perl 5.36 unpack quirk)', async () => {
    // `(w/a*)*` runs its body once even at the end of the data; `w` finds nothing, so Perl stops
    // with the `/` still pending and the enclosing level reports the missing code.
    const bytes = pack('L w/a* L', 0, '', 0);
    const theirs = await perl.unpack('L w/a* L(w/a*)*', bytes);
    expect(theirs.err).toMatch(/^Code missing after '\/' in unpack/);
    expect(() => unpack('L w/a* L(w/a*)*', bytes)).toThrow("Code missing after '/' in unpack");
    expect(() => unpack('L(w/a*)*', pack('L', 5))).toThrow("Code missing after '/' in unpack");
  });

  it('decodes fields as UTF-8 text and 64-bit values as numbers on request', () => {
    const bytes = pack('L w/a* Q q', 1, 'héllo', 2n ** 53n - 1n, -5);
    expect(unpack('L w/a* Q q', bytes, { strings: 'utf8', int64: 'number' })).toEqual([
      1,
      'héllo',
      2 ** 53 - 1,
      -5,
    ]);
    // Beyond 2^53 a number would lose digits: it stays a bigint.
    expect(unpack('Q', pack('Q', 2n ** 53n + 1n), { int64: 'number' })).toEqual([2n ** 53n + 1n]);
    expect(unpack('Q', pack('Q', 5))).toEqual([5n]);
  });
});
