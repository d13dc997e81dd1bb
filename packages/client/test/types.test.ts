import { fileURLToPath } from 'node:url';
import { typeErrors, typeTestFiles } from '@iproto/test-kit/type-check';
import { expect, it } from 'vitest';

/**
 * The type tests in test/types/*.test-d.ts (`expectTypeOf` assertions, exhaustive switches and
 * `@ts-expect-error` lines, which fail when they stop being errors) compiled by tsc with the
 * package's strict options: any error fails.
 */
it('the type tests in test/types compile without errors', () => {
  const files = typeTestFiles(fileURLToPath(new URL('./types/', import.meta.url)));
  expect(files.length).toBeGreaterThanOrEqual(3);
  expect(typeErrors(files, fileURLToPath(new URL('../tsconfig.json', import.meta.url)))).toEqual([]);
}, 60_000);
