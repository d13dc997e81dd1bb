import { BodyReader } from './box-codec.js';
import { BoxCode, BoxDoubleError, illegal } from './box-double-error.js';

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

/**
 * Applies the ops in order to a copy of `fields` (Tarantool 1.5 `tuple_update`): SET and INSERT may
 * name the field just past the end (appending one), the others only an existing field.
 */
export function applyUpdateOps(fields: readonly Buffer[], ops: readonly UpdateOp[]): Buffer[] {
  const result = [...fields];
  for (const { field, op, argument } of ops) {
    const limit = op === BoxUpdateOp.SET || op === BoxUpdateOp.INSERT ? result.length : result.length - 1;
    if (field > limit)
      throw new BoxDoubleError(BoxCode.NO_SUCH_FIELD, `Field ${field} was not found in the tuple`);
    switch (op) {
      case BoxUpdateOp.SET:
        result[field] = argument;
        break;
      case BoxUpdateOp.INSERT:
        result.splice(field, 0, argument);
        break;
      case BoxUpdateOp.DELETE:
        result.splice(field, 1);
        break;
      case BoxUpdateOp.SPLICE:
        result[field] = splice(result[field], argument);
        break;
      default:
        result[field] = arithmetic(op, result[field], argument);
    }
  }
  return result;
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
 * clamped as Perl's `splice` does; a negative offset before the start is an error.
 */
function splice(value: Buffer, argument: Buffer): Buffer {
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
  return Buffer.concat([value.subarray(0, offset), paste, value.subarray(offset + cut)]);
}
