import { createHook } from 'node:async_hooks';
import { afterEach, describe, expect, test } from 'vitest';
import { IProtoServer, type IProtoServerOptions } from '../src/iproto-server.js';
import type { ServerConnection } from '../src/server-connection.js';
import type { ServerError } from '../src/server-error.js';
import {
  DEFAULT_FRAME_TIMEOUT,
  DEFAULT_HANDLER_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_REPLY_BUFFER,
} from '../src/server-options.js';
import { deferred, frame, Started, sleep, waitFor } from './support/test-support.js';

const started = new Started();
afterEach(() => started.cleanup());

const start = (options: IProtoServerOptions = {}) => started.server(options);
const client = (port: number) => started.client(port);

/** Records the server's `error` and `disconnect` events. */
function record(server: IProtoServer): { errors: ServerError[]; disconnects: (Error | undefined)[] } {
  const errors: ServerError[] = [];
  const disconnects: (Error | undefined)[] = [];
  server.on('error', (error) => errors.push(error as ServerError));
  server.on('disconnect', (_connection, error) => disconnects.push(error));
  return { errors, disconnects };
}

function connectionOf(server: IProtoServer, port: number): ServerConnection {
  const found = [...server.connections].find((c) => c.port === port);
  if (found === undefined) throw new Error(`no server connection for client port ${port}`);
  return found;
}

describe('options are checked in the constructor', () => {
  test('new IProtoServer({ maxFrameSize: -1 }) throws a RangeError naming the option (it used to crash on the first client)', () => {
    expect(() => new IProtoServer({ maxFrameSize: -1 })).toThrow(
      new RangeError('IProtoServer: maxFrameSize must be an integer >= 0 or Infinity, got -1'),
    );
  });

  test('every option: a wrong type is a TypeError, a value out of range a RangeError, each naming it', () => {
    const bad: [IProtoServerOptions | unknown, ErrorConstructor, RegExp][] = [
      [{ maxFrameSize: 1.5 }, RangeError, /maxFrameSize/],
      [{ maxFrameSize: Number.NaN }, RangeError, /maxFrameSize/],
      [{ maxFrameSize: '16' }, TypeError, /maxFrameSize must be a number, got string/],
      [{ maxConnections: 0 }, RangeError, /maxConnections must be an integer >= 1/],
      [{ maxConnections: -1 }, RangeError, /maxConnections/],
      [{ maxInFlight: 0 }, RangeError, /maxInFlight must be an integer >= 1/],
      [{ maxInFlight: 2.5 }, RangeError, /maxInFlight/],
      [{ maxReplyBuffer: -1 }, RangeError, /maxReplyBuffer/],
      [{ maxReplyBuffer: null }, TypeError, /maxReplyBuffer must be a number, got object/],
      [{ frameTimeout: -1 }, RangeError, /frameTimeout must be a number of milliseconds from 0 \(off\)/],
      [{ frameTimeout: 2 ** 31 }, RangeError, /frameTimeout/],
      [{ frameTimeout: Number.POSITIVE_INFINITY }, RangeError, /frameTimeout/],
      [{ idleTimeout: Number.NaN }, RangeError, /idleTimeout/],
      [{ idleTimeout: '5' }, TypeError, /idleTimeout/],
      [{ handlerTimeout: -0.5 }, RangeError, /handlerTimeout/],
      [{ highWaterMark: -1 }, RangeError, /highWaterMark/],
      [{ highWaterMark: Number.POSITIVE_INFINITY }, RangeError, /highWaterMark/],
      [{ noDelay: 1 }, TypeError, /noDelay must be a boolean, got number/],
      [{ dumpNoInts: 'yes' }, TypeError, /dumpNoInts/],
      [{ debug: -1 }, RangeError, /debug/],
      [{ debug: '6' }, TypeError, /debug/],
      [{ debugCb: 'stderr' }, TypeError, /debugCb must be a function, got string/],
      [{ handler: 'echo' }, TypeError, /handler must be a function, got string/],
      [null, TypeError, /options must be an object, got null/],
      [42, TypeError, /options must be an object, got number/],
    ];
    for (const [options, type, message] of bad) {
      let thrown: unknown;
      try {
        new IProtoServer(options as IProtoServerOptions);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(options)).toBeInstanceOf(type);
      expect((thrown as Error).message, JSON.stringify(options)).toMatch(/^IProtoServer: /);
      expect((thrown as Error).message, JSON.stringify(options)).toMatch(message);
    }
    // Nothing is listening or left behind by a constructor that threw.
    expect(() => new IProtoServer().route(1, 'echo' as never)).toThrow(
      new TypeError('IProtoServer: the handler for msg 1 must be a function, got string'),
    );
  });

  test('the limits in force: documented defaults, Infinity lifts a count limit, 0 turns a timeout off', () => {
    expect(new IProtoServer().limits).toEqual({
      maxFrameSize: 16 * 1024 * 1024,
      maxConnections: 10_000,
      maxInFlight: 1000,
      maxReplyBuffer: 64 * 1024 * 1024,
      frameTimeout: 30_000,
      idleTimeout: 0,
      handlerTimeout: 0,
      highWaterMark: undefined,
    });
    expect([
      DEFAULT_MAX_CONNECTIONS,
      DEFAULT_MAX_IN_FLIGHT,
      DEFAULT_MAX_REPLY_BUFFER,
      DEFAULT_FRAME_TIMEOUT,
      DEFAULT_IDLE_TIMEOUT,
      DEFAULT_HANDLER_TIMEOUT,
    ]).toEqual([10_000, 1000, 64 * 1024 * 1024, 30_000, 0, 0]);
    const lifted = new IProtoServer({
      maxFrameSize: 0,
      maxConnections: Number.POSITIVE_INFINITY,
      maxInFlight: Number.POSITIVE_INFINITY,
      maxReplyBuffer: 0,
      frameTimeout: 0,
      highWaterMark: 0,
    }).limits;
    expect(lifted).toMatchObject({
      maxFrameSize: 0,
      maxConnections: Number.POSITIVE_INFINITY,
      frameTimeout: 0,
    });
  });
});

