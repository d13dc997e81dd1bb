// Test helpers shared by every package's tests, the benches and the soak. Plain JavaScript, so
// `node bench/soak.mjs` loads it as it is and vitest and tsc read it through index.d.mts.
export { createRng, fuzzSeed } from './rng.mjs';
export { declaredTypes, firstStringArguments, typeErrors, typeTestFiles } from './type-check.mjs';
