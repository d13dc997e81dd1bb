import { IProto, type IProtoOptions, type PlainMessage } from '@iproto/client';
import { BoxError, boxError, serverError } from './box-error.js';
import { ER_MEMORY_ISSUE } from './error-codes.js';
import { describe } from './field-codec.js';
import { parseFormat } from './format.js';
import { BoxMsg, InsertFlags } from './messages.js';
import { type DecodedReply, decodeReply, type ReplyPlan } from './reply.js';
import { type ResolvedIndex, Space } from './space.js';
import { TupleDecoder, type TupleShape } from './tuple-decoder.js';
import type {
  ArrayTuple,
  IndexRef,
  KeyOf,
  PrimaryKeyOf,
  SpaceOf,
  SpaceRef,
  SpaceSpec,
  Tuple,
  TupleInput,
  UpdateOp,
} from './types.js';
import { MAX_UPDATE_OPS, writeUpdateOp } from './update-ops.js';
import { Writer } from './writer.js';

/** Defaults of MR::Tarantool::Box::new, in milliseconds. */
export const BOX_DEFAULTS = {
  /** `timeout`: 23 s. */
  timeout: 23_000,
  /** `retry`: tries of a write or a call (1: none repeated, since a write may have been applied). */
  retry: 1,
  /** `select_retry`: tries of a select. */
  selectRetry: 3,
  /** `soft_retry`: tries after transient server errors (severity 1). */
  softRetry: 3,
  /** `retry_delay`: 1 s between tries (for a client the Box builds). */
  retryDelay: 1_000,
} as const;

export interface BoxOptions<Spaces extends readonly SpaceSpec[], Raise extends boolean> {
  /** `'host:port[:weight],...'` or server options: the Box builds (and owns) an IProto client. */
  servers?: IProtoOptions['servers'];
  /** A client to send through instead (the Box does not close it). */
  client?: IProto;
  /** Further options of the client the Box builds (`maxParallel`, `balance`, `clusterOptions`, ...). */
  clientOptions?: Omit<IProtoOptions, 'servers' | 'cluster'>;
  spaces: Spaces;
  /** The space `box.space()` stands for; the first one by default. */
  defaultSpace?: SpaceRef<Spaces>;
  /** Per-try timeout of writes and calls, ms (Perl's 23 s). */
  timeout?: number;
  /** Per-try timeout of selects, ms; `timeout` by default. */
  selectTimeout?: number;
  /** Tries of a write or call after a communication error (Perl's `retry`, 1). */
  retry?: number;
  /** Tries of a select or ping after a communication error (Perl's `select_retry`, 3). */
  selectRetry?: number;
  /** Tries after a transient server error (Perl's `soft_retry`, 3). */
  softRetry?: number;
  /** ms between tries of a client the Box builds (Perl's `retry_delay`, 1 s). */
  retryDelay?: number;
  /** false: a failed call resolves to its BoxError instead of rejecting (Perl's `raise => 0`). */
  raise?: Raise;
  /** A name for messages (Perl's `name`). */
  name?: string;
}

/** Options every call takes. */
export interface CallOptions {
  /** Per-try timeout, ms. */
  timeout?: number;
  /** Aborts the call wherever it is. */
  signal?: AbortSignal;
  /** Override the Box's `raise` for this call. */
  raise?: boolean;
  /** Balancing key, for a client balancing by `hash-crc32` or `ketama`. */
  key?: string | number | Uint8Array;
}

export interface InsertOptions extends CallOptions {
  /** `'set'` stores anyway (Insert / Set), `'add'` only a new key (Add), `'replace'` only an existing one (Replace). */
  action?: 'set' | 'add' | 'replace';
  /** Answer the stored tuple (WANT_RESULT) rather than the count. */
  wantResult?: boolean;
  /** Tuples as arrays even when the space names its fields. */
  raw?: boolean;
}

export interface SelectOptions<I = string | number> extends CallOptions {
  /** Index name or id; the space's default index otherwise. */
  index?: I;
  /** Most tuples to answer (0x7FFFFFFF by default). */
  limit?: number;
  /** Tuples to skip first. */
  offset?: number;
  raw?: boolean;
}

export interface WriteOptions extends CallOptions {
  wantResult?: boolean;
  raw?: boolean;
}

