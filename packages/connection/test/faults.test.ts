// The fault matrix: each row a misbehaving server (or network) and the exact outcome.
import { createServer } from 'node:net';
import { constants } from 'node:os';
import { listenBlackhole, startTestServer, type TestServer } from '@iproto/server/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connection } from '../src/connection.js';
import { AbortError, IProtoError, isIProtoError } from '../src/errors.js';
import { expectNoLeaks, Ledger, rejection, resources, until, watchTimers } from './support/test-support.js';

const { errno } = constants;
const body = (text: string): Buffer => Buffer.from(text);

let before: Record<string, number>;
let timers: ReturnType<typeof watchTimers>;
let ledger: Ledger;
let server: TestServer;
let closed: (Error | undefined)[];

/** A connection to the test server that records its `close` events. */
function open(options: ConstructorParameters<typeof Connection>[1] = {}): Connection {
  const connection = ledger.connection({ host: server.host, port: server.port }, options);
  connection.on('close', (error) => closed.push(error));
  return connection;
}

beforeEach(async () => {
  before = resources();
  timers = watchTimers();
  ledger = new Ledger();
  closed = [];
  server = await startTestServer();
});

afterEach(async () => {
  await ledger.check();
  await ledger.closeAll();
  await server.close();
  await expectNoLeaks(before, timers);
});

function expectError(error: unknown, code: string, extra: Partial<IProtoError> = {}): void {
  expect(error).toBeInstanceOf(IProtoError);
  expect(isIProtoError(error)).toBe(true);
  expect((error as IProtoError).code).toBe(code);
  for (const [key, value] of Object.entries(extra)) expect((error as any)[key], key).toBe(value);
}

