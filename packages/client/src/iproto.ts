import { AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { type Balance, Cluster } from '@iproto/cluster';
import {
  abortReason,
  Connection,
  type DispatchHandler,
  type DispatchRequest,
  integerOption,
  invalidOption,
  MAX_TIMEOUT,
  timeoutOption,
} from '@iproto/connection';
import { frameBody } from '@iproto/framing';
import { channels, type RequestTraceContext, requestTracing } from './diagnostics.js';
import { ErrorReply } from './error-reply.js';
import { clientError } from './errors.js';
import { MessageRegistry, type MessagesOption } from './message-registry.js';
import {
  asBuffer,
  type PlainMessage,
  type PlainResult,
  plainBody,
  plainDecoder,
  type ReplyDecoder,
} from './plain-message.js';
import { Request, type RequestClass } from './request.js';
import { Response, type ResponseClass } from './response.js';
import type { TemplateValues } from './template-types.js';
import type { ClusterLike, MessageKey, ReplyFrame, ServerLike } from './types.js';

/** What to do with reply bytes a response class left unparsed. */
export type TrailingDataMode = 'warn' | 'error' | 'ignore';

/** What MR::IProto::BUILDARGS hands down from the client's options to the cluster it builds. */
export interface BuiltClusterOptions {
  /**
   * Balancing of the built cluster: `'round-robin'` (default), `'hash-crc32'` or `'ketama'`, or
   * Perl's constants 1, 2, 3 (MR::IProto::Cluster's RR, HASH, KETAMA).
   */
  balance?: Balance | 1 | 2 | 3;
  /** Read/write timeout of the built cluster's servers, ms (Perl's 2 s by default). */
  timeout?: number;
  connectTimeout?: number;
  tcpNoDelay?: boolean;
  tcpKeepAlive?: boolean;
  dumpNoInts?: boolean;
  /**
   * Ms `close()` lets requests in flight settle before failing them with `ERR_CONNECTION_CLOSED`
   * (the built cluster's connections get it). Default 10000.
   */
  closeTimeout?: number;
  /** Debug level (MR::IProto::Role::Debuggable): 2 logs every try; the servers get it too. */
  debug?: number;
  /** Where debug lines go; default: standard error, as MR::IProto prints them. */
  debugCb?: (line: string) => void;
}

/** The options `servers` builds a cluster with. */
export interface ClusterBuildOptions extends BuiltClusterOptions {
  servers: string | readonly object[];
  [option: string]: unknown;
}

export interface IProtoOptions extends BuiltClusterOptions {
  /** A ready cluster (full control); the client does not close a cluster it was given. */
  cluster?: ClusterLike;
  /** `'host:port[:weight],...'` or server option objects: the client builds (and owns) a cluster. */
  servers?: string | readonly object[];
  /** Further options handed to the built cluster as they are. */
  clusterOptions?: Record<string, unknown>;
  /** Builds the cluster from `servers` (tests hand in a fake); `new Cluster(options)` by default. */
  factory?: (options: ClusterBuildOptions) => ClusterLike;
  /** Response classes (a list or a module namespace): how replies to object requests are decoded. */
  messages?: MessagesOption;
  /**
   * Requests in progress on the whole client, beyond which they queue (default 1000). Each server of
   * a built cluster may have as many in flight, unless `clusterOptions.maxParallel` says otherwise
   * (Perl's MR::IProto::Cluster::Server default is 10).
   */
  maxParallel?: number;
  /** Tries per request, the first one included (default 2). */
  maxRequestRetries?: number;
  /** Delay between tries, ms (default 0). */
  retryDelay?: number;
  /** Reply bytes left unparsed by a response class: `'warn'` (Perl's default), `'error'` or `'ignore'`. */
  trailingData?: TrailingDataMode;
}

/** Options of one `send`. */
export interface SendOptions {
  /** Per-try timeout, ms (the server's timeout by default). */
  timeout?: number;
  /** Aborts the request, wherever it is: queued, in flight, or waiting for a retry. */
  signal?: AbortSignal;
}

/** What a client sends: a request object or a plain message. */
export type Message = Request<any> | PlainMessage<any>;

/**
 * What a plain message resolves to: `[0]` for `noReply`, the tuple a literal `unpack` template
 * reads (`'L w/a*'`: `[number, Buffer]`), what an `unpack` function returns (as an array), else
 * the `T` of a message typed `PlainMessage<T>` (`unknown[]` by default).
 */
export type PlainReply<M> = M extends { noReply: true }
  ? [0]
  : M extends { unpack: infer U }
    ? U extends string
      ? TemplateValues<U>
      : U extends (body: Buffer) => infer R
        ? R extends readonly unknown[]
          ? R
          : [R]
        : unknown[]
    : M extends PlainMessage<infer T>
      ? T
      : unknown[];

/** What a message resolves to: its response for a request object, {@link PlainReply} for a plain one. */
export type ReplyOf<M> = M extends Request<infer Res> ? Res : PlainReply<M>;

/** One `sendBulk` result: a response or an error object for a request object, `{ data, error }` for a plain one. */
export type BulkResult<M> = M extends Request<infer Res> ? Res | ErrorReply<M> : PlainResult<PlainReply<M>>;

/** A retry about to be made: the message, the try it starts, and the error or reply that caused it. */
export interface RetryEvent {
  message: Message;
  try: number;
  error: Error | undefined;
  reply: unknown;
}

/**
 * The client's events and their arguments: `client.on('serverDown', (server, reason) => ...)` is
 * typed, and a misspelt name is a compile error. `serverDown` / `serverUp` come from the cluster;
 * their Perl-style names `'server down'` / `'server up'` are deprecated aliases, emitted too (a
 * listener under either name runs once per event).
 */
export interface IProtoEvents {
  serverDown: [server: ServerLike, reason: unknown];
  serverUp: [server: ServerLike, reason: string];
  /** @deprecated The alias of `serverDown`; listen to `serverDown`. */
  'server down': [server: ServerLike, reason: unknown];
  /** @deprecated The alias of `serverUp`; listen to `serverUp`. */
  'server up': [server: ServerLike, reason: string];
  /** A request is tried again. */
  retry: [event: RetryEvent];
  /** Reply bytes a response class left unparsed (`trailingData: 'warn'`), as an `ERR_TRAILING_DATA` error. */
  warning: [error: Error];
  /** EventEmitter's own: a listener is about to be added. */
  newListener: [event: string | symbol, listener: (...args: any[]) => void];
  /** EventEmitter's own: a listener was removed. */
  removeListener: [event: string | symbol, listener: (...args: any[]) => void];
}

/** The callback form of `send`: called once, with the reply or with the error. */
export type SendCallback<R> = (reply: R | undefined, error: Error | undefined) => void;

type Settle = (reply: unknown, error: Error | undefined) => void;

/**
 * Where a request's outcome goes: a Promise's settlers, or the caller's callback run in the caller's
 * async context (an `AsyncResource`, as undici's handlers are). Written once for send and sendBulk.
 */
class CallbackOutcome extends AsyncResource {
  constructor(readonly callback: Settle) {
    super('IPROTO_REQUEST');
  }
  settle(reply: unknown, error: Error | undefined): void {
    this.runInAsyncScope(this.callback, null, reply, error);
    this.emitDestroy();
  }
}

/**
 * A request in progress: the request every try dispatches (`DispatchRequest`) and the handler of
 * its outcome (`DispatchHandler`), so a try costs no object of its own. Retries wrap nothing: the
 * handler decides whether to try again.
 */
class Task implements DispatchRequest, DispatchHandler {
  readonly message: Message;
  readonly msg: number;
  readonly key: MessageKey | undefined;
  readonly body: Uint8Array;
  readonly noReply: boolean;
  readonly responseClass: ResponseClass | undefined;
  readonly decode: ReplyDecoder | undefined;
  readonly maxTries: number;
  timeout: number | undefined;
  readonly signal: AbortSignal | undefined;
  /**
   * The caller's async context, where the client's events about this request (`retry`, `warning`)
   * run, and where its outcome goes when it is a `CallbackOutcome` (callback mode). For a Promise
   * one is made only when such a listener is attached at send time (a Promise's own reactions
   * already run in the caller's context). One field for both keeps a task, of which 100,000 may
   * wait at once, a word smaller.
   */
  readonly scope: AsyncResource | undefined;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: Error) => void;
  tries = 1;
  /**
   * When it entered the client's queue (only then read): queue time counts against the deadline.
   * Whole ms, rounded up (so the deadline is never shortened): a small integer is stored in the
   * task itself, where a fractional `performance.now()` would box a number per queued task.
   */
  queuedAt = 0;
  server: ServerLike | undefined = undefined;
  state: 'queued' | 'running' | 'done' = 'queued';
  /** Its context on the `iproto:client:request` tracing channel, when that had subscribers at send. */
  trace: RequestTraceContext | undefined = undefined;
  /** Neighbours in the client's queue (doubly linked, so an abort takes a task out in O(1)). */
  next: Task | undefined = undefined;
  prev: Task | undefined = undefined;

  constructor(
    readonly client: IProto,
    message: Message,
    msg: number,
    key: MessageKey | undefined,
    body: Uint8Array,
    noReply: boolean,
    responseClass: ResponseClass | undefined,
    decode: ReplyDecoder | undefined,
    maxTries: number,
    timeout: number | undefined,
    signal: AbortSignal | undefined,
    scope: AsyncResource | undefined,
    resolve: (reply: unknown) => void,
    reject: (error: Error) => void,
  ) {
    this.message = message;
    this.msg = msg;
    this.key = key;
    this.body = body;
    this.noReply = noReply;
    this.responseClass = responseClass;
    this.decode = decode;
    this.maxTries = maxTries;
    this.timeout = timeout;
    this.signal = signal;
    this.scope = scope;
    this.resolve = resolve;
    this.reject = reject;
  }

  /** The request object, for a message that is one (a plain message has none). */
  get request(): Request<any> | undefined {
    return this.responseClass === undefined ? undefined : (this.message as Request<any>);
  }

  /** The `abort` listener of its signal (no closure per request). */
  handleEvent(): void {
    taskAborted(this);
  }

  onReply(frame: ReplyFrame | undefined): void {
    taskReplied(this, frame);
  }

  onReplyBytes(msg: number, sync: number, bytes: Uint8Array, start: number, end: number): void {
    taskRepliedBytes(this, msg, sync, bytes, start, end);
  }

  onError(error: Error): void {
    taskFailed(this, error);
  }
}