export interface CallProcOptions extends CallOptions {
  /** The format of the procedure's tuples, as a space's (`'&*'`, every field as bytes, by default). */
  unpackFormat?: string | readonly string[];
  /** CALL flags (Perl's `flags`). */
  flags?: number;
}

/** One request of a multi-space select: `[space, keys, options?]`. */
export type UnionRequest<Spaces extends readonly SpaceSpec[]> = readonly [
  SpaceRef<Spaces>,
  unknown,
  SelectOptions?,
];

/** The value, or its BoxError when `raise` is off for the call. */
export type Outcome<T, Raise extends boolean, O> = O extends { raise: false }
  ? T | BoxError
  : O extends { raise: true }
    ? T
    : Raise extends false
      ? T | BoxError
      : T;

type TupleOut<S extends SpaceSpec, O> = O extends { raw: true } ? ArrayTuple<S> : Tuple<S>;
type WriteResult<S extends SpaceSpec, O> = O extends { wantResult: true }
  ? TupleOut<S, O> | undefined
  : number;

const DEFAULT_LIMIT = 0x7fffffff;
const NO_OPTIONS: CallOptions = Object.freeze({});

function tries(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw boxError('ERR_BOX_SPEC', `${name} must be a positive integer, got ${describe(value)}`);
  return value;
}

function u32Option(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw boxError('ERR_BOX_ARGUMENT', `${name} must be an unsigned 32-bit integer, got ${describe(value)}`);
  }
  return value;
}

/** The plans a space's replies are read with, made once. */
interface SpacePlans {
  readonly decoder: TupleDecoder;
  readonly shape: TupleShape | undefined;
  readonly plans: Map<string, ReplyPlan & { unpack: (body: Buffer) => DecodedReply }>;
}

/**
 * MR::Tarantool::Box for TypeScript: a Tarantool 1.5 / Octopus box with declared spaces, over an
 * `@iproto/client` (balancing, retries, timeouts, abort and diagnostics come from it).
 */
export class Box<
  const Spaces extends readonly SpaceSpec[] = readonly SpaceSpec[],
  const Raise extends boolean = true,
