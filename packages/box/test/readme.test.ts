/**
 * Runs the README's ```ts blocks, each as a module of its own (written to a temporary file and
 * imported, so `@iproto/*` imports resolve to the packages' sources), and checks that each prints
 * what its `console.log(...); // expected` comments say.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatWithOptions } from 'node:util';
import { describe, expect, it } from 'vitest';

const README = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const blocks = [...README.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const globals = globalThis as Record<string, unknown>;

async function run(code: string, n: number): Promise<string[]> {
  const logged: string[] = [];
  globals.__boxReadmeLog = (...args: unknown[]) => logged.push(formatWithOptions({}, ...args));
  const dir = await mkdtemp(join(tmpdir(), 'iproto-box-readme-'));
  try {
    const file = join(dir, `block-${n}.ts`);
    await writeFile(
      file,
      `const __log = (globalThis as any).__boxReadmeLog;\n${code.replaceAll('console.log(', '__log(')}`,
    );
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return logged;
}

describe('README.md', () => {
  it('has its examples', () => expect(blocks.length).toBe(3));

  blocks.forEach((code, n) => {
    it(`block ${n + 1} prints what it says`, async () => {
      const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
      expect(expected.length).toBeGreaterThan(0);
      expect(await run(code, n)).toEqual(expected);
    });
  });
});
