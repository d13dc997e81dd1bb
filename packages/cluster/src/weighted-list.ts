import { checkWeight } from './weight.js';

/** What a {@link WeightedList} holds. */
export interface Weighted {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
}

/**
 * Every index HASH probes is below this: `h0 = crc32(key) >> 16` is below 2^16 and each of the 19
 * misses before the last probe adds less than 2^16 (MR::IProto::Cluster::_balance_hash), so the
 * index `h % length` is at most `h`, below 20 * 2^16.
 */
export const HASH_REACH = 20 * 2 ** 16;
/** Buckets of the index over the reachable entries (a power of two entries each). */
const BUCKETS = 4096;

/**
 * Perl's HASH list without the list: MR::IProto::Cluster::_build__hash_servers stands each server
 * `weight` times, in list order, so the list's length is the sum of the weights and building it costs
 * memory and time in proportion to them (10^8 took 13 s and 1.9 GB). Here entry `i` is the server
 * whose run of entries covers `i`, found from the running sums of the weights; the tables are in
 * proportion to the number of servers (plus at most 4097 buckets), never to the weights.
 */
export class WeightedList<S extends Weighted> {
  /** The length of Perl's list: the sum of the weights. */
  readonly length: number;
  /** `min(length, HASH_REACH)`: `h % modulus` is `h % length` for every `h` probed, and stays a small integer. */
  readonly modulus: number;
  /** The servers of non-zero weight, in list order... */
  readonly #owners: S[] = [];
  /** ...and where each one's run ends (exclusive): the running sums of the weights. */
  readonly #ends: Float64Array;
  /**
   * `#bucket[b]` = the owner of entry `b << #shift`, so a lookup only searches the owners between two
   * neighbouring buckets. With a list of up to 4096 entries, each entry has a bucket of its own.
   */
  readonly #bucket: Uint32Array;
  readonly #shift: number;
  /** The owner of every entry of bucket `b` when one server owns them all, else undefined. */
  readonly #table: (S | undefined)[] = [];

  /** Throws `ERR_WEIGHT_LIMIT` for a weight above MAX_WEIGHT, `TypeError` for one that is no count. */
  constructor(servers: readonly S[]) {
    const ends: number[] = [];
    let length = 0;
    for (const server of servers) {
      const weight = server.weight;
      const where = `server ${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}`;
      if (!Number.isInteger(weight) || weight < 0) {
        throw new TypeError(`${where}: weight must be a non-negative integer, got ${weight}`);
      }
      checkWeight(where, weight);
      if (weight === 0) continue;
      length += weight;
      this.#owners.push(server);
      ends.push(length);
    }
    this.length = length;
    this.#ends = Float64Array.from(ends);
    this.modulus = Math.min(length, HASH_REACH);
    let shift = 0;
    while (this.modulus > BUCKETS << shift) shift++;
    this.#shift = shift;
    const span = 2 ** shift;
    this.#bucket = new Uint32Array(Math.ceil(this.modulus / span) + 1);
    for (let b = 0, j = 0; b < this.#bucket.length; b++) {
      while (j < ends.length - 1 && ends[j] <= b * span) j++;
      this.#bucket[b] = j;
      // One owner when its run reaches the bucket's last entry (or the list's).
      this.#table.push(ends[j] >= Math.min((b + 1) * span, length) ? this.#owners[j] : undefined);
    }
  }

  /** Entry `index` (below `modulus`) of Perl's list: one load, as Perl's `list[i]`, in most buckets. */
  at(index: number): S {
    return this.#table[index >>> this.#shift] ?? this.#search(index);
  }

  /** A bucket shared by several servers: the first owner whose run ends after `index`. */
  #search(index: number): S {
    const ends = this.#ends;
    const b = index >>> this.#shift;
    let lo = this.#bucket[b];
    let hi = this.#bucket[b + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid] > index) hi = mid;
      else lo = mid + 1;
    }
    return this.#owners[lo];
  }

  /**
   * A random entry of the list among the servers that `pass` (each with the chance weight / length,
   * as Perl's `$list[rand @list]`), or undefined when none passes.
   */
  random(pass: (s: S) => boolean): S | undefined {
    let total = 0;
    for (const owner of this.#owners) if (pass(owner)) total += owner.weight;
    if (total === 0) return undefined;
    let nth = Math.floor(Math.random() * total);
    for (const owner of this.#owners) {
      if (!pass(owner)) continue;
      nth -= owner.weight;
      if (nth < 0) return owner;
    }
    return undefined;
  }
}
