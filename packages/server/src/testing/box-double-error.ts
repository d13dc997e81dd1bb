/**
 * Return codes of a Tarantool 1.5 box, as the box double answers them: `(error number << 8) |
 * severity`, severity 1 transient, 2 permanent (Tarantool 1.5 `errcode.h`). The first group is what
 * `tarantool-1.5.md` lists as seen on the wire; the rest are the same server's codes for cases that
 * list does not cover (arithmetic and splice updates, a field the tuple does not have).
 */
export const BoxCode = {
  /** Success: `L 0`, then the tuple count. */
  OK: 0,
  /** Illegal parameters: unknown msg code, SELECT with no keys, UPDATE with no ops, a malformed tuple. */
  ILLEGAL_PARAMS: 0x0202,
  /** A write on the read-only (secondary) port. */
  SECONDARY_PORT: 0x0302,
  /** Transient: a tuple marked read-only (the double sends it only when told, see `injectError`). */
  TUPLE_IS_READ_ONLY: 0x0401,
  /** Transient: a tuple too big for the slab allocator. Retrying cannot help. */
  MEMORY_ISSUE: 0x0701,
  /** A key or an indexed field of the wrong size (a NUM is exactly 4 bytes, a NUM64 8). */
  KEY_FIELD_TYPE: 0x2602,
  /** An UPDATE op code above 7. */
  UNKNOWN_UPDATE_OP: 0x2c02,
  /** More key parts than the index has. */
  KEY_PART_COUNT: 0x2f02,
  /** INSERT with the REPLACE flag of a key that is not there. */
  TUPLE_NOT_FOUND: 0x3102,
  /** CALL of a procedure that is not defined. */
  NO_SUCH_PROC: 0x3202,
  /** A procedure raised an error (a Lua error on a real box). */
  PROC_LUA: 0x3302,
  /** No such index in the space. */
  NO_SUCH_INDEX: 0x3502,
  /** INSERT (ADD flag) or UPDATE making a key that a unique index already holds. */
  TUPLE_FOUND: 0x3702,
  /** No such space. */
  NO_SUCH_SPACE: 0x3902,

  /** Arithmetic on a field that is neither 4 nor 8 bytes long. */
  FIELD_TYPE: 0x2802,
  /** An arithmetic argument of the wrong size for its field. */
  ARG_TYPE: 0x2902,
  /** A splice whose offset lies before the start of the field. */
  SPLICE: 0x2a02,
  /** A key with fewer parts than a HASH index (or the primary key of UPDATE / DELETE) needs. */
  EXACT_MATCH: 0x2d02,
  /** An UPDATE op on a field the tuple does not have. */
  NO_SUCH_FIELD: 0x3602,
} as const;

/** Default texts for codes whose text does not depend on the request (used by `injectError`). */
export const BOX_DEFAULT_TEXT: ReadonlyMap<number, string> = new Map([
  [BoxCode.SECONDARY_PORT, "Can't modify data upon a request on the secondary port."],
  [BoxCode.TUPLE_IS_READ_ONLY, 'Tuple is marked as read-only'],
  [BoxCode.UNKNOWN_UPDATE_OP, 'Unknown UPDATE operation'],
]);

/**
 * A box error reply: the return code and the server's text (sent NUL-terminated). The box double's
 * handlers throw it and turn it into the reply; a procedure registered with the double may throw one
 * to answer with any code (a transient 0x0401, say), where any other exception answers 0x3302.
 */
export class BoxDoubleError extends Error {
  override readonly name = 'BoxDoubleError' as const;
  readonly code = 'ERR_BOX_DOUBLE' as const;
  /** The box return code, `(error number << 8) | severity`. */
  readonly returnCode: number;

  constructor(returnCode: number, text?: string, options?: { cause?: unknown }) {
    if (returnCode >>> 0 !== returnCode || returnCode === 0)
      throw new RangeError(
        `BoxDoubleError: return code must be an integer from 1 to 4294967295, got ${returnCode}`,
      );
    super(
      text ?? BOX_DEFAULT_TEXT.get(returnCode) ?? `Error 0x${returnCode.toString(16).padStart(8, '0')}`,
      options,
    );
    this.returnCode = returnCode;
  }
}

/** 0x0202 with Tarantool 1.5's `ER_ILLEGAL_PARAMS` text, `Illegal parameters, %s`. */
export function illegal(detail: string): BoxDoubleError {
  return new BoxDoubleError(BoxCode.ILLEGAL_PARAMS, `Illegal parameters, ${detail}`);
}
