import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatWithOptions } from 'node:util';
import { pack, unpack } from '@iproto/pack';
import { IProtoServer } from '@iproto/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * docs/migration.md: every ```ts block that prints (`console.log(...); // expected`) runs as a
 * module of its own, with `servers` pointing at a server that answers message 17 as the guide says,
 * and prints what its comments say.
 */
const guide = readFileSync(fileURLToPath(new URL('../docs/migration.md', import.meta.url)), 'utf8');
const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1])
  .filter((code) => /console\.log\(.*\); \/\/ /.test(code));

const g = globalThis as Record<string, unknown>;
let server: IProtoServer;
let dir: string;
beforeAll(async () => {
  server = new IProtoServer();
  server.on(17, (request) => {
    const [id] = unpack('L', request.body) as [number];
    return pack('L w/a*', id, `user ${id}`);
  });
  const { port } = await server.listen(0);
  g.__migrationServers = `127.0.0.1:${port}`;
  dir = await mkdtemp(join(tmpdir(), 'iproto-migration-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('docs/migration.md examples', () => {
  it('has examples that print', () => expect(blocks.length).toBeGreaterThanOrEqual(3));

  blocks.forEach((code, index) => {
    it(`block ${index + 1}: ${code.split('\n').find((l) => l.startsWith('const '))}`, async () => {
      const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
      const logged: string[] = [];
      g.__migrationLog = (...args: unknown[]) => logged.push(formatWithOptions({}, ...args));
      const file = join(dir, `block-${index + 1}.ts`);
      const prelude = 'const servers = globalThis.__migrationServers as string;\n';
      await writeFile(file, prelude + code.replaceAll('console.log(', 'globalThis.__migrationLog('));
      await import(pathToFileURL(file).href);
      expect(logged).toEqual(expected);
    });
  });
});
