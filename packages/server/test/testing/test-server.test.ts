import { afterEach, describe, expect, test } from 'vitest';
import type { ServerConnection } from '../../src/server-connection.js';
import { DEFAULT_GARBAGE, startTestServer, TestServer } from '../../src/testing/index.js';
import { frame, RawClient, waitFor } from '../support/test-support.js';

let server: TestServer;
const clients: RawClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await server?.close();
});

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(server.port, server.host);
  clients.push(c);
  return c;
}

const quiet = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

describe('startTestServer', () => {
  test('echoes by default on 127.0.0.1 and counts requests', async () => {
    server = await startTestServer();
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    const c = await client();
    c.write(frame(1, 1, 'one'), frame(2, 2, ''));
    expect(await c.bytes(27)).toEqual(Buffer.concat([frame(1, 1, 'one'), frame(2, 2)]));
    expect(server.requests).toBe(2);
  });

  test('takes a handler and server options', async () => {
    server = await startTestServer({ handler: () => 'custom', maxFrameSize: 10 });
    server.on(7, () => 'routed');
    const c = await client();
    c.write(frame(1, 1), frame(7, 2));
    expect(await c.bytes(36)).toEqual(Buffer.concat([frame(1, 1, 'custom'), frame(7, 2, 'routed')]));
    c.write(frame(1, 3, Buffer.alloc(11)));
    await c.waitClosed();
  });

  test('host, port and address throw before listen', async () => {
    server = new TestServer();
    expect(() => server.port).toThrow(/not listening yet/);
    expect(() => server.address).toThrow(/not listening yet/);
    await server.listen();
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
  });
});

