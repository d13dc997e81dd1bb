// Issue 12, "One request path": the regressions held at the connection layer.
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { startTestServer, type TestServer } from '@iproto/server/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Connection } from '../src/connection.js';
import { IProtoError } from '../src/errors.js';
import {
  duplexPair,
  expectNoLeaks,
  Ledger,
  rejection,
  resources,
  serveEcho,
  until,
} from './support/test-support.js';

let before: Record<string, number>;
let ledger: Ledger;
let server: TestServer;

beforeEach(async () => {
  before = resources();
  ledger = new Ledger();
  server = await startTestServer();
});

afterEach(async () => {
  await ledger.check();
  await ledger.closeAll();
  await server.close();
  await expectNoLeaks(before);
});

const body = (text: string): Buffer => Buffer.from(text);

/** A stream that takes every write and never finishes one: all we write stays buffered in it. */
function stuckStream(): Duplex {
  return new Duplex({ read() {}, write() {} });
}

describe('issue 12 at the connection', () => {
  it('#12.1 a per-request timeout longer than the connection timeout is honoured', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { timeout: 100 });
    server.faults.add({ type: 'delay', ms: 400 }, { times: 1 });
    const reply = await ledger.track(connection.send(7, body('slow'), { timeout: 3000 }));
    expect(Buffer.from(reply.body).toString()).toBe('slow');
  });

  it('#12.2 a silent peer is found out: a request queued behind one that timed out goes to a fresh socket', async () => {
    const connection = ledger.connection(
      { host: server.host, port: server.port },
      { timeout: 200, maxParallel: 1 },
    );
    const closed: (Error | undefined)[] = [];
    connection.on('close', (error) => closed.push(error));
    server.faults.add({ type: 'drop' }, { times: 1, msg: 1 });
    const first = ledger.track(connection.send(1, body('lost')));
    const second = ledger.track(connection.send(2, body('kept'), { timeout: 5000 }));
    const error = await rejection(first);
    expect(error).toBeInstanceOf(IProtoError);
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toMatch(/request timed out after 200 ms waiting for the reply, msg 1 sync \d+$/);
    expect(Buffer.from((await second).body).toString()).toBe('kept');
    // The silent socket was retired (and said why); the queued request went out on a new one.
    expect(closed).toHaveLength(1);
    expect((closed[0] as IProtoError).code).toBe('ETIMEDOUT');
    expect((closed[0] as IProtoError).message).toBe(
      `${server.address}: read timed out: nothing received for 200 ms while msg 1 sync ${error.sync} waited; socket retired`,
    );
    await until(() => server.connections.size === 1, 'the retired socket to close');
  });

  it('#12.2 a silent socket is kept for requests still within their deadlines', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { timeout: 200 });
    server.faults.add({ type: 'drop' }, { times: 1, msg: 1 });
    server.faults.add({ type: 'delay', ms: 600 }, { times: 1, msg: 2 });
    const first = ledger.track(connection.send(1, body('lost')));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = ledger.track(connection.send(2, body('late but in time'), { timeout: 5000 }));
    expect((await rejection(first)).code).toBe('ETIMEDOUT');
    // A new request goes on a new socket while the retired one waits for `second`'s reply.
    const third = ledger.track(connection.send(3, body('fresh')));
    expect(Buffer.from((await third).body).toString()).toBe('fresh');
    expect(Buffer.from((await second).body).toString()).toBe('late but in time');
  });

  it('#12.4 options are checked in the constructor: ERR_INVALID_OPTION names the option and what it takes', () => {
    const bad: [string, unknown][] = [
      ['timeout', -1],
      ['timeout', Number.NaN],
      ['timeout', 'abc'],
      ['timeout', Number.POSITIVE_INFINITY],
      ['timeout', 2 ** 31],
      ['connectTimeout', -1],
      ['maxParallel', 0],
      ['maxParallel', 1.5],
      ['maxQueue', -1],
      ['maxWriteBuffer', 0],
      ['maxFrameSize', 'big'],
      ['closeTimeout', Number.NaN],
      ['tcpNoDelay', 'yes'],
    ];
    for (const [name, value] of bad) {
      let thrown: any;
      try {
        new Connection({ host: '127.0.0.1', port: 1 }, { [name]: value });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, `${name}: ${String(value)}`).toBeInstanceOf(IProtoError);
      expect(thrown.code).toBe('ERR_INVALID_OPTION');
      expect(thrown.message).toMatch(new RegExp(`^Connection: ${name} must be .+, got `));
    }
    // The largest timeout a timer can hold is accepted; one more is not (above).
    expect(new Connection({ host: '127.0.0.1', port: 1 }, { timeout: 2 ** 31 - 1 }).timeout).toBe(
      2 ** 31 - 1,
    );
  });

  it('#12.6 one address format: an IPv6 server is [::1]:port in errors as on a cluster Server', async () => {
    const connection = new Connection({ host: '::1', port: 1 }, { connectTimeout: 2000 });
    expect(connection.address).toBe('[::1]:1');
    const error = await rejection(connection.send(1));
    expect(error.address).toBe('[::1]:1');
    expect(error.message.startsWith('[::1]:1: ')).toBe(true);
    await connection.close();
  });

  it('#12.7 a peer that never reads but trickles a reply byte keeps our write buffer within maxWriteBuffer', async () => {
    const sockets = new Set<Socket>();
    const trickle: NetServer = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.pause();
      const timer = setInterval(() => socket.write(Buffer.from([0])), 50);
      socket.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => trickle.listen(0, '127.0.0.1', resolve));
    const { port } = trickle.address() as { port: number };
    const maxWriteBuffer = 1024 * 1024;
    const size = 16 * 1024;
    const connection = new Connection(
      { host: '127.0.0.1', port },
      { timeout: 0, maxParallel: 5000, maxWriteBuffer },
    );
    const requests = Array.from({ length: 2000 }, () =>
      connection.send(1, Buffer.alloc(size)).catch((e) => e),
    );
    await until(() => connection.writePaused, 'writes to pause');
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      peak = Math.max(peak, connection.bufferedBytes);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(peak).toBeLessThanOrEqual(maxWriteBuffer + size + 12);
    expect(connection.queued).toBeGreaterThan(0);
    connection.destroy();
    for (const error of await Promise.all(requests))
      expect((error as IProtoError).code).toBe('ERR_DESTROYED');
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => trickle.close(resolve));
  });

  it.each([
    [-1, 2],
    [0, 3],
    [1, 3],
  ])('#12.7 maxWriteBuffer at the limit %i: %i frames buffered, the rest wait', async (delta, started) => {
    const frame = 12 + 100;
    const connection = new Connection(
      { connect: stuckStream, address: 'stuck' },
      { timeout: 0, maxParallel: 100, maxWriteBuffer: 3 * frame + delta },
    );
    const requests = Array.from({ length: 5 }, () => connection.send(1, Buffer.alloc(100)).catch((e) => e));
    expect(connection.inFlight).toBe(started);
    expect(connection.queued).toBe(5 - started);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(connection.bufferedBytes).toBe(started * frame);
    connection.destroy();
    await Promise.all(requests);
  });

  it('#12.7 a frame larger than maxWriteBuffer still goes out alone', async () => {
    const connection = new Connection(
      { connect: stuckStream, address: 'stuck' },
      { timeout: 0, maxWriteBuffer: 64 },
    );
    const requests = [1, 2].map(() => connection.send(1, Buffer.alloc(1000)).catch((e) => e));
    expect(connection.inFlight).toBe(1);
    expect(connection.queued).toBe(1);
    connection.destroy();
    await Promise.all(requests);
  });

  it('#12.8 close() waits for requests in flight at most closeTimeout, then fails them', async () => {
    const connection = ledger.connection(
      { host: server.host, port: server.port },
      { timeout: 0, closeTimeout: 150 },
    );
    server.faults.add({ type: 'drop' }, { times: 1 });
    const pending = ledger.track(connection.send(1, body('never')));
    await until(() => server.requests === 1, 'the request to arrive');
    const started = Date.now();
    await connection.close();
    expect(Date.now() - started).toBeLessThan(1500);
    const error = await rejection(pending);
    expect(error.code).toBe('ERR_CONNECTION_CLOSED');
    expect(error.message).toBe(
      `${server.address}: connection closed: 1 request(s) still in flight after closeTimeout 150 ms`,
    );
  });

  it('#12 speed: frames sent in different ticks of one event-loop turn go out in one write per connection', async () => {
    // Requests made from one socket's replies are spread over every connection of a cluster; each
    // connection writes once per turn of the loop, not once per tick that added a frame.
    const writes = [0, 0];
    const open = (i: number) => () => {
      const [ours, theirs] = duplexPair();
      serveEcho(theirs);
      const write = ours.write.bind(ours) as (...args: unknown[]) => boolean;
      ours.write = ((...args: unknown[]) => {
        writes[i]!++;
        return write(...args);
      }) as typeof ours.write;
      return ours;
    };
    const a = ledger.connection({ connect: open(0), address: 'a' });
    const b = ledger.connection({ connect: open(1), address: 'b' });
    await Promise.all([a.connect(), b.connect()]);
    const replies = await new Promise<Promise<unknown>[]>((resolve) => {
      const sent = [a.send(1, body('a1')), b.send(1, body('b1'))];
      process.nextTick(() => {
        sent.push(a.send(1, body('a2')), b.send(1, body('b2')));
        queueMicrotask(() => {
          sent.push(a.send(1, body('a3')));
          resolve(sent);
        });
      });
    });
    const bodies = (await Promise.all(replies)).map((f) =>
      Buffer.from((f as { body: Uint8Array }).body).toString(),
    );
    expect(bodies).toEqual(['a1', 'b1', 'a2', 'b2', 'a3']);
    expect(writes).toEqual([1, 1]);
  });

  it('#12.1 a request sent after a long callback in the same turn of the loop gets its full deadline', async () => {
    // The clock is read once per tick, not once per turn: the writes wait for the end of the turn,
    // but a deadline counted from the turn's first send would fail this request 500 ms early.
    const connection = ledger.connection({ host: server.host, port: server.port });
    await connection.connect();
    server.faults.add({ type: 'delay', ms: 600 }, { times: 2 });
    const sent = await new Promise<Promise<unknown>[]>((resolve) => {
      const first = connection.send(1, body('first'));
      process.nextTick(() => {
        const until = performance.now() + 500;
        while (performance.now() < until) {
          // a long synchronous callback
        }
        resolve([first, connection.send(1, body('second'), { timeout: 1000 })]);
      });
    });
    const replies = await ledger.track(Promise.all(sent));
    expect(replies.map((f) => Buffer.from((f as { body: Uint8Array }).body).toString())).toEqual([
      'first',
      'second',
    ]);
  });

  it('#12.2 a request that times out in the queue behind a silent socket holding every slot retires it', async () => {
    // No deadline on the connection: the request holding the only slot never times out itself.
    const connection = ledger.connection(
      { host: server.host, port: server.port },
      { timeout: 0, maxParallel: 1 },
    );
    server.faults.add({ type: 'drop' }, { times: 1, msg: 1 });
    const stuck = ledger.track(connection.send(1, body('stuck')));
    const queued = ledger.track(connection.send(2, body('queued'), { timeout: 100 }));
    const error = await rejection(queued);
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toMatch(/waiting in the queue/);
    // The socket said nothing for as long: later requests go to a fresh one, not behind it.
    const after = await ledger.track(connection.send(3, body('after'), { timeout: 2000 }));
    expect(Buffer.from(after.body).toString()).toBe('after');
    connection.destroy();
    expect((await rejection(stuck)).code).toBeDefined();
  });

  it("an aborted request's late reply, within its own deadline, is dropped quietly: the socket and the next request are unharmed", async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { timeout: 100 });
    server.faults.add({ type: 'delay', ms: 400 }, { times: 1, msg: 1 });
    server.faults.add({ type: 'delay', ms: 500 }, { times: 1, msg: 2 });
    const controller = new AbortController();
    const aborted = ledger.track(
      connection.send(1, body('aborted'), { timeout: 3000, signal: controller.signal }),
    );
    const next = ledger.track(connection.send(2, body('next'), { timeout: 3000 }));
    setTimeout(() => controller.abort(), 30);
    expect((await rejection(aborted)).name).toBe('AbortError');
    // The reply to the aborted request comes at 400 ms, long after one connection timeout (100 ms)
    // but within its own deadline: it must not be taken for an unknown sync.
    expect(Buffer.from((await next).body).toString()).toBe('next');
  });

  it("with no deadline anywhere (timeout 0), an aborted request's late reply is dropped quietly", async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { timeout: 0 });
    server.faults.add({ type: 'delay', ms: 200 }, { times: 1, msg: 1 });
    server.faults.add({ type: 'delay', ms: 300 }, { times: 1, msg: 2 });
    const controller = new AbortController();
    const aborted = ledger.track(connection.send(1, body('aborted'), { signal: controller.signal }));
    const next = ledger.track(connection.send(2, body('next')));
    setTimeout(() => controller.abort(), 30);
    expect((await rejection(aborted)).name).toBe('AbortError');
    expect(Buffer.from((await next).body).toString()).toBe('next');
    expect(connection.inFlight).toBe(0);
  });

  it('with timeout 0 on the connection, a request past its own deadline keeps its sync for its late reply', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { timeout: 0 });
    // Timed out at 200 ms, its sync is kept one more of its timeouts: the reply at 300 ms is dropped.
    server.faults.add({ type: 'delay', ms: 300 }, { times: 1, msg: 1 });
    server.faults.add({ type: 'delay', ms: 450 }, { times: 1, msg: 2 });
    const late = ledger.track(connection.send(1, body('late'), { timeout: 200 }));
    const next = ledger.track(connection.send(2, body('next'), { timeout: 3000 }));
    expect((await rejection(late)).code).toBe('ETIMEDOUT');
    expect(Buffer.from((await next).body).toString()).toBe('next');
  });
});

