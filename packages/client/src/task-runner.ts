// The life of a client's requests, from `send` to settling (MR::IProto::_send, _send_try,
// _server_callback, _send_retry, _finish_and_start): admitting each under `maxParallel` or queueing
// it, trying it on a server picked afresh, acting on what comes back (settle or retry), and
// starting the next queued one when it settles.
import {
  abortReason,
  DEFAULT_TIMEOUT,
  Deadlines,
  ENTRY_DONE,
  ENTRY_IDLE,
  ENTRY_WAITING,
  LiveQueue,
  tickNow,
} from '@iproto/connection';
import { CallbackOutcome } from './callback-outcome.js';
import { emitFor } from './client-events.js';
import { channels, type RequestTraceContext, requestTracing, traceOutcome } from './diagnostics.js';
import { clientError } from './errors.js';
import type { IProto } from './iproto.js';
import { prepareTask } from './prepare-task.js';
import type { Response } from './response.js';
import type { Message, SendOptions } from './send-types.js';
import { dispatchTo, type Task } from './task.js';
import { errorAllowsRetry, readReply, replyAsksRetry, trailingDataError } from './task-outcome.js';
import type { ReplyFrame, ServerLike } from './types.js';

const EMPTY = new Uint8Array(0);
const noop = (): void => {};
const isWaiting = (task: Task): boolean => task.state === ENTRY_WAITING;

/**
 * Runs one client's requests: the one owner of their state on the client's side (the slots in
 * progress, the queue, the retry timers, the servers each tried). A `Task` reports each try's
 * outcome here (`replied`, `repliedBytes`, `failed`, `aborted`); settings and events are the client's.
 */
export class TaskRunner {
  /** Requests in progress (sent, or waiting for a retry). */
  inProgress = 0;
  /**
   * Requests waiting behind `maxParallel`, oldest first: the same queue as a connection's, where a
   * request that settles while it waits leaves the count at once and the ring later. A task waits
   * here exactly while its state is WAITING.
   */
  readonly queue = new LiveQueue<Task>(isWaiting);
  /**
   * The deadlines of the requests in the queue, on one timer, as a connection keeps those of its
   * requests: a request that waits here past its deadline fails then, not when a slot frees. A
   * waiting task's `bucket` is its deadline here; a connection gives it another once it is sent.
   */
  readonly #deadlines = new Deadlines((now) => this.#expireWaiting(now));
  /**
   * The queued requests that have a deadline, one FIFO per timeout value: within one, deadlines
   * fall due in the order the requests were queued, so a timer run finds those due at the fronts
   * and costs only what falls due (not the whole queue).
   */
  readonly #dueOrder = new Map<number, LiveQueue<Task>>();
  /** No new requests: `close()` or `destroy()` was called. */
  closed = false;
  /** A `retry` or `warning` listener is attached: requests then keep their caller's async context. */
  eventsHeard = false;
  /** Requests waiting for a retry, and the timer of each. */
  readonly #delayed = new Map<Task, NodeJS.Timeout>();
  /** The tracing context of each request traced (`iproto:client:request` had subscribers at send). */
  readonly #traced = new Map<Task, RequestTraceContext>();
  /** Servers each request tried so far; only round-robin retries record them. */
  readonly #tried = new WeakMap<Task, ServerLike[]>();

  constructor(
    readonly client: IProto,
    /** The cluster balances round-robin: a retry leaves out the servers already tried. */
    readonly roundRobin: boolean,
  ) {}

