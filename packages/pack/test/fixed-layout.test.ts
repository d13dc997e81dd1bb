import { describe, expect, it } from 'vitest';
import { fixedImplementations } from '../src/fixed-layout.js';
import { pack, unpack } from '../src/index.js';
import { parseTemplate } from '../src/template.js';
import { seededRandom } from './support/test-random.js';

const LETTERS = [
  'c',
  'C',
  's',
  'S',
  'l',
  'L',
  'n',
  'N',
  'v',
  'V',
  'i',
  'I',
  's!',
  'S!',
  'i!',
  'I!',
  'n!',
  'N!',
  'v!',
  'V!',
];

function randomTemplate(r: () => number): string {
  const parts: string[] = [];
  const n = 1 + Math.floor(r() * 5);
  for (let i = 0; i < n; i++) {
    let sym = LETTERS[Math.floor(r() * LETTERS.length)];
    if ('sSlLiI'.includes(sym[0]) && r() < 0.3) sym += r() < 0.5 ? '<' : '>';
    if (r() < 0.4) sym += String(1 + Math.floor(r() * 3));
    parts.push(sym);
  }
  return parts.join(' ');
}

const EDGES = [
  -129,
  -128,
  -1,
  0,
  127,
  128,
  255,
  256,
  32767,
  32768,
  65535,
  65536,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  -(2 ** 31) - 1,
];

function randomValue(r: () => number): unknown {
  const x = r();
  if (x < 0.5 && r() < 0.3) return EDGES[Math.floor(r() * EDGES.length)];
  if (x < 0.05) return undefined;
  if (x < 0.1) return String(Math.floor(r() * 1000));
  if (x < 0.15) return 1.5 + Math.floor(r() * 100);
  if (x < 0.2) return 2 ** 40 + Math.floor(r() * 1000);
  if (x < 0.3) return -Math.floor(r() * 70000);
  if (x < 0.4) return Math.floor(r() * 256);
  return Math.floor(r() * 2 ** 32);
}

const GENERAL = Symbol('general');
const general = () => GENERAL as unknown as Buffer;

function outcome(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

describe('fixed layouts (generated code and its loop fallback)', () => {
  it('generates code for integer runs like L3', () => {
    const impl = fixedImplementations(parseTemplate('L3', 'pack'), general);
    expect(impl.generatedPack).toBeTypeOf('function');
    expect(impl.generatedUnpack).toBeTypeOf('function');
    expect(impl.generatedPack?.([1, 2, 0xffffffff])?.toString('hex')).toBe('0100000002000000ffffffff');
    expect(impl.generatedUnpack?.(Buffer.from('0100000002000000ffffffff', 'hex'), 0, 12)).toEqual([
      1, 2, 0xffffffff,
    ]);
  });

  it('agree with the general engine on every letter at the edges of its range', () => {
    for (const letter of LETTERS) {
      for (const t of [letter, `${letter}>`, `${letter} C`]) {
        if (t.endsWith('>') && !'sSlLiI'.includes(letter[0])) continue;
        const impl = fixedImplementations(parseTemplate(t, 'pack'), general);
        for (const v of [...EDGES, 0.5, -0.5, 2 ** 53, Number.NaN, '7', undefined]) {
          const values = [v, 200];
          const expected = outcome(() => pack(`${t} x0`, ...values));
          expect(
            outcome(() => pack(t, ...values)),
            `pack('${t}', ${v})`,
          ).toEqual(expected);
          for (const run of [impl.generatedPack, impl.loopPack]) {
            const got = run?.(values);
            if (got !== (GENERAL as unknown)) expect(got, `pack('${t}', ${v})`).toEqual(expected);
          }
        }
      }
    }
  });

  it('give the general engine`s bytes and values, or hand the case over to it', () => {
    const r = seededRandom(20261125);
    let fast = 0;
    for (let c = 0; c < 1500; c++) {
      const t = randomTemplate(r);
      const values = Array.from({ length: 1 + Math.floor(r() * 10) }, () => randomValue(r));
      // A trailing `x0` adds nothing but keeps the template off the fast path: the general engine.
      const expected = outcome(() => pack(`${t} x0`, ...values));
      expect(
        outcome(() => pack(t, ...values)),
        `pack('${t}', ${String(values)})`,
      ).toEqual(expected);
      const impl = fixedImplementations(parseTemplate(t, 'pack'), general);
      for (const run of [impl.generatedPack, impl.loopPack]) {
        if (!run) continue;
        const got = run(values);
        if (got === (GENERAL as unknown)) continue;
        fast++;
        expect(got, `pack('${t}', ${String(values)})`).toEqual(expected);
      }
      const data = Buffer.from(Array.from({ length: Math.floor(r() * 30) }, () => Math.floor(r() * 256)));
      const values2 = outcome(() => unpack(`${t} x0`, data));
      if (!('threw' in (values2 as object))) {
        expect(unpack(t, data), `unpack('${t}', ${data.toString('hex')})`).toEqual(values2);
      }
      // The same bytes in the middle of a larger buffer: the range form reads only its range.
      const framed = Buffer.concat([Buffer.from([0xa5, 0x5a, 0xff]), data, Buffer.from([0xee])]);
      for (const run of [impl.generatedUnpack, impl.loopUnpack]) {
        const got = run?.(data, 0, data.length);
        if (got) expect(got, `unpack('${t}', ${data.toString('hex')})`).toEqual(values2);
        expect(run?.(framed, 3, 3 + data.length), `unpack('${t}') of a range`).toEqual(got);
      }
    }
    // The fast paths really ran, not just the hand-over.
    expect(fast).toBeGreaterThan(300);
  });
});
