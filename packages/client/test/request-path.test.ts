// Issue 12, "One request path": a named regression test for each point a user met on the old path.
// Points 6 (address format) and 7 (write buffer in bytes) are held by @iproto/connection's tests,
// point 4's `balance` by @iproto/cluster's; this file holds what a client user sees.
import { AsyncLocalStorage } from 'node:async_hooks';
import { getEventListeners } from 'node:events';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { queryObjects } from 'node:v8';
import { Cluster } from '@iproto/cluster';
import { DispatchEntry } from '@iproto/connection';
import { afterEach, describe, expect, it } from 'vitest';
import { IProto } from '../src/iproto.js';
import { deferred, Fixture, oneServerCluster } from './support/test-helpers.js';

const fixture = new Fixture();
afterEach(() => fixture.cleanup());

function errorOf(promise: Promise<unknown>): Promise<any> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error) => error,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sockets of ours still open (the connections a client made), as Node counts them. */
const tcpHandles = () => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;

/** A TCP server that accepts and reads but never answers. */
async function silentServer(): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: NetServer = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('issue 12: one request path', () => {
  it('#12.1 a per-request timeout longer than the default is honoured', async () => {
    const [server] = await fixture.startServers(1);
    server.faults.add({ type: 'delay', ms: 600 }, { times: 1 });
    const client = fixture.client([server], { timeout: 200 });
    const started = Date.now();
    expect(await client.send({ msg: 7, data: [42], unpack: 'L' }, { timeout: 5000 })).toEqual([42]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
  });

  it('#12.2 an unanswered request does not fail an unrelated one before its own deadline', async () => {
    const [server] = await fixture.startServers(1);
    server.faults.add({ type: 'drop' }, { times: 1, msg: 1 });
    server.faults.add({ type: 'delay', ms: 700 }, { times: 1, msg: 2 });
    const client = fixture.client([server], { timeout: 300, maxRequestRetries: 1 });
    const first = errorOf(client.send({ msg: 1, data: [1], unpack: 'L' }));
    await sleep(150);
    const second = client.send({ msg: 2, data: [2], unpack: 'L' }, { timeout: 5000 });
    const error = await first;
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toMatch(/request timed out after 300 ms/);
    expect(await second).toEqual([2]);
  });

  it('#12.3 by default the client keeps its maxParallel requests on the wire to one server', async () => {
    const wanted = 256;
    const all = deferred();
    let arrived = 0;
    const [server] = await fixture.startServers(1, {
      handler: async (request) => {
        if (++arrived === wanted) all.resolve();
        await all.promise;
        return request.body;
      },
    });
    const client = fixture.client([server], { maxParallel: wanted });
    const replies = await Promise.all(
      Array.from({ length: wanted }, (_, n) => client.send({ msg: 7, data: [n], unpack: 'L' })),
    );
    expect(replies).toEqual(Array.from({ length: wanted }, (_, n) => [n]));
    expect(arrived).toBe(wanted);
    // Perl's 10 per server stays one explicit option away.
    const perlish = fixture.client([server], { clusterOptions: { maxParallel: 10 } });
    const conn = (perlish.cluster.servers[0] as unknown as { connection: { maxParallel: number } })
      .connection;
    expect(conn.maxParallel).toBe(10);
  });

  it.each([
    ['timeout', -1],
    ['timeout', Number.NaN],
    ['timeout', 'abc'],
    ['timeout', Number.POSITIVE_INFINITY],
    ['connectTimeout', -5],
    ['retryDelay', Number.NaN],
    ['maxParallel', 0],
    ['maxRequestRetries', 1.5],
    ['balance', 'hash'],
    ['balance', 'crc32'],
    ['balance', 'Hash-CRC32'],
  ])('#12.4 the constructor rejects %s: %s with ERR_INVALID_OPTION naming the option', (name, value) => {
    let thrown: any;
    try {
      new IProto({ servers: '127.0.0.1:1', [name]: value } as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown?.code).toBe('ERR_INVALID_OPTION');
    expect(thrown.message).toContain(name);
    expect(thrown.message).toContain(String(value));
  });

  it('#12.4 a bad per-request timeout fails that request with ERR_INVALID_OPTION, not a throw', async () => {
    const [server] = await fixture.startServers(1);
    const client = fixture.client([server]);
    for (const timeout of [-1, Number.NaN, 'abc']) {
      const error = await errorOf(client.send({ msg: 7, unpack: 'L' }, { timeout: timeout as number }));
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toContain('timeout');
    }
  });

  it.each([
    ['debug', 'x'],
    ['debug', -1],
    ['debugCb', 5],
  ])(
    'the client itself checks %s (%j), also with a cluster given: ERR_INVALID_OPTION from IProto',
    (name, value) => {
      const cluster = new Cluster({ servers: '127.0.0.1:1' });
      let thrown: any;
      try {
        new IProto({ cluster, [name]: value } as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown?.code).toBe('ERR_INVALID_OPTION');
      expect(thrown.message).toMatch(new RegExp(`^IProto: ${name} `));
    },
  );

  it('a signal that is not an AbortSignal fails that request alone, and close() still settles', async () => {
    const [server] = await fixture.startServers(1);
    const client = fixture.client([server]);
    const error = await errorOf(
      client.send({ msg: 7, data: [1], unpack: 'L' }, { signal: {} as AbortSignal }),
    );
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toContain('signal');
    expect(client.inProgress).toBe(0);
    expect(await client.send({ msg: 7, data: [2], unpack: 'L' })).toEqual([2]);
    await client.close();
  });

  it('a bad timeout set on a running client is refused, and requests keep working', async () => {
    const [server] = await fixture.startServers(1);
    const client = fixture.client([server]);
    expect(() => {
      client.timeout = -5;
    }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    const replies = await Promise.all([1, 2, 3].map((n) => client.send({ msg: 7, data: [n], unpack: 'L' })));
    expect(replies).toEqual([[1], [2], [3]]);
    expect(client.inProgress).toBe(0);
  });

  it('a server object whose dispatch throws fails the request through the client, never out of send', async () => {
    const boom = new Error('dispatch broke');
    const fake = {
      host: 'fake',
      port: 1,
      address: 'fake:1',
      active: true,
      dispatch: () => {
        throw boom;
      },
      send: async () => {
        throw new Error('not used');
      },
    };
    const cluster = oneServerCluster(fake, 100);
    const client = new IProto({ cluster, maxParallel: 1 });
    const first = client.send({ msg: 7, unpack: 'L', retry: false });
    const queued = client.send({ msg: 8, unpack: 'L', retry: false });
    expect(await errorOf(first)).toBe(boom);
    expect(await errorOf(queued)).toBe(boom);
    expect(client.inProgress).toBe(0);
    await client.close();
  });

  it("a request queued for a server object of the user's that has no timeout is not held to the connection's default", async () => {
    const { pack } = await import('@iproto/pack');
    const sent: { msg: number; timeout: number | undefined }[] = [];
    const fake = {
      host: 'fake',
      port: 1,
      address: 'fake:1',
      active: true,
      send: async (msg: number, _body: Uint8Array, options?: { timeout?: number }) => {
        sent.push({ msg, timeout: options?.timeout });
        // The first answer takes longer than the connection's default deadline (2000 ms).
        if (msg === 7) await sleep(2200);
        return { msg, sync: 1, body: pack('L', msg) };
      },
    };
    const cluster = oneServerCluster(fake);
    const client = new IProto({ cluster, maxParallel: 1 });
    const first = client.send({ msg: 7, unpack: 'L' });
    const queued = client.send({ msg: 8, unpack: 'L' });
    expect(await first).toEqual([7]);
    expect(await queued).toEqual([8]);
    // Its deadline is the server object's business: none is made up for it.
    expect(sent).toEqual([
      { msg: 7, timeout: undefined },
      { msg: 8, timeout: undefined },
    ]);
    await client.close();
  });

  it('#12.5 callbacks run in the async context of the caller, not of whoever opened the socket', async () => {
    const [server] = await fixture.startServers(1);
    server.faults.add({ type: 'delay', ms: 50 }, { times: 1 });
    const client = fixture.client([server]);
    const als = new AsyncLocalStorage<string>();
    // The first request opens the socket, in the context of 'opener'.
    await als.run('opener', () => client.send({ msg: 7, data: [1], unpack: 'L' }));
    const seen = await new Promise<(string | undefined)[]>((resolve) => {
      const stores: (string | undefined)[] = [];
      als.run('caller', () => {
        client.send({ msg: 7, data: [2], unpack: 'L' }, () => {
          stores.push(als.getStore());
          client.sendBulk([{ msg: 7, data: [3], unpack: 'L' }], () => {
            stores.push(als.getStore());
            resolve(stores);
          });
        });
      });
    });
    expect(seen).toEqual(['caller', 'caller']);
  });

  it("#12.5 the client's events about a request run in the caller's async context", async () => {
    const [server] = await fixture.startServers(1);
    const client = fixture.client([server]);
    const als = new AsyncLocalStorage<string>();
    // The first request opens the socket, in the context of 'opener': replies are read there.
    await als.run('opener', () => client.send({ msg: 7, data: [1], unpack: 'L' }));
    const seen: (string | undefined)[] = [];
    client.on('retry', () => seen.push(als.getStore()));
    /** A message the client tries twice: its first reply asks for a retry. */
    const twice = (n: number) => {
      let replies = 0;
      return { msg: 7, data: [n], unpack: 'L', isRetry: () => replies++ === 0 };
    };
    await als.run('promise', () => client.send(twice(2)));
    await new Promise<void>((resolve) => {
      als.run('callback', () => client.send(twice(3), () => resolve()));
    });
    await als.run('bulk', () => client.sendBulk([twice(4)]));
    expect(seen).toEqual(['promise', 'callback', 'bulk']);
  });

  it('one abort listener per request: the client while it queues, the connection once dispatched', async () => {
    const [server] = await fixture.startServers(1);
    server.faults.add({ type: 'drop' });
    const client = fixture.client([server], { maxParallel: 1, timeout: 0 });
    const first = new AbortController();
    const second = new AbortController();
    const running = errorOf(client.send({ msg: 7, data: [1], unpack: 'L' }, { signal: first.signal }));
    const queued = errorOf(client.send({ msg: 7, data: [2], unpack: 'L' }, { signal: second.signal }));
    await sleep(20);
    expect(getEventListeners(first.signal, 'abort')).toHaveLength(1);
    expect(getEventListeners(second.signal, 'abort')).toHaveLength(1);
    second.abort('second');
    first.abort('first');
    for (const [error, reason] of [
      [await running, 'first'],
      [await queued, 'second'],
    ] as const) {
      expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: reason });
      expect(error.message).toMatch(/request aborted, msg 7|^message 7: request aborted$/);
    }
    expect(getEventListeners(first.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(second.signal, 'abort')).toHaveLength(0);
  });

  it('one object per request, from send() down to the socket: the connection holds the request itself', async () => {
    const [server] = await fixture.startServers(1);
    server.faults.add({ type: 'delay', ms: 300 });
    const client = fixture.client([server], { maxParallel: 100 });
    await client.send({ msg: 7, data: [0], unpack: 'L' }, { timeout: 2000 }); // the socket is open
    // Every request object of the client and every entry of a connection is a DispatchEntry.
    const before = queryObjects(DispatchEntry, { format: 'count' });
    const sent = Array.from({ length: 50 }, (_, i) => client.send({ msg: 7, data: [i], unpack: 'L' }));
    expect(queryObjects(DispatchEntry, { format: 'count' }) - before).toBe(50);
    expect((await Promise.all(sent)).map(([n]) => n)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('a send with an already aborted signal takes no slot: maxParallel still holds after it', async () => {
    const [server] = await fixture.startServers(1);
    server.faults.add({ type: 'delay', ms: 300 }, { times: 2 });
    const client = fixture.client([server], { maxParallel: 1 });
    const first = client.send({ msg: 7, data: [1], unpack: 'L' });
    const aborted = await errorOf(
      client.send({ msg: 7, data: [2], unpack: 'L' }, { signal: AbortSignal.abort() }),
    );
    expect(aborted.name).toBe('AbortError');
    const third = client.send({ msg: 7, data: [3], unpack: 'L' });
    // The first request still holds the only slot: the third waits for it.
    expect(client.queued).toBe(1);
    expect(await first).toEqual([1]);
    expect(await third).toEqual([3]);
    expect(client.queued).toBe(0);
  });

  it("a request's deadline runs out while it waits in the client's queue: it fails then, not when a slot frees", async () => {
    const silent = await silentServer();
    // The first request has no deadline and is never answered: its slot never frees.
    const client = new IProto({ servers: silent.address, maxParallel: 1, timeout: 0 });
    const first = errorOf(client.send({ msg: 7, data: [1], unpack: 'L' }));
    const started = Date.now();
    const error = await errorOf(client.send({ msg: 7, data: [2], unpack: 'L' }, { timeout: 150 }));
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toMatch(/timed out after 150 ms waiting in the client's queue/);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(client.queued).toBe(0);
    expect(client.inProgress).toBe(1);
    client.destroy();
    expect((await first).code).toBe('ERR_CLIENT_DESTROYED');
    await silent.close();
  });

  it('waiting in the queue counts against the default deadline too (one deadline per request)', async () => {
    const [server] = await fixture.startServers(1);
    server.faults.add({ type: 'delay', ms: 500 }, { times: 1, msg: 7 });
    server.faults.add({ type: 'delay', ms: 1800 }, { times: 1, msg: 8 });
    // No timeout anywhere: the connection's default (2000 ms) is each request's deadline.
    const client = fixture.client([server], { maxParallel: 1 });
    expect(client.timeout).toBeUndefined();
    const first = client.send({ msg: 7, data: [1], unpack: 'L' });
    const second = errorOf(client.send({ msg: 8, data: [2], unpack: 'L' }));
    expect(await first).toEqual([1]);
    // Queued ~500 ms behind the first, it is sent with ~1500 ms left: the 1800 ms answer is late.
    const error = await second;
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toMatch(/timed out after 1[3-5]\d\d ms/);
  });

  it("requests of different timeouts in the client's queue each fail at their own deadline", async () => {
    const silent = await silentServer();
    const client = new IProto({ servers: silent.address, maxParallel: 1, timeout: 0 });
    const first = errorOf(client.send({ msg: 7, data: [1], unpack: 'L' }));
    const started = Date.now();
    const at = (timeout: number) =>
      errorOf(client.send({ msg: 7, data: [timeout], unpack: 'L' }, { timeout })).then((error) => ({
        code: error.code,
        after: Date.now() - started,
      }));
    // The short one between two of the same longer timeout: the run that finds it due must not
    // stop at the older, longer one in front of it.
    const [long, short, again] = await Promise.all([at(600), at(100), at(600)]);
    expect([long.code, short.code, again.code]).toEqual(['ETIMEDOUT', 'ETIMEDOUT', 'ETIMEDOUT']);
    expect(short.after).toBeLessThan(450);
    expect(long.after).toBeGreaterThanOrEqual(550);
    expect(again.after).toBeGreaterThanOrEqual(550);
    client.destroy();
    await first;
    await silent.close();
  });

  it('a callback that destroys the client while queued requests time out settles the rest, and nothing throws', async () => {
    const silent = await silentServer();
    const client = new IProto({ servers: silent.address, maxParallel: 1, timeout: 0 });
    client.send({ msg: 7, data: [1], unpack: 'L' }, () => {});
    const outcomes = await new Promise<string[]>((resolve) => {
      const seen: string[] = [];
      const record = (_reply: unknown, error: any) => {
        seen.push(error?.code);
        if (seen.length === 1) client.destroy();
        if (seen.length === 2) resolve(seen);
      };
      // Both fall due in the same run of the queue's timer.
      client.send({ msg: 7, data: [2], unpack: 'L' }, record, { timeout: 100 });
      client.send({ msg: 7, data: [3], unpack: 'L' }, record, { timeout: 100 });
    });
    expect(outcomes).toEqual(['ETIMEDOUT', 'ERR_CLIENT_DESTROYED']);
    expect(client.queued).toBe(0);
    await silent.close();
  });

  it('#12.8 close() with timeout 0 and a silent server settles within closeTimeout', async () => {
    const silent = await silentServer();
    const before = tcpHandles();
    const client = new IProto({ servers: silent.address, timeout: 0, closeTimeout: 200 });
    const pending = errorOf(client.send({ msg: 7, data: [1], unpack: 'L' }));
    await sleep(50);
    const started = Date.now();
    await client.close();
    expect(Date.now() - started).toBeLessThan(2000);
    const error = await pending;
    expect(error.code).toBe('ERR_CONNECTION_CLOSED');
    for (let i = 0; i < 100 && tcpHandles() > before; i++) await sleep(10);
    expect(tcpHandles()).toBeLessThanOrEqual(before);
    await silent.close();
  });

  it('#12.8 destroy(error) fails everything pending at once and releases every socket', async () => {
    const silent = await silentServer();
    const before = tcpHandles();
    const client = new IProto({ servers: silent.address, timeout: 0, maxParallel: 2 });
    const pending = Array.from({ length: 5 }, (_, n) =>
      errorOf(client.send({ msg: 7, data: [n], unpack: 'L' })),
    );
    await sleep(50);
    const reason = new Error('shutting down');
    client.destroy(reason);
    const errors = await Promise.all(pending);
    for (const error of errors) expect(error).toBe(reason);
    expect(client.closed).toBe(true);
    expect((await errorOf(client.send({ msg: 7, unpack: 'L' }))).code).toBe('ERR_CLIENT_CLOSED');
    for (let i = 0; i < 100 && tcpHandles() > before; i++) await sleep(10);
    expect(tcpHandles()).toBeLessThanOrEqual(before);
    await client.close();
    await silent.close();
  });
});
