import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatWithOptions } from 'node:util';
import { encodeFrame } from '@iproto/framing';
import { pack } from '@iproto/pack';
import type { IProtoServer } from '@iproto/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../src/commands/serve.js';
import { assertBuilt, runCli } from './support/test-support.js';

/**
 * The README's examples are run here: each ```console block's `$ iproto ...` commands against a
 * the box `iproto serve` runs (its port stands in for 33013), their output compared line by line (`…` matches
 * anything), and the ```ts block executed with each `console.log(...); // expected` checked.
 */
const README = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');

function blocks(lang: string): string[] {
  return [...README.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

/** Splits a command line as sh would for the simple quoting the README uses. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

function linePattern(expected: string): RegExp {
  const parts = expected.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

let server: IProtoServer;
let port: number;
let dir: string;
beforeAll(async () => {
  assertBuilt();
  server = createServer();
  ({ port } = await server.listen(0, '127.0.0.1'));
  dir = await mkdtemp(join(tmpdir(), 'iproto-readme-'));
  // The file the decode example reads: one GET reply with sync 7.
  await writeFile(join(dir, 'replies.bin'), encodeFrame(2, 7, pack('L w/a*', 0, 'hello world')));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('README console examples', () => {
  const consoleBlocks = blocks('console');
  it('has console examples', () => expect(consoleBlocks.length).toBeGreaterThanOrEqual(4));

  consoleBlocks.forEach((block, index) => {
    it(`block ${index + 1}: ${block.split('\n')[0]}`, async () => {
      const steps: { command: string; output: string[] }[] = [];
      for (const line of block.trimEnd().split('\n')) {
        if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: [] });
        else steps.at(-1)!.output.push(line);
      }
      for (const { command, output } of steps) {
        const [program, ...args] = shellWords(command.replaceAll('33013', String(port)));
        expect(program).toBe('iproto');
        const result = await runCli(args, { cwd: dir });
        const lines = result.stdout.trimEnd().split('\n');
        const expected = output.map((l) => l.replaceAll('33013', String(port)));
        expect(lines, `${command}\n${result.stdout}${result.stderr}`).toHaveLength(expected.length);
        expected.forEach((e, i) => {
          expect(lines[i], command).toMatch(linePattern(e));
        });
      }
    });
  });
});

describe('README TypeScript example', () => {
  it('runs and logs what its comments say', async () => {
    const [code] = blocks('ts');
    const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
    expect(expected.length).toBeGreaterThan(0);
    const file = join(dir, 'example.ts');
    await writeFile(file, code.replaceAll('console.log(', 'globalThis.__readmeLog('));
    const logged: string[] = [];
    (globalThis as Record<string, unknown>).__readmeLog = (...args: unknown[]) =>
      logged.push(formatWithOptions({}, ...args));
    await import(pathToFileURL(file).href);
    expect(logged).toEqual(expected);
  });
});
