// bench/RESULTS.md from one run's collected results. The structure depends only on which
// benchmarks exist and how they ended, never on timing, so two runs diff figure by figure.
import { pass, quantity, ratio, target } from './format.mjs';

/** A result's ratio as given, or value / baselineValue when the benchmark left it out. */
export function ratioOf(result) {
  if (typeof result.ratio === 'number') return result.ratio;
  if (typeof result.value === 'number' && typeof result.baselineValue === 'number' && result.baselineValue) {
    return result.value / result.baselineValue;
  }
  return undefined;
}

const cell = (text) =>
  String(text ?? '–')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');

function resultsTable(results) {
  const lines = [
    '| Figure | Value | Baseline (same run) | Baseline value | Ratio | Target | Met |',
    '|---|---:|---|---:|---:|---|:---:|',
  ];
  for (const r of results) {
    lines.push(
      `| ${cell(r.name)} | ${cell(quantity(r.value, r.unit))} | ${cell(r.baseline ?? '–')} | ${cell(
        quantity(r.baselineValue, r.unit),
      )} | ${cell(ratio(ratioOf(r)))} | ${cell(target(r.target, { ratio: ratioOf(r), pass: r.pass }))} | ${pass(r.pass)} |`,
    );
  }
  return lines.join('\n');
}

function statusText(section) {
  switch (section.status) {
    case 'ok':
      return `ran in ${section.seconds.toFixed(0)} s`;
    case 'missing':
      return `not run: ${section.reason}`;
    default:
      return `**${section.status}**: ${section.reason}`;
  }
}

function targetsMet(section) {
  const judged = (section.results ?? []).filter((r) => r.pass === true || r.pass === false);
  if (judged.length === 0) return '–';
  return `${judged.filter((r) => r.pass).length} of ${judged.length}`;
}

/**
 * @param {object} run
 * @param {string} run.date            ISO date of the start of the run
 * @param {boolean} run.quick
 * @param {string[]} [run.only]        the sections asked for, when not all
 * @param {number} run.seconds         wall time of the whole run
 * @param {object} run.machine         from describeMachine()
 * @param {string} run.loadStart       load average before
 * @param {string} run.loadEnd         load average after
 * @param {{ title: string, file: string, status: string, reason?: string, seconds: number,
 *           results?: object[], notes?: string[], chart?: string }[]} run.sections
 */
export function renderReport(run) {
  const m = run.machine;
  const out = [];
  out.push('# Benchmark results');
  out.push('');
  out.push(
    `Written by \`pnpm bench\`${run.quick ? ' (`--quick`: short runs, rougher figures)' : ''}${
      run.only ? ` (only: ${run.only.join(', ')})` : ''
    } on ${run.date}; the whole run took ${Math.round(run.seconds)} s. ` +
      'How to run it and how to read it: [README.md](README.md).',
  );
  out.push('');
  out.push(
    'The machine is shared and noisy (other work runs beside the benchmarks), so absolute figures ' +
      'move from run to run. Each figure is therefore set beside a baseline measured in the same run, ' +
      'on the same machine, right next to it; the ratio between the two is what to compare across runs.',
  );
  out.push('');
  out.push('## Machine');
  out.push('');
  out.push('| | |');
  out.push('|---|---|');
  out.push(`| CPU | ${cell(m.cpu)} |`);
  out.push(`| Cores | ${m.cores} |`);
  out.push(`| Memory | ${m.memory} |`);
  out.push(`| OS | ${cell(m.os)} |`);
  out.push(`| Node | ${m.node} |`);
  out.push(`| Perl | ${m.perl ?? 'not installed'} |`);
  out.push(`| MR::IProto | ${cell(m.mrIProto ?? m.reason ?? 'not installed')} |`);
  out.push(`| C compiler | ${m.cc ? `cc ${m.cc}` : 'none'} |`);
  out.push(`| Load average (1, 5, 15 min) | ${run.loadStart} at the start, ${run.loadEnd} at the end |`);
  out.push('');
  out.push('## Summary');
  out.push('');
  out.push('| Benchmark | Source | Status | Targets met |');
  out.push('|---|---|---|---:|');
  for (const s of run.sections) {
    out.push(`| ${cell(s.title)} | \`${s.file}\` | ${cell(statusText(s))} | ${targetsMet(s)} |`);
  }
  const missed = run.sections.flatMap((s) =>
    (s.results ?? []).filter((r) => r.pass === false).map((r) => [s, r]),
  );
  out.push('');
  if (missed.length === 0) {
    out.push('No target was missed in this run.');
  } else {
    out.push('Targets missed in this run:');
    out.push('');
    for (const [s, r] of missed) {
      const goal = target(r.target, { ratio: ratioOf(r), pass: r.pass });
      out.push(`- ${s.title}: ${r.name}: ratio ${ratio(ratioOf(r))} against ${r.baseline}, target ${goal}`);
    }
  }
  for (const s of run.sections) {
    out.push('');
    out.push(`## ${s.title}`);
    out.push('');
    out.push(`\`${s.file}\`: ${statusText(s)}.`);
    if (s.chart) {
      out.push('');
      out.push(`![${s.title}: throughput against depth](${s.chart})`);
    }
    if (s.results && s.results.length > 0) {
      out.push('');
      out.push(resultsTable(s.results));
    }
    if (s.notes && s.notes.length > 0) {
      out.push('');
      for (const note of s.notes) out.push(`- ${note}`);
    }
  }
  out.push('');
  return out.join('\n');
}
