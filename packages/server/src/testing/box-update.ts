import { BodyReader, berLength } from './box-codec.js';
import { BoxCode, BoxDoubleError, illegal } from './box-double-error.js';
import { BoxRope, type RopeStats } from './box-rope.js';

/** UPDATE op codes of Tarantool 1.5 (MR::Tarantool::Box's `OP_*`, plus delete and insert). */
export const BoxUpdateOp = {
  SET: 0,
  ADD: 1,
  AND: 2,
  XOR: 3,
  OR: 4,
  SPLICE: 5,
  DELETE: 6,
  INSERT: 7,
} as const;

/** One op of an UPDATE: `L field_no, C op, w/a* argument`. */
export interface UpdateOp {
  field: number;
  op: number;
  argument: Buffer;
}

/** The smallest op: a u32 field number, an op byte, a one-byte empty argument. */
const MIN_OP_SIZE = 6;

/** Reads `L op_count` and the ops; fails on no ops and on op codes above 7. */
export function readUpdateOps(reader: BodyReader): UpdateOp[] {
  const count = reader.u32();
  if (count === 0) throw illegal('no operations for update');
  if (count > reader.remaining / MIN_OP_SIZE) throw illegal('packet too short');
  const ops: UpdateOp[] = [];
  for (let i = 0; i < count; i++) {
    const field = reader.u32();
    const op = reader.u8();
    const argument = reader.field();
    if (op > BoxUpdateOp.INSERT)
      throw new BoxDoubleError(BoxCode.UNKNOWN_UPDATE_OP, 'Unknown UPDATE operation');
    ops.push({ field, op, argument });
  }
  return ops;
}

/** A field while the ops run: its bytes, or once spliced, a rope of byte chunks. */
type FieldValue = Buffer | BoxRope<Buffer>;

/**
 * A run of fields: `items[start]` to `items[end - 1]`. The tuple's fields start as one run over a copy
 * of the array, and cutting a run makes two views of the same array, so no op copies the fields.
 */
interface FieldRun {
  items: FieldValue[];
  start: number;
  end: number;
}

const runLength = (run: FieldRun): number => run.end - run.start;
const cutRun = (run: FieldRun, at: number): [FieldRun, FieldRun] => [
  { items: run.items, start: run.start, end: run.start + at },
  { items: run.items, start: run.start + at, end: run.end },
];
const single = (value: FieldValue): FieldRun => ({ items: [value], start: 0, end: 1 });
const byteLength = (chunk: Buffer): number => chunk.length;
const cutChunk = (chunk: Buffer, at: number): [Buffer, Buffer] => [chunk.subarray(0, at), chunk.subarray(at)];

function bytesOf(value: FieldValue): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.concat(value.values());
}

/** The bytes a field takes in a tuple: its BER length prefix and its data. */
function footprint(length: number): number {
  return berLength(length) + length;
}

/**
 * Applies the ops in order to a copy of `fields` (Tarantool 1.5 `tuple_update`): SET and INSERT may
 * name the field just past the end (appending one), the others only an existing field.
 *
 * The fields are kept in a rope of runs and a spliced field in a rope of chunks, so every op costs O(log n)
 * and the whole request a time in proportion to its ops and the tuple it builds, never ops times
 * fields. After every op the tuple's running size goes to `checkSize` (the space's slab check,
 * 0x0701): a long run of INSERT or SPLICE ops fails as soon as the tuple would no longer fit, where
 * Tarantool 1.5 fails on allocating the finished tuple; the reply is the same.
 */
export function applyUpdateOps(
  fields: readonly Buffer[],
  ops: readonly UpdateOp[],
  checkSize: (dataSize: number) => void = () => {},
  stats?: RopeStats,
): Buffer[] {
  const result = new BoxRope<FieldRun>(runLength, cutRun, stats);
  if (fields.length > 0) result.push({ items: [...fields], start: 0, end: fields.length });
  let size = 0;
  for (const field of fields) size += footprint(field.length);
  const get = (at: number): FieldValue => {
    const { value, offset } = result.locate(at);
    return value.items[value.start + offset];
  };
  const set = (at: number, field: FieldValue): void => {
    const { value, offset } = result.locate(at);
    value.items[value.start + offset] = field;
  };
  for (const { field, op, argument } of ops) {
    const count = result.length;
    const limit = op === BoxUpdateOp.SET || op === BoxUpdateOp.INSERT ? count : count - 1;
    if (field > limit)
      throw new BoxDoubleError(BoxCode.NO_SUCH_FIELD, `Field ${field} was not found in the tuple`);
    const before = field < count && op !== BoxUpdateOp.INSERT ? get(field).length : -1;
    let after = -1;
    switch (op) {
      case BoxUpdateOp.SET:
        if (field === count) result.push(single(argument));
        else set(field, argument);
        after = argument.length;
        break;
      case BoxUpdateOp.INSERT:
        result.insert(field, single(argument));
        after = argument.length;
        break;
      case BoxUpdateOp.DELETE:
        result.remove(field, 1);
        break;
      case BoxUpdateOp.SPLICE: {
        const spliced = splice(get(field), argument, stats);
        set(field, spliced);
        after = spliced.length;
        break;
      }
      default: {
        const value = arithmetic(op, bytesOf(get(field)), argument);
        set(field, value);
        after = value.length;
      }
    }
    if (before >= 0) size -= footprint(before);
    if (after >= 0) size += footprint(after);
    checkSize(size);
  }
  const out: Buffer[] = [];
  for (const run of result.values())
    for (let i = run.start; i < run.end; i++) out.push(bytesOf(run.items[i]));
  return out;
}

