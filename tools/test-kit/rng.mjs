/**
 * The one seeded PRNG of the fuzzers, the seeded tests, the soak and `iproto bench --key random`
 * (tsup bundles it into @iproto/cli's build): mulberry32, so the same seed gives the same sequence and
 * a failing run replays from its seed. Not for cryptography.
 *
 * Convention: a fuzzer takes its seed from {@link fuzzSeed} and puts it in its test name
 * (`... (seed 13)`); `IPROTO_FUZZ_SEED=13 pnpm fuzz` (or `npx vitest run`) replays that run.
 */
export function createRng(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (min, max) => min + Math.floor(next() * (max - min + 1));
  next.below = (n) => Math.floor(next() * n);
  next.pick = (list) => list[Math.floor(next() * list.length)];
  next.shuffle = (list) => {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };
  return next;
}

/** The seed a fuzzer runs with: `IPROTO_FUZZ_SEED` when set (to replay a failure), else its own default. */
export function fuzzSeed(fallback) {
  const text = process.env.IPROTO_FUZZ_SEED;
  if (text === undefined || text === '') return fallback;
  const seed = Number(text);
  if (!Number.isInteger(seed))
    throw new Error(`IPROTO_FUZZ_SEED must be an integer, got ${JSON.stringify(text)}`);
  return seed;
}
