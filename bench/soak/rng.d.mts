// Types for rng.mjs.
export { createRng, type Rng } from '@iproto/test-kit';
/** A 32-bit mix of (seed, n). */
export function hash32(seed: number, n: number): number;
