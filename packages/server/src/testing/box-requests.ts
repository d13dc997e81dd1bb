import {
  BodyReader,
  type BoxFieldValue,
  BoxFlag,
  BoxMsg,
  encodeResultSets,
  encodeTuples,
  fieldBytes,
  makeTuple,
  REPLY_NONE,
  REPLY_ONE,
} from './box-codec.js';
import { BoxCode, BoxDoubleError, illegal } from './box-double-error.js';
import type { BoxSpace } from './box-space.js';
import type { StoredTuple } from './box-stored-tuple.js';
import { applyUpdateOps, readUpdateOps } from './box-update.js';

/** What a procedure returns: tuples, each an array of field values; nothing for no tuples. */
// biome-ignore lint/suspicious/noConfusingVoidType: a procedure with no return statement answers no tuples
export type BoxProcedureResult = readonly (readonly BoxFieldValue[])[] | undefined | null | void;

/**
 * A stored procedure for CALL (msg 22): it gets the arguments' bytes and returns tuples, or a
 * promise of them (a procedure that yields: requests behind it overtake it). Throwing a
 * `BoxDoubleError` answers its code; any other exception answers 0x3302 with its message, as a Lua
 * error does.
 */
export type BoxProcedure = (
  args: Buffer[],
  context: { flags: number },
) => BoxProcedureResult | PromiseLike<BoxProcedureResult>;

/** What `executeRequest` needs of the double. */
export interface BoxState {
  readonly spaces: ReadonlyMap<number, BoxSpace>;
  readonly procedures: ReadonlyMap<string, BoxProcedure>;
  /** The largest reply body a SELECT may build; over it, 0x0701. */
  readonly maxReplySize: number;
}

/**
 * The outcome of a request: reply bytes now, a write whose reply waits for the write-ahead log
 * (`{ logged }`), or a promise (a procedure that yields).
 */
export type BoxOutcome = Buffer | { logged: Buffer } | Promise<Buffer>;

/** The writes: refused on a read-only port. */
export const WRITE_MSGS: ReadonlySet<number> = new Set([
  BoxMsg.INSERT,
  BoxMsg.UPDATE,
  BoxMsg.DELETE_1_3,
  BoxMsg.DELETE,
]);

/**
 * Runs one box request against `state` as a Tarantool 1.5 box does; throws `BoxDoubleError` for an
 * error reply.
 */
export function executeRequest(state: BoxState, msg: number, body: Uint8Array): BoxOutcome {
  const reader = new BodyReader(body);
  switch (msg) {
    case BoxMsg.INSERT:
      return insert(state, reader);
    case BoxMsg.SELECT: {
      const tuples = select(state, reader, { bytes: 8 });
      reader.end();
      return encodeTuples(tuples);
    }
    case BoxMsg.SELECT_MULTI:
      return selectMulti(state, reader);
    case BoxMsg.UPDATE:
      return update(state, reader);
    case BoxMsg.DELETE_1_3:
    case BoxMsg.DELETE:
      return remove(state, reader, msg === BoxMsg.DELETE);
    case BoxMsg.CALL:
      return call(state, reader);
    default:
      throw illegal('unsupported command code, check the error log');
  }
}

function spaceOf(state: BoxState, id: number): BoxSpace {
  const space = state.spaces.get(id);
  if (space === undefined) throw new BoxDoubleError(BoxCode.NO_SUCH_SPACE, `Space ${id} does not exist`);
  return space;
}

/** The reply of a write: the tuple with WANT_RESULT, else the count. */
function written(flags: number, tuple: StoredTuple): { logged: Buffer } {
  return { logged: flags & BoxFlag.WANT_RESULT ? encodeTuples([tuple]) : REPLY_ONE };
}

function insert(state: BoxState, reader: BodyReader): BoxOutcome {
  const space = spaceOf(state, reader.u32());
  const flags = reader.u32();
  // The tuple is the rest of the body, copied as it is into the stored (and reply) form.
  const tuple = reader.storedTuple(space.checkSize);
  const mode = flags & BoxFlag.ADD ? 'insert' : flags & BoxFlag.REPLACE ? 'replace' : 'upsert';
  space.insert(tuple, mode);
  return written(flags, tuple);
}

/**
 * One SELECT body: `L space, L index, L offset, L limit, L key_count`, the keys. As Tarantool 1.5's
 * `execute_select`, the offset and the limit count over all keys together. `budget.bytes` is what
 * the reply may still grow by.
 */
