export { createRng, fuzzSeed, type Rng } from './rng.mjs';
