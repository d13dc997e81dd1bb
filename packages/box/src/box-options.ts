import type { IProto, IProtoOptions } from '@iproto/client';
import type { BoxError } from './box-error.js';
import type { ArrayTuple, SpaceRef, SpaceSpec, Tuple } from './types.js';

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
  /**
   * `maxReplyFields`: fields one reply may hold. Each field read costs about 100 bytes of heap for
   * as little as one byte received; this bounds what one reply can make us hold (about 100 MB).
   */
  maxReplyFields: 1_000_000,
} as const;

/** Options of `new Box(...)`: where to send (`servers` or `client`) and the spaces to describe. */
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
  /** Most fields one reply may hold, all its tuples together (1,000,000); more is `ERR_BOX_REPLY`. */
  maxReplyFields?: number;
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

export type TupleOut<S extends SpaceSpec, O> = O extends { raw: true } ? ArrayTuple<S> : Tuple<S>;
export type WriteResult<S extends SpaceSpec, O> = O extends { wantResult: true }
  ? TupleOut<S, O> | undefined
  : number;
