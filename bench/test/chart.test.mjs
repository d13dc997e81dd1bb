import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { throughputChart } from '../lib/chart.mjs';

const chart = {
  title: 'Round trips <vs> "peers"',
  subtitle: 'a & b',
  depths: [1, 16, 64, 256, 1024],
  series: [
    { label: 'client', color: '#111111', values: [20_000, 150_000, null, 350_000, 340_000] },
    { label: 'bare', color: '#222222', values: [25_000, 250_000, 500_000, 700_000, 720_000] },
  ],
  references: [
    { label: 'Perl sync', color: '#333333', value: 11_000 },
    { label: 'Perl async', color: '#444444', value: null },
  ],
};

const numbers = (text, attr) =>
  [...text.matchAll(new RegExp(`${attr}="([-\\d.]+)"`, 'g'))].map((m) => Number(m[1]));

describe('throughputChart', () => {
  const svg = throughputChart(chart);

  it('is one svg document with its text escaped', () => {
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>/);
    assert.match(svg, /<\/svg>\n$/);
    assert.ok(svg.includes('Round trips &#60;vs&#62; &#34;peers&#34;'));
    assert.ok(svg.includes('a &#38; b'));
    assert.ok(!svg.includes('<vs>'));
  });

  it('draws a point per measured value and leaves gaps out', () => {
    const lines = svg.split('\n');
    const dots = (color) => lines.filter((l) => l.startsWith('<circle') && l.includes(color)).length;
    assert.equal(dots('#111111'), 4);
    assert.equal(dots('#222222'), 5);
  });

  it('puts depths on a log axis and higher throughput higher up', () => {
    const bare = svg.split('\n').find((l) => l.startsWith('<polyline') && l.includes('#222222'));
    const points = bare
      .match(/points="([^"]+)"/)[1]
      .split(' ')
      .map((p) => p.split(',').map(Number));
    const xs = points.map(([x]) => x);
    const ys = points.map(([, y]) => y);
    // 1 -> 16 is four doublings, 16 -> 64 two, 64 -> 256 two, 256 -> 1024 two.
    const step = (xs[4] - xs[0]) / 10;
    assert.ok(Math.abs(xs[1] - xs[0] - 4 * step) < 0.2);
    assert.ok(Math.abs(xs[2] - xs[1] - 2 * step) < 0.2);
    for (let i = 1; i < ys.length; i++) assert.ok(ys[i] < ys[i - 1], 'SVG y grows downwards');
  });

  it('draws a dashed line for each reference that has a value, and a legend entry for it', () => {
    const dashed = svg.split('\n').filter((l) => l.includes('stroke-dasharray'));
    assert.equal(dashed.filter((l) => l.includes('#333333')).length, 2, 'line and legend');
    assert.equal(dashed.filter((l) => l.includes('#444444')).length, 0);
    assert.ok(svg.includes('>Perl sync</text>'));
    assert.ok(!svg.includes('>Perl async</text>'));
  });

  it('labels whole decades that span every value', () => {
    assert.ok(svg.includes('>10.0 k</text>'));
    assert.ok(svg.includes('>1.00 M</text>'));
    const ys = numbers(svg, 'cy');
    assert.ok(ys.every((y) => y >= 48 && y <= 440 - 56));
  });
});
