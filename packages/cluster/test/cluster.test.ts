import { isIProtoError } from '@iproto/connection';
import { afterEach, describe, expect, it } from 'vitest';
import { type Balance, HASH, KETAMA, RR } from '../src/balance.js';
import { Cluster, type ClusterOptions } from '../src/cluster.js';
import { Server } from '../src/server.js';

const clusters: Cluster[] = [];
function cluster(options: ClusterOptions): Cluster {
  const c = new Cluster({ health: false, ...options });
  clusters.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.close()));
});

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}:${33013 + i}`).join(',');

describe('Cluster', () => {
  it('builds servers from the Perl string, in order, with weights and defaults', () => {
    const c = cluster({ servers: 'a:1,b:2:3,[::1]:3', timeout: 500, maxParallel: 7 });
    expect(c.servers.map((s) => [s.host, s.port, s.weight, s.address])).toEqual([
      ['a', 1, 1, 'a:1'],
      ['b', 2, 3, 'b:2'],
      ['::1', 3, 1, '[::1]:3'],
    ]);
    expect(c.servers[1].options).toMatchObject({ timeout: 500, maxParallel: 7 });
    expect(c.balance).toBe(RR);
  });

  it('takes server objects, Server instances, and Perl numeric balance constants', () => {
    const own = new Server({ host: 'x', port: 9 });
    const c = cluster({
      servers: [{ host: 'a', port: 1, weight: 2, timeout: 10 }, own],
      balance: 2,
      timeout: 99,
    });
    expect(c.balance).toBe(HASH);
    expect(c.servers[0].options.timeout).toBe(10);
    expect(c.servers[1]).toBe(own);
    expect(cluster({ servers: 'a:1', balance: 3 }).balance).toBe(KETAMA);
  });

  it.each(['hash', 'crc32', 'Hash-CRC32', 'roundrobin', '', 4, null])(
    '#12.4 refuses balance %j: ERR_INVALID_OPTION naming the accepted values (no silent round-robin)',
    (balance) => {
      let thrown: any;
      try {
        new Cluster({ servers: 'a:1', balance: balance as never });
      } catch (error) {
        thrown = error;
      }
      expect(isIProtoError(thrown)).toBe(true);
      expect(thrown.code).toBe('ERR_INVALID_OPTION');
      expect(thrown.message).toBe(
        `Cluster: balance must be 'round-robin', 'hash-crc32', 'ketama' or 1, 2, 3, got ${JSON.stringify(balance)}`,
      );
    },
  );

  it('refuses an empty server list', () => {
    expect(() => new Cluster({ servers: ' , ' })).toThrow(
      expect.objectContaining({ code: 'ERR_NO_SERVERS' }),
    );
  });

  it('always picks a lone server, even for HASH without a key (MR::IProto::Cluster::_one)', () => {
    const c = cluster({ servers: 'a:1', balance: HASH });
    c.servers[0].active = false;
    expect(c.server()).toBe(c.servers[0]);
  });

  it.each([
    [HASH, 'Cannot balance hash without key'],
    [KETAMA, 'Cannot balance ketama without key'],
  ])('%s without a key throws ERR_NO_KEY', (balance, message) => {
    const c = cluster({ servers: hosts(3), balance: balance as Balance });
    let error: unknown;
    try {
      c.server();
    } catch (e) {
      error = e;
    }
    expect(isIProtoError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_NO_KEY', message });
  });

  it('RR picks each server once per round', () => {
    const c = cluster({ servers: hosts(5) });
    for (let round = 0; round < 50; round++) {
      const picked = new Set(Array.from({ length: 5 }, () => c.server()));
      expect(picked.size).toBe(5);
    }
  });

  it('RR picks each active server once per round when some are inactive', () => {
    const c = cluster({ servers: hosts(7) });
    for (const i of [0, 3, 4]) c.servers[i].active = false;
    const active = c.servers.filter((s) => s.active);
    for (let round = 0; round < 100; round++) {
      const picked = Array.from({ length: active.length }, () => c.server());
      expect(new Set(picked)).toEqual(new Set(active));
    }
  });

  it('RR passes over inactive servers while some are active, and uses them when none is', () => {
    const c = cluster({ servers: hosts(4) });
    c.servers[1].active = false;
    c.servers[3].active = false;
    for (let i = 0; i < 200; i++) expect(c.server().active).toBe(true);
    for (const s of c.servers) s.active = false;
    const seen = new Set(Array.from({ length: 100 }, () => c.server()));
    expect(seen.size).toBe(4);
  });

  it('RR with exclude picks an untried server, or any when all were tried', () => {
    const c = cluster({ servers: hosts(3) });
    const [a, b, third] = c.servers;
    for (let i = 0; i < 100; i++) expect(c.server(undefined, { exclude: [a, b] })).toBe(third);
    expect(c.servers).toContain(c.server(undefined, { exclude: c.servers }));
  });

  it('HASH picks the same server for the same key, spread by weight', () => {
    const c = cluster({ servers: 'a:1:1,b:2:3', balance: HASH });
    const counts = new Map<Server, number>();
    for (let i = 0; i < 4000; i++) {
      const s = c.server(`key${i}`);
      expect(c.server(`key${i}`)).toBe(s);
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    const [a, b] = c.servers;
    expect(counts.get(b)! / counts.get(a)!).toBeGreaterThan(2);
  });

  it('HASH with exclude treats tried servers as inactive', () => {
    const c = cluster({ servers: hosts(4), balance: HASH });
    for (let i = 0; i < 300; i++) {
      const first = c.server(i);
      const second = c.server(i, { exclude: [first] });
      expect(second).not.toBe(first);
      first.active = false;
      // Same walk as when the first pick is down (what Perl does on retry after marking it inactive).
      expect(c.server(i)).toBe(second);
      first.active = true;
    }
  });

  it('HASH falls back to a non-excluded active server after 20 misses', () => {
    const c = cluster({ servers: hosts(3), balance: HASH });
    const [a, b, third] = c.servers;
    a.active = false;
    b.active = false;
    // Some keys miss 20 times (1/3 chance each probe to hit); whatever happens, `third` is picked.
    for (let i = 0; i < 200; i++) expect(c.server(i)).toBe(third);
    expect(c.server(1, { exclude: [third] })).not.toBe(third);
  });

  it('KETAMA ignores active by default, as Perl does; ketamaSkipInactive walks on', () => {
    const perl = cluster({ servers: hosts(5), balance: KETAMA });
    const skip = cluster({ servers: hosts(5), balance: KETAMA, ketamaSkipInactive: true });
    for (let i = 0; i < 200; i++) {
      const s = perl.server(`k${i}`);
      const index = perl.servers.indexOf(s);
      perl.servers[index].active = false;
      skip.servers[index].active = false;
      expect(perl.server(`k${i}`)).toBe(s);
      const other = skip.server(`k${i}`);
      expect(other.active).toBe(true);
      // The same as a cluster that never had the down server.
      const without = cluster({
        servers: hosts(5)
          .split(',')
          .filter((_, j) => j !== index)
          .join(','),
        balance: KETAMA,
      });
      expect(without.server(`k${i}`).address).toBe(other.address);
      expect(perl.server(`k${i}`, { exclude: [s] }).address).toBe(other.address);
      perl.servers[index].active = true;
      skip.servers[index].active = true;
    }
  });

  it('add and remove rebuild the tables', async () => {
    const c = cluster({ servers: hosts(3), balance: KETAMA });
    const reference = cluster({ servers: `${hosts(3)},10.0.0.9:1`, balance: KETAMA });
    const added = c.add('10.0.0.9:1');
    expect(c.servers).toHaveLength(4);
    for (let i = 0; i < 300; i++) expect(c.server(i).address).toBe(reference.server(i).address);
    expect(await c.remove(added)).toBe(true);
    expect(await c.remove(added)).toBe(false);
    const three = cluster({ servers: hosts(3), balance: KETAMA });
    for (let i = 0; i < 300; i++) expect(c.server(i).address).toBe(three.server(i).address);
    expect(await c.remove('10.0.0.1:33013')).toBe(true);
    expect(c.servers.map((s) => s.address)).toEqual(['10.0.0.2:33014', '10.0.0.3:33015']);
  });

  it('a cluster emptied by remove() says so on the next pick', async () => {
    const c = cluster({ servers: hosts(2), balance: KETAMA });
    for (const s of [...c.servers]) await c.remove(s);
    expect(() => c.server('k')).toThrow(expect.objectContaining({ code: 'ERR_NO_SERVERS' }));
    c.add('a:1');
    expect(c.server('k').address).toBe('a:1');
  });

  it('a closed cluster refuses to pick, so no connection is opened that nobody closes', async () => {
    const c = cluster({ servers: hosts(1) });
    await c.close();
    expect(() => c.server()).toThrow(expect.objectContaining({ code: 'ERR_CLUSTER_CLOSED' }));
    expect(c.servers[0].hasConnection).toBe(false);
  });

  it('HASH over weight-0 servers only is an error, not a crash', () => {
    const c = cluster({ servers: 'a:1:0,b:2:0', balance: HASH });
    expect(() => c.server('k')).toThrow(expect.objectContaining({ code: 'ERR_NO_SERVERS' }));
  });

  it('timeout reads the common value and sets every server (MR::IProto::Cluster::timeout)', () => {
    const c = cluster({ servers: hosts(3), timeout: 300 });
    expect(c.timeout).toBe(300);
    c.servers[0].timeout = 100;
    expect(c.timeout).toBeUndefined();
    c.timeout = 700;
    expect(c.servers.map((s) => s.timeout)).toEqual([700, 700, 700]);
    expect(c.add('z:1').timeout).toBe(700);
  });

  it('re-emits server down / up with the reason', () => {
    const c = cluster({ servers: hosts(2) });
    const events: unknown[] = [];
    c.on('server down', (s, reason) => events.push(['down', s.address, reason]));
    c.on('server up', (s, reason) => events.push(['up', s.address, reason]));
    c.servers[0].active = false;
    c.servers[0].active = false;
    c.servers[0].active = true;
    expect(events).toEqual([
      ['down', '10.0.0.1:33013', 'set inactive'],
      ['up', '10.0.0.1:33013', 'set active'],
    ]);
  });

  it('emits serverDown / serverUp and the deprecated aliases, each listener once per event', () => {
    const c = cluster({ servers: hosts(2) });
    const events: unknown[] = [];
    c.on('serverDown', (s, reason) => events.push(['serverDown', s.address, reason]));
    c.on('server down', (s) => events.push(['server down', s.address]));
    c.on('serverUp', (s, reason) => events.push(['serverUp', s.address, reason]));
    c.servers[0].active = false;
    c.servers[0].active = true;
    expect(events).toEqual([
      ['serverDown', '10.0.0.1:33013', 'set inactive'],
      ['server down', '10.0.0.1:33013'],
      ['serverUp', '10.0.0.1:33013', 'set active'],
    ]);
  });

  it('accepts string, number, bigint and byte keys', () => {
    const c = cluster({ servers: hosts(7), balance: HASH });
    expect(c.server(12)).toBe(c.server('12'));
    expect(c.server(12n)).toBe(c.server('12'));
    expect(c.server(1.5)).toBe(c.server('1.5'));
    expect(c.server(new TextEncoder().encode('ключ'))).toBe(c.server('ключ'));
  });
});

describe('Cluster#dispatch (issue 12: one contract)', () => {
  it('picks the server for the key and forwards the request and handler to it', async () => {
    const seen: [string, number][] = [];
    const c = cluster({ servers: hosts(3), balance: HASH });
    for (const s of c.servers) {
      Object.defineProperty(s, 'dispatch', {
        value: (request: { msg: number }, handler: { onReply(frame: undefined): void }) => {
          seen.push([s.address, request.msg]);
          handler.onReply(undefined);
        },
      });
    }
    const replies: unknown[] = [];
    const handler = {
      onReply: (frame: unknown) => replies.push(frame),
      onError: (e: Error) => replies.push(e),
    };
    c.dispatch({ msg: 5, key: 'some key' }, handler);
    expect(seen).toEqual([[c.server('some key').address, 5]]);
    expect(replies).toEqual([undefined]);
    // A failed pick reaches the handler, later.
    c.dispatch({ msg: 6 }, handler);
    expect(replies).toHaveLength(1);
    await Promise.resolve();
    expect((replies[1] as { code: string }).code).toBe('ERR_NO_KEY');
  });
});
