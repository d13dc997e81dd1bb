import { describe, expect, it } from 'vitest';
import { Histogram } from '../src/histogram.js';

describe('Histogram', () => {
  it('is exact for small values and reports count, min, max and mean', () => {
    const h = new Histogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    expect(h.count).toBe(100);
    expect(h.min).toBe(1);
    expect(h.max).toBe(100);
    expect(h.mean).toBeCloseTo(50.5);
    expect(h.percentile(50)).toBe(50);
    expect(h.percentile(90)).toBe(90);
    expect(h.percentile(99)).toBe(99);
    expect(h.percentile(100)).toBe(100);
    expect(h.percentile(0)).toBe(1);
  });

  it('keeps every percentile within 1/128 of the true value across magnitudes', () => {
    const h = new Histogram();
    const values: number[] = [];
    let seed = 12345;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      // latencies from 1 µs to ~30 s, in nanoseconds, spread over many powers of two
      const v = Math.floor(1000 * 2 ** ((seed / 2 ** 31) * 25));
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const p of [50, 90, 99, 99.9]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1];
      const got = h.percentile(p);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect((got - exact) / exact).toBeLessThanOrEqual(1 / 128);
    }
    expect(h.max).toBe(values[values.length - 1]);
    expect(h.percentile(100)).toBe(values[values.length - 1]);
  });

  it('handles values around powers of two and beyond 2^32', () => {
    const h = new Histogram();
    for (const v of [255, 256, 257, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345, 2 ** 52]) {
      h.reset();
      h.record(v);
      expect(h.percentile(50)).toBe(v);
      expect(h.count).toBe(1);
    }
  });

  it('ranks p99.9 of 1000 samples at the 999th, despite 99.9 / 100 * 1000 rounding up', () => {
    const h = new Histogram();
    for (let v = 1; v <= 250; v++) for (let k = 0; k < 4; k++) h.record(v);
    // 1000 samples; the 999th smallest is 250, the 996th is 249
    expect(h.percentile(99.6)).toBe(249);
    expect(h.percentile(99.9)).toBe(250);
  });

  it('merges and resets', () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(10);
    b.record(1_000_000);
    a.merge(b);
    expect(a.count).toBe(2);
    expect(a.min).toBe(10);
    expect(a.max).toBe(1_000_000);
    a.reset();
    expect(a.count).toBe(0);
    expect(a.percentile(99)).toBe(0);
    expect(a.min).toBe(0);
  });
});
