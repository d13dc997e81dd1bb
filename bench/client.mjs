// Issues 6 and 12, "Speed": the client and the layers under it against a bare Node loop, each
// contender in a fresh process of its own (bench/lib/contender.mjs), all doing the same work
// ({ msg: 17, data: [1, 2, 3], pack: 'L3', unpack: 'L3' }) against native echo servers:
//
//   bare Node loop | Promise floor | Connection | IProto, defaults | IProto, tuned   (one server)
//   bare loop over 3 sockets | IProto, defaults, 3 servers          (three servers)
//
// (the Promise floor, bench/lib/promise-floor.mjs, is the least any client with a Promise per
// request costs: the bare loop's wire work behind `send`, no checks, table or deadlines)
// at 1, 256 and 1024 in flight, medians of the rounds, ratios against the baseline of the same
// run; then the heap of 100,000 requests in flight on IProto with its defaults; then the Perl
// MR::IProto client (sync and async, bench/perl/client.pl).
//
//   node --expose-gc bench/client.mjs [--quick] [--svg FILE]
//
// Prints a table to stderr and, as the last line of stdout, the results object of
// docs/architecture.md plus `chart` (the series for bench/throughput.svg) and `notes`.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { throughputChart } from './lib/chart.mjs';
import { startEchoServer } from './lib/echo-server.mjs';
import { target as formatTarget, quantity, ratio } from './lib/format.mjs';
import { perlInfo } from './lib/machine.mjs';
import { describeProfile, summarizeProfile } from './lib/profile.mjs';
import { printRows, resultRow } from './lib/rows.mjs';

// `pnpm bench -- --quick` hands the `--` on; it is not a separator here.
const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    quick: { type: 'boolean', default: false },
    svg: { type: 'string' },
    // Leaves Perl out (for a run of the Node contenders alone).
    'no-perl': { type: 'boolean', default: false },
  },
});

const DEPTHS = [1, 256, 1024];
/** Issue 12's targets for IProto with its defaults, as ratios of the bare loop. */
const DEFAULT_TARGETS = { 1: 0.9, 256: 0.6, 1024: 0.35 };
const THREE_TARGET = { 256: 0.5 };
const HEAP_REQUESTS = 100_000;
const HEAP_TARGET_MB = 60;
const PERL_TARGET = 50;
const PERL_ASYNC_DEPTH = 256;
const PERL_DEPTH = 256;
const PROFILE_DEPTH = 256;

const plan = flags.quick
  ? { warmupMs: 500, durationMs: 1000, rounds: 1, perlSeconds: 1 }
  : { warmupMs: 300, durationMs: 1500, rounds: 3, perlSeconds: 2 };

const PERL_SCRIPT = fileURLToPath(new URL('./perl/client.pl', import.meta.url));
const CONTENDER = fileURLToPath(new URL('./lib/contender.mjs', import.meta.url));
const notes = [];

