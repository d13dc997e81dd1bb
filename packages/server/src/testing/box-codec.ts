import { BoxCode, type BoxDoubleError, illegal } from './box-double-error.js';
import { StoredTuple } from './box-stored-tuple.js';

/** Message codes of a Tarantool 1.5 box (MR::Tarantool::Box). */
export const BoxMsg = {
  /** `L space, L flags`, then the tuple: `L cardinality, (w/a*)*`. */
  INSERT: 13,
  /** `L space, L index, L offset, L limit, L key_count`, then each key as a tuple. */
  SELECT: 17,
  /** `L count`, then `count` SELECT bodies (MR::Tarantool::Box `SelectUnion`). */
  SELECT_MULTI: 18,
  /** `L space, L flags`, the key tuple, `L op_count`, then each op `L field_no, C op, w/a* argument`. */
  UPDATE: 19,
  /** `L space`, then the key tuple (the older DELETE, without flags). */
  DELETE_1_3: 20,
  /** `L space, L flags`, then the key tuple. */
  DELETE: 21,
  /** `L flags, w/a* procedure`, then the arguments as one tuple. */
  CALL: 22,
  /** Any body; the reply is a bare header. */
  PING: 0xff00,
} as const;

/** Request flags: 1 returns the tuple, 2 fails when the key exists, 4 fails when it does not. */
export const BoxFlag = { WANT_RESULT: 1, ADD: 2, REPLACE: 4 } as const;

/** What a field can be given as: bytes, UTF-8 text, or an integer (see `fieldBytes`). */
export type BoxFieldValue = Uint8Array | string | number | bigint;

/**
 * A cursor over a request body. Every read checks what is left first, so a count or a length a
 * client wrote costs nothing until the bytes it announces have arrived.
 */
export class BodyReader {
  private readonly bytes: Buffer;
  private offset = 0;

  constructor(body: Uint8Array) {
    this.bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  /** An `L` (little-endian uint32). */
  u32(): number {
    if (this.remaining < 4) throw illegal('packet too short (expected 4 bytes)');
    const value = this.bytes.readUInt32LE(this.offset);
    this.offset += 4;
    return value;
  }

  /** A `C` (one byte). */
  u8(): number {
    if (this.remaining < 1) throw illegal('packet too short (expected 1 bytes)');
    return this.bytes[this.offset++];
  }

  /** A `w/a*` field: a BER length (as Tarantool's `load_varint32`: at most 5 bytes), then the bytes. */
  field(malformed: () => BoxDoubleError = tooShort): Buffer {
    const bytes = this.bytes;
    const end = bytes.length;
    let at = this.offset;
    let length = 0;
    for (let i = 0; ; i++) {
      if (at >= end || i === 5) throw malformed();
      const byte = bytes[at++];
      length = length * 128 + (byte & 0x7f);
      if ((byte & 0x80) === 0) break;
    }
    if (length > end - at) throw malformed();
    this.offset = at + length;
    return bytes.subarray(at, at + length);
  }

  /** `L cardinality`, then that many fields; a field running past the body is `malformed`. */
  tuple(malformed: () => BoxDoubleError = badTuple): Buffer[] {
    const count = this.u32();
    // Each field takes at least one byte: a count the body cannot hold fails before any work.
    if (count > this.remaining) throw malformed();
    const fields = new Array<Buffer>(count);
    for (let i = 0; i < count; i++) fields[i] = this.field(malformed);
    return fields;
  }

  /**
   * The rest of the body as one tuple (`L cardinality`, then exactly that many fields), copied into
   * a `StoredTuple`: what an INSERT stores. `check` sees the size of the tuple's field data before
   * anything is copied. Bytes after the last field make the tuple malformed.
   */
  storedTuple(check: (dataSize: number) => void): StoredTuple {
    const bytes = this.bytes;
    const end = bytes.length;
    const begin = this.offset;
    const count = this.u32();
    // Each field takes at least one byte: a count the body cannot hold fails before any work.
    if (count > end - this.offset) throw badTuple();
    // Offsets in the blob are 4 bytes (the `L size` in front of the cardinality) past the body's.
    const shift = 4 - begin;
    const bounds = new Array<number>(2 * count);
    let at = this.offset;
    for (let i = 0; i < count; i++) {
      let length = 0;
      for (let j = 0; ; j++) {
        if (at >= end || j === 5) throw badTuple();
        const byte = bytes[at++];
        length = length * 128 + (byte & 0x7f);
        if ((byte & 0x80) === 0) break;
      }
      if (length > end - at) throw badTuple();
      bounds[2 * i] = at + shift;
      at += length;
      bounds[2 * i + 1] = at + shift;
    }
    if (at !== end) throw badTuple();
    this.offset = at;
    const size = end - begin - 4;
    check(size);
    const blob = Buffer.allocUnsafe(8 + size);
    blob.writeUInt32LE(size, 0);
    bytes.copy(blob, 4, begin, end);
    return new StoredTuple(blob, bounds);
  }

  /** Tarantool 1.5 refuses a request with bytes left over after what it read. */
  end(): void {
    if (this.offset !== this.bytes.length) throw illegal("can't unpack request");
  }
}

const tooShort = (): BoxDoubleError => illegal('packet too short');
const badTuple = (): BoxDoubleError => illegal('during verifying tuple: incorrect tuple format');

/** The length of `n` as a BER (`w`) prefix. */
export function berLength(n: number): number {
  let length = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    length++;
  }
  return length;
}

