import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/testing/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // One shared chunk, so `@iproto/server` and `@iproto/server/testing` share one IProtoServer class.
  splitting: true,
});
