/** Message codes of a Tarantool 1.5 box (MR::Tarantool::Box). */
export const BoxMsg = {
  /** INSERT: `L space, L flags, L cardinality, (w/a*)*`. */
  INSERT: 13,
  /** SELECT: `L space, L index, L offset, L limit, L key_count`, keys as tuples. */
  SELECT: 17,
  /** Multi-space SELECT (MR::Tarantool::Box::SelectUnion): `L count`, then each SELECT body. */
  SELECT_UNION: 18,
  /** UPDATE: `L space, L flags`, key tuple, `L op_count`, ops. */
  UPDATE: 19,
  /** DELETE without flags, the 1.3 form: `L space`, key tuple. */
  DELETE_1_3: 20,
  /** DELETE: `L space, L flags`, key tuple. */
  DELETE: 21,
  /** CALL: `L flags, w/a* procedure`, arguments as one tuple. */
  CALL: 22,
  /** Ping: any body, answered with a bare header. */
  PING: 0xff00,
} as const;

/** Request flags of Tarantool 1.5 (MR::Tarantool::Box's constants). */
export const InsertFlags = {
  /** Answer the tuple stored, updated or deleted (WANT_RESULT). */
  WANT_RESULT: 1,
  /** INSERT fails when the key exists (INSERT_ADD). */
  ADD: 2,
  /** INSERT fails when the key does not exist (INSERT_REPLACE). */
  REPLACE: 4,
} as const;
