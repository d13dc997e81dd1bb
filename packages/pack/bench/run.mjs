// Throughput of @iproto/pack against Perl's own pack/unpack (a perl child running the same loop,
// timed inside Perl) and a hand-written Buffer version, for the templates iproto traffic uses.
// Run after a build: `pnpm --filter @iproto/pack build && pnpm --filter @iproto/pack bench`.
// Human table on stderr; the last stdout line is the JSON summary described in docs/architecture.md.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { printRows, resultRow } from '../../../bench/lib/rows.mjs';
import { compile } from '../dist/index.js';

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 3 : 7;

let sink = 0;

/** Operations per second of CPU time (user + system): wall time on a shared box measures neighbours. */
function rate(fn, n) {
  const start = process.cpuUsage();
  fn(n);
  const used = process.cpuUsage(start);
  return (n * 1e6) / (used.user + used.system);
}

/** Best of ROUNDS alternating runs, after a warm-up. */
function compare(fn, baseline, n) {
  fn(n);
  baseline(n);
  const a = [];
  const b = [];
  for (let i = 0; i < ROUNDS; i++) {
    a.push(rate(fn, n));
    b.push(rate(baseline, n));
  }
  return [Math.max(...a), Math.max(...b)];
}

// --- the cases -------------------------------------------------------------------------------

const field = (i, len) => Buffer.from(`f${i}`.padEnd(len, 'x'));

const cases = [
  {
    name: 'L3',
    template: 'L3',
    values: [13, 12, 0x12345678],
    n: 1_000_000,
    handPack: (v) => {
      const b = Buffer.allocUnsafe(12);
      b.writeUInt32LE(v[0], 0);
      b.writeUInt32LE(v[1], 4);
      b.writeUInt32LE(v[2], 8);
      return b;
    },
    handUnpack: (b) => [b.readUInt32LE(0), b.readUInt32LE(4), b.readUInt32LE(8)],
  },
  {
    name: 'L w/a* L(w/a*)*, 3-field tuple',
    template: 'L w/a* L(w/a*)*',
    values: [0, Buffer.from('user:1001'), 3, field(1, 8), field(2, 24), field(3, 4)],
    n: 500_000,
    handPack: (v) => {
      const key = v[1];
      let size = 4 + berLength(key.length) + key.length + 4;
      for (let i = 3; i < v.length; i++) size += berLength(v[i].length) + v[i].length;
      const b = Buffer.allocUnsafe(size);
      b.writeUInt32LE(v[0], 0);
      let at = writeBer(b, 4, key.length);
      at += key.copy(b, at);
      b.writeUInt32LE(v[2], at);
      at += 4;
      for (let i = 3; i < v.length; i++) {
        at = writeBer(b, at, v[i].length);
        at += v[i].copy(b, at);
      }
      return b;
    },
    handUnpack: (b) => {
      const out = [b.readUInt32LE(0)];
      let at = 4;
      const r = { at };
      let len = readBer(b, r);
      out.push(b.subarray(r.at, r.at + len));
      at = r.at + len;
      out.push(b.readUInt32LE(at));
      r.at = at + 4;
      while (r.at < b.length) {
        len = readBer(b, r);
        out.push(b.subarray(r.at, r.at + len));
        r.at += len;
      }
      return out;
    },
  },
  {
    name: '(w/a*)*, 100 fields',
    template: '(w/a*)*',
    values: Array.from({ length: 100 }, (_, i) => field(i, 8 + (i % 5) * 40)),
    n: 30_000,
    handPack: (v) => {
      let size = 0;
      for (let i = 0; i < v.length; i++) size += berLength(v[i].length) + v[i].length;
      const b = Buffer.allocUnsafe(size);
      let at = 0;
      for (let i = 0; i < v.length; i++) {
        at = writeBer(b, at, v[i].length);
        at += v[i].copy(b, at);
      }
      return b;
    },
    handUnpack: (b) => {
      const out = [];
      const r = { at: 0 };
      while (r.at < b.length) {
        const len = readBer(b, r);
        out.push(b.subarray(r.at, r.at + len));
        r.at += len;
      }
      return out;
    },
  },
];

function berLength(n) {
  let k = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    k++;
  }
  return k;
}

