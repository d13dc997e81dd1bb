import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Balance, Cluster } from '@iproto/cluster';
import { encodeFrame } from '@iproto/framing';
import { pack } from '@iproto/pack';
import { IProtoServer } from '@iproto/server';
import { createRng } from '@iproto/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../src/bench/run-bench.js';
import { main } from '../src/main.js';
import { assertBuilt, fakeIO, runCli } from './support/test-support.js';

/** A server that answers every message with its body and remembers what it got. */
interface Recorder {
  server: IProtoServer;
  address: string;
  seen: { msg: number; body: string }[];
}

const started: IProtoServer[] = [];
async function recorder(
  answer: (n: number) => Uint8Array | Promise<Uint8Array> = () => new Uint8Array(0),
): Promise<Recorder> {
  const seen: Recorder['seen'] = [];
  const server = new IProtoServer({
    handler: (request) => {
      seen.push({ msg: request.msg, body: Buffer.from(request.body).toString('hex') });
      return answer(seen.length);
    },
  });
  started.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, address: `127.0.0.1:${port}`, seen };
}

async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iproto-bench-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

describe('runBench over a cluster', () => {
  it('sends round-robin over every server, through @iproto/client', async () => {
    const servers = [await recorder(), await recorder(), await recorder()];
    const result = await runBench({
      servers: servers.map((s) => s.address).join(','),
      requests: 3000,
      depth: 8,
      connections: 2,
    });
    expect(result).toMatchObject({ requests: 3000, errors: 0, mode: 'closed-loop', connections: 2 });
    expect(result.address).toBe(servers.map((s) => s.address).join(','));
    for (const s of servers) {
      // Round-robin: each server gets a third, give or take what was in flight at the end.
      expect(s.seen.length).toBeGreaterThan(900);
      expect(s.seen.every((r) => r.msg === 0xff00 && r.body === '')).toBe(true);
    }
    expect(servers.reduce((n, s) => n + s.seen.length, 0)).toBe(3000);
  });

  it('sends the given messages in turn', async () => {
    const s = await recorder();
    await runBench({
      servers: s.address,
      requests: 4,
      depth: 1,
      messages: [
        { msg: 17, body: Uint8Array.of(1) },
        { msg: 0x1234, body: Uint8Array.of(2, 3) },
      ],
    });
    expect(s.seen).toEqual([
      { msg: 17, body: '01' },
      { msg: 0x1234, body: '0203' },
      { msg: 17, body: '01' },
      { msg: 0x1234, body: '0203' },
    ]);
  });

  it('does not count the warm-up: runs --duration after it', async () => {
    const s = await recorder();
    const result = await runBench({ servers: s.address, duration: 300, warmup: 200, depth: 2 });
    expect(result.warmupMs).toBe(200);
    expect(result.requests).toBeGreaterThan(0);
    // What the server answered during the warm-up is not in the count.
    expect(s.seen.length).toBeGreaterThan(result.requests);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(300);
  });
});

/**
 * Requests per server, in list order, that a Perl MR::IProto::Cluster over `list` with `balance`
 * sends for these keys: what a bench with the same keys must have sent where.
 */
async function expectedSpread(
  list: string,
  balance: Balance,
  keys: Iterable<string | number>,
): Promise<number[]> {
  const reference = new Cluster({ servers: list, balance, health: false });
  const counts = reference.servers.map(() => 0);
  for (const key of keys) counts[reference.servers.indexOf(reference.server(key))]++;
  await reference.close();
  return counts;
}

/** The keys `--key random --seed seed` draws, in order: the test kit's PRNG, as the bench uses it. */
function* drawnKeys(seed: number, count: number): Generator<number> {
  const rng = createRng(seed);
  for (let i = 0; i < count; i++) yield rng.below(2 ** 32);
}

