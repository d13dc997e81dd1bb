import { EventEmitter } from 'node:events';
import { Connection } from '@iproto/connection';
import { CallbackOutcome } from './callback-outcome.js';
import { forwardClusterEvents, type IProtoEvents, watchRequestListeners } from './client-events.js';
import { type IProtoOptions, resolveClientOptions, type TrailingDataMode } from './client-options.js';
import { ErrorReply } from './error-reply.js';
import { clientError } from './errors.js';
import type { MessageRegistry } from './message-registry.js';
import { isRequestObject } from './prepare-task.js';
import type { Request } from './request.js';
import type { BulkResult, Message, ReplyOf, SendCallback, SendOptions } from './send-types.js';
import { TaskRunner } from './task-runner.js';
import type { ClusterLike } from './types.js';

// The constructor's options, where the client's tests have always taken them from.
export type { IProtoOptions } from './client-options.js';

const noop = (): void => {};
// One shared promise executor for send(): no closure per request. `send` reads what it captured
// right after `new Promise` returns.
let capturedResolve: (reply: unknown) => void = noop;
let capturedReject: (error: Error) => void = noop;
function captureSettlers(resolve: (reply: unknown) => void, reject: (error: Error) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

// What the client ties: its options (client-options.ts), its requests' life (task-runner.ts: the
// queue, tries, retries, settling; a Task per request, task.ts, prepared by prepare-task.ts, its
// replies read by task-outcome.ts), and its events (client-events.ts).

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
  readonly #runner: TaskRunner;
  /** Stops forwarding the cluster's server events. */
  readonly #unforward: () => void;
  #destroyed = false;
  #closing: Promise<void> | undefined;

  constructor(options: IProtoOptions) {
    super();
    const o = resolveClientOptions(options);
    this.maxParallel = o.maxParallel;
    this.maxRequestRetries = o.maxRequestRetries;
    this.retryDelay = o.retryDelay;
    this.trailingData = o.trailingData;
    this.messages = o.messages;
    this.debug = o.debug;
    this.debugCb = o.debugCb;
    this.cluster = o.cluster;
    this.#ownsCluster = o.ownsCluster;
    const runner = new TaskRunner(this, o.roundRobin);
    this.#runner = runner;
    watchRequestListeners(this, (heard) => {
      runner.eventsHeard = heard;
    });
    this.#unforward = forwardClusterEvents(this, this.cluster);
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
    return this.#runner.inProgress;
  }

  /** Requests waiting behind `maxParallel`. */
  get queued(): number {
    return this.#runner.queue.length;
  }

  get closed(): boolean {
    return this.#runner.closed;
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
      this.#runner.submit(message, options, outcome);
      return undefined;
    }
    const promise = new Promise(captureSettlers);
    const resolve = capturedResolve;
    const reject = capturedReject;
    capturedResolve = capturedReject = noop;
    this.#runner.submit(message, callbackOrOptions, undefined, resolve, reject);
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
        this.#runner.submit(
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
    this.#stop(() => clientError('ERR_CLIENT_CLOSED', 'IProto client is closed'));
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
    this.#stop(() => reason);
    if (this.#ownsCluster) {
      const cluster = this.cluster as ClusterLike & { destroy?(error?: Error): void };
      if (typeof cluster.destroy === 'function') {
        cluster.destroy(reason);
        this.#closing ??= Promise.resolve();
      } else this.#closing ??= cluster.close();
    }
    this.#closing ??= Promise.resolve();
  }

  /** Marks the client closed, fails what waits in its queue or for a retry, stops the cluster's events. */
  #stop(makeError: () => Error): void {
    this.#runner.failWaiting(makeError);
    this.#unforward();
  }

  /** `await using client = new IProto(...)` closes the client (as `close()`) when the scope ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
