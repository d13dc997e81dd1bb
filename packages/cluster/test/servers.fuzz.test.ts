import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fuzzSeed } from '@iproto/test-kit';
import { describe, expect, it } from 'vitest';
import { HASH, KETAMA } from '../src/balance.js';
import { Cluster } from '../src/cluster.js';
import { parseServers, type ServerAddress } from '../src/parse-servers.js';
import { MAX_WEIGHT } from '../src/weight.js';
import { createRng, type Entry, type Expected, junk, randomEntry } from './support/servers-input.js';

/**
 * Servers strings from a generator of hostile input (weights at MAX_WEIGHT +/- 1, numbers of up to
 * 100,000 digits, leading zeros, junk, hosts of 50,000 characters, broken shapes). Each case must
 * parse to what its entries say or fail with the code the first bad entry calls for; each case ends
 * within MAX_CASE_MS (a hang detector with a wide margin, not a speed test); the heap, collected,
 * ends within MAX_HEAP_GROWTH of its start. Cases scale with IPROTO_FUZZ_SCALE (`pnpm fuzz`: 50).
 */
const SCALE = Math.max(1, Number(process.env.IPROTO_FUZZ_SCALE ?? 1));
const SEED = fuzzSeed(13);
const MAX_CASE_MS = 2000;
const MAX_HEAP_GROWTH = 32 * 1024 * 1024;
/** Longest error message: entries are quoted cut to 64 characters. */
const MAX_MESSAGE = 400;
const CODES = new Set(['ERR_BAD_SERVER', 'ERR_WEIGHT_LIMIT']);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Runs cases, timing each and watching the heap; `finish` checks the totals and prints them. */
class FuzzRun {
  readonly failures: string[] = [];
  readonly codes: Record<string, number> = {};
  cases = 0;
  #slowest = 0;
  #peak = 0;
  readonly #heapStart: number;

  constructor(readonly name: string) {
    gc();
    this.#heapStart = process.memoryUsage().heapUsed;
  }

  run(what: () => string, f: () => void): void {
    this.cases++;
    const t0 = performance.now();
    try {
      f();
    } catch (error) {
      this.failures.push(`${what().slice(0, 300)}: ${String(error).slice(0, 500)}`);
    }
    const ms = performance.now() - t0;
    this.#slowest = Math.max(this.#slowest, ms);
    if (ms > MAX_CASE_MS) this.failures.push(`${what().slice(0, 300)}: took ${ms.toFixed(0)} ms`);
    this.#peak = Math.max(this.#peak, process.memoryUsage().heapUsed - this.#heapStart);
  }

  /** Parses `text`; returns the servers, or records the error's code (failing on any other error). */
  parse(text: string): ServerAddress[] | string {
    try {
      return parseServers(text);
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      if (code === undefined || !CODES.has(code)) throw new Error(`undocumented error: ${String(error)}`);
      if (message.length > MAX_MESSAGE) throw new Error(`message of ${message.length} characters`);
      if (!message.startsWith('bad server "')) throw new Error(`message does not name the entry: ${message}`);
      this.codes[code] = (this.codes[code] ?? 0) + 1;
      return code;
    }
  }

