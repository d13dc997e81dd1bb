import { boxError } from './box-error.js';
import { describe, toInteger, writeField, writeStringField } from './field-codec.js';
import { type FieldLetter, INT_SIZE, isStringLetter } from './format.js';
import type { Space } from './space.js';
import type { Writer } from './writer.js';

/** UPDATE op codes of Tarantool 1.5. */
export const UpdateOpCode = {
  /** Replace the field. */
  SET: 0,
  /** Add to an integer field. */
  ADD: 1,
  /** Bitwise and. */
  AND: 2,
  /** Bitwise xor. */
  XOR: 3,
  /** Bitwise or. */
  OR: 4,
  /** Perl-like splice of a string field: offset, length, replacement. */
  SPLICE: 5,
  /** Remove the field. */
  DELETE: 6,
  /** Insert a field before this one. */
  INSERT: 7,
} as const;

/** MR::Tarantool::Box::UpdateMulti refuses more operations than this ("too many op"). */
export const MAX_UPDATE_OPS = 128;

/** Splice's missing offset: MR::Tarantool::Box's `%update_ops{splice}` uses 0x7FFFFFFF (the end). */
const SPLICE_END = 0x7fffffff;

/**
 * An arithmetic argument, packed as MR::Tarantool::Box::UpdateMulti does (`l` for add, `L` for the
 * bit operations: 4 bytes, two's complement) where the server reads it as the value meant. A 1.5
 * server sign-extends a 4-byte argument on a 64-bit field (tuple_update.cc), so there only a value
 * from -2^31 to 2^31-1 goes as 4 bytes and any other as 8 (Perl would send 4 bytes, which the
 * server takes as another value).
 */
function writeArith(w: Writer, letter: FieldLetter, value: bigint, what: string): void {
  const wide = INT_SIZE[letter] === 8;
  if (value >= -0x8000_0000n && value <= (wide ? 0x7fff_ffffn : 0xffff_ffffn)) {
    w.ber(4);
    w.u32(Number(BigInt.asUintN(32, value)));
    return;
  }
  if (wide && value >= -0x8000_0000_0000_0000n && value <= 0xffff_ffff_ffff_ffffn) {
    w.ber(8);
    w.u64(BigInt.asUintN(64, value));
    return;
  }
  throw boxError('ERR_BOX_ARGUMENT', `${what}: ${value} does not fit the operation's argument`);
}

function integerArgument(value: unknown, what: string): bigint {
  // Either signedness is accepted: the argument goes as two's complement bytes.
  const negative =
    (typeof value === 'number' && value < 0) ||
    (typeof value === 'bigint' && value < 0n) ||
    (typeof value === 'string' && value.trim().startsWith('-'));
  return toInteger(value, negative ? 'q' : 'Q', what);
}

function spliceInteger(value: unknown, what: string): number {
  return Number(toInteger(value, 'l', what));
}

/** Splice's argument: `(w/a*)*` of the packed offset, the packed length (or nothing) and the replacement. */
function writeSplice(w: Writer, offset: unknown, length: unknown, replacement: unknown, what: string): void {
  const start = w.length;
  w.ber(4);
  w.u32(
    offset === undefined || offset === null ? SPLICE_END : spliceInteger(offset, `${what}: offset`) >>> 0,
  );
  if (length === undefined || length === null) w.ber(0);
  else {
    w.ber(4);
    w.u32(spliceInteger(length, `${what}: length`) >>> 0);
  }
  writeStringField(w, replacement ?? '', `${what}: replacement`);
  w.wrapBer(start);
}

function expectArgs(op: readonly unknown[], min: number, max: number, what: string): void {
  const given = op.length - 2;
  if (given < min || given > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw boxError(
      'ERR_BOX_ARGUMENT',
      `${what}: takes ${want} argument${max === 1 ? '' : 's'}, got ${given}`,
    );
  }
}

/**
 * Writes one operation `L field_no, C op_code, w/a* argument` of MR::Tarantool::Box::UpdateMulti,
 * from `[field, op, ...arguments]`: `field` a name, a number or `[i, longField]`.
 */