/** `IProto#onReply` / `#onError` for a task's try; set by IProto's static block. */
let taskReplied: (task: Task, frame: ReplyFrame | undefined) => void;
let taskRepliedBytes: (
  task: Task,
  msg: number,
  sync: number,
  bytes: Uint8Array,
  start: number,
  end: number,
) => void;
let taskFailed: (task: Task, error: Error) => void;
let taskAborted: (task: Task) => void;

/**
 * A try goes to `server.dispatch`; a server object of the user's that has only a Promise `send`
 * is adapted here, once for all such servers.
 */
function dispatchTo(server: ServerLike, task: Task): void {
  const tries = task.tries;
  try {
    if (typeof server.dispatch === 'function') server.dispatch(task, task);
    else sendTo(server, task, tries);
  } catch (error) {
    // A server object that throws breaks the contract (failures go to the handler); the request
    // still fails through its handler, in a microtask, rather than out of the client.
    queueMicrotask(() => {
      if (task.tries === tries) task.onError(error instanceof Error ? error : new Error(String(error)));
    });
  }
}

/** A server object with only a Promise `send`: adapted here, once per try. */
function sendTo(server: ServerLike, task: Task, tries: number): void {
  server
    .send(task.msg, task.body, { noReply: task.noReply, timeout: task.timeout, signal: task.signal })
    .then(
      (frame) => {
        if (task.tries === tries) task.onReply(frame);
      },
      (error) => {
        if (task.tries === tries) task.onError(error instanceof Error ? error : new Error(String(error)));
      },
    );
}

