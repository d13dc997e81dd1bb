import { PackLimits } from '../../src/index.js';
import type { Rng } from './random-template.js';

/**
 * Hostile templates, data and values for the fuzzers: the shapes that once took the process down
 * (issue 13) and their neighbours. Huge counts and counts at every limit +/- 1, deep nesting of
 * groups and []-counts, BER integers that run on, length prefixes announcing gigabytes, templates
 * near the length limit, groups that read nothing, rewind or multiply work. Each generator is
 * deterministic given the Rng, so a failure names a reproducible case.
 */

const L = PackLimits;

/** A count: huge, at a limit +/- 1, or small; sometimes `*`. */
export function hostileCount(r: Rng): string {
  const k = r.int(10);
  if (k < 4) {
    return String(
      r.pick([
        2 ** 31 - 1,
        2 ** 31,
        2 ** 32 - 1,
        2 ** 32,
        2 ** 53,
        99_999_999_999,
        9_999_999,
        3_000_000,
        65_535,
        65_536,
        65_537,
        L.freeWork / 2,
        L.freeWork / 2 + 1,
        L.maxBerLength - 1,
        L.maxBerLength,
        L.maxBerLength + 1,
        63,
        64,
        65,
      ]),
    );
  }
  if (k < 5) return r.pick(['*', '', '0']);
  if (k < 6) return r.pick(['9223372036854775807', '9223372036854775808', '99999999999999999999']);
  if (k < 7) return `[${r.pick(['L', 'w', 'C3', '(L)9', `x${2 ** 31}`, 'a0'])}]`;
  return String(r.int(6));
}

const LETTERS = 'cCsSlLqQjJnNvViIwUWaAZbBhHfdFxX@.u';

/** One hostile item of a template (`unpack`: counts from the data are allowed with `/`). */
function item(r: Rng, depth: number, op: 'pack' | 'unpack'): string {
  const k = r.int(100);
  if (k < 30) {
    const letter = r.pick([...LETTERS]);
    const bang = 'sSlLiInNvVxX@.'.includes(letter) && r.chance(0.2) ? '!' : '';
    return `${letter}${bang}${hostileCount(r)}`;
  }
  if (k < 50 && depth < 4) {
    const body = sequence(r, depth + 1, op, 1 + r.int(3));
    return `(${body})${r.chance(0.1) ? r.pick(['<', '>']) : ''}${hostileCount(r)}`;
  }
  if (k < 62) {
    // Groups that read or write nothing, rewind, or multiply work per byte.
    return r.pick([
      `(a0)${hostileCount(r)}`,
      `((a0)65535)65535`,
      `((a0)${hostileCount(r)})${hostileCount(r)}`,
      `(.)${hostileCount(r)}`,
      `(C X)${hostileCount(r)}`,
      `(x X)${hostileCount(r)}`,
      `(X)${hostileCount(r)}`,
      `(x)${hostileCount(r)}`,
      `((x)1000 X999)${hostileCount(r)}`,
      `((C)9 X8)${hostileCount(r)}`,
      `(@0 a0)${hostileCount(r)}`,
      `(x2 X!4 .)${hostileCount(r)}`,
      'C* @0 C* @0 C* @0 C* @0 C* @0',
      `(w/a*)${hostileCount(r)}`,
      `((w/a*)${hostileCount(r)})${hostileCount(r)}`,
    ]);
  }
  if (k < 77) {
    // Length prefixes: counts read from the data (unpack) or taken from the values (pack).
    const len = r.pick(['C', 'n', 'N', 'v', 'V', 'L', 'w', 'N!', 'Q', 'w']);
    const target = r.pick([
      'a*',
      'A*',
      'Z*',
      '(a)',
      '(a0)',
      '(a*)',
      '(L)',
      '(w/a*)',
      '(C/a*)',
      'C*',
      'w*',
      'U*',
    ]);
    return `${len}/${target}`;
  }
  if (k < 83)
    return `%${r.pick(['', '8', '32', '64', '65', '4294967295', '9999999999'])}${r.pick(['C*', 'd*', 'w', 'L*'])}`;
  if (k < 90) {
    // Deep nesting near the limits (and well past them).
    const d = r.pick([L.maxGroupNesting - 1, L.maxGroupNesting, L.maxGroupNesting + 1, 1000]);
    if (r.chance(0.5)) return `${'('.repeat(d)}C${')'.repeat(d)}`;
    const b = r.pick([L.maxBracketNesting - 1, L.maxBracketNesting, L.maxBracketNesting + 1, 1000]);
    return `${'x['.repeat(b)}C${']'.repeat(b)}`;
  }
  if (k < 95)
    return r.pick([
      'U0',
      'C0',
      'U',
      'W',
      `x!${hostileCount(r)}`,
      `X!${hostileCount(r)}`,
      `@!${hostileCount(r)}`,
    ]);
  // Broken on purpose: unbalanced, unknown letters, bad modifiers.
  return r.pick(['(', ')', '[', ']', `(${'('.repeat(200)}`, 'x[', 'Y', 'C!', 'a<', 'p', 'D', '/', ',']);
}

