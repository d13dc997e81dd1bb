import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = fileURLToPath(new URL('./packages/', import.meta.url));

/**
 * Tests import sibling packages from their sources, so a change in a lower layer is seen by the
 * tests of a higher one without a rebuild. Builds (tsup) and type checks still go through `dist`.
 */
export default defineConfig({
  resolve: {
    alias: [
      // The workspace's private test helpers are plain JavaScript outside packages/ (tools/test-kit).
      {
        find: /^@iproto\/test-kit$/,
        replacement: fileURLToPath(new URL('./tools/test-kit/index.mjs', import.meta.url)),
      },
      { find: /^@iproto\/([a-z-]+)\/testing$/, replacement: `${packages}$1/src/testing/index.ts` },
      { find: /^@iproto\/([a-z-]+)$/, replacement: `${packages}$1/src/index.ts` },
    ],
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