/**
 * A reply that could not be decoded (its `unpack` template or function, or its response class,
 * threw): `ERR_REPLY_DECODE` saying which server, msg and sync, the decoder's error (a `PackError`
 * for a template) as `cause`.
 */
function decodeError(task: Task, msg: number, sync: number, error: unknown): Error {
  const address = task.server?.address;
  const detail = error instanceof Error ? error.message : String(error);
  return clientError(
    'ERR_REPLY_DECODE',
    `${address === undefined ? '' : `${address}: `}cannot decode the reply, msg ${msg} sync ${sync}: ${detail}`,
    { address, msg, sync, cause: error },
  );
}

/** A traced request's outcome: `error` when it failed, then `asyncStart` (its caller gets it next). */
function traceOutcome(trace: RequestTraceContext, reply: unknown, error: Error | undefined): void {
  if (error !== undefined) {
    trace.error = error;
    requestTracing.error.publish(trace);
  } else trace.result = reply;
  requestTracing.asyncStart.publish(trace);
}

const DEFAULT_MAX_PARALLEL = 1000;

const noop = (): void => {};
// One shared promise executor for send(): no closure per request. `send` reads what it captured
// right after `new Promise` returns.
let capturedResolve: (reply: unknown) => void = noop;
let capturedReject: (error: Error) => void = noop;
function captureSettlers(resolve: (reply: unknown) => void, reject: (error: Error) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}
const DEFAULT_MAX_REQUEST_RETRIES = 2;

function isRequestObject(message: unknown): message is Request<any> {
  return message instanceof Request;
}

function defaultDebug(line: string): void {
  process.stderr.write(`IProto: ${line}\n`);
}

const WHERE = 'IProto';

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  return integerOption(WHERE, name, value, fallback, 1);
}

/** Options the client hands to the cluster it builds, checked here where the caller made them. */
const CLUSTER_OPTIONS = [
  'balance',
  'timeout',
  'connectTimeout',
  'closeTimeout',
  'tcpNoDelay',
  'tcpKeepAlive',
  'dumpNoInts',
  'debug',
  'debugCb',
] as const;

/**
 * The iproto client (MR::IProto): sends messages to a balanced cluster of servers, with retries,
 * a client-wide limit on requests in progress, and message objects or plain messages.
 */
export class IProto extends EventEmitter<IProtoEvents> {
  /** Drops every iproto connection in the process (MR::IProto::disconnect_all), e.g. after fork. */
  static disconnectAll(): void {
    Connection.disconnectAll();
  }

  readonly cluster: ClusterLike;
  readonly maxParallel: number;
  readonly maxRequestRetries: number;
  readonly retryDelay: number;
  readonly trailingData: TrailingDataMode;
  readonly messages: MessageRegistry;
  debug: number;
  /** Where debug lines go (the `debugCb` option). */
  debugCb: (line: string) => void;

  readonly #ownsCluster: boolean;
  readonly #roundRobin: boolean;
  #inProgress = 0;
  #queueHead: Task | undefined;
  #queueTail: Task | undefined;
  #queued = 0;
  /** Requests waiting for a retry, and the timer of each. */
  readonly #delayed = new Map<Task, NodeJS.Timeout>();
  /** Servers each request tried so far; only round-robin retries record them. */
  readonly #tried = new WeakMap<Task, ServerLike[]>();
  #closed = false;
  #destroyed = false;
  #closing: Promise<void> | undefined;
  readonly #forward: Array<[string, (...args: unknown[]) => void]> = [];
  /** A `retry` or `warning` listener is attached: requests then keep their caller's async context. */
  #eventsHeard = false;