describe('what a caller can get wrong (review of issue 12)', () => {
  it('a signal that is not an AbortSignal fails that request alone, and close() still settles', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { closeTimeout: 200 });
    const bad = connection.send(1, body('x'), { signal: {} as AbortSignal });
    const error = await rejection(bad);
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toMatch(/signal must be an AbortSignal/);
    expect(Buffer.from((await connection.send(2, body('ok'))).body).toString()).toBe('ok');
    await connection.close();
  });

  it('a body that is not bytes fails that request alone, with nothing left in flight to reject at close()', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port });
    for (const bad of [{}, { length: 3 }, new DataView(new ArrayBuffer(4)), new Uint16Array(2)]) {
      const error = await rejection(connection.send(1, bad as unknown as Uint8Array));
      expect(error).toBeInstanceOf(TypeError);
    }
    expect(connection.inFlight).toBe(0);
    await connection.close();
  });

  it('an error listener that throws does not stop the teardown: the request settles, the socket closes, the throw surfaces', async () => {
    const { spawnSync } = await import('node:child_process');
    const dist = new URL('../dist/index.js', import.meta.url).href;
    const script = `
      import { createServer } from 'node:net';
      import { Connection } from ${JSON.stringify(dist)};
      const uncaught = [];
      process.on('uncaughtException', (e) => uncaught.push(e.message));
      const peer = createServer((socket) => socket.once('data', () => {
        const reply = Buffer.alloc(12); reply.writeUInt32LE(1, 0); reply.writeUInt32LE(0, 4); reply.writeUInt32LE(0xabcdef, 8);
        socket.write(reply);
      }));
      await new Promise((r) => peer.listen(0, '127.0.0.1', r));
      const connection = new Connection({ host: '127.0.0.1', port: peer.address().port }, { timeout: 0 });
      connection.on('error', () => { throw new Error('listener boom'); });
      const outcome = await connection.send(1, Buffer.from('x')).then(() => 'reply', (e) => e.code);
      await new Promise((r) => setTimeout(r, 50));
      peer.close();
      console.log(JSON.stringify({ outcome, uncaught }));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ outcome: 'ERR_UNKNOWN_SYNC', uncaught: ['listener boom'] });
  });
});