function sequence(r: Rng, depth: number, op: 'pack' | 'unpack', n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(item(r, depth, op));
  return parts.join(r.pick([' ', '', '\n', ' # c\n']));
}

/** A hostile template; rarely one near PackLimits.maxTemplateLength (+/- 1) or far past it. */
export function hostileTemplate(r: Rng, op: 'pack' | 'unpack'): string {
  const t = sequence(r, 0, op, 1 + r.int(3));
  if (!r.chance(0.02)) return t;
  const target = r.pick([L.maxTemplateLength - 1, L.maxTemplateLength, L.maxTemplateLength + 1, 1 << 20]);
  // Padding is whitespace most of the time; a dense run of letters costs more to compile (about
  // 6 microseconds a symbol), so it is rarer and shorter.
  if (t.length >= target) return t;
  const fill = r.chance(0.9)
    ? ' '.repeat(target - t.length - 1)
    : 'C'.repeat(Math.min(target - t.length - 1, 4000));
  return `${fill} ${t}`;
}

/** A BER integer of `n` bytes: continuation bytes (all 0xff, or all 0x80) and a last byte if ended. */
function berRun(r: Rng, n: number, ended: boolean): Buffer {
  const b = Buffer.alloc(n, r.pick([0xff, 0x80, 0x81]));
  if (ended && n > 0) b[n - 1] = r.int(0x80);
  return b;
}

/** Hostile data: random bytes with huge length prefixes, BER runs near the limit, and uniform fills. */
export function hostileData(r: Rng): Buffer {
  const parts: Buffer[] = [];
  for (let k = 1 + r.int(3); k > 0; k--) {
    const roll = r.int(10);
    if (roll < 3) parts.push(r.bytes(r.int(64)));
    else if (roll < 5) {
      const prefix = Buffer.alloc(4);
      const v = r.pick([0xffffffff, 0x80000000, 0x7fffffff, 0x10000, 0xffff, 1000, 0]);
      if (r.chance(0.5)) prefix.writeUInt32LE(v);
      else prefix.writeUInt32BE(v);
      parts.push(prefix);
    } else if (roll < 7) {
      const n = r.pick([
        7,
        8,
        9,
        L.maxBerLength - 1,
        L.maxBerLength,
        L.maxBerLength + 1,
        r.chance(0.1) ? 200_000 : 2000,
      ]);
      parts.push(berRun(r, n, r.chance(0.7)));
    } else if (roll < 8)
      parts.push(Buffer.alloc(r.chance(0.1) ? 65_536 : 4096, r.pick([0, 0xff, 0x80, 0x20])));
    else if (roll < 9) parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    else parts.push(Buffer.from('c3a9e282acf09f9880', 'hex'));
  }
  return Buffer.concat(parts);
}

/** Buffers are only read by pack: one of each size serves every case. */
const buffers = new Map<number, Buffer>();
const bufferOf = (n: number): Buffer => {
  let b = buffers.get(n);
  if (!b) buffers.set(n, (b = Buffer.alloc(n, 0x61)));
  return b;
};

/** Hostile values for pack: numbers at the edges, huge decimal strings and bigints, big buffers. */
export function hostileValues(r: Rng, maxOutput: number): unknown[] {
  const n = r.pick([0, 1, 2, 3, 5, 64, 65, 1000]);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const k = r.int(10);
    if (k < 4)
      out.push(r.pick([0, 1, -1, 255, 256, 65_535, 2 ** 32 - 1, 2 ** 53, -(2 ** 31), 1.5, Number.NaN]));
    else if (k < 5) {
      // Decimal strings around the BER limit's digit count, and far beyond it.
      const digits = Math.ceil((7 * L.maxBerLength) / Math.log2(10));
      out.push('9'.repeat(r.pick([digits - 2, digits - 1, digits, digits + 1, 100_000])));
    } else if (k < 6)
      out.push(r.pick([2n ** BigInt(7 * L.maxBerLength) - 1n, 2n ** BigInt(7 * L.maxBerLength), 2n ** 64n]));
    else if (k < 8)
      out.push(bufferOf(r.pick([0, 1, maxOutput - 3, maxOutput - 2, maxOutput, maxOutput + 1])));
    else out.push(r.pick(['', 'abc', 'é', '\u{1F600}', 'x'.repeat(1000)]));
  }
  return out;
}