describe('maxConnections', () => {
  test('3 connections are served; a 4th is closed on arrival, counted and reported by drop; a slot freed takes the next', async () => {
    const { server, port } = await start({ maxConnections: 3, handler: (request) => request.body });
    const drops: ServerError[] = [];
    server.on('drop', (error) => drops.push(error));
    const accepted = [await client(port), await client(port), await client(port)];
    await waitFor(() => server.connections.size === 3, 'three connections');
    for (const [i, c] of accepted.entries()) {
      c.write(frame(1, i, 'in'));
      expect(await c.bytes(14)).toEqual(frame(1, i, 'in'));
    }
    const extra = await client(port);
    const extraPort = extra.socket.localPort;
    extra.write(frame(1, 9, 'over'));
    await extra.waitClosed();
    expect(extra.received.length).toBe(0);
    expect(server.droppedConnections).toBe(1);
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ name: 'ServerError', code: 'ERR_MAX_CONNECTIONS' });
    expect(drops[0].message).toBe(
      `127.0.0.1:${extraPort}: connection closed on arrival, maxConnections (3) are open`,
    );
    expect(server.connections.size).toBe(3);
    // One leaves: the next connection is accepted again.
    accepted[0].socket.end();
    await waitFor(() => server.connections.size === 2, 'the slot to free');
    const next = await client(port);
    next.write(frame(1, 10, 'again'));
    expect(await next.bytes(17)).toEqual(frame(1, 10, 'again'));
    expect(server.droppedConnections).toBe(1);
  });
});

