// Types for rng.mjs, for the TypeScript tests that share it (packages/client/test/reliability).
export interface Rng {
  /** The next number in [0, 1). */
  (): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(list: readonly T[]): T;
  shuffle<T>(list: readonly T[]): T[];
}

/** A seeded generator (mulberry32). */
export function createRng(seed: number): Rng;
/** A 32-bit mix of (seed, n). */
export function hash32(seed: number, n: number): number;
