import { describe, expect, it } from 'vitest';
import { pack, unpack } from '../src/index.js';
import { withLimits } from '../src/limits.js';
import { FuzzRun, SCALE, SEED } from './support/fuzz-harness.js';
import { Rng, randomPackCase, randomUnpackTemplate } from './support/random-template.js';

/**
 * Random bytes into unpack and random values into pack, with random templates (those of the Perl
 * parity suite, some of them mangled): nothing may crash, hang, or throw anything but a PackError.
 * `IPROTO_FUZZ_SEED=n` replays another draw; IPROTO_FUZZ_SCALE multiplies the cases.
 */

const CASES = 4000 * SCALE;

const mutate = (r: Rng, t: string): string => {
  const chars = '()[]/*<>!%#,0123456789 aAZbBhHcCWUsSlLqQjJfdFiInNvVuwxX@.\n';
  const at = r.int(t.length + 1);
  const k = r.int(3);
  if (k === 0) return t.slice(0, at) + chars[r.int(chars.length)] + t.slice(at);
  if (k === 1) return t.slice(0, at) + t.slice(at + 1);
  return t.slice(0, at) + chars[r.int(chars.length)] + t.slice(at + 1);
};

describe('random templates (seeded fuzz)', () => {
  it(`unpack of random bytes with random and mangled templates throws only PackError (seed ${SEED}, ${CASES} cases)`, () => {
    const r = new Rng(SEED);
    const fuzz = new FuzzRun('random unpack');
    for (let i = 0; i < CASES; i++) {
      let t = randomUnpackTemplate(r);
      if (r.chance(0.3)) t = mutate(r, t);
      if (r.chance(0.2)) t = `U0 ${t}`;
      const data = r.bytes(r.int(64));
      const options = r.chance(0.5) ? ({ int64: 'number', strings: 'utf8' } as const) : undefined;
      fuzz.run(
        () => `unpack(${JSON.stringify(t)}, ${data.toString('hex')})`,
        () => unpack(t, data, options),
      );
    }
    fuzz.finish();
    expect(fuzz.failures.slice(0, 10)).toEqual([]);
  });

  it(`pack of random values with random and mangled templates throws only PackError (seed ${SEED + 1}, ${CASES} cases)`, () => {
    const r = new Rng(SEED + 1);
    const fuzz = new FuzzRun('random pack');
    // A mangled count can ask for a result of any size: a small cap keeps each case cheap (the cap
    // itself is held at its default by test/limits.test.ts).
    withLimits({ maxOutput: 1 << 20 }, () => {
      for (let i = 0; i < CASES; i++) {
        const c = randomPackCase(r);
        const t = r.chance(0.3) ? mutate(r, c.t) : c.t;
        const values = r.chance(0.2) ? c.values.reverse() : c.values;
        fuzz.run(
          () => `pack(${JSON.stringify(t)})`,
          () => pack(t, ...values),
        );
      }
    });
    fuzz.finish();
    expect(fuzz.failures.slice(0, 10)).toEqual([]);
  });
});
