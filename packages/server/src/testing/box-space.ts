import { type BoxFieldValue, fieldBytes, makeTuple } from './box-codec.js';
import { BoxCode, BoxDoubleError, illegal } from './box-double-error.js';
import { BoxIndex, type BoxIndexOptions, checkFieldType } from './box-index.js';
import { type StoredTuple, TUPLE_HEADER_SIZE } from './box-stored-tuple.js';

/** A space as Tarantool 1.5's configuration declares it (`space[n]`). */
export interface BoxSpaceOptions {
  /** The space number. */
  space: number;
  /** Index 0 is the primary key. Default: one TREE index on field 0 as a NUM. */
  indexes?: BoxIndexOptions[];
  /** `cardinality`: when above 0, every tuple must have exactly this many fields. Default 0 (any). */
  cardinality?: number;
}

/** How an INSERT treats an existing key (Tarantool 1.5's `dup_replace_mode`). */
export type ReplaceMode = 'insert' | 'replace' | 'upsert';

/** A `BoxSpace` write: the tuple it replaced (or removed), if any. */
export interface WriteResult {
  old: StoredTuple | undefined;
}

/** The default slab limit: the largest tuple allocation a default Tarantool 1.5 makes, 1 MiB. */
export const DEFAULT_MAX_TUPLE_SIZE = 1024 * 1024;

/**
 * One space of the box double: its tuples and indexes. Writes check every unique index before they
 * change any, so a failed write changes nothing.
 */
export class BoxSpace {
  readonly id: number;
  readonly indexes: readonly BoxIndex[];
  readonly cardinality: number;
  /** Tuples bigger than this (header included) fail with 0x0701, as the slab allocator does. */
  maxTupleSize: number;
  private readonly primary: BoxIndex;
  /** Fields the indexes read, with their types: a tuple must have all of them, of the right size. */
  private readonly indexed: { field: number; type: BoxIndex['parts'][number]['type'] }[];
  private readonly minFields: number;

  constructor(options: BoxSpaceOptions, maxTupleSize = DEFAULT_MAX_TUPLE_SIZE) {
    const id = options?.space;
    if (id >>> 0 !== id) throw new TypeError(`box double: space must be a u32, got ${id}`);
    const cardinality = options.cardinality ?? 0;
    if (cardinality >>> 0 !== cardinality)
      throw new TypeError(`box double: space ${id} cardinality must be a u32, got ${cardinality}`);
    const indexes = options.indexes ?? [{ parts: [{ field: 0, type: 'NUM' }] }];
    if (!Array.isArray(indexes) || indexes.length === 0)
      throw new TypeError(`box double: space ${id} needs at least one index`);
    this.id = id;
    this.cardinality = cardinality;
    this.maxTupleSize = maxTupleSize;
    this.indexes = indexes.map((index, i) => new BoxIndex(id, i, index));
    this.primary = this.indexes[0];
    const all = (): Iterable<StoredTuple> => this.primary.all();
    const primary = this.primary;
    const byPrimaryKey = (a: StoredTuple, b: StoredTuple): number => primary.compareKeys(a, b);
    for (const index of this.indexes) {
      index.source = all;
      index.tiebreak = byPrimaryKey;
    }
    const seen = new Map<number, string>();
    for (const index of this.indexes) {
      for (const part of index.parts) {
        const type = seen.get(part.field);
        if (type !== undefined && type !== part.type)
          throw new TypeError(`box double: space ${id} field ${part.field} is both ${type} and ${part.type}`);
        seen.set(part.field, part.type);
      }
    }
    this.indexed = [...seen].map(([field, type]) => ({ field, type: type as 'NUM' | 'NUM64' | 'STR' }));
    this.minFields = Math.max(...this.indexed.map((part) => part.field)) + 1;
  }

  /** The number of tuples. */
  get size(): number {
    return this.primary.size;
  }