> {
  readonly client: IProto;
  readonly name: string;
  readonly timeout: number;
  readonly selectTimeout: number;
  readonly retry: number;
  readonly selectRetry: number;
  readonly softRetry: number;
  readonly raise: boolean;
  readonly #spaces = new Map<string | number, Space>();
  readonly #spaceList: Space[] = [];
  readonly #defaultSpace: Space;
  readonly #plans = new Map<Space, SpacePlans>();
  readonly #callDecoders = new Map<string, TupleDecoder>();
  readonly #ownsClient: boolean;
  readonly #writer = new Writer();
  #closed = false;

  constructor(options: BoxOptions<Spaces, Raise>) {
    if (options === null || typeof options !== 'object')
      throw boxError('ERR_BOX_SPEC', 'Box: options are required');
    this.name = options.name ?? 'Box';
    this.timeout = options.timeout ?? BOX_DEFAULTS.timeout;
    this.selectTimeout = options.selectTimeout ?? this.timeout;
    for (const [name, value] of [
      ['timeout', this.timeout],
      ['selectTimeout', this.selectTimeout],
    ] as const) {
      if (!(value > 0) || !Number.isFinite(value))
        throw boxError('ERR_BOX_SPEC', `${name} must be a number of ms > 0, got ${describe(value)}`);
    }
    this.retry = tries(options.retry, BOX_DEFAULTS.retry, 'retry');
    this.selectRetry = tries(options.selectRetry, BOX_DEFAULTS.selectRetry, 'selectRetry');
    this.softRetry = tries(options.softRetry, BOX_DEFAULTS.softRetry, 'softRetry');
    this.raise = options.raise !== false;

    if (!Array.isArray(options.spaces) || options.spaces.length === 0) {
      throw boxError('ERR_BOX_SPEC', 'Box: no spaces given');
    }
    options.spaces.forEach((spec, i) => {
      const space = new Space(spec, i);
      if (this.#spaces.has(space.id) || (space.name !== undefined && this.#spaces.has(space.name))) {
        throw boxError('ERR_BOX_SPEC', `space[${space.name ?? space.id}] already defined`);
      }
      this.#spaces.set(space.id, space);
      if (space.name !== undefined) this.#spaces.set(space.name, space);
      this.#spaceList.push(space);
    });
    if (options.defaultSpace !== undefined) {
      const space = this.#spaces.get(options.defaultSpace);
      if (!space)
        throw boxError('ERR_BOX_SPEC', `defaultSpace ${describe(options.defaultSpace)} does not exist`);
      this.#defaultSpace = space;
    } else {
      this.#defaultSpace = this.#spaceList[0]!;
    }

    if (options.client) {
      if (options.servers !== undefined)
        throw boxError('ERR_BOX_SPEC', 'Box: give either servers or client, not both');
      this.client = options.client;
      this.#ownsClient = false;
    } else if (options.servers !== undefined && options.servers !== '') {
      this.client = new IProto({
        retryDelay: options.retryDelay ?? BOX_DEFAULTS.retryDelay,
        timeout: this.timeout,
        ...options.clientOptions,
        servers: options.servers,
      });
      this.#ownsClient = true;
    } else {
      throw boxError('ERR_BOX_SPEC', 'Box: either servers or client is required');
    }
  }

  /** The declared spaces, resolved, in order. */
  get spaces(): readonly Space[] {
    return this.#spaceList;
  }

  /** A space by name or id (the default space without one), with the calls bound to it. */
  space<R extends SpaceRef<Spaces>>(ref?: R): BoxSpace<Spaces, Raise, R> {
    const space = ref === undefined ? this.#defaultSpace : this.#space(ref);
    return new BoxSpace(this, (space.name ?? space.id) as R);
  }

  #space(ref: unknown): Space {
    const space = typeof ref === 'string' || typeof ref === 'number' ? this.#spaces.get(ref) : undefined;
    if (!space) throw boxError('ERR_BOX_ARGUMENT', `${this.name}: bad space ${describe(ref)}`);
    return space;
  }

  /**
   * Stores a tuple (MR::Tarantool::Box::Insert, msg 13): an array, or an object by field names.
   * `action` `'add'` fails when the key exists, `'replace'` when it does not. Resolves to the count
   * stored, or with `wantResult` to the stored tuple.
   */
  insert<R extends SpaceRef<Spaces>, const O extends InsertOptions = {}>(
    space: R,
    tuple: TupleInput<SpaceOf<Spaces, R>>,
    options?: O,
  ): Promise<Outcome<WriteResult<SpaceOf<Spaces, R>, O>, Raise, O>> {
    return this.#run(options, () => {
      const s = this.#space(space);
      const o: InsertOptions = options ?? NO_OPTIONS;
      let flags = o.wantResult ? InsertFlags.WANT_RESULT : 0;
      const action = o.action ?? 'set';
      if (action === 'add') flags |= InsertFlags.ADD;
      else if (action === 'replace') flags |= InsertFlags.REPLACE;
      else if (action !== 'set')
        throw boxError('ERR_BOX_ARGUMENT', `${s.label}: bad insert action ${describe(action)}`);
      const w = this.#writer.reset();
      w.u32(s.id);
      w.u32(flags);
      s.writeTuple(w, tuple);
      const plan = this.#plan(s, o.wantResult ? 'tuples' : 'count', o.raw === true, 'insert into');
      return this.#send(
        BoxMsg.INSERT,
        w.finish(),
        plan,
        o,
        this.retry,
        this.timeout,
        o.wantResult ? first : undefined,
      );
    }) as never;
  }

  /** MR::Tarantool::Box::Add: insert only when the key does not exist. */
  add<R extends SpaceRef<Spaces>, const O extends Omit<InsertOptions, 'action'> = {}>(
    space: R,
    tuple: TupleInput<SpaceOf<Spaces, R>>,
    options?: O,
  ): Promise<Outcome<WriteResult<SpaceOf<Spaces, R>, O>, Raise, O>> {
    return this.insert(space, tuple, { ...options, action: 'add' }) as never;
  }

  /** MR::Tarantool::Box::Replace: insert only when the key exists. */
  replace<R extends SpaceRef<Spaces>, const O extends Omit<InsertOptions, 'action'> = {}>(
    space: R,
    tuple: TupleInput<SpaceOf<Spaces, R>>,
    options?: O,
  ): Promise<Outcome<WriteResult<SpaceOf<Spaces, R>, O>, Raise, O>> {
    return this.insert(space, tuple, { ...options, action: 'replace' }) as never;
  }

  /**
   * Selects tuples by keys of an index (MR::Tarantool::Box::Select, msg 17). `keys` is one key or an
   * array of keys; a key of a multi-field index is an array of its leading fields. No keys: no
   * request, `[]`.
   */
  select<
    R extends SpaceRef<Spaces>,
    I extends IndexRef<SpaceOf<Spaces, R>> | undefined = undefined,
    const O extends SelectOptions<I> = {},
  >(
    space: R,
    keys: KeyOf<SpaceOf<Spaces, R>, I> | readonly KeyOf<SpaceOf<Spaces, R>, I>[],
    options?: O & SelectOptions<I>,
  ): Promise<Outcome<TupleOut<SpaceOf<Spaces, R>, O>[], Raise, O>> {
    return this.#run(options, () => {
      const s = this.#space(space);
      const o: SelectOptions = options ?? NO_OPTIONS;
      const index = s.index(o.index, s.defaultIndex);
      const list = normalizeKeys(index, keys);
      if (list.length === 0) return Promise.resolve([]);
      const w = this.#writer.reset();
      this.#writeSelect(s, index, list, o);
      const plan = this.#plan(s, 'tuples', o.raw === true, 'select from');
      return this.#send(BoxMsg.SELECT, w.finish(), plan, o, this.selectRetry, this.selectTimeout);
    }) as never;
  }

  /** `L space, L index, L offset, L limit, L key_count`, keys: MR::Tarantool::Box::_PackSelect without a field format. */
  #writeSelect(s: Space, index: ResolvedIndex, keys: readonly unknown[], o: SelectOptions): void {
    if ((o as { format?: unknown }).format !== undefined) {
      // MR::Tarantool::Box sends a SELECT with a field format as msg 21, which a 1.5 server runs as DELETE.
      throw boxError(
        'ERR_BOX_ARGUMENT',
        `${s.label}: select's format option is not supported: Tarantool 1.5 runs it as a DELETE`,
      );
    }
    const w = this.#writer;
    w.u32(s.id);
    w.u32(index.id);
    w.u32(u32Option(o.offset, 0, 'offset'));
    w.u32(u32Option(o.limit, DEFAULT_LIMIT, 'limit'));
    w.u32(keys.length);
    for (const key of keys) s.writeKey(w, index, key);
  }

  /**
   * Updates the tuple of a key (MR::Tarantool::Box::UpdateMulti, msg 19) with `[field, op, ...args]`
   * operations. Resolves to the count updated (0: no such key), or with `wantResult` to the new tuple.
   */
  update<R extends SpaceRef<Spaces>, const O extends WriteOptions = {}>(
    space: R,
    key: PrimaryKeyOf<SpaceOf<Spaces, R>>,
    ops: readonly UpdateOp<SpaceOf<Spaces, R>>[],
    options?: O,
  ): Promise<Outcome<WriteResult<SpaceOf<Spaces, R>, O>, Raise, O>> {
    return this.#run(options, () => {
      const s = this.#space(space);
      const o: WriteOptions = options ?? NO_OPTIONS;
      if (!Array.isArray(ops)) throw boxError('ERR_BOX_ARGUMENT', `${s.label}: update ops must be an array`);
      if (ops.length > MAX_UPDATE_OPS) {
        throw boxError(
          'ERR_BOX_ARGUMENT',
          `${s.label}: too many update ops: ${ops.length} (at most ${MAX_UPDATE_OPS})`,
        );
      }
      const w = this.#writer.reset();
      w.u32(s.id);
      w.u32(o.wantResult ? InsertFlags.WANT_RESULT : 0);
      s.writeKey(w, s.primaryKeyIndex, key);
      w.u32(ops.length);
      for (let i = 0; i < ops.length; i++) writeUpdateOp(w, s, ops[i], i);
      const plan = this.#plan(s, o.wantResult ? 'tuples' : 'count', o.raw === true, 'update in');
      return this.#send(
        BoxMsg.UPDATE,
        w.finish(),
        plan,
        o,
        this.retry,
        this.timeout,
        o.wantResult ? first : undefined,
      );
    }) as never;
  }

  /**
   * Deletes the tuple of a key (MR::Tarantool::Box::Delete): msg 20 `L space, key`, or with
   * `wantResult` msg 21 `L space, L flags, key`. Resolves to the count deleted or the deleted tuple.
   */
  delete<R extends SpaceRef<Spaces>, const O extends WriteOptions = {}>(
    space: R,
    key: PrimaryKeyOf<SpaceOf<Spaces, R>>,
    options?: O,
  ): Promise<Outcome<WriteResult<SpaceOf<Spaces, R>, O>, Raise, O>> {
    return this.#run(options, () => {
      const s = this.#space(space);
      const o: WriteOptions = options ?? NO_OPTIONS;
      const w = this.#writer.reset();
      w.u32(s.id);
      if (o.wantResult) w.u32(InsertFlags.WANT_RESULT);
      s.writeKey(w, s.primaryKeyIndex, key);
      const plan = this.#plan(s, o.wantResult ? 'tuples' : 'count', o.raw === true, 'delete from');
      const msg = o.wantResult ? BoxMsg.DELETE : BoxMsg.DELETE_1_3;
      return this.#send(msg, w.finish(), plan, o, this.retry, this.timeout, o.wantResult ? first : undefined);
    }) as never;
  }

  /**
   * Calls a Lua procedure (MR::Tarantool::Box::Call, msg 22) with its arguments as one tuple
   * (strings as UTF-8, bytes as they are, numbers as decimal text, as Perl stringifies them).
   * Resolves to its tuples as arrays, read with `unpackFormat`.
   */
  call<const O extends CallProcOptions = {}>(
    proc: string,
    args: readonly (string | number | bigint | Uint8Array)[] = [],
    options?: O,
  ): Promise<Outcome<unknown[][], Raise, O>> {
    return this.#run(options, () => {
      const o: CallProcOptions = options ?? NO_OPTIONS;
      if (typeof proc !== 'string' || proc === '')
        throw boxError('ERR_BOX_ARGUMENT', `${this.name}: call: bad procedure name ${describe(proc)}`);
      if (!Array.isArray(args))
        throw boxError('ERR_BOX_ARGUMENT', `${this.name}: call ${proc}: args must be an array`);
      const format =
        o.unpackFormat === undefined
          ? '&*'
          : Array.isArray(o.unpackFormat)
            ? o.unpackFormat.join('')
            : o.unpackFormat;
      const decoder = this.#callDecoder(format as string, proc);
      const w = this.#writer.reset();
      w.u32(u32Option(o.flags, 0, 'flags'));
      w.berString(proc);
      w.u32(args.length);
      args.forEach((arg, i) => {
        if (typeof arg === 'string') w.berString(arg);
        else if (arg instanceof Uint8Array) w.berBytes(arg);
        else if ((typeof arg === 'number' && Number.isFinite(arg)) || typeof arg === 'bigint')
          w.berString(String(arg));
        else
          throw boxError(
            'ERR_BOX_ARGUMENT',
            `${this.name}: call ${proc}: argument ${i} must be a string, bytes or a number, got ${describe(arg)}`,
          );
      });
      const plan: ReplyPlan = { kind: 'tuples', where: `call ${proc}`, decoder, shape: undefined };
      return this.#send(BoxMsg.CALL, w.finish(), withUnpack(plan), o, this.retry, this.timeout);
    }) as never;
  }

  #callDecoder(format: string, proc: string): TupleDecoder {
    let decoder = this.#callDecoders.get(format);
    if (!decoder) {
      try {
        decoder = new TupleDecoder(parseFormat(format, `call ${proc}`));
      } catch (error) {
        throw boxError('ERR_BOX_ARGUMENT', (error as Error).message, error);
      }
      if (this.#callDecoders.size < 256) this.#callDecoders.set(format, decoder);
    }
    return decoder;
  }

  /** Pings the box (msg 0xff00, answered with a bare header before the box layer). */
  ping<const O extends CallOptions = {}>(options?: O): Promise<Outcome<true, Raise, O>> {
    return this.#run(options, () =>
      this.#send(BoxMsg.PING, EMPTY, PING_PLAN, options ?? NO_OPTIONS, this.selectRetry, this.selectTimeout),
    ) as never;
  }

  /**
   * The multi-space select of MR::Tarantool::Box::SelectUnion (msg 18): `L request_count`, then each
   * request as a select body. Resolves to one tuple list per request. A Tarantool 1.5 server does
   * not know msg 18 (it answers 0x0202); Octopus boxes serve it.
   */
  selectUnion<const O extends CallOptions = {}>(
    requests: readonly UnionRequest<Spaces>[],
    options?: O,
  ): Promise<Outcome<unknown[][], Raise, O>> {
    return this.#run(options, () => {
      const o: CallOptions = options ?? NO_OPTIONS;
      if (!Array.isArray(requests))
        throw boxError(
          'ERR_BOX_ARGUMENT',
          `${this.name}: selectUnion takes an array of [space, keys, options?]`,
        );
      if (requests.length === 0) return Promise.resolve([]);
      const w = this.#writer.reset();
      w.u32(requests.length);
      const parts: { decoder: TupleDecoder; shape: TupleShape | undefined }[] = [];
      requests.forEach((request, i) => {
        if (!Array.isArray(request) || request.length < 2 || request.length > 3) {
          throw boxError(
            'ERR_BOX_ARGUMENT',
            `${this.name}: selectUnion request ${i}: expected [space, keys, options?]`,
          );
        }
        const s = this.#space(request[0]);
        const so: SelectOptions = request[2] ?? NO_OPTIONS;
        const index = s.index(so.index, s.defaultIndex);
        const keys = normalizeKeys(index, request[1]);
        if (keys.length === 0)
          throw boxError('ERR_BOX_ARGUMENT', `${s.label}: selectUnion request ${i} has no keys`);
        this.#writeSelect(s, index, keys, so);
        const { decoder, shape } = this.#spacePlans(s);
        parts.push({ decoder, shape: so.raw ? undefined : shape });
      });
      const plan: ReplyPlan = { kind: 'multi', where: `${this.name}: selectUnion`, parts };
      return this.#send(
        BoxMsg.SELECT_UNION,
        w.finish(),
        withUnpack(plan),
        o,
        this.selectRetry,
        this.selectTimeout,
      );
    }) as never;
  }

  /** Closes the client the Box built (requests in flight get their replies first); a given client stays open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsClient) await this.client.close();
  }

  #spacePlans(s: Space): SpacePlans {
    let plans = this.#plans.get(s);
    if (!plans) {
      plans = {
        decoder: new TupleDecoder(s.format),
        shape: s.fields ? { fields: s.fields, longFields: s.longFields } : undefined,
        plans: new Map(),
      };
      this.#plans.set(s, plans);
    }
    return plans;
  }

  #plan(s: Space, kind: 'tuples' | 'count', raw: boolean, doing: string) {
    const sp = this.#spacePlans(s);
    const id = `${kind}:${raw ? 1 : 0}:${doing}`;
    let plan = sp.plans.get(id);
    if (!plan) {
      const where = `${this.name}: ${doing} ${s.label}`;
      plan = withUnpack(
        kind === 'count'
          ? { kind, where }
          : { kind, where, decoder: sp.decoder, shape: raw ? undefined : sp.shape },
      );
      sp.plans.set(id, plan);
    }
    return plan;
  }

  /** Runs a call: argument errors always reject; box and network errors follow `raise`. */
  #run(options: CallOptions | undefined, body: () => Promise<unknown>): Promise<unknown> {
    if (this.#closed) return Promise.reject(boxError('ERR_BOX_CLOSED', `${this.name} is closed`));
    let promise: Promise<unknown>;
    try {
      promise = body();
    } catch (error) {
      return Promise.reject(error);
    }
    const raise = options?.raise ?? this.raise;
    return raise
      ? promise
      : promise.catch((error: unknown) => (error instanceof BoxError ? error : Promise.reject(error)));
  }

  /**
   * Sends one request through the client, with MR::Tarantool::Box::_chat's retry accounting: a
   * communication error is tried again while `retry` lasts; a transient server error (severity 1)
   * while `softRetry` lasts (then `retry`), except a tuple too big for the allocator (0x0701),
   * which no retry can help. A permanent error (severity 2) is final.
   */
  #send(
    msg: number,
    payload: Buffer,
    plan: ReplyPlan & { unpack: (body: Buffer) => DecodedReply },
    options: CallOptions,
    retry: number,
    timeout: number,
    pick?: (value: unknown) => unknown,
  ): Promise<unknown> {
    let left = retry;
    let soft = this.softRetry;
    const message: PlainMessage<[DecodedReply]> = {
      msg,
      payload,
      key: options.key,
      unpack: plan.unpack,
      retry: () => --left > 0,
      isRetry: ([reply]) => {
        const code = reply.returnCode;
        if (code === 0 || (code & 0xff) !== 1 || code === ER_MEMORY_ISSUE) return false;
        if (--soft > 0) {
          if (left > 1) left--;
          return true;
        }
        return --left > 0;
      },
      maxRequestRetries: retry + this.softRetry,
      timeout: options.timeout ?? timeout,
      signal: options.signal,
    };
    return this.client.send(message).then(
      ([reply]) => {
        if (reply.returnCode !== 0) throw serverError(reply.returnCode, reply.text, plan.where);
        return pick ? pick(reply.value) : reply.value;
      },
      (error: unknown) => {
        if (error instanceof BoxError) throw error;
        const e = error as { code?: unknown; errno?: unknown; message?: unknown };
        throw new BoxError(
          typeof e?.code === 'string' ? e.code : 'ERR_BOX_FAILED',
          `${plan.where}: ${typeof e?.message === 'string' ? e.message : String(error)}`,
          { cause: error, errno: typeof e?.errno === 'number' ? e.errno : undefined },
        );
      },
    );
  }
}

