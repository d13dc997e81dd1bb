#!/usr/bin/env node
// The iproto demo: three in-process Tarantool 1.5 boxes (the box double of @iproto/server/testing)
// acting as the shards of a small key-value store, and one IProto client that spreads keys over them
// with HASH balancing (crc32, exactly as Perl MR::IProto::Cluster picks). It writes and reads back
// thousands of keys, kills a shard while traffic runs to show requests failing over, brings the
// shard back, and measures throughput.
//
// Run it with `pnpm demo` (which builds first). Options: --keys N (default 10000), --load N (reads
// in the closing throughput run, default 50000).
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Cluster, IProto } from '@iproto/client';
import { BoxDouble } from '@iproto/server/testing';

const { values: opts } = parseArgs({
  options: { keys: { type: 'string', default: '10000' }, load: { type: 'string', default: '50000' } },
});
/** A positive integer option, or a one-line error and exit code 2. */
function count(name) {
  const n = Number(opts[name]);
  if (Number.isSafeInteger(n) && n >= 2) return n;
  process.stderr.write(`demo: --${name} must be an integer >= 2, got "${opts[name]}"\n`);
  process.exit(2);
}
const KEYS = count('keys');
const LOAD = count('load');
const NEW_KEYS = Math.floor(KEYS / 2);

// ---- The shard: a Tarantool 1.5 box ------------------------------------------------------------
/**
 * Each shard is a box with one space, 0, of [key, value] tuples keyed by the key as a STR. The client
 * speaks the box's own messages, in MR::Tarantool::Box's layouts.
 */
const Msg = {
  /** `L space, L flags, L cardinality`, the fields as `w/a*` -> `L 0, L count` */
  INSERT: 13,
  /** `L space, L index, L offset, L limit, L key count`, each key as `L cardinality, (w/a*)*` -> `L 0, L count`, the tuples */
  SELECT: 17,
};
const SPACE = { space: 0, indexes: [{ parts: [{ field: 0, type: 'STR' }], type: 'HASH' }] };

class Shard {
  constructor(name) {
    this.name = name;
    this.box = undefined;
    this.snapshot = []; // what the box had when it was killed: a restart recovers it
    this.requests = 0;
    this.port = 0;
  }

  /** Tuples held now (or at the kill). */
  get size() {
    return this.box ? this.box.space(0).size : this.snapshot.length;
  }

  /** The keys held now. */
  keys() {
    const tuples = this.box ? this.box.space(0).tuples() : this.snapshot;
    return new Set(tuples.map(([key]) => key.toString()));
  }

  async start() {
    this.box = new BoxDouble({ spaces: [SPACE] });
    // Recovery: as a real box reads its snapshot and log at start.
    for (const tuple of this.snapshot) this.box.space(0).put(tuple);
    this.snapshot = [];
    this.box.on('request', () => this.requests++);
    const { port } = await this.box.listen(this.port, '127.0.0.1');
    this.port = port;
  }

  async kill() {
    this.snapshot = this.box.space(0).tuples();
    await this.box.close();
    this.box = undefined;
  }

  get address() {
    return `127.0.0.1:${this.port}`;
  }
}

/** A box reply: `L code`; on success `L count`, then per tuple `L size, L cardinality`, the fields. */
function selectedValue(body) {
  const code = body.readUInt32LE(0);
  if (code !== 0) throw new Error(`box error 0x${code.toString(16)}: ${body.subarray(4, -1)}`);
  if (body.readUInt32LE(4) === 0) return [undefined];
  // one tuple of two fields, each `w/a*`: skip the key, read the value
  let at = 16;
  const field = () => {
    let length = 0;
    let byte;
    do {
      byte = body[at++];
      length = length * 128 + (byte & 0x7f);
    } while (byte & 0x80);
    at += length;
    return body.subarray(at - length, at);
  };
  field();
  return [field().toString()];
}

// ---- Small terminal helpers --------------------------------------------------------------------
const out = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const ms = (x) => `${x.toFixed(3)} ms`;
const step = (title) => out(`\n▸ ${title}`);

