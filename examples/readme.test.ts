import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runBlock } from './support/readme-blocks.js';

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

  const logged = await runBlock({ pkg: 'root', line: 1, code });
  expect(logged).toEqual(expected);
});
