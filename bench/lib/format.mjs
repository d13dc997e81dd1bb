// Number formatting shared by the console tables, the report and the chart.

/** 1234567 -> "1.23 M", 12345 -> "12.3 k", 12.3 -> "12.3". Three significant digits. */
export function si(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toPrecision(3)} G`;
  if (abs >= 1e6) return `${(value / 1e6).toPrecision(3)} M`;
  if (abs >= 1e3) return `${(value / 1e3).toPrecision(3)} k`;
  if (abs === 0) return '0';
  return abs >= 1 ? value.toPrecision(3) : value.toPrecision(2);
}

/** A value with its unit: rates get SI prefixes ("1.23 M req/s"), everything else 3 digits. */
export function quantity(value, unit = '') {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  return unit ? `${si(value)} ${unit}` : si(value);
}

export function ratio(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  if (value >= 100) return `${value.toFixed(0)}x`;
  if (value >= 10) return `${value.toFixed(1)}x`;
  // Two significant digits below 0.1x, so that 0.0027x does not read as 0.00x.
  if (value > 0 && value < 0.1) return `${Number(value.toPrecision(2))}x`;
  return `${value.toFixed(2)}x`;
}

/**
 * A target as the benchmark gives it. A string is shown as it is. A bare number says nothing of
 * its direction (some benchmarks report value / baseline and want at least the target, others
 * baseline / value and want at most), so the direction is read off the benchmark's own verdict
 * when only one direction agrees with it.
 */
export function target(value, result = {}) {
  if (value === undefined || value === null || value === '') return '–';
  if (typeof value !== 'number') return String(value);
  const { ratio: r, pass: met } = result;
  if (typeof r === 'number' && typeof met === 'boolean') {
    const atLeast = r >= value;
    const atMost = r <= value;
    if (atLeast === met && atMost !== met) return `>= ${ratio(value)}`;
    if (atMost === met && atLeast !== met) return `<= ${ratio(value)}`;
  }
  return ratio(value);
}

export function pass(value) {
  if (value === true) return 'yes';
  if (value === false) return '**no**';
  return '–';
}

/** Pads the columns of a plain-text table for the console. */
export function textTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