  constructor(options: IProtoOptions) {
    super();
    // Kept up to date here rather than asked per request (`listenerCount` twice cost 2.5% of a
    // request at 1024 in flight).
    const heard = (event: string | symbol) => {
      if (event === 'retry' || event === 'warning') {
        this.#eventsHeard = this.listenerCount('retry') !== 0 || this.listenerCount('warning') !== 0;
      }
    };
    this.on('newListener', (event: string | symbol) => {
      if (event === 'retry' || event === 'warning') this.#eventsHeard = true;
    });
    this.on('removeListener', heard);
    if (options === null || typeof options !== 'object') {
      throw invalidOption(WHERE, 'options', 'an object with `servers` or `cluster`', options);
    }
    this.maxParallel = positiveInteger(options.maxParallel, DEFAULT_MAX_PARALLEL, 'maxParallel');
    this.maxRequestRetries = positiveInteger(
      options.maxRequestRetries,
      DEFAULT_MAX_REQUEST_RETRIES,
      'maxRequestRetries',
    );
    this.retryDelay = timeoutOption(WHERE, 'retryDelay', options.retryDelay, 0);
    for (const name of ['timeout', 'connectTimeout', 'closeTimeout'] as const) {
      timeoutOption(WHERE, name, options[name], 0);
    }
    const trailing = options.trailingData ?? 'warn';
    if (trailing !== 'warn' && trailing !== 'error' && trailing !== 'ignore') {
      throw invalidOption(WHERE, 'trailingData', "'warn', 'error' or 'ignore'", trailing);
    }
    this.trailingData = trailing;
    this.messages = new MessageRegistry(options.messages);
    this.debug = options.debug ?? 0;
    this.debugCb = options.debugCb ?? defaultDebug;

    // MR::IProto::BUILDARGS: `servers` builds the cluster and takes the server and cluster options
    // with it; without it, `cluster` is the cluster.
    if (options.servers !== undefined && options.servers !== '') {
      const build: ClusterBuildOptions = { ...options.clusterOptions, servers: options.servers };
      for (const name of CLUSTER_OPTIONS) {
        if (options[name] !== undefined) (build as Record<string, unknown>)[name] = options[name];
      }
      // What the client lets be in progress may be on the wire: a server's own limit follows the
      // client's unless set (MR::IProto::Cluster::Server's 10 is `clusterOptions: { maxParallel: 10 }`).
      if (build.maxParallel === undefined) build.maxParallel = this.maxParallel;
      this.cluster = options.factory
        ? options.factory(build)
        : (new Cluster(build as ConstructorParameters<typeof Cluster>[0]) as unknown as ClusterLike);
      this.#ownsCluster = true;
    } else if (options.cluster) {
      if (typeof options.cluster.server !== 'function') {
        throw invalidOption(WHERE, 'cluster', 'a Cluster (an object with server(key))', options.cluster);
      }
      this.cluster = options.cluster;
      this.#ownsCluster = false;
    } else {
      throw invalidOption(
        WHERE,
        'servers',
        "'host:port[:weight],...' or a list of servers (or give `cluster`)",
        options.servers,
      );
    }
    // Our name or Perl's constant (MR::IProto::Cluster's RR = 1); a cluster without one balances RR.
    const balance = String(this.cluster.balance ?? 'round-robin');
    this.#roundRobin = balance === 'round-robin' || balance === '1';

    // Forwarded under the Node-style name and its deprecated Perl-style alias.
    const forward = (event: 'serverDown' | 'serverUp', alias: 'server down' | 'server up') => {
      const listener = (server: ServerLike, reason: any) => {
        this.emit(event, server, reason);
        this.emit(alias, server, reason);
      };
      this.cluster.on(event, listener);
      this.#forward.push([event, listener as (...args: unknown[]) => void]);
    };
    forward('serverDown', 'server down');
    forward('serverUp', 'server up');
  }

  /** The cluster's timeout (ms): get it (undefined when servers differ) or set it on every server. */
  get timeout(): number | undefined {
    return this.cluster.timeout;
  }

  set timeout(value: number | undefined) {
    this.cluster.timeout = value;
  }

  /** Requests in progress (sent, or waiting for a retry). */
  get inProgress(): number {
    return this.#inProgress;
  }

