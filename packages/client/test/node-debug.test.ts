import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

// NODE_DEBUG is read once when Node starts, so this runs a fresh process. It loads the built
// package (`pnpm test` builds first) by its own name, as a user's app would.
const SCRIPT = `
import { IProto } from '@iproto/client';
import { startTestServer } from '@iproto/server/testing';
const server = await startTestServer();
const client = new IProto({ servers: server.address });
const [n] = await client.send({ msg: 7, data: [5], unpack: 'L' });
await client.close();
await server.close();
console.log(JSON.stringify({ n, address: server.address }));
`;

async function runWith(env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--input-type=module', '-e', SCRIPT], {
    cwd: resolve(import.meta.dirname, '..'),
    env: { ...process.env, ...env },
    timeout: 20_000,
  });
}

it('NODE_DEBUG=iproto prints the connection and client debug lines through util.debuglog', async () => {
  const { stdout, stderr } = await runWith({ NODE_DEBUG: 'iproto' });
  const { n, address } = JSON.parse(stdout.trim().split('\n').at(-1)!);
  expect(n).toBe(5);
  const lines = stderr.split('\n').filter((line) => line.startsWith('IPROTO '));
  const texts = lines.map((line) => line.replace(/^IPROTO \d+: /, ''));
  expect(texts).toEqual([
    'send msg=7 try 1',
    `${address}: connecting`,
    `${address}: connected`,
    `${address}: closing socket`,
  ]);
});

it('without NODE_DEBUG nothing is printed', async () => {
  const { stderr } = await runWith({ NODE_DEBUG: '' });
  expect(stderr).not.toMatch(/IPROTO/);
});
