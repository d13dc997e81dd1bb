import { crc32 } from './crc32.js';
import { WeightedList } from './weighted-list.js';

/** What the balancer needs to know about a server. */
export interface Balanced {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly active: boolean;
}

/** Excluded servers count as inactive; `undefined` excludes nothing. */
export type Exclusion<S> = ReadonlySet<S> | undefined;

/** HASH probes before the last-resort random pick (MR::IProto::Cluster::_balance_hash). */
export const HASH_PROBES = 20;
/** Points per server on the ketama ring, whatever its weight (MR::IProto::Cluster::_build__ketama). */
export const KETAMA_POINTS = 11;

const BUCKET_SHIFT = 20;
const BUCKETS = 2 ** (32 - BUCKET_SHIFT);
const BUCKET_SPAN = 2 ** BUCKET_SHIFT;

// crc32(String(i), seed) for the probe indexes 0..19 depends on the 16-bit seed alone; the index
// strings are fixed, so encode them once.
const PROBE_NAMES = Array.from({ length: HASH_PROBES }, (_, i) => new TextEncoder().encode(String(i)));

/**
 * The tables MR::IProto::Cluster builds lazily, built here eagerly whenever membership changes, so
 * a pick costs one crc32 plus a table look-up (HASH) or a binary search (KETAMA). The tables are in
 * proportion to the number of servers, never to their weights.
 */
export class Balancer<S extends Balanced> {
  readonly servers: readonly S[];
  /** HASH: Perl's list of each server `weight` times, without the list (see WeightedList). */
  readonly hashList: WeightedList<S>;
  /** KETAMA: the points in Perl's order, with their owners. */
  readonly ketamaPoints: Float64Array;
  readonly ketamaOwners: readonly S[];
  /**
   * KETAMA: `ketamaReach[i]` = the largest point among the first i+1. Perl sorts the points by their
   * decimal strings, so they are not in numeric order, but "the first point >= h" is also "the
   * first i whose running maximum is >= h", and the running maximum is sorted: binary search works.
   */
  readonly ketamaReach: Float64Array;
  /**
   * KETAMA: `ketamaBucket[b]` = the first i whose reach is >= b << 20, so a search only looks at the
   * points sharing the hash's top 12 bits (usually none to two) rather than at all of them.
   */
  readonly ketamaBucket: Uint32Array;
  /**
   * RR: the working copy that picks are taken out of (_rr_servers), kept without an array per
   * round: the servers still to pick this round are `#rrOrder[0..#rrLeft)`, and a pick swaps its
   * server to the end of that range.
   */
  readonly #rrOrder: S[];
  #rrLeft = 0;

  constructor(servers: readonly S[]) {
    this.servers = servers.slice();
    this.#rrOrder = servers.slice();
    this.hashList = new WeightedList(this.servers);

    const points: { point: number; text: string; owner: S }[] = [];
    for (const server of this.servers) {
      for (let i = 0; i < KETAMA_POINTS; i++) {
        const point = crc32(`${server.host}${server.port}${i}`);
        points.push({ point, text: String(point), owner: server });
      }
    }
    // MR::IProto::Cluster::_build__ketama sorts with `cmp`: by the decimal string, byte by byte.
    // Array#sort is stable, as Perl's merge sort is, so equal points keep list order.
    points.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
    this.ketamaPoints = Float64Array.from(points, (p) => p.point);
    this.ketamaOwners = points.map((p) => p.owner);
    this.ketamaReach = new Float64Array(points.length);
    let reach = -1;
    for (let i = 0; i < points.length; i++) this.ketamaReach[i] = reach = Math.max(reach, points[i].point);
    this.ketamaBucket = new Uint32Array(BUCKETS + 1);
    let i = 0;
    for (let b = 0; b <= BUCKETS; b++) {
      const floor = b * BUCKET_SPAN;
      while (i < points.length && this.ketamaReach[i] < floor) i++;
      this.ketamaBucket[b] = i;
    }
  }

