import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Frame } from '@iproto/framing';
import { afterEach, expect, test } from 'vitest';
import { IProtoServer } from '../src/iproto-server.js';

/**
 * The reference client, MR::IProto (Debian libmr-tarantool-perl), against this server. It must be
 * installed: when it is missing the Perl script dies and this test fails, it does not skip.
 */
const SCRIPT = fileURLToPath(new URL('./support/perl/mr-iproto-client.pl', import.meta.url));

let server: IProtoServer | undefined;
afterEach(async () => {
  await server?.close();
});

function body(n: number): Buffer {
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 7 + 3) % 256;
  return bytes;
}

const md5 = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('hex');
const digest = (data: Buffer): string => `${data.length} ${md5(data)}`;
const line = (label: string, msg: number, data: Buffer): string => `${label} ${msg} ${digest(data)}`;

function runPerl(address: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('perl', [SCRIPT, address], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the Perl MR::IProto client talks to IProtoServer: sync, async, send_bulk, 0 B to 1 MiB', async () => {
  const received: Frame[] = [];
  server = new IProtoServer();
  server.on('request', (request) => received.push(request));
  server.on(17, (request) => request.body);
  server.on(18, (request) => Buffer.from(request.body).reverse());
  server.on(19, (request) => {
    const words = Buffer.from(request.body);
    let sum = 0;
    for (let i = 0; i < words.length; i += 4) sum += words.readUInt32LE(i);
    const reply = Buffer.alloc(4);
    reply.writeUInt32LE(sum % 2 ** 32);
    return reply;
  });
  server.on(0xff00, () => Buffer.alloc(0));
  server.on(20, () => undefined);
  const { host, port } = await server.listen();

  const { code, stdout, stderr } = await runPerl(`${host}:${port}`);
  expect(stderr).toBe('');
  expect(code).toBe(0);

  const sizes = [0, 1, 12, 1000, 65535, 65536, 1048576];
  const echo = (n: number): Buffer => body(n);
  const reverse = (n: number): Buffer => body(n).reverse();
  const expected: string[] = [];
  // MR::IProto::Connection::Sync::recv_all never reads a 0-byte body, so a synchronous send hands
  // `unpack` undef for it; the asynchronous connection hands it ''.
  const sync = (msg: number, data: Buffer): string =>
    data.length === 0 ? `sync ${msg} undef` : line('sync', msg, data);
  for (const n of sizes) expected.push(sync(17, echo(n)), sync(18, reverse(n)));
  expected.push(`sum ${(1 + 2 + 3 + 4_000_000_000) % 2 ** 32}`);
  expected.push(`ping ${0xff00} undef`);
  expected.push('no_reply 0');
  expected.push(...sizes.flatMap((n) => [line('async', 17, echo(n)), line('async', 18, reverse(n))]).sort());
  const bulk = [echo(12), reverse(12), echo(1048576), reverse(65536)];
  expected.push(...bulk.map((data) => `bulk ${digest(data)}`).sort());
  expected.push(...bulk.map((data) => `async_bulk ${digest(data)}`).sort());
  expected.push('done');
  expect(stdout.trimEnd().split('\n')).toEqual(expected);

  // The server saw what the Perl client packed: pack('L*', 1, 2, 3, 4000000000), and the no-reply message.
  const sum = received.find((request) => request.msg === 19)!;
  expect(Buffer.from(sum.body).toString('hex')).toBe('01000000020000000300000000286bee');
  const noReply = received.find((request) => request.msg === 20)!;
  expect(Buffer.from(noReply.body).toString()).toBe('fire and forget');
  expect(received.length).toBe(sizes.length * 4 + 3 + 8);
});