function barChart(rows) {
  const width = 36;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const total = rows.reduce((a, r) => a + r.value, 0) || 1;
  for (const r of rows) {
    const n = Math.round((r.value / max) * width);
    const share = ((r.value / total) * 100).toFixed(1).padStart(5);
    out(
      `  ${r.label.padEnd(8)} ${'█'.repeat(n)}${'░'.repeat(width - n)} ${fmt(r.value).padStart(7)}  ${share}%`,
    );
  }
}

/** Runs `count` jobs with at most `depth` in flight; records each one's latency in ms. */
async function runPool(count, depth, job) {
  const latencies = new Float64Array(count);
  let next = 0;
  let failed = 0;
  let firstError;
  const started = performance.now();
  async function worker() {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      try {
        await job(i);
      } catch (error) {
        failed++;
        firstError ??= error;
      }
      latencies[i] = performance.now() - t0;
    }
  }
  await Promise.all(Array.from({ length: Math.min(depth, count) }, worker));
  return { elapsed: performance.now() - started, latencies, failed, firstError };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// ---- The demo ----------------------------------------------------------------------------------
const shards = [new Shard('shard 1'), new Shard('shard 2'), new Shard('shard 3')];
const shardOf = (server) => shards.find((s) => s.port === server.port);

out('iproto demo: a sharded key-value store on three in-process Tarantool 1.5 boxes');
step('starting three shards');
for (const s of shards) {
  await s.start();
  out(`  ${s.name}  ${s.address}`);
}

const cluster = new Cluster({
  servers: shards.map((s) => s.address).join(','),
  balance: 'hash-crc32',
  timeout: 2000,
  // Perl never brings a failed server back; here a ping probe does, within half a second.
  health: { minDelay: 50, maxDelay: 500 },
});
cluster.on('server down', (server, reason) =>
  out(`  [cluster] server down: ${shardOf(server)?.name} ${server.address} (${reason?.code ?? reason})`),
);
cluster.on('server up', (server, reason) =>
  out(`  [cluster] server up: ${shardOf(server)?.name} ${server.address} (${reason})`),
);
const client = new IProto({ cluster, maxRequestRetries: 3 });

const set = async (key, value) => {
  const [code, count] = await client.send({
    msg: Msg.INSERT,
    key,
    data: [SPACE.space, 0, 2, key, value],
    pack: 'L L L w/a* w/a*',
    unpack: 'L L',
    retry: true,
  });
  if (code !== 0 || count !== 1) throw new Error(`insert ${key}: code ${code}, count ${count}`);
};
const get = async (key) => {
  const [value] = await client.send({
    msg: Msg.SELECT,
    key,
    data: [SPACE.space, 0, 0, 1, 1, 1, key],
    pack: 'L L L L L L w/a*',
    unpack: selectedValue,
    retry: true,
  });
  return value;
};
const keyOf = (i) => `user:${i}`;
const userValue = (i) => `{"id":${i},"name":"user ${i}"}`;

async function check(count, label) {
  let ok = 0;
  let missing = 0;
  const r = await runPool(count, 256, async (i) => {
    if ((await get(keyOf(i))) === userValue(i)) ok++;
    else missing++;
  });
  out(`  ${label}: ${fmt(ok)} of ${fmt(count)} match, ${fmt(missing)} missing, ${fmt(r.failed)} failed`);
  return ok;
}

