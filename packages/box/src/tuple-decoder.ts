import { boxError } from './box-error.js';
import { type FieldLetter, INT_SIZE, type ParsedFormat } from './format.js';

/** The reply as the decoders read it: a byte range and a cursor. */
export interface Cursor {
  readonly bytes: Buffer;
  pos: number;
  readonly end: number;
  /** What the reply answers (`select from users (space 0)`), for messages. */
  readonly where: string;
  /** The most fields the reply may hold (the Box's `maxReplyFields`), and how many are left. */
  readonly maxFields: number;
  fieldsLeft: number;
}

export function badReply(cursor: Cursor, what: string): never {
  throw boxError('ERR_BOX_REPLY', `${cursor.where}: bad reply: ${what}`);
}

export function readU32(cursor: Cursor, what: string): number {
  if (cursor.end - cursor.pos < 4)
    badReply(cursor, `${cursor.end - cursor.pos} bytes left where ${what} (4 bytes) was expected`);
  const value = cursor.bytes.readUInt32LE(cursor.pos);
  cursor.pos += 4;
  return value;
}

/** Where the last `readBer` stopped: a module slot, so no pair is allocated per field. */
let berEnd = 0;

/** Perl's `w`, for a field length: at most 5 bytes (a length below 2^32); -1 when unreadable. */
function readBer(bytes: Buffer, pos: number, end: number): number {
  let value = 0;
  for (let i = 0; i < 5 && pos < end; i++) {
    const byte = bytes[pos++]!;
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      berEnd = pos;
      return value;
    }
  }
  return -1;
}

/** Every empty `&` field: one object, however many a reply holds. */
const EMPTY = Buffer.alloc(0);

/** A field's value; for `&`, `bytes` is the tuple's own copy (readTuple), of which it is a view. */
function decodeField(letter: FieldLetter, bytes: Buffer, start: number, length: number): unknown {
  switch (letter) {
    case '$':
      return bytes.toString('utf8', start, start + length);
    case '&':
      return length === 0 ? EMPTY : bytes.subarray(start, start + length);
    case 'L':
      return bytes.readUInt32LE(start);
    case 'l':
      return bytes.readInt32LE(start);
    case 'S':
      return bytes.readUInt16LE(start);
    case 's':
      return bytes.readInt16LE(start);
    case 'C':
      return bytes[start];
    case 'c':
      return bytes.readInt8(start);
    case 'Q':
      return bytes.readBigUInt64LE(start);
    case 'q':
      return bytes.readBigInt64LE(start);
  }
}

/** How tuples of a format come back: arrays, or objects by field names. */
export interface TupleShape {
  readonly fields?: readonly string[];
  readonly longFields?: readonly string[];
}

/**
 * Reads the tuples of a reply in one format (MR::Tarantool::Box::_unpack_select, then _PostSelect's
 * folding into objects). Every count and length is checked against the bytes that are there
 * before anything is allocated for it.
 */
export class TupleDecoder {
  readonly #fixed: readonly FieldLetter[];
  readonly #long: readonly FieldLetter[];
  readonly #sizes: readonly number[];
  readonly #longSizes: readonly number[];

  constructor(format: ParsedFormat) {
    this.#fixed = format.fixed;
    this.#long = format.long;
    this.#sizes = format.fixed.map((l) => INT_SIZE[l] ?? -1);
    this.#longSizes = format.long.map((l) => INT_SIZE[l] ?? -1);
  }

  /** `L count`, then `count` tuples of `L size, L cardinality, (w/a*)*`. */
  readTuples(cursor: Cursor, shape: TupleShape | undefined): unknown[] {
    const count = readU32(cursor, 'the tuple count');
    // Each tuple takes at least its 8-byte size and cardinality.
    if (count > (cursor.end - cursor.pos) / 8) {
      badReply(cursor, `${count} tuples claimed in ${cursor.end - cursor.pos} bytes`);
    }
    const tuples = new Array<unknown>(count);
    for (let i = 0; i < count; i++) tuples[i] = this.readTuple(cursor, i, shape);
    return tuples;
  }