  /** Every tuple's fields, in primary-key order (insertion order for a HASH primary index). */
  tuples(): Buffer[][] {
    return this.primary.values().map((tuple) => [...tuple.fields]);
  }

  /** Inserts or replaces a tuple directly, with the checks of an INSERT (throws `BoxDoubleError`). */
  put(fields: readonly BoxFieldValue[]): void {
    this.insert(makeTuple(fields.map(fieldBytes)), 'upsert');
  }

  /** Drops every tuple. */
  clear(): void {
    for (const index of this.indexes) index.clear();
  }

  /** The index `id`, or 0x3502. */
  index(id: number): BoxIndex {
    const index = this.indexes[id];
    if (index === undefined)
      throw new BoxDoubleError(BoxCode.NO_SUCH_INDEX, `No index #${id} is defined in space ${this.id}`);
    return index;
  }

  /** The tuple with this primary key (validated as UPDATE and DELETE do). */
  byPrimaryKey(key: readonly Buffer[]): StoredTuple | undefined {
    this.primary.validateKey(key, true);
    return this.primary.get(key);
  }

  /**
   * Checks the size of a new tuple's field data (its BER prefixes included) against the slab limit,
   * as Tarantool 1.5's allocator does before anything else: an INSERT calls it before it copies.
   */
  readonly checkSize = (dataSize: number): void => {
    const size = TUPLE_HEADER_SIZE + dataSize;
    if (size > this.maxTupleSize)
      throw new BoxDoubleError(
        BoxCode.MEMORY_ISSUE,
        `Failed to allocate ${size} bytes in slab allocator for tuple`,
      );
  };

  /** Checks a new tuple as Tarantool 1.5 does before storing it: size, field count, field types. */
  check(tuple: StoredTuple): void {
    this.checkSize(tuple.allocationSize - TUPLE_HEADER_SIZE);
    const count = tuple.count;
    if (count === 0) throw illegal('tuple field count is 0');
    if (this.cardinality > 0 && count !== this.cardinality)
      throw illegal('tuple field count must match space cardinality');
    if (count < this.minFields) throw illegal('tuple must have all indexed fields');
    for (const part of this.indexed) checkFieldType(part.type, tuple.length(part.field));
  }

  /** INSERT: `insert` fails on an existing key (ADD), `replace` on a missing one, `upsert` never. */
  insert(tuple: StoredTuple, mode: ReplaceMode): WriteResult {
    this.check(tuple);
    const old = this.primary.holder(tuple);
    if (mode === 'insert' && old !== undefined)
      throw new BoxDoubleError(BoxCode.TUPLE_FOUND, 'Duplicate key exists in unique index 0');
    if (mode === 'replace' && old === undefined)
      throw new BoxDoubleError(BoxCode.TUPLE_NOT_FOUND, "Tuple doesn't exist in index 0");
    this.swap(old, tuple);
    return { old };
  }

  /** UPDATE: replaces `old` with `tuple`, which may have another primary key. */
  replace(old: StoredTuple, tuple: StoredTuple): void {
    this.check(tuple);
    const other = this.primary.holder(tuple);
    if (other !== undefined && other !== old)
      throw new BoxDoubleError(BoxCode.TUPLE_FOUND, 'Duplicate key exists in unique index 0');
    this.swap(old, tuple);
  }

  /** DELETE of a tuple found by its primary key. */
  remove(tuple: StoredTuple): void {
    for (const index of this.indexes) index.remove(tuple);
  }

  private swap(old: StoredTuple | undefined, tuple: StoredTuple): void {
    // Every secondary unique key is checked before anything changes.
    for (let i = 1; i < this.indexes.length; i++) {
      const holder = this.indexes[i].holder(tuple);
      if (holder !== undefined && holder !== old)
        throw new BoxDoubleError(BoxCode.TUPLE_FOUND, `Duplicate key exists in unique index ${i}`);
    }
    for (const index of this.indexes) index.replace(old, tuple);
  }
}