describe('maxInFlight', () => {
  test('reading pauses when 3 requests wait for their handlers (maxInFlight 3), not at 2; the next is read when one answers', async () => {
    const gates: ReturnType<typeof deferred<string>>[] = [];
    const { server, port } = await start({
      maxInFlight: 3,
      handler: () => {
        const gate = deferred<string>();
        gates.push(gate);
        return gate.promise;
      },
    });
    const c = await client(port);
    c.write(frame(1, 1), frame(1, 2));
    await waitFor(() => gates.length === 2, 'two handlers');
    const connection = connectionOf(server, c.socket.localPort!);
    // Limit - 1: still reading.
    expect(connection.inFlight).toBe(2);
    expect(connection.paused).toBe(false);
    c.write(frame(1, 3), frame(1, 4), frame(1, 5));
    await waitFor(() => gates.length === 3, 'three handlers');
    await sleep(50);
    // At the limit: reading paused, the 4th and 5th wait unread by any handler.
    expect(gates).toHaveLength(3);
    expect(connection.inFlight).toBe(3);
    expect(connection.paused).toBe(true);
    expect(connection.socket.isPaused()).toBe(true);
    gates[1].resolve('two');
    await waitFor(() => gates.length === 4, 'the 4th handler');
    expect(await c.bytes(15)).toEqual(frame(1, 2, 'two'));
    await sleep(30);
    expect(gates).toHaveLength(4);
    expect(connection.paused).toBe(true);
    for (const gate of gates) gate.resolve('x');
    await waitFor(() => gates.length === 5, 'the 5th handler');
    gates[4].resolve('five');
    await c.bytes(15 + 4 * 13);
    expect(connection.inFlight).toBe(0);
    expect(connection.paused).toBe(false);
  });

  test('a rejection and a handler timeout free their slots too', async () => {
    const { server, port } = await start({
      maxInFlight: 1,
      handlerTimeout: 100,
      handler: (request) =>
        request.sync === 1
          ? Promise.reject(new Error('no'))
          : request.sync === 2
            ? new Promise(() => {})
            : 'ok',
    });
    const { errors } = record(server);
    const c = await client(port);
    c.write(frame(1, 1), frame(1, 2), frame(1, 3));
    expect(await c.bytes(14)).toEqual(frame(1, 3, 'ok'));
    expect(errors.map((e) => [e.code, e.sync])).toEqual([
      ['ERR_HANDLER_FAILED', 1],
      ['ERR_HANDLER_TIMEOUT', 2],
    ]);
  });
});

describe('maxReplyBuffer', () => {
  /**
   * A connection whose socket is corked, so that nothing reaches the kernel: every reply written
   * counts in `writableLength`, as it does once a client that does not read has filled the kernel's
   * buffers. The handler answers `size` bytes of body (frames of 12 + size bytes).
   */
  async function corked(maxReplyBuffer: number) {
    const { server, port } = await start({
      maxReplyBuffer,
      handler: (request) => Buffer.alloc(Buffer.from(request.body).readUInt32LE(0), 1),
    });
    const { errors, disconnects } = record(server);
    server.on('accept', (connection) => connection.socket.cork());
    const c = await client(port);
    await waitFor(() => server.connections.size === 1, 'accept');
    const connection = [...server.connections][0];
    const ask = async (sync: number, size: number): Promise<void> => {
      const body = Buffer.alloc(4);
      body.writeUInt32LE(size);
      const before = connection.socket.writableLength;
      c.write(frame(1, sync, body));
      await waitFor(() => connection.closed || connection.socket.writableLength > before, `reply ${sync}`);
    };
    return { server, connection, errors, disconnects, ask, c };
  }

  test('replies left unread up to maxReplyBuffer (1022 bytes), the next one counted, are kept; 1 byte more closes the connection at that reply', async () => {
    // Exactly at the limit: 1000 bytes wait and the next reply (22) makes 1022, still written.
    const at = await corked(1022);
    await at.ask(1, 988);
    expect(at.connection.socket.writableLength).toBe(1000);
    await at.ask(2, 10);
    expect(at.connection.closed).toBe(false);
    expect(at.connection.socket.writableLength).toBe(1022);
    expect(at.errors).toEqual([]);

    // The same replies with maxReplyBuffer 1021: the second would make 1022.
    const over = await corked(1021);
    await over.ask(1, 988);
    await over.ask(2, 10);
    await waitFor(() => over.disconnects.length === 1, 'disconnect');
    expect(over.connection.closed).toBe(true);
    expect(over.errors).toHaveLength(1);
    expect(over.errors[0]).toMatchObject({ name: 'ServerError', code: 'ERR_REPLY_BUFFER_FULL' });
    expect(over.errors[0].message).toBe(
      `${over.connection.address}: 1000 bytes of replies not taken by the client and 22 more to send, maxReplyBuffer is 1021; connection closed`,
    );
    expect(over.disconnects[0]).toBe(over.errors[0]);
  });

  test('one reply larger than maxReplyBuffer to a client that reads is sent whole', async () => {
    const { port } = await start({ maxReplyBuffer: 1024, handler: () => Buffer.alloc(4 * 1024 * 1024, 7) });
    const c = await client(port);
    c.write(frame(1, 1));
    const bytes = await c.bytes(12 + 4 * 1024 * 1024);
    expect(bytes.subarray(0, 12)).toEqual(frame(1, 1, Buffer.alloc(4 * 1024 * 1024)).subarray(0, 12));
  });

  test('a client that never reads while async replies keep coming is closed with ERR_REPLY_BUFFER_FULL', async () => {
    const reply = Buffer.alloc(256 * 1024, 3);
    const { server, port } = await start({
      maxReplyBuffer: 2 * 1024 * 1024,
      handler: async () => {
        await sleep(20);
        return reply;
      },
    });
    const { errors, disconnects } = record(server);
    const c = await client(port);
    c.socket.pause();
    c.write(...Array.from({ length: 200 }, (_, i) => frame(1, i)));
    await waitFor(() => disconnects.length === 1, 'the connection to be closed', 20_000);
    expect(errors.map((e) => e.code)).toEqual(['ERR_REPLY_BUFFER_FULL']);
    expect(disconnects[0]).toBe(errors[0]);
  });

  // Regression: replies of async handlers settle in one microtask run and were all gathered before
  // the end-of-tick flush, which checked only what was left from before: 1000 replies of 60 KiB made
  // 58.6 MiB per connection with maxReplyBuffer at 1 MiB.
  test('replies of async handlers that settle together are held to maxReplyBuffer and the high-water mark', async () => {
    const reply = Buffer.alloc(60 * 1024, 7);
    const { server, port } = await start({ maxReplyBuffer: 1024 * 1024, handler: async () => reply });
    const { errors, disconnects } = record(server);
    let peak = 0;
    server.on('accept', (connection) => {
      // The most that was ever waiting in Node's buffer, measured just before each write.
      const write = connection.socket.write.bind(connection.socket) as (chunk: Uint8Array) => boolean;
      connection.socket.write = ((chunk: Uint8Array) => {
        peak = Math.max(peak, connection.socket.writableLength + chunk.length);
        return write(chunk);
      }) as typeof connection.socket.write;
    });
    const c = await client(port);
    c.socket.pause();
    c.write(...Array.from({ length: 1000 }, (_, i) => frame(1, i)));
    await waitFor(() => disconnects.length === 1, 'the connection to be closed');
    expect(errors.map((e) => e.code)).toEqual(['ERR_REPLY_BUFFER_FULL']);
    expect(disconnects[0]).toBe(errors[0]);
    expect(peak).toBeLessThanOrEqual(1024 * 1024);
  });
});

