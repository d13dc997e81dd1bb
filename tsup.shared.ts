import { defineConfig, type Options } from 'tsup';

/** The build every package shares: ESM + CJS + `.d.ts` for Node 20, one bundle per entry. */
export function packageBuild(entry: string[], overrides: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    splitting: false,
    ...overrides,
  });
}