  /** Takes a request: tries it now if a slot is free, else queues it; its outcome goes to `settle` or `resolve` / `reject`. */
  submit(
    message: Message,
    options: SendOptions | undefined,
    settle: CallbackOutcome | undefined,
    resolve: (reply: unknown) => void = noop,
    reject: (error: Error) => void = noop,
    trace?: RequestTraceContext,
  ): void {
    if (trace === undefined && requestTracing.hasSubscribers) {
      // Traced: `start` now, `end` when this call returns, the outcome from #finish.
      const context: RequestTraceContext = { client: this.client, message };
      requestTracing.start.publish(context);
      try {
        this.submit(message, options, settle, resolve, reject, context);
      } finally {
        requestTracing.end.publish(context);
      }
      return;
    }
    let task: Task;
    try {
      if (this.closed) throw clientError('ERR_CLIENT_CLOSED', 'IProto client is closed');
      task = prepareTask(this, message, options, settle, resolve, reject);
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
    if (trace !== undefined) this.#traced.set(task, trace);
    const { signal } = task;
    if (signal) {
      if (signal.aborted) {
        // Deferred, as any failure before sending: a callback never runs inside `send()`, and a
        // traced request's `end` comes before its outcome.
        // It never took a slot nor a place in the queue: it settles without freeing either.
        const error = this.#abortError(task);
        task.state = ENTRY_DONE;
        queueMicrotask(() => this.#report(task, undefined, error));
        return;
      }
    }
    if (this.inProgress < this.client.maxParallel) {
      this.inProgress++;
      this.#try(task);
    } else {
      task.state = ENTRY_WAITING;
      const timeout = this.#deadlineOf(task);
      if (timeout !== undefined && timeout > 0) this.#trackWaiting(task, timeout);
      // One abort listener per request: the client's while the request waits here (or for a
      // retry); once dispatched, the connection's (it passes the abort up as an error).
      signal?.addEventListener('abort', task);
      this.queue.push(task);
      if (channels.queue.hasSubscribers)
        channels.queue.publish({ client: this.client, message, queued: this.queue.length });
    }
  }

  // ---- a try's outcome, as its Task reports it (a task has one try outstanding at a time, so its
  // current try is the one reporting) --------------------------------------------------------------

  replied(task: Task, frame: ReplyFrame | undefined): void {
    try {
      this.#onReply(task, task.tries, frame);
    } catch (thrown) {
      this.#escaped(task, thrown);
    }
  }

  repliedBytes(task: Task, msg: number, sync: number, bytes: Uint8Array, start: number, end: number): void {
    try {
      this.#onReplyBytes(task, task.tries, msg, sync, bytes, start, end);
    } catch (thrown) {
      this.#escaped(task, thrown);
    }
  }

  failed(task: Task, error: Error): void {
    try {
      this.#onError(task, task.tries, error);
    } catch (thrown) {
      this.#escaped(task, thrown);
    }
  }

  aborted(task: Task): void {
    this.#finish(task, undefined, this.#abortError(task));
  }

  /** Marks the client closed and fails the requests waiting in its queue or for a retry. */
  failWaiting(makeError: () => Error): void {
    this.closed = true;
    for (const task of this.queue.drain()) this.#finish(task, undefined, makeError());
    for (const task of [...this.#delayed.keys()]) this.#finish(task, undefined, makeError());
    this.#deadlines.stop();
  }

  /**
   * The deadline (ms) of a request from the moment it is sent: its own timeout, else its servers'
   * (their common one, or the connection's default when none has one). Undefined when the servers'
   * timeouts differ, or a server does not say: then only the server picked knows it.
   */
  #deadlineOf(task: Task): number | undefined {
    if (task.timeout !== undefined) return task.timeout;
    const cluster = this.client.cluster;
    const common = cluster.timeout;
    if (common !== undefined) return common;
    // A server that has no `timeout` at all (a user's own object) has a deadline we cannot know.
    return cluster.servers.every((server) => 'timeout' in server && server.timeout === undefined)
      ? DEFAULT_TIMEOUT
      : undefined;
  }

  /** Times a request entering the queue. */
  #trackWaiting(task: Task, timeout: number): void {
    this.#deadlines.track(task, tickNow(), timeout);
    let due = this.#dueOrder.get(timeout);
    if (due === undefined) {
      due = new LiveQueue<Task>(isWaiting);
      this.#dueOrder.set(timeout, due);
    }
    due.push(task);
  }

  /** Stops timing a request that has just left the queue (its state is no longer WAITING). */
  #untrackWaiting(task: Task): void {
    const bucket = task.bucket;
    if (bucket === null) return;
    this.#deadlines.untrack(task);
    const due = this.#dueOrder.get(bucket.timeout)!;
    due.forget();
    if (due.length === 0) this.#dueOrder.delete(bucket.timeout);
  }

  /** The queue's timer: requests whose deadline passed while they waited fail now. */
  #expireWaiting(now: number): void {
    this.#deadlines.sweep(now);
    for (const due of this.#dueOrder.values()) {
      // Settling one runs its callback, which may settle others (abort, destroy): each is taken
      // from the front afresh.
      let task = due.peek();
      while (task !== undefined && task.bucket !== null && task.bucket.deadline <= now) {
        this.#finish(task, undefined, this.#queueTimeoutError(task, task.bucket.timeout));
        task = due.peek();
      }
    }
    if (!this.closed) this.#deadlines.rearm();
  }

