/** A seeded generator (mulberry32): call it for the next number in [0, 1). */
export interface Rng {
  /** The next number in [0, 1). */
  (): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** An integer in [0, n). */
  below(n: number): number;
  /** One element of `list`. */
  pick<T>(list: readonly T[]): T;
  /** A shuffled copy of `list` (Fisher-Yates). */
  shuffle<T>(list: readonly T[]): T[];
}

/** A seeded generator (mulberry32): the same seed gives the same sequence. */
export function createRng(seed: number): Rng;
/** The seed a fuzzer runs with: `IPROTO_FUZZ_SEED` when set (to replay a failure), else `fallback`. */
export function fuzzSeed(fallback: number): number;
