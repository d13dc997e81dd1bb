import { IProto } from '@iproto/client';
import { BoxError, boxError } from './box-error.js';
import type {
  BoxOptions,
  CallOptions,
  CallProcOptions,
  InsertOptions,
  Outcome,
  SelectOptions,
  TupleOut,
  UnionRequest,
  WriteOptions,
  WriteResult,
} from './box-options.js';
import { BOX_DEFAULTS } from './box-options.js';
import { boxRequest, type PlanWithUnpack, type Tries, withUnpack } from './box-request.js';
import { BoxSpace } from './box-space.js';
import { describe } from './field-codec.js';
import { parseFormat } from './format.js';
import { BoxMsg, InsertFlags } from './messages.js';
import type { ReplyPlan } from './reply.js';
import { keyList, type ResolvedIndex, Space } from './space.js';
import { TupleDecoder, type TupleShape } from './tuple-decoder.js';
import type {
  IndexRef,
  KeyOf,
  PrimaryKeyOf,
  SpaceOf,
  SpaceRef,
  SpaceSpec,
  TupleInput,
  UpdateOp,
} from './types.js';
import { MAX_UPDATE_OPS, writeUpdateOp } from './update-ops.js';
import { Writer } from './writer.js';

const DEFAULT_LIMIT = 0x7fffffff;
const NO_OPTIONS: CallOptions = Object.freeze({});

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw boxError('ERR_BOX_SPEC', `${name} must be a positive integer, got ${describe(value)}`);
  return value;
}

/** The longest timer Node keeps: a longer timeout would fire at once (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 0x7fffffff;

function ms(value: number | undefined, fallback: number, name: string, zero: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(zero ? value >= 0 : value > 0) || value > MAX_TIMER_MS) {
    const range = zero ? `from 0 to ${MAX_TIMER_MS}` : `> 0 and at most ${MAX_TIMER_MS}`;
    throw boxError('ERR_BOX_SPEC', `${name} must be a number of ms ${range}, got ${describe(value)}`);
  }
  return value;
}

/**
 * A call's boolean option, decided once: a truthy `1` (Perl's `want_result => 1`) would set the flag
 * while the reply was read as a count, so anything but a boolean is refused before sending.
 */
function flag(value: boolean | undefined, name: string, where: string): boolean {
  if (value === undefined || typeof value === 'boolean') return value === true;
  throw boxError('ERR_BOX_ARGUMENT', `${where}: ${name} must be a boolean, got ${describe(value)}`);
}

function u32Option(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw boxError('ERR_BOX_ARGUMENT', `${name} must be an unsigned 32-bit integer, got ${describe(value)}`);
  }
  return value;
}

/** The calls whose replies a space's plans read. */
const Op = { INSERT: 0, SELECT: 1, UPDATE: 2, DELETE: 3 } as const;
type Op = (typeof Op)[keyof typeof Op];

// What each call does, for messages: `Box: insert into users (space 0): ...`.
const OP_DOING = ['insert into', 'select from', 'update of', 'delete from'] as const;

/** The plans a space's replies are read with, made once. */
interface SpacePlans {
  readonly decoder: TupleDecoder;
  readonly shape: TupleShape | undefined;
  /** By `Op * 4 + (tuples ? 2 : 0) + (raw ? 1 : 0)`: no string built per call. */
  readonly plans: (PlanWithUnpack | undefined)[];
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
  /** Most fields one reply may hold (its tuples' fields together), checked before they are read. */
  readonly maxReplyFields: number;
  readonly #spaces = new Map<string | number, Space>();
  readonly #spaceList: Space[] = [];
  readonly #defaultSpace: Space;
  readonly #plans = new Map<Space, SpacePlans>();
  readonly #callDecoders = new Map<string, TupleDecoder>();
  readonly #ownsClient: boolean;
  readonly #writer = new Writer();
  readonly #writeTries: Tries;
  readonly #selectTries: Tries;
  #closed = false;
  /** The first `close()`'s promise: every later call waits for the same. */
  #closing: Promise<void> | undefined;

