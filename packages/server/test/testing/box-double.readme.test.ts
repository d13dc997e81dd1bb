import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import * as testing from '../../src/testing/index.js';

/**
 * Runs the ```ts example of the README's "Box double" section: its import becomes a lookup in the
 * testing module, and `console.log` is captured.
 */
const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const section = README.slice(README.indexOf('### Box double'));
const example = /```ts\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
const AsyncFunction = (async () => {}).constructor as new (
  ...args: string[]
) => (...args: unknown[]) => Promise<void>;

test('README box double example runs: it starts, seeds, injects an error and closes', async () => {
  const body = example.replace(
    /^import (\{[^}]*\}) from '@iproto\/server\/testing';$/m,
    (_line, names: string) => `const ${names} = testing;`,
  );
  expect(body).not.toContain('import ');
  const logged: unknown[][] = [];
  await new AsyncFunction('testing', 'console', body)(testing, {
    log: (...args: unknown[]) => logged.push(args),
  });
  expect(logged).toHaveLength(1);
  expect(String(logged[0][0])).toMatch(/^127\.0\.0\.1:\d+$/);
  expect(logged[0][1]).toBe(1);
});
