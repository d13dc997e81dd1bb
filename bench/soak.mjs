#!/usr/bin/env node
/**
 * The soak and chaos run (`pnpm soak`): three @iproto/server children, one IProto client, a seeded
 * stream of requests and a seeded chaos schedule, then the invariants as a table. Exits 1 when any
 * invariant is violated. See docs/reliability.md.
 *
 *   pnpm soak [-- --requests N] [--seed S] [--in-flight N] [--quick]
 */
import { parseArgs } from 'node:util';
import { FULL, mb, runSoak } from './soak/harness.mjs';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    requests: { type: 'string' },
    seed: { type: 'string' },
    'in-flight': { type: 'string' },
    quick: { type: 'boolean', default: false },
    faults: { type: 'string' },
    balance: { type: 'string' },
    'retry-delay': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: node bench/soak.mjs [--requests N] [--seed S] [--in-flight N] [--quick]\n' +
      `  --requests   requests to send (default ${FULL.requests}; --quick: 100000)\n` +
      `  --seed       seed of the request stream and the chaos schedule (default ${FULL.seed})\n` +
      `  --in-flight  requests in flight at most (default ${FULL.inFlight}; --quick: 2000)\n` +
      '  --quick      a shorter run: fewer requests, 1 s timeouts\n' +
      `  --faults     the chaos schedule, comma-separated (default ${FULL.faults.join(',')};\n` +
      '               also duplicate, wrongMsg, garbage, hugeLength, close, stopReading, drop, disconnectAll)\n' +
      '  --balance    hash-crc32 (default), round-robin or ketama\n' +
      '  --retry-delay  ms between tries (default 0)\n',
  );
  process.exit(0);
}

function integer(name, text, fallback) {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`soak: --${name} must be a positive integer, got ${text}\n`);
    process.exit(2);
  }
  return value;
}

const quick = values.quick;
const options = {
  requests: integer('requests', values.requests, quick ? 100_000 : FULL.requests),
  seed: integer('seed', values.seed, FULL.seed),
  inFlight: integer('in-flight', values['in-flight'], quick ? 2000 : FULL.inFlight),
  timeout: quick ? 1000 : FULL.timeout,
  warmup: quick ? 10_000 : FULL.warmup,
};
if (values.faults !== undefined) options.faults = values.faults.split(',').filter(Boolean);
if (values.balance !== undefined) options.balance = values.balance;
if (values['retry-delay'] !== undefined) options.retryDelay = Number(values['retry-delay']);

const tty = process.stderr.isTTY;
let lastLine = 0;
options.onProgress = ({ done, requests, outstanding, elapsed }) => {
  const rate = elapsed > 0 ? Math.round((done / elapsed) * 1000) : 0;
  if (tty) {
    const width = 30;
    const filled = Math.round((done / requests) * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    process.stderr.write(
      `\r[${bar}] ${((done / requests) * 100).toFixed(1)}% ${done}/${requests} in flight ${outstanding} ${rate}/s   `,
    );
  } else if (elapsed - lastLine >= 10_000 || done === requests) {
    lastLine = elapsed;
    process.stderr.write(`${done}/${requests} (${rate}/s)\n`);
  }
};
options.log = (line) => process.stderr.write(`${tty ? '\r\x1b[K' : ''}${line}\n`);

process.stderr.write(
  `soak: ${options.requests} requests, seed ${options.seed}, up to ${options.inFlight} in flight, timeout ${options.timeout} ms\n`,
);
const result = await runSoak(options);
if (tty) process.stderr.write('\n');

const { stats } = result;
const out = [];
out.push('');
out.push('## Chaos');
for (const event of result.chaos) {
  if (event.kind === 'mark') continue;
  out.push(
    `- ${(event.time / 1000).toFixed(1)} s, request ${event.at} (${event.inFlight} in flight): ${event.kind} ${event.server}: ${event.detail}`,
  );
}
out.push('');
out.push('## Outcomes');
for (const [code, count] of result.outcomes.sort((a, b) => b[1] - a[1])) out.push(`- ${code}: ${count}`);
out.push('');
out.push('## Invariants');
out.push('');
out.push('| invariant | result | detail |');
out.push('|---|---|---|');
for (const check of result.checks)
  out.push(`| ${check.name} | ${check.ok ? 'ok' : 'VIOLATED'} | ${check.detail} |`);
out.push('');
out.push('## Summary');
out.push(
  `${stats.requests} requests in ${(stats.elapsedMs / 1000).toFixed(1)} s (${stats.rate}/s), seed ${stats.seed}, ` +
    `up to ${stats.inFlight} in flight (client peaks: ${stats.peakInProgress} in progress, ${stats.peakQueued} queued); ${stats.wireSends} sends on the wire, ${stats.serverReceived} received by the servers, ` +
    `${stats.retries} retries, ${stats.serverDown} server-down and ${stats.serverUp} server-up events; ` +
    `heap ${mb(stats.warm.heapUsed)} -> ${mb(stats.after.heapUsed)}, RSS ${mb(stats.warm.rss)} -> ${mb(stats.after.rss)}.`,
);
out.push(result.ok ? 'All invariants hold.' : 'INVARIANTS VIOLATED.');
process.stdout.write(`${out.join('\n')}\n`);
process.exitCode = result.ok ? 0 : 1;
// Bounded in time even when something (a leaked handle, say) would keep the process alive.
setTimeout(() => process.exit(), 5000).unref();
