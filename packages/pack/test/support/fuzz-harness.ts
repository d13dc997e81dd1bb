import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fuzzSeed } from '@iproto/test-kit';
import { PackError } from '../../src/index.js';

/**
 * What every pack fuzzer checks besides "no crash": each case throws nothing but a `PackError` with
 * an `ERR_PACK_*` code, ends within `MAX_CASE_MS` (a hang detector with a wide margin, not a speed
 * test), and leaves the heap within `MAX_HEAP_GROWTH` of where it started once collected. The
 * number of cases scales with IPROTO_FUZZ_SCALE (`pnpm fuzz` runs 50 times as many).
 */

export const SCALE = Math.max(1, Number(process.env.IPROTO_FUZZ_SCALE ?? 1));
export const SEED = fuzzSeed(7);

/** A case slower than this is a hang or a cost out of proportion to its input. */
const MAX_CASE_MS = 5000;
/** The heap may not grow by more than this over a whole run (compiled-template cache included). */
const MAX_HEAP_GROWTH = 64 * 1024 * 1024;
/** Nor stand higher than this above the start right after any case (garbage included). */
const MAX_HEAP_PEAK = 512 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export interface FuzzStats {
  cases: number;
  errors: Record<string, number>;
  slowestMs: number;
  slowest: string;
  heapPeakMiB: number;
  heapGrowthMiB: number;
  ms: number;
}

export class FuzzRun {
  readonly failures: string[] = [];
  private readonly errors: Record<string, number> = {};
  private cases = 0;
  private slowestMs = 0;
  private slowest = '';
  private peak = 0;
  private readonly heapStart: number;
  private readonly started = performance.now();

  constructor(readonly name: string) {
    gc();
    this.heapStart = process.memoryUsage().heapUsed;
  }

  /**
   * Runs one case. `check` looks at a result (returns a complaint or undefined); `what` describes
   * the case for a failure message (called only then, or for the slowest case).
   */
  run<T>(what: () => string, f: () => T, check?: (result: T) => string | undefined): T | undefined {
    this.cases++;
    const t0 = performance.now();
    let result: T | undefined;
    try {
      result = f();
      const bad = check?.(result);
      if (bad) this.failures.push(`${what()}: ${bad}`);
    } catch (error) {
      if (!(error instanceof PackError)) this.failures.push(`${what()}: threw ${String(error)}`);
      else if (!String(error.code).startsWith('ERR_PACK_'))
        this.failures.push(`${what()}: code ${error.code}`);
      else this.errors[error.code] = (this.errors[error.code] ?? 0) + 1;
    }
    const ms = performance.now() - t0;
    if (ms > this.slowestMs) {
      this.slowestMs = ms;
      this.slowest = what().slice(0, 160);
    }
    if (ms > MAX_CASE_MS) this.failures.push(`${what().slice(0, 300)}: took ${ms.toFixed(0)} ms`);
    const heap = process.memoryUsage().heapUsed - this.heapStart;
    if (heap > this.peak) this.peak = heap;
    if (heap > MAX_HEAP_PEAK) {
      this.failures.push(`${what().slice(0, 300)}: heap ${(heap / 2 ** 20).toFixed(0)} MiB above the start`);
      gc();
    }
    return result;
  }

  /** Ends the run: the heap after a collection must be back near the start. Returns the figures. */
  finish(): FuzzStats {
    gc();
    const growth = process.memoryUsage().heapUsed - this.heapStart;
    if (growth > MAX_HEAP_GROWTH) this.failures.push(`heap grew by ${(growth / 2 ** 20).toFixed(0)} MiB`);
    const stats: FuzzStats = {
      cases: this.cases,
      errors: this.errors,
      slowestMs: Math.round(this.slowestMs),
      slowest: this.slowest,
      heapPeakMiB: Math.round(this.peak / 2 ** 20),
      heapGrowthMiB: Math.round((growth / 2 ** 20) * 10) / 10,
      ms: Math.round(performance.now() - this.started),
    };
    // One line per run: `pnpm fuzz` records these figures (docs/reliability.md).
    console.log(
      `[pack fuzz] ${this.name}: ${JSON.stringify({ ...stats, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) })}`,
    );
    return stats;
  }
}