  finish(): void {
    gc();
    const growth = process.memoryUsage().heapUsed - this.#heapStart;
    if (growth > MAX_HEAP_GROWTH) this.failures.push(`heap grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
    const figures = {
      cases: this.cases,
      codes: this.codes,
      slowestMs: Math.round(this.#slowest),
      heapPeakMiB: Math.round(this.#peak / 2 ** 20),
      heapGrowthMiB: Math.round((growth / 2 ** 20) * 10) / 10,
    };
    // One line per run: `pnpm fuzz` records these figures (docs/reliability.md).
    console.log(`[cluster fuzz] ${this.name}: ${JSON.stringify(figures)}`);
    expect(this.failures.slice(0, 10)).toEqual([]);
  }
}

/** What a servers string of these entries must parse to: the first bad entry's code, or the list. */
function expectedOf(entries: readonly Entry[]): string | Exclude<Expected, string>[] {
  const list: Exclude<Expected, string>[] = [];
  for (const { expected } of entries) {
    if (typeof expected === 'string') return expected;
    list.push(expected);
  }
  return list;
}

describe(`servers strings and weights under hostile input (seeded fuzz, seed ${SEED}, scale ${SCALE})`, () => {
  it(`seed ${SEED}: every generated servers string parses to what its entries say, or fails with the first bad entry's code`, () => {
    const rng = createRng(SEED);
    const run = new FuzzRun('generated servers strings');
    let parsed = 0;
    for (let i = 0; i < 400 * SCALE; i++) {
      const entries = Array.from({ length: 1 + rng.below(6) }, () => randomEntry(rng));
      // Blank entries and spaces around entries are skipped, as in Perl's `split /,/` (README).
      const text = entries.map((e) => (rng() < 0.1 ? ` ${e.text} ,` : e.text)).join(',');
      run.run(
        () => `case ${i}: ${JSON.stringify(text)}`,
        () => {
          const got = run.parse(text);
          const want = expectedOf(entries);
          expect(got).toEqual(want);
          if (typeof got === 'string') return;
          parsed++;
          for (const s of got) {
            expect(s.port >= 1 && s.port <= 65535).toBe(true);
            if (s.weight !== undefined) expect(s.weight >= 0 && s.weight <= MAX_WEIGHT).toBe(true);
          }
        },
      );
    }
    run.finish();
    // Both outcomes and both codes were seen: the generator is not degenerate.
    expect(parsed).toBeGreaterThan(40 * SCALE);
    expect(run.codes.ERR_BAD_SERVER).toBeGreaterThan(40 * SCALE);
    expect(run.codes.ERR_WEIGHT_LIMIT).toBeGreaterThan(20 * SCALE);
  });

  it(`seed ${SEED}: junk strings throw nothing but ERR_BAD_SERVER or ERR_WEIGHT_LIMIT, with short messages`, () => {
    const rng = createRng(SEED + 1);
    const run = new FuzzRun('junk strings');
    for (let i = 0; i < 1000 * SCALE; i++) {
      const text = junk(rng);
      run.run(
        () => `case ${i}: ${JSON.stringify(text)}`,
        () => {
          const got = run.parse(text);
          if (typeof got === 'string') return;
          for (const s of got) {
            expect(s.host).not.toBe('');
            expect(Number.isInteger(s.port) && s.port >= 1 && s.port <= 65535).toBe(true);
            if (s.weight !== undefined)
              expect(Number.isInteger(s.weight) && s.weight <= MAX_WEIGHT).toBe(true);
          }
        },
      );
    }
    run.finish();
  });

  it(`seed ${SEED}: clusters of parsed strings, weights up to MAX_WEIGHT, build and pick in flat memory`, async () => {
    const rng = createRng(SEED + 2);
    const run = new FuzzRun('clusters from servers strings');
    let built = 0;
    for (let i = 0; i < 150 * SCALE; i++) {
      const entries = Array.from({ length: 2 + rng.below(30) }, () => randomEntry(rng));
      // Heavy fleets on purpose: a Perl-style expansion of these would take gigabytes.
      const text = entries.flatMap(({ text, expected }) => {
        if (typeof expected === 'string') return [];
        if (rng() < 0.5) return [text];
        return [`${expected.weight === undefined ? text : text.replace(/:[^:]*$/, '')}:${MAX_WEIGHT}`];
      });
      const balance = rng.pick([HASH, KETAMA] as const);
      let cluster: Cluster | undefined;
      run.run(
        () => `case ${i}: ${balance} ${JSON.stringify(text.join(','))}`,
        () => {
          const servers = run.parse(text.join(','));
          if (typeof servers === 'string' || servers.length === 0) return;
          cluster = new Cluster({ servers, balance, health: false });
          built++;
          const members = new Set(cluster.servers);
          for (let k = 0; k < 20; k++) {
            try {
              expect(members.has(cluster.server(`key ${rng.below(1e9)}`))).toBe(true);
            } catch (error) {
              // HASH over weight-0 servers only (README); anything else is a failure.
              if ((error as { code?: string }).code !== 'ERR_NO_SERVERS') throw error;
            }
          }
        },
      );
      await cluster?.close();
    }
    run.finish();
    expect(built).toBeGreaterThan(50 * SCALE);
  });
});
