export { createRng, fuzzSeed, type Rng } from './rng.mjs';
export {
  declaredTypes,
  type FoundArgument,
  firstStringArguments,
  typeErrors,
  typeTestFiles,
} from './type-check.mjs';
