import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IProto } from '@iproto/client';
import { Connection } from '@iproto/connection';
import { encodeFrame } from '@iproto/framing';
import { pack, unpack } from '@iproto/pack';
import { startTestServer, type TestServer } from '@iproto/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectedOutput,
  matchesLine,
  type ReadmeBlock,
  type RunOptions,
  readmeBlocks,
  runBlock,
} from './support/readme-blocks.js';

/**
 * Every ```ts / ```js block of the package READMEs below runs here, each as a module of its own,
 * and prints what its comments say it prints (see readme-blocks.ts for the conventions). Blocks
 * that start their own servers need nothing; the few fragments get their free names from here.
 */

/**
 * Runs a block and compares what it printed with what it says it prints; `settle` runs in between,
 * for a block whose callbacks print after it has returned.
 */
async function expectRuns(
  block: ReadmeBlock,
  options?: RunOptions,
  settle?: () => Promise<void>,
): Promise<void> {
  const expected = expectedOutput(block.code);
  const printed = await runBlock(block, options);
  await settle?.();
  const where = `packages/${block.pkg}/README.md:${block.line}`;
  expect(printed.length, `${where} printed ${JSON.stringify(printed)}`).toBe(expected.length);
  printed.forEach((line, i) => {
    expect(
      matchesLine(line, expected[i]),
      `${where}: printed ${JSON.stringify(line)}, README says ${JSON.stringify(expected[i])}`,
    ).toBe(true);
  });
}

const TIMEOUT = 10_000;

describe('packages/pack/README.md', () => {
  const blocks = readmeBlocks('pack');
  it('has its example', () => expect(blocks.length).toBeGreaterThanOrEqual(1));
  it.each(blocks.map((block) => [block.line, block] as const))(
    'block at line %i',
    (_line, block) => expectRuns(block),
    TIMEOUT,
  );
});

describe('packages/framing/README.md', () => {
  const blocks = readmeBlocks('framing');
  // The captures the offline examples read: two replies to msg 17 (sync 1 and 2), and in
  // replies.bin the first 5 bytes of a third, as a capture cut short has.
  const whole = Buffer.concat([
    encodeFrame(17, 1, pack('L w/a*', 0, 'hi')),
    encodeFrame(17, 2, pack('L', 0)),
  ]);
  let dir: string;
  let replace: Record<string, string>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iproto-framing-readme-'));
    await writeFile(
      join(dir, 'replies.bin'),
      Buffer.concat([whole, encodeFrame(17, 3, 'more').subarray(0, 5)]),
    );
    await writeFile(join(dir, 'big.bin'), whole);
    replace = {
      "'replies.bin'": JSON.stringify(join(dir, 'replies.bin')),
      "'big.bin'": JSON.stringify(join(dir, 'big.bin')),
    };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('has its examples', () => expect(blocks.length).toBeGreaterThanOrEqual(5));
  it.each(blocks.map((block) => [block.line, block] as const))(
    'block at line %i',
    (_line, block) => expectRuns(block, { replace }),
    TIMEOUT,
  );
});

describe('packages/connection/README.md', () => {
  const blocks = readmeBlocks('connection');
  it('has its examples', () => expect(blocks.length).toBeGreaterThanOrEqual(2));
  it.each(blocks.map((block) => [block.line, block] as const))(
    'block at line %i',
    async (_line, block) => {
      if (/^const connection = /m.test(block.code)) return expectRuns(block);
      // A fragment of the API section: `connection` is a fresh one to an echo server, closed
      // (which lets its requests settle) before the output is compared.
      const server = await startTestServer();
      const connection = new Connection({ host: server.host, port: server.port });
      try {
        await expectRuns(block, { context: { connection } }, () => connection.close());
      } finally {
        await connection.close();
        await server.close();
      }
    },
    TIMEOUT,
  );
});

describe('packages/cluster/README.md', () => {
  const blocks = readmeBlocks('cluster');
  it('has its examples', () => expect(blocks.length).toBeGreaterThanOrEqual(2));
  it.each(blocks.map((block) => [block.line, block] as const))(
    'block at line %i',
    (_line, block) => expectRuns(block),
    TIMEOUT,
  );
});

describe('packages/client/README.md', () => {
  const blocks = readmeBlocks('client');
  // The examples after the first three use a `client`: here one connected to a server whose msg 17
  // looks a user up by id (request `L...`, reply `L w/a*`: the id and `user:<id>`).
  let server: TestServer;
  let client: IProto;
  beforeAll(async () => {
    server = await startTestServer();
    server.on(17, (request) => {
      const [id] = unpack('L', request.body.subarray(0, 4)) as [number];
      return pack('L w/a*', id, `user:${id}`);
    });
    client = new IProto({ servers: server.address });
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it('has its examples', () => expect(blocks.length).toBeGreaterThanOrEqual(6));
  it.each(blocks.map((block) => [block.line, block] as const))(
    'block at line %i',
    (_line, block) => {
      const usesClient = !/^const client = /m.test(block.code);
      return expectRuns(block, usesClient ? { context: { client } } : {});
    },
    TIMEOUT,
  );
});

describe('the README block conventions', () => {
  it('reads expected output from console.log comments, or from a prints: section', () => {
    expect(expectedOutput("console.log(1); // 1\nf();\nconsole.log('a', 2); // a 2")).toEqual(['1', 'a 2']);
    expect(
      expectedOutput('run();\n// prints, for a capture:\n// one\n//   two\nlater();\n// not output'),
    ).toEqual(['one', '  two']);
  });

  it('matches a printed line exactly, … standing for any text', () => {
    expect(matchesLine('ETIMEDOUT 110 127.0.0.1:4000', 'ETIMEDOUT 110 127.0.0.1:…')).toBe(true);
    expect(matchesLine('[ 1, 2 ]', '[ 1, 2, 3 ]')).toBe(false);
    expect(matchesLine('a.b', 'a…b')).toBe(true);
    expect(matchesLine('axb', 'a.b')).toBe(false);
  });

  it('skips a block marked not-a-test and runs a block with its context', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iproto-readme-blocks-'));
    try {
      const file = join(dir, 'README.md');
      await writeFile(
        file,
        '<!-- not-a-test -->\n```ts\nthrow 1;\n```\n\n```js\nconsole.log(x + 1); // 3\n```\n',
      );
      const blocks = readmeBlocks('demo', file);
      expect(blocks.map((block) => block.line)).toEqual([6]);
      expect(await runBlock(blocks[0], { context: { x: 2 } })).toEqual(['3']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
