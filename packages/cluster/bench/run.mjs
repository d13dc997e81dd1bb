// cluster.server(key) picks per second, for each balancing algorithm with 3 and 100 servers, against
// two baselines: Perl's own MR::IProto::Cluster->server (same fleet, same keys, timed in one perl
// process) and a bare crc32 table loop over the same keys (the least a HASH or KETAMA pick must do).
// Run after a build: `pnpm --filter @iproto/cluster build && pnpm --filter @iproto/cluster bench`.
// Human table on stderr; the last stdout line is the JSON summary described in docs/architecture.md.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { printRows, resultRow } from '../../../bench/lib/rows.mjs';
import { Cluster, HASH, KETAMA, MAX_WEIGHT, RR } from '../dist/index.js';

const quick = process.argv.includes('--quick') || process.env.IPROTO_BENCH_QUICK === '1';
const ROUNDS = quick ? 5 : 15;
const PERL_SECONDS = quick ? 0.3 : 1;
const KEYS = Array.from({ length: 1000 }, (_, i) => `user:${(i * 7919) % 100000}`);
const PICKS = 200_000;

const fleet = (n) =>
  Array.from({ length: n }, (_, i) => ({
    host: `10.0.${i >> 8}.${i & 255}`,
    port: 33013,
    weight: 1 + (i % 3),
  }));

/** Picks per second of CPU time (user + system): wall time on a shared box measures the neighbours. */
function rate(fn) {
  globalThis.gc?.();
  const start = process.cpuUsage();
  const n = fn();
  const used = process.cpuUsage(start);
  return (n * 1e6) / (used.user + used.system);
}

/** Best of ROUNDS after a warm-up: the round least disturbed by other processes. */
function best(fn) {
  for (let i = 0; i < 3; i++) fn();
  let top = 0;
  for (let i = 0; i < ROUNDS; i++) top = Math.max(top, rate(fn));
  return top;
}

let sink = 0;

function picks(cluster) {
  return () => {
    const keys = KEYS;
    for (let i = 0; i < PICKS; i++) sink += cluster.server(keys[i % keys.length]).port;
    return PICKS;
  };
}

const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}
// The bare loop: crc32 of each key's bytes (encoded once, outside the loop), nothing else.
const KEY_BYTES = KEYS.map((k) => Buffer.from(k));
function bareCrc() {
  for (let i = 0; i < PICKS; i++) {
    const bytes = KEY_BYTES[i % KEY_BYTES.length];
    let crc = -1;
    for (let j = 0; j < bytes.length; j++) crc = TABLE[(crc ^ bytes[j]) & 0xff] ^ (crc >>> 8);
    sink += ~crc >>> 0;
  }
  return PICKS;
}

/** One perl running MR::IProto::Cluster (the test oracle); undefined when perl or the module is missing. */
function startPerl() {
  const script = fileURLToPath(new URL('../test/support/perl/oracle.pl', import.meta.url));
  const child = spawn('perl', [script], { stdio: ['pipe', 'pipe', 'ignore'] });
  const waiting = [];
  let dead = false;
  child.on('error', () => {
    dead = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
  child.on('exit', () => {
    dead = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(JSON.parse(line)));
  const request = (body) =>
    new Promise((resolve) => {
      if (dead) return resolve(undefined);
      waiting.push(resolve);
      child.stdin.write(`${JSON.stringify(body)}\n`);
    });
  return { request, close: () => child.stdin.end() };
}

const perl = startPerl();
const perlBalance = { [RR]: 1, [HASH]: 2, [KETAMA]: 3 };
const perlKeys = KEYS.map((k) => ['b', Buffer.from(k).toString('hex')]);

async function perlRate(balance, servers) {
  const setup = await perl.request({ op: 'setup', servers, balance: perlBalance[balance] });
  if (!setup?.ok) return undefined;
  const reply = await perl.request({ op: 'rate', keys: perlKeys, seconds: PERL_SECONDS });
  return reply?.rate;
}

const results = [];
function row(name, value, baseline, baselineValue, target) {
  // As in the other packages: ratio = baseline / ours, so below 1 means faster than the baseline.
  results.push(
    resultRow({
      name,
      unit: 'picks/s',
      value,
      baseline,
      baselineValue,
      target,
      ratio: 'baseline/ours',
      digits: 4,
    }),
  );
}

const bare = best(bareCrc);
for (const n of [3, 100]) {
  for (const balance of [RR, HASH, KETAMA]) {
    const servers = fleet(n);
    const cluster = new Cluster({ servers, balance, health: false });
    const value = best(picks(cluster));
    await cluster.close();
    const perlValue = await perlRate(balance, servers);
    const name = `server(key) ${balance}, ${n} servers`;
    if (perlValue !== undefined) row(name, value, 'Perl MR::IProto::Cluster->server', perlValue, 1);
    if (balance !== RR) row(name, value, 'bare crc32 table loop', bare, 3);
  }
}
// Weights at MAX_WEIGHT: Perl would build a list of 10^8 entries (13 s, 1.9 GB) before its first
// pick, so it is left out; ours must pick as fast as with weights of 1 to 3.
{
  const servers = fleet(100).map((s) => ({ ...s, weight: MAX_WEIGHT }));
  const cluster = new Cluster({ servers, balance: HASH, health: false });
  row(
    `server(key) ${HASH}, 100 servers of weight ${MAX_WEIGHT}`,
    best(picks(cluster)),
    'bare crc32 table loop',
    bare,
    3,
  );
  await cluster.close();
}
perl.close();

printRows(results);
if (sink === 0.5) process.stderr.write('\n'); // keeps `sink` alive
console.log(JSON.stringify({ package: '@iproto/cluster', results }));