describe('frameTimeout', () => {
  test('a frame finished within frameTimeout is answered; one left unfinished is dropped after it with ERR_FRAME_TIMEOUT', async () => {
    const { server, port } = await start({ frameTimeout: 400, handler: (request) => request.body });
    const { errors, disconnects } = record(server);
    const request = frame(1, 1, 'finished in time');
    const ontime = await client(port);
    const late = await client(port);
    const latePort = late.socket.localPort;
    const started = Date.now();
    ontime.write(request.subarray(0, 14));
    late.write(request.subarray(0, 14));
    await sleep(150);
    ontime.write(request.subarray(14));
    expect(await ontime.bytes(request.length)).toEqual(request);
    await late.waitClosed();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(late.received.length).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_FRAME_TIMEOUT', address: `127.0.0.1:${latePort}` });
    expect(errors[0].message).toMatch(
      /: a frame started \d+ ms ago is unfinished \(14 bytes of it received\), frameTimeout is 400 ms; connection closed$/,
    );
    expect(disconnects).toEqual([errors[0]]);
    // The punctual client is still served.
    ontime.write(frame(2, 2, 'again'));
    expect(await ontime.bytes(request.length + 17)).toEqual(Buffer.concat([request, frame(2, 2, 'again')]));
  });

  test('bytes that keep coming do not reset the clock: one byte every 50 ms of a 12-byte header is dropped', async () => {
    const { server, port } = await start({ frameTimeout: 300, handler: (request) => request.body });
    const { errors } = record(server);
    const c = await client(port);
    const header = frame(1, 1, 'x').subarray(0, 12);
    const started = Date.now();
    for (let i = 0; i < 11 && !c.closed; i++) {
      c.write(header.subarray(i, i + 1));
      await sleep(50);
    }
    await c.waitClosed();
    expect(Date.now() - started).toBeLessThan(550 + 1000);
    expect(errors.map((e) => e.code)).toEqual(['ERR_FRAME_TIMEOUT']);
  });

  test('whole frames sent slowly are not a slow frame', async () => {
    const { server, port } = await start({ frameTimeout: 150, handler: (request) => request.body });
    const { errors } = record(server);
    const c = await client(port);
    for (let i = 0; i < 5; i++) {
      c.write(frame(1, i, 'x'));
      await sleep(80);
    }
    expect(await c.bytes(5 * 13)).toHaveLength(65);
    expect(errors).toEqual([]);
    expect(c.closed).toBe(false);
  });

  test('the clock stops while the server is not reading (maxInFlight reached): a frame waiting behind a slow handler is not dropped', async () => {
    const { server, port } = await start({
      frameTimeout: 300,
      maxInFlight: 1,
      handler: async (request) => {
        if (request.sync === 1) await sleep(700);
        return request.body;
      },
    });
    const { errors } = record(server);
    const c = await client(port);
    const second = frame(1, 2, 'second');
    c.write(frame(1, 1, 'first'), second.subarray(0, 5));
    await sleep(100);
    c.write(second.subarray(5));
    expect(await c.bytes(17 + 18)).toEqual(Buffer.concat([frame(1, 1, 'first'), second]));
    expect(errors).toEqual([]);
  });
});

