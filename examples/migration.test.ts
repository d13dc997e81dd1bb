import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pack, unpack } from '@iproto/pack';
import { IProtoServer } from '@iproto/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBlock } from './support/readme-blocks.js';

/**
 * docs/migration.md: every ```ts block that prints (`console.log(...); // expected`) runs as a
 * module of its own, with `servers` pointing at a server that answers message 17 as the guide says,
 * and prints what its comments say.
 */
const guide = readFileSync(fileURLToPath(new URL('../docs/migration.md', import.meta.url)), 'utf8');
const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1])
  .filter((code) => /console\.log\(.*\); \/\/ /.test(code));

let server: IProtoServer;
let servers: string;
beforeAll(async () => {
  server = new IProtoServer();
  server.on(17, (request) => {
    const [id] = unpack('L', request.body) as [number];
    return pack('L w/a*', id, `user ${id}`);
  });
  const { port } = await server.listen(0);
  servers = `127.0.0.1:${port}`;
});
afterAll(async () => {
  await server.close();
});

describe('docs/migration.md examples', () => {
  it('has examples that print', () => expect(blocks.length).toBeGreaterThanOrEqual(3));

  blocks.forEach((code, index) => {
    it(`block ${index + 1}: ${code.split('\n').find((l) => l.startsWith('const '))}`, async () => {
      const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
      const logged = await runBlock({ pkg: 'migration', line: index + 1, code }, { context: { servers } });
      expect(logged).toEqual(expected);
    });
  });
});