let exitCode = 0;
try {
  step(`writing ${fmt(KEYS)} keys (HASH balancing: crc32(key), as Perl MR::IProto::Cluster)`);
  const writes = await runPool(KEYS, 256, (i) => set(keyOf(i), userValue(i)));
  if (writes.failed > 0) throw writes.firstError;
  out(
    `  ${fmt(KEYS)} writes in ${(writes.elapsed / 1000).toFixed(2)} s (${fmt((KEYS / writes.elapsed) * 1000)} req/s)`,
  );

  step('keys per shard');
  barChart(shards.map((s) => ({ label: s.name, value: s.size })));

  step(`reading back ${fmt(KEYS)} keys`);
  if ((await check(KEYS, 'read back')) !== KEYS) exitCode = 1;

  const victim = shards[1];
  step(`killing ${victim.name} (${victim.address}) while writing ${fmt(NEW_KEYS)} new keys`);
  const before = shards.map((s) => s.requests);
  // Where each new key belongs while all shards are up: HASH's first pick.
  const sessionKey = (i) => `session:${i}`;
  const home = Array.from({ length: NEW_KEYS }, (_, i) => shardOf(cluster.server(sessionKey(i))));
  let killed;
  const outage = await runPool(NEW_KEYS, 64, async (i) => {
    // Kill the shard a tenth of the way in: requests in flight on it fail and are retried elsewhere.
    if (i === Math.floor(KEYS / 20)) killed = victim.kill();
    await set(sessionKey(i), `token-${i}`);
  });
  await killed;
  out(
    `  ${fmt(NEW_KEYS - outage.failed)} of ${fmt(NEW_KEYS)} writes succeeded, ${fmt(outage.failed)} failed` +
      ` (requests cut off by the kill were retried on another shard)`,
  );
  const movedTo = shards.map(() => 0);
  const held = shards.map((s) => s.keys());
  home.forEach((shard, i) => {
    if (shard !== victim) return;
    const holder = shards.findIndex((s, j) => s !== victim && held[j].has(sessionKey(i)));
    if (holder >= 0) movedTo[holder]++;
  });
  const moved = movedTo.reduce((a, b) => a + b, 0);
  out(
    `  ${fmt(moved)} writes meant for ${victim.name} failed over: ` +
      shards
        .map((s, i) => (s === victim ? undefined : `${fmt(movedTo[i])} to ${s.name}`))
        .filter(Boolean)
        .join(', '),
  );
  out('  requests per shard during the outage:');
  barChart(shards.map((s, i) => ({ label: s.name, value: s.requests - before[i] })));
  if (outage.failed > 0) exitCode = 1;

  step(`restarting ${victim.name} on the same port`);
  const cameBack = new Promise((resolve, reject) => {
    // The probe backs off to 500 ms at most: ten seconds without it means something is wrong.
    const timer = setTimeout(() => {
      cluster.off('server up', onUp);
      reject(new Error(`${victim.name} was not seen coming back within 10 s`));
    }, 10_000);
    // Should the restart fail, this wait must not keep the process alive after the cleanup.
    timer.unref();
    const onUp = (server) => {
      if (server.port !== victim.port) return;
      clearTimeout(timer);
      cluster.off('server up', onUp);
      resolve();
    };
    cluster.on('server up', onUp);
  });
  // Together, so a failed restart does not leave `cameBack` to reject unhandled later.
  await Promise.all([victim.start(), cameBack]);
  out(`  ${victim.name} is back with its ${fmt(victim.size)} keys; HASH sends their requests to it again`);
  const victimBefore = victim.requests;
  if ((await check(KEYS, 'read back')) !== KEYS) exitCode = 1;
  out(`  ${victim.name} answered ${fmt(victim.requests - victimBefore)} of those reads`);

  step(`load: ${fmt(LOAD)} reads, 256 in flight`);
  const load = await runPool(LOAD, 256, (i) => get(keyOf(i % KEYS)));
  const sorted = load.latencies.sort();
  out(`  throughput  ${fmt((LOAD / load.elapsed) * 1000)} req/s  (${fmt(load.failed)} failed)`);
  out(
    `  latency     p50 ${ms(percentile(sorted, 50))}  p90 ${ms(percentile(sorted, 90))}  ` +
      `p99 ${ms(percentile(sorted, 99))}  max ${ms(sorted[sorted.length - 1])}`,
  );
  if (load.failed > 0) exitCode = 1;
} catch (error) {
  out(`demo failed: ${error?.stack ?? error}`);
  exitCode = 1;
} finally {
  await client.close();
  await cluster.close();
  await Promise.all(shards.filter((s) => s.box).map((s) => s.kill()));
}
out(exitCode === 0 ? '\ndone: every key accounted for; servers and client closed.' : '\ndemo: FAILED');
process.exitCode = exitCode;
