import { describe, expect, it } from 'vitest';
import { PackError, pack, unpack } from '../src/index.js';
import { Rng, randomPackCase, randomUnpackTemplate } from './random-template.js';

/**
 * Random bytes into unpack and random values into pack, with random templates: nothing may crash,
 * hang, or throw anything but a PackError.
 */

const SEED = Number(process.env.PACK_FUZZ_SEED ?? 7);

function onlyPackErrors(f: () => unknown, what: () => string): string | undefined {
  try {
    f();
  } catch (error) {
    if (!(error instanceof PackError)) return `${what()}: ${String(error)}`;
    if (typeof error.code !== 'string' || !error.code.startsWith('ERR_PACK_'))
      return `${what()}: bad code ${error.code}`;
  }
  return undefined;
}

const mutate = (r: Rng, t: string): string => {
  const chars = '()[]/*<>!%#,0123456789 aAZbBhHcCWUsSlLqQjJfdFiInNvVuwxX@.\n';
  const at = r.int(t.length + 1);
  const k = r.int(3);
  if (k === 0) return t.slice(0, at) + chars[r.int(chars.length)] + t.slice(at);
  if (k === 1) return t.slice(0, at) + t.slice(at + 1);
  return t.slice(0, at) + chars[r.int(chars.length)] + t.slice(at + 1);
};

describe('fuzz', () => {
  it('unpack of random bytes with random (and mangled) templates throws only PackError', () => {
    const r = new Rng(SEED);
    const failures: string[] = [];
    for (let i = 0; i < 4000; i++) {
      let t = randomUnpackTemplate(r);
      if (r.chance(0.3)) t = mutate(r, t);
      if (r.chance(0.2)) t = `U0 ${t}`;
      const data = r.bytes(r.int(64));
      const bad = onlyPackErrors(
        () => unpack(t, data, r.chance(0.5) ? { int64: 'number', strings: 'utf8' } : undefined),
        () => `unpack(${JSON.stringify(t)}, ${data.toString('hex')})`,
      );
      if (bad) failures.push(bad);
    }
    expect(failures.slice(0, 10)).toEqual([]);
  });

  it('pack of random values with random (and mangled) templates throws only PackError', () => {
    const r = new Rng(SEED + 1);
    const failures: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const c = randomPackCase(r);
      const t = r.chance(0.3) ? mutate(r, c.t) : c.t;
      const values = r.chance(0.2) ? c.values.reverse() : c.values;
      const bad = onlyPackErrors(
        () => pack(t, ...values),
        () => `pack(${JSON.stringify(t)})`,
      );
      if (bad) failures.push(bad);
    }
    expect(failures.slice(0, 10)).toEqual([]);
  });

  it('stops a runaway group count instead of eating all memory', () => {
    expect(() => unpack('(a0)99999999999', Buffer.from('ab'))).toThrow(PackError);
    expect(() => pack('(x4096)99999999999')).toThrow(PackError);
    // A repetition that changes nothing ends early with Perl's result.
    expect(unpack('(x0)99999999999 C', Buffer.from([7]))).toEqual([7]);
    expect(pack('(x X)99999999999 C', 7)).toEqual(Buffer.from([7]));
  });

  it('rejects values of the wrong type with PackError', () => {
    expect(() => pack('L', {})).toThrow(PackError);
    expect(() => pack('a', Symbol('x'))).toThrow(PackError);
    expect(() => pack('L', true)).toThrow(PackError);
    expect(() => pack('a*', [1, 2])).toThrow(PackError);
    expect(() => pack('w', { valueOf: () => 1 })).toThrow(PackError);
  });
});
