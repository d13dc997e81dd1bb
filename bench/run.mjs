// `pnpm bench`: every package's benchmark (packages/*/bench/run.mjs) and the client against its
// peers (bench/client.mjs), one after another, each in a process of its own (`node --expose-gc`),
// then bench/RESULTS.md and bench/throughput.svg from what they reported.
//
//   node bench/run.mjs [--quick] [--only client,pack,...] [--out FILE]
//
// Run it through `pnpm bench`, which builds the packages first: the package benchmarks import their
// package's dist/.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { throughputChart } from './lib/chart.mjs';
import { describeMachine, loadAverage } from './lib/machine.mjs';
import { renderReport } from './lib/report.mjs';
import { runChild } from './lib/run-child.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
const PACKAGES_DIR = join(ROOT, 'packages');
// The stack, bottom up (docs/architecture.md); packages not listed here follow in name order.
const STACK = ['pack', 'framing', 'server', 'connection', 'cluster', 'client', 'box', 'cli'];
const PEERS = 'peers';

// `pnpm bench -- --quick` hands the `--` on; it is not a separator here.
const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: join(BENCH_DIR, 'RESULTS.md') },
  },
});
const only = flags.only ? flags.only.split(',').map((s) => s.trim()) : undefined;
const wanted = (name) => !only || only.includes(name);
// Bounds per benchmark keep the whole run near ten minutes on two cores even if one hangs.
const timeoutMs = flags.quick ? 90_000 : 180_000;
const args = flags.quick ? ['--quick'] : [];
const env = flags.quick ? { IPROTO_BENCH_QUICK: '1' } : {};

const packageDirs = existsSync(PACKAGES_DIR)
  ? readdirSync(PACKAGES_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
  : [];
packageDirs.sort((a, b) => {
  const ia = STACK.indexOf(a);
  const ib = STACK.indexOf(b);
  if (ia !== -1 || ib !== -1) return (ia === -1 ? STACK.length : ia) - (ib === -1 ? STACK.length : ib);
  return a.localeCompare(b);
});

const jobs = [
  {
    name: PEERS,
    title: 'Client against its peers',
    file: join(BENCH_DIR, 'client.mjs'),
    cwd: BENCH_DIR,
    timeoutMs: flags.quick ? 120_000 : 240_000,
  },
  ...packageDirs.map((dir) => ({
    name: dir,
    title: `@iproto/${dir}`,
    file: join(PACKAGES_DIR, dir, 'bench', 'run.mjs'),
    cwd: join(PACKAGES_DIR, dir),
    timeoutMs,
  })),
];
const unknown = (only ?? []).filter((name) => !jobs.some((job) => job.name === name));
if (unknown.length > 0) {
  process.stderr.write(
    `bench: --only names no benchmark called ${unknown.join(', ')} (there are: ${jobs.map((j) => j.name).join(', ')})\n`,
  );
  process.exit(2);
}
const selected = jobs.filter((job) => wanted(job.name));

const started = new Date();
const startedAt = process.hrtime.bigint();
const loadStart = loadAverage();
const machine = describeMachine();
const sections = [];
const chartPath = join(dirname(flags.out), 'throughput.svg');

for (const job of selected) {
  const file = relative(ROOT, job.file);
  const section = { title: job.title, file, status: 'missing', seconds: 0 };
  sections.push(section);
  if (!existsSync(job.file)) {
    section.reason = `no ${relative(job.cwd, job.file)} yet`;
    process.stderr.write(`\n== ${job.title}: skipped, ${section.reason}\n`);
    continue;
  }
  process.stderr.write(`\n== ${job.title} (${file})\n`);
  const outcome = await runChild(job.file, { args, cwd: job.cwd, timeoutMs: job.timeoutMs, env });
  section.status = outcome.status;
  section.seconds = outcome.seconds;
  section.reason = outcome.reason;
  if (outcome.status !== 'ok') {
    process.stderr.write(`== ${job.title}: ${outcome.status}, ${outcome.reason}\n`);
    continue;
  }
  section.results = outcome.json.results;
  section.notes = Array.isArray(outcome.json.notes) ? outcome.json.notes : [];
  if (job.name === PEERS && outcome.json.chart) {
    writeFileSync(chartPath, throughputChart(outcome.json.chart));
    section.chart = basename(chartPath);
  }
}

const report = renderReport({
  date: `${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  quick: flags.quick,
  only,
  seconds: Number(process.hrtime.bigint() - startedAt) / 1e9,
  machine,
  loadStart,
  loadEnd: loadAverage(),
  sections,
});
writeFileSync(flags.out, report);
process.stderr.write(`\nwrote ${relative(process.cwd(), flags.out)}\n`);
