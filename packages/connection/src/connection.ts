import { EventEmitter } from 'node:events';
import { type Frame, frameBody } from '@iproto/framing';
import { BatchWriter } from './batch-writer.js';
import { type ConnectionOptions, DEFAULT_TIMEOUT, resolveOptions } from './connection-options.js';
import { Deadlines } from './deadlines.js';
import { defaultDebugCb, type Hooks, observe } from './debug-log.js';
import { channels } from './diagnostics.js';
import {
  type Dispatcher,
  type DispatchHandler,
  type DispatchRequest,
  dispatchPromise,
  type SendOptions,
} from './dispatch.js';
import { abortReason, errnoOf, IProtoError } from './errors.js';
import { functionOption, integerOption, invalidOption, MAX_TIMEOUT, timeoutOption } from './options.js';
import { ReplyBatch, rethrowLater } from './reply-batch.js';
import { ABANDONED, DONE, Entry, QUEUED, RequestTable, SENT } from './request-table.js';
import { tickNow } from './tick-clock.js';
import { CLOSED, type ConnectionTarget, OPEN, RETIRED, Transport, type TransportOwner } from './transport.js';

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

const EMPTY = new Uint8Array(0);
const WHERE = 'Connection';

/** Live connections (those with a socket), for `Connection.disconnectAll()`. */
const live = new Set<Connection>();

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
export class Connection extends EventEmitter<ConnectionEvents> implements Dispatcher, TransportOwner {
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

  #target: ConnectionTarget;
  #timeout: number;
  #debug: number;
  #debugCb: (line: string) => void;
  #hooks: Hooks;

  /** The socket new requests go to. */
  #current: Transport | null = null;
  /** Sockets found silent, kept for the replies of requests still within their deadlines. */
  #retired = new Set<Transport>();
  /** Sockets `close()` ended, until they go. */
  #ending = new Set<Transport>();
  #connectWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #closing = false;
  #destroyed = false;
  #closeWaiters: (() => void)[] = [];
  #closeTimer: NodeJS.Timeout | null = null;

  #table: RequestTable;
  #deadlines: Deadlines;
  #writer: BatchWriter;
  #replies = new ReplyBatch();
  /** Requests the caller still waits for. */
  #unsettled = 0;
  /** The clock, read once per tick of sends, per read and per timer run rather than per request. */
  #now = 0;

  constructor(target: ConnectionTarget & ConnectionOptions, options?: ConnectionOptions);
  constructor(target: ConnectionTarget, options?: ConnectionOptions);
  constructor(target: ConnectionTarget, options: ConnectionOptions = {}) {
    super();
    const o = resolveOptions(target, options);
    this.address = o.address;
    this.#target = o.target;
    this.connectTimeout = o.connectTimeout;
    this.#timeout = o.timeout;
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
    this.#table = new RequestTable((entry) => this.#abort(entry));
    this.#deadlines = new Deadlines((now) => this.#onTimer(now));
    this.#writer = new BatchWriter((batch, transport, error) => this.#written(batch, transport, error));
  }

  /** Closes every live connection of the process (Perl's `disconnect_all`, for after a fork); each reconnects on its next request. */
  static disconnectAll(): void {
    for (const connection of [...live]) connection.#disconnect();
  }

  /** The default deadline of new requests (Perl's `set_timeout`). */
  get timeout(): number {
    return this.#timeout;
  }

  /** `undefined` restores the default, 2000 ms. */
  set timeout(value: number | undefined) {
    this.#timeout = timeoutOption(WHERE, 'timeout', value, DEFAULT_TIMEOUT);
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
    return this.#current !== null && this.#current.state === OPEN;
  }

  /** Requests holding a sync: sent and awaiting a reply (or, for noReply, a write), or abandoned. */
  get inFlight(): number {
    return this.#table.size;
  }

  /** Requests waiting for a slot (or for room in the write buffer). */
  get queued(): number {
    return this.#table.queued;
  }

  /** Bytes handed to us but not yet to the OS (our batch plus the stream's buffer). */
  get bufferedBytes(): number {
    return this.#writer.pendingBytes + (this.#current?.writableLength ?? 0);
  }

  /** True while writing is paused until the socket drains. */
  get writePaused(): boolean {
    return this.#current?.needDrain === true;
  }