/** Writes `n` as BER (`w`: base 128, most significant group first) at `at`; returns the new offset. */
export function writeBer(target: Buffer, at: number, n: number): number {
  const length = berLength(n);
  for (let i = length - 1; i >= 0; i--) {
    target[at + i] = (n % 128) | (i === length - 1 ? 0 : 0x80);
    n = Math.floor(n / 128);
  }
  return at + length;
}

/** A tuple from its field bytes: they are copied into the reply form, `L size, L cardinality, (w/a*)*`. */
export function makeTuple(fields: readonly Uint8Array[]): StoredTuple {
  let size = 0;
  for (const field of fields) size += berLength(field.length) + field.length;
  const blob = Buffer.allocUnsafe(8 + size);
  blob.writeUInt32LE(size, 0);
  blob.writeUInt32LE(fields.length, 4);
  const bounds = new Array<number>(2 * fields.length);
  let at = 8;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    at = writeBer(blob, at, field.length);
    blob.set(field, at);
    bounds[2 * i] = at;
    at += field.length;
    bounds[2 * i + 1] = at;
  }
  return new StoredTuple(blob, bounds);
}

/**
 * The bytes of a field value: a `Uint8Array` as it is, a string as UTF-8, an integer from 0 to
 * 2^32-1 as a 4-byte NUM, from -2^31 to -1 as a 4-byte signed int, any other safe integer or a bigint
 * as an 8-byte NUM64 (signed when negative), all little-endian.
 */
export function fieldBytes(value: BoxFieldValue): Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new TypeError(`box field: ${value} is not a safe integer (give a bigint, a string or bytes)`);
    if (value >= 0 && value <= 0xffffffff) {
      const bytes = Buffer.allocUnsafe(4);
      bytes.writeUInt32LE(value);
      return bytes;
    }
    if (value < 0 && value >= -0x80000000) {
      const bytes = Buffer.allocUnsafe(4);
      bytes.writeInt32LE(value);
      return bytes;
    }
    value = BigInt(value);
  }
  if (typeof value === 'bigint') {
    if (value < -(2n ** 63n) || value >= 2n ** 64n)
      throw new RangeError(`box field: ${value} does not fit in 64 bits`);
    const bytes = Buffer.allocUnsafe(8);
    if (value < 0n) bytes.writeBigInt64LE(value);
    else bytes.writeBigUInt64LE(value);
    return bytes;
  }
  throw new TypeError(`box field: expected bytes, a string, a number or a bigint, got ${typeof value}`);
}

/** `L 0, L 0` and `L 0, L 1`: the replies of a write without WANT_RESULT. */
export const REPLY_NONE: Buffer = okCount(0);
export const REPLY_ONE: Buffer = okCount(1);

function okCount(count: number): Buffer {
  const reply = Buffer.alloc(8);
  reply.writeUInt32LE(count, 4);
  return reply;
}

/** `L 0, L count`, then each tuple. */
export function encodeTuples(tuples: readonly StoredTuple[]): Buffer {
  return encodeResultSets([tuples]);
}

/** `L 0`, then for each result set `L count` and its tuples (msg 18 answers several sets). */
export function encodeResultSets(sets: readonly (readonly StoredTuple[])[]): Buffer {
  let size = 4;
  for (const set of sets) {
    size += 4;
    for (const tuple of set) size += tuple.blob.length;
  }
  const reply = Buffer.allocUnsafe(size);
  reply.writeUInt32LE(BoxCode.OK, 0);
  let at = 4;
  for (const set of sets) {
    reply.writeUInt32LE(set.length, at);
    at += 4;
    for (const tuple of set) {
      tuple.blob.copy(reply, at);
      at += tuple.blob.length;
    }
  }
  return reply;
}

/** `L code`, then the text terminated by a NUL byte, as a Tarantool 1.5 box sends errors. */
export function encodeError(code: number, text: string): Buffer {
  const length = Buffer.byteLength(text, 'utf8');
  const reply = Buffer.allocUnsafe(4 + length + 1);
  reply.writeUInt32LE(code >>> 0, 0);
  reply.write(text, 4, 'utf8');
  reply[4 + length] = 0;
  return reply;
}
