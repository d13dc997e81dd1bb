import { expect, it } from 'vitest';
import { allDocModules, docModules, typeCheckDocs } from './support/doc-types.js';

/**
 * Every ```ts block of the root README, the package READMEs and docs/*.md type-checks under strict
 * tsc against the built packages' declarations (`packages/<name>/dist`), as a user's editor sees
 * them: one program for all blocks; each error names the Markdown file and line.
 */
it('type-checks every ts block of the documentation under strict tsc', () => {
  const modules = allDocModules();
  expect(modules.length).toBeGreaterThanOrEqual(10);
  const errors = typeCheckDocs(modules).map((error) => `${error.where}: ${error.message}`);
  expect(errors).toEqual([]);
}, 60_000);

it('reports an error at its Markdown file and line', () => {
  const text = 'Intro\n\n```ts\nconst a: number = 1;\nconst b: string = a;\n```\n';
  const errors = typeCheckDocs(docModules('docs/example.md', text));
  expect(errors.map((error) => error.where)).toEqual(['docs/example.md:5:7']);
  expect(errors[0].message).toMatch(/not assignable to type 'string'/);
}, 60_000);