  #queueTimeoutError(task: Task, timeout: number): Error {
    return clientError(
      'ETIMEDOUT',
      `message ${task.msg}: request timed out after ${timeout} ms waiting in the client's queue`,
      { msg: task.msg },
    );
  }

  /** MR::IProto::_send_try: balance afresh, send once. */
  #try(task: Task): void {
    if (task.state !== ENTRY_IDLE) return;
    let server: ServerLike;
    try {
      server = this.#pickServer(task);
    } catch (error) {
      // Deferred: finishing starts the next queued request, which may fail here too; a microtask
      // per failure keeps a long queue of such requests from growing the stack.
      queueMicrotask(() => this.#finish(task, undefined, error as Error));
      return;
    }
    if (task.server !== undefined && this.roundRobin) {
      const tried = this.#tried.get(task);
      if (tried === undefined) this.#tried.set(task, [task.server]);
      else tried.push(task.server);
    }
    task.server = server;
    const client = this.client;
    if (client.debug >= 2) {
      try {
        client.debugCb(`send msg=${task.msg} try ${task.tries} of ${task.maxTries} total`);
      } catch (thrown) {
        // The request fails with it, after `send()` returns, and its slot goes to the next one.
        queueMicrotask(() => this.#escaped(task, thrown));
        return;
      }
    }
    if (channels.send.hasSubscribers) {
      channels.send.publish({ client, message: task.message, msg: task.msg, try: task.tries, server });
    }
    dispatchTo(server, task);
  }

  /**
   * A user hook (a `retry` / `warning` listener, `debugCb`, a plain message's `retry` function)
   * threw outside the request's own error handling: the request fails with it if still pending,
   * and it is never left to become an unhandled rejection.
   */
  #escaped(task: Task, thrown: unknown): void {
    if (task.state !== ENTRY_DONE) {
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
    if (this.roundRobin && task.server !== undefined) {
      return this.client.cluster.server(task.key, {
        exclude: [...(this.#tried.get(task) ?? []), task.server],
      });
    }
    return this.client.cluster.server(task.key);
  }

  /** MR::IProto::_server_callback, error branch. */
  #onError(task: Task, tries: number, error: unknown): void {
    if (task.state !== ENTRY_IDLE || task.tries !== tries) return;
    const failure = error instanceof Error ? error : new Error(String(error));
    if (task.signal?.aborted || this.closed) {
      // An abort the layer below already reported (with its address and sync) is kept as it is.
      const aborted = task.signal?.aborted && failure.name !== 'AbortError' && failure !== task.signal.reason;
      this.#finish(task, undefined, aborted ? this.#abortError(task) : failure);
      return;
    }
    let retry: boolean;
    try {
      retry = errorAllowsRetry(task);
    } catch (thrown) {
      this.#finish(task, undefined, thrown as Error);
      return;
    }
    const client = this.client;
    if (client.debug >= 2) {
      try {
        client.debugCb(`send: failed[${retry ? 1 : 0} ${task.tries + 1} ${task.maxTries}]`);
      } catch (thrown) {
        this.#escaped(task, thrown);
        return;
      }
    }
    if (retry && task.tries < task.maxTries) this.#retry(task, failure, undefined);
    else this.#finish(task, undefined, failure);
  }

  /** A reply as a frame (or, for a no-reply message, none) from `server.send` or `onReply`. */
  #onReply(task: Task, tries: number, frame: ReplyFrame | undefined): void {
    if (frame !== undefined) {
      this.#onReplyBytes(task, tries, frame.msg, frame.sync, frame.body, 0, frame.body.length);
    } else if (task.noReply) {
      this.#onReplyBytes(task, tries, task.msg, 0, EMPTY, 0, 0);
    } else if (task.state === ENTRY_IDLE && task.tries === tries) {
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
    if (task.state !== ENTRY_IDLE || task.tries !== tries) return;
    let reply: unknown;
    let again: boolean;
    try {
      reply = readReply(task, msg, sync, bytes, start, end);
      if (task.request) this.#checkParsed(task, reply as Response<any>, sync);
      again = replyAsksRetry(task, reply);
    } catch (error) {
      this.#finish(task, undefined, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (again && task.tries < task.maxTries && !this.closed) this.#retry(task, undefined, reply);
    else this.#finish(task, reply, undefined);
  }

  /** Bytes a response left unparsed: a warning, an error or nothing, as `trailingData` says. */
  #checkParsed(task: Task, response: Response<any>, sync: number): void {
    const left = response.unparsed;
    const client = this.client;
    if (left === 0 || client.trailingData === 'ignore') return;
    const error = trailingDataError(task, response, left, sync);
    if (client.trailingData === 'error') throw error;
    if (client.listenerCount('warning') > 0) emitFor(client, task, 'warning', error);
    else process.emitWarning(error.message, { code: 'ERR_TRAILING_DATA' });
  }

  /** MR::IProto::_send_retry: the next try after `retryDelay`. */
  #retry(task: Task, error: Error | undefined, reply: unknown): void {
    task.tries++;
    const client = this.client;
    if (channels.retry.hasSubscribers) {
      channels.retry.publish({ client, message: task.message, try: task.tries, error, reply });
    }
    if (client.listenerCount('retry') > 0)
      emitFor(client, task, 'retry', { message: task.message, try: task.tries, error, reply });
    if (task.signal?.aborted) {
      // Aborted meanwhile (a `retry` listener may do it): no listener would hear it now.
      this.#finish(task, undefined, this.#abortError(task));
      return;
    }
    if (client.retryDelay > 0) {
      task.signal?.addEventListener('abort', task);
      const timer = setTimeout(() => {
        this.#delayed.delete(task);
        task.signal?.removeEventListener('abort', task);
        this.#try(task);
      }, client.retryDelay);
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
    if (task.state === ENTRY_DONE) return;
    // Never while at a connection: it hands a request back (IDLE) before reporting on it.
    const wasRunning = task.state !== ENTRY_WAITING;
    task.state = ENTRY_DONE;
    // Only a task waiting for a retry has a timer: the map is asked only when one does.
    if (this.#delayed.size !== 0) {
      const timer = this.#delayed.get(task);
      if (timer !== undefined) {
        clearTimeout(timer);
        this.#delayed.delete(task);
      }
    }
    if (task.signal !== undefined) task.signal.removeEventListener('abort', task);
    // A waiting task's bucket is the queue's (at a connection it was the connection's, given back).
    if (!wasRunning) this.#untrackWaiting(task);
    if (wasRunning) this.#startNext();
    else if (this.queue.length > 0) this.queue.forget(); // none after a drain (close)
    this.#report(task, reply, error);
  }

  /** Tells the channels, the tracing and the caller how a request settled. */
  #report(task: Task, reply: unknown, error: Error | undefined): void {
    if (error) {
      if (channels.error.hasSubscribers)
        channels.error.publish({ client: this.client, message: task.message, error });
    } else if (channels.reply.hasSubscribers) {
      channels.reply.publish({ client: this.client, message: task.message, reply });
    }
    // Traced requests are few (only while the channel has subscribers): a map, not a field of every task.
    const trace = this.#traced.size === 0 ? undefined : this.#traced.get(task);
    if (trace !== undefined) {
      this.#traced.delete(task);
      traceOutcome(trace, reply, error);
    }
    const scope = task.scope;
    if (scope instanceof CallbackOutcome) scope.settle(reply, error);
    else if (error) task.reject(error);
    else task.resolve(reply);
    if (trace !== undefined) requestTracing.asyncEnd.publish(trace);
  }

  /** A slot freed: the oldest queued request takes it, with what is left of its deadline. */
  #startNext(): void {
    const next = this.queue.shift();
    if (next) {
      next.state = ENTRY_IDLE;
      next.signal?.removeEventListener('abort', next);
      const bucket = next.bucket;
      if (bucket !== null) {
        // The time it waited here counts against its deadline: one deadline per request.
        this.#untrackWaiting(next);
        const left = Math.ceil(bucket.deadline - tickNow());
        if (left <= 0) {
          // Due, but the timer has not fired yet.
          const error = this.#queueTimeoutError(next, bucket.timeout);
          queueMicrotask(() => this.#finish(next, undefined, error));
          return;
        }
        // Whole ms, rounded up; never more than the timeout itself (the longest one allowed would
        // then be refused).
        next.timeout = Math.min(left, bucket.timeout);
      }
      this.#try(next);
    } else {
      this.inProgress--;
    }
  }
}