  /** Requests waiting behind `maxParallel`. */
  get queued(): number {
    return this.#queued;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a message and resolves to its reply: a response object for a request object, the
   * unpacked array for a plain message. The rejection is the error, with its `errno` (the seed's `$!`).
   */
  send<const M extends Message>(message: M, options?: SendOptions): Promise<ReplyOf<M>>;
  /**
   * Sends a message and calls `callback(reply, error)` once. Communication errors never throw: they
   * reach the callback, with an `ErrorReply` as `reply` for a request object.
   */
  send<const M extends Message>(
    message: M,
    callback: SendCallback<ReplyOf<M> | (M extends Request<any> ? ErrorReply<M> : never)>,
    options?: SendOptions,
  ): void;
  send(
    message: Message,
    callbackOrOptions?: SendCallback<any> | SendOptions,
    options?: SendOptions,
  ): Promise<unknown> | undefined {
    if (typeof callbackOrOptions === 'function') {
      const callback = callbackOrOptions;
      const outcome = new CallbackOutcome((reply, error) => {
        try {
          callback(error && isRequestObject(message) ? new ErrorReply(message, error) : reply, error);
        } catch (thrown) {
          // The caller's exception must not vanish into a promise chain nor fail another request.
          process.nextTick(() => {
            throw thrown;
          });
        }
      });
      this.#submit(message, options, outcome);
      return undefined;
    }
    const promise = new Promise(captureSettlers);
    const resolve = capturedResolve;
    const reject = capturedReject;
    capturedResolve = capturedReject = noop;
    this.#submit(message, callbackOrOptions, undefined, resolve, reject);
    return promise;
  }

  /**
   * Sends every message and resolves to all results in request order: a response or an `ErrorReply`
   * for a request object, `{ data, error }` for a plain message. Never rejects for a failed message.
   */
  sendBulk<const M extends readonly Message[]>(
    messages: M,
    options?: SendOptions,
  ): Promise<{ -readonly [K in keyof M]: BulkResult<M[K]> }>;
  sendBulk<const M extends readonly Message[]>(
    messages: M,
    callback: (results: { -readonly [K in keyof M]: BulkResult<M[K]> }) => void,
    options?: SendOptions,
  ): void;
  sendBulk(
    messages: readonly Message[],
    callbackOrOptions?: ((results: any) => void) | SendOptions,
    options?: SendOptions,
  ): Promise<unknown[]> | undefined {
    if (!Array.isArray(messages)) throw new TypeError('sendBulk: messages must be an array');
    const run = (done: (results: unknown[]) => void, sendOptions: SendOptions | undefined) => {
      const results = new Array<unknown>(messages.length);
      let remaining = messages.length;
      if (remaining === 0) {
        queueMicrotask(() => done(results));
        return;
      }
      messages.forEach((message, index) => {
        this.#submit(
          message,
          sendOptions,
          undefined,
          (reply) => {
            results[index] = isRequestObject(message) ? reply : { data: reply, error: undefined };
            if (--remaining === 0) done(results);
          },
          (error) => {
            results[index] = isRequestObject(message)
              ? new ErrorReply(message, error)
              : { data: undefined, error };
            if (--remaining === 0) done(results);
          },
        );
      });
    };
    if (typeof callbackOrOptions === 'function') {
      const callback = callbackOrOptions;
      // The callback runs in the caller's async context, whatever socket the replies came on.
      const outcome = new CallbackOutcome((results) => {
        try {
          callback(results as unknown[]);
        } catch (thrown) {
          process.nextTick(() => {
            throw thrown;
          });
        }
      });
      run((results) => outcome.settle(results, undefined), options);
      return undefined;
    }
    return new Promise((resolve) => run(resolve, callbackOrOptions));
  }

  /**
   * Stops the client: queued requests and requests waiting for a retry fail with
   * `ERR_CLIENT_CLOSED`, and a cluster the client built is closed gracefully (requests in flight
   * get their replies first). A cluster the client was given stays open.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#failWaiting(() => clientError('ERR_CLIENT_CLOSED', 'IProto client is closed'));
    this.#closing = this.#ownsCluster ? this.cluster.close() : Promise.resolve();
    return this.#closing;
  }

  /**
   * Stops the client at once: every request it holds fails with `error` (or `ERR_CLIENT_DESTROYED`),
   * and a cluster the client built is destroyed, failing what is in flight on its connections with
   * the same error and closing every socket. A cluster the client was given is left alone (its
   * requests in flight settle there). `close()` afterwards resolves at once.
   */
  destroy(error?: Error): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    const reason = error ?? clientError('ERR_CLIENT_DESTROYED', 'IProto client destroyed');
    this.#failWaiting(() => reason);
    if (this.#ownsCluster) {
      const cluster = this.cluster as ClusterLike & { destroy?(error?: Error): void };
      if (typeof cluster.destroy === 'function') {
        cluster.destroy(reason);
        this.#closing ??= Promise.resolve();
      } else this.#closing ??= cluster.close();
    }
    this.#closing ??= Promise.resolve();
  }