describe('fault matrix', () => {
  it('connection refused: every request rejects ECONNREFUSED with errno and address', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const connection = ledger.connection({ host: '127.0.0.1', port });
    const failures: Error[] = [];
    connection.on('close', (error) => failures.push(error!));
    const requests = [1, 2, 3].map((i) => ledger.track(connection.send(i, body('x'))));
    for (const request of requests) {
      expectError(await rejection(request), 'ECONNREFUSED', {
        errno: errno.ECONNREFUSED,
        address: `127.0.0.1:${port}`,
      });
    }
    expect(failures).toHaveLength(1);
    expect(failures[0].message).toContain(`127.0.0.1:${port}`);
    expect(connection.connected).toBe(false);
  });

  it('a listener that never accepts: ERR_CONNECT_TIMEOUT after connectTimeout, errno ETIMEDOUT', async () => {
    const blackhole = await listenBlackhole();
    try {
      const connection = ledger.connection(
        { host: blackhole.host, port: blackhole.port },
        { connectTimeout: 200, timeout: 20_000 },
      );
      const error = await rejection(ledger.track(connection.send(1, body('x'))));
      expectError(error, 'ERR_CONNECT_TIMEOUT', { errno: errno.ETIMEDOUT, address: blackhole.address });
      expect(error.message).toBe(`${blackhole.address}: connect timed out after 200 ms`);
      await expect(connection.connect()).rejects.toMatchObject({ code: 'ERR_CONNECT_TIMEOUT' });
    } finally {
      await blackhole.close();
    }
  });

  it('close() while the connect hangs closes at once, without waiting for any timeout', async () => {
    const blackhole = await listenBlackhole();
    try {
      const connection = ledger.connection(
        { host: blackhole.host, port: blackhole.port },
        { connectTimeout: 60_000, timeout: 60_000 },
      );
      const connecting = expect(connection.connect()).rejects.toMatchObject({
        code: 'ERR_CONNECTION_CLOSED',
      });
      await connection.close();
      await connecting;
    } finally {
      await blackhole.close();
    }
  }, 10_000);

  it('reply delayed past the timeout: ETIMEDOUT, late reply dropped quietly, connection kept', async () => {
    const lines: string[] = [];
    const connection = open({ debug: 6, debugCb: (line) => lines.push(line) });
    await connection.connect();
    const timeouts: unknown[] = [];
    connection.on('timeout', (info) => timeouts.push(info));
    server.faults.add({ type: 'delay', ms: 300 }, { times: 1 });
    const error = await rejection(ledger.track(connection.send(7, body('slow'), { timeout: 50 })));
    expectError(error, 'ETIMEDOUT', { errno: errno.ETIMEDOUT, msg: 7, address: server.address });
    expect(error.message).toMatch(/request timed out after 50 ms waiting for the reply, msg 7 sync \d+$/);
    expect(timeouts).toEqual([{ msg: 7, sync: error.sync }]);
    // The late reply comes in, is logged, and is dropped: no failure, the slot is freed.
    await until(() => lines.some((l) => l.includes('recv header: 7 4 ')), 'the late reply');
    expect(connection.inFlight).toBe(0);
    expect(connection.connected).toBe(true);
    expect(closed).toEqual([]);
    const reply = await ledger.track(connection.send(8, body('next')));
    expect(Buffer.from(reply.body).toString()).toBe('next');
    expect(server.connections.size).toBe(1);
  });

  it('a reply later than one more timeout after the deadline is an unknown sync', async () => {
    const connection = open({ timeout: 400 });
    server.faults.add({ type: 'delay', ms: 1500 }, { times: 1, msg: 7 });
    const late = ledger.track(connection.send(7, body('late'), { timeout: 20 }));
    const error = await rejection(late);
    expectError(error, 'ETIMEDOUT', { msg: 7 });
    // Keep replies flowing so that the connection is not read-idle, until the late reply kills it.
    while (closed.length === 0) {
      // A ping in flight when the late reply comes is rejected with the failure: both are fine here.
      await ledger.track(connection.send(8, body('ping'))).catch((e) => expectError(e, 'ERR_UNKNOWN_SYNC'));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expectError(closed[0], 'ERR_UNKNOWN_SYNC', { sync: error.sync, msg: 7 });
  });

  it('server silent while requests wait: each rejects ETIMEDOUT at its own deadline, the socket is retired', async () => {
    // Issue 12: a deadline longer than the connection's timeout is honoured (the connection used to
    // die of read-idleness after `timeout` and fail every request); the silent socket is retired.
    const connection = open({ timeout: 200 });
    server.faults.add({ type: 'drop' });
    const requests = [1, 2, 3].map((i) =>
      ledger.track(connection.send(i, body('x'), { timeout: 300 + i * 100 })),
    );
    const started = Date.now();
    for (const [i, request] of requests.entries()) {
      const error = await rejection(request);
      expectError(error, 'ETIMEDOUT', { errno: errno.ETIMEDOUT, address: server.address, msg: i + 1 });
      expect(error.message).toMatch(
        new RegExp(`request timed out after ${400 + i * 100} ms waiting for the reply`),
      );
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(closed).toHaveLength(1);
    expect((closed[0] as IProtoError).code).toBe('ETIMEDOUT');
    expect((closed[0] as IProtoError).message).toMatch(
      /read timed out: nothing received for 200 ms while msg 1 sync \d+ waited; socket retired$/,
    );
    expect(connection.connected).toBe(false);
  });

  it('server closes mid-frame: ECONNCLOSED (errno EPIPE) for every request; the next send reconnects', async () => {
    const connection = open();
    server.faults.add({ type: 'truncate', bytes: 5 }, { times: 1, msg: 1 });
    server.faults.add({ type: 'delay', ms: 10_000 }, { times: 1, msg: 2 });
    const first = ledger.track(connection.send(1, body('abcdef')));
    const second = ledger.track(connection.send(2, body('x')));
    const error = await rejection(first);
    expectError(error, 'ECONNCLOSED', { errno: errno.EPIPE, address: server.address });
    expect(error.message).toBe(
      `${server.address}: connection closed by the server in the middle of a frame (5 bytes of it received)`,
    );
    expect(await rejection(second)).toBe(error);
    expect(closed).toEqual([error]);
    const reply = await ledger.track(connection.send(3, body('again')));
    expect(Buffer.from(reply.body).toString()).toBe('again');
  });

  it('garbage header: a header announcing ~744 MB fails the connection with ERR_FRAME_TOO_LARGE', async () => {
    const connection = open();
    server.faults.add({ type: 'garbage' }, { times: 1 });
    const error = await rejection(ledger.track(connection.send(1, body('x'))));
    expectError(error, 'ERR_FRAME_TOO_LARGE', { address: server.address });
    expect(error.cause.code).toBe('ERR_FRAME_TOO_LARGE');
    expect(closed).toEqual([error]);
  });

  it('garbage header with a small length: its sync is unknown, ERR_UNKNOWN_SYNC', async () => {
    const connection = open();
    const garbage = Buffer.from([1, 0, 0, 0, 2, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde, 0x41, 0x42]);
    server.faults.add({ type: 'garbage', bytes: garbage }, { times: 1 });
    const error = await rejection(ledger.track(connection.send(1, body('x'))));
    expectError(error, 'ERR_UNKNOWN_SYNC', { sync: 0xdeadbeef, msg: 1 });
    expect(error.message).toBe(`${server.address}: reply sync 3735928559 not found (msg 1)`);
  });

  it('oversized length: a header over maxFrameSize fails every request with ERR_FRAME_TOO_LARGE', async () => {
    const connection = open();
    server.faults.add({ type: 'hugeLength' }, { times: 1, msg: 1 });
    server.faults.add({ type: 'delay', ms: 10_000 }, { times: 1, msg: 2 });
    const other = ledger.track(connection.send(2, body('y')));
    const error = await rejection(ledger.track(connection.send(1, body('x'))));
    expectError(error, 'ERR_FRAME_TOO_LARGE', { msg: 1, address: server.address });
    expect(error.message).toContain('announces 4294967295 body bytes');
    expect(await rejection(other)).toBe(error);
  });

  it('oversized reply body: maxFrameSize applies to real replies too', async () => {
    const connection = open({ maxFrameSize: 1024 });
    expect(Buffer.from((await ledger.track(connection.send(1, Buffer.alloc(1024)))).body)).toHaveLength(1024);
    const error = await rejection(ledger.track(connection.send(1, Buffer.alloc(1025))));
    expectError(error, 'ERR_FRAME_TOO_LARGE', { msg: 1 });
  });

  it('unknown sync: the connection fails, every request rejects ERR_UNKNOWN_SYNC, the next send reconnects', async () => {
    const connection = open();
    const connects: number[] = [];
    connection.on('connect', () => connects.push(1));
    server.faults.add({ type: 'delay', ms: 10_000 }, { times: 1, msg: 2 });
    server.faults.add({ type: 'wrongSync', sync: 99_999 }, { times: 1, msg: 1 });
    const waiting = ledger.track(connection.send(2, body('y')));
    const error = await rejection(ledger.track(connection.send(1, body('x'))));
    expectError(error, 'ERR_UNKNOWN_SYNC', { sync: 99_999, msg: 1, address: server.address });
    expect(await rejection(waiting)).toBe(error);
    expect(closed).toEqual([error]);
    await ledger.track(connection.send(3, body('z')));
    expect(connects).toHaveLength(2);
  });

  it('duplicate reply: the first resolves, the second is an unknown sync that fails the connection', async () => {
    const connection = open();
    server.faults.add({ type: 'delay', ms: 10_000 }, { times: 1, msg: 2 });
    server.faults.add({ type: 'duplicate' }, { times: 1, msg: 1 });
    const waiting = ledger.track(connection.send(2, body('y')));
    const reply = await ledger.track(connection.send(1, body('dup')));
    expect(Buffer.from(reply.body).toString()).toBe('dup');
    const error = await rejection(waiting);
    expectError(error, 'ERR_UNKNOWN_SYNC', { sync: reply.sync, msg: 1 });
    expect(closed).toEqual([error]);
  });

  it('reply with a different msg: passed up as it is (the client decides)', async () => {
    const connection = open();
    server.faults.add({ type: 'wrongMsg', msg: 4242 }, { times: 1 });
    const reply = await ledger.track(connection.send(17, body('m')));
    expect(reply.msg).toBe(4242);
    expect(Buffer.from(reply.body).toString()).toBe('m');
    expect(connection.connected).toBe(true);
    expect(closed).toEqual([]);
  });

  it('server restarts: the connection notices the close, the next send reconnects', async () => {
    const connection = open();
    await ledger.track(connection.send(1, body('one')));
    const port = server.port;
    await server.close();
    await until(() => closed.length === 1, 'the close event');
    expectError(closed[0], 'ECONNCLOSED', { errno: errno.EPIPE });
    expect(connection.connected).toBe(false);
    server = await startTestServer({ port });
    const reply = await ledger.track(connection.send(2, body('two')));
    expect(Buffer.from(reply.body).toString()).toBe('two');
    expect(connection.connected).toBe(true);
  });

  it('write backpressure, server stops reading: writes pause, memory stays bounded, all time out', async () => {
    const size = 2 * 1024 * 1024;
    const connection = open({ maxParallel: 8, maxQueue: 2, timeout: 1000, maxWriteBuffer: 64 * 1024 * 1024 });
    server.faults.add({ type: 'stopReading' }, { times: 1 });
    const requests: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) requests.push(ledger.track(connection.send(1, Buffer.alloc(size, i))));
    const full = await rejection(ledger.track(connection.send(1, Buffer.alloc(1))));
    expectError(full, 'ERR_QUEUE_FULL', { address: server.address });
    expect(full.message).toBe(`${server.address}: request queue full (2 queued, maxQueue 2), msg 1`);
    await until(() => connection.writePaused, 'writes to pause');
    expect(connection.inFlight).toBe(8);
    expect(connection.queued).toBe(2);
    expect(connection.bufferedBytes).toBeLessThanOrEqual(8 * (size + 12));
    // Each request passes its deadline; the socket, silent all along, is retired.
    for (const request of requests) expectError(await rejection(request), 'ETIMEDOUT');
    await until(() => closed.length === 1, 'the silent socket to be retired');
    expect((closed[0] as IProtoError).message).toMatch(/read timed out: nothing received for 1000 ms/);
    expect(connection.connected).toBe(false);
  });

  it('write backpressure, server resumes reading: the writes drain and every request completes', async () => {
    const size = 2 * 1024 * 1024;
    const connection = open({ maxParallel: 8, timeout: 20_000, maxWriteBuffer: 64 * 1024 * 1024 });
    await connection.connect();
    await until(() => server.connections.size === 1, 'the server to accept');
    const [peer] = server.connections;
    peer.stopReading();
    const requests: Promise<any>[] = [];
    for (let i = 0; i < 12; i++) requests.push(ledger.track(connection.send(1, Buffer.alloc(size, i))));
    await until(() => connection.writePaused, 'writes to pause');
    expect(connection.queued).toBe(4);
    peer.resumeReading();
    const replies = await Promise.all(requests);
    replies.forEach((reply, i) => {
      expect(reply.body.length).toBe(size);
      expect(reply.body[size - 1]).toBe(i);
    });
    expect(connection.writePaused).toBe(false);
  });

  it('abort before send: a queued request is removed and never reaches the server', async () => {
    const connection = open({ maxParallel: 1 });
    server.faults.add({ type: 'delay', ms: 100 }, { times: 1, msg: 1 });
    const controller = new AbortController();
    const first = ledger.track(connection.send(1, body('first')));
    const aborted = ledger.track(connection.send(2, body('aborted'), { signal: controller.signal }));
    const third = ledger.track(connection.send(3, body('third')));
    expect(connection.queued).toBe(2);
    const reason = new Error('changed my mind');
    controller.abort(reason);
    // As undici: the reason itself, when it is an Error.
    expect(await rejection(aborted)).toBe(reason);
    expect(connection.queued).toBe(1);
    await first;
    expect((await third).msg).toBe(3);
    expect(server.requests).toBe(2);
    const already = AbortSignal.abort();
    const error = await rejection(ledger.track(connection.send(4, body('x'), { signal: already })));
    expect(error).toBe(already.reason);
    expect(error).toBeInstanceOf(DOMException);
    expect(error.name).toBe('AbortError');
    expect(server.requests).toBe(2);
  });

  it('abort with a reason that is not an Error: an AbortError (ABORT_ERR) carrying it as cause', async () => {
    const connection = open({ maxParallel: 1 });
    server.faults.add({ type: 'delay', ms: 100 }, { times: 1, msg: 1 });
    const controller = new AbortController();
    const first = ledger.track(connection.send(1, body('first')));
    const aborted = ledger.track(connection.send(2, body('aborted'), { signal: controller.signal }));
    controller.abort('shutting down');
    const error = await rejection(aborted);
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', msg: 2, cause: 'shutting down' });
    expect(error.address).toBe(connection.address);
    expect(error.message).toBe(`${connection.address}: request aborted, msg 2`);
    // A signal with no reason at all (an AbortSignal polyfill): an AbortError with no cause.
    const polyfill = { aborted: true, reason: undefined, addEventListener() {}, removeEventListener() {} };
    const bare = await rejection(
      ledger.track(connection.send(3, body('x'), { signal: polyfill as unknown as AbortSignal })),
    );
    expect(bare).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', msg: 3 });
    expect('cause' in bare).toBe(false);
    await first;
  });

  it('abort after send: rejects at once, the late reply is dropped quietly', async () => {
    const lines: string[] = [];
    const connection = open({ debug: 6, debugCb: (line) => lines.push(line) });
    server.faults.add({ type: 'delay', ms: 500 }, { times: 1 });
    const controller = new AbortController();
    const request = ledger.track(connection.send(5, body('late'), { signal: controller.signal }));
    await until(() => server.requests === 1, 'the request to reach the server');
    controller.abort('late');
    const error = await rejection(request);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', msg: 5, cause: 'late' });
    expect(error.sync).toBeGreaterThan(0);
    await until(() => lines.some((l) => l.includes('recv header: 5 4 ')), 'the late reply');
    expect(connection.inFlight).toBe(0);
    expect(closed).toEqual([]);
    expect((await ledger.track(connection.send(6, body('ok')))).msg).toBe(6);
  });
});