describe('idleTimeout', () => {
  test('a silent connection is closed after idleTimeout (ERR_IDLE_TIMEOUT on disconnect, not an error); one that keeps sending is not', async () => {
    const { server, port } = await start({ idleTimeout: 300, handler: (request) => request.body });
    const { errors, disconnects } = record(server);
    const started = Date.now();
    const silent = await client(port);
    const busy = await client(port);
    for (let i = 0; i < 8; i++) {
      busy.write(frame(1, i));
      await sleep(100);
    }
    // 800 ms: the silent one went after ~300 ms, the busy one is still there.
    await silent.waitClosed();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(busy.closed).toBe(false);
    expect(await busy.bytes(8 * 12)).toHaveLength(96);
    expect(errors).toEqual([]);
    expect(disconnects).toHaveLength(1);
    expect(disconnects[0]).toMatchObject({ name: 'ServerError', code: 'ERR_IDLE_TIMEOUT' });
    expect((disconnects[0] as Error).message).toMatch(
      /^127\.0\.0\.1:\d+: nothing received for \d+ ms, idleTimeout is 300 ms; connection closed$/,
    );
    // The busy one goes quiet: closed in its turn.
    await busy.waitClosed();
  });

  test('a request in progress is not idleness: the reply comes after idleTimeout, and the idle time starts then', async () => {
    const { server, port } = await start({
      idleTimeout: 200,
      handler: async () => {
        await sleep(600);
        return 'slow';
      },
    });
    const { disconnects } = record(server);
    const c = await client(port);
    c.write(frame(1, 1));
    expect(await c.bytes(16)).toEqual(frame(1, 1, 'slow'));
    const answered = Date.now();
    await c.waitClosed();
    expect(Date.now() - answered).toBeGreaterThanOrEqual(150);
    expect(disconnects[0]).toMatchObject({ code: 'ERR_IDLE_TIMEOUT' });
  });
});