  /** Marks the client closed and fails the requests waiting in its queue or for a retry. */
  #failWaiting(makeError: () => Error): void {
    this.#closed = true;
    const closedError = makeError;
    let task = this.#queueHead;
    this.#queueHead = this.#queueTail = undefined;
    this.#queued = 0;
    while (task) {
      const next: Task | undefined = task.next;
      task.next = task.prev = undefined;
      this.#finish(task, undefined, closedError());
      task = next;
    }
    for (const task of [...this.#delayed.keys()]) this.#finish(task, undefined, closedError());
    for (const [event, listener] of this.#forward.splice(0)) this.cluster.off(event, listener);
  }

  #submit(
    message: Message,
    options: SendOptions | undefined,
    settle: CallbackOutcome | undefined,
    resolve: (reply: unknown) => void = noop,
    reject: (error: Error) => void = noop,
    trace?: RequestTraceContext,
  ): void {
    if (trace === undefined && requestTracing.hasSubscribers) {
      // Traced: `start` now, `end` when this call returns, the outcome from #finish.
      const context: RequestTraceContext = { client: this, message };
      requestTracing.start.publish(context);
      try {
        this.#submit(message, options, settle, resolve, reject, context);
      } finally {
        requestTracing.end.publish(context);
      }
      return;
    }
    let task: Task;
    try {
      if (this.#closed) throw clientError('ERR_CLIENT_CLOSED', 'IProto client is closed');
      task = this.#prepare(message, options, settle, resolve, reject);
    } catch (error) {
      // MR::IProto::_send reports a message it cannot prepare through the callback, as any error.
      const failure = error instanceof Error ? error : new Error(String(error));
      queueMicrotask(() => {
        if (trace !== undefined) traceOutcome(trace, undefined, failure);
        if (settle === undefined) reject(failure);
        else settle.settle(undefined, failure);
        if (trace !== undefined) requestTracing.asyncEnd.publish(trace);
      });
      return;
    }
    task.trace = trace;
    const { signal } = task;
    if (signal) {
      if (signal.aborted) {
        this.#finish(task, undefined, this.#abortError(task));
        return;
      }
    }
    if (this.#inProgress < this.maxParallel) {
      this.#inProgress++;
      task.state = 'running';
      this.#try(task);
    } else {
      task.queuedAt = Math.ceil(performance.now());
      // One abort listener per request: the client's while the request waits here (or for a
      // retry); once dispatched, the connection's (it passes the abort up as an error).
      signal?.addEventListener('abort', task);
      task.prev = this.#queueTail;
      if (this.#queueTail) this.#queueTail.next = task;
      else this.#queueHead = task;
      this.#queueTail = task;
      this.#queued++;
      if (channels.queue.hasSubscribers)
        channels.queue.publish({ client: this, message, queued: this.#queued });
    }
  }

  /** MR::IProto::_send_now: what to send, and how to read the reply. */
  #prepare(
    message: Message,
    options: SendOptions | undefined,
    settle: CallbackOutcome | undefined,
    resolve: (reply: unknown) => void,
    reject: (error: Error) => void,
  ): Task {
    if (message === null || typeof message !== 'object') {
      throw clientError('ERR_BAD_MESSAGE', 'message must be a Request object or a plain message object');
    }
    let responseClass: ResponseClass | undefined;
    let decode: ReplyDecoder | undefined;
    let msg: number;
    let key: MessageKey | undefined;
    let body: Uint8Array;
    let noReply: boolean;
    let maxTries = this.maxRequestRetries;
    let timeout = options?.timeout;
    let signal = options?.signal;
    if (isRequestObject(message)) {
      msg = message.msg;
      if (!Number.isInteger(msg)) {
        throw clientError(
          'ERR_BAD_MESSAGE',
          `${Object.getPrototypeOf(message).constructor.name}: request class has no numeric static msg`,
        );
      }
      responseClass = this.messages.get(msg) ?? this.#pairedResponse(message);
      if (!responseClass) {
        throw clientError('ERR_UNKNOWN_RESPONSE', `Cannot find response class for message code ${msg}`, {
          msg,
        });
      }
      key = message.key();
      body = message.data;
      noReply = responseClass.noReply === true;
    } else {
      const plain = message as PlainMessage<any>;
      msg = plain.msg;
      if (!Number.isInteger(msg) || msg < 0 || msg > 0xffffffff) {
        throw clientError(
          'ERR_BAD_MESSAGE',
          `message code must be an unsigned 32-bit integer, got ${String(msg)}`,
        );
      }
      noReply = plain.noReply === true;
      // MR::IProto::_send_now dies "unpack or no_reply must be specified".
      if (!plain.unpack && !noReply) {
        throw clientError('ERR_BAD_MESSAGE', `message ${msg}: unpack or noReply must be specified`, { msg });
      }
      if (!noReply) decode = plainDecoder(plain);
      key = plain.key;
      body = plainBody(plain);
      // MR::IProto::_send_try: `$args->{max_request_retries} ||= $self->max_request_retries`.
      if (plain.maxRequestRetries) {
        maxTries = positiveInteger(plain.maxRequestRetries, maxTries, 'maxRequestRetries');
      }
      timeout ??= plain.timeout;
      signal ??= plain.signal;
    }
    if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0 && timeout <= MAX_TIMEOUT))) {
      throw invalidOption(`message ${msg}`, 'timeout', `a number of ms from 0 to ${MAX_TIMEOUT}`, timeout);
    }
    if (signal != null && typeof signal.addEventListener !== 'function') {
      throw invalidOption(`message ${msg}`, 'signal', 'an AbortSignal', signal);
    }
    return new Task(
      this,
      message,
      msg,
      key,
      body,
      noReply,
      responseClass,
      decode,
      maxTries,
      timeout,
      signal,
      settle ?? (this.#eventsHeard ? new AsyncResource('IPROTO_REQUEST') : undefined),
      resolve,
      reject,
    );
  }

  /** Emits an event about `task` in its caller's async context. */
  #emitFor(task: Task, event: 'retry' | 'warning', payload: unknown): void {
    const scope = task.scope;
    const emit = this.emit as (event: string, payload: unknown) => boolean;
    if (scope === undefined) emit.call(this, event, payload);
    else scope.runInAsyncScope(emit, this, event, payload);
  }

  #pairedResponse(request: Request<any>): ResponseClass | undefined {
    const paired = (Object.getPrototypeOf(request).constructor as RequestClass).Response;
    return typeof paired === 'function' && paired.prototype instanceof Response
      ? (paired as ResponseClass)
      : undefined;
  }

  /** MR::IProto::_send_try: balance afresh, send once. */
  #try(task: Task): void {
    if (task.state !== 'running') return;
    let server: ServerLike;
    try {
      server = this.#pickServer(task);
    } catch (error) {
      // Deferred: finishing starts the next queued request, which may fail here too; a microtask
      // per failure keeps a long queue of such requests from growing the stack.
      queueMicrotask(() => this.#finish(task, undefined, error as Error));
      return;
    }
    if (task.server !== undefined && this.#roundRobin) {
      const tried = this.#tried.get(task);
      if (tried === undefined) this.#tried.set(task, [task.server]);
      else tried.push(task.server);
    }
    task.server = server;
    if (this.debug >= 2) this.debugCb(`send msg=${task.msg} try ${task.tries} of ${task.maxTries} total`);
    if (channels.send.hasSubscribers) {
      channels.send.publish({ client: this, message: task.message, msg: task.msg, try: task.tries, server });
    }
    dispatchTo(server, task);
  }