  /** One tuple (`L size, L cardinality, (w/a*)*`), the `n`th of the reply, shaped by `shape`. */
  readTuple(cursor: Cursor, n: number, shape: TupleShape | undefined): unknown {
    const size = readU32(cursor, `the size of tuple ${n}`);
    const cardinality = readU32(cursor, `the cardinality of tuple ${n}`);
    const { bytes } = cursor;
    const start = cursor.pos;
    if (size > cursor.end - start)
      badReply(cursor, `tuple ${n} claims ${size} bytes, ${cursor.end - start} left`);
    const end = start + size;
    // Each field takes at least its one-byte length.
    if (cardinality > size) badReply(cursor, `tuple ${n} claims ${cardinality} fields in ${size} bytes`);
    const fixed = this.#fixed;
    const long = this.#long;
    if (cardinality < fixed.length) {
      badReply(cursor, `tuple ${n} has ${cardinality} fields, the format needs ${fixed.length}`);
    }
    if (long.length > 0 && (cardinality - fixed.length) % long.length !== 0) {
      badReply(
        cursor,
        `tuple ${n}: its tail of ${cardinality - fixed.length} fields is not whole groups of ${long.length}`,
      );
    }
    // Past a fixed format, further fields are read over and left out, as Perl's unpack leaves them.
    const kept = long.length > 0 ? cardinality : fixed.length;
    // A field may take one byte on the wire and ~100 of heap: the reply's total is capped up front.
    if (kept > cursor.fieldsLeft) {
      badReply(
        cursor,
        `tuple ${n} brings the reply past maxReplyFields (${cursor.maxFields} fields): it holds ${kept}, ${cursor.fieldsLeft} were left`,
      );
    }
    cursor.fieldsLeft -= kept;
    // `&` fields are views into one copy of the tuple's bytes from the first of them: one allocation
    // per tuple, not per field, and no view into the connection's buffer, which it reuses.
    let copy: Buffer | undefined;
    let copyStart = 0;
    const fields = shape?.fields;
    // Objects are filled as the fields are read; a long tail goes through an array first.
    const object: Record<string, unknown> | undefined = fields ? {} : undefined;
    const values =
      object === undefined
        ? new Array<unknown>(kept)
        : long.length > 0
          ? new Array<unknown>(kept - fixed.length)
          : undefined;
    let pos = start;
    for (let f = 0; f < cardinality; f++) {
      const length = readBer(bytes, pos, end);
      const next = berEnd;
      if (length < 0 || length > end - next) {
        badReply(
          cursor,
          `tuple ${n} field ${f}: length ${length < 0 ? 'unreadable' : length} runs past the tuple's ${size} bytes`,
        );
      }
      if (f < kept) {
        let letter: FieldLetter;
        let want: number;
        if (f < fixed.length) {
          letter = fixed[f]!;
          want = this.#sizes[f]!;
        } else {
          const g = (f - fixed.length) % long.length;
          letter = long[g]!;
          want = this.#longSizes[g]!;
        }
        if (want >= 0 && length !== want) {
          badReply(cursor, `tuple ${n} field ${f} is ${length} bytes, format '${letter}' takes ${want}`);
        }
        let value: unknown;
        if (letter !== '&') value = decodeField(letter, bytes, next, length);
        else {
          if (copy === undefined && length > 0) {
            copy = Buffer.from(bytes.subarray(next, end));
            copyStart = next;
          }
          value = decodeField(letter, copy ?? EMPTY, next - copyStart, length);
        }
        if (object === undefined) values![f] = value;
        else if (f < fixed.length) object[fields![f]!] = value;
        else values![f - fixed.length] = value;
      }
      pos = next + length;
    }
    if (pos !== end)
      badReply(cursor, `tuple ${n}: its ${cardinality} fields take ${pos - start} of its ${size} bytes`);
    cursor.pos = end;
    if (object === undefined) return values;
    if (long.length > 0) object[fields![fixed.length]!] = this.#fold(values!, shape!.longFields);
    return object;
  }

  /** MR::Tarantool::Box::_PostSelect: a long tail as an array, of objects when `long_fields` names them. */
  #fold(tail: unknown[], longFields: readonly string[] | undefined): unknown[] {
    if (!longFields) return tail;
    const groups: Record<string, unknown>[] = [];
    for (let i = 0; i < tail.length; i += longFields.length) {
      const group: Record<string, unknown> = {};
      for (let j = 0; j < longFields.length; j++) group[longFields[j]!] = tail[i + j];
      groups.push(group);
    }
    return groups;
  }
}