describe('runBench over a sharded cluster: --balance and --key', () => {
  /** Three servers, the first weighted 2 as Perl's string allows, and how many requests each has seen. */
  async function shards() {
    const servers = [await recorder(), await recorder(), await recorder()];
    const list = `${servers[0].address}:2,${servers[1].address},${servers[2].address}`;
    let before = servers.map(() => 0);
    /** Requests each server got since the last call. */
    const landed = () => {
      const now = servers.map((s) => s.seen.length);
      const spread = now.map((n, i) => n - before[i]);
      before = now;
      return spread;
    };
    return { list, landed };
  }

  for (const balance of ['hash-crc32', 'ketama'] as const) {
    it(`${balance}: a fixed key sends every request to the one server the cluster picks for it`, async () => {
      const { list, landed } = await shards();
      for (const key of ['user:7', '12345', 42]) {
        const result = await runBench({
          servers: list,
          balance,
          key,
          requests: 200,
          depth: 8,
          connections: 2,
        });
        expect(result).toMatchObject({ requests: 200, errors: 0, balance, key: String(key) });
        expect(landed()).toEqual(await expectedSpread(list, balance, Array(200).fill(key)));
      }
    });

    it(`${balance}: random keys from the seed land where the cluster puts each one`, async () => {
      const { list, landed } = await shards();
      for (const seed of [1, 99]) {
        const result = await runBench({
          servers: list,
          balance,
          randomKeys: { seed },
          requests: 3000,
          depth: 16,
        });
        expect(result).toMatchObject({ requests: 3000, errors: 0, balance, key: 'random', seed });
        const spread = landed();
        expect(spread).toEqual(await expectedSpread(list, balance, drawnKeys(seed, 3000)));
        // Keys reach every shard: hash-crc32 spreads them by weight; ketama's ring depends on the
        // servers' addresses (random ports here), so its shares vary from run to run.
        for (const n of spread) expect(n).toBeGreaterThan(balance === 'ketama' ? 30 : 300);
      }
    });
  }

  it('refuses a hash balance with no key, a key and random keys both, and a bad seed', async () => {
    const s = await recorder();
    await expect(runBench({ servers: s.address, balance: 'ketama' })).rejects.toThrow(
      'runBench: balance ketama needs key or randomKeys',
    );
    await expect(runBench({ servers: s.address, key: 1, randomKeys: {} })).rejects.toThrow(
      'runBench: give key or randomKeys, not both',
    );
    await expect(runBench({ servers: s.address, randomKeys: { seed: -1 } })).rejects.toThrow(
      'runBench: randomKeys.seed must be an integer from 0 to 4294967295, got -1',
    );
    await expect(runBench({ servers: s.address, balance: 'random' as Balance })).rejects.toThrow(
      "runBench: balance must be 'round-robin', 'hash-crc32' or 'ketama', got random",
    );
    // A million requests in flight would take the process down before the first reply.
    await expect(runBench({ servers: s.address, depth: 1_000_000, connections: 50 })).rejects.toThrow(
      'runBench: depth × connections must be at most 100000 requests in flight, got 1000000 × 50',
    );
    expect(s.seen).toEqual([]);
  });
});