/**
 * A space of a Box with its calls bound: `box.space('users').select(1)`. `box.space()` is the
 * default space, as MR::Tarantool::Box's calls without a `space` option.
 */
export class BoxSpace<
  Spaces extends readonly SpaceSpec[],
  Raise extends boolean,
  R extends SpaceRef<Spaces>,
> {
  constructor(
    readonly box: Box<Spaces, Raise>,
    readonly ref: R,
  ) {}

  insert<const O extends InsertOptions = {}>(tuple: TupleInput<SpaceOf<Spaces, R>>, options?: O) {
    return this.box.insert(this.ref, tuple, options);
  }

  add<const O extends Omit<InsertOptions, 'action'> = {}>(
    tuple: TupleInput<SpaceOf<Spaces, R>>,
    options?: O,
  ) {
    return this.box.add(this.ref, tuple, options);
  }

  replace<const O extends Omit<InsertOptions, 'action'> = {}>(
    tuple: TupleInput<SpaceOf<Spaces, R>>,
    options?: O,
  ) {
    return this.box.replace(this.ref, tuple, options);
  }

  select<
    I extends IndexRef<SpaceOf<Spaces, R>> | undefined = undefined,
    const O extends SelectOptions<I> = {},
  >(
    keys: KeyOf<SpaceOf<Spaces, R>, I> | readonly KeyOf<SpaceOf<Spaces, R>, I>[],
    options?: O & SelectOptions<I>,
  ) {
    return this.box.select<R, I, O>(this.ref, keys, options);
  }

  update<const O extends WriteOptions = {}>(
    key: PrimaryKeyOf<SpaceOf<Spaces, R>>,
    ops: readonly UpdateOp<SpaceOf<Spaces, R>>[],
    options?: O,
  ) {
    return this.box.update(this.ref, key, ops, options);
  }

  delete<const O extends WriteOptions = {}>(key: PrimaryKeyOf<SpaceOf<Spaces, R>>, options?: O) {
    return this.box.delete(this.ref, key, options);
  }
}

const EMPTY = Buffer.alloc(0);

function first(value: unknown): unknown {
  return (value as unknown[])[0];
}

function withUnpack<P extends ReplyPlan>(plan: P): P & { unpack: (body: Buffer) => DecodedReply } {
  return Object.assign(plan, { unpack: (body: Buffer) => decodeReply(plan, body) });
}

const PING_PLAN = withUnpack({ kind: 'ping', where: 'ping' } as ReplyPlan);

/**
 * The keys of a select as a list, as MR::Tarantool::Box::Select reads its arguments: for a one-field
 * index an array is a list of keys; for a longer index an array of arrays is a list of keys and
 * an array of values is one key.
 */
function normalizeKeys(index: ResolvedIndex, keys: unknown): readonly unknown[] {
  if (!Array.isArray(keys)) return [keys];
  if (index.fieldNos.length === 1) return keys;
  return keys.length > 0 && Array.isArray(keys[0]) ? keys : [keys];
}
