import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { startTestServer, type TestServer } from '@iproto/server/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { HASH, RR } from '../src/balance.js';
import { Cluster, type ClusterOptions } from '../src/cluster.js';
import { HealthChecker, PING_MSG } from '../src/health-checker.js';
import type { Reply as Frame, Server } from '../src/server.js';

const servers: TestServer[] = [];
const clusters: Cluster[] = [];

async function start(port = 0): Promise<TestServer> {
  const server = await startTestServer({ port });
  servers.push(server);
  return server;
}

function cluster(options: ClusterOptions): Cluster {
  const c = new Cluster({ connectTimeout: 1000, timeout: 2000, ...options });
  clusters.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const fast = { minDelay: 20, maxDelay: 200, jitter: 0.2, probeTimeout: 1000 };
const body = (text: string) => new TextEncoder().encode(text);

/** Resolves with the event's arguments, or rejects after `ms` (a generous bound, not a speed test). */
function event<T extends unknown[]>(c: Cluster, name: 'server down' | 'server up', ms: number): Promise<T> {
  return once(c, name, { signal: AbortSignal.timeout(ms) }) as Promise<T>;
}

/** A key that HASH maps to `target` while everything is up. */
function keyFor(c: Cluster, target: Server): string {
  for (let i = 0; ; i++) if (c.server(`key${i}`) === target) return `key${i}`;
}

describe('health', () => {
  describe('delay', () => {
    it('grows exponentially from minDelay, is capped by maxDelay, and jitters within bounds', () => {
      const h = new HealthChecker({ minDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.25 }, () => []);
      const seen = (attempt: number) => Array.from({ length: 200 }, () => h.delay(attempt));
      for (const [attempt, base] of [
        [0, 100],
        [1, 200],
        [3, 800],
        [4, 1000],
        [20, 1000],
      ]) {
        const delays = seen(attempt);
        expect(Math.min(...delays)).toBeGreaterThanOrEqual(base * 0.75);
        expect(Math.max(...delays)).toBeLessThanOrEqual(base * 1.25);
        expect(new Set(delays).size).toBeGreaterThan(1);
      }
      expect(h.maxWait).toBe(1250);
      h.close();
    });

    it('rejects nonsense', () => {
      expect(() => new HealthChecker({ jitter: 1 }, () => [])).toThrow(/health\.jitter .* got 1$/);
      expect(() => new HealthChecker({ minDelay: 10, maxDelay: 5 }, () => [])).toThrow(
        /health\.maxDelay must be a number of ms from minDelay \(10\) .* got 5$/,
      );
      expect(() => new HealthChecker({ probeTimeout: 0 }, () => [])).toThrow(
        /health\.probeTimeout .* got 0$/,
      );
      expect(() => new HealthChecker({ interval: -1 }, () => [])).toThrow(/health\.interval .* got -1$/);
      expect(() => new HealthChecker({ pingMsg: 2 ** 32 }, () => [])).toThrow(
        /health\.pingMsg .* got 4294967296$/,
      );
      expect(() => new HealthChecker({ maxDelay: Number.NaN }, () => [])).toThrow(
        /health\.maxDelay .* got NaN$/,
      );
    });
  });

  it('refuses a bad health option or ketamaSkipInactive in the constructor with ERR_INVALID_OPTION (regression)', () => {
    const refused = (options: Partial<ClusterOptions>, message: string) =>
      expect(() => new Cluster({ servers: '127.0.0.1:1,127.0.0.1:2', ...options })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: `Cluster: ${message}` }),
      );
    // Above what a Node timer holds: every ping failed, and the server never came back.
    refused(
      { health: { probeTimeout: 2 ** 32 } },
      'health.probeTimeout must be a number of ms from 1 to 2147483647, got 4294967296',
    );
    // Was taken for 'ping'.
    refused(
      { health: { probe: 'pong' as 'ping' } },
      `health.probe must be 'ping', 'connect' or a function, got "pong"`,
    );
    refused(
      { health: { jitter: 2 } },
      'health.jitter must be a number from 0 up to (not including) 1, got 2',
    );
    refused(
      { health: { minDelay: -1 } },
      'health.minDelay must be a number of ms from 0 to 2147483647, got -1',
    );
    refused(
      { health: { maxDelay: 2 ** 31 } },
      'health.maxDelay must be a number of ms from 0 to 2147483647, got 2147483648',
    );
    refused({ health: { factor: 0.5 } }, 'health.factor must be a finite number >= 1, got 0.5');
    refused(
      { health: { pingBody: 'x' as unknown as Uint8Array } },
      'health.pingBody must be a Uint8Array, got "x"',
    );
    refused({ health: { enabled: 1 as unknown as boolean } }, 'health.enabled must be true or false, got 1');
    refused(
      { health: 'on' as unknown as false },
      'health must be an object of health options, true or false, got "on"',
    );
    refused(
      { ketamaSkipInactive: 'yes' as unknown as boolean },
      'ketamaSkipInactive must be true or false, got "yes"',
    );
    // The bounds themselves are fine, and a long delay stays within what a timer holds.
    const h = new HealthChecker(
      { probeTimeout: 2 ** 31 - 1, minDelay: 0, maxDelay: 2 ** 31 - 1, jitter: 0.5 },
      () => [],
    );
    for (let i = 0; i < 50; i++) expect(h.delay(40)).toBeLessThanOrEqual(2 ** 31 - 1);
    h.close();
  });

  for (const probe of ['ping', 'connect'] as const) {
    it(`a killed server goes down, traffic moves, and it comes back after a restart (${probe})`, async () => {
      const [a, b, c] = [await start(), await start(), await start()];
      const cl = cluster({
        servers: [a, b, c].map((s) => s.address).join(','),
        balance: HASH,
        health: { ...fast, probe },
      });
      const [, sb] = cl.servers;
      const key = keyFor(cl, sb);
      const reply = (await cl.server(key).send(7, body('hello'))) as Frame;
      expect(Buffer.from(reply.body).toString()).toBe('hello');

      const down = event<[Server, unknown]>(cl, 'server down', 10_000);
      const port = b.port;
      await b.close();
      const [gone, reason] = await down;
      expect(gone).toBe(sb);
      expect(sb.active).toBe(false);
      expect(reason).toMatchObject({ code: expect.any(String) });

      // HASH passes over the dead server: the same key now lands elsewhere and is served.
      const moved = cl.server(key);
      expect(moved).not.toBe(sb);
      const again = (await moved.send(7, body('again'))) as Frame;
      expect(Buffer.from(again.body).toString()).toBe('again');

      const up = event<[Server, string]>(cl, 'server up', cl.health.maxWait + fast.probeTimeout + 5000);
      const restarted = await start(port);
      const [back, why] = await up;
      expect(back).toBe(sb);
      expect(why).toBe('probe succeeded');
      expect(cl.server(key)).toBe(sb);
      const after = (await sb.send(7, body('back'))) as Frame;
      expect(Buffer.from(after.body).toString()).toBe('back');
      if (probe === 'ping') expect(restarted.requests).toBeGreaterThanOrEqual(2);
    });
  }

  it('probes with msg 0xff00 by default', async () => {
    const a = await start();
    const b = await start();
    const first = once(a, 'request', { signal: AbortSignal.timeout(10_000) });
    cluster({ servers: `${a.address},${b.address}`, health: { ...fast, interval: 30 } });
    const [frame] = (await first) as [Frame];
    expect(frame.msg).toBe(PING_MSG);
    expect(frame.body).toHaveLength(0);
  });

  it('periodic checks take down an active server that stops answering, and bring it back', async () => {
    const a = await start();
    const b = await start();
    const cl = cluster({
      servers: `${a.address},${b.address}`,
      balance: RR,
      health: { ...fast, interval: 50, probeTimeout: 200 },
    });
    const stop = a.faults.add({ type: 'drop' }, { msg: PING_MSG });
    const [server, reason] = await event<[Server, unknown]>(cl, 'server down', 10_000);
    expect(server).toBe(cl.servers[0]);
    expect(reason).toMatchObject({ code: 'ETIMEDOUT' });
    // RR keeps off the silent server while the other one is up.
    for (let i = 0; i < 20; i++) expect(cl.server()).toBe(cl.servers[1]);
    stop();
    const up = event<[Server, string]>(cl, 'server up', cl.health.maxWait + 5000);
    const [back] = await up;
    expect(back).toBe(cl.servers[0]);
  });

  it('a failed probe leaves the requests in flight on the same connection alone (regression)', async () => {
    const a = await start();
    const b = await start();
    a.faults.add({ type: 'delay', ms: 500 }, { msg: 7 });
    a.faults.add({ type: 'drop' }, { msg: PING_MSG });
    const cl = cluster({
      servers: `${a.address},${b.address}`,
      balance: RR,
      health: { ...fast, interval: 30, probeTimeout: 100 },
    });
    const down = event<[Server, unknown]>(cl, 'server down', 10_000);
    const slow = cl.servers[0].send(7, body('slow'), { timeout: 5000 });
    const [server, reason] = await down;
    expect(server).toBe(cl.servers[0]);
    expect(reason).toMatchObject({ code: 'ETIMEDOUT', msg: PING_MSG });
    // The ping's failure is no failure of the request: it is answered, within its own deadline.
    const reply = (await slow) as Frame;
    expect(Buffer.from(reply.body).toString()).toBe('slow');
  });

  it('a server set inactive by hand is not probed back; with health: false nothing is', async () => {
    const a = await start();
    const b = await start();
    let probes = 0;
    const probe = async () => {
      probes++;
    };
    const manual = cluster({ servers: `${a.address},${b.address}`, health: { ...fast, probe } });
    manual.servers[0].active = false;
    expect(manual.health.pendingProbes).toBe(0);

    const perl = cluster({ servers: `${a.address},${b.address}`, balance: HASH, health: false });
    const key = keyFor(perl, perl.servers[1]);
    await perl.server(key).send(1, body('x'));
    const down = event(perl, 'server down', 10_000);
    await b.close();
    await down;
    expect(perl.health.pendingProbes).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(probes).toBe(0);
    expect(perl.servers[1].active).toBe(false);
  });

  it('close() stops every probe timer; nothing runs afterwards', async () => {
    const a = await start();
    const b = await start();
    let probes = 0;
    const probe = async () => {
      probes++;
      throw new Error('still down');
    };
    const cl = cluster({
      servers: `${a.address},${b.address}`,
      health: { ...fast, minDelay: 10, maxDelay: 20, probe },
    });
    cl.servers[0].setActive(false, new Error('test failure'));
    cl.servers[1].setActive(false, new Error('test failure'));
    expect(cl.health.pendingProbes).toBe(2);
    while (probes < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    await cl.close();
    expect(cl.health.pendingProbes).toBe(0);
    const after = probes;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(probes).toBe(after);
  });

  it('probe timers do not keep the process alive (unref), and report on diagnostics channels', async () => {
    const a = await start();
    const b = await start();
    const messages: unknown[] = [];
    const listen = (name: string) => (message: unknown) => messages.push([name, message]);
    const onDown = listen('down');
    const onProbe = listen('probe');
    subscribe('iproto:cluster:server-down', onDown);
    subscribe('iproto:cluster:probe', onProbe);
    try {
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      let probed = false;
      const cl = cluster({
        servers: `${a.address},${b.address}`,
        health: {
          minDelay: 5,
          maxDelay: 60_000,
          interval: 60_000,
          probe: async () => {
            probed = true;
            throw new Error('still down');
          },
        },
      });
      const failure = new Error('test failure');
      cl.servers[0].setActive(false, failure);
      expect(cl.health.pendingProbes).toBe(1);
      // A probe timer and the check interval exist, but neither holds the event loop.
      expect(timers()).toBe(before);
      while (!probed) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setImmediate(resolve));
      expect(messages).toContainEqual(['down', { cluster: cl, server: cl.servers[0], reason: failure }]);
      expect(messages).toContainEqual([
        'probe',
        { cluster: cl, server: cl.servers[0], error: expect.objectContaining({ message: 'still down' }) },
      ]);
    } finally {
      unsubscribe('iproto:cluster:server-down', onDown);
      unsubscribe('iproto:cluster:probe', onProbe);
    }
  });

  it('close() stops the periodic checks of active servers', async () => {
    const a = await start();
    const b = await start();
    let checks = 0;
    const probe = async () => {
      checks++;
    };
    const cl = cluster({ servers: `${a.address},${b.address}`, health: { ...fast, interval: 10, probe } });
    while (checks < 4) await new Promise((resolve) => setTimeout(resolve, 10));
    await cl.close();
    const after = checks;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(checks).toBe(after);
    expect(cl.servers.every((s) => s.active)).toBe(true);
  });
});
