// The result rows of every benchmark: one place builds the row of the JSON summary
// (docs/architecture.md, "Benchmarks") and one prints the rows as the human table on stderr.
import { ratio as formatRatio, target as formatTarget, quantity, textTable } from './format.mjs';

/**
 * One result row: ours against a baseline. `ratio` says which way the ratio reads and so how the
 * target is met: `'ours/baseline'` (a share of the baseline's speed; met at or above the target) or
 * `'baseline/ours'` (how many times slower we are; met at or below it). With no baseline figure
 * (a baseline that could not run) or none of ours (`value` undefined: ours failed), `ratio` and
 * `pass` are undefined; with a `null` target, `pass` is null.
 *
 * @param {{ name: string; unit: string; value: number | undefined; baseline: string;
 *   baselineValue?: number; target?: number | null; ratio: 'ours/baseline' | 'baseline/ours';
 *   digits?: number }} row
 */
export function resultRow({ name, unit, value, baseline, baselineValue, target, ratio: way, digits = 3 }) {
  if (way !== 'ours/baseline' && way !== 'baseline/ours') throw new Error(`resultRow: bad ratio ${way}`);
  const measured = typeof value === 'number' && Number.isFinite(value);
  const has = typeof baselineValue === 'number' && baselineValue > 0;
  const ratio =
    measured && has && value > 0
      ? way === 'ours/baseline'
        ? value / baselineValue
        : baselineValue / value
      : undefined;
  const pass =
    target === null
      ? null
      : ratio === undefined || target === undefined
        ? undefined
        : way === 'ours/baseline'
          ? ratio >= target
          : ratio <= target;
  return {
    name,
    unit,
    value: measured ? Math.round(value) : undefined,
    baseline,
    baselineValue: has ? Math.round(baselineValue) : undefined,
    ratio: ratio === undefined ? undefined : Number(ratio.toFixed(digits)),
    target,
    pass,
  };
}

/** The rows as a table for a person: value and baseline with their unit, ratio, target, met or MISS. */
export function formatRows(results) {
  const header = ['benchmark', 'value', 'baseline', 'baseline value', 'ratio', 'target', ''];
  const rows = results.map((r) => [
    r.name,
    quantity(r.value, r.unit),
    r.baseline ?? '',
    r.baselineValue === undefined || r.baselineValue === null ? '–' : quantity(r.baselineValue, r.unit),
    formatRatio(r.ratio),
    formatTarget(r.target, r),
    r.pass === true ? 'ok' : r.pass === false ? 'MISS' : '',
  ]);
  return textTable(header, rows)
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/** Prints {@link formatRows} on stderr (stdout's last line is the JSON summary). */
export function printRows(results, stream = process.stderr) {
  stream.write(`${formatRows(results)}\n`);
}
