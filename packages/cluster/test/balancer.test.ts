import { createRng } from '@iproto/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { HASH, KETAMA } from '../src/balance.js';
import { type Balanced, Balancer, HASH_PROBES, KETAMA_POINTS } from '../src/balancer.js';
import { Cluster, type ClusterOptions } from '../src/cluster.js';
import { crc32 } from '../src/crc32.js';
import { MAX_WEIGHT } from '../src/weight.js';

const clusters: Cluster[] = [];
function cluster(options: ClusterOptions): Cluster {
  const c = new Cluster({ health: false, ...options });
  clusters.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.close()));
});

interface Fake extends Balanced {
  active: boolean;
}

const fake = (i: number, weight: number, active = true): Fake => ({
  host: `10.1.${i >> 8}.${i & 255}`,
  port: 33013,
  weight,
  active,
});

/**
 * MR::IProto::Cluster::_balance_hash read literally: the probe loop over the expanded list (of
 * indexes into `servers`). The model the balancer must agree with, for lists small enough to expand.
 */
function perlHashModel(
  servers: readonly Fake[],
  list: Uint8Array,
  key: string,
  exclude?: ReadonlySet<Fake>,
): Fake | undefined {
  if (list.length === 0) return undefined;
  const seed = crc32(key) >>> 16;
  let hash = seed;
  for (let probe = 0; probe < HASH_PROBES; probe++) {
    const server = servers[list[hash % list.length]];
    if (server.active && !exclude?.has(server)) return server;
    hash += crc32(String(probe), seed) >>> 16;
  }
  return undefined;
}