describe('faults', () => {
  test('delay holds a reply back while later replies go out', async () => {
    server = await startTestServer();
    server.faults.add({ type: 'delay', ms: 150 }, { msg: 1 });
    const c = await client();
    c.write(frame(1, 1, 'slow'), frame(2, 2, 'fast'));
    expect(await c.bytes(16)).toEqual(frame(2, 2, 'fast'));
    expect(await c.bytes(32)).toEqual(Buffer.concat([frame(2, 2, 'fast'), frame(1, 1, 'slow')]));
  });

  test('drop runs the handler and sends nothing', async () => {
    const seen: number[] = [];
    server = await startTestServer({
      handler: (request) => {
        seen.push(request.sync);
        return request.body;
      },
    });
    server.faults.add({ type: 'drop' }, { msg: 1 });
    const c = await client();
    c.write(frame(1, 1, 'lost'), frame(2, 2, 'kept'));
    expect(await c.bytes(16)).toEqual(frame(2, 2, 'kept'));
    await quiet();
    expect(c.received).toEqual(frame(2, 2, 'kept'));
    expect(seen).toEqual([1, 2]);
  });

  test('duplicate sends the reply twice', async () => {
    server = await startTestServer();
    server.faults.add({ type: 'duplicate' });
    const c = await client();
    c.write(frame(3, 9, 'twice'));
    expect(await c.bytes(34)).toEqual(Buffer.concat([frame(3, 9, 'twice'), frame(3, 9, 'twice')]));
  });

  test('wrongSync replies with the top bit of the sync flipped, or the given sync', async () => {
    server = await startTestServer();
    server.faults.add({ type: 'wrongSync' }, { msg: 1 });
    server.faults.add({ type: 'wrongSync', sync: 777 }, { msg: 2 });
    const c = await client();
    c.write(frame(1, 5, 'a'), frame(2, 6, 'b'), frame(1, 0x80000001, 'c'));
    const expected = Buffer.concat([frame(1, 0x80000005, 'a'), frame(2, 777, 'b'), frame(1, 1, 'c')]);
    expect(await c.bytes(expected.length)).toEqual(expected);
  });

  test('wrongMsg replies with the msg plus one, or the given msg', async () => {
    server = await startTestServer();
    server.faults.add({ type: 'wrongMsg' }, { msg: 1 });
    server.faults.add({ type: 'wrongMsg', msg: 99 }, { msg: 2 });
    const c = await client();
    c.write(frame(1, 5, 'a'), frame(2, 6, 'b'));
    const expected = Buffer.concat([frame(2, 5, 'a'), frame(99, 6, 'b')]);
    expect(await c.bytes(expected.length)).toEqual(expected);
  });

  test('truncate writes the start of the reply frame, then closes', async () => {
    server = await startTestServer();
    server.faults.add({ type: 'truncate' }, { msg: 2 });
    const c = await client();
    c.write(frame(1, 1, 'whole'), frame(2, 2, '0123456789'), frame(3, 3, 'ignored'));
    await c.waitClosed();
    // Half of the 22-byte reply frame, after the first reply.
    expect(c.received).toEqual(
      Buffer.concat([frame(1, 1, 'whole'), frame(2, 2, '0123456789').subarray(0, 11)]),
    );
  });

  test('truncate with a byte count cuts there, inside the header too', async () => {
    server = await startTestServer();
    server.faults.add({ type: 'truncate', bytes: 5 });
    const c = await client();
    c.write(frame(4, 4, 'body'));
    await c.waitClosed();
    expect(c.received).toEqual(frame(4, 4, 'body').subarray(0, 5));
  });

  test('garbage writes the given bytes, or the default, instead of the reply', async () => {
    server = await startTestServer();
    server.faults.add({ type: 'garbage', bytes: Buffer.from([0xde, 0xad, 0xbe, 0xef]) }, { msg: 1 });
    server.faults.add({ type: 'garbage' }, { msg: 2 });
    const c = await client();
    c.write(frame(1, 1, 'x'), frame(2, 2, 'y'));
    const expected = Buffer.concat([Buffer.from('deadbeef', 'hex'), Buffer.from('garbage, not iproto\n')]);
    expect(await c.bytes(expected.length)).toEqual(expected);
    expect(Buffer.from(DEFAULT_GARBAGE)).toEqual(Buffer.from('garbage, not iproto\n'));
    await quiet();
    expect(c.received.length).toBe(expected.length);
  });

  test('hugeLength writes a header announcing 0xffffffff bytes, or the given length, and no body', async () => {
    server = await startTestServer();
    server.faults.add({ type: 'hugeLength' }, { msg: 1 });
    server.faults.add({ type: 'hugeLength', len: 1000 }, { msg: 2 });
    const c = await client();
    c.write(frame(1, 10, 'x'));
    expect(await c.bytes(12)).toEqual(Buffer.from('01000000ffffffff0a000000', 'hex'));
    c.write(frame(2, 11, 'y'));
    expect((await c.bytes(24)).subarray(12)).toEqual(Buffer.from('02000000e80300000b000000', 'hex'));
    await quiet();
    expect(c.received.length).toBe(24);
  });

  test('close ends the connection at once: earlier replies arrive, the request and later ones are not answered', async () => {
    server = await startTestServer();
    server.faults.add({ type: 'close' }, { msg: 2 });
    const c = await client();
    c.write(frame(1, 1, 'before'), frame(2, 2, 'closes'), frame(1, 3, 'after'));
    await c.waitClosed();
    expect(c.received).toEqual(frame(1, 1, 'before'));
    expect(server.requests).toBe(2);
    await waitFor(() => server.connections.size === 0, 'the connection to go');
  });

  test('stopReading leaves this and later requests unanswered and backs up the client', async () => {
    server = await startTestServer();
    server.faults.add({ type: 'stopReading' }, { msg: 2 });
    const c = await client();
    c.write(frame(1, 1, 'answered'), frame(2, 2, 'stops'), frame(1, 3, 'not read'));
    expect(await c.bytes(20)).toEqual(frame(1, 1, 'answered'));
    const connection = [...server.connections][0];
    expect(connection.paused).toBe(true);
    // More than the kernel buffers of both ends hold: the rest stays in the client's write buffer.
    c.write(Buffer.alloc(32 * 1024 * 1024));
    await waitFor(() => c.socket.writableLength > 0, 'writes to back up');
    await quiet();
    expect(c.socket.writableLength).toBeGreaterThan(0);
    expect(c.received).toEqual(frame(1, 1, 'answered'));
    expect(server.requests).toBe(2);
  });

  test('times limits how often a fault fires, then it is gone', async () => {
    server = await startTestServer();
    server.faults.add({ type: 'wrongSync', sync: 0 }, { times: 2 });
    expect(server.faults.size).toBe(1);
    const c = await client();
    c.write(frame(1, 1), frame(1, 2), frame(1, 3));
    expect(await c.bytes(36)).toEqual(Buffer.concat([frame(1, 0), frame(1, 0), frame(1, 3)]));
    expect(server.faults.size).toBe(0);
  });

  test('per connection, with the connection option or when()', async () => {
    server = await startTestServer();
    const accepted: ServerConnection[] = [];
    server.on('accept', (connection) => accepted.push(connection));
    const first = await client();
    const second = await client();
    await waitFor(() => accepted.length === 2, 'two connections');
    const byPort = (c: RawClient): ServerConnection => accepted.find((a) => a.port === c.socket.localPort)!;
    server.faults.add({ type: 'wrongMsg', msg: 50 }, { connection: byPort(first) });
    server.faults.add(
      { type: 'wrongMsg', msg: 60 },
      { when: (request, connection) => connection === byPort(second) && request.sync === 2 },
    );
    first.write(frame(1, 1), frame(1, 2));
    second.write(frame(1, 1), frame(1, 2));
    expect(await first.bytes(24)).toEqual(Buffer.concat([frame(50, 1), frame(50, 2)]));
    expect(await second.bytes(24)).toEqual(Buffer.concat([frame(1, 1), frame(60, 2)]));
  });

  test('when() sees the request body', async () => {
    server = await startTestServer();
    server.faults.add(
      { type: 'drop' },
      { when: (request) => Buffer.from(request.body).toString() === 'drop me' },
    );
    const c = await client();
    c.write(frame(1, 1, 'drop me'), frame(1, 2, 'keep me'));
    expect(await c.bytes(19)).toEqual(frame(1, 2, 'keep me'));
  });

  test('the function add() returns removes the fault; clear() removes all', async () => {
    server = await startTestServer();
    const remove = server.faults.add({ type: 'drop' });
    server.faults.add({ type: 'duplicate' }, { msg: 9 });
    remove();
    const c = await client();
    c.write(frame(1, 1, 'a'));
    expect(await c.bytes(13)).toEqual(frame(1, 1, 'a'));
    server.faults.clear();
    expect(server.faults.size).toBe(0);
    c.write(frame(9, 2, 'b'));
    expect(await c.bytes(26)).toEqual(Buffer.concat([frame(1, 1, 'a'), frame(9, 2, 'b')]));
    await quiet();
    expect(c.received.length).toBe(26);
  });

  test('delay combines with the next matching fault', async () => {
    server = await startTestServer();
    server.faults.add({ type: 'delay', ms: 100 }, { msg: 1 });
    server.faults.add({ type: 'wrongSync', sync: 42 }, { msg: 1 });
    const c = await client();
    c.write(frame(1, 1, 'x'), frame(2, 2, 'y'));
    expect(await c.bytes(26)).toEqual(Buffer.concat([frame(2, 2, 'y'), frame(1, 42, 'x')]));
  });

  test('the first matching non-delay fault wins', async () => {
    server = await startTestServer();
    server.faults.add({ type: 'wrongMsg', msg: 5 });
    server.faults.add({ type: 'drop' });
    const c = await client();
    c.write(frame(1, 1));
    expect(await c.bytes(12)).toEqual(frame(5, 1));
    expect(server.faults.size).toBe(2);
  });

  test('faults that rewrite a reply send a header-only frame when the handler answers nothing', async () => {
    server = await startTestServer({ handler: () => undefined });
    server.faults.add({ type: 'wrongSync', sync: 3 }, { msg: 1 });
    server.faults.add({ type: 'duplicate' }, { msg: 2 });
    const c = await client();
    c.write(frame(2, 2), frame(1, 1));
    expect(await c.bytes(12)).toEqual(frame(1, 3));
    await quiet();
    expect(c.received.length).toBe(12);
  });

  test('faults apply to async handlers after they settle', async () => {
    server = await startTestServer({ handler: async (request) => `async ${request.sync}` });
    server.faults.add({ type: 'duplicate' });
    const c = await client();
    c.write(frame(1, 1));
    expect(await c.bytes(38)).toEqual(Buffer.concat([frame(1, 1, 'async 1'), frame(1, 1, 'async 1')]));
  });

  test('close() cancels pending delays and resolves', async () => {
    server = await startTestServer();
    server.faults.add({ type: 'delay', ms: 60_000 });
    const c = await client();
    c.write(frame(1, 1));
    await waitFor(() => server.requests === 1, 'the request');
    await server.close();
    await c.waitClosed();
    expect(c.received.length).toBe(0);
  });

  test('add() rejects malformed faults', () => {
    server = new TestServer();
    expect(() => server.faults.add({ type: 'delay', ms: -1 })).toThrow(RangeError);
    expect(() => server.faults.add({ type: 'wrongSync', sync: 2 ** 32 })).toThrow(RangeError);
    expect(() => server.faults.add({ type: 'hugeLength', len: -1 })).toThrow(RangeError);
    expect(() => server.faults.add({ type: 'truncate', bytes: 1.5 })).toThrow(RangeError);
    expect(() => server.faults.add({ type: 'drop' }, { times: 0 })).toThrow(RangeError);
    expect(() => server.faults.add({ type: 'nope' } as never)).toThrow(/unknown fault type nope/);
    expect(server.faults.size).toBe(0);
  });
});
