import { IProto } from '@iproto/client';
import { Connection } from '@iproto/connection';
import { DEFAULT_MAX_FRAME_SIZE, FrameDecoder } from '@iproto/framing';
import { ServerError } from '@iproto/server';
import { startTestServer, type TestServer } from '@iproto/server/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { expectDocumented } from '../support/reliability.js';

const MiB = 1024 * 1024;

/** A server that holds every reply until the test releases it: in-flight counts stay put. */
async function holdingServer() {
  const held: (() => void)[] = [];
  let answerAtOnce = false;
  const server = await startTestServer({
    handler: (request) =>
      answerAtOnce
        ? request.body
        : new Promise<Uint8Array>((resolve) => {
            held.push(() => resolve(request.body));
          }),
  });
  return {
    server,
    held,
    releaseOne() {
      held.shift()?.();
    },
    releaseAll() {
      answerAtOnce = true;
      for (const release of held.splice(0)) release();
    },
  };
}

async function until(predicate: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

function track<T extends { close(): Promise<unknown> }>(thing: T): T {
  cleanup.push(() => thing.close());
  return thing;
}

describe('max frame size (default 16 MiB)', () => {
  it('is the default of the decoder and the connection, and a 16 MiB body passes both ways through the server', async () => {
    expect(DEFAULT_MAX_FRAME_SIZE).toBe(16 * MiB);
    expect(new FrameDecoder().maxFrameSize).toBe(16 * MiB);
    const server = track(await startTestServer());
    const connection = track(new Connection({ host: server.host, port: server.port }));
    expect(connection.maxFrameSize).toBe(16 * MiB);
    const client = track(new IProto({ servers: server.address, timeout: 20_000 }));
    const body = Buffer.alloc(16 * MiB, 1);
    const [reply] = (await client.send({ msg: 1, payload: body, unpack: (b: Buffer) => b })) as [Buffer];
    expect(reply.length).toBe(16 * MiB);
  });

  it('a request one byte over: the server refuses it (ERR_FRAME_TOO_LARGE) and drops the connection', async () => {
    const server: TestServer = track(await startTestServer());
    const errors: ServerError[] = [];
    // A socket error would be a plain Error; only the server's own (ServerError) are collected.
    server.on('error', (error) => {
      if (error instanceof ServerError) errors.push(error);
    });
    const client = track(new IProto({ servers: server.address, timeout: 20_000 }));
    const error = await client
      .send({ msg: 1, payload: Buffer.alloc(16 * MiB + 1), unpack: (b: Buffer) => b })
      .catch((e: unknown) => e);
    expect(['ECONNCLOSED', 'ECONNRESET', 'EPIPE']).toContain(expectDocumented(error));
    expect(errors.map((e) => e.code)).toContain('ERR_FRAME_TOO_LARGE');
    // The client reconnects for the next request.
    await expect(client.send({ msg: 1, data: [5], unpack: 'L' })).resolves.toEqual([5]);
  });

  it('a reply one byte over the client maxFrameSize fails that connection with ERR_FRAME_TOO_LARGE', async () => {
    const server = track(await startTestServer({ handler: () => Buffer.alloc(1025) }));
    const client = track(new IProto({ servers: server.address, clusterOptions: { maxFrameSize: 1024 } }));
    const error = await client.send({ msg: 1, data: [1], unpack: 'L' }).catch((e: unknown) => e);
    expect(expectDocumented(error)).toBe('ERR_FRAME_TOO_LARGE');
  });
});

describe('max in flight per connection (default 10, Perl max_parallel)', () => {
  it('sends 10 at once and queues the rest until a reply frees a slot', async () => {
    const { server, held, releaseOne, releaseAll } = await holdingServer();
    track(server);
    const connection = new Connection({ host: server.host, port: server.port }, { timeout: 0 });
    track(connection);
    expect(connection.maxParallel).toBe(10);
    const replies = Array.from({ length: 25 }, (_, i) => connection.send(1, Buffer.from([i])));
    await until(() => held.length === 10, '10 requests at the server');
    expect(connection.inFlight).toBe(10);
    expect(connection.queued).toBe(15);
    expect(server.requests).toBe(10);
    releaseOne();
    await until(() => server.requests === 11, 'the 11th request');
    expect(connection.inFlight).toBe(10);
    expect(connection.queued).toBe(14);
    releaseAll();
    const frames = await Promise.all(replies);
    expect(frames.map((f) => f.body[0])).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });
});

describe('max queue per connection (default 10,000)', () => {
  it('past 10 in flight and 10,000 queued, send rejects with ERR_QUEUE_FULL at once', async () => {
    const { server, held, releaseAll } = await holdingServer();
    track(server);
    const connection = new Connection({ host: server.host, port: server.port }, { timeout: 0 });
    track(connection);
    expect(connection.maxQueue).toBe(10_000);
    const accepted = Array.from({ length: 10 + 10_000 }, () => connection.send(1, Buffer.alloc(0)));
    await until(() => held.length === 10, '10 requests at the server');
    expect(connection.queued).toBe(10_000);
    const error = await connection.send(1, Buffer.alloc(0)).catch((e: unknown) => e);
    expect(expectDocumented(error)).toBe('ERR_QUEUE_FULL');
    expect((error as Error).message).toMatch(/queue full .*maxQueue 10000/);
    releaseAll();
    expect(await Promise.all(accepted)).toHaveLength(10_010);
  });
});

describe('max in progress per client (default 1000)', () => {
  it('runs 1000 requests at once; the rest wait in a FIFO, can be aborted there, and fail on close()', async () => {
    const { server, held, releaseOne, releaseAll } = await holdingServer();
    track(server);
    // The connection's own limit raised, so that the client's is the one that binds.
    const client = new IProto({ servers: server.address, timeout: 0, clusterOptions: { maxParallel: 5000 } });
    cleanup.push(() => client.close());
    expect(client.maxParallel).toBe(1000);
    const aborter = new AbortController();
    const results = Array.from({ length: 1005 }, (_, i) =>
      client.send({ msg: 1, data: [i], unpack: 'L' }, i === 1003 ? { signal: aborter.signal } : {}).then(
        ([n]) => n as number,
        (e: unknown) => expectDocumented(e),
      ),
    );
    await until(() => held.length === 1000, '1000 requests at the server');
    expect(client.inProgress).toBe(1000);
    expect(client.queued).toBe(5);
    aborter.abort();
    expect(await results[1003]).toBe('ABORT_ERR');
    expect(client.queued).toBe(4);
    releaseOne();
    await until(() => server.requests === 1001, 'the first queued request');
    expect(await results[0]).toBe(0);
    expect(client.queued).toBe(3);
    // close(): the queued ones fail at once; those in flight still get their replies.
    const closed = client.close();
    releaseAll();
    await closed;
    const settled = await Promise.all(results);
    expect(settled.slice(1000, 1003)).toEqual([1000, 'ERR_CLIENT_CLOSED', 'ERR_CLIENT_CLOSED']);
    expect(settled[1004]).toBe('ERR_CLIENT_CLOSED');
    expect(settled.slice(0, 1000)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(server.requests).toBe(1001);
  });
});

describe('tries per request (default maxRequestRetries 2)', () => {
  it('a retryable request meeting a failing server is sent twice, then fails', async () => {
    const server = track(await startTestServer());
    server.faults.add({ type: 'close' });
    const client = track(new IProto({ servers: server.address, timeout: 2000 }));
    expect(client.maxRequestRetries).toBe(2);
    const error = await client.send({ msg: 1, data: [1], unpack: 'L', retry: true }).catch((e: unknown) => e);
    expectDocumented(error);
    expect(server.requests).toBe(2);
  });
});
