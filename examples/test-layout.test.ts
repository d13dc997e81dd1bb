import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

/**
 * Where tests and their helpers live, repo-wide: a package's `test/` holds test files and
 * `test/support/` (everything a test imports, spawns or reads: helpers, fixtures, Perl scripts),
 * and nothing else; `src/` holds no test and no test helper. The shipped `src/testing/` subpath
 * (`@iproto/server/testing`) is product code, not a helper.
 */

const root = resolve(import.meta.dirname, '..');

/** A test vitest runs (`*.test.ts`, `*.test.mjs`, ...) or a type test tsc checks (`*.test-d.ts`). */
const TEST_FILE = /\.test(-d)?\.[cm]?[jt]s$/;

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .filter((path) => !path.split('/').some((part) => part === 'node_modules' || part === 'dist'));
}

/** The workspace members with code (pnpm-workspace.yaml: packages/*, tools/*, bench). */
const members = [
  ...readdirSync(join(root, 'packages')).map((name) => `packages/${name}`),
  ...readdirSync(join(root, 'tools')).map((name) => `tools/${name}`),
  'bench',
].filter((dir) => existsSync(join(root, dir, 'package.json')));

/** Files in a `test/` that are neither a test nor under `test/support/`. */
function strayTestFiles(files: string[]): string[] {
  return files.filter((path) => !TEST_FILE.test(path) && !path.startsWith('support/'));
}

/**
 * Files in a `src/` that are tests, test helpers (they import vitest or the package's test/), or sit
 * in a test dir. `@iproto/test-kit`'s seeded PRNG may be imported: `iproto bench --key random` draws
 * its keys from it (bundled into the build), so its tests can replay them.
 */
function testCodeInSrc(files: string[], read: (path: string) => string): string[] {
  return files.filter((path) => {
    if (path.startsWith('testing/')) return false;
    if (TEST_FILE.test(path) || /\.spec\.[cm]?[jt]s$/.test(path)) return true;
    if (
      path.split('/').some((part) => ['test', 'tests', '__tests__', 'support', 'fixtures'].includes(part))
    ) {
      return true;
    }
    if (!/\.[cm]?[jt]s$/.test(path)) return false;
    return /from\s+['"](?:vitest|(?:\.\.\/)+test\/[^'"]*)['"]/.test(read(path));
  });
}

describe('the checks themselves', () => {
  test('flag a helper beside the tests and a test or helper in src', () => {
    expect(
      strayTestFiles([
        'a.test.ts',
        'b.test-d.ts',
        'c.test.mjs',
        'support/x.ts',
        'support/perl/y.pl',
        'h.ts',
        'perl/z.pl',
      ]),
    ).toEqual(['h.ts', 'perl/z.pl']);
    const sources: Record<string, string> = {
      'a.ts': "import { x } from './b.js';",
      'b.ts': "import { it } from 'vitest';",
      'c.ts': "import { h } from '../test/support/h.js';",
      'testing/d.ts': "import { x } from './e.js';",
    };
    expect(
      testCodeInSrc([...Object.keys(sources), 'f.test.ts', 'support/g.ts'], (path) => sources[path] ?? ''),
    ).toEqual(['b.ts', 'c.ts', 'f.test.ts', 'support/g.ts']);
  });
});

describe.each(members)('%s', (member) => {
  test('test/ holds tests and test/support/, nothing else', () => {
    expect(strayTestFiles(walk(join(root, member, 'test')))).toEqual([]);
  });

  test('src/ holds no test and no test helper', () => {
    const src = join(root, member, 'src');
    expect(testCodeInSrc(walk(src), (path) => readFileSync(join(src, path), 'utf8'))).toEqual([]);
  });
});

test('examples/: helpers of its tests live in examples/support/', () => {
  const stray = walk(import.meta.dirname).filter(
    (path) => /\.[cm]?ts$/.test(path) && !TEST_FILE.test(path) && !path.startsWith('support/'),
  );
  expect(stray).toEqual(['vitest.config.ts']);
});
