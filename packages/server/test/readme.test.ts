import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import * as server from '../src/index.js';
import * as testing from '../src/testing/index.js';

/**
 * Runs the README's ```js examples: each import of the package becomes a lookup in the modules
 * imported here, the fixed port 33013 becomes 0 (a free port), and `console.log` is captured.
 */
const README = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const examples = [...README.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]);
const modules: Record<string, unknown> = { '@iproto/server': server, '@iproto/server/testing': testing };
const AsyncFunction = (async () => {}).constructor as new (
  ...args: string[]
) => (...args: unknown[]) => Promise<void>;

function compile(
  code: string,
): (modules: Record<string, unknown>, console: { log: (...args: unknown[]) => void }) => Promise<void> {
  const body = code
    .replace(/^import (\{[^}]*\}) from '([^']+)';$/gm, (_line, names: string, from: string) => {
      if (!(from in modules)) throw new Error(`README imports ${from}`);
      return `const ${names} = modules[${JSON.stringify(from)}];`;
    })
    .replaceAll('33013', '0');
  return new AsyncFunction('modules', 'console', body) as never;
}

test('the README has examples for the server and the testing helpers', () => {
  expect(examples.length).toBe(3);
});

test('README example 0: a server with a router listens and closes', async () => {
  const logged: unknown[][] = [];
  await compile(examples[0])(modules, { log: (...args) => logged.push(args) });
  expect(logged).toHaveLength(1);
  expect(String(logged[0][0])).toMatch(/^listening on 127\.0\.0\.1:\d+$/);
});

test('README example 1: limits, checked and in force', async () => {
  const logged: unknown[][] = [];
  await compile(examples[1])(modules, { log: (...args) => logged.push(args) });
  expect(logged).toEqual([[64 * 1024 * 1024]]);
});

test('README example 2: the testing helpers', async () => {
  const logged: unknown[][] = [];
  await compile(examples[2])(modules, { log: (...args) => logged.push(args) });
  expect(logged).toHaveLength(2);
  const [host, port, address] = logged[0];
  expect(host).toBe('127.0.0.1');
  expect(address).toBe(`127.0.0.1:${port}`);
  expect(logged[1]).toEqual([0]);
});