describe('runBench at a fixed rate', () => {
  it('sends exactly the requests asked for, on schedule', async () => {
    const s = await recorder();
    const result = await runBench({ servers: s.address, rate: 1000, requests: 200 });
    expect(result).toMatchObject({ mode: 'fixed-rate', rate: 1000, requests: 200, errors: 0, unsent: 0 });
    expect(s.seen).toHaveLength(200);
    // Request 199 is due 199 ms after the first: the run cannot be shorter.
    expect(result.elapsedMs).toBeGreaterThanOrEqual(199);
  });

  it('measures from the scheduled send time: one stalled reply shows in the requests behind it', async () => {
    // One slot, 100 requests a second, and the 10th reply held for 400 ms: about 40 requests fall
    // due while it is held. Measured from their actual send they would all look fast (one slow
    // sample in ~100 leaves p90 untouched); measured from when they were due, the tenth of them
    // that waited longest are each over 100 ms late.
    const s = await recorder((n) =>
      n === 10
        ? new Promise((resolve) => setTimeout(() => resolve(new Uint8Array(0)), 400))
        : new Uint8Array(0),
    );
    const result = await runBench({ servers: s.address, rate: 100, duration: 1000, depth: 1 });
    expect(result.errors).toBe(0);
    expect(result.latency.max).toBeGreaterThanOrEqual(400);
    expect(result.latency.p90).toBeGreaterThanOrEqual(100);
    const closed = await runBench({ servers: s.address, requests: 100, depth: 1 });
    expect(closed.latency.p90).toBeLessThan(100);
  });

  it('counts what it could not send when every slot is busy, and does not send it late', async () => {
    // A server that never answers: two slots, then nothing more can go out.
    const s = await recorder(() => new Promise<Uint8Array>(() => {}));
    const result = await runBench({ servers: s.address, rate: 1000, duration: 300, depth: 2, timeout: 400 });
    expect(result.requests).toBe(0);
    expect(result.errors).toBe(2);
    expect(result.firstErrorCode).toBe('ETIMEDOUT');
    expect(result.unsent).toBeGreaterThanOrEqual(250);
    expect(result.unsent).toBeLessThanOrEqual(300);
    expect(s.seen).toHaveLength(2);
  });

  it('sends nothing when its signal aborted while it connected', async () => {
    const s = await recorder();
    const result = await runBench({ servers: s.address, requests: 1000, signal: AbortSignal.abort() });
    expect(result.requests).toBe(0);
    expect(s.seen).toHaveLength(0);
    const paced = await runBench({
      servers: s.address,
      rate: 1000,
      requests: 10,
      signal: AbortSignal.abort(),
    });
    expect(paced).toMatchObject({ requests: 0, unsent: 0 });
    expect(s.seen).toHaveLength(0);
  });

  it('counts as unsent only what was due before it stopped, not what fell due while replies came in', async () => {
    // 500 a second, each reply 50 ms late: about 25 in flight, never all 64 slots busy. Stopped
    // mid-run, the requests due while the last replies arrive were not wanted: none is unsent.
    const s = await recorder(
      () => new Promise((resolve) => setTimeout(() => resolve(new Uint8Array(0)), 50)),
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const result = await runBench({
      servers: s.address,
      rate: 500,
      duration: 10_000,
      signal: controller.signal,
    });
    expect(result.errors).toBe(0);
    expect(result.requests).toBeGreaterThan(0);
    expect(result.unsent).toBe(0);
  });

  it('waits for a request due beyond what setTimeout holds without a warning storm', async () => {
    // 1e-7 requests a second: the second request is due in ~115 days, past setTimeout's 2^31-1 ms.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const s = await recorder();
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const result = await runBench({
        servers: s.address,
        rate: 1e-7,
        requests: 2,
        signal: controller.signal,
      });
      expect(result.requests).toBe(1);
      expect(s.seen).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((name) => name === 'TimeoutOverflowWarning')).toEqual([]);
  });

  it('stops when its signal aborts', async () => {
    const s = await recorder();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await runBench({
      servers: s.address,
      rate: 500,
      duration: 60_000,
      signal: controller.signal,
    });
    expect(result.requests).toBeGreaterThan(0);
    expect(result.requests).toBeLessThan(1000);
  });
});

