import { seededRandom } from './test-random.js';

/** A seeded generator of pack templates with matching values, and of unpack templates. */

export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = seededRandom(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

const EDGES = [
  0,
  1,
  -1,
  2,
  7,
  100,
  127,
  128,
  -128,
  -129,
  255,
  256,
  1000,
  32767,
  32768,
  -32768,
  -32769,
  65535,
  65536,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  -(2 ** 31) - 1,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  -(2 ** 53) + 1,
];
const FLOATS = [0.5, -0.5, 1.5, -2.75, 1e19, -1e19, 2 ** 63, 2 ** 64, 1e30, -1e30, 3.4e38, 1e-40, 0.1, -0];

function intValue(r: Rng): unknown {
  const k = r.int(100);
  if (k < 45) return r.pick(EDGES);
  if (k < 70) return r.int(2 ** 20) - 2 ** 19;
  if (k < 80) return r.pick(FLOATS);
  if (k < 88) {
    const big = [
      0n,
      -1n,
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 63n,
      2n ** 64n - 1n,
      2n ** 64n,
      2n ** 70n,
      -(2n ** 70n),
    ];
    return r.chance(0.5)
      ? r.pick(big)
      : BigInt(r.int(2 ** 30)) * BigInt(r.int(2 ** 30)) * BigInt(r.int(64) + 1);
  }
  if (k < 96)
    return r.pick([' 12 ', '-7', '+3', '1e3', '0.5', '18446744073709551615', '-9223372036854775808', '3.7']);
  if (k < 98) return r.pick(['abc', '', '0x10', '1_0', '12abc']);
  return r.pick([Number.NaN, Infinity, -Infinity, 'inf', 'nan']);
}

function byteValue(r: Rng, signed: boolean): unknown {
  if (r.chance(0.9)) return signed ? r.int(256) - 128 : r.int(256);
  return intValue(r);
}

function codePointValue(r: Rng): unknown {
  const k = r.int(10);
  if (k < 4) return r.int(128);
  if (k < 6) return 128 + r.int(128);
  if (k < 8) return r.int(0x800);
  if (k < 9) return r.int(0x110000);
  return intValue(r);
}

function berValue(r: Rng): unknown {
  const k = r.int(10);
  if (k < 5) return r.int(2 ** (1 + r.int(30)));
  if (k < 7) return BigInt(r.int(2 ** 30)) ** BigInt(1 + r.int(4));
  if (k < 8) return r.pick([2 ** 53, 2 ** 64, 1.5, 1e20, '123456789012345678901234567890', ' 12', '7.9']);
  return intValue(r);
}

function stringValue(r: Rng): unknown {
  const n = r.int(9);
  const k = r.int(4);
  if (k === 0) return r.bytes(n);
  if (k === 1) return 'é☺'.repeat(r.int(3)) + 'x'.repeat(n);
  if (k === 2 && r.chance(0.1)) return intValue(r);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(32 + r.int(95));
  return r.chance(0.2) ? `${s}  ` : s;
}

function bitString(r: Rng, hex: boolean): string {
  const n = r.int(20);
  const alphabet = hex ? '0123456789abcdefABCDEF' : '01';
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[r.int(alphabet.length)];
  return s;
}

interface Piece {
  t: string;
  /** Fresh values for one occurrence of this piece. */
  gen: (r: Rng) => unknown[];
}

const INT_LETTERS = ['c', 'C', 'W', 's', 'S', 'l', 'L', 'q', 'Q', 'j', 'J', 'i', 'I', 'n', 'N', 'v', 'V'];
const FLOAT_LETTERS = ['f', 'd', 'F'];

function modifiers(r: Rng, letter: string): string {
  let m = '';
  if ('sSiIlLnNvV'.includes(letter) && r.chance(0.3)) m += '!';
  if ('sSiIlLqQjJfFd'.includes(letter) && r.chance(0.3)) m += r.pick(['<', '>']);
  if (r.chance(0.01)) m += r.pick(['!', '<', '>', '<>']);
  return m;
}

const times = (n: number, f: () => unknown[]) => Array.from({ length: n }, f).flat();

/** A count, and how many values it takes (a star takes a few, decided per occurrence). */
function count(r: Rng, allowStar: boolean): { text: string; reps: (r: Rng) => number } {
  const k = r.int(10);
  if (k < 4) return { text: '', reps: () => 1 };
  if (k < 7 || (k === 9 && !allowStar)) {
    const n = r.int(5);
    return { text: String(n), reps: () => n };
  }
  if (k < 9) {
    const n = r.int(4);
    return { text: `[${n}]`, reps: () => n };
  }
  return { text: '*', reps: (rr) => rr.int(4) };
}

function numericItem(r: Rng, allowStar: boolean): Piece {
  const letter = r.chance(0.85) ? r.pick(INT_LETTERS) : r.pick(FLOAT_LETTERS);
  const c = count(r, allowStar);
  const one = (rr: Rng): unknown => {
    if (letter === 'c' || letter === 'C') return byteValue(rr, letter === 'c');
    if (letter === 'W') return codePointValue(rr);
    if (FLOAT_LETTERS.includes(letter))
      return rr.chance(0.8) ? (rr.next() - 0.5) * 10 ** rr.int(40) : intValue(rr);
    return intValue(rr);
  };
  return { t: letter + modifiers(r, letter) + c.text, gen: (rr) => times(c.reps(rr), () => [one(rr)]) };
}

/** Unpack templates take counts from random data: a `/` group must not repeat billions of times. */
let forUnpack = false;

function item(r: Rng, depth: number, last: boolean): Piece {
  const k = r.int(100);
  if (k < 35) return numericItem(r, last);
  if (k < 48) {
    const letter = r.pick(['a', 'A', 'Z']);
    return { t: letter + r.pick(['', '*', String(r.int(6)), '*']), gen: (rr) => [stringValue(rr)] };
  }
  if (k < 54) {
    const letter = r.pick(['b', 'B', 'h', 'H']);
    const hex = 'hH'.includes(letter);
    return { t: letter + r.pick(['', '*', String(r.int(12))]), gen: (rr) => [bitString(rr, hex)] };
  }
  if (k < 58 && !forUnpack) {
    const c = r.pick(['', '2', '*']);
    return {
      t: `U${c}`,
      gen: (rr) => times(c === '' ? 1 : c === '2' ? 2 : rr.int(3), () => [codePointValue(rr)]),
    };
  }
  if (k < 62) {
    const c = r.pick(['', '2', '*']);
    return { t: `w${c}`, gen: (rr) => times(c === '' ? 1 : c === '2' ? 2 : rr.int(3), () => [berValue(rr)]) };
  }
  if (k < 64) return { t: `u${r.pick(['', '3', '7', '60'])}`, gen: (rr) => [stringValue(rr)] };
  if (k < 72) {
    const letter = r.pick(['x', 'X', '@', 'x!', 'X!', '@!']);
    return { t: letter + r.pick(['', String(r.int(5)), '[L]', '[s]']), gen: () => [] };
  }
  // '.' only at the top: deeper, a misaligned value (a string of digits) could ask Perl for gigabytes.
  if (k < 74 && depth === 0)
    return { t: `.${r.pick(['', '0', '2', '*', '!'])}`, gen: (rr) => [rr.int(6) - 1] };
  // Unpack templates skip U and U0 over random bytes: on malformed UTF-8 and past the end of
  // upgraded data Perl reads beyond its buffer (see the README); the corpus covers them on valid data.
  if (k < 76) return { t: forUnpack ? 'C0' : r.pick(['C0', 'U0']), gen: () => [] };
  if (k < 86 && depth < 3) {
    const body = sequence(r, depth + 1, 1 + r.int(3));
    const c = r.pick(['', '2', '*', '0', '[2]']);
    const reps = (rr: Rng) => (c === '' ? 1 : c === '*' ? rr.int(3) : c === '0' ? 0 : 2);
    const endian = r.chance(0.15) ? r.pick(['<', '>']) : '';
    return { t: `(${body.t})${endian}${c}`, gen: (rr) => times(reps(rr), () => body.gen(rr)) };
  }
  if (k < 97) {
    const len = r.pick(
      forUnpack
        ? ['C', 'n', 'N', 'w', 'v', 'S', 'L', 'n!', 'a', 'A3']
        : ['C', 'n', 'N', 'w', 'v', 'S', 'L', 'n!', 'a', 'A3', 'U'],
    );
    const k2 = r.int(10);
    if (k2 < 6) {
      const target = r.pick(['a*', 'A*', 'Z*', 'a', 'Z', 'a3']);
      return { t: `${len}/${target}`, gen: (rr) => [stringValue(rr)] };
    }
    if (k2 < 8 || depth >= 3) return { t: `${len}/C*`, gen: (rr) => times(rr.int(4), () => [rr.int(256)]) };
    const body = sequence(r, depth + 1, 1 + r.int(2));
    if (forUnpack) return { t: `${r.pick(['C', 'a'])}/(${body.t})`, gen: () => [] };
    return { t: `${len}/(${body.t})`, gen: (rr) => times(rr.int(3), () => body.gen(rr)) };
  }
  // Junk: both sides must refuse it the same way.
  // No bare '/': after a group it would make the group a `/` length, a corner we do not follow
  // (see the README); the corpus has its own bare-'/' cases.
  const junk = r.pick(['Y', ',', '(', ')', '[', 'C!', 'a<', 'L<>', '%', 'p', 'D', 'x[*]', 'C/3']);
  // Perl's unpack 'p' dereferences the data as a pointer: never feed it random bytes.
  return { t: forUnpack && junk === 'p' ? 'Y' : junk, gen: () => [1] };
}

function sequence(r: Rng, depth: number, n: number): Piece {
  const parts: Piece[] = [];
  for (let i = 0; i < n; i++) parts.push(item(r, depth, i === n - 1));
  let t = '';
  for (const p of parts) t += (t ? r.pick([' ', '', '', '  ', '\n', ' # note\n']) : '') + p.t;
  return { t, gen: (rr) => parts.flatMap((p) => p.gen(rr)) };
}

/** A random pack template with values for it. */
export function randomPackCase(r: Rng): { t: string; values: unknown[] } {
  const piece = sequence(r, 0, 1 + r.int(4));
  return { t: piece.t, values: piece.gen(r) };
}

/** A random unpack template (no values needed), sometimes with checksums. */
export function randomUnpackTemplate(r: Rng): string {
  forUnpack = true;
  try {
    return unpackTemplate(r);
  } finally {
    forUnpack = false;
  }
}

function unpackTemplate(r: Rng): string {
  const parts: string[] = [];
  const n = 1 + r.int(4);
  for (let i = 0; i < n; i++) {
    const next = item(r, 1, i === n - 1).t;
    // Perl's float checksum loops forever on a large negative sum: no checksums of floats.
    if (r.chance(0.1) && !/^[fdF]/.test(next))
      parts.push(`%${r.pick(['', '8', '16', '32', '64', '65', '3'])}`);
    parts.push(next);
  }
  return parts.join(' ');
}
