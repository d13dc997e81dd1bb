import { EventEmitter } from 'node:events';
import type { Frame } from '@iproto/framing';
import { close, destroy } from './closing.js';
import { type ConnectionOptions, DEFAULT_TIMEOUT, resolveOptions } from './connection-options.js';
import { ConnectionState } from './connection-state.js';
import { defaultDebugCb, type Hooks, observe } from './debug-log.js';
import {
  type Dispatcher,
  type DispatchHandler,
  type DispatchRequest,
  dispatchPromise,
  type SendOptions,
} from './dispatch.js';
import { functionOption, integerOption, timeoutOption } from './options.js';
import { dispatch } from './request-path.js';
import { connect, disconnectAll } from './sockets.js';
import { type ConnectionTarget, OPEN } from './transport.js';

export type { ConnectionOptions } from './connection-options.js';
export { formatAddress } from './connection-options.js';
export type { Dispatcher, DispatchHandler, DispatchRequest, ReplyHandler, SendOptions } from './dispatch.js';
export type { ConnectionTarget } from './transport.js';

/** The events a {@link Connection} emits, with their arguments. */
export interface ConnectionEvents {
  connect: [];
  /** A socket went, or was retired as silent (`error` says why; undefined after a clean close). */
  close: [error?: Error];
  error: [error: Error];
  timeout: [info: { msg: number; sync: number | undefined }];
}

const WHERE = 'Connection';

// What the connection ties, each in its own module over the state they share (connection-state.ts,
// held in a private field): its sockets (sockets.ts, one Transport each), a request's way in
// (request-path.ts: RequestTable, Deadlines, BatchWriter), reply dispatch and settling (settling.ts,
// ReplyBatch), deadlines passing (expiry.ts) and closing (closing.ts).

/**
 * One connection to one iproto server, pipelining requests matched by sync. Connects lazily on the
 * first request (as MR::IProto::Connection::Async does) or on `connect()`; after a failure the next
 * request reconnects. Its one primitive is `dispatch(request, handler)`; `send` is the Promise
 * façade over it.
 *
 * The pieces it ties: `Transport` (a socket's life), `RequestTable` (syncs, slots, the queue),
 * `Deadlines` (one timer), `BatchWriter` (a tick's frames in one write), `ReplyBatch` (replies of a
 * read handed over after it). Debug lines and hooks are a diagnostics-channel subscriber.
 */
export class Connection extends EventEmitter<ConnectionEvents> implements Dispatcher {
  /** `host:port` (`[v6]:port`), the unix socket path, or the custom stream's `address`. */
  readonly address: string;
  readonly connectTimeout: number;
  readonly tcpNoDelay: boolean;
  readonly tcpKeepAlive: boolean;
  readonly keepAliveInitialDelay: number;
  readonly maxParallel: number;
  readonly maxQueue: number;
  readonly maxWriteBuffer: number;
  readonly maxFrameSize: number;
  readonly closeTimeout: number;
  readonly dumpNoInts: boolean;

  /** Everything the request path shares; never reachable from outside. */
  readonly #state: ConnectionState;
  #debug: number;
  #debugCb: (line: string) => void;
  #hooks: Hooks;

