// Issue 6, "Speed": one echo server, three clients doing the same work
// ({ msg, data: [1, 2, 3], pack: 'L3', unpack: 'L3' }): @iproto/client's IProto, the Perl
// MR::IProto client (sync and async, bench/perl/client.pl) and a bare Node loop. Targets: at least
// 50x the Perl client's requests/s, at least 50% of the bare loop at 256 in flight.
//
//   node --expose-gc bench/client.mjs [--quick] [--svg FILE]
//
// Prints a table to stderr and, as the last line of stdout, the results object of
// docs/architecture.md plus `chart` (the series for bench/throughput.svg) and `notes`.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bareLoop } from './lib/bare-loop.mjs';
import { throughputChart } from './lib/chart.mjs';
import { clientLoop } from './lib/client-loop.mjs';
import { startEchoServer } from './lib/echo-server.mjs';
import { quantity, ratio, textTable } from './lib/format.mjs';
import { perlInfo } from './lib/machine.mjs';

// `pnpm bench -- --quick` hands the `--` on; it is not a separator here.
const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: { quick: { type: 'boolean', default: false }, svg: { type: 'string' } },
});

const DEPTHS = [1, 16, 64, 256, 1024];
const TARGET_DEPTH = 256;
const PERL_TARGET = 50;
const BARE_TARGET = 0.5;
const PERL_ASYNC_DEPTH = 256;

const plan = flags.quick
  ? { warmupMs: 100, durationMs: 400, rounds: 1, perlSeconds: 1 }
  : { warmupMs: 300, durationMs: 1500, rounds: 3, perlSeconds: 2 };

const PERL_SCRIPT = fileURLToPath(new URL('./perl/client.pl', import.meta.url));
const notes = [];

function gc() {
  globalThis.gc?.();
}

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

/** The client under test, or the reason it cannot run. */
async function loadClient() {
  try {
    const mod = await import('@iproto/client');
    if (typeof mod.IProto !== 'function') return { reason: '@iproto/client does not export IProto yet' };
    return { IProto: mod.IProto };
  } catch (error) {
    return { reason: `@iproto/client did not load (${error.message.split('\n')[0]}); run \`pnpm build\`` };
  }
}

const server = await startEchoServer();
if (server.kind === 'native') {
  notes.push('Echo server: the native one (bench/native/echo.c, epoll), in its own process.');
} else {
  notes.push(
    `Echo server: @iproto/server in its own process; the native one was not used (${server.fallbackReason}).`,
  );
}