function select(state: BoxState, reader: BodyReader, budget: { bytes: number }): StoredTuple[] {
  const space = spaceOf(state, reader.u32());
  const index = space.index(reader.u32());
  let skip = reader.u32();
  const limit = reader.u32();
  const count = reader.u32();
  if (count === 0) throw illegal('tuple count must be positive');
  // A key takes at least its 4-byte part count.
  if (count > reader.remaining / 4) throw illegal('packet too short');
  const keys: Buffer[][] = [];
  for (let i = 0; i < count; i++) keys.push(reader.tuple());
  const found: StoredTuple[] = [];
  for (const key of keys) {
    if (found.length === limit) break;
    index.validateKey(key, false);
    const { tuples, start, end: last } = index.find(key);
    const matched = last - start;
    if (skip >= matched) {
      skip -= matched;
      continue;
    }
    const end = start + Math.min(matched, skip + (limit - found.length));
    for (let i = start + skip; i < end; i++) {
      const tuple = tuples[i];
      budget.bytes += tuple.blob.length;
      if (budget.bytes > state.maxReplySize)
        throw new BoxDoubleError(
          BoxCode.MEMORY_ISSUE,
          `Failed to allocate ${budget.bytes} bytes in palloc for reply`,
        );
      found.push(tuple);
    }
    skip = 0;
  }
  return found;
}

/** Msg 18: `L count`, then that many SELECT bodies; the reply is `L 0`, then each result set. */
function selectMulti(state: BoxState, reader: BodyReader): Buffer {
  const count = reader.u32();
  // A SELECT body takes at least 24 bytes.
  if (count > reader.remaining / 24) throw illegal('packet too short');
  const budget = { bytes: 4 };
  const sets: StoredTuple[][] = [];
  for (let i = 0; i < count; i++) {
    budget.bytes += 4;
    sets.push(select(state, reader, budget));
  }
  reader.end();
  return encodeResultSets(sets);
}

/**
 * UPDATE. The double reads the whole op list before it looks the key up, so a malformed list fails
 * even for a missing key; Tarantool 1.5 parses the ops only once it has found the tuple.
 */
function update(state: BoxState, reader: BodyReader): BoxOutcome {
  const space = spaceOf(state, reader.u32());
  const flags = reader.u32();
  const key = reader.tuple();
  const ops = readUpdateOps(reader);
  reader.end();
  const old = space.byPrimaryKey(key);
  if (old === undefined) return REPLY_NONE; // nothing written: the reply does not wait for the log
  const tuple = makeTuple(applyUpdateOps(old.fields, ops, space.checkSize));
  space.replace(old, tuple);
  return written(flags, tuple);
}

/** DELETE: msg 21 is `L space, L flags, key`; msg 20, the older form, has no flags. */
function remove(state: BoxState, reader: BodyReader, withFlags: boolean): BoxOutcome {
  const space = spaceOf(state, reader.u32());
  const flags = withFlags ? reader.u32() : 0;
  const key = reader.tuple();
  reader.end();
  const old = space.byPrimaryKey(key);
  if (old === undefined) return REPLY_NONE;
  space.remove(old);
  return written(flags, old);
}

/** CALL: `L flags, w/a* name`, then the arguments as one tuple; the reply carries what it returns. */
function call(state: BoxState, reader: BodyReader): BoxOutcome {
  const flags = reader.u32();
  const nameBytes = reader.field();
  const args = reader.tuple();
  reader.end();
  const name = nameBytes.toString('utf8');
  const procedure = state.procedures.get(name);
  if (procedure === undefined)
    throw new BoxDoubleError(BoxCode.NO_SUCH_PROC, `Procedure '${name}' is not defined`);
  let result: BoxProcedureResult | PromiseLike<BoxProcedureResult>;
  try {
    result = procedure(args, { flags });
  } catch (error) {
    throw luaError(error);
  }
  if (
    result !== null &&
    typeof result === 'object' &&
    typeof (result as PromiseLike<unknown>).then === 'function'
  ) {
    return Promise.resolve(result as PromiseLike<BoxProcedureResult>).then(callReply, (error: unknown) => {
      throw luaError(error);
    });
  }
  return callReply(result as BoxProcedureResult);
}

function callReply(result: BoxProcedureResult): Buffer {
  if (result === undefined || result === null) return encodeTuples([]);
  try {
    if (!Array.isArray(result)) throw new TypeError('a procedure must return an array of tuples');
    return encodeTuples(
      result.map((tuple) => {
        if (!Array.isArray(tuple)) throw new TypeError('each tuple a procedure returns must be an array');
        return makeTuple(tuple.map(fieldBytes));
      }),
    );
  } catch (error) {
    throw luaError(error);
  }
}

/** A procedure's exception as a reply: its own code when it threw a `BoxDoubleError`, else 0x3302. */
function luaError(error: unknown): BoxDoubleError {
  if (error instanceof BoxDoubleError) return error;
  const text = error instanceof Error ? error.message : String(error);
  return new BoxDoubleError(BoxCode.PROC_LUA, text, { cause: error });
}
