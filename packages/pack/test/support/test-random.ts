/**
 * The one seeded generator of the workspace's tests (mulberry32, tools/test-kit), so a failure names
 * a reproducible case. Returns floats in [0, 1). Not part of the package's API.
 */
export { createRng as seededRandom } from '@iproto/test-kit';
