import { once } from 'node:events';
import { Connection, type ConnectionOptions } from '@iproto/connection';
import { startTestServer, type TestServer } from '@iproto/server/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { Reply as Frame } from '../src/server.js';
import { Server } from '../src/server.js';

let test: TestServer | undefined;
const made: Server[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((s) => s.close()));
  await test?.close();
  test = undefined;
});

function server(options: ConstructorParameters<typeof Server>[0]): Server {
  const s = new Server(options);
  made.push(s);
  return s;
}

describe('Server', () => {
  it('has Perl defaults: weight 1, active', () => {
    const s = server({ host: '127.0.0.1', port: 33013 });
    expect([s.weight, s.active, s.address, String(s)]).toEqual([
      1,
      true,
      '127.0.0.1:33013',
      '127.0.0.1:33013',
    ]);
    expect(server({ host: '::1', port: 1 }).address).toBe('[::1]:1');
  });

  it('validates host, port and weight', () => {
    // Issue 12: option errors carry the stable code ERR_INVALID_OPTION.
    expect(() => new Server({ host: '', port: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    );
    expect(() => new Server({ host: 'a', port: 1, timeout: -1 })).toThrow(
      'Connection: timeout must be a number of ms from 0 to 2147483647, got -1',
    );
    expect(() => new Server({ host: 'a', port: 0 })).toThrow(/port/);
    expect(() => new Server({ host: 'a', port: 1, weight: 1.5 })).toThrow(/weight/);
  });

  it('creates its connection lazily, once, through the factory, with its options', () => {
    const calls: [unknown, ConnectionOptions][] = [];
    const s = server({
      host: '127.0.0.1',
      port: 9,
      timeout: 123,
      maxParallel: 3,
      connectionFactory: (target, options) => {
        calls.push([target, options]);
        return new Connection(target, options);
      },
    });
    expect(s.hasConnection).toBe(false);
    expect(calls).toHaveLength(0);
    const c = s.connection;
    expect(s.connection).toBe(c);
    expect(calls).toEqual([
      [
        { host: '127.0.0.1', port: 9 },
        { timeout: 123, maxParallel: 3 },
      ],
    ]);
    expect(c.maxParallel).toBe(3);
  });

  it('sends over its connection, and a timeout change reaches the live connection', async () => {
    test = await startTestServer();
    const s = server({ host: test.host, port: test.port, timeout: 1000 });
    const reply = (await s.send(5, new Uint8Array([1, 2, 3]))) as Frame;
    expect([reply.msg, [...reply.body]]).toEqual([5, [1, 2, 3]]);
    s.timeout = 4321;
    expect(s.connection.timeout).toBe(4321);
    // Unset: the live connection goes back to the default a new connection would get.
    s.timeout = undefined;
    expect(s.timeout).toBeUndefined();
    expect(s.connection.timeout).toBe(2000);
  });

  it('a connection failure marks it inactive, with the error as the reason', async () => {
    test = await startTestServer();
    const s = server({ host: test.host, port: test.port });
    await s.send(1);
    const reasons: unknown[] = [];
    s.on('down', (reason) => reasons.push(reason));
    test.faults.add({ type: 'close' });
    await expect(s.send(1)).rejects.toMatchObject({ code: expect.any(String) });
    expect(s.active).toBe(false);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(Error);
  });

  it('a refused connect marks it inactive too', async () => {
    test = await startTestServer();
    const port = test.port;
    await test.close();
    test = undefined;
    const s = server({ host: '127.0.0.1', port });
    await expect(s.send(1)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(s.active).toBe(false);
  });

  it('close() closes the connection; the server connects again on next use', async () => {
    test = await startTestServer();
    const s = server({ host: test.host, port: test.port });
    await s.send(1);
    const first = s.connection;
    await s.close();
    expect(first.connected).toBe(false);
    expect(s.hasConnection).toBe(false);
    await s.send(1);
    expect(s.connection).not.toBe(first);
  });
});

describe('Server: what a caller can get wrong (review of issue 12)', () => {
  it('a bad timeout is refused by the setter and not stored, on a server and on a cluster', async () => {
    const { Cluster } = await import('../src/cluster.js');
    const s = server({ host: '127.0.0.1', port: 33013, timeout: 300 });
    for (const bad of [-5, Number.NaN, 2 ** 31, '100' as unknown as number]) {
      expect(() => {
        s.timeout = bad;
      }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
      expect(s.timeout).toBe(300);
    }
    const cluster = new Cluster({ servers: '127.0.0.1:33013', timeout: 300 });
    expect(() => {
      cluster.timeout = -1;
    }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(cluster.timeout).toBe(300);
    await cluster.close();
  });

  it('a connection factory that throws fails the request through its handler, never out of dispatch', async () => {
    const boom = new Error('factory failed');
    const s = server({
      host: '127.0.0.1',
      port: 33013,
      connectionFactory: () => {
        throw boom;
      },
    });
    const outcome = await new Promise<unknown>((resolve) => {
      expect(() =>
        s.dispatch({ msg: 1 }, { onReply: () => resolve('reply'), onError: (error) => resolve(error) }),
      ).not.toThrow();
    });
    expect(outcome).toBe(boom);
  });

  it('a weight above MAX_WEIGHT is refused when the Server is built, not only when it joins a cluster', () => {
    expect(() => new Server({ host: 'db1', port: 1, weight: 1_000_001 })).toThrow(
      expect.objectContaining({ code: 'ERR_WEIGHT_LIMIT' }),
    );
    expect(new Server({ host: 'db1', port: 1, weight: 1_000_000 }).weight).toBe(1_000_000);
  });

  it('destroyConnection() after close() ends the connection still closing at once (regression)', async () => {
    test = await startTestServer();
    test.faults.add({ type: 'delay', ms: 3000 }, { msg: 7 });
    const s = server({ host: '127.0.0.1', port: test.port, timeout: 10_000 });
    const arrived = once(test, 'request', { signal: AbortSignal.timeout(5000) });
    const inflight = s.send(7, new Uint8Array(0));
    await arrived;
    // close() waits for the reply; destroy must not.
    const closing = s.close();
    const started = performance.now();
    const error = new Error('gone');
    s.destroyConnection(error);
    await expect(inflight).rejects.toBe(error);
    await closing;
    expect(performance.now() - started).toBeLessThan(1000);
    while (test.connections.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  });
});
