// The soak's randomness: the workspace's one seeded PRNG (tools/test-kit), so a soak run with the
// same seed makes the same requests and the same chaos schedule, and a per-request mix.
export { createRng } from '@iproto/test-kit';

/** A 32-bit mix of (seed, n): one independent stream per request id without storing a generator. */
export function hash32(seed, n) {
  let h = (seed ^ Math.imul(n, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
