import { IPROTO_ERROR_CODES, type IProtoErrorCode } from '@iproto/client';

export { isIProtoErrorCode } from '@iproto/client';

// Tarantool 1.5's error numbers, symbolic names (errcode.h) and descriptions: see BOX_ERRORS.
const TABLE = [
  [0x00, 'ER_OK', 'OK'],
  [0x01, 'ER_NONMASTER', 'Non master connection, but it should be'],
  [0x02, 'ER_ILLEGAL_PARAMS', 'Illegal parameters'],
  [0x03, 'ER_SECONDARY', "Can't modify data upon a request on the secondary port"],
  [0x04, 'ER_TUPLE_IS_RO', 'Tuple is marked as read-only'],
  [0x05, 'ER_INJECTION', 'Error injection'],
  // 0x06 "Tuple is locked" is in MR::Tarantool::Box's table; a 1.5 server never sends it.
  [0x06, 'ER_TUPLE_IS_LOCKED', 'Tuple is locked'],
  [0x07, 'ER_MEMORY_ISSUE', 'Failed to allocate memory'],
  [0x08, 'ER_BAD_INTEGRITY', 'Bad integrity'],
  [0x09, 'ER_UNSUPPORTED', 'Unsupported'],
  [0x0a, 'ER_UNSUPPORTED_COMMAND', 'Unsupported command'],
  [0x0b, 'ER_CANT_DO_SELECT', "Can't do select"],
  [0x1a, 'ER_FIBER_STACK', 'Can not create a new fiber: recursion limit reached'],
  [0x26, 'ER_KEY_FIELD_TYPE', 'Supplied key field type does not match index type'],
  [0x27, 'ER_WAL_IO', 'Failed to write to disk'],
  [0x28, 'ER_FIELD_TYPE', 'Field type does not match one required by operation'],
  [0x29, 'ER_ARG_TYPE', 'Argument type in operation does not match field type'],
  [0x2a, 'ER_SPLICE', 'Field SPLICE error'],
  [0x2b, 'ER_TUPLE_IS_TOO_LONG', 'Tuple is too long'],
  [0x2c, 'ER_UNKNOWN_UPDATE_OP', 'Unknown UPDATE operation'],
  [0x2d, 'ER_EXACT_MATCH', 'Invalid key part count in an exact match'],
  [0x2f, 'ER_KEY_PART_COUNT', 'Invalid key part count'],
  [0x30, 'ER_PROC_RET', 'Procedure return type is not supported in the binary protocol'],
  [0x31, 'ER_TUPLE_NOT_FOUND', "Tuple doesn't exist"],
  [0x32, 'ER_NO_SUCH_PROC', 'Procedure is not defined'],
  [0x33, 'ER_PROC_LUA', 'Lua error'],
  [0x34, 'ER_SPACE_DISABLED', 'Space is disabled'],
  [0x35, 'ER_NO_SUCH_INDEX', 'No such index in space'],
  [0x36, 'ER_NO_SUCH_FIELD', 'Field was not found in the tuple'],
  [0x37, 'ER_TUPLE_FOUND', 'Duplicate key exists in unique index'],
  [0x38, 'ER_INDEX_VIOLATION', 'Duplicate key exists in a unique index'],
  [0x39, 'ER_NO_SUCH_SPACE', 'Space does not exist'],
] as const;

/** The symbolic name of a Tarantool error: one of {@link TARANTOOL_ERROR_CODES}. */
export type TarantoolErrorCode = (typeof TABLE)[number][1] | 'ER_UNKNOWN';

/**
 * Tarantool 1.5's error numbers (the high 24 bits of a reply's return code, `code >> 8`), with the
 * symbolic names of its `errcode.h` and a description for replies that carry no text of their own.
 * A real 1.5 server always sends its own text (`tarantool-1.5.md`); MR::Tarantool::Box's `%ERRORS`
 * table holds older texts, used by Perl only when the reply has none, as here.
 */
export const BOX_ERRORS: ReadonlyMap<
  number,
  { readonly name: TarantoolErrorCode; readonly description: string }
> = new Map(TABLE.map(([number, name, description]) => [number, { name, description }]));

/**
 * The `code` of a `BoxError` for a server error: the names of {@link BOX_ERRORS}, and `ER_UNKNOWN`
 * for an error number not in it (the number is the error's `errcode`).
 */
export const TARANTOOL_ERROR_CODES: readonly TarantoolErrorCode[] = [
  ...TABLE.map(([, name]) => name),
  'ER_UNKNOWN',
];

/**
 * The symbolic name of a return code: `ER_TUPLE_FOUND` for 0x3702; `ER_UNKNOWN` for a number not in
 * {@link BOX_ERRORS} (its number is `returnCode >> 8`, a `BoxError`'s `errcode`).
 */
export function errorName(returnCode: number): TarantoolErrorCode {
  return BOX_ERRORS.get(returnCode >>> 8)?.name ?? 'ER_UNKNOWN';
}

/** The return code of a tuple too big for the allocator: transient by severity, yet a retry cannot help. */
export const ER_MEMORY_ISSUE = 0x0701;

/** The codes of a `BoxError` raised by this package itself, not by the server nor the layers below. */
export const BOX_OWN_ERROR_CODES = [
  /** The Box options or a space declaration are wrong. */
  'ERR_BOX_SPEC',
  /** A call's arguments are wrong: unknown space, index or field, a value that does not fit. */
  'ERR_BOX_ARGUMENT',
  /** A reply the server should never send: too short, counts beyond its bytes, fields unlike the format. */
  'ERR_BOX_REPLY',
  /** The Box was closed. */
  'ERR_BOX_CLOSED',
  /** A call failed with an error of no known code (not an `IProtoError`): it is the `cause`. */
  'ERR_BOX_FAILED',
] as const;

/** One of {@link BOX_OWN_ERROR_CODES}. */
export type BoxOwnErrorCode = (typeof BOX_OWN_ERROR_CODES)[number];

/**
 * The `code` of a `BoxError`, a closed union a `switch` can be exhaustive over: this package's own
 * codes, a server error's symbolic name (`ER_TUPLE_FOUND`, ..., `ER_UNKNOWN`), or the code of the
 * `IProtoError` a communication failure of the layers below raised (`ETIMEDOUT`, `ECONNREFUSED`, ...).
 */
export type BoxErrorCode = BoxOwnErrorCode | TarantoolErrorCode | IProtoErrorCode;

/** Every {@link BoxErrorCode}, once each. */
export const BOX_ERROR_CODES: readonly BoxErrorCode[] = [
  ...new Set<BoxErrorCode>([...BOX_OWN_ERROR_CODES, ...TARANTOOL_ERROR_CODES, ...IPROTO_ERROR_CODES]),
];