export function writeUpdateOp(w: Writer, space: Space, op: unknown, position: number): void {
  if (!Array.isArray(op) || op.length < 2 || typeof op[1] !== 'string') {
    throw boxError(
      'ERR_BOX_ARGUMENT',
      `${space.label}: update op ${position}: expected [field, op, ...arguments], got ${describe(op)}`,
    );
  }
  const name = op[1] as string;
  const fieldNo = space.fieldNumber(op[0]);
  const letter = space.letter(fieldNo);
  const what = `${space.label}: update op ${position} (${name} on field ${fieldNo})`;
  if (letter === undefined) {
    throw boxError('ERR_BOX_ARGUMENT', `${what}: no field ${fieldNo} in format '${space.format.source}'`);
  }
  const isString = isStringLetter(letter);
  const numeric = (code: number): void => {
    if (isString) {
      throw boxError(
        'ERR_BOX_ARGUMENT',
        `${what}: '${name}' applies to integer fields, field ${fieldNo} is '${letter}'`,
      );
    }
    w.u32(fieldNo);
    w.u8(code);
  };
  const textual = (): void => {
    if (!isString) {
      throw boxError(
        'ERR_BOX_ARGUMENT',
        `${what}: '${name}' applies to string fields, field ${fieldNo} is '${letter}'`,
      );
    }
    w.u32(fieldNo);
    w.u8(UpdateOpCode.SPLICE);
  };
  switch (name) {
    case 'set':
      expectArgs(op, 1, 1, what);
      w.u32(fieldNo);
      w.u8(UpdateOpCode.SET);
      writeField(w, letter, op[2], what);
      return;
    case 'insert':
      expectArgs(op, 1, 1, what);
      w.u32(fieldNo);
      w.u8(UpdateOpCode.INSERT);
      writeField(w, letter, op[2], what);
      return;
    case 'delete':
      expectArgs(op, 0, 0, what);
      w.u32(fieldNo);
      w.u8(UpdateOpCode.DELETE);
      w.ber(0);
      return;
    case 'add':
    case 'num_add':
      expectArgs(op, 1, 1, what);
      numeric(UpdateOpCode.ADD);
      writeArith(w, letter, integerArgument(op[2], what), what);
      return;
    case 'num_sub':
      expectArgs(op, 1, 1, what);
      numeric(UpdateOpCode.ADD);
      writeArith(w, letter, -integerArgument(op[2], what), what);
      return;
    case 'and':
      expectArgs(op, 1, 1, what);
      numeric(UpdateOpCode.AND);
      writeArith(w, letter, integerArgument(op[2], what), what);
      return;
    case 'xor':
      expectArgs(op, 1, 1, what);
      numeric(UpdateOpCode.XOR);
      writeArith(w, letter, integerArgument(op[2], what), what);
      return;
    case 'or':
    case 'bit_set':
      expectArgs(op, 1, 1, what);
      numeric(UpdateOpCode.OR);
      writeArith(w, letter, integerArgument(op[2], what), what);
      return;
    case 'bit_clear': {
      // MR::Tarantool::Box: `and` with `~value`, packed as `L` (the low 32 bits of Perl's 64-bit ~).
      // On a 64-bit field the complement is taken over 64 bits (a signed 4-byte one where it fits:
      // the server sign-extends it), so the high half of the field is kept.
      expectArgs(op, 1, 1, what);
      numeric(UpdateOpCode.AND);
      const value = integerArgument(op[2], what);
      if (INT_SIZE[letter] === 8) writeArith(w, letter, BigInt.asIntN(64, ~value), what);
      else if (value < -0x8000_0000n || value > 0xffff_ffffn)
        writeArith(w, letter, value, what); // refused there
      else writeArith(w, letter, BigInt.asUintN(32, ~value), what);
      return;
    }
    case 'splice':
    case 'substr':
      expectArgs(op, 1, 3, what);
      textual();
      writeSplice(w, op[2], op[3], op[4], what);
      return;
    case 'append':
      expectArgs(op, 1, 1, what);
      textual();
      writeSplice(w, undefined, 0, op[2], what);
      return;
    case 'prepend':
      expectArgs(op, 1, 1, what);
      textual();
      writeSplice(w, 0, 0, op[2], what);
      return;
    case 'cutbeg':
      expectArgs(op, 1, 1, what);
      textual();
      writeSplice(w, 0, op[2], '', what);
      return;
    case 'cutend': {
      expectArgs(op, 1, 1, what);
      textual();
      const n = spliceInteger(op[2], what);
      writeSplice(w, -n, n, '', what);
      return;
    }
    default:
      throw boxError(
        'ERR_BOX_ARGUMENT',
        `${space.label}: update op ${position}: unknown op '${name}' (set, add, and, xor, or, splice, substr, append, prepend, cutbeg, cutend, num_add, num_sub, bit_set, bit_clear, insert, delete)`,
      );
  }
}