function runPerl(address, mode, depth) {
  const args = [PERL_SCRIPT, address, mode, String(plan.perlSeconds)];
  if (mode === 'async') args.push(String(depth));
  return new Promise((resolve, reject) => {
    execFile('perl', args, { timeout: (plan.perlSeconds + 30) * 1000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`perl ${mode}: ${String(stderr || error.message).trim()}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)));
      } catch {
        reject(new Error(`perl ${mode} printed no result: ${stdout.trim()}`));
      }
    });
  });
}

/** Runs one contender in a fresh `node --expose-gc` process; resolves to its JSON line. */
function contender(
  kind,
  depth,
  addresses,
  warmupMs = plan.warmupMs,
  durationMs = plan.durationMs,
  nodeArgs = [],
) {
  const args = [
    ...nodeArgs,
    '--expose-gc',
    CONTENDER,
    kind,
    String(depth),
    String(warmupMs),
    String(durationMs),
    addresses,
  ];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 120_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new Error(
            `${kind} at ${depth}: ${String(stderr || error.message)
              .trim()
              .split('\n')
              .at(-1)}`,
          ),
        );
        return;
      }
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)));
    });
  });
}

function median(values) {
  const sorted = values.filter((v) => v !== undefined).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A server that takes requests and never answers: what keeps 100,000 of them in flight. */
async function startHoldingServer() {
  const sockets = new Set();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(resolve);
      }),
  };
}

const CONTENDERS = [
  { kind: 'bare', label: 'bare Node loop', servers: 1 },
  { kind: 'floor', label: 'Promise floor', servers: 1 },
  { kind: 'connection', label: 'Connection', servers: 1 },
  { kind: 'iproto', label: 'IProto, defaults', servers: 1 },
  { kind: 'iproto-tuned', label: 'IProto, tuned', servers: 1 },
  { kind: 'bare3', label: 'bare loop over 3 sockets', servers: 3 },
  { kind: 'floor3', label: 'Promise floor over 3 sockets', servers: 3 },
  { kind: 'iproto3', label: 'IProto, defaults, 3 servers', servers: 3 },
];

const echo = await Promise.all([startEchoServer(), startEchoServer(), startEchoServer()]);
const server = echo[0];
if (server.kind === 'native') {
  notes.push('Echo servers: the native one (bench/native/echo.c, epoll), each in its own process.');
} else {
  notes.push(
    `Echo servers: @iproto/server in their own processes; the native one was not used (${server.fallbackReason}).`,
  );
}
notes.push(
  'Each contender runs in a fresh node process of its own per depth and round (bench/lib/contender.mjs); figures are medians of the rounds.',
);

try {
  const one = server.address;
  const three = echo.map((s) => s.address).join(',');
  /** rps[kind][depth] = [round figures] */
  const rps = Object.fromEntries(
    CONTENDERS.map((c) => [c.kind, Object.fromEntries(DEPTHS.map((d) => [d, []]))]),
  );
  const failures = [];
  for (let round = 0; round < plan.rounds; round++) {
    for (const depth of DEPTHS) {
      const line = [];
      for (const c of CONTENDERS) {
        try {
          const result = await contender(c.kind, depth, c.servers === 3 ? three : one);
          rps[c.kind][depth].push(result.rps);
          line.push(`${c.kind} ${quantity(result.rps, 'req/s')}`);
        } catch (error) {
          failures.push(error.message);
        }
      }
      process.stderr.write(`round ${round + 1}/${plan.rounds} depth ${depth}: ${line.join(', ')}\n`);
    }
  }
  for (const failure of new Set(failures)) notes.push(`Failed: ${failure}.`);
  const med = (kind, depth) => median(rps[kind][depth]);

  const results = [];
  const figure = (name, value, baseline, baselineValue, target) =>
    results.push(
      resultRow({ name, unit: 'req/s', value, baseline, baselineValue, target, ratio: 'ours/baseline' }),
    );
  for (const depth of DEPTHS) {
    const bare = med('bare', depth);
    const baseline = `bare Node loop, ${depth} in flight`;
    // The ceiling of every Promise client here (bench/lib/promise-floor.mjs): the targets beside it.
    figure(`Promise floor, ${depth} in flight`, med('floor', depth), baseline, bare);
    figure(`Connection, ${depth} in flight`, med('connection', depth), baseline, bare);
    figure(
      `IProto send (defaults), ${depth} in flight`,
      med('iproto', depth),
      baseline,
      bare,
      DEFAULT_TARGETS[depth],
    );
    figure(`IProto send (tuned), ${depth} in flight`, med('iproto-tuned', depth), baseline, bare);
    figure(
      `Promise floor over 3 sockets, ${depth} in flight`,
      med('floor3', depth),
      `bare loop over 3 sockets, ${depth} in flight`,
      med('bare3', depth),
    );
    figure(
      `IProto send (defaults), 3 servers, ${depth} in flight`,
      med('iproto3', depth),
      `bare loop over 3 sockets, ${depth} in flight`,
      med('bare3', depth),
      THREE_TARGET[depth],
    );
  }

  // 100,000 requests in flight.
  const holding = await startHoldingServer();
  try {
    const heap = await contender('heap', HEAP_REQUESTS, holding.address, 0, 0);
    results.push({
      name: `IProto (defaults), heap with ${HEAP_REQUESTS.toLocaleString('en')} requests in flight`,
      unit: 'MB',
      value: heap.heapMB,
      baseline: 'heap before the client was made',
      baselineValue: undefined,
      ratio: null,
      target: `< ${HEAP_TARGET_MB} MB`,
      pass: heap.heapMB < HEAP_TARGET_MB,
    });
  } catch (error) {
    notes.push(`Heap figure missing: ${error.message}.`);
  } finally {
    await holding.close();
  }

  // Where the time of IProto with its defaults at 256 in flight goes: one more fresh process, run
  // under the V8 sampling profiler (which slows it a little; its figure is not used).
  let profile;
  const profileDir = mkdtempSync(join(tmpdir(), 'iproto-bench-profile-'));
  try {
    await contender('iproto', PROFILE_DEPTH, one, plan.warmupMs, plan.durationMs, [
      '--cpu-prof',
      `--cpu-prof-dir=${profileDir}`,
    ]);
    profile = describeProfile(summarizeProfile(profileDir));
    notes.push(
      `Profile of IProto (defaults) at ${PROFILE_DEPTH} in flight (node --cpu-prof, self time): ${profile.parts}. ` +
        `Heaviest functions: ${profile.top}.`,
    );
  } catch (error) {
    notes.push(`Profile missing: ${error.message}.`);
  } finally {
    rmSync(profileDir, { recursive: true, force: true });
  }

  // Perl MR::IProto, against the IProto defaults figure at 256 in flight.
  const perl = perlInfo();
  let perlSync;
  let perlAsync;
  if (flags['no-perl']) notes.push('Perl figures left out (--no-perl).');
  else if (perl.reason) notes.push(`Perl figures missing: ${perl.reason}.`);
  else {
    try {
      const syncs = [];
      const asyncs = [];
      for (let round = 0; round < plan.rounds; round++) {
        syncs.push((await runPerl(one, 'sync', 1)).rps);
        asyncs.push((await runPerl(one, 'async', PERL_ASYNC_DEPTH)).rps);
      }
      perlSync = median(syncs);
      perlAsync = median(asyncs);
      notes.push(
        `Perl: MR::IProto (${perl.mrIProto}) on perl ${perl.perl}, timed inside Perl; sync sends one ` +
          `request at a time, async (AnyEvent) keeps ${PERL_ASYNC_DEPTH} in flight, the server's ` +
          'max_parallel raised from its default of 10 to match.',
      );
    } catch (error) {
      notes.push(`Perl figures missing: ${error.message}.`);
    }
  }
  const headline = med('iproto', PERL_DEPTH);
  for (const [label, value] of [
    ['Perl MR::IProto sync', perlSync],
    [`Perl MR::IProto async, ${PERL_ASYNC_DEPTH} in flight`, perlAsync],
  ]) {
    if (value === undefined) continue;
    figure(`IProto send (defaults), ${PERL_DEPTH} in flight`, headline, label, value, PERL_TARGET);
  }

  const chart = {
    title: 'Plain-message round trips against one echo server',
    subtitle: `{ msg, data: [1, 2, 3], pack: 'L3', unpack: 'L3' }; ${server.kind} echo server; median of ${plan.rounds} round(s), each contender in its own process`,
    depths: DEPTHS,
    series: [
      { label: 'IProto, defaults', color: '#1f6fb4', values: DEPTHS.map((d) => med('iproto', d) ?? null) },
      { label: 'Connection', color: '#7b3fb4', values: DEPTHS.map((d) => med('connection', d) ?? null) },
      { label: 'bare Node loop', color: '#2a9d3a', values: DEPTHS.map((d) => med('bare', d) ?? null) },
    ],
    references: [
      { label: 'Perl sync', color: '#c62828', value: perlSync ?? null },
      { label: `Perl async (${PERL_ASYNC_DEPTH} in flight)`, color: '#ef8f00', value: perlAsync ?? null },
    ],
  };
  if (flags.svg) writeFileSync(flags.svg, throughputChart(chart));

  // Issue 12's five targets, each beside its baseline and verdict.
  const targets = results.filter((r) => r.target !== undefined && !r.baseline.startsWith('Perl'));
  const verdicts = targets.map((r) => {
    const measured =
      r.ratio === null || r.ratio === undefined
        ? quantity(r.value, r.unit)
        : `${ratio(r.ratio)} (${quantity(r.value, r.unit)} against ${r.baseline}, ${quantity(r.baselineValue, r.unit)})`;
    const verdict = r.pass === undefined ? 'not measured' : r.pass ? 'met' : 'MISSED';
    return `${r.name}: ${measured}, target ${formatTarget(r.target, r)}: ${verdict}`;
  });
  const met = targets.filter((r) => r.pass === true).length;
  notes.unshift(`Issue 12 targets met: ${met} of ${targets.length}.`);
  process.stderr.write(
    `\nIssue 12 targets (${met} of ${targets.length} met):\n${verdicts.map((v) => `  ${v}`).join('\n')}\n` +
      (profile === undefined
        ? ''
        : `Profile (IProto, defaults, ${PROFILE_DEPTH} in flight): ${profile.parts}\n`),
  );
  process.stderr.write('\n');
  printRows(results);
  process.stderr.write(`${notes.map((n) => `note: ${n}`).join('\n')}\n`);
  process.stdout.write(`${JSON.stringify({ package: 'client against its peers', results, chart, notes })}\n`);
} finally {
  await Promise.all(echo.map((s) => s.close()));
}
