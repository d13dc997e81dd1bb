// Test helpers shared by every package's tests, the benches and the soak. Plain JavaScript, so
// `node bench/soak.mjs` loads it as it is and vitest and tsc read it through index.d.mts. The
// compile-time checks of the type tests are the `./type-check` subpath: they load TypeScript, which
// must stay out of what `@iproto/cli` bundles from here.
export { createRng, fuzzSeed } from './rng.mjs';