/**
 * ADD, AND, XOR, OR on a 4-byte field (with a 4-byte argument) or an 8-byte one (a 4-byte argument
 * is sign-extended), wrapping as unsigned integers do.
 */
function arithmetic(op: number, value: Buffer, argument: Buffer): Buffer {
  const out = Buffer.allocUnsafe(value.length);
  if (value.length === 4) {
    if (argument.length !== 4)
      throw new BoxDoubleError(
        BoxCode.ARG_TYPE,
        'Argument type in operation does not match field type: expected a 32-bit int',
      );
    const a = value.readUInt32LE(0);
    const b = argument.readUInt32LE(0);
    const r =
      op === BoxUpdateOp.ADD
        ? a + b
        : op === BoxUpdateOp.AND
          ? a & b
          : op === BoxUpdateOp.XOR
            ? a ^ b
            : a | b;
    out.writeUInt32LE(r >>> 0);
    return out;
  }
  if (value.length === 8) {
    let b: bigint;
    if (argument.length === 4) b = BigInt.asUintN(64, BigInt(argument.readInt32LE(0)));
    else if (argument.length === 8) b = argument.readBigUInt64LE(0);
    else
      throw new BoxDoubleError(
        BoxCode.ARG_TYPE,
        'Argument type in operation does not match field type: expected a 32-bit or 64-bit int',
      );
    const a = value.readBigUInt64LE(0);
    const r =
      op === BoxUpdateOp.ADD
        ? a + b
        : op === BoxUpdateOp.AND
          ? a & b
          : op === BoxUpdateOp.XOR
            ? a ^ b
            : a | b;
    out.writeBigUInt64LE(BigInt.asUintN(64, r));
    return out;
  }
  throw new BoxDoubleError(
    BoxCode.FIELD_TYPE,
    'Field type does not match one required by operation: expected a NUM or NUM64',
  );
}

/**
 * SPLICE: the argument is `(w/a*)*` of a 4-byte signed offset, a 4-byte signed length (empty: to the
 * end), and the bytes to paste, as MR::Tarantool::Box's `splice` packs it. Offsets and lengths are
 * clamped as Perl's `splice` does; a negative offset before the start is an error. The field becomes
 * (or stays) a rope of chunks, so a chain of splices costs O(log chunks) apiece, not the field's size.
 */
function splice(value: FieldValue, argument: Buffer, stats: RopeStats | undefined): BoxRope<Buffer> {
  const bad = (): BoxDoubleError => illegal('field splice format error');
  const parts = new BodyReader(argument);
  const offsetBytes = parts.field(bad);
  if (offsetBytes.length !== 4) throw illegal('field splice format error: offset');
  const lengthBytes = parts.field(bad);
  if (lengthBytes.length !== 0 && lengthBytes.length !== 4)
    throw illegal('field splice format error: length');
  const paste = parts.field(bad);
  if (parts.remaining !== 0) throw bad();

  const size = value.length;
  let offset = offsetBytes.readInt32LE(0);
  if (offset < 0) {
    if (-offset > size)
      throw new BoxDoubleError(BoxCode.SPLICE, 'Field SPLICE error: offset is out of bound');
    offset += size;
  } else if (offset > size) {
    offset = size;
  }
  let cut = lengthBytes.length === 0 ? size - offset : lengthBytes.readInt32LE(0);
  if (cut < 0) cut = -cut > size - offset ? 0 : cut + size - offset;
  else if (cut > size - offset) cut = size - offset;
  let rope: BoxRope<Buffer>;
  if (Buffer.isBuffer(value)) {
    rope = new BoxRope<Buffer>(byteLength, cutChunk, stats);
    if (size > 0) rope.push(value);
  } else {
    rope = value;
  }
  if (cut > 0) rope.remove(offset, cut);
  if (paste.length > 0) rope.insert(offset, paste);
  return rope;
}