function writeBer(b, at, n) {
  const k = berLength(n);
  for (let i = k - 1; i >= 0; i--) {
    b[at + i] = (n & 0x7f) | (i === k - 1 ? 0 : 0x80);
    n = Math.floor(n / 128);
  }
  return at + k;
}

function readBer(b, r) {
  let n = 0;
  for (;;) {
    const c = b[r.at++];
    n = n * 128 + (c & 0x7f);
    if (c < 0x80) return n;
  }
}

/** The bytes of a pack result are used: its length and last byte. */
const usePacked = (b) => b.length + b[b.length - 1];
/** The values of an unpack result are used: the count, and the last value (or its length). */
function useUnpacked(out) {
  const last = out[out.length - 1];
  return out.length + (typeof last === 'number' ? last : last.length);
}

// --- perl ------------------------------------------------------------------------------------

const PERL_SCRIPT = fileURLToPath(new URL('../test/support/perl/pack-server.pl', import.meta.url));

function perlRates(requests) {
  return new Promise((resolve, reject) => {
    const child = spawn('perl', [PERL_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('exit', () => {
      const replies = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const byId = new Map(replies.map((r) => [r.id, r]));
      resolve(requests.map((_, i) => byId.get(i + 1)));
    });
    for (const [i, req] of requests.entries())
      child.stdin.write(`${JSON.stringify({ ...req, id: i + 1 })}\n`);
    child.stdin.end();
  });
}

const toWire = (v) => (Buffer.isBuffer(v) ? { s: v.toString('hex') } : v);

// Perl's best of a few runs, like ours.
const perlRuns = await perlRates(
  cases.flatMap((c) =>
    Array.from({ length: QUICK ? 2 : 3 }, () => ({
      op: 'bench',
      t: c.template,
      v: c.values.map(toWire),
      n: QUICK ? Math.ceil(c.n / 5) : c.n,
    })),
  ),
);

// --- run -------------------------------------------------------------------------------------

const results = [];
function row(name, value, baseline, baselineValue, target) {
  // ratio = baseline / ours: below 1 we are faster.
  results.push(
    resultRow({ name, unit: 'ops/s', value, baseline, baselineValue, target, ratio: 'baseline/ours' }),
  );
}

cases.forEach((c, index) => {
  const compiled = compile(c.template);
  const bytes = compiled.packArray(c.values);
  if (!bytes.equals(c.handPack(c.values))) throw new Error(`hand-written pack of ${c.template} differs`);
  const runs = perlRuns.slice(index * (QUICK ? 2 : 3), (index + 1) * (QUICK ? 2 : 3));
  if (runs.some((r) => !r?.ok)) throw new Error(`perl failed on ${c.template}: ${JSON.stringify(runs)}`);
  const perlPack = Math.max(...runs.map((r) => r.ok.pack));
  const perlUnpack = Math.max(...runs.map((r) => r.ok.unpack));

  const values = c.values;
  // Every loop reads something out of each result, so no engine can drop the work unseen.
  const oursPack = (n) => {
    for (let i = 0; i < n; i++) sink += usePacked(compiled.pack(...values));
  };
  const handPack = (n) => {
    for (let i = 0; i < n; i++) sink += usePacked(c.handPack(values));
  };
  const oursUnpack = (n) => {
    for (let i = 0; i < n; i++) sink += useUnpacked(compiled.unpack(bytes));
  };
  const handUnpack = (n) => {
    for (let i = 0; i < n; i++) sink += useUnpacked(c.handUnpack(bytes));
  };
  const n = QUICK ? Math.ceil(c.n / 5) : c.n;
  const [packOps, handPackOps] = compare(oursPack, handPack, n);
  const [unpackOps, handUnpackOps] = compare(oursUnpack, handUnpack, n);
  row(`pack ${c.name}`, packOps, 'perl pack', perlPack, 0.5);
  row(`pack ${c.name}`, packOps, 'hand-written Buffer', handPackOps, 2);
  row(`unpack ${c.name}`, unpackOps, 'perl unpack', perlUnpack, 0.5);
  row(`unpack ${c.name}`, unpackOps, 'hand-written Buffer', handUnpackOps, 2);
});

printRows(results);
if (sink === 0.5) process.stderr.write('\n');
console.log(JSON.stringify({ package: '@iproto/pack', results }));
