/**
 * Bits of precision kept below each power of two: 2^7 = 128 sub-buckets, so any recorded value is
 * reported within 1/128 (0.8 %) of its true value, whatever its magnitude.
 */
const SUB_BITS = 7;
const SUB_COUNT = 1 << SUB_BITS;
/** Values below this are counted exactly, one bucket each. */
const LINEAR_LIMIT = SUB_COUNT * 2;
/** Enough buckets for any safe integer (2^53). */
const BUCKETS = LINEAR_LIMIT + (53 - SUB_BITS) * SUB_COUNT;

/**
 * A compact log-linear histogram of non-negative integers (latencies in nanoseconds, say), in the
 * manner of HdrHistogram: a fixed array of about 6,000 counters however many values are recorded,
 * so a load generator can keep every sample without keeping an array of them.
 */
export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private low = Number.POSITIVE_INFINITY;
  private high = 0;

  /** Records one value (rounded down to an integer; negatives count as 0). */
  record(value: number): void {
    const v = value >= 1 ? Math.floor(value) : 0;
    this.counts[bucketOf(v)]++;
    this.total++;
    this.sum += v;
    if (v < this.low) this.low = v;
    if (v > this.high) this.high = v;
  }

  /** Adds every value recorded by `other`. */
  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
    this.sum += other.sum;
    if (other.low < this.low) this.low = other.low;
    if (other.high > this.high) this.high = other.high;
  }

  get count(): number {
    return this.total;
  }

  get min(): number {
    return this.total === 0 ? 0 : this.low;
  }

  get max(): number {
    return this.high;
  }

  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /**
   * The value at percentile `p` (0..100): the highest value of the bucket holding the sample of
   * that rank, never above the largest value recorded. 0 when nothing was recorded.
   */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    // p * total / 100, not p / 100 * total: 99.9 / 100 * 1000 rounds to 999.0000000000001.
    const rank = Math.max(1, Math.ceil((Math.min(Math.max(p, 0), 100) * this.total) / 100));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(Math.max(upperBound(i), this.low), this.high);
    }
    return this.high;
  }

  /** Forgets every recorded value. */
  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.low = Number.POSITIVE_INFINITY;
    this.high = 0;
  }
}

function bucketOf(v: number): number {
  if (v < LINEAR_LIMIT) return v;
  if (v <= 0xffffffff) {
    // The common case (below 4.3 s in nanoseconds): integer bit tricks, no floating-point log.
    const shift = 31 - Math.clz32(v) - SUB_BITS;
    return LINEAR_LIMIT + (shift - 1) * SUB_COUNT + ((v >>> shift) - SUB_COUNT);
  }
  let magnitude = Math.floor(Math.log2(v));
  // log2 of a value just under a power of two can round up to that power.
  if (2 ** magnitude > v) magnitude--;
  const shift = magnitude - SUB_BITS;
  const top = Math.floor(v / 2 ** shift); // in [SUB_COUNT, 2 * SUB_COUNT)
  return LINEAR_LIMIT + (shift - 1) * SUB_COUNT + (top - SUB_COUNT);
}

function upperBound(index: number): number {
  if (index < LINEAR_LIMIT) return index;
  const shift = Math.floor((index - LINEAR_LIMIT) / SUB_COUNT) + 1;
  const top = ((index - LINEAR_LIMIT) % SUB_COUNT) + SUB_COUNT;
  return (top + 1) * 2 ** shift - 1;
}