  constructor(options: BoxOptions<Spaces, Raise>) {
    if (options === null || typeof options !== 'object')
      throw boxError('ERR_BOX_SPEC', 'Box: options are required');
    this.name = options.name ?? 'Box';
    // Checked here, not at the first call: the client refuses a timer Node cannot keep, per call.
    this.timeout = ms(options.timeout, BOX_DEFAULTS.timeout, 'timeout', false);
    this.selectTimeout = ms(options.selectTimeout, this.timeout, 'selectTimeout', false);
    const retryDelay = ms(options.retryDelay, BOX_DEFAULTS.retryDelay, 'retryDelay', true);
    this.retry = positiveInteger(options.retry, BOX_DEFAULTS.retry, 'retry');
    this.selectRetry = positiveInteger(options.selectRetry, BOX_DEFAULTS.selectRetry, 'selectRetry');
    this.softRetry = positiveInteger(options.softRetry, BOX_DEFAULTS.softRetry, 'softRetry');
    this.maxReplyFields = positiveInteger(
      options.maxReplyFields,
      BOX_DEFAULTS.maxReplyFields,
      'maxReplyFields',
    );
    this.raise = options.raise !== false;
    this.#writeTries = { retry: this.retry, softRetry: this.softRetry, timeout: this.timeout };
    this.#selectTries = { retry: this.selectRetry, softRetry: this.softRetry, timeout: this.selectTimeout };

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
      if (typeof (options.client as { send?: unknown }).send !== 'function')
        throw boxError('ERR_BOX_SPEC', 'Box: client must be an IProto (it has no send method)');
      this.client = options.client;
      this.#ownsClient = false;
    } else if (options.servers !== undefined && options.servers !== '') {
      this.client = new IProto({
        retryDelay,
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
      const want = flag(o.wantResult, 'wantResult', s.label);
      const raw = flag(o.raw, 'raw', s.label);
      let flags = want ? InsertFlags.WANT_RESULT : 0;
      const action = o.action ?? 'set';
      if (action === 'add') flags |= InsertFlags.ADD;
      else if (action === 'replace') flags |= InsertFlags.REPLACE;
      else if (action !== 'set')
        throw boxError('ERR_BOX_ARGUMENT', `${s.label}: bad insert action ${describe(action)}`);
      const w = this.#writer.reset();
      w.u32(s.id);
      w.u32(flags);
      s.writeTuple(w, tuple);
      const plan = this.#plan(s, Op.INSERT, want, raw);
      return boxRequest(
        this.client,
        BoxMsg.INSERT,
        w.finish(),
        plan,
        o,
        this.#writeTries,
        want ? first : undefined,
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
      const raw = flag(o.raw, 'raw', s.label);
      const index = s.index(o.index, s.defaultIndex);
      const list = keyList(index, keys);
      if (list.length === 0) return Promise.resolve([]);
      const w = this.#writer.reset();
      this.#writeSelect(s, index, list, o);
      const plan = this.#plan(s, Op.SELECT, true, raw);
      return boxRequest(this.client, BoxMsg.SELECT, w.finish(), plan, o, this.#selectTries);
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
      const want = flag(o.wantResult, 'wantResult', s.label);
      const raw = flag(o.raw, 'raw', s.label);
      if (!Array.isArray(ops)) throw boxError('ERR_BOX_ARGUMENT', `${s.label}: update ops must be an array`);
      if (ops.length > MAX_UPDATE_OPS) {
        throw boxError(
          'ERR_BOX_ARGUMENT',
          `${s.label}: too many update ops: ${ops.length} (at most ${MAX_UPDATE_OPS})`,
        );
      }
      const w = this.#writer.reset();
      w.u32(s.id);
      w.u32(want ? InsertFlags.WANT_RESULT : 0);
      s.writeKey(w, s.primaryKeyIndex, key);
      w.u32(ops.length);
      for (let i = 0; i < ops.length; i++) writeUpdateOp(w, s, ops[i], i);
      const plan = this.#plan(s, Op.UPDATE, want, raw);
      return boxRequest(
        this.client,
        BoxMsg.UPDATE,
        w.finish(),
        plan,
        o,
        this.#writeTries,
        want ? first : undefined,
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
      const want = flag(o.wantResult, 'wantResult', s.label);
      const raw = flag(o.raw, 'raw', s.label);
      const w = this.#writer.reset();
      w.u32(s.id);
      if (want) w.u32(InsertFlags.WANT_RESULT);
      s.writeKey(w, s.primaryKeyIndex, key);
      const plan = this.#plan(s, Op.DELETE, want, raw);
      const msg = want ? BoxMsg.DELETE : BoxMsg.DELETE_1_3;
      return boxRequest(this.client, msg, w.finish(), plan, o, this.#writeTries, want ? first : undefined);
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
      const plan: ReplyPlan = {
        kind: 'tuples',
        where: `call ${proc}`,
        decoder,
        shape: undefined,
        maxFields: this.maxReplyFields,
      };
      return boxRequest(this.client, BoxMsg.CALL, w.finish(), withUnpack(plan), o, this.#writeTries);
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
      boxRequest(this.client, BoxMsg.PING, EMPTY, PING_PLAN, options ?? NO_OPTIONS, this.#selectTries),
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
        const raw = flag(so.raw, 'raw', s.label);
        const index = s.index(so.index, s.defaultIndex);
        const keys = keyList(index, request[1]);
        if (keys.length === 0)
          throw boxError('ERR_BOX_ARGUMENT', `${s.label}: selectUnion request ${i} has no keys`);
        this.#writeSelect(s, index, keys, so);
        const { decoder, shape } = this.#spacePlans(s);
        parts.push({ decoder, shape: raw ? undefined : shape });
      });
      const plan: ReplyPlan = {
        kind: 'multi',
        where: `${this.name}: selectUnion`,
        parts,
        maxFields: this.maxReplyFields,
      };
      return boxRequest(this.client, BoxMsg.SELECT_UNION, w.finish(), withUnpack(plan), o, this.#selectTries);
    }) as never;
  }

  /** Closes the client the Box built (requests in flight get their replies first); a given client stays open. */
  close(): Promise<void> {
    this.#closed = true;
    // A second close() waits for the first one's client to finish closing, not just for the flag.
    this.#closing ??= this.#closeClient();
    return this.#closing;
  }

  async #closeClient(): Promise<void> {
    if (this.#ownsClient) await this.client.close();
  }

  #spacePlans(s: Space): SpacePlans {
    let plans = this.#plans.get(s);
    if (!plans) {
      plans = {
        decoder: new TupleDecoder(s.format),
        shape: s.fields ? { fields: s.fields, longFields: s.longFields } : undefined,
        plans: [],
      };
      this.#plans.set(s, plans);
    }
    return plans;
  }

  /** How the reply to `op` on `s` is read: a count, or tuples (as objects unless `raw`). */
  #plan(s: Space, op: Op, tuples: boolean, raw: boolean): PlanWithUnpack {
    const sp = this.#spacePlans(s);
    const slot = op * 4 + (tuples ? 2 : 0) + (raw ? 1 : 0);
    let plan = sp.plans[slot];
    if (plan === undefined) {
      const where = `${this.name}: ${OP_DOING[op]} ${s.label}`;
      plan = withUnpack(
        tuples
          ? {
              kind: 'tuples',
              where,
              decoder: sp.decoder,
              shape: raw ? undefined : sp.shape,
              maxFields: this.maxReplyFields,
            }
          : { kind: 'count', where },
      );
      sp.plans[slot] = plan;
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

  /** `await using box = new Box(...)` closes it (as `close()`) when the scope ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

const EMPTY = Buffer.alloc(0);

function first(value: unknown): unknown {
  return (value as unknown[])[0];
}

const PING_PLAN: PlanWithUnpack = withUnpack({ kind: 'ping', where: 'ping' } as ReplyPlan);
