import { PackError, PackErrorCode } from './pack-error.js';

/**
 * Perl's internal UTF-8 ("utf8"): standard UTF-8 extended to every 64-bit code point (7-byte 0xFE
 * and 13-byte 0xFF forms), no checks for surrogates or non-characters.
 */

/** Number of bytes of the character whose start byte is `b` (Perl's UTF8SKIP). */
export function utf8Skip(b: number): number {
  if (b < 0xc0) return 1;
  if (b < 0xe0) return 2;
  if (b < 0xf0) return 3;
  if (b < 0xf8) return 4;
  if (b < 0xfc) return 5;
  if (b < 0xfe) return 6;
  if (b === 0xfe) return 7;
  return 13;
}

/** Appends the utf8 encoding of `cp` (0 <= cp < 2^64) to `out`. */
export function encodeUtf8(cp: number | bigint, out: number[]): void {
  if (typeof cp === 'number' && cp < 0x80) {
    out.push(cp);
    return;
  }
  let v = BigInt(cp);
  let n: number;
  let lead: number;
  if (v < 0x800n) [n, lead] = [2, 0xc0];
  else if (v < 0x10000n) [n, lead] = [3, 0xe0];
  else if (v < 0x200000n) [n, lead] = [4, 0xf0];
  else if (v < 0x4000000n) [n, lead] = [5, 0xf8];
  else if (v < 0x80000000n) [n, lead] = [6, 0xfc];
  else if (v < 1n << 36n) [n, lead] = [7, 0xfe];
  else [n, lead] = [13, 0xff];
  const tail: number[] = [];
  for (let i = 1; i < n; i++) {
    tail.push(0x80 | Number(v & 0x3fn));
    v >>= 6n;
  }
  out.push(n === 13 ? 0xff : lead | Number(v));
  for (let i = tail.length - 1; i >= 0; i--) out.push(tail[i]);
}

/**
 * Where `X!len` goes back to in character mode (Perl's pp_pack / pp_unpack 'X!' on a utf8 string):
 * the last character boundary at or before `cur` that is a whole multiple of `len` characters from
 * the start. A result past `cur` means the last character overruns it: the data is malformed.
 */
export function charAlignBack(d: Uint8Array, cur: number, len: number): number {
  let hop = 0;
  let last = 0;
  let l = len;
  while (hop < cur) {
    hop += utf8Skip(d[hop]);
    if (--l === 0) {
      last = hop;
      l = len;
    }
  }
  return last;
}

export function malformed(where: string): PackError {
  return new PackError(PackErrorCode.DATA, `Malformed UTF-8 character in ${where}`);
}

/**
 * Decodes one character at `d[s]` (Perl's utf8n_to_uvchr with warnings fatal): returns the code
 * point (number, or bigint beyond 2^53) and its byte length, or throws on malformed input.
 */
export function decodeUtf8(d: Uint8Array, s: number, end: number, where: string): [number | bigint, number] {
  const b = d[s];
  if (b < 0x80) return [b, 1];
  if (b < 0xc0) throw malformed(where);
  const n = utf8Skip(b);
  if (s + n > end) throw malformed(where);
  let v: bigint | number = n === 13 ? 0 : b & (0xff >> (n + 1));
  if (n <= 6) {
    let x = v as number;
    for (let i = 1; i < n; i++) {
      const c = d[s + i];
      if ((c & 0xc0) !== 0x80) throw malformed(where);
      x = x * 64 + (c & 0x3f);
    }
    const min = [0, 0, 0x80, 0x800, 0x10000, 0x200000, 0x4000000][n];
    if (x < min) throw malformed(where); // overlong
    return [x, n];
  }
  let big = BigInt(v);
  for (let i = 1; i < n; i++) {
    const c = d[s + i];
    if ((c & 0xc0) !== 0x80) throw malformed(where);
    big = (big << 6n) | BigInt(c & 0x3f);
  }
  if (big < (n === 7 ? 0x80000000n : 1n << 36n)) throw malformed(where);
  if (big >= 1n << 64n) throw malformed(where);
  v = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  return [v, n];
}

/** Perl's bytes_to_utf8: every byte >= 0x80 becomes two bytes. */
export function upgradeBytes(d: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 0; i < d.length; i++) if (d[i] >= 0x80) extra++;
  if (!extra) return d;
  const out = new Uint8Array(d.length + extra);
  let o = 0;
  for (let i = 0; i < d.length; i++) {
    const b = d[i];
    if (b < 0x80) out[o++] = b;
    else {
      out[o++] = 0xc0 | (b >> 6);
      out[o++] = 0x80 | (b & 0x3f);
    }
  }
  return out;
}

/** How far a walk of characters from `from` got: `count` characters up to `at` (-1: no walk yet). */
export interface CharWalk {
  from: number;
  at: number;
  count: number;
}

export const newCharWalk = (): CharWalk => ({ from: 0, at: -1, count: 0 });

/**
 * The characters (sequences, by their lead bytes) from `from` before `to`, as a walk of utf8Skip
 * steps. The walk is remembered and resumed when asked again from the same place: a template that
 * asks once per character (`x!2` in a group repeated over character data, `.*`) then costs time
 * linear in the data, where counting from the start each time was quadratic. The caller forgets the
 * walk (`at = -1`) when bytes it covered change.
 */
export function charsFrom(d: Uint8Array, from: number, to: number, walk: CharWalk): number {
  let p = from;
  let n = 0;
  if (walk.from === from && walk.at >= 0 && walk.at <= to) {
    p = walk.at;
    n = walk.count;
  }
  while (p < to) {
    p += utf8Skip(d[p]);
    n++;
  }
  walk.from = from;
  walk.at = p;
  walk.count = n;
  return n;
}
