// Throughput against depth as a standalone SVG, written by hand (no dependencies): one line per
// Node client, one dashed horizontal line per fixed-depth reference (the Perl client).
import { si } from './format.mjs';

const WIDTH = 800;
const HEIGHT = 440;
const MARGIN = { top: 48, right: 220, bottom: 56, left: 78 };

function escapeXml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The y axis is logarithmic: the Perl client and the Node clients differ by well over an order of
 * magnitude, and a linear axis would flatten the Perl lines onto zero. Bounds are whole decades.
 */
function decades(values) {
  const positive = values.filter((v) => v > 0);
  if (positive.length === 0) return { low: 1, high: 10 };
  const low = 10 ** Math.floor(Math.log10(Math.min(...positive)));
  let high = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
  if (high <= low) high = low * 10;
  return { low, high };
}

const DASHES = ['8 4', '2 3', '8 3 2 3'];

const fixed = (n) => Number(n.toFixed(1));

/**
 * @param {object} chart
 * @param {string} chart.title
 * @param {number[]} chart.depths          x values (requests in flight), drawn on a log2 axis
 * @param {{ label: string, color: string, values: (number|null)[] }[]} chart.series
 * @param {{ label: string, color: string, value: number }[]} [chart.references]
 * @param {string} [chart.subtitle]
 * @returns {string} the SVG document
 */
export function throughputChart({ title, subtitle = '', depths, series, references = [] }) {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const logs = depths.map((d) => Math.log2(d));
  const xMin = Math.min(...logs);
  const xMax = Math.max(...logs);
  const x = (depth) =>
    MARGIN.left + (xMax === xMin ? plotW / 2 : ((Math.log2(depth) - xMin) / (xMax - xMin)) * plotW);
  const values = [
    ...series.flatMap((s) => s.values.filter((v) => typeof v === 'number' && v > 0 && Number.isFinite(v))),
    ...references.map((r) => r.value).filter((v) => typeof v === 'number' && v > 0 && Number.isFinite(v)),
  ];
  const { low, high } = decades(values);
  const span = Math.log10(high) - Math.log10(low);
  const y = (value) => MARGIN.top + plotH - ((Math.log10(value) - Math.log10(low)) / span) * plotH;

  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<title>${escapeXml(title)}</title>`);
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  out.push(`<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  if (subtitle) out.push(`<text x="${MARGIN.left}" y="38" fill="#555555">${escapeXml(subtitle)}</text>`);

  // Grid: a labelled line per decade, faint lines at 2x and 5x.
  for (let decade = low; decade <= high * 1.001; decade *= 10) {
    for (const m of [1, 2, 5]) {
      const v = decade * m;
      if (v > high * 1.001) break;
      const gy = fixed(y(v));
      const stroke = m === 1 ? '#d0d0d0' : '#f0f0f0';
      out.push(
        `<line x1="${MARGIN.left}" y1="${gy}" x2="${MARGIN.left + plotW}" y2="${gy}" stroke="${stroke}"/>`,
      );
      out.push(
        `<text x="${MARGIN.left - 8}" y="${gy + 4}" text-anchor="end"${m === 1 ? '' : ' fill="#888888"'}>${escapeXml(si(v))}</text>`,
      );
    }
  }
  // x ticks: the measured depths.
  for (const depth of depths) {
    const gx = fixed(x(depth));
    out.push(
      `<line x1="${gx}" y1="${MARGIN.top + plotH}" x2="${gx}" y2="${MARGIN.top + plotH + 5}" stroke="#333333"/>`,
    );
    out.push(`<text x="${gx}" y="${MARGIN.top + plotH + 19}" text-anchor="middle">${depth}</text>`);
  }
  out.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#333333"/>`,
  );
  out.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#333333"/>`,
  );
  out.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">requests in flight (log scale)</text>`,
  );
  out.push(
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">requests per second (log scale)</text>`,
  );

  const legend = [];
  // Each reference gets its own dash pattern: two close figures (Perl sync and async often are)
  // stay distinguishable where their lines overlap.
  for (const [i, ref] of references.entries()) {
    const dash = DASHES[i % DASHES.length];
    if (!(typeof ref.value === 'number' && ref.value > 0 && Number.isFinite(ref.value))) continue;
    const ry = fixed(y(ref.value));
    out.push(
      `<line x1="${MARGIN.left}" y1="${ry}" x2="${MARGIN.left + plotW}" y2="${ry}" stroke="${ref.color}" stroke-width="1.5" stroke-dasharray="${dash}"/>`,
    );
    legend.push({ ...ref, dash });
  }
  for (const s of series) {
    const points = depths
      .map((depth, i) => [depth, s.values[i]])
      .filter(([, v]) => typeof v === 'number' && v > 0 && Number.isFinite(v));
    if (points.length === 0) continue;
    const path = points.map(([d, v]) => `${fixed(x(d))},${fixed(y(v))}`).join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="2.5"/>`);
    for (const [d, v] of points) {
      out.push(`<circle cx="${fixed(x(d))}" cy="${fixed(y(v))}" r="3.5" fill="${s.color}"/>`);
    }
    legend.push(s);
  }

  // Legend to the right of the plot.
  const lx = MARGIN.left + plotW + 16;
  legend.forEach((item, i) => {
    const ly = MARGIN.top + 10 + i * 22;
    const dash = item.dash ? ` stroke-dasharray="${item.dash}"` : '';
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${item.color}" stroke-width="2.5"${dash}/>`,
    );
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${escapeXml(item.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