  static {
    // A task has one try outstanding at a time, so its current try is the one reporting.
    taskReplied = (task, frame) => {
      const client = task.client;
      try {
        client.#onReply(task, task.tries, frame);
      } catch (thrown) {
        client.#escaped(task, thrown);
      }
    };
    taskRepliedBytes = (task, msg, sync, bytes, start, end) => {
      const client = task.client;
      try {
        client.#onReplyBytes(task, task.tries, msg, sync, bytes, start, end);
      } catch (thrown) {
        client.#escaped(task, thrown);
      }
    };
    taskAborted = (task) => task.client.#finish(task, undefined, task.client.#abortError(task));
    taskFailed = (task, error) => {
      const client = task.client;
      try {
        client.#onError(task, task.tries, error);
      } catch (thrown) {
        client.#escaped(task, thrown);
      }
    };
  }

  /**
   * A user hook (a `retry` / `warning` listener, `debugCb`, a plain message's `retry` function)
   * threw outside the request's own error handling: the request fails with it if still pending,
   * and it is never left to become an unhandled rejection.
   */
  #escaped(task: Task, thrown: unknown): void {
    if (task.state !== 'done') {
      this.#finish(task, undefined, thrown instanceof Error ? thrown : new Error(String(thrown)));
      return;
    }
    process.nextTick(() => {
      throw thrown;
    });
  }

  /**
   * Each try is balanced afresh. Round-robin leaves out the servers this request already tried, so
   * a retry goes to another server where one is available (MR::IProto::Cluster's pick without
   * replacement aims at the same); hash and ketama pick exactly as MR::IProto::Cluster::server does,
   * so a retry lands where a Perl client's retry would.
   */
  #pickServer(task: Task): ServerLike {
    // The cluster ignores `exclude` when it would leave no server at all.
    if (this.#roundRobin && task.server !== undefined) {
      return this.cluster.server(task.key, { exclude: [...(this.#tried.get(task) ?? []), task.server] });
    }
    return this.cluster.server(task.key);
  }

  /** MR::IProto::_server_callback, error branch. */
  #onError(task: Task, tries: number, error: unknown): void {
    if (task.state !== 'running' || task.tries !== tries) return;
    const failure = error instanceof Error ? error : new Error(String(error));
    if (task.signal?.aborted || this.#closed) {
      // An abort the layer below already reported (with its address and sync) is kept as it is.
      const aborted = task.signal?.aborted && failure.name !== 'AbortError' && failure !== task.signal.reason;
      this.#finish(task, undefined, aborted ? this.#abortError(task) : failure);
      return;
    }
    let retry: boolean;
    try {
      retry = this.#retryAllowed(task);
    } catch (thrown) {
      this.#finish(task, undefined, thrown as Error);
      return;
    }
    if (this.debug >= 2) this.debugCb(`send: failed[${retry ? 1 : 0} ${task.tries + 1} ${task.maxTries}]`);
    if (retry && task.tries < task.maxTries) this.#retry(task, failure, undefined);
    else this.#finish(task, undefined, failure);
  }

  #retryAllowed(task: Task): boolean {
    if (task.request) return task.request.retry() === true;
    const message = task.message as PlainMessage<any>;
    const retry = message.retry;
    // The message is `this`, so a caller can keep a retry budget on it rather than in closures.
    return typeof retry === 'function' ? Boolean(retry.call(message)) : Boolean(retry);
  }

  /** A reply as a frame (or, for a no-reply message, none) from `server.send` or `onReply`. */
  #onReply(task: Task, tries: number, frame: ReplyFrame | undefined): void {
    if (frame !== undefined) {
      this.#onReplyBytes(task, tries, frame.msg, frame.sync, frame.body, 0, frame.body.length);
    } else if (task.noReply) {
      this.#onReplyBytes(task, tries, task.msg, 0, EMPTY, 0, 0);
    } else if (task.state === 'running' && task.tries === tries) {
      this.#finish(task, undefined, new TypeError(`message ${task.msg}: the server gave no reply frame`));
    }
  }

  /** MR::IProto::_server_callback, reply branch; the reply body is `bytes[start..end)`. */
  #onReplyBytes(
    task: Task,
    tries: number,
    msg: number,
    sync: number,
    bytes: Uint8Array,
    start: number,
    end: number,
  ): void {
    if (task.state !== 'running' || task.tries !== tries) return;
    let reply: unknown;
    let again: boolean;
    // True while the reply is being decoded: what throws then is a decode failure, told where.
    let decoding = false;
    try {
      if (!task.noReply && msg !== task.msg) {
        throw clientError(
          'ERR_MSG_MISMATCH',
          `Request and reply message code is different: ${msg} != ${task.msg}`,
          { msg, sync, address: task.server?.address },
        );
      }
      if (task.request) {
        const body = task.noReply ? undefined : asBuffer(frameBody(bytes, start, end));
        decoding = true;
        const response = new task.responseClass!(body, task.request);
        decoding = false;
        this.#checkParsed(task, response, sync);
        reply = response;
        again = response.retry() === true;
      } else {
        decoding = true;
        reply = task.noReply ? [0] : task.decode!.unpackRange(bytes, start, end);
        decoding = false;
        const message = task.message as PlainMessage<any>;
        const isRetry = message.isRetry;
        again = typeof isRetry === 'function' && Boolean(isRetry.call(message, reply as unknown[]));
      }
    } catch (error) {
      this.#finish(
        task,
        undefined,
        decoding
          ? decodeError(task, msg, sync, error)
          : error instanceof Error
            ? error
            : new Error(String(error)),
      );
      return;
    }
    if (again && task.tries < task.maxTries && !this.#closed) this.#retry(task, undefined, reply);
    else this.#finish(task, reply, undefined);
  }

  /** MR::IProto::Response::BUILDARGS warns "Not all data was parsed"; `trailingData` picks warn, fail or ignore. */
  #checkParsed(task: Task, response: Response<any>, sync: number): void {
    const left = response.unparsed;
    if (left === 0 || this.trailingData === 'ignore') return;
    const address = task.server?.address;
    const error = clientError(
      'ERR_TRAILING_DATA',
      `Not all data was parsed: ${left} of ${response.data?.length ?? 0} bytes left by ${
        Object.getPrototypeOf(response).constructor.name
      } (${address === undefined ? '' : `${address}, `}msg ${task.msg} sync ${sync})`,
      { msg: task.msg, sync, address },
    );
    if (this.trailingData === 'error') throw error;
    if (this.listenerCount('warning') > 0) this.#emitFor(task, 'warning', error);
    else process.emitWarning(error.message, { code: 'ERR_TRAILING_DATA' });
  }

  /** MR::IProto::_send_retry: the next try after `retryDelay`. */
  #retry(task: Task, error: Error | undefined, reply: unknown): void {
    task.tries++;
    if (channels.retry.hasSubscribers) {
      channels.retry.publish({ client: this, message: task.message, try: task.tries, error, reply });
    }
    if (this.listenerCount('retry') > 0)
      this.#emitFor(task, 'retry', { message: task.message, try: task.tries, error, reply });
    if (this.retryDelay > 0) {
      task.signal?.addEventListener('abort', task);
      const timer = setTimeout(() => {
        this.#delayed.delete(task);
        task.signal?.removeEventListener('abort', task);
        this.#try(task);
      }, this.retryDelay);
      this.#delayed.set(task, timer);
    } else {
      this.#try(task);
    }
  }

  #abortError(task: Task): Error {
    return abortReason(task.signal!, `message ${task.msg}: request aborted`, { msg: task.msg });
  }

  /** Settles a request once, frees its slot, and starts the next queued one (MR::IProto::_finish_and_start). */
  #finish(task: Task, reply: unknown, error: Error | undefined): void {
    if (task.state === 'done') return;
    const wasRunning = task.state === 'running';
    task.state = 'done';
    // Only a task waiting for a retry has a timer: the map is asked only when one does.
    if (this.#delayed.size !== 0) {
      const timer = this.#delayed.get(task);
      if (timer !== undefined) {
        clearTimeout(timer);
        this.#delayed.delete(task);
      }
    }
    if (task.signal !== undefined) task.signal.removeEventListener('abort', task);
    if (wasRunning) this.#startNext();
    else if (this.#queued > 0) this.#unqueue(task);
    if (error) {
      if (channels.error.hasSubscribers)
        channels.error.publish({ client: this, message: task.message, error });
    } else if (channels.reply.hasSubscribers) {
      channels.reply.publish({ client: this, message: task.message, reply });
    }
    const trace = task.trace;
    if (trace !== undefined) traceOutcome(trace, reply, error);
    const scope = task.scope;
    if (scope instanceof CallbackOutcome) scope.settle(reply, error);
    else if (error) task.reject(error);
    else task.resolve(reply);
    if (trace !== undefined) requestTracing.asyncEnd.publish(trace);
  }

  #startNext(): void {
    const next = this.#queueHead;
    if (next) {
      this.#queueHead = next.next;
      if (this.#queueHead) this.#queueHead.prev = undefined;
      else this.#queueTail = undefined;
      next.next = undefined;
      this.#queued--;
      next.state = 'running';
      next.signal?.removeEventListener('abort', next);
      // The time it waited here counts against its deadline: one deadline per request.
      const timeout = next.timeout ?? this.cluster.timeout;
      if (timeout !== undefined && timeout > 0) {
        const left = Math.ceil(timeout - (performance.now() - next.queuedAt));
        if (left <= 0) {
          const error = clientError(
            'ETIMEDOUT',
            `message ${next.msg}: request timed out after ${timeout} ms waiting in the client's queue`,
            { msg: next.msg },
          );
          queueMicrotask(() => this.#finish(next, undefined, error));
          return;
        }
        next.timeout = left;
      }
      this.#try(next);
    } else {
      this.#inProgress--;
    }
  }

  /**
   * Takes an aborted request out of the queue in O(1): aborting many queued requests newest first
   * must not walk the queue once per abort.
   */
  #unqueue(task: Task): void {
    const { prev, next } = task;
    if (prev) prev.next = next;
    else if (this.#queueHead === task) this.#queueHead = next;
    else return; // not in the queue
    if (next) next.prev = prev;
    else this.#queueTail = prev;
    task.next = task.prev = undefined;
    this.#queued--;
  }

  /** `await using client = new IProto(...)` closes the client (as `close()`) when the scope ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

const EMPTY = new Uint8Array(0);