  /** Opens the connection now rather than on the first request. */
  connect(): Promise<void> {
    if (this.#closing) return Promise.reject(this.#closedError());
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#connectWaiters.push({ resolve, reject });
      if (this.#current === null) this.#open();
    });
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
    const entry = this.#entry(request, handler);
    if (entry instanceof Entry) this.#launch(entry);
    else queueMicrotask(() => handler.onError(entry));
  }

  /** Checks a request: the entry to launch, or the error to fail it with. */
  #entry(request: DispatchRequest, handler: DispatchHandler): Entry | Error {
    const msg = request.msg;
    if (this.#closing) return this.#closedError();
    if (msg >>> 0 !== msg) {
      return new RangeError(`Connection.send: msg must be an integer from 0 to 4294967295, got ${msg}`);
    }
    const body = request.body;
    // Everything is checked before any state changes: a bad body or signal fails this request
    // alone, through its handler, and never leaves a half-started entry behind.
    if (body !== undefined && !(ArrayBuffer.isView(body) && (body as Uint8Array).BYTES_PER_ELEMENT === 1)) {
      return new TypeError(`Connection.send: body must be a Uint8Array or Buffer, msg ${msg}`);
    }
    let timeout = request.timeout;
    if (timeout === undefined) timeout = this.#timeout;
    else if (typeof timeout !== 'number' || !(timeout >= 0 && timeout <= MAX_TIMEOUT)) {
      return invalidOption(
        `${this.address}: msg ${msg}`,
        'timeout',
        `a number of ms from 0 to ${MAX_TIMEOUT}`,
        timeout,
      );
    }
    const signal = request.signal ?? null;
    if (signal !== null && typeof signal.addEventListener !== 'function') {
      return invalidOption(`${this.address}: msg ${msg}`, 'signal', 'an AbortSignal', signal);
    }
    if (signal?.aborted) return this.#abortError(msg, undefined, signal);
    if (this.#table.queued >= this.maxQueue && !this.#canStartNow(body)) {
      return new IProtoError(
        'ERR_QUEUE_FULL',
        `${this.address}: request queue full (${this.#table.queued} queued, maxQueue ${this.maxQueue}), msg ${msg}`,
        { address: this.address, msg },
      );
    }
    return new Entry(this.#table, msg, body ?? EMPTY, request.noReply === true, timeout, signal, handler);
  }

  /** Whether a request with this body would start at once (a slot and room), were it sent now. */
  #canStartNow(body: Uint8Array | undefined): boolean {
    const transport = this.#current;
    if (this.#table.queued !== 0) return false;
    if (transport === null) return true;
    return this.#fits(transport, 12 + (body?.length ?? 0));
  }

  /** A request of `size` bytes may start on `transport`: a free slot, and room in the write buffer. */
  #fits(transport: Transport, size: number): boolean {
    if (transport.held >= this.maxParallel) return false;
    const buffered = this.#writer.pendingBytes + transport.writableLength;
    return buffered === 0 || buffered + size <= this.maxWriteBuffer;
  }

  /** Tracks a new request's deadline and signal, then starts it or queues it. */
  #launch(entry: Entry): void {
    this.#unsettled++;
    const now = this.#tickNow();
    const timeout = entry.timeout;
    if (timeout > 0) this.#deadlines.track(entry, now, timeout);
    if (entry.signal !== null) entry.signal.addEventListener('abort', entry);
    const transport = this.#current ?? this.#open();
    if (this.#table.queued === 0 && this.#fits(transport, entry.size)) this.#start(transport, entry, now);
    else this.#table.enqueue(entry);
  }

