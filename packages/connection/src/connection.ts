import { EventEmitter } from 'node:events';
import { connect as netConnect, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import {
  DEFAULT_MAX_FRAME_SIZE,
  dumpPacket,
  encodeHeader,
  type Frame,
  FrameDecoder,
  FrameError,
  FrameWriter,
  frameBody,
} from '@iproto/framing';
import { channels } from './diagnostics.js';
import { errnoOf, fromSocketError, IProtoError } from './errors.js';
import { RingQueue } from './ring-queue.js';
import { SyncTable } from './sync-table.js';

/** Where a `Connection` goes: TCP, a unix socket, or any stream the caller opens (TLS, an in-memory pair). */
export type ConnectionTarget =
  | { host: string; port: number }
  | { path: string }
  | {
      /** Opens the stream; called on each (re)connect. */
      connect: () => Duplex;
      /** Names the peer in errors and debug lines. Default `'stream'`. */
      address?: string;
    };

export interface ConnectionOptions {
  /** Milliseconds to establish the connection. Default 2000 (Perl's `connect_timeout` of 2 s). */
  connectTimeout?: number;
  /**
   * Milliseconds: each request's deadline, queue time included, and the read-idle limit (nothing
   * received for this long while requests are in flight kills the connection). Default 2000 (Perl's
   * `timeout` of 2 s). 0 disables both.
   */
  timeout?: number;
  /** TCP_NODELAY. Default true (Perl's `tcp_nodelay` default). */
  tcpNoDelay?: boolean;
  /** SO_KEEPALIVE. Default false (Perl's `tcp_keepalive` default). */
  tcpKeepAlive?: boolean;
  /** Milliseconds of idleness before the first keep-alive probe. Default 0 (the OS setting). */
  keepAliveInitialDelay?: number;
  /** Requests in flight at once. Default 10 (Perl MR::IProto::Cluster::Server `max_parallel`). */
  maxParallel?: number;
  /** Requests waiting for a free slot; past it `send` rejects with `ERR_QUEUE_FULL`. Default 10000. */
  maxQueue?: number;
  /** Largest reply body accepted, in bytes. Default 16 MiB (`DEFAULT_MAX_FRAME_SIZE`). */
  maxFrameSize?: number;
  /** Perl debug level: 1 connect/close, 4 connecting, 5 dump sent packets, 6 dump received packets. */
  debug?: number;
  /** Receives each debug line (`host:port: text`). Default: stderr, prefixed `MR::IProto: `. */
  debugCb?: (line: string) => void;
  /** Leave the 32-bit integers out of packet dumps (Perl's `dump_no_ints`). */
  dumpNoInts?: boolean;
  /** Called as a request is handed to the socket (Perl's `_send_started`). */
  sendStarted?(sync: number, msg: number, body: Uint8Array): void;
  /** Called as a sent request settles (Perl's `_recv_finished`): reply, no-reply write, or error. */
  recvFinished?(
    sync: number,
    msg: number | undefined,
    body: Uint8Array | undefined,
    error: Error | undefined,
  ): void;
}

export interface SendOptions {
  /** The message has no reply: the promise resolves (to undefined) once the frame is written. */
  noReply?: boolean;
  /** This request's deadline in milliseconds, queue time included. Default: the connection's `timeout`. */
  timeout?: number;
  /** Aborting rejects the request with `ABORT_ERR`; a late reply is dropped. */
  signal?: AbortSignal;
}

export interface ConnectionEvents {
  connect: [];
  close: [error?: Error];
  error: [error: Error];
  timeout: [info: { msg: number; sync: number | undefined }];
}

// Request states.
const QUEUED = 0; // waiting for a slot; in the queue, no sync yet
const SENT = 1; // has a slot and a sync; handed to the writer (a noReply one until it is written)
const ABANDONED = 2; // settled by timeout or abort, its sync kept until the late reply or the grace end
const DONE = 3; // settled, holds nothing

const MAX_SYNC = 0xfffffffe;
/** Perl's `timeout` of 2 s. */
const DEFAULT_TIMEOUT = 2000;
/** Batches up to this many bytes split over several chunks are joined into one write. */
const SMALL_BATCH = 64 * 1024;
const EMPTY = new Uint8Array(0);
/**
 * A tick's batch is written as soon as it holds this many bytes, not only at the end of the tick:
 * the server starts on the first requests of a long burst while we prepare the rest, instead of the
 * two sides taking turns. A few KiB keep the extra writes rare (one per 170 small frames).
 */
export const EARLY_WRITE_BYTES = 4096;
const noop = (): void => {};

/**
 * The requests that share one deadline: same timeout, tracked in the same tick (the clock is read once
 * per tick). A request only counts itself in and out, so tracking costs no list surgery.
 */
class Bucket {
  live = 0;
  expired = false;
  next: Bucket | null = null;
  constructor(readonly deadline: number) {}
}

/** The buckets of one timeout value, in creation order, which is also deadline order. */
class DeadlineList {
  head: Bucket | null = null;
  tail: Bucket | null = null;
  constructor(readonly timeout: number) {}
}

/** One request; also the `abort` listener of its signal (`handleEvent`), so no closure is needed. */
class Request {
  sync = 0;
  state = QUEUED;
  deadline = 0;
  resolve: (value: any) => void = noop;
  reject: (error: unknown) => void = noop;
  /** Set by `sendTo`: the outcome goes to it instead of to a promise. */
  handler: ReplyHandler | null = null;
  bucket: Bucket | null = null;

  constructor(
    readonly owner: Connection,
    readonly msg: number,
    readonly body: Uint8Array,
    readonly noReply: boolean,
    readonly timeout: number,
    readonly signal: AbortSignal | null,
  ) {}

  handleEvent(): void {
    abortRequest(this.owner, this);
  }
}

/**
 * Receives the outcome of a request sent with `Connection#sendTo`: exactly one of the two is called,
 * once, and never before `sendTo` has returned.
 */
export interface ReplyHandler {
  /** The reply frame, or `undefined` for a `noReply` request once written. */
  onReply(frame: Frame | undefined): void;
  onError(error: Error): void;
  /**
   * Optional, and called instead of `onReply` for a reply when present: the reply with no `Frame`
   * object or body view made, its body being `bytes[start..end)` (a range of the socket read, valid
   * for as long as the handler keeps `bytes`). `frameBody(bytes, start, end)` of `@iproto/framing`
   * makes the view.
   */
  onReplyBytes?(msg: number, sync: number, bytes: Uint8Array, start: number, end: number): void;
}

/** Entries per reply waiting in `Connection#replies`. */
const REPLY_SLOTS = 6;

/** Hands a reply to a `sendTo` handler, as a byte range when it takes one. */
function deliver(
  handler: ReplyHandler,
  msg: number,
  sync: number,
  bytes: Uint8Array,
  start: number,
  end: number,
): void {
  if (handler.onReplyBytes !== undefined) handler.onReplyBytes(msg, sync, bytes, start, end);
  else handler.onReply({ msg, sync, body: frameBody(bytes, start, end) });
}

/**
 * Hot-path callbacks shared by every connection rather than bound per instance (set by Connection's
 * static block): a closure per connection would leave V8 a different target at each call site for
 * every connection a process has made, and the code it optimizes after the first few is slower.
 */
let flushConnection: (connection: Connection) => void;
let connectionTimer: (connection: Connection) => void;
let onFrame: (msg: number, sync: number, bytes: Uint8Array, start: number, end: number) => void;
/** The connection whose read `onFrame` is decoding (reads do not nest). */
let scanning: Connection | null = null;

/** `Connection#abort`, reached from `Request#handleEvent` (set by Connection's static block). */
let abortRequest: (connection: Connection, request: Request) => void;

// One shared promise executor instead of a closure per request.
let executorTarget: Request | null = null;
function executor(resolve: (value: any) => void, reject: (error: unknown) => void): void {
  executorTarget!.resolve = resolve;
  executorTarget!.reject = reject;
}

/** Live connections (those with a socket), for `Connection.disconnectAll()`; left on teardown. */
const live = new Set<Connection>();

/**
 * A hook that throws is a bug in the caller's code: surface it as an uncaught exception, as Node does
 * for a throwing listener, but only after our bookkeeping for the request is done.
 */
function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

const defaultDebugCb = (line: string): void => {
  process.stderr.write(`MR::IProto: ${line}\n`);
};

function positive(name: string, value: number, min: number): number {
  if (!(value >= min) || Number.isNaN(value)) {
    throw new RangeError(`Connection: ${name} must be a number >= ${min}, got ${value}`);
  }
  return value;
}

/**
 * One connection to one iproto server, pipelining requests matched by sync. Connects lazily on the first
 * `send` (as MR::IProto::Connection::Async does) or on `connect()`; after a failure the next `send`
 * reconnects.
 */
export class Connection extends EventEmitter<ConnectionEvents> {
  /** `host:port`, the unix socket path, or the custom stream's `address`. */
  readonly address: string;
  readonly connectTimeout: number;
  readonly tcpNoDelay: boolean;
  readonly tcpKeepAlive: boolean;
  readonly keepAliveInitialDelay: number;
  readonly maxParallel: number;
  readonly maxQueue: number;
  readonly maxFrameSize: number;
  debug: number;
  debugCb: (line: string) => void;
  readonly dumpNoInts: boolean;

  #target: ConnectionTarget;
  #timeout: number;
  #sendStarted: NonNullable<ConnectionOptions['sendStarted']> | null;
  #recvFinished: NonNullable<ConnectionOptions['recvFinished']> | null;

  #socket: Duplex | null = null;
  #connected = false;
  #connectTimer: NodeJS.Timeout | null = null;
  #connectWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #closing = false;
  #destroyed = false;
  #closeWaiters: (() => void)[] = [];
  #closingSocket: Duplex | null = null;
  /** The error of a `connect` callback that threw, until it is reported on the next tick. */
  #connectFailure: IProtoError | null = null;

  #decoder: FrameDecoder;
  #writer = new FrameWriter();
  #flushScheduled = false;
  #needDrain = false;
  #noReplyBatch: Request[] | null = null;

  /** Requests holding a slot, by sync (sent ones, noReply ones not yet written, abandoned ones). */
  #pending = new SyncTable<Request>();
  #queue = new RingQueue<Request>();
  /** Live (not aborted or expired) requests in `#queue`. */
  #queued = 0;
  /** Requests the caller still waits for. */
  #unsettled = 0;
  #lastSync = 0;

  #lists = new Map<number, DeadlineList>();
  #timer: NodeJS.Timeout | null = null;
  #timerDue = 0;
  #lastActivity = 0;

  /** The socket whose chunk is being decoded. */
  #reading: Duplex | null = null;
  /**
   * Replies to `sendTo` handlers wait here until the whole read is decoded, REPLY_SLOTS entries
   * each: handler, bytes, msg, sync, start, end.
   */
  #replies: (ReplyHandler | Uint8Array | number | undefined)[] = [];
  /** Entries of `#replies` in use: the arrays are kept and overwritten, not grown afresh per read. */
  #replyCount = 0;
  #spareReplies: (ReplyHandler | Uint8Array | number | undefined)[] = [];
  /**
   * The clock, read once per tick of sends (when the first send of a batch schedules the flush), per
   * chunk read and per timer run rather than once per request.
   */
  #now = 0;
  /** One-entry cache of the deadline list of the last timeout used. */
  #lastList: DeadlineList | null = null;

  constructor(target: ConnectionTarget & ConnectionOptions, options?: ConnectionOptions);
  constructor(target: ConnectionTarget, options?: ConnectionOptions);
  constructor(target: ConnectionTarget, options: ConnectionOptions = {}) {
    super();
    const o: ConnectionOptions = { ...(target as ConnectionOptions), ...options };
    if ('connect' in target && typeof target.connect === 'function') {
      this.address = target.address ?? 'stream';
    } else if ('path' in target && typeof target.path === 'string') {
      this.address = target.path;
    } else if ('port' in target && target.port !== undefined) {
      const host = (target as { host?: string }).host ?? '127.0.0.1';
      if (!Number.isInteger(target.port) || target.port < 0 || target.port > 65535) {
        throw new RangeError(`Connection: port must be an integer from 0 to 65535, got ${target.port}`);
      }
      target = { host, port: target.port };
      this.address = `${host}:${target.port}`;
    } else {
      throw new TypeError('Connection: target must be { host, port }, { path } or { connect: () => Duplex }');
    }
    this.#target = target;
    this.connectTimeout = positive('connectTimeout', o.connectTimeout ?? 2000, 0);
    this.#timeout = positive('timeout', o.timeout ?? DEFAULT_TIMEOUT, 0);
    this.tcpNoDelay = o.tcpNoDelay ?? true;
    this.tcpKeepAlive = o.tcpKeepAlive ?? false;
    this.keepAliveInitialDelay = positive('keepAliveInitialDelay', o.keepAliveInitialDelay ?? 0, 0);
    this.maxParallel = positive('maxParallel', o.maxParallel ?? 10, 1);
    this.maxQueue = positive('maxQueue', o.maxQueue ?? 10_000, 0);
    this.maxFrameSize = o.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.debug = o.debug ?? 0;
    this.debugCb = o.debugCb ?? defaultDebugCb;
    this.dumpNoInts = o.dumpNoInts ?? false;
    this.#sendStarted = o.sendStarted ?? null;
    this.#recvFinished = o.recvFinished ?? null;
    this.#decoder = new FrameDecoder({ maxFrameSize: this.maxFrameSize });
  }

  /** Closes every live connection of the process (Perl's `disconnect_all`, for after a fork); each reconnects on its next send. */
  static disconnectAll(): void {
    for (const connection of [...live]) connection.#disconnect();
  }

  /** The default deadline of new requests and the read-idle limit (Perl's `set_timeout`). */
  get timeout(): number {
    return this.#timeout;
  }

  /** `undefined` restores the default, 2000 ms. */
  set timeout(value: number | undefined) {
    this.#timeout = value === undefined ? DEFAULT_TIMEOUT : positive('timeout', value, 0);
  }

  /** True while the socket is open and usable. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Requests holding a slot: sent and awaiting a reply (or, for noReply, a write). */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.#queued;
  }

  /** Bytes handed to us but not yet to the OS (our batch plus the stream's buffer). */
  get bufferedBytes(): number {
    return this.#writer.pendingBytes + (this.#socket?.writableLength ?? 0);
  }

  /** True while writing is paused until the socket drains. */
  get writePaused(): boolean {
    return this.#needDrain;
  }

  /** Opens the connection now rather than on the first send. */
  connect(): Promise<void> {
    if (this.#closing) return Promise.reject(this.#closedError());
    if (this.#connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#connectWaiters.push({ resolve, reject });
      if (this.#socket === null) this.#open();
    });
  }

  /**
   * Sends one request; resolves to the reply frame (whatever its msg: the caller decides), or to
   * undefined for `noReply` once written. Rejects with `IProtoError`.
   */
  send(
    msg: number,
    body: Uint8Array | undefined,
    options: SendOptions & { noReply: true },
  ): Promise<undefined>;
  send(msg: number, body?: Uint8Array, options?: SendOptions): Promise<Frame>;
  send(msg: number, body?: Uint8Array, options?: SendOptions): Promise<Frame | undefined> {
    const request = this.#request(msg, body, options);
    if (!(request instanceof Request)) return Promise.reject(request);
    executorTarget = request;
    const promise = new Promise<Frame | undefined>(executor);
    executorTarget = null;
    this.#launch(request);
    return promise;
  }

  /**
   * `send()` without a promise: the outcome goes to `handler.onReply(frame)` or
   * `handler.onError(error)`, once, never from inside this call. Replies of one read are handed over
   * after the whole read is decoded; errors in a microtask. For callers (such as `@iproto/client`)
   * that would otherwise chain a promise per request.
   */
  sendTo(
    msg: number,
    body: Uint8Array | undefined,
    options: SendOptions | undefined,
    handler: ReplyHandler,
  ): void {
    const request = this.#request(msg, body, options);
    if (!(request instanceof Request)) {
      queueMicrotask(() => handler.onError(request));
      return;
    }
    request.handler = handler;
    this.#launch(request);
  }

  /** Checks a send's arguments: the request to launch, or the error to fail it with. */
  #request(msg: number, body: Uint8Array | undefined, options: SendOptions | undefined): Request | Error {
    if (this.#closing) return this.#closedError();
    if (msg >>> 0 !== msg) {
      return new RangeError(`Connection.send: msg must be an integer from 0 to 4294967295, got ${msg}`);
    }
    // typeof rather than instanceof: it catches the usual mistake (a string) at no cost per request.
    if (body !== undefined && (typeof body !== 'object' || body === null)) {
      return new TypeError(`Connection.send: body must be a Uint8Array or Buffer, msg ${msg}`);
    }
    let noReply = false;
    let timeout = this.#timeout;
    let signal: AbortSignal | null = null;
    if (options !== undefined) {
      if (options.noReply === true) noReply = true;
      if (options.timeout !== undefined) {
        timeout = options.timeout;
        if (!(timeout >= 0)) {
          return new RangeError(`Connection.send: timeout must be a number >= 0, got ${timeout}, msg ${msg}`);
        }
      }
      if (options.signal !== undefined) {
        signal = options.signal;
        if (signal.aborted) return this.#abortError(msg, undefined, signal);
      }
    }
    const queue = this.#pending.size >= this.maxParallel || this.#queued !== 0;
    if (queue && this.#queued >= this.maxQueue) {
      return new IProtoError(
        'ERR_QUEUE_FULL',
        `${this.address}: request queue full (${this.#queued} queued, maxQueue ${this.maxQueue}), msg ${msg}`,
        { address: this.address, msg },
      );
    }
    return new Request(this, msg, body ?? EMPTY, noReply, timeout, signal);
  }

  /** Tracks a new request's deadline and signal, then sends it or queues it. */
  #launch(request: Request): void {
    const queue = this.#pending.size >= this.maxParallel || this.#queued !== 0;
    this.#unsettled++;
    const timeout = request.timeout;
    if (timeout > 0 && timeout !== Number.POSITIVE_INFINITY) {
      this.#track(request, this.#flushScheduled ? this.#now : (this.#now = performance.now()));
    }
    if (request.signal !== null) request.signal.addEventListener('abort', request);
    if (this.#socket === null) this.#open();
    if (queue) {
      this.#queue.push(request);
      this.#queued++;
    } else {
      this.#start(request);
    }
  }

  /** Stops taking requests, lets those in flight and queued settle, then closes the socket. */
  close(): Promise<void> {
    if (this.#destroyed && this.#socket === null && this.#closingSocket === null) return Promise.resolve();
    this.#closing = true;
    const done = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    this.#maybeFinishClose();
    return done;
  }

  /** Closes at once: every request rejects (with `error`, or `ERR_DESTROYED`); the connection is done. */
  destroy(error?: Error): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#closing = true;
    const reason =
      error ??
      new IProtoError('ERR_DESTROYED', `${this.address}: connection destroyed`, { address: this.address });
    this.#teardown(reason, error, true);
    this.#resolveClose();
  }

  // ---- requests -------------------------------------------------------------------------------

  #nextSync(): number {
    // A counter rather than Perl's random draw (MR::IProto::Connection::Async `_choose_sync`): cheaper,
    // and a sync is not reused until 2^32 - 2 later requests, so a very late reply cannot be taken for
    // a newer request's reply. It skips values whose slot in the table is taken (a request still in
    // flight with the same low bits), which keeps syncs unique among requests in flight.
    let sync = this.#lastSync;
    do {
      sync = sync >= MAX_SYNC ? 1 : sync + 1;
    } while (!this.#pending.isFree(sync));
    this.#lastSync = sync;
    return sync;
  }

  /** Gives a request a slot and a sync and hands its frame to the writer (Perl: `_send`). */
  #start(request: Request): void {
    const sync = this.#nextSync();
    request.sync = sync;
    request.state = SENT;
    if (this.#pending.size === 0) {
      // The read-idle clock starts when we begin to wait for something.
      this.#lastActivity = this.#flushScheduled ? this.#now : (this.#now = performance.now());
      if (this.#timeout > 0) this.#arm(this.#lastActivity + this.#timeout);
    }
    this.#pending.add(request);
    const body = request.body;
    if (this.#sendStarted !== null) {
      try {
        this.#sendStarted(sync, request.msg, body);
      } catch (error) {
        rethrowLater(error);
      }
    }
    if (channels.send.hasSubscribers) {
      channels.send.publish({ connection: this, msg: request.msg, sync, body });
    }
    if (this.debug >= 5) {
      this.#dump('send header: ', encodeHeader(request.msg, body.length, sync));
      this.#dump('send payload: ', body);
    }
    this.#writer.add(request.msg, sync, body);
    if (request.noReply) (this.#noReplyBatch ??= []).push(request);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(flushConnection, this);
    } else if (this.#writer.pendingBytes >= EARLY_WRITE_BYTES) {
      // The flush scheduled for the end of the tick still runs and writes the rest; until then the
      // tick's clock reading (`#now`) stays valid.
      this.#flush();
      this.#flushScheduled = true;
    }
  }

  /** Moves queued requests into free slots, oldest first. */
  #pump(): void {
    const queue = this.#queue;
    while (this.#queued !== 0 && this.#pending.size < this.maxParallel) {
      const request = queue.shift()!;
      if (request.state !== QUEUED) continue; // aborted or expired while queued
      this.#queued--;
      this.#start(request);
    }
    this.#dropDead();
  }

  /**
   * Forgets queued requests that were aborted or expired: those at the front at once, the rest when
   * they outnumber the living. Runs on every such death too, not only in `#pump`, because while a
   * stuck server holds every slot nothing pumps, and dead requests would keep their bodies.
   */
  #dropDead(): void {
    const queue = this.#queue;
    while (queue.length !== 0 && queue.peek()!.state !== QUEUED) queue.shift();
    if (queue.length > 64 && queue.length > 2 * this.#queued) queue.filter((r) => r.state === QUEUED);
  }

  /** Marks a request fulfilled and frees everything it holds except its slot; the caller tells its owner. */
  #settle(request: Request): void {
    request.state = DONE;
    this.#untrack(request);
    if (request.signal !== null) request.signal.removeEventListener('abort', request);
    this.#unsettled--;
  }

  /** A noReply request is written: it is done, with no reply. */
  #fulfilWritten(request: Request): void {
    this.#settle(request);
    const handler = request.handler;
    if (handler === null) request.resolve(undefined);
    else queueMicrotask(() => handler.onReply(undefined));
    if (this.#closing) this.#maybeFinishClose();
  }

  /** Settles a request as rejected. Sent ones are reported to `recvFinished`. */
  #rejectRequest(request: Request, error: Error): void {
    const wasSent = request.state === SENT;
    request.state = DONE;
    this.#untrack(request);
    if (request.signal !== null) request.signal.removeEventListener('abort', request);
    this.#unsettled--;
    if (wasSent) this.#finished(request, undefined, error);
    const handler = request.handler;
    if (handler === null) request.reject(error);
    else queueMicrotask(() => handler.onError(error));
  }

  /** Reports a sent request's end: a reply, a noReply write (neither frame nor error), or an error. */
  #finished(request: Request, reply: Frame | undefined, error: Error | undefined): void {
    if (this.#recvFinished !== null) {
      // As Perl's `_recv_finished`: msg and body are those of the reply, undefined without one.
      try {
        this.#recvFinished(request.sync, reply?.msg, reply?.body, error);
      } catch (thrown) {
        rethrowLater(thrown);
      }
    }
    if (channels.reply.hasSubscribers) {
      channels.reply.publish({ connection: this, msg: request.msg, sync: request.sync, reply, error });
    }
  }

  /**
   * Settles a sent request early (deadline or abort) but keeps its sync and slot until its reply comes
   * or one more `timeout` passes, so the late reply is dropped quietly rather than taken for an unknown
   * sync.
   */
  #abandon(request: Request, error: Error, now: number): void {
    this.#rejectRequest(request, error);
    request.state = ABANDONED;
    if (this.#timeout > 0) this.#track(request, now, this.#timeout);
    else this.#release(request);
  }

  /** Frees a request's slot. */
  #release(request: Request): void {
    this.#pending.remove(request);
    request.state = DONE;
    this.#untrack(request);
    if (this.#queued !== 0) this.#pump();
  }

  static {
    abortRequest = (connection, request) => connection.#abort(request);
    flushConnection = (connection) => connection.#flush();
    connectionTimer = (connection) => connection.#onTimer();
    onFrame = (msg, sync, bytes, start, end) => {
      const connection = scanning!;
      // Once a reply has failed the connection (or let close() finish), the rest of the chunk is not ours.
      if (connection.#socket === connection.#reading && connection.#reading !== null) {
        connection.#reply(msg, sync, bytes, start, end);
      }
    };
  }

  /** A request's signal was aborted. */
  #abort(request: Request): void {
    const error = this.#abortError(request.msg, request.sync || undefined, request.signal!);
    if (request.state === QUEUED) {
      this.#queued--;
      this.#rejectRequest(request, error);
      this.#dropDead();
    } else if (request.state === SENT) {
      this.#abandon(request, error, (this.#now = performance.now()));
    }
    if (this.#closing) this.#maybeFinishClose();
  }

  #abortError(msg: number, sync: number | undefined, signal: AbortSignal): IProtoError {
    return new IProtoError(
      'ABORT_ERR',
      `${this.address}: request aborted, msg ${msg}${sync === undefined ? '' : ` sync ${sync}`}`,
      { address: this.address, msg, sync, cause: signal.reason },
    );
  }

  #closedError(): IProtoError {
    return new IProtoError(
      'ERR_CONNECTION_CLOSED',
      `${this.address}: connection ${this.#destroyed ? 'destroyed' : 'closed'}, no new requests`,
      { address: this.address },
    );
  }

  // ---- deadlines: one timer per connection, armed for the earliest deadline -------------------

  #track(request: Request, now: number, timeout = request.timeout): void {
    let list = this.#lastList;
    if (list === null || list.timeout !== timeout) {
      list = this.#lists.get(timeout) ?? null;
      if (list === null) {
        list = new DeadlineList(timeout);
        this.#lists.set(timeout, list);
      }
      this.#lastList = list;
    }
    const deadline = now + timeout;
    let bucket = list.tail;
    if (bucket === null || bucket.deadline !== deadline) {
      // Buckets whose requests all settled go as soon as a newer one comes.
      while (list.head !== null && list.head.live === 0) list.head = list.head.next;
      bucket = new Bucket(deadline);
      if (list.head === null) list.head = bucket;
      else list.tail!.next = bucket;
      list.tail = bucket;
      this.#arm(deadline);
    }
    bucket.live++;
    request.bucket = bucket;
    request.deadline = deadline;
  }

  #untrack(request: Request): void {
    const bucket = request.bucket;
    if (bucket === null) return;
    bucket.live--;
    request.bucket = null;
  }

  #arm(due: number): void {
    if (this.#timer !== null) {
      if (this.#timerDue <= due) return;
      clearTimeout(this.#timer);
    }
    this.#timerDue = due;
    this.#timer = setTimeout(connectionTimer, Math.max(1, Math.ceil(due - performance.now())), this);
    // The socket keeps the process alive while it is open; the timer alone must not.
    this.#timer.unref();
  }

  #onTimer(): void {
    this.#timer = null;
    const now = performance.now();
    this.#now = now;
    // Perl (MR::IProto::Connection::Async, `on_timeout`): a handle silent for `timeout` while
    // callbacks wait is an error, ETIMEDOUT, failing every request on it.
    if (this.#idle(now)) {
      this.#fail(
        new IProtoError(
          'ETIMEDOUT',
          `${this.address}: read timed out after ${this.#timeout} ms with ${this.#pending.size} request(s) in flight`,
          { address: this.address, errno: errnoOf('ETIMEDOUT') },
        ),
      );
      return;
    }
    // Drop the buckets whose deadline passed; those still holding requests are marked, and their
    // requests found with one pass over the table and the queue (rare: only requests that time out).
    let expiring = false;
    for (const list of [...this.#lists.values()]) {
      let bucket = list.head;
      // Empty buckets at the head go too, so that the timer is next armed for a deadline that some
      // request still has, not for every tick's bucket in turn.
      while (bucket !== null && (bucket.deadline <= now || bucket.live === 0)) {
        if (bucket.live !== 0) {
          bucket.expired = true;
          expiring = true;
        }
        bucket = bucket.next;
      }
      list.head = bucket;
      if (bucket === null) {
        list.tail = null;
        if (list !== this.#lastList) this.#lists.delete(list.timeout);
      }
    }
    if (expiring) {
      const victims: Request[] = [];
      for (const request of this.#queue.toArray()) {
        if (request.state === QUEUED && request.bucket?.expired) victims.push(request);
      }
      for (const request of this.#pending.values()) if (request.bucket?.expired) victims.push(request);
      victims.sort((a, b) => a.deadline - b.deadline);
      for (const request of victims) {
        // An earlier expiry may have failed the connection and settled the rest.
        if (request.bucket?.expired) this.#expire(request, now);
      }
    }
    let due = Number.POSITIVE_INFINITY;
    for (const list of this.#lists.values()) {
      if (list.head !== null && list.head.deadline < due) due = list.head.deadline;
    }
    if (this.#connected && this.#timeout > 0 && this.#pending.size !== 0) {
      due = Math.min(due, this.#lastActivity + this.#timeout);
    }
    if (due !== Number.POSITIVE_INFINITY) this.#arm(due);
  }

  /** Read-idle death applies to an open socket only: while connecting, `connectTimeout` rules. */
  #idle(now: number): boolean {
    return (
      this.#connected &&
      this.#timeout > 0 &&
      this.#pending.size !== 0 &&
      now - this.#lastActivity >= this.#timeout
    );
  }

  #expire(request: Request, now: number): void {
    if (request.state === ABANDONED) {
      // Its grace is over: forget the sync; a reply arriving later is an unknown sync.
      this.#release(request);
      return;
    }
    const where = request.state === QUEUED ? 'waiting in the queue' : 'waiting for the reply';
    const error = new IProtoError(
      'ETIMEDOUT',
      `${this.address}: request timed out after ${request.timeout} ms ${where}, msg ${request.msg}` +
        (request.state === QUEUED ? '' : ` sync ${request.sync}`),
      {
        address: this.address,
        errno: errnoOf('ETIMEDOUT'),
        msg: request.msg,
        sync: request.state === QUEUED ? undefined : request.sync,
      },
    );
    const sync = request.state === QUEUED ? undefined : request.sync;
    if (request.state === QUEUED) {
      this.#queued--;
      this.#rejectRequest(request, error);
      this.#dropDead();
    } else {
      this.#abandon(request, error, now);
    }
    if (this.listenerCount('timeout') !== 0) this.emit('timeout', { msg: request.msg, sync });
    if (channels.timeout.hasSubscribers)
      channels.timeout.publish({ connection: this, msg: request.msg, sync });
    if (this.#closing) this.#maybeFinishClose();
  }

  // ---- socket ---------------------------------------------------------------------------------

  #open(): void {
    if (this.#connectFailure !== null) return;
    if (this.debug >= 4) this.#debugLine('connecting');
    if (channels.connecting.hasSubscribers)
      channels.connecting.publish({ connection: this, address: this.address });
    this.#decoder = new FrameDecoder({ maxFrameSize: this.maxFrameSize });
    this.#needDrain = false;
    const target = this.#target;
    let socket: Duplex;
    let waitFor: string | null;
    try {
      if ('connect' in target) {
        socket = target.connect();
        // A TLS socket is usable after its handshake, a net socket once connected, any other stream now.
        if (socket instanceof TLSSocket) {
          waitFor = (socket as unknown as { _secureEstablished?: boolean })._secureEstablished
            ? null
            : 'secureConnect';
        } else {
          waitFor = (socket as Partial<Socket>).connecting === true ? 'connect' : null;
        }
      } else {
        socket = netConnect(
          'path' in target ? { path: target.path } : { host: target.host, port: target.port },
        );
        waitFor = 'connect';
      }
    } catch (error) {
      // The user's connect() threw: fail like a refused connection, asynchronously (so that sends of
      // this tick join the failure rather than call connect() again).
      this.#connectFailure = fromSocketError(error, this.address, 'connect');
      process.nextTick(() => {
        const failure = this.#connectFailure!;
        this.#connectFailure = null;
        this.#teardown(failure, failure, false, true);
      });
      return;
    }
    this.#socket = socket;
    live.add(this);
    socket.on('data', (chunk: Buffer) => {
      if (this.#socket === socket) this.#onData(chunk);
    });
    socket.on('drain', () => {
      if (this.#socket === socket) {
        this.#needDrain = false;
        this.#flush();
      }
    });
    socket.on('error', (error: Error) => {
      if (this.#socket === socket) {
        this.#fail(fromSocketError(error, this.address, this.#connected ? 'read/write' : 'connect'));
      }
    });
    socket.on('end', () => {
      if (this.#socket === socket) this.#fail(this.#eofError());
    });
    socket.on('close', () => {
      if (this.#socket === socket) this.#fail(this.#eofError());
      else if (this.#closingSocket === socket) this.#socketClosed(socket);
    });
    if (waitFor === null) {
      process.nextTick(() => {
        if (this.#socket === socket) this.#onConnect(socket);
      });
    } else {
      socket.once(waitFor, () => {
        if (this.#socket === socket) this.#onConnect(socket);
      });
      if (this.connectTimeout > 0) {
        this.#connectTimer = setTimeout(() => {
          this.#connectTimer = null;
          if (this.#socket !== socket) return;
          this.#fail(
            new IProtoError(
              'ERR_CONNECT_TIMEOUT',
              `${this.address}: connect timed out after ${this.connectTimeout} ms`,
              {
                address: this.address,
                errno: errnoOf('ETIMEDOUT'),
              },
            ),
          );
        }, this.connectTimeout);
        this.#connectTimer.unref();
      }
    }
  }

  #eofError(): IProtoError {
    const held = this.#decoder.bufferedBytes;
    const detail = held === 0 ? '' : ` in the middle of a frame (${held} bytes of it received)`;
    // AnyEvent::Handle reports an end-of-file with reads pending as EPIPE, which the Perl client passes on as $!.
    return new IProtoError('ECONNCLOSED', `${this.address}: connection closed by the server${detail}`, {
      address: this.address,
      errno: errnoOf('EPIPE'),
    });
  }

  #onConnect(socket: Duplex): void {
    this.#clearConnectTimer();
    this.#connected = true;
    this.#lastActivity = performance.now();
    if (socket instanceof Socket) {
      socket.setNoDelay(this.tcpNoDelay);
      socket.setKeepAlive(this.tcpKeepAlive, this.keepAliveInitialDelay);
    }
    if (this.debug >= 1) this.#debugLine('connected');
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    if (this.listenerCount('connect') !== 0) this.emit('connect');
    if (channels.connect.hasSubscribers)
      channels.connect.publish({ connection: this, address: this.address });
    if (this.#socket === socket) this.#flush();
  }

  #clearConnectTimer(): void {
    if (this.#connectTimer !== null) {
      clearTimeout(this.#connectTimer);
      this.#connectTimer = null;
    }
  }

  /** Writes everything gathered this tick in one go (one `write`, or several inside cork/uncork). */
  #flush(): void {
    this.#flushScheduled = false;
    const socket = this.#socket;
    const pending = this.#writer.pendingBytes;
    if (socket === null || !this.#connected || this.#needDrain || pending === 0) return;
    const chunks = this.#writer.take();
    const batch = this.#noReplyBatch;
    this.#noReplyBatch = null;
    const callback =
      batch === null ? undefined : (error?: Error | null) => this.#written(batch, socket, error);
    let ok: boolean;
    if (chunks.length === 1) {
      ok = socket.write(chunks[0], callback);
    } else if (pending <= SMALL_BATCH) {
      // The writer's buffer turned over mid-batch: copying a few KiB is cheaper than a corked writev.
      ok = socket.write(Buffer.concat(chunks, pending), callback);
    } else {
      socket.cork();
      const last = chunks.length - 1;
      for (let i = 0; i < last; i++) socket.write(chunks[i]);
      ok = socket.write(chunks[last], callback);
      socket.uncork();
    }
    if (!ok) this.#needDrain = true;
  }

  /** NoReply requests are done once their bytes are written (Perl: on drain). */
  #written(batch: Request[], socket: Duplex, error: Error | null | undefined): void {
    if (error || this.#socket !== socket) return; // the failure path settles them
    for (const request of batch) {
      this.#pending.remove(request);
      if (request.state === SENT) {
        this.#finished(request, undefined, undefined);
        this.#fulfilWritten(request);
      } else if (request.state === ABANDONED) {
        request.state = DONE;
        this.#untrack(request);
      }
    }
    if (this.#queued !== 0) this.#pump();
  }

  #onData(chunk: Buffer): void {
    const now = performance.now();
    this.#now = now;
    this.#lastActivity = now;
    const socket = this.#socket;
    this.#reading = socket;
    scanning = this;
    try {
      this.#decoder.scan(chunk, onFrame);
    } catch (error) {
      scanning = null;
      this.#reading = null;
      this.#endRead();
      if (this.#socket !== socket || !(error instanceof FrameError)) return;
      this.#fail(
        new IProtoError('ERR_FRAME_TOO_LARGE', `${this.address}: ${error.message}`, {
          address: this.address,
          msg: error.msg,
          sync: error.sync,
          cause: error,
        }),
      );
      return;
    }
    scanning = null;
    this.#reading = null;
    this.#endRead();
    if (this.#queued !== 0 && this.#socket === socket) this.#pump();
  }

  /**
   * Hands the replies of this read to their `sendTo` handlers, after the whole read is decoded: like
   * promise reactions, handler code never runs inside the decoder's loop.
   */
  #endRead(): void {
    const count = this.#replyCount;
    if (count === 0) return;
    const replies = this.#replies;
    // A read started from a handler (none can today) would fill the other array.
    this.#replies = this.#spareReplies;
    this.#replyCount = 0;
    for (let i = 0; i < count; i += REPLY_SLOTS) {
      const handler = replies[i] as ReplyHandler;
      const bytes = replies[i + 1] as Uint8Array;
      // Cleared as we go: the kept array must not hold on to handlers or reads.
      replies[i] = undefined;
      replies[i + 1] = undefined;
      try {
        deliver(
          handler,
          replies[i + 2] as number,
          replies[i + 3] as number,
          bytes,
          replies[i + 4] as number,
          replies[i + 5] as number,
        );
      } catch (error) {
        rethrowLater(error);
      }
    }
    this.#spareReplies = replies;
  }

  /** Matches a reply (its body is `bytes[start..end)`) to its request, during a read. */
  #reply(msg: number, sync: number, bytes: Uint8Array, start: number, end: number): void {
    const request = this.#pending.get(sync);
    if (this.debug >= 6) {
      this.#dump('recv header: ', encodeHeader(msg, end - start, sync));
      this.#dump('recv payload: ', frameBody(bytes, start, end));
    }
    if (request === undefined || request.noReply) {
      // Perl (MR::IProto::Connection::Sync, `recv_all`): "Reply sync N not found" is a connection error.
      this.#fail(
        new IProtoError('ERR_UNKNOWN_SYNC', `${this.address}: reply sync ${sync} not found (msg ${msg})`, {
          address: this.address,
          msg,
          sync,
        }),
      );
      return;
    }
    this.#pending.remove(request);
    if (request.state === ABANDONED) {
      request.state = DONE;
      this.#untrack(request);
      return;
    }
    // A frame object only for those that take one: hooks, and `send()`'s promise.
    const handler = request.handler;
    let frame: Frame | undefined;
    if (handler === null || this.#recvFinished !== null || channels.reply.hasSubscribers) {
      frame = { msg, sync, body: frameBody(bytes, start, end) };
      this.#finished(request, frame, undefined);
    }
    this.#settle(request);
    if (handler === null) request.resolve(frame);
    else {
      const replies = this.#replies;
      const n = this.#replyCount;
      replies[n] = handler;
      replies[n + 1] = bytes;
      replies[n + 2] = msg;
      replies[n + 3] = sync;
      replies[n + 4] = start;
      replies[n + 5] = end;
      this.#replyCount = n + REPLY_SLOTS;
    }
    if (this.#closing) this.#maybeFinishClose();
  }

  // ---- failure and closing --------------------------------------------------------------------

  /** A connection failure: the socket goes, every request on it rejects; the next send reconnects. */
  #fail(error: IProtoError): void {
    this.#teardown(error, error, false);
  }

  /** Perl's `disconnect_all`: drop the socket now; the connection stays usable. */
  #disconnect(): void {
    const error = new IProtoError(
      'ERR_DESTROYED',
      `${this.address}: disconnected by Connection.disconnectAll()`,
      {
        address: this.address,
      },
    );
    this.#teardown(error, undefined, false);
  }

  /**
   * Closes the socket and rejects every request with `error`. `reported` is the error passed to the
   * `error` and `close` events (undefined for a deliberate close).
   */
  #teardown(error: Error, reported: Error | undefined, final: boolean, failedOpen = false): void {
    const socket = this.#socket;
    const hadSocket = socket !== null || failedOpen;
    if (hadSocket) {
      this.#socket = null;
      this.#connected = false;
      live.delete(this);
      if (reported !== undefined) this.#debugError(reported);
      if (socket !== null) {
        if (this.debug >= 1) this.#debugLine('closing socket');
        socket.destroy();
      }
    }
    if (final && this.#closingSocket !== null) {
      this.#closingSocket.destroy();
    }
    this.#clearConnectTimer();
    this.#needDrain = false;
    this.#writer.take();
    this.#noReplyBatch = null;
    this.#failRequests(error);
    if (hadSocket) {
      if (reported !== undefined && this.listenerCount('error') !== 0) this.emit('error', reported);
      if (reported !== undefined && channels.error.hasSubscribers) {
        channels.error.publish({ connection: this, error: reported });
      }
      this.#emitClose(reported);
    }
    if (final) this.#resolveClose();
    else if (this.#closing) this.#maybeFinishClose();
  }

  /** Rejects every request, in flight and queued, and the `connect()` waiters. */
  #failRequests(error: Error): void {
    const pending = this.#pending.values();
    this.#pending.clear();
    const queued = this.#queue.drain();
    this.#queued = 0;
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const request of pending) {
      if (request.state === SENT) this.#rejectRequest(request, error);
      else {
        request.state = DONE;
        this.#untrack(request);
      }
    }
    for (const request of queued) if (request.state === QUEUED) this.#rejectRequest(request, error);
    for (const waiter of waiters) waiter.reject(error);
    if (this.#pending.size === 0 && this.#queued === 0 && this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #maybeFinishClose(): void {
    if (this.#unsettled !== 0) return;
    const socket = this.#socket;
    if (socket === null) {
      if (this.#closingSocket === null) this.#resolveClose();
      return;
    }
    // Every request settled: end the socket gracefully, and make sure it goes even if the peer
    // never reads our FIN.
    const wasConnected = this.#connected;
    this.#socket = null;
    this.#connected = false;
    this.#closingSocket = socket;
    live.delete(this);
    // Frames of requests that settled without being written (aborted, timed out) stay unsent.
    this.#writer.take();
    this.#noReplyBatch = null;
    for (const request of this.#pending.values()) {
      request.state = DONE;
      this.#untrack(request);
    }
    this.#pending.clear();
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#clearConnectTimer();
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const waiter of waiters) waiter.reject(this.#closedError());
    if (this.debug >= 1) this.#debugLine('closing socket');
    const force = setTimeout(() => socket.destroy(), this.#timeout || 2000);
    force.unref();
    socket.once('finish', () => socket.destroy());
    socket.once('close', () => clearTimeout(force));
    // A socket still connecting has nothing to say goodbye to.
    if (wasConnected) socket.end();
    else socket.destroy();
    if (socket.destroyed && socket.closed) this.#socketClosed(socket);
  }

  #socketClosed(socket: Duplex): void {
    if (this.#closingSocket !== socket) return;
    this.#closingSocket = null;
    this.#emitClose(undefined);
    this.#resolveClose();
  }

  #resolveClose(): void {
    if (this.#closingSocket !== null) return;
    const waiters = this.#closeWaiters;
    this.#closeWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #emitClose(error: Error | undefined): void {
    if (this.listenerCount('close') !== 0) this.emit('close', error);
    if (channels.close.hasSubscribers) channels.close.publish({ connection: this, error });
  }

  // ---- debug (MR::IProto::Role::Debuggable) ---------------------------------------------------

  /** Lines carry the server's `host:port`, as MR::IProto::Cluster::Server `_debug` writes them. */
  #debugLine(text: string): void {
    const line = `${this.address}: ${text}`;
    this.debugCb(line);
    if (channels.debug.hasSubscribers) channels.debug.publish({ connection: this, line });
  }

  /** Perl logs every connection error whatever the level; we do so from level 1, or when `debugCb` is set. */
  #debugError(error: Error): void {
    if (this.debug >= 1 || this.debugCb !== defaultDebugCb) {
      const message = error.message.startsWith(`${this.address}: `)
        ? error.message.slice(this.address.length + 2)
        : error.message;
      // MR::IProto::Connection::Async `on_error` says "fatal error" for what AnyEvent::Handle calls
      // fatal: everything but its read timeout, which it raises as a plain error.
      const fatal = !(error instanceof IProtoError && error.code === 'ETIMEDOUT');
      this.#debugLine(`${fatal ? 'fatal ' : ''}error: ${message}`);
    }
  }

  #dump(prefix: string, bytes: Uint8Array): void {
    this.#debugLine(prefix + dumpPacket(bytes, { ints: !this.dumpNoInts }));
  }
}