  constructor(target: ConnectionTarget & ConnectionOptions, options?: ConnectionOptions);
  constructor(target: ConnectionTarget, options?: ConnectionOptions);
  constructor(target: ConnectionTarget, options: ConnectionOptions = {}) {
    super();
    const o = resolveOptions(target, options);
    this.address = o.address;
    this.connectTimeout = o.connectTimeout;
    this.tcpNoDelay = o.tcpNoDelay;
    this.tcpKeepAlive = o.tcpKeepAlive;
    this.keepAliveInitialDelay = o.keepAliveInitialDelay;
    this.maxParallel = o.maxParallel;
    this.maxQueue = o.maxQueue;
    this.maxWriteBuffer = o.maxWriteBuffer;
    this.maxFrameSize = o.maxFrameSize;
    this.closeTimeout = o.closeTimeout;
    this.#debug = o.debug;
    this.#debugCb = o.debugCb;
    this.dumpNoInts = o.dumpNoInts;
    this.#hooks = o.hooks;
    if (o.observed) observe(this, this.#hooks);
    this.#state = new ConnectionState(this, o);
  }

  /** Closes every live connection of the process (Perl's `disconnect_all`, for after a fork); each reconnects on its next request. */
  static disconnectAll(): void {
    disconnectAll();
  }

  /** The default deadline of new requests (Perl's `set_timeout`). */
  get timeout(): number {
    return this.#state.timeout;
  }

  /** `undefined` restores the default, 2000 ms. */
  set timeout(value: number | undefined) {
    this.#state.timeout = timeoutOption(WHERE, 'timeout', value, DEFAULT_TIMEOUT);
  }

  /** Perl debug level (MR::IProto::Role::Debuggable). */
  get debug(): number {
    return this.#debug;
  }

  set debug(level: number) {
    this.#debug = integerOption(WHERE, 'debug', level, 0, 0);
    if (level > 0) observe(this, this.#hooks);
  }

  /** Where debug lines go; setting `undefined` restores the default (standard error). */
  get debugCb(): (line: string) => void {
    return this.#debugCb;
  }

  set debugCb(callback: ((line: string) => void) | undefined) {
    this.#debugCb = functionOption(WHERE, 'debugCb', callback) ?? defaultDebugCb;
    if (callback !== undefined) observe(this, this.#hooks);
  }

  /** True while a socket is open for new requests. */
  get connected(): boolean {
    const current = this.#state.current;
    return current !== null && current.state === OPEN;
  }

  /** Requests holding a sync: sent and awaiting a reply (or, for noReply, a write), or abandoned. */
  get inFlight(): number {
    return this.#state.table.size;
  }

  /** Requests waiting for a slot (or for room in the write buffer). */
  get queued(): number {
    return this.#state.table.queued;
  }

  /** Bytes handed to us but not yet to the OS (our batch plus the stream's buffer). */
  get bufferedBytes(): number {
    return this.#state.writer.pendingBytes + (this.#state.current?.writableLength ?? 0);
  }

  /** True while writing is paused until the socket drains. */
  get writePaused(): boolean {
    return this.#state.current?.needDrain === true;
  }

  /** Opens the connection now rather than on the first request. */
  connect(): Promise<void> {
    return connect(this.#state);
  }

  /**
   * Sends one request; resolves to the reply frame (whatever its msg: the caller decides), or to
   * undefined for `noReply` once written. Rejects with `IProtoError`. The Promise façade of `dispatch`.
   */
  send(
    msg: number,
    body: Uint8Array | undefined,
    options: SendOptions & { noReply: true },
  ): Promise<undefined>;
  send(msg: number, body?: Uint8Array, options?: SendOptions): Promise<Frame>;
  send(msg: number, body?: Uint8Array, options?: SendOptions): Promise<Frame | undefined> {
    return dispatchPromise(this, msg, body, options);
  }

  /** `dispatch` with the request spelled out; kept for callers of the former API. */
  sendTo(
    msg: number,
    body: Uint8Array | undefined,
    options: SendOptions | undefined,
    handler: DispatchHandler,
  ): void {
    this.dispatch(
      { msg, body, noReply: options?.noReply, timeout: options?.timeout, signal: options?.signal },
      handler,
    );
  }

  /**
   * Sends one request; its outcome goes to `handler.onReply(frame)` (or `onReplyBytes`) or
   * `handler.onError(error)`, once, never from inside this call. Replies of one read are handed over
   * after the whole read is decoded; errors in a microtask. Handlers run in the context of the read:
   * a handler that needs its caller's async context binds it (the client's callbacks do).
   */
  dispatch(request: DispatchRequest, handler: DispatchHandler): void {
    dispatch(this.#state, request, handler);
  }

  /** Stops taking requests; lets those in flight and queued settle (at most `closeTimeout` ms), then closes. */
  close(): Promise<void> {
    return close(this.#state);
  }

  /** Closes at once: every request rejects (with `error`, or `ERR_DESTROYED`); the connection is done. */
  destroy(error?: Error): void {
    destroy(this.#state, error);
  }

  /** `await using connection = new Connection(...)` closes it (as `close()`) when the scope ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
