import { BoxCode, BoxDoubleError } from './box-double-error.js';
import type { StoredTuple } from './box-stored-tuple.js';

/** Key field types of Tarantool 1.5: NUM is a 4-byte u32, NUM64 an 8-byte u64, STR any bytes. */
export type BoxFieldType = 'NUM' | 'NUM64' | 'STR';

/** One part of an index key: the tuple field it reads and that field's type. */
export interface BoxKeyPart {
  field: number;
  type: BoxFieldType;
}

/** An index as Tarantool 1.5's configuration declares it (`space[n].index[i]`). */
export interface BoxIndexOptions {
  /** The key parts, in order (`key_field[j].fieldno` / `.type`). */
  parts: BoxKeyPart[];
  /**
   * `HASH` finds exact keys only; `TREE` also takes partial keys (a prefix of the parts, none for every
   * tuple) and returns tuples in key order. Default `TREE`.
   */
  type?: 'HASH' | 'TREE';
  /** Default true; a HASH index must be unique, and so must index 0 (the primary key). */
  unique?: boolean;
}

/** What `BoxIndex#find` returns: `tuples[start]` to `tuples[end - 1]`. */
export interface Matches {
  readonly tuples: readonly StoredTuple[];
  readonly start: number;
  readonly end: number;
}

const NO_MATCH: Matches = { tuples: [], start: 0, end: 0 };

/**
 * The map key of a tuple or a key: a number for a single NUM part (and a single NUM64 part below
 * 2^53), else a string of the bytes. Built from the tuple's own bytes: no views, no arrays.
 */
type MapKey = number | string;

const FIELD_TYPES = new Set<string>(['NUM', 'NUM64', 'STR']);

/**
 * One index of a space. A unique index keeps a `Map` from key to tuple for exact lookups; a TREE
 * index also keeps its tuples sorted: sorted once, on the first ordered read, and from then on kept
 * in order by each write (a binary search, then one `splice` of references), so a write never
 * re-sorts the space and a range read costs two binary searches. Equal keys of a non-unique index
 * are ordered by the primary key (`tiebreak`).
 */
export class BoxIndex {
  readonly id: number;
  readonly parts: readonly BoxKeyPart[];
  readonly type: 'HASH' | 'TREE';
  readonly unique: boolean;
  private readonly map: Map<MapKey, StoredTuple> | undefined;
  private sorted: StoredTuple[] | undefined;

  constructor(space: number, id: number, options: BoxIndexOptions) {
    const where = `box double: space ${space} index ${id}`;
    if (!Array.isArray(options?.parts) || options.parts.length === 0)
      throw new TypeError(`${where}: parts must be a non-empty array of { field, type }`);
    for (const part of options.parts) {
      if (
        part === null ||
        typeof part !== 'object' ||
        part.field >>> 0 !== part.field ||
        !FIELD_TYPES.has(part.type)
      )
        throw new TypeError(`${where}: a key part must be { field: u32, type: 'NUM' | 'NUM64' | 'STR' }`);
    }
    const type = options.type ?? 'TREE';
    if (type !== 'HASH' && type !== 'TREE') throw new TypeError(`${where}: type must be 'HASH' or 'TREE'`);
    const unique = options.unique ?? true;
    if (!unique && (type === 'HASH' || id === 0))
      throw new TypeError(`${where}: ${id === 0 ? 'the primary index' : 'a HASH index'} must be unique`);
    this.id = id;
    this.parts = options.parts.map((part) => ({ field: part.field, type: part.type }));
    this.type = type;
    this.unique = unique;
    this.map = unique ? new Map() : undefined;
  }

  /**
   * Checks a key of `key.length` parts as Tarantool 1.5's `key_validate` does for a SELECT (`exact`
   * false) or `primary_key_validate` for UPDATE and DELETE (`exact` true).
   */
  validateKey(key: readonly Buffer[], exact: boolean): void {
    const count = key.length;
    const parts = this.parts.length;
    if (exact) {
      if (count !== parts)
        throw new BoxDoubleError(
          BoxCode.EXACT_MATCH,
          `Invalid key part count in an exact match (expected ${parts}, got ${count})`,
        );
    } else {
      if (count === 0 && this.type === 'TREE') return;
      if (count > parts)
        throw new BoxDoubleError(
          BoxCode.KEY_PART_COUNT,
          `Invalid key part count (expected [0..${parts}], got ${count})`,
        );
      if (this.type === 'HASH' && count < parts)
        throw new BoxDoubleError(
          BoxCode.EXACT_MATCH,
          `Invalid key part count in an exact match (expected ${parts}, got ${count})`,
        );
    }
    for (let i = 0; i < count; i++) checkFieldType(this.parts[i].type, key[i].length);
  }

