import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatWithOptions } from 'node:util';
import { expect, it } from 'vitest';

/**
 * The root README's tour: its ```ts blocks, concatenated in order, run as one module (imports
 * resolve to the packages' sources through the shared vitest aliases), and every
 * `console.log(...); // expected` line checked against what it printed.
 */
it('runs the README tour and prints what its comments say', async () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const code = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
  const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
  expect(expected.length).toBeGreaterThanOrEqual(6);

  const logged: string[] = [];
  (globalThis as Record<string, unknown>).__readmeLog = (...args: unknown[]) =>
    logged.push(formatWithOptions({}, ...args));
  const dir = await mkdtemp(join(tmpdir(), 'iproto-readme-'));
  try {
    const file = join(dir, 'tour.ts');
    await writeFile(file, code.replaceAll('console.log(', 'globalThis.__readmeLog('));
    await import(pathToFileURL(file).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  expect(logged).toEqual(expected);
});