  /**
   * MR::IProto::Cluster::_balance_rr: a random server taken out of a working copy that is refilled
   * when empty, so each server is picked once per round. Beyond Perl: inactive and excluded servers
   * are passed over while the copy still holds a usable one; when no server at all is usable, the
   * pick falls back to non-excluded servers, then to any (Perl's behaviour).
   */
  pickRoundRobin(exclude: Exclusion<S>): S {
    const order = this.#rrOrder;
    if (this.#rrLeft === 0) this.#rrLeft = order.length;
    // Fast path, and uniform: a random entry, kept if usable (conditioned on that, it is uniform
    // among the usable ones); otherwise pick uniformly among the usable ones.
    let index = Math.floor(Math.random() * this.#rrLeft);
    if (!usable(order[index], exclude)) {
      index = randomIndexWhere(order, this.#rrLeft, (s) => usable(s, exclude));
      if (index < 0) {
        // Nothing usable is left in this round: start a new one.
        const all = (this.#rrLeft = order.length);
        index = randomIndexWhere(order, all, (s) => usable(s, exclude));
        if (index < 0) index = randomIndexWhere(order, all, (s) => !exclude?.has(s));
        if (index < 0) index = Math.floor(Math.random() * all);
      }
    }
    // Taken out of this round: swapped to the end of the range still to pick.
    const last = --this.#rrLeft;
    const picked = order[index];
    order[index] = order[last];
    order[last] = picked;
    return picked;
  }

  /**
   * MR::IProto::Cluster::_balance_hash's probe loop: `h = h0 = crc32(key) >> 16`, then up to 20
   * probes of `list[h % length]`, each miss adding `crc32(probeIndex, h0) >> 16`. An inactive or
   * excluded server is a miss. Returns undefined after 20 misses (Perl then picks at random).
   */
  probeHash(key: Uint8Array | string, exclude: Exclusion<S>): S | undefined {
    const list = this.hashList;
    const length = list.modulus;
    if (length === 0) return undefined;
    const seed = crc32(key) >>> 16;
    let hash = seed;
    for (let probe = 0; probe < HASH_PROBES; probe++) {
      const server = list.at(hash % length);
      if (usable(server, exclude)) return server;
      hash += crc32(PROBE_NAMES[probe], seed) >>> 16;
    }
    return undefined;
  }

  /**
   * HASH's last resort. Perl picks any entry of the weighted list (a server with the chance
   * weight / length); we do the same among the active, then the non-excluded servers, so the fallback
   * does not land on a server known to be down.
   */
  fallbackHash(exclude: Exclusion<S>): S | undefined {
    const list = this.hashList;
    return (
      list.random((s) => usable(s, exclude)) ??
      list.random((s) => !exclude?.has(s)) ??
      list.random(() => true)
    );
  }

  /**
   * MR::IProto::Cluster::_balance_ketama: the first point (in Perl's string order) that is
   * numerically >= crc32(key), else the first point. With `skip` (excluded servers, and inactive
   * ones when asked), the answer is the one Perl would give if the skipped servers were not in the
   * list: the first later point >= crc32(key) whose server is kept, else the first kept point.
   */
  pickKetama(key: Uint8Array | string, exclude: Exclusion<S>, skipInactive: boolean): S | undefined {
    const points = this.ketamaPoints;
    if (points.length === 0) return undefined;
    const hash = crc32(key);
    const reach = this.ketamaReach;
    // first i with reach[i] >= hash: it lies within the hash's bucket
    const bucket = hash >>> BUCKET_SHIFT;
    let lo = this.ketamaBucket[bucket];
    let hi = this.ketamaBucket[bucket + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (reach[mid] >= hash) hi = mid;
      else lo = mid + 1;
    }
    const owners = this.ketamaOwners;
    if (exclude === undefined && !skipInactive) return lo < points.length ? owners[lo] : owners[0];
    const keep = (s: S) => !exclude?.has(s) && (!skipInactive || s.active);
    for (let i = lo; i < points.length; i++) if (points[i] >= hash && keep(owners[i])) return owners[i];
    for (let i = 0; i < points.length; i++) if (keep(owners[i])) return owners[i];
    // Everything is skipped: Perl's own answer.
    return lo < points.length ? owners[lo] : owners[0];
  }
}

function usable<S extends Balanced>(server: S, exclude: Exclusion<S>): boolean {
  return server.active && (exclude === undefined || !exclude.has(server));
}

/** A uniformly random index among the first `length` entries that pass, or -1. */
function randomIndexWhere<S>(list: readonly S[], length: number, pass: (s: S) => boolean): number {
  let count = 0;
  for (let i = 0; i < length; i++) if (pass(list[i])) count++;
  if (count === 0) return -1;
  let nth = Math.floor(Math.random() * count);
  for (let i = 0; i < length; i++) if (pass(list[i]) && nth-- === 0) return i;
  return -1;
}