describe('iproto bench', () => {
  beforeAll(assertBuilt);

  it('sends a real request: --msg with --pack and its values, negative ones too', async () => {
    const s = await recorder();
    const r = await runCli([
      'bench',
      s.address,
      '--msg',
      '13',
      '--pack',
      'L l w/a*',
      '7',
      '-5',
      'hello',
      '--requests',
      '50',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ requests: 50, msg: 13, kinds: 1 });
    const body = Buffer.from(pack('L l w/a*', 7, -5, 'hello')).toString('hex');
    expect(s.seen.every((q) => q.msg === 13 && q.body === body)).toBe(true);
  });

  it('benches a sharded cluster: --balance hash --key random --seed, and --key KEY', async () => {
    const servers = [await recorder(), await recorder(), await recorder()];
    const list = servers.map((s) => s.address).join(',');
    const r = await runCli([
      'bench',
      list,
      '--balance',
      'hash',
      '--key',
      'random',
      '--seed',
      '5',
      '--requests',
      '600',
      '--rate',
      '5000/s',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      requests: 600,
      balance: 'hash-crc32',
      key: 'random',
      seed: 5,
    });
    const spread = servers.map((s) => s.seen.length);
    expect(spread).toEqual(await expectedSpread(list, 'hash-crc32', drawnKeys(5, 600)));

    // A key alone balances by hash-crc32, as send does; the table's header says how.
    const fixed = await runCli(['bench', list, '--key', 'user:7', '--requests', '100']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout.split('\n')[0]).toMatch(/ {2}balance=hash-crc32 key=user:7$/);
    const hit = (await expectedSpread(list, 'hash-crc32', ['user:7'])).indexOf(1);
    expect(servers.map((s, i) => s.seen.length - spread[i])).toEqual(
      servers.map((_, i) => (i === hit ? 100 : 0)),
    );
    const random = await runCli([
      'bench',
      list,
      '--balance',
      'ketama',
      '--key',
      'random',
      '--requests',
      '10',
    ]);
    expect(random.stdout.split('\n')[0]).toMatch(/ {2}balance=ketama key=random seed=1$/);
  });

  it('replays the frames of a --frame file in turn, each with a sync of its own', async () => {
    const s = await recorder();
    const file = join(dir, 'requests.bin');
    await writeFile(file, Buffer.concat([encodeFrame(17, 1, Uint8Array.of(9)), encodeFrame(0xff00, 1)]));
    const r = await runCli(['bench', s.address, '--frame', file, '--requests', '6', '--depth', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(
      /^iproto bench 127\.0\.0\.1:\d+ {2}2 requests in turn {2}depth=1 x 1 connection$/,
    );
    expect(s.seen.map((q) => q.msg)).toEqual([17, 0xff00, 17, 0xff00, 17, 0xff00]);
  });

  it('prints the fixed-rate table: the rate, the warm-up, what went unsent', async () => {
    const a = await recorder();
    const b = await recorder();
    const r = await runCli([
      'bench',
      `${a.address},${b.address}`,
      '--rate',
      '500/s',
      '--duration',
      '400ms',
      '--warmup',
      '100ms',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `iproto bench ${a.address},${b.address}  msg=0xff00 body=0 B  rate=500/s  depth<=64 x 1 connection  warmup=100ms  balance=round-robin`,
    );
    expect(lines.map((l) => l.trim().split(/\s{2,}/)[0])).toEqual([
      lines[0].trim().split(/\s{2,}/)[0],
      'requests',
      'errors',
      'unsent',
      'elapsed',
      'throughput',
      'latency p50',
      'latency p90',
      'latency p99',
      'latency p99.9',
      'latency max',
    ]);
    expect(a.seen.length).toBeGreaterThan(0);
    expect(b.seen.length).toBeGreaterThan(0);
  });

  it('exits 1 with the first error when requests fail, as JSON under --json', async () => {
    const port = await closedPort();
    const r = await runCli(['bench', `127.0.0.1:${port}`, '--requests', '10', '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toEqual({
      error: {
        code: 'ECONNREFUSED',
        message: expect.stringMatching(/^iproto bench: 127\.0\.0\.1:\d+: /),
        exitCode: 1,
      },
    });
  });

  const refused: [string[], RegExp][] = [
    [
      ['--duration', '10'],
      /bad value for --duration: "10" \(expected a duration with its unit: 500ms, 10s, 1\.5m, 1h\)/,
    ],
    [['--duration', '0s'], /bad value for --duration: "0s" \(expected 1ms to 24h\)/],
    [['--duration', '-1s'], /bad value for --duration: "-1s" \(expected a duration with its unit/],
    [['--duration', '25h'], /bad value for --duration: "25h" \(expected 1ms to 24h\)/],
    [['--duration', '1e400s'], /bad value for --duration: "1e400s"/],
    [['--warmup', '2h'], /bad value for --warmup: "2h" \(expected 0 to 1h\)/],
    [['--warmup', 'soon'], /bad value for --warmup: "soon"/],
    [
      ['--rate', '0'],
      /bad value for --rate: "0" \(expected requests per second above 0 and up to 10,000,000/,
    ],
    [['--rate', '-5'], /bad value for --rate: "-5"/],
    [['--rate', '0/s'], /bad value for --rate: "0\/s"/],
    [['--rate', '20000000'], /bad value for --rate: "20000000"/],
    [['--rate', '1e9'], /bad value for --rate: "1e9"/],
    [['--rate', 'fast'], /bad value for --rate: "fast"/],
    [['--requests', '0'], /bad value for --requests: "0"/],
    [['--depth', '-1'], /bad value for --depth: "-1"/],
    [['--msg', '1', '--frame', 'x.bin'], /--frame gives the message code and body; drop --msg/],
    [
      ['--body', '8', '--pack', 'L', '1'],
      /--body gives a body of N bytes; drop it with --pack or --payload-hex/,
    ],
    [['--pack', 'L'], /cannot pack the body/],
    [['extra'], /values given without --pack: extra/],
    [
      ['--balance', 'shard'],
      /bad --balance "shard" \(expected round-robin or rr, hash-crc32 or hash, or ketama\)/,
    ],
    [['--balance', 'hash'], /^iproto bench: --balance hash needs --key$/],
    [['--balance', 'ketama', '--seed', '3'], /--balance ketama needs --key/],
    [['--key', '7', '--seed', '3'], /--seed seeds the keys of --key random; give --key random/],
    [
      ['--key', 'random', '--seed', '-1'],
      /bad value for --seed: "-1" \(expected an integer in 0\.\.4294967295\)/,
    ],
    [['--key', 'random', '--seed', 'x'], /bad value for --seed: "x"/],
    [
      ['--depth', '100000', '--connections', '2'],
      /--depth x --connections may keep at most 100000 requests in flight, got 100000 x 2/,
    ],
  ];
  for (const [args, pattern] of refused) {
    it(`refuses ${args.join(' ')} with one line and exit 2`, async () => {
      const t = fakeIO();
      expect(await main(['bench', '127.0.0.1:1', ...args], t.io)).toBe(2);
      expect(t.stdout()).toBe('');
      const lines = t.stderr().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^iproto bench: /);
      expect(lines[0]).toMatch(pattern);
    });
  }

  it('refuses a --frame file that is not whole frames, or none, or missing', async () => {
    const cut = join(dir, 'cut.bin');
    await writeFile(cut, encodeFrame(17, 1, Uint8Array.of(1, 2, 3)).subarray(0, 14));
    const empty = join(dir, 'empty.bin');
    await writeFile(empty, '');
    for (const [file, code, pattern] of [
      [cut, 2, /^iproto bench: --frame .*cut\.bin: ERR_FRAME_TRUNCATED: .*ends inside a frame at offset 0/],
      [empty, 2, /^iproto bench: --frame .*empty\.bin holds no frame/],
      [join(dir, 'missing.bin'), 1, /^iproto bench: --frame: cannot read .*missing\.bin: .*ENOENT/],
    ] as const) {
      const t = fakeIO();
      expect(await main(['bench', '127.0.0.1:1', '--frame', file], t.io)).toBe(code);
      expect(t.stderr()).toMatch(pattern);
    }
  });
});