  /** The clock of this tick of sends (read once per tick, see tick-clock.ts). */
  #tickNow(): number {
    this.#now = tickNow();
    return this.#now;
  }

  /** Gives an entry a sync on `transport` and hands its frame to the writer (Perl: `_send`). */
  #start(transport: Transport, entry: Entry, now: number): void {
    // The silence clock starts when we begin to wait for something.
    if (transport.held === 0) transport.lastActivity = now;
    this.#table.add(entry);
    entry.state = SENT;
    entry.transport = transport;
    transport.held++;
    transport.live++;
    if (channels.send.hasSubscribers) {
      channels.send.publish({ connection: this, msg: entry.msg, sync: entry.sync, body: entry.body });
    }
    this.#writer.add(entry);
  }

  /** Moves queued requests into free slots, oldest first, while they fit. */
  #pump(): void {
    const table = this.#table;
    const now = this.#tickNow();
    while (table.queued !== 0) {
      const entry = table.peek();
      if (entry === undefined) break;
      const transport = this.#current ?? this.#open();
      if (!this.#fits(transport, entry.size)) break;
      table.dequeue();
      this.#start(transport, entry, now);
    }
  }

  /** Stops taking requests; lets those in flight and queued settle (at most `closeTimeout` ms), then closes. */
  close(): Promise<void> {
    if (this.#destroyed && this.#current === null && this.#ending.size === 0) return Promise.resolve();
    this.#closing = true;
    const done = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    if (this.#unsettled !== 0 && this.#closeTimer === null) {
      if (this.closeTimeout === 0) this.#closeExpired();
      else {
        this.#closeTimer = setTimeout(() => {
          this.#closeTimer = null;
          this.#closeExpired();
        }, this.closeTimeout);
        this.#closeTimer.unref();
      }
    }
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
    this.#teardown(reason, error);
    for (const transport of this.#ending) transport.destroy();
    this.#ending.clear();
    this.#resolveClose();
  }

  // ---- transport events ---------------------------------------------------------------------

  #open(): Transport {
    if (channels.connecting.hasSubscribers)
      channels.connecting.publish({ connection: this, address: this.address });
    const transport = new Transport(this, this.#target, this);
    this.#current = transport;
    live.add(this);
    return transport;
  }

  /** @internal */
  transportOpened(transport: Transport): void {
    if (transport !== this.#current) {
      transport.destroy();
      return;
    }
    this.#writer.transport = transport;
    if (channels.connect.hasSubscribers)
      channels.connect.publish({ connection: this, address: this.address });
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    if (this.listenerCount('connect') !== 0) this.emit('connect');
    if (this.#current === transport) {
      this.#writer.flush(false);
      if (this.#table.queued !== 0) this.#pump();
    }
  }

  /** @internal Matches a reply (its body is `bytes[start..end)`) to its request, during a read. */
  transportFrame(
    transport: Transport,
    msg: number,
    sync: number,
    bytes: Uint8Array,
    start: number,
    end: number,
  ): void {
    if (channels.frame.hasSubscribers) {
      channels.frame.publish({ connection: this, msg, sync, bytes, start, end });
    }
    const entry = this.#table.get(sync);
    if (entry === undefined || entry.noReply || entry.transport !== transport) {
      // Perl (MR::IProto::Connection::Sync, `recv_all`): "Reply sync N not found" is a connection error.
      this.transportFailed(
        transport,
        new IProtoError('ERR_UNKNOWN_SYNC', `${this.address}: reply sync ${sync} not found (msg ${msg})`, {
          address: this.address,
          msg,
          sync,
        }),
      );
      return;
    }
    this.#table.remove(entry);
    transport.held--;
    if (entry.state === ABANDONED) {
      entry.state = DONE;
      this.#deadlines.untrack(entry);
      return;
    }
    transport.live--;
    this.#settle(entry);
    if (channels.reply.hasSubscribers) {
      const reply = { msg, sync, body: frameBody(bytes, start, end) };
      channels.reply.publish({ connection: this, msg: entry.msg, sync, reply, error: undefined });
    }
    this.#replies.push(entry.handler, msg, sync, bytes, start, end);
  }

  /** @internal A read was decoded: hand its replies over, then let waiting requests in. */
  transportRead(transport: Transport): void {
    this.#now = transport.lastActivity;
    this.#replies.deliver();
    if (transport.state === RETIRED && transport.live === 0) this.#dropTransport(transport);
    if (this.#table.queued !== 0 && !this.#destroyed) this.#pump();
    if (this.#closing) this.#maybeFinishClose();
  }

  /** @internal */
  transportDrained(transport: Transport): void {
    if (transport !== this.#current) return;
    this.#writer.flush(false);
    if (this.#table.queued !== 0) this.#pump();
  }

  /** @internal A socket failed: its requests reject; when it was the open one, the queued ones too. */
  transportFailed(transport: Transport, error: IProtoError): void {
    if (transport.state === CLOSED) return;
    if (transport === this.#current) {
      this.#teardown(error, error, false);
      if (this.#closing) this.#maybeFinishClose();
      return;
    }
    // A retired socket: only the requests still waiting on it.
    this.#retired.delete(transport);
    transport.destroy();
    this.#failOn(transport, error);
    this.#forgetIfIdle();
    if (this.#closing) this.#maybeFinishClose();
  }

  /** @internal */
  transportEnded(transport: Transport): void {
    if (!this.#ending.delete(transport)) return;
    this.#emitClose(undefined);
    if (this.#ending.size === 0) this.#resolveClose();
  }

  // ---- settling ------------------------------------------------------------------------------

  /** Marks a request settled and frees what it holds but its slot; the caller tells its handler. */
  #settle(entry: Entry): void {
    entry.state = DONE;
    this.#deadlines.untrack(entry);
    if (entry.signal !== null) entry.signal.removeEventListener('abort', entry);
    this.#unsettled--;
  }

  /** Settles a request as failed (it leaves the table or queue on its caller's side). */
  #reject(entry: Entry, error: Error): void {
    const wasSent = entry.state === SENT;
    this.#settle(entry);
    if (wasSent && channels.reply.hasSubscribers) {
      channels.reply.publish({ connection: this, msg: entry.msg, sync: entry.sync, reply: undefined, error });
    }
    const handler = entry.handler;
    queueMicrotask(() => handler.onError(error));
  }

  /** NoReply requests are done once their bytes are written (Perl: on drain). */
  #written(batch: Entry[], transport: Transport, error: Error | null | undefined): void {
    if (error || transport.state === CLOSED) return; // the failure path settles them
    for (const entry of batch) {
      if (entry.state !== SENT && entry.state !== ABANDONED) continue;
      this.#table.remove(entry);
      transport.held--;
      if (entry.state === SENT) {
        transport.live--;
        this.#settle(entry);
        if (channels.reply.hasSubscribers) {
          channels.reply.publish({
            connection: this,
            msg: entry.msg,
            sync: entry.sync,
            reply: undefined,
            error: undefined,
          });
        }
        const handler = entry.handler;
        queueMicrotask(() => handler.onReply(undefined));
      } else {
        entry.state = DONE;
        this.#deadlines.untrack(entry);
      }
    }
    if (transport.state === RETIRED && transport.live === 0) this.#dropTransport(transport);
    if (this.#table.queued !== 0) this.#pump();
    if (this.#closing) this.#maybeFinishClose();
  }

  /**
   * Settles a sent request early (deadline or abort) but keeps its sync and slot until its reply comes
   * or one more `timeout` passes, so the late reply is dropped quietly rather than taken for an unknown
   * sync.
   */
  #abandon(entry: Entry, error: Error, now: number): void {
    this.#reject(entry, error);
    entry.state = ABANDONED;
    entry.transport!.live--;
    if (this.#timeout > 0) this.#deadlines.track(entry, now, this.#timeout);
    else this.#release(entry);
  }

  /** Frees an abandoned request's slot. */
  #release(entry: Entry): void {
    this.#table.remove(entry);
    entry.transport!.held--;
    entry.state = DONE;
    this.#deadlines.untrack(entry);
    if (this.#table.queued !== 0) this.#pump();
  }

  /** A request's signal was aborted. */
  #abort(entry: Entry): void {
    const error = this.#abortError(entry.msg, entry.sync || undefined, entry.signal!);
    if (entry.state === QUEUED) {
      this.#reject(entry, error);
      this.#table.forgetQueued();
    } else if (entry.state === SENT) {
      this.#abandon(entry, error, (this.#now = performance.now()));
      const transport = entry.transport!;
      if (transport.state === RETIRED && transport.live === 0) this.#dropTransport(transport);
    }
    if (this.#closing) this.#maybeFinishClose();
  }

  // ---- deadlines -----------------------------------------------------------------------------

  #onTimer(now: number): void {
    this.#now = now;
    if (this.#deadlines.sweep(now)) {
      const victims: Entry[] = [];
      for (const entry of this.#table.queuedEntries()) if (entry.bucket?.expired) victims.push(entry);
      for (const entry of this.#table.values()) if (entry.bucket?.expired) victims.push(entry);
      victims.sort((a, b) => a.deadline - b.deadline);
      for (const entry of victims) {
        // An earlier expiry may have failed the connection and settled the rest.
        if (entry.bucket?.expired) this.#expire(entry, now);
      }
    }
    this.#deadlines.rearm();
  }

  #expire(entry: Entry, now: number): void {
    if (entry.state === ABANDONED) {
      // Its grace is over: forget the sync; a reply arriving later is an unknown sync.
      const transport = entry.transport!;
      this.#release(entry);
      if (transport.state === RETIRED && transport.live === 0) this.#dropTransport(transport);
      if (this.#closing) this.#maybeFinishClose();
      return;
    }
    const queued = entry.state === QUEUED;
    const sync = queued ? undefined : entry.sync;
    const error = new IProtoError(
      'ETIMEDOUT',
      `${this.address}: request timed out after ${entry.timeout} ms ${queued ? 'waiting in the queue' : 'waiting for the reply'}, msg ${entry.msg}` +
        (queued ? '' : ` sync ${sync}`),
      { address: this.address, errno: errnoOf('ETIMEDOUT'), msg: entry.msg, sync },
    );
    if (queued) {
      this.#reject(entry, error);
      this.#table.forgetQueued();
    } else {
      const transport = entry.transport!;
      this.#abandon(entry, error, now);
      // Perl (MR::IProto::Connection::Async, `on_timeout`) kills a handle silent for `timeout` while
      // callbacks wait. We retire it instead: new requests go to a fresh socket, and those still
      // within their own deadlines keep waiting on this one.
      const silence = this.#timeout > 0 ? this.#timeout : entry.timeout;
      if (
        transport === this.#current &&
        transport.state === OPEN &&
        now - transport.lastActivity >= silence
      ) {
        this.#retire(
          transport,
          new IProtoError(
            'ETIMEDOUT',
            `${this.address}: read timed out: nothing received for ${silence} ms while msg ${entry.msg} sync ${sync} waited; socket retired`,
            { address: this.address, errno: errnoOf('ETIMEDOUT') },
          ),
        );
      } else if (transport.state === RETIRED && transport.live === 0) this.#dropTransport(transport);
    }
    if (this.listenerCount('timeout') !== 0) this.emit('timeout', { msg: entry.msg, sync });
    if (channels.timeout.hasSubscribers) channels.timeout.publish({ connection: this, msg: entry.msg, sync });
    if (this.#closing) this.#maybeFinishClose();
  }

  /** Takes a silent socket out of use: it keeps only the requests it has, the next ones go to a new one. */
  #retire(transport: Transport, error: IProtoError): void {
    // Frames gathered for it go with it.
    this.#writer.flush(true);
    this.#writer.transport = null;
    this.#current = null;
    transport.state = RETIRED;
    this.#retired.add(transport);
    this.#reportFailure(error);
    this.#emitClose(error);
    if (transport.live === 0) this.#dropTransport(transport);
    if (this.#table.queued !== 0) this.#pump();
  }

  /** Closes a retired socket whose last live request settled; its abandoned syncs go with it. */
  #dropTransport(transport: Transport): void {
    this.#retired.delete(transport);
    if (channels.closing.hasSubscribers)
      channels.closing.publish({ connection: this, address: this.address });
    transport.destroy();
    this.#failOn(transport, undefined);
    this.#forgetIfIdle();
  }

  /** Takes every request on `transport` out of the table, rejecting the live ones with `error`. */
  #failOn(transport: Transport, error: Error | undefined): void {
    if (transport.held === 0) return;
    for (const entry of this.#table.values()) {
      if (entry.transport !== transport) continue;
      this.#table.remove(entry);
      if (entry.state === SENT && error !== undefined) this.#reject(entry, error);
      else {
        entry.state = DONE;
        this.#deadlines.untrack(entry);
      }
    }
    transport.held = 0;
    transport.live = 0;
  }

  // ---- failure and closing -------------------------------------------------------------------

  /** Perl's `disconnect_all`: drop every socket now; the connection stays usable. */
  #disconnect(): void {
    const error = new IProtoError(
      'ERR_DESTROYED',
      `${this.address}: disconnected by Connection.disconnectAll()`,
      {
        address: this.address,
      },
    );
    this.#teardown(error, undefined);
  }

  /**
   * Closes every socket and rejects every request with `error`. `reported` is the error passed to
   * the `error` and `close` events (undefined for a deliberate close). `all` (the default) takes the
   * retired sockets too; a failure of the open socket leaves them their own requests.
   */
  #teardown(error: Error, reported: Error | undefined, all = true): void {
    const transport = this.#current;
    this.#current = null;
    this.#writer.transport = null;
    this.#writer.discard();
    if (reported !== undefined) this.#reportFailure(reported, transport === null);
    if (transport !== null) {
      if (transport.socket !== null && channels.closing.hasSubscribers) {
        channels.closing.publish({ connection: this, address: this.address });
      }
      transport.destroy();
      this.#failOn(transport, error);
    }
    if (all) {
      for (const retired of this.#retired) {
        retired.destroy();
        this.#failOn(retired, error);
      }
      this.#retired.clear();
    }
    for (const entry of this.#table.drainQueue()) this.#reject(entry, error);
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
    if (this.#table.size === 0) this.#deadlines.stop();
    this.#forgetIfIdle();
    if (transport !== null) this.#emitClose(reported);
  }

  /** Tells the debug log, the `error` event and channel of a socket's failure or retirement. */
  #reportFailure(error: Error, quiet = false): void {
    if (quiet) return;
    if (channels.error.hasSubscribers) channels.error.publish({ connection: this, error });
    // A listener that throws must not stop the teardown it is told about halfway: its error is
    // surfaced as an uncaught exception once the requests are settled and the socket closed.
    if (this.listenerCount('error') !== 0) {
      try {
        this.emit('error', error);
      } catch (thrown) {
        rethrowLater(thrown);
      }
    }
  }

  #forgetIfIdle(): void {
    if (this.#current === null && this.#retired.size === 0) live.delete(this);
  }

  /** `closeTimeout` passed: the requests still waiting fail, and the close goes on. */
  #closeExpired(): void {
    const pending = this.#unsettled;
    if (pending === 0) return;
    const error = new IProtoError(
      'ERR_CONNECTION_CLOSED',
      `${this.address}: connection closed: ${pending} request(s) still in flight after closeTimeout ${this.closeTimeout} ms`,
      { address: this.address },
    );
    for (const entry of this.#table.drainQueue()) this.#reject(entry, error);
    for (const entry of this.#table.values()) {
      if (entry.state === SENT) {
        // Its sync stays until the socket goes, so a late reply is not taken for another's.
        this.#reject(entry, error);
        entry.state = ABANDONED;
        entry.transport!.live--;
      }
    }
    this.#maybeFinishClose();
  }

  #maybeFinishClose(): void {
    if (this.#unsettled !== 0 || this.#destroyed) return;
    if (this.#closeTimer !== null) {
      clearTimeout(this.#closeTimer);
      this.#closeTimer = null;
    }
    for (const retired of [...this.#retired]) this.#dropTransport(retired);
    const transport = this.#current;
    this.#current = null;
    this.#writer.transport = null;
    // Frames of requests that settled without being written (aborted, timed out) stay unsent.
    this.#writer.discard();
    this.#table.clear();
    this.#deadlines.stop();
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const waiter of waiters) waiter.reject(this.#closedError());
    this.#forgetIfIdle();
    if (transport !== null && transport.state !== CLOSED) {
      if (channels.closing.hasSubscribers)
        channels.closing.publish({ connection: this, address: this.address });
      this.#ending.add(transport);
      // Make sure it goes even if the peer never reads our FIN.
      transport.end(this.#timeout || DEFAULT_TIMEOUT);
      return;
    }
    if (this.#ending.size === 0) this.#resolveClose();
  }

  #resolveClose(): void {
    if (this.#ending.size !== 0 && !this.#destroyed) return;
    if (this.#closeTimer !== null) {
      clearTimeout(this.#closeTimer);
      this.#closeTimer = null;
    }
    const waiters = this.#closeWaiters;
    this.#closeWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #emitClose(error: Error | undefined): void {
    if (this.listenerCount('close') !== 0) {
      try {
        this.emit('close', error);
      } catch (thrown) {
        rethrowLater(thrown);
      }
    }
    if (channels.close.hasSubscribers) channels.close.publish({ connection: this, error });
  }

  #abortError(msg: number, sync: number | undefined, signal: AbortSignal): Error {
    return abortReason(
      signal,
      `${this.address}: request aborted, msg ${msg}${sync === undefined ? '' : ` sync ${sync}`}`,
      { address: this.address, msg, sync },
    );
  }

  #closedError(): IProtoError {
    return new IProtoError(
      'ERR_CONNECTION_CLOSED',
      `${this.address}: connection ${this.#destroyed ? 'destroyed' : 'closed'}, no new requests`,
      { address: this.address },
    );
  }

  /** `await using connection = new Connection(...)` closes it (as `close()`) when the scope ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
