import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { DEFAULT_DUMP_LIMIT } from '@iproto/framing';
import { afterEach, expect, test } from 'vitest';
import { IProtoServer, type IProtoServerOptions } from '../src/iproto-server.js';
import { frame, RawClient, waitFor } from './support/test-support.js';

let server: IProtoServer | undefined;
let client: RawClient | undefined;
afterEach(async () => {
  client?.destroy();
  await server?.close();
});

async function start(options: IProtoServerOptions): Promise<RawClient> {
  server = new IProtoServer(options);
  const { port } = await server.listen();
  client = await RawClient.connect(port);
  return client;
}

test('debug 6 logs accept, dumps every packet as MR::IProto::Server::Connection does, and the close', async () => {
  const lines: string[] = [];
  const c = await start({ debug: 6, debugCb: (line) => lines.push(line), handler: () => 'abcdefgh!' });
  const who = `127.0.0.1(127.0.0.1:${c.socket.localPort})`;
  c.write(frame(17, 5, 'abc'));
  await c.bytes(21);
  c.socket.end();
  await waitFor(() => lines.length === 6, 'six debug lines');
  // Expected dumps checked against Perl: join(' ', unpack('L*', $d)) . ' > ' . hex bytes.
  expect(lines).toEqual([
    `${who}: Connection accepted`,
    `${who}: recv header: 17 3 5 > 11 00 00 00 03 00 00 00 05 00 00 00`,
    `${who}: recv payload:  > 61 62 63`,
    `${who}: send header: 17 9 5 > 11 00 00 00 09 00 00 00 05 00 00 00`,
    `${who}: send payload: 1684234849 1751606885 > 61 62 63 64 65 66 67 68 21`,
    `${who}: Connection closed by foreign host`,
  ]);
});

// Regression: dumps were built with `+=` per byte, so one 16 MiB request at debug 5 blocked the
// process for seconds and took GiBs; a few at once ran it out of heap.
test('debug 6 dumps of a 16 MiB request and reply stop at DEFAULT_DUMP_LIMIT bytes and say the size', async () => {
  const lines: string[] = [];
  const c = await start({
    debug: 6,
    debugCb: (line) => lines.push(line),
    handler: (request) => request.body,
  });
  const body = Buffer.alloc(16 * 1024 * 1024 - 1, 0xab);
  c.write(frame(1, 1, body));
  await c.bytes(12 + body.length, 20_000);
  const payloads = lines.filter((line) => / (recv|send) payload: /.test(line));
  expect(payloads).toHaveLength(2);
  for (const line of payloads) {
    expect(line).toMatch(/ > (ab ){4095}ab … \(16777215 bytes in all\)$/);
    expect(line.length).toBeLessThan(DEFAULT_DUMP_LIMIT * 6);
  }
});

test('debug 5 dumps received packets only; dumpNoInts leaves out the integers', async () => {
  const lines: string[] = [];
  const c = await start({
    debug: 5,
    dumpNoInts: true,
    debugCb: (line) => lines.push(line),
    handler: () => 'x',
  });
  c.write(frame(1, 2, 'hi'));
  await c.bytes(13);
  expect(lines.slice(1).map((line) => line.slice(line.indexOf(': ') + 2))).toEqual([
    'recv header: 01 00 00 00 02 00 00 00 02 00 00 00',
    'recv payload: 68 69',
  ]);
});

test('debug 1 logs failed handlers; debug 0 logs nothing', async () => {
  const lines: string[] = [];
  const c = await start({
    debug: 1,
    debugCb: (line) => lines.push(line),
    handler: () => {
      throw new Error('nope');
    },
  });
  c.write(frame(42, 1));
  await waitFor(() => lines.length === 2, 'two debug lines');
  expect(lines[1]).toMatch(/: Failed to handle cmd=42: nope$/);

  const quiet: string[] = [];
  await server!.close();
  client!.destroy();
  const d = await start({ debugCb: (line) => quiet.push(line), handler: () => 'ok' });
  d.write(frame(1, 1));
  await d.bytes(14);
  expect(quiet).toEqual([]);
});

test('publishes iproto:server:* diagnostics channels', async () => {
  const seen: string[] = [];
  const names = ['accept', 'request', 'reply', 'error', 'disconnect'] as const;
  const listeners = names.map((name) => {
    const listener = (message: unknown): void => {
      const m = message as { request?: { sync: number }; sync?: number; error?: Error };
      seen.push(
        `${name}${m.request ? ` ${m.request.sync}` : ''}${m.sync !== undefined ? ` ${m.sync}` : ''}${m.error ? ` ${m.error.message}` : ''}`,
      );
    };
    subscribe(`iproto:server:${name}`, listener);
    return [name, listener] as const;
  });
  try {
    const c = await start({
      handler: (request) => (request.sync === 2 ? Promise.reject(new Error('bad')) : 'ok'),
    });
    const port = c.socket.localPort;
    c.write(frame(1, 1), frame(1, 2));
    await c.bytes(14);
    c.socket.end();
    await waitFor(() => seen.includes('disconnect'), 'disconnect');
    expect(seen).toEqual([
      'accept',
      'request 1',
      'reply 1',
      'request 2',
      `error handler for msg 1 sync 2 from 127.0.0.1:${port} failed: bad`,
      'disconnect',
    ]);
  } finally {
    for (const [name, listener] of listeners) unsubscribe(`iproto:server:${name}`, listener);
  }
});