  /**
   * The tuples matching a validated key (a prefix of the parts), in index order: `tuples[start]` to
   * `tuples[end - 1]`. A range of the sorted tuples is not copied, so many keys that each match the
   * whole space cost a binary search apiece.
   */
  find(key: readonly Buffer[]): Matches {
    if (this.map !== undefined && key.length === this.parts.length) {
      const tuple = this.map.get(this.keyOf(key));
      return tuple === undefined ? NO_MATCH : { tuples: [tuple], start: 0, end: 1 };
    }
    return this.range(key);
  }

  /** The tuple with exactly this key, on a unique index. */
  get(key: readonly Buffer[]): StoredTuple | undefined {
    return this.map?.get(this.keyOf(key));
  }

  /** The tuple this index holds under `tuple`'s key, if the index is unique. */
  holder(tuple: StoredTuple): StoredTuple | undefined {
    return this.map?.get(this.tupleKey(tuple));
  }

  /** Stores `tuple` (its key checked for uniqueness by the space first). */
  add(tuple: StoredTuple): void {
    this.map?.set(this.tupleKey(tuple), tuple);
    this.insertSorted(tuple);
  }

  /**
   * Stores `tuple` in place of `old` (if any): one map write when the key stays the same, as it does
   * for the primary key of an INSERT that replaces.
   */
  replace(old: StoredTuple | undefined, tuple: StoredTuple): void {
    const map = this.map;
    if (map !== undefined) {
      const key = this.tupleKey(tuple);
      if (old !== undefined) {
        const oldKey = this.tupleKey(old);
        if (oldKey !== key && map.get(oldKey) === old) map.delete(oldKey);
      }
      map.set(key, tuple);
    }
    if (old !== undefined) this.removeSorted(old);
    this.insertSorted(tuple);
  }

  /** Forgets `tuple`. */
  remove(tuple: StoredTuple): void {
    if (this.map !== undefined) {
      const key = this.tupleKey(tuple);
      if (this.map.get(key) === tuple) this.map.delete(key);
    }
    this.removeSorted(tuple);
  }

  /** Drops every tuple. */
  clear(): void {
    this.map?.clear();
    this.sorted = undefined;
  }

  /** The number of tuples of a unique index. */
  get size(): number {
    return this.map?.size ?? 0;
  }

  /** Every tuple of a unique index, unordered. */
  all(): Iterable<StoredTuple> {
    return this.map?.values() ?? [];
  }

  /** Every tuple, in insertion order (HASH) or key order (TREE). */
  values(): readonly StoredTuple[] {
    return this.type === 'TREE' ? this.order(this.source()) : [...this.source()];
  }

  /** Orders tuples by this index's key, ties by `tiebreak` (the primary key). */
  order(all: Iterable<StoredTuple>): StoredTuple[] {
    if (this.sorted === undefined) this.sorted = [...all].sort((a, b) => this.compareTuples(a, b));
    return this.sorted;
  }

  /** Set by the space: where `range` gets every tuple from (the primary index). */
  source: () => Iterable<StoredTuple> = () => this.all();

  /** Set by the space: how equal keys of a non-unique index are ordered (by the primary key). */
  tiebreak: (a: StoredTuple, b: StoredTuple) => number = () => 0;

  /** Compares two tuples by this index's key alone. */
  compareKeys(a: StoredTuple, b: StoredTuple): number {
    return this.compare(a.fields, b.fields, this.parts.length);
  }

  private compareTuples(a: StoredTuple, b: StoredTuple): number {
    return this.compareKeys(a, b) || this.tiebreak(a, b);
  }

