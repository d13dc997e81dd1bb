import { type EventEmitter, once } from 'node:events';
import { connect } from 'node:net';
import type { Frame } from '@iproto/framing';
import { afterEach, describe, expect, test } from 'vitest';
import { IProtoServer, type IProtoServerOptions } from '../src/iproto-server.js';
import type { ServerConnection } from '../src/server-connection.js';
import { ServerError } from '../src/server-error.js';
import { frame, Started, waitFor } from './support/test-support.js';

const started = new Started();
const { servers } = started;
afterEach(() => started.cleanup());

const start = (options: IProtoServerOptions = {}) => started.server(options);
const client = (port: number) => started.client(port);

function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The length of every socket write the server makes, on each connection accepted from now on. */
function recordWrites(server: IProtoServer): number[] {
  const writes: number[] = [];
  server.on('accept', (connection) => {
    const socket = connection.socket;
    const write = socket.write.bind(socket) as (chunk: Uint8Array) => boolean;
    socket.write = ((chunk: Uint8Array) => {
      writes.push(chunk.length);
      return write(chunk);
    }) as typeof socket.write;
  });
  return writes;
}

describe('IProtoServer', () => {
  test('listen() resolves to the bound 127.0.0.1 address and port', async () => {
    const { server, port } = await start();
    expect(port).toBeGreaterThan(0);
    expect(server.boundAddress).toEqual({ host: '127.0.0.1', port });
    expect(server.listening).toBe(true);
  });

  test('listen() rejects when the port is taken', async () => {
    const { port } = await start();
    const other = new IProtoServer();
    const errors: Error[] = [];
    other.on('error', (error) => errors.push(error));
    await expect(other.listen(port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(errors).toEqual([]);
    await other.close();
  });

  test('listen() with a bad port rejects with a RangeError, and the server can still listen', async () => {
    const server = new IProtoServer();
    servers.push(server);
    await expect(server.listen(70_000)).rejects.toThrow(RangeError);
    const { port } = await server.listen();
    expect(port).toBeGreaterThan(0);
  });

  test('close() during listen() leaves nothing listening, and listen() rejects', async () => {
    const server = new IProtoServer();
    const listening = server.listen();
    await server.close();
    await expect(listening).rejects.toThrow(/closed while starting to listen on 127\.0\.0\.1:0/);
    expect(server.listening).toBe(false);
  });

  test('answers with the request msg and sync and the handler body, byte for byte', async () => {
    const seen: Frame[] = [];
    const { port } = await start({
      handler: (request) => {
        seen.push({ ...request, body: Buffer.from(request.body) });
        return Buffer.concat([Buffer.from('re:'), request.body]);
      },
    });
    const c = await client(port);
    c.write(frame(17, 0xfffffffe, 'abc'), frame(0xff00, 7), frame(1, 2, Buffer.alloc(70_000, 1)));
    const expected = Buffer.concat([
      frame(17, 0xfffffffe, 're:abc'),
      frame(0xff00, 7, 're:'),
      frame(1, 2, Buffer.concat([Buffer.from('re:'), Buffer.alloc(70_000, 1)])),
    ]);
    expect(await c.bytes(expected.length)).toEqual(expected);
    expect(seen.map(({ msg, sync, body }) => [msg, sync, body.length])).toEqual([
      [17, 0xfffffffe, 3],
      [0xff00, 7, 0],
      [1, 2, 70_000],
    ]);
  });

  test('a request split into single bytes is answered once it is complete', async () => {
    const { port } = await start({ handler: (request) => request.body });
    const c = await client(port);
    const bytes = frame(5, 6, 'split me');
    for (const byte of bytes) {
      c.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await c.bytes(bytes.length)).toEqual(bytes);
  });

  test('a long stream of frames written in random pieces is echoed exactly, in order', async () => {
    const { port } = await start({ handler: (request) => request.body });
    const c = await client(port);
    // A fixed seed keeps a failure reproducible.
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const frames: Buffer[] = [];
    for (let i = 0; i < 2000; i++) {
      const size = random(10) === 0 ? random(40_000) : random(64);
      frames.push(frame(random(2 ** 16), i, Buffer.alloc(size, i & 0xff)));
    }
    const stream = Buffer.concat(frames);
    for (let at = 0; at < stream.length; ) {
      const piece = 1 + random(random(4) === 0 ? 30_000 : 300);
      c.write(stream.subarray(at, at + piece));
      at += piece;
      if (random(8) === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const received = await c.bytes(stream.length, 30_000);
    expect(received.equals(stream)).toBe(true);
  });

  test('a string reply is sent as UTF-8', async () => {
    const { port } = await start({ handler: () => 'привет' });
    const c = await client(port);
    c.write(frame(3, 4));
    const expected = frame(3, 4, Buffer.from('привет', 'utf8'));
    expect(await c.bytes(expected.length)).toEqual(expected);
  });

  test('routes by msg code with on(msg) and falls back to the default handler', async () => {
    const server = new IProtoServer({ handler: (request) => `default ${request.msg}` });
    servers.push(server);
    server.on(10, () => 'ten').on(20, async () => 'twenty');
    server.route(30, () => 'thirty');
    server.route(30, undefined);
    const { port } = await server.listen();
    const c = await client(port);
    c.write(frame(10, 1), frame(20, 2), frame(30, 3), frame(40, 4));
    const expected = Buffer.concat([
      frame(10, 1, 'ten'),
      frame(30, 3, 'default 30'),
      frame(40, 4, 'default 40'),
      frame(20, 2, 'twenty'),
    ]);
    // The async route answers a tick later than the synchronous ones.
    expect(await c.bytes(expected.length)).toEqual(expected);
  });

  test('off(msg, handler) removes the route, addListener(msg) adds one, once(msg) is refused', async () => {
    const server = new IProtoServer({ handler: (request) => `default ${request.msg}` });
    servers.push(server);
    const ten = () => 'ten';
    server.addListener(10, ten).on(20, () => 'twenty');
    // Another handler is not the one routed there: the route stays.
    server.off(20, () => 'other');
    server.off(10, ten);
    // Plain JavaScript can call once(msg, ...): a route serves every request, so it is refused.
    const untyped = server as unknown as { once(event: unknown, listener: unknown): unknown };
    expect(() => untyped.once(30, () => 'thirty')).toThrow(TypeError);
    expect(() => untyped.once(30, () => 'thirty')).toThrow(/once\(30, \.\.\.\) cannot route msg 30/);
    const { port } = await server.listen();
    const c = await client(port);
    c.write(frame(10, 1), frame(20, 2), frame(30, 3), frame(30, 4));
    const expected = Buffer.concat([
      frame(10, 1, 'default 10'),
      frame(20, 2, 'twenty'),
      frame(30, 3, 'default 30'),
      frame(30, 4, 'default 30'),
    ]);
    expect(await c.bytes(expected.length)).toEqual(expected);
    // Event names still work through once/off.
    let closed = 0;
    const onClose = () => closed++;
    server.once('close', onClose);
    server.off('close', onClose);
    await server.close();
    expect(closed).toBe(0);
  });

  test('on() with a string or symbol still registers an EventEmitter listener', async () => {
    const server = new IProtoServer({ handler: () => undefined });
    servers.push(server);
    const accepted: ServerConnection[] = [];
    const tag = Symbol('tag');
    let tagged = 0;
    server.on('accept', (connection) => accepted.push(connection));
    // The types take only the server's events (IProtoServerEvents); at run time any name still works.
    const emitter: EventEmitter = server;
    emitter.on(tag, () => tagged++);
    emitter.emit(tag);
    const { port } = await server.listen();
    const c = await client(port);
    await waitFor(() => accepted.length === 1, 'accept');
    expect(tagged).toBe(1);
    expect(accepted[0].host).toBe('127.0.0.1');
    expect(accepted[0].port).toBe(c.socket.localPort);
    expect(accepted[0].address).toBe(`127.0.0.1:${c.socket.localPort}`);
    expect([...server.connections]).toEqual(accepted);
  });

  test('on(msg) rejects a msg code that does not fit in 32 bits', () => {
    const server = new IProtoServer();
    expect(() => server.on(-1, () => 'x')).toThrow(RangeError);
    expect(() => server.on(2 ** 32, () => 'x')).toThrow(RangeError);
    expect(() => server.on(1.5, () => 'x')).toThrow(RangeError);
  });

  test('a handler returning undefined answers nothing', async () => {
    const { port } = await start({ handler: (request) => (request.msg === 1 ? undefined : request.body) });
    const c = await client(port);
    c.write(frame(1, 1, 'no reply'), frame(2, 2, 'reply'));
    await c.bytes(17);
    // Nothing precedes or follows the one reply.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(c.received).toEqual(frame(2, 2, 'reply'));
  });

  test('replies on one connection complete out of order', async () => {
    const slow = deferred<string>();
    const { port } = await start({ handler: (request) => (request.msg === 1 ? slow.promise : 'fast') });
    const c = await client(port);
    c.write(frame(1, 100), frame(2, 200));
    expect(await c.bytes(16)).toEqual(frame(2, 200, 'fast'));
    slow.resolve('slow');
    expect(await c.bytes(32)).toEqual(Buffer.concat([frame(2, 200, 'fast'), frame(1, 100, 'slow')]));
  });

  test('a throwing handler answers nothing and is reported as ERR_HANDLER_FAILED', async () => {
    const { server, port } = await start({
      handler: (request) => {
        if (request.msg === 1) throw new Error('boom');
        return 'ok';
      },
    });
    const errors: [Error, ServerConnection | undefined][] = [];
    server.on('error', (error, connection) => errors.push([error, connection]));
    const c = await client(port);
    c.write(frame(1, 11), frame(2, 22));
    expect(await c.bytes(14)).toEqual(frame(2, 22, 'ok'));
    expect(errors).toHaveLength(1);
    const [error, connection] = errors[0];
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ code: 'ERR_HANDLER_FAILED', msg: 1, sync: 11, name: 'ServerError' });
    expect((error as ServerError).cause).toMatchObject({ message: 'boom' });
    expect(error.message).toBe(`handler for msg 1 sync 11 from ${connection!.address} failed: boom`);
    expect((error as unknown as Record<symbol, unknown>)[Symbol.for('iproto.error')]).toBe(true);
    expect(connection).toBe([...server.connections][0]);
  });

  test('a rejecting handler answers nothing and is reported', async () => {
    const { server, port } = await start({
      handler: async (request) => {
        if (request.msg === 1) throw new Error('async boom');
        return 'ok';
      },
    });
    const errors: Error[] = [];
    server.on('error', (error) => errors.push(error));
    const c = await client(port);
    c.write(frame(1, 1), frame(2, 2));
    expect(await c.bytes(14)).toEqual(frame(2, 2, 'ok'));
    await waitFor(() => errors.length === 1, 'the error event');
    expect(errors[0]).toMatchObject({ code: 'ERR_HANDLER_FAILED', msg: 1, sync: 1 });
    expect(errors[0].message).toMatch(/failed: async boom$/);
  });

  test('without an error listener a failing handler is silent: no crash, no unhandled rejection', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    try {
      const { port } = await start({
        handler: (request) => {
          if (request.msg === 1) throw new Error('sync');
          if (request.msg === 2) return Promise.reject(new Error('async'));
          return 'alive';
        },
      });
      const c = await client(port);
      c.write(frame(1, 1), frame(2, 2), frame(3, 3));
      expect(await c.bytes(17)).toEqual(frame(3, 3, 'alive'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  test('a handler returning something that is not a body is reported', async () => {
    const { server, port } = await start({ handler: () => 42 as unknown as string });
    const errors: Error[] = [];
    server.on('error', (error) => errors.push(error));
    const c = await client(port);
    c.write(frame(9, 9));
    await waitFor(() => errors.length === 1, 'the error event');
    expect(errors[0]).toMatchObject({ code: 'ERR_HANDLER_FAILED', msg: 9, sync: 9 });
    expect(errors[0].message).toMatch(/handler returned number/);
    expect(c.received.length).toBe(0);
  });

  test('a msg code with no route and no default handler is reported as ERR_NO_HANDLER', async () => {
    const server = new IProtoServer();
    servers.push(server);
    server.on(1, () => 'one');
    const errors: Error[] = [];
    server.on('error', (error) => errors.push(error));
    const { port } = await server.listen();
    const c = await client(port);
    c.write(frame(2, 5), frame(1, 6));
    expect(await c.bytes(15)).toEqual(frame(1, 6, 'one'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_NO_HANDLER', msg: 2, sync: 5 });
  });

  test("emits 'request' for every frame", async () => {
    const { server, port } = await start({ handler: () => undefined });
    const seen: number[] = [];
    server.on('request', (request) => seen.push(request.sync));
    const c = await client(port);
    c.write(frame(1, 1), frame(1, 2), frame(1, 3));
    await waitFor(() => seen.length === 3, 'three requests');
    expect(seen).toEqual([1, 2, 3]);
  });

  test('a frame over maxFrameSize closes that connection and is reported; earlier frames are answered', async () => {
    const { server, port } = await start({ maxFrameSize: 100, handler: (request) => request.body });
    const errors: Error[] = [];
    const disconnects: (Error | undefined)[] = [];
    server.on('error', (error) => errors.push(error));
    server.on('disconnect', (_connection, error) => disconnects.push(error));
    const other = await client(port);
    const c = await client(port);
    const tooLarge = Buffer.alloc(12);
    tooLarge.writeUInt32LE(7, 0);
    tooLarge.writeUInt32LE(101, 4);
    tooLarge.writeUInt32LE(8, 8);
    c.write(frame(1, 1, Buffer.alloc(100, 2)), tooLarge);
    await c.waitClosed();
    expect(c.received).toEqual(frame(1, 1, Buffer.alloc(100, 2)));
    await waitFor(() => disconnects.length === 1, 'disconnect');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', msg: 7, sync: 8 });
    expect(errors[0].message).toMatch(/announces 101 body bytes, maxFrameSize is 100; connection closed$/);
    expect((errors[0] as ServerError).cause).toMatchObject({
      name: 'FrameError',
      code: 'ERR_FRAME_TOO_LARGE',
    });
    expect(disconnects[0]).toBe(errors[0]);
    // The other connection is unaffected.
    other.write(frame(2, 2, 'still here'));
    expect(await other.bytes(22)).toEqual(frame(2, 2, 'still here'));
  });

  test('replies to the frames of one read go out in one write', async () => {
    const { server, port } = await start({ handler: (request) => request.body });
    const writes = recordWrites(server);
    let reads = 0;
    server.on('accept', (connection) => connection.socket.on('data', () => reads++));
    const c = await client(port);
    const requests = Array.from({ length: 100 }, (_, i) => frame(1, i, 'twelve bytes'));
    c.write(...requests);
    const expected = Buffer.concat(requests);
    expect(await c.bytes(expected.length)).toEqual(expected);
    expect(writes.length).toBeLessThanOrEqual(reads);
    expect(writes.reduce((a, b) => a + b, 0)).toBe(expected.length);
  });

  test('async replies that settle in the same tick go out in one write', async () => {
    const gate = deferred<void>();
    let waiting = 0;
    const { server, port } = await start({
      handler: async (request) => {
        waiting++;
        await gate.promise;
        return request.body;
      },
    });
    const writes = recordWrites(server);
    const c = await client(port);
    const requests = Array.from({ length: 50 }, (_, i) => frame(2, i, 'x'));
    c.write(...requests);
    await waitFor(() => waiting === requests.length, 'every request to reach the handler');
    gate.resolve();
    const expected = Buffer.concat(requests);
    expect(await c.bytes(expected.length)).toEqual(expected);
    expect(writes).toEqual([expected.length]);
  });

  test('stops reading while the client does not read its replies, and resumes on drain', async () => {
    const big = Buffer.alloc(256 * 1024, 7);
    let handled = 0;
    const { server, port } = await start({
      highWaterMark: 64 * 1024,
      handler: () => {
        handled++;
        return big;
      },
    });
    const c = await client(port);
    c.socket.pause();
    let sent = 0;
    const request = frame(1, 0, 'give me 256 KiB');
    const connection = (): ServerConnection => [...server.connections][0];
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    // Keep asking until the server has stopped reading for good: the client reads nothing, so once a
    // pause outlasts a loopback transfer both kernels' buffers are full and no drain will come.
    for (;;) {
      c.write(request);
      sent++;
      await sleep(2);
      if (connection()?.paused === true) {
        const before = handled;
        await sleep(50);
        if (connection().paused && handled === before) break;
      }
      if (sent > 500) throw new Error('the server never stopped reading');
    }
    expect(connection().socket.isPaused()).toBe(true);
    // Requests sent now are not read.
    const stalled = handled;
    c.write(request, request, request);
    sent += 3;
    await sleep(50);
    expect(handled).toBe(stalled);
    c.socket.resume();
    const replySize = 12 + big.length;
    await c.bytes(sent * replySize, 30_000);
    expect(handled).toBe(sent);
    expect(c.received.length).toBe(sent * replySize);
    expect(c.received.subarray(0, 12)).toEqual(frame(1, 0, big).subarray(0, 12));
    expect(connection().paused).toBe(false);
  });

  test('a client that hangs up emits disconnect without an error', async () => {
    const { server, port } = await start({ handler: () => undefined });
    const events: [ServerConnection, Error | undefined][] = [];
    server.on('disconnect', (connection, error) => events.push([connection, error]));
    const c = await client(port);
    await waitFor(() => server.connections.size === 1, 'accept');
    const connection = [...server.connections][0];
    c.socket.end();
    await waitFor(() => events.length === 1, 'disconnect');
    expect(events[0]).toEqual([connection, undefined]);
    expect(server.connections.size).toBe(0);
    expect(connection.closed).toBe(true);
  });

  test('a reply after the client left is dropped quietly', async () => {
    const later = deferred<string>();
    const { server, port } = await start({ handler: () => later.promise });
    const errors: Error[] = [];
    server.on('error', (error) => errors.push(error));
    const c = await client(port);
    c.write(frame(1, 1));
    await waitFor(() => server.connections.size === 1, 'accept');
    const connection = [...server.connections][0];
    c.socket.end();
    await waitFor(() => connection.closed, 'the connection to close');
    later.resolve('too late');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(connection.send(1, 1, Buffer.from('x'))).toBe(false);
    expect(errors).toEqual([]);
  });

  test('close() stops accepting, closes every connection, and resolves once they are gone', async () => {
    const { server, port } = await start({ handler: () => new Promise(() => {}) });
    const disconnects: ServerConnection[] = [];
    let closeEvents = 0;
    server.on('disconnect', (connection) => disconnects.push(connection));
    server.on('close', () => closeEvents++);
    const a = await client(port);
    const b = await client(port);
    a.write(frame(1, 1));
    await waitFor(() => server.connections.size === 2, 'two connections');
    const closing = server.close();
    expect(server.close()).toBe(closing);
    await closing;
    expect(server.connections.size).toBe(0);
    expect(disconnects).toHaveLength(2);
    expect(closeEvents).toBe(1);
    expect(server.listening).toBe(false);
    await a.waitClosed();
    await b.waitClosed();
    const refused = connect({ port, host: '127.0.0.1' });
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
  });

  test('listen() after close() is refused', async () => {
    const { server } = await start();
    await server.close();
    await expect(server.listen()).rejects.toThrow('IProtoServer: listen() after close()');
  });

  test('a client reset is reported as error and disconnect with ECONNRESET', async () => {
    const { server, port } = await start({ handler: () => undefined });
    const errors: NodeJS.ErrnoException[] = [];
    const disconnects: (Error | undefined)[] = [];
    server.on('error', (error) => errors.push(error));
    server.on('disconnect', (_connection, error) => disconnects.push(error));
    const c = await client(port);
    await waitFor(() => server.connections.size === 1, 'accept');
    c.socket.resetAndDestroy();
    await waitFor(() => disconnects.length === 1, 'disconnect');
    expect(errors.map((error) => error.code)).toEqual(['ECONNRESET']);
    expect(disconnects[0]).toBe(errors[0]);
  });

  test('close() leaves no socket, server or timer behind', async () => {
    const count = (): Record<string, number> => {
      const counts: Record<string, number> = {};
      for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
      return counts;
    };
    const before = count();
    const { server, port } = await start({ handler: () => new Promise(() => {}) });
    const a = await client(port);
    const b = await client(port);
    a.write(frame(1, 1));
    b.write(frame(1, 2));
    await waitFor(() => server.connections.size === 2, 'two connections');
    await server.close();
    await a.waitClosed();
    await b.waitClosed();
    a.destroy();
    b.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    const after = count();
    for (const type of ['TCPServerWrap', 'TCPSocketWrap', 'Timeout'])
      expect(after[type] ?? 0).toBeLessThanOrEqual(before[type] ?? 0);
  });

  test('close() on a server that never listened resolves', async () => {
    const server = new IProtoServer();
    let closed = false;
    server.on('close', () => {
      closed = true;
    });
    await server.close();
    expect(closed).toBe(true);
  });
});

describe('ServerConnection', () => {
  test('send() pushes a frame the client did not ask for; write() sends raw bytes after it', async () => {
    const { server, port } = await start({ handler: () => undefined });
    const c = await client(port);
    await waitFor(() => server.connections.size === 1, 'accept');
    const connection = [...server.connections][0];
    expect(connection.send(5, 6, Buffer.from('push'))).toBe(true);
    expect(connection.write(Buffer.from([1, 2, 3]))).toBe(true);
    const expected = Buffer.concat([frame(5, 6, 'push'), Buffer.from([1, 2, 3])]);
    expect(await c.bytes(expected.length)).toEqual(expected);
  });

  test('close() sends what is queued, then ends the connection', async () => {
    const { server, port } = await start({ handler: () => undefined });
    const c = await client(port);
    await waitFor(() => server.connections.size === 1, 'accept');
    const connection = [...server.connections][0];
    connection.send(1, 2, Buffer.from('bye'));
    connection.close();
    expect(connection.closed).toBe(true);
    await c.waitClosed();
    expect(c.received).toEqual(frame(1, 2, 'bye'));
    expect(c.error).toBeUndefined();
  });

  test('requests read before stopReading() wait for resumeReading(), in order', async () => {
    const { port } = await start({
      handler: (request, connection) => {
        if (request.msg === 1) {
          connection.stopReading();
          setTimeout(() => connection.resumeReading(), 30);
        }
        return request.body;
      },
    });
    const c = await client(port);
    c.write(frame(1, 1, 'stop'), frame(2, 2, 'held'), frame(3, 3, 'too'));
    const expected = Buffer.concat([frame(1, 1, 'stop'), frame(2, 2, 'held'), frame(3, 3, 'too')]);
    expect(await c.bytes(expected.length)).toEqual(expected);
  });

  test('stopReading() and resumeReading()', async () => {
    const { server, port } = await start({ handler: (request) => request.body });
    const c = await client(port);
    await waitFor(() => server.connections.size === 1, 'accept');
    const connection = [...server.connections][0];
    connection.stopReading();
    expect(connection.paused).toBe(true);
    c.write(frame(1, 1, 'later'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(c.received.length).toBe(0);
    connection.resumeReading();
    expect(await c.bytes(17)).toEqual(frame(1, 1, 'later'));
  });
});