describe('HASH without the expanded list', () => {
  it('issue 13: weights summing to 10^8 build in constant memory (Perl-style expansion took 13 s and 1.9 GB)', () => {
    const servers = Array.from({ length: 100 }, (_, i) => `10.0.0.${i}:33013:${MAX_WEIGHT}`).join(',');
    const before = process.memoryUsage().heapUsed;
    const c = cluster({ servers, balance: HASH });
    const grown = process.memoryUsage().heapUsed - before;
    expect(grown).toBeLessThan(16 * 1024 * 1024);
    const balancer = new Balancer(c.servers);
    expect(balancer.hashList.length).toBe(100 * MAX_WEIGHT);
    // Every probed index is below 20 * 2^16, so with a list this long only the first two servers
    // can be hit: entry h of Perl's list.
    const picked = new Set(Array.from({ length: 2000 }, (_, i) => c.server(`key ${i}`)));
    expect([...picked].every((s) => s === c.servers[0] || s === c.servers[1])).toBe(true);
  });

  it('picks what the expanded list picks, for random fleets with zero, small and large weights', () => {
    const seed = 13;
    const r = createRng(seed);
    let compared = 0;
    for (let trial = 0; trial < 60; trial++) {
      const count = 1 + r.below(12);
      const weights = [0, 1, 2, 3, 7, 100, 4095, 4096, 4097, 65535, 65536, 65537, 200_000];
      const servers = Array.from({ length: count }, (_, i) =>
        fake(i, r.pick(weights), r() >= r.pick([0, 0.3, 0.9])),
      );
      const balancer = new Balancer(servers);
      // MR::IProto::Cluster::_build__hash_servers: each server `weight` times, in list order (here
      // as its index in `servers`).
      const list = new Uint8Array(servers.reduce((sum, s) => sum + s.weight, 0));
      let filled = 0;
      servers.forEach((s, i) => {
        list.fill(i, filled, (filled += s.weight));
      });
      const exclude = r() < 0.3 ? new Set([r.pick(servers)]) : undefined;
      for (let k = 0; k < 200; k++) {
        const key = `k${trial}:${k}:${r.below(1e9)}`;
        const where = `seed ${seed} trial ${trial} key ${key} weights ${servers.map((s) => s.weight)}`;
        expect(balancer.probeHash(key, exclude), where).toBe(perlHashModel(servers, list, key, exclude));
        compared++;
      }
    }
    expect(compared).toBe(60 * 200);
  });

  it('falls back to a random entry of the list: each usable server as often as its weight says', () => {
    const servers = [fake(0, 1), fake(1, 3), fake(2, 0), fake(3, 4, false)];
    const balancer = new Balancer(servers);
    const counts = new Map<Fake, number>();
    const draws = 40_000;
    for (let i = 0; i < draws; i++) {
      const s = balancer.fallbackHash(undefined)!;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    // Weight 0 is not in the list; the inactive one is passed over while active ones exist.
    expect([...counts.keys()].sort((a, b) => a.weight - b.weight)).toEqual([servers[0], servers[1]]);
    expect(counts.get(servers[1])! / draws).toBeCloseTo(0.75, 1);
    // Excluded servers are passed over too; with nothing usable left, Perl's pick among all entries.
    expect(balancer.fallbackHash(new Set([servers[1]]))).toBe(servers[0]);
    const all = new Set(servers);
    const anyEntry = new Set(Array.from({ length: 200 }, () => balancer.fallbackHash(all)));
    expect([...anyEntry].every((s) => s !== undefined && s.weight > 0)).toBe(true);
  });

  it('KETAMA has 11 points per server whatever the weights (MR::IProto::Cluster::_build__ketama)', () => {
    const balancer = new Balancer([fake(0, MAX_WEIGHT), fake(1, 0), fake(2, 1)]);
    expect(balancer.ketamaPoints.length).toBe(3 * KETAMA_POINTS);
  });
});

describe('weight limit (MAX_WEIGHT = 1,000,000)', () => {
  /** The error at the limit: `where` names the server (or the servers-string entry). */
  const limitError = (where: string, weight: number) =>
    expect.objectContaining({
      name: 'RangeError',
      code: 'ERR_WEIGHT_LIMIT',
      message: `${where}: weight ${weight} is above the maximum 1000000 (MAX_WEIGHT)`,
    });

  it('issue 13: a servers string with weight 1000000000 is refused at once (it aborted the process out of memory)', () => {
    let error: unknown;
    try {
      cluster({ servers: 'a:1,b:2:1000000000', balance: HASH });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RangeError);
    expect(error).toMatchObject({ code: 'ERR_WEIGHT_LIMIT' });
    expect((error as Error).message).toBe(
      'bad server "b:2:1000000000" in servers string: weight 1000000000 is above the maximum 1000000 (MAX_WEIGHT)',
    );
  });

  it('accepts MAX_WEIGHT - 1 and MAX_WEIGHT, refuses MAX_WEIGHT + 1, in strings, options and add()', () => {
    for (const weight of [MAX_WEIGHT - 1, MAX_WEIGHT]) {
      expect(cluster({ servers: `a:1:${weight},b:2`, balance: HASH }).servers[0].weight).toBe(weight);
      expect(cluster({ servers: [{ host: 'a', port: 1, weight }], balance: KETAMA }).servers[0].weight).toBe(
        weight,
      );
      expect(cluster({ servers: 'a:1' }).add({ host: 'b', port: 2, weight }).weight).toBe(weight);
    }
    const over = MAX_WEIGHT + 1;
    expect(() => cluster({ servers: `a:1:${over},b:2` })).toThrow(
      limitError('bad server "a:1:1000001" in servers string', over),
    );
    expect(() => cluster({ servers: [{ host: 'b', port: 7, weight: over }] })).toThrow(
      limitError('server b:7', over),
    );
    expect(() => cluster({ servers: [{ host: '::1', port: 7, weight: over }] })).toThrow(
      /^server \[::1\]:7: /,
    );
    const c = cluster({ servers: 'a:1' });
    expect(() => c.add('c:3:1000001')).toThrow(
      limitError('bad server "c:3:1000001" in servers string', over),
    );
    expect(() => c.add({ host: 'c', port: 3, weight: over })).toThrow(limitError('server c:3', over));
    // A refused add() leaves the cluster as it was.
    expect(c.servers.map((s) => s.address)).toEqual(['a:1']);
  });
});
