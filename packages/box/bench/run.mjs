// @iproto/box against the Perl MR::Tarantool::Box: select and insert throughput, every contender in
// a fresh process of its own (bench/client.mjs for ours, bench/perl-box.pl for Perl's sync and
// AnyEvent modes), against a box in a process of its own (bench/server.mjs): the box double of
// @iproto/server/testing (an in-memory Tarantool 1.5, write-ahead log on), and a canned box that
// answers every request with the same bytes, which shows the client's own cost. Target: at least
// 30x Perl's async throughput. Run after a build:
//   pnpm --filter @iproto/box... build && pnpm --filter @iproto/box bench [-- --quick]
// Human table on stderr; the last stdout line is the JSON summary of docs/architecture.md.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { printRows, resultRow } from '../../../bench/lib/rows.mjs';

const QUICK = process.argv.includes('--quick') || process.env.IPROTO_BENCH_QUICK === '1';
const plan = QUICK ? { seconds: 0.5, rounds: 1 } : { seconds: 1.5, rounds: 2 };
const DEPTH = 256;
// Perl's AnyEvent mode does best well below 256 in flight; it gets its better figure of the two.
const PERL_DEPTHS = [16, DEPTH];
const TARGET = 30;
const here = (file) => fileURLToPath(new URL(file, import.meta.url));

async function startServer(kind) {
  const child = spawn(process.execPath, [here('./server.mjs'), kind], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  return { port: Number(line), stop: () => child.stdin.end() };
}

function runJson(command, args) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: (plan.seconds + 30) * 1000 }, (error, stdout, stderr) => {
      if (error)
        return reject(new Error(`${command} ${args.join(' ')}: ${String(stderr || error.message).trim()}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)));
      } catch {
        reject(new Error(`${command} printed no result: ${stdout.trim()}`));
      }
    });
  });
}

const ours = (port, op) =>
  runJson(process.execPath, [
    '--expose-gc',
    here('./client.mjs'),
    String(port),
    op,
    String(DEPTH),
    String(plan.seconds),
  ]);
const perl = (port, op, mode, depth = 1) =>
  runJson('perl', [here('./perl-box.pl'), String(port), op, mode, String(plan.seconds), String(depth)]);

const fmt = (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : `${(v / 1e3).toFixed(1)} k`);

const SERVERS = [
  ['double', 'the box double'],
  ['canned', 'a canned box'],
];
const results = [];
const notes = [];
let perlFailure;
for (const [kind, label] of SERVERS) {
  const server = await startServer(kind);
  try {
    const best = {};
    const keep = (key, value) => {
      best[key] = Math.max(best[key] ?? 0, value);
    };
    for (let round = 1; round <= plan.rounds; round++) {
      for (const op of ['select', 'insert']) {
        keep(`${op}:ours`, (await ours(server.port, op)).rps);
        if (perlFailure) continue;
        try {
          for (const depth of PERL_DEPTHS)
            keep(`${op}:async`, (await perl(server.port, op, 'async', depth)).rps);
          keep(`${op}:sync`, (await perl(server.port, op, 'sync')).rps);
        } catch (error) {
          perlFailure = error.message;
        }
        process.stderr.write(
          `round ${round} ${label} ${op}: ours ${fmt(best[`${op}:ours`])} req/s, Perl async ${fmt(best[`${op}:async`] ?? 0)}, sync ${fmt(best[`${op}:sync`] ?? 0)} (best so far)\n`,
        );
      }
    }
    for (const op of ['select', 'insert']) {
      const value = best[`${op}:ours`];
      const baselineValue = best[`${op}:async`];
      results.push(
        resultRow({
          name: `${op}, ${DEPTH} in flight, against ${label}`,
          unit: 'req/s',
          value,
          baseline: 'Perl MR::Tarantool::Box async (AnyEvent)',
          baselineValue,
          target: TARGET,
          ratio: 'ours/baseline',
          digits: 1,
        }),
      );
      if (best[`${op}:sync`]) {
        notes.push(
          `${op} against ${label}: Perl MR::Tarantool::Box sync ${fmt(best[`${op}:sync`])} req/s (${(value / best[`${op}:sync`]).toFixed(0)}x).`,
        );
      }
    }
  } finally {
    server.stop();
  }
}
if (perlFailure) notes.push(`Perl figures missing: ${perlFailure}.`);
notes.push(
  `Each figure is the best of ${plan.rounds} round(s) of ${plan.seconds} s; Perl async is the better of ${PERL_DEPTHS.join(' and ')} in flight. ` +
    'Spaces: users L$L with field names (tuples as objects on both sides); select by a 4-byte key, one tuple back; insert (replace) of a 3-field tuple.',
);

process.stderr.write('\n');
printRows(results);
for (const note of notes) process.stderr.write(`- ${note}\n`);
console.log(JSON.stringify({ package: '@iproto/box', results, notes }));
