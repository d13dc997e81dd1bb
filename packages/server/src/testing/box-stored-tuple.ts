/**
 * A tuple as the box double keeps it: `blob` is the tuple exactly as a reply carries it (`L size,
 * L cardinality`, then the fields as `w/a*`), and the field bounds inside it. An INSERT makes one
 * of these per request, so it holds one buffer and one array of numbers: the indexes read a key
 * straight from `blob`, and views of the fields (`fields`) are made only when something asks for
 * them (an UPDATE, a sort, a test), once.
 */
export class StoredTuple {
  readonly blob: Buffer;
  /** Field `i` is `blob[bounds[2i]]` up to `blob[bounds[2i + 1]]`, its BER prefix excluded. */
  private readonly bounds: readonly number[];
  private views: Buffer[] | undefined;

  constructor(blob: Buffer, bounds: readonly number[]) {
    this.blob = blob;
    this.bounds = bounds;
  }

  /** The number of fields. */
  get count(): number {
    return this.bounds.length >>> 1;
  }

  /** Where field `i` starts in `blob`. */
  start(i: number): number {
    return this.bounds[2 * i];
  }

  /** Where field `i` ends in `blob`. */
  end(i: number): number {
    return this.bounds[2 * i + 1];
  }

  /** The byte length of field `i`. */
  length(i: number): number {
    return this.bounds[2 * i + 1] - this.bounds[2 * i];
  }

  /** Views of the field bytes inside `blob`. */
  get fields(): readonly Buffer[] {
    if (this.views === undefined) {
      const views = new Array<Buffer>(this.count);
      for (let i = 0; i < views.length; i++) views[i] = this.blob.subarray(this.start(i), this.end(i));
      this.views = views;
    }
    return this.views;
  }

  /** The bytes this tuple takes in Tarantool 1.5's slab allocator: its header and its field data. */
  get allocationSize(): number {
    return TUPLE_HEADER_SIZE + this.blob.length - 8;
  }
}

/** The bytes of a tuple header in Tarantool 1.5's allocator (refs, flags, bsize, field count). */
export const TUPLE_HEADER_SIZE = 12;
