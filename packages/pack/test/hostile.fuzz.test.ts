import { describe, expect, it } from 'vitest';
import { compile, PackLimits, pack, unpack } from '../src/index.js';
import { withLimits } from '../src/limits.js';
import { FuzzRun, SCALE, SEED } from './support/fuzz-harness.js';
import { hostileData, hostileTemplate, hostileValues } from './support/hostile-input.js';
import { Rng } from './support/random-template.js';

/**
 * Issue 13's fuzzer: hostile templates (huge counts, counts at the limits +/- 1, deep nesting,
 * groups that read nothing or rewind), hostile data (length prefixes announcing gigabytes, BER
 * integers that run on past the 1024-byte limit) and hostile values (huge numbers, buffers at the
 * output cap +/- 1). Each case must end in a result or a PackError, within its time, with what it
 * made bounded by its input: an unpack result by the work budget, a pack result by the output cap.
 */

const UNPACK_CASES = 800 * SCALE;
const PACK_CASES = 800 * SCALE;
/**
 * The fuzzer runs under small limits, so that a runaway count costs a millisecond, not 256 MiB or
 * 65,536 values; test/limits.test.ts holds each limit at its default.
 */
const MAX_OUTPUT = 64 * 1024;
const FREE_WORK = 4096;

const hex = (b: Uint8Array) =>
  b.length > 48
    ? `${Buffer.from(b.subarray(0, 48)).toString('hex')}... (${b.length} B)`
    : Buffer.from(b).toString('hex');
const show = (t: string) =>
  JSON.stringify(t.length > 200 ? `${t.slice(0, 100)}...${t.slice(-60)} (${t.length} chars)` : t);

describe('hostile input (seeded fuzz)', () => {
  it(`unpack: hostile templates over hostile data end in values or a PackError, within budget (seed ${SEED + 10}, ${UNPACK_CASES} cases)`, () => {
    const r = new Rng(SEED + 10);
    const fuzz = new FuzzRun('hostile unpack');
    withLimits({ freeWork: FREE_WORK }, () => {
      for (let i = 0; i < UNPACK_CASES; i++) {
        const t = hostileTemplate(r, 'unpack');
        const data = hostileData(r);
        const options = r.chance(0.3) ? ({ int64: 'number', strings: 'utf8' } as const) : undefined;
        const way = r.int(3);
        // Character mode (U0, a leading U) reads the data upgraded: up to twice its bytes.
        const most = FREE_WORK + PackLimits.workPerByte * 2 * data.length;
        fuzz.run(
          () => `unpack(${show(t)}, ${hex(data)}) way ${way}`,
          () => {
            if (way === 0) return unpack(t, data, options);
            if (way === 1) return compile(t).unpack(data, options);
            const framed = Buffer.concat([Buffer.from([0xff, 0x80, 0xff]), data, Buffer.from([0x80])]);
            return compile(t).unpackRange(framed, 3, 3 + data.length, options);
          },
          (out) =>
            !Array.isArray(out)
              ? 'not an array'
              : out.length > most
                ? `${out.length} values from ${data.length} bytes (budget ${most})`
                : undefined,
        );
      }
    });
    const stats = fuzz.finish();
    expect(fuzz.failures.slice(0, 10)).toEqual([]);
    // The fuzzer reached the limits, not only the happy paths.
    expect(stats.errors.ERR_PACK_LIMIT).toBeGreaterThan(UNPACK_CASES / 50);
  });

  it(`pack: hostile templates and values end in bytes or a PackError, within the output cap (seed ${SEED + 11}, ${PACK_CASES} cases)`, () => {
    const r = new Rng(SEED + 11);
    const fuzz = new FuzzRun('hostile pack');
    withLimits({ maxOutput: MAX_OUTPUT, freeWork: FREE_WORK }, () => {
      for (let i = 0; i < PACK_CASES; i++) {
        const t = hostileTemplate(r, 'pack');
        const values = hostileValues(r, MAX_OUTPUT);
        fuzz.run(
          () =>
            `pack(${show(t)}, ${values.length} values: ${values
              .slice(0, 4)
              .map((v) =>
                typeof v === 'string' && v.length > 20
                  ? `string(${v.length})`
                  : Buffer.isBuffer(v)
                    ? `bytes(${v.length})`
                    : String(v),
              )
              .join(', ')})`,
          () => (r.chance(0.5) ? pack(t, ...values) : compile(t).packArray(values)),
          (out) =>
            !Buffer.isBuffer(out)
              ? 'not a Buffer'
              : out.length > MAX_OUTPUT
                ? `${out.length} bytes, over the cap of ${MAX_OUTPUT}`
                : undefined,
        );
      }
    });
    const stats = fuzz.finish();
    expect(fuzz.failures.slice(0, 10)).toEqual([]);
    expect(stats.errors.ERR_PACK_LIMIT).toBeGreaterThan(PACK_CASES / 50);
  });
});