  /** The first position of `sorted` whose tuple does not order before `tuple`. */
  private position(sorted: readonly StoredTuple[], tuple: StoredTuple): number {
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.compareTuples(sorted[mid], tuple) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private insertSorted(tuple: StoredTuple): void {
    const sorted = this.sorted;
    if (sorted === undefined) return;
    const at = this.position(sorted, tuple);
    if (at === sorted.length) sorted.push(tuple);
    else sorted.splice(at, 0, tuple);
  }

  private removeSorted(tuple: StoredTuple): void {
    const sorted = this.sorted;
    if (sorted === undefined) return;
    let at = this.position(sorted, tuple);
    // Only equal keys with an equal tiebreak (none, when the primary key breaks ties) are walked.
    while (at < sorted.length && sorted[at] !== tuple && this.compareTuples(sorted[at], tuple) === 0) at++;
    if (sorted[at] === tuple) sorted.splice(at, 1);
  }

  private range(key: readonly Buffer[]): Matches {
    const sorted = this.order(this.source());
    const n = key.length;
    if (n === 0) return { tuples: sorted, start: 0, end: sorted.length };
    // The first tuple whose key prefix is not below `key`, then every one equal to it.
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.compareKey(key, sorted[mid].fields, n) > 0) low = mid + 1;
      else high = mid;
    }
    // Then the first whose key prefix is above it: a second binary search, not a walk over the matches.
    high = sorted.length;
    let end = low;
    while (end < high) {
      const mid = (end + high) >>> 1;
      if (this.compareKey(key, sorted[mid].fields, n) >= 0) end = mid + 1;
      else high = mid;
    }
    return { tuples: sorted, start: low, end };
  }

  private compare(a: readonly Buffer[], b: readonly Buffer[], n: number): number {
    for (let i = 0; i < n; i++) {
      const field = this.parts[i].field;
      const order = comparePart(this.parts[i].type, a[field], b[field]);
      if (order !== 0) return order;
    }
    return 0;
  }

  private compareKey(key: readonly Buffer[], fields: readonly Buffer[], n: number): number {
    for (let i = 0; i < n; i++) {
      const order = comparePart(this.parts[i].type, key[i], fields[this.parts[i].field]);
      if (order !== 0) return order;
    }
    return 0;
  }

  private tupleKey(tuple: StoredTuple): MapKey {
    const parts = this.parts;
    if (parts.length === 1)
      return partKey(parts[0].type, tuple.blob, tuple.start(parts[0].field), tuple.end(parts[0].field));
    let key = '';
    for (const { field } of parts) key += joinable(tuple.blob, tuple.start(field), tuple.end(field));
    return key;
  }

  /** The map key of a validated key with all the parts: the same as `tupleKey` of its tuple. */
  private keyOf(key: readonly Buffer[]): MapKey {
    if (key.length === 1) return partKey(this.parts[0].type, key[0], 0, key[0].length);
    let joined = '';
    for (const part of key) joined += joinable(part, 0, part.length);
    return joined;
  }
}

/** The map key of a one-part key at `bytes[start..end]`: a number where it is one, else the bytes. */
function partKey(type: BoxFieldType, bytes: Buffer, start: number, end: number): MapKey {
  if (type === 'NUM') return u32(bytes, start);
  if (type === 'NUM64') {
    const high = u32(bytes, start + 4);
    // Below 2^53 a double holds it exactly; a number and a string never collide in a Map.
    if (high < 0x200000) return high * 0x100000000 + u32(bytes, start);
  }
  return bytes.toString('latin1', start, end);
}

/** A part of a multi-part map key: its length first, so `ab`+`c` and `a`+`bc` differ. */
function joinable(bytes: Buffer, start: number, end: number): string {
  return `${end - start}:${bytes.toString('latin1', start, end)}`;
}

function u32(bytes: Buffer, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16)) + bytes[at + 3] * 0x1000000;
}

/** Tarantool 1.5's `key_validate_parts`: a NUM key part is exactly 4 bytes, a NUM64 exactly 8. */
export function checkFieldType(type: BoxFieldType, length: number): void {
  if (type === 'NUM' && length !== 4)
    throw new BoxDoubleError(
      BoxCode.KEY_FIELD_TYPE,
      'Supplied key field type does not match index type: expected u32',
    );
  if (type === 'NUM64' && length !== 8)
    throw new BoxDoubleError(
      BoxCode.KEY_FIELD_TYPE,
      'Supplied key field type does not match index type: expected u64',
    );
}

/** NUM and NUM64 compare as unsigned numbers, STR as bytes (then the shorter first), as 1.5 does. */
function comparePart(type: BoxFieldType, a: Buffer, b: Buffer): number {
  if (type === 'NUM') return a.readUInt32LE(0) - b.readUInt32LE(0);
  if (type === 'NUM64') {
    const high = a.readUInt32LE(4) - b.readUInt32LE(4);
    return high !== 0 ? high : a.readUInt32LE(0) - b.readUInt32LE(0);
  }
  return Buffer.compare(a, b);
}