describe('idleTimeout and a client that does not read', () => {
  // Regression: a client whose unread replies paused reading stopped the clock with it, so a client
  // that sent a burst and never read was never timed out.
  test('a client that never takes its replies is closed after idleTimeout (ERR_IDLE_TIMEOUT)', async () => {
    const { server, port } = await start({
      idleTimeout: 300,
      frameTimeout: 300,
      handler: () => Buffer.alloc(1024),
    });
    const { errors, disconnects } = record(server);
    const c = await client(port);
    c.socket.pause();
    c.write(...Array.from({ length: 20_000 }, (_, i) => frame(1, i)));
    await waitFor(
      () => server.connections.size === 1 && [...server.connections][0].paused,
      'reading to pause',
    );
    await waitFor(() => disconnects.length === 1, 'the connection to be closed', 5000);
    expect(errors).toEqual([]);
    expect(disconnects[0]).toMatchObject({ name: 'ServerError', code: 'ERR_IDLE_TIMEOUT' });
    expect((disconnects[0] as Error).message).toMatch(
      /: nothing received and no reply taken for \d+ ms \(\d+ bytes of replies waiting\), idleTimeout is 300 ms; connection closed$/,
    );
  });

  test('a client that takes its replies slowly is not idle; stopReading() still suspends the clock', async () => {
    const size = 16 * 1024;
    const { server, port } = await start({ idleTimeout: 600, handler: () => Buffer.alloc(size) });
    const { disconnects } = record(server);
    const c = await client(port);
    c.socket.pause();
    const count = 4000;
    const total = count * (12 + size);
    c.write(...Array.from({ length: count }, (_, i) => frame(1, i)));
    await waitFor(
      () => server.connections.size === 1 && [...server.connections][0].paused,
      'reading to pause',
    );
    // Take 1 MiB every 50 ms: the server sees replies taken (as the kernel's buffers make room) well
    // within idleTimeout, although its reading is paused most of the time.
    const take = (bytes: number) =>
      new Promise<void>((resolve) => {
        let taken = 0;
        const onData = (chunk: Buffer) => {
          taken += chunk.length;
          if (taken < bytes) return;
          c.socket.pause();
          c.socket.off('data', onData);
          resolve();
        };
        c.socket.on('data', onData);
        c.socket.resume();
      });
    const started = Date.now();
    while (Date.now() - started < 1000 && c.received.length < total / 2) {
      await take(1024 * 1024);
      await sleep(50);
    }
    expect(disconnects).toEqual([]);
    c.socket.resume();
    await c.bytes(total);
    expect(disconnects).toEqual([]);

    // The server holding reading back is not the client's idleness.
    const connection = [...server.connections][0];
    connection.stopReading();
    await sleep(1000);
    expect(connection.closed).toBe(false);
    connection.resumeReading();
    await c.waitClosed();
    expect(disconnects[0]).toMatchObject({ code: 'ERR_IDLE_TIMEOUT' });
  });
});

describe('handlerTimeout', () => {
  test('a handler that answers within handlerTimeout is replied to; one that does not gets no reply and ERR_HANDLER_TIMEOUT', async () => {
    const late = deferred<string>();
    const { server, port } = await start({
      handlerTimeout: 200,
      handler: async (request) => {
        if (request.sync === 1) {
          await sleep(20);
          return 'in time';
        }
        return late.promise;
      },
    });
    const { errors } = record(server);
    const c = await client(port);
    const started = Date.now();
    c.write(frame(1, 1), frame(1, 2));
    expect(await c.bytes(19)).toEqual(frame(1, 1, 'in time'));
    await waitFor(() => errors.length === 1, 'the timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const connection = [...server.connections][0];
    expect(errors[0]).toMatchObject({
      code: 'ERR_HANDLER_TIMEOUT',
      msg: 1,
      sync: 2,
      address: connection.address,
    });
    expect(errors[0].message).toBe(
      `handler for msg 1 sync 2 from ${connection.address} did not answer within 200 ms; no reply sent`,
    );
    expect(connection.inFlight).toBe(0);
    // Its answer, when it comes, is dropped; the connection stays.
    late.resolve('too late');
    await sleep(50);
    expect(c.received).toEqual(frame(1, 1, 'in time'));
    expect(connection.closed).toBe(false);
    expect(errors).toHaveLength(1);
  });
});

describe('close() leaves nothing alive', () => {
  test('every timer of every limit is cleared and every socket closed', async () => {
    const timers = new Map<number, string>();
    const hook = createHook({
      init(asyncId, type) {
        if (type === 'Timeout') timers.set(asyncId, type);
      },
      destroy(asyncId) {
        timers.delete(asyncId);
      },
    });
    const { server, port } = await start({
      idleTimeout: 60_000,
      frameTimeout: 60_000,
      handlerTimeout: 60_000,
      handler: () => new Promise(() => {}),
    });
    hook.enable();
    try {
      const a = await client(port);
      const b = await client(port);
      a.write(frame(1, 1), frame(1, 2));
      b.write(frame(1, 3).subarray(0, 7));
      await waitFor(() => server.connections.size === 2, 'two connections');
      await waitFor(() => [...server.connections].some((c) => c.inFlight === 2), 'two requests in flight');
      await server.close();
      await a.waitClosed();
      await b.waitClosed();
      await sleep(20);
      await new Promise((resolve) => setImmediate(resolve));
      expect([...timers.values()]).toEqual([]);
    } finally {
      hook.disable();
    }
    const live = process.getActiveResourcesInfo();
    expect(live.filter((type) => type === 'TCPServerWrap')).toHaveLength(0);
  });
});