try {
  const { IProto, reason: clientMissing } = await loadClient();
  if (clientMissing) notes.push(`IProto figures missing: ${clientMissing}.`);

  const perl = perlInfo();
  let perlFailure = perl.reason;
  let clientFailure;
  // Rounds interleave the clients (the two Node ones depth by depth, then Perl's two modes), so
  // all of them meet the same machine load; each figure is the best of its rounds (load from other
  // work only ever slows a run down).
  const best = {
    client: DEPTHS.map(() => undefined),
    bare: DEPTHS.map(() => undefined),
    perlSync: [undefined],
    perlAsync: [undefined],
  };
  const keep = (kind, i, rps) => {
    if (best[kind][i] === undefined || rps > best[kind][i]) best[kind][i] = rps;
  };
  const common = {
    host: server.host,
    port: server.port,
    durationMs: plan.durationMs,
    warmupMs: plan.warmupMs,
  };
  // One client for the whole run, as an application keeps one for its whole life (a process that
  // makes and drops many clients leaves V8 less specific code to run). maxParallel is the
  // client-wide limit; the server's connection has its own (10 by default, as
  // MR::IProto::Cluster::Server), raised too so that `depth` requests can be on the wire.
  const widest = Math.max(...DEPTHS);
  const client = IProto
    ? new IProto({ servers: server.address, maxParallel: widest, clusterOptions: { maxParallel: widest } })
    : undefined;
  for (let round = 0; round < plan.rounds; round++) {
    const label = `round ${round + 1}/${plan.rounds}`;
    for (const [i, depth] of DEPTHS.entries()) {
      gc();
      const bareRps = (await bareLoop({ ...common, depth })).rps;
      keep('bare', i, bareRps);
      let clientRps;
      if (IProto && !clientFailure) {
        gc();
        try {
          clientRps = (await clientLoop({ ...common, depth, client })).rps;
          keep('client', i, clientRps);
        } catch (error) {
          // The other clients' figures still stand; the report says what went wrong.
          clientFailure = `IProto failed at ${depth} in flight: ${error.message}`;
          notes.push(`${clientFailure}.`);
        }
      }
      process.stderr.write(
        `${label} depth ${depth}: bare ${quantity(bareRps, 'req/s')}, IProto ${quantity(clientRps, 'req/s')} (this round)\n`,
      );
    }
    if (perlFailure) continue;
    try {
      const syncRps = (await runPerl(server.address, 'sync', 1)).rps;
      const asyncRps = (await runPerl(server.address, 'async', PERL_ASYNC_DEPTH)).rps;
      keep('perlSync', 0, syncRps);
      keep('perlAsync', 0, asyncRps);
      process.stderr.write(
        `${label} Perl MR::IProto: sync ${quantity(syncRps, 'req/s')}, async ${quantity(asyncRps, 'req/s')} (this round)\n`,
      );
    } catch (error) {
      perlFailure = error.message;
    }
  }
  await client?.close();
  const [perlSync] = best.perlSync;
  const [perlAsync] = best.perlAsync;
  if (perlFailure) {
    notes.push(`Perl figures missing: ${perlFailure}.`);
  } else {
    notes.push(
      `Perl: MR::IProto (${perl.mrIProto}) on perl ${perl.perl}, timed inside Perl; sync sends one ` +
        `request at a time, async (AnyEvent) keeps ${PERL_ASYNC_DEPTH} in flight, the server's ` +
        'max_parallel raised from its default of 10 to match.',
    );
  }

  const results = [];
  const at = (depth) => DEPTHS.indexOf(depth);
  for (const [i, depth] of DEPTHS.entries()) {
    const value = best.client[i];
    const baselineValue = best.bare[i];
    const r = value !== undefined && baselineValue ? value / baselineValue : undefined;
    results.push({
      name: `IProto send, ${depth} in flight`,
      unit: 'req/s',
      value,
      baseline: `bare Node loop, ${depth} in flight`,
      baselineValue,
      ratio: r,
      target: depth === TARGET_DEPTH ? `>= ${BARE_TARGET}x` : undefined,
      pass: depth === TARGET_DEPTH && r !== undefined ? r >= BARE_TARGET : undefined,
    });
  }
  const headline = best.client[at(TARGET_DEPTH)];
  for (const [label, value] of [
    ['Perl MR::IProto sync', perlSync],
    [`Perl MR::IProto async, ${PERL_ASYNC_DEPTH} in flight`, perlAsync],
  ]) {
    const r = headline !== undefined && value ? headline / value : undefined;
    results.push({
      name: `IProto send, ${TARGET_DEPTH} in flight`,
      unit: 'req/s',
      value: headline,
      baseline: label,
      baselineValue: value,
      ratio: r,
      target: `>= ${PERL_TARGET}x`,
      pass: r !== undefined ? r >= PERL_TARGET : undefined,
    });
  }
  const oneByOne = best.client[at(1)];
  if (oneByOne !== undefined && perlSync) {
    results.push({
      name: 'IProto send, 1 in flight',
      unit: 'req/s',
      value: oneByOne,
      baseline: 'Perl MR::IProto sync',
      baselineValue: perlSync,
      ratio: oneByOne / perlSync,
    });
  }

  const chart = {
    title: 'Plain-message round trips against one echo server',
    subtitle: `{ msg, data: [1, 2, 3], pack: 'L3', unpack: 'L3' }; ${server.kind} echo server; best of ${plan.rounds} round(s)`,
    depths: DEPTHS,
    series: [
      { label: 'IProto (@iproto/client)', color: '#1f6fb4', values: best.client.map((v) => v ?? null) },
      { label: 'bare Node loop', color: '#2a9d3a', values: best.bare.map((v) => v ?? null) },
    ],
    references: [
      { label: 'Perl sync', color: '#c62828', value: perlSync ?? null },
      { label: `Perl async (${PERL_ASYNC_DEPTH} in flight)`, color: '#ef8f00', value: perlAsync ?? null },
    ],
  };
  if (flags.svg) writeFileSync(flags.svg, throughputChart(chart));

  process.stderr.write(
    `\n${textTable(
      ['figure', 'value', 'baseline', 'baseline value', 'ratio', 'target'],
      results.map((r) => [
        r.name,
        quantity(r.value, r.unit),
        r.baseline,
        quantity(r.baselineValue, r.unit),
        ratio(r.ratio),
        r.target ?? '',
      ]),
    )}\n${notes.map((n) => `note: ${n}`).join('\n')}\n`,
  );
  process.stdout.write(`${JSON.stringify({ package: 'client against its peers', results, chart, notes })}\n`);
} finally {
  await server.close();
}
