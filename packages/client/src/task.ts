// One request of the client on its way: the Task (request, handler and connection entry of every
// try), and how a try reaches a server (its `dispatch`, or a Promise `send` adapted here).
import type { AsyncResource } from 'node:async_hooks';
import { DispatchEntry, type DispatchHandler, ENTRY_QUEUED, ENTRY_SENT } from '@iproto/connection';
import type { ReplyDecoder } from './plain-message.js';
import type { Request } from './request.js';
import type { ResponseClass } from './response.js';
import type { Message } from './send-types.js';
import type { TaskRunner } from './task-runner.js';
import type { MessageKey, ReplyFrame, ServerLike } from './types.js';

/**
 * A request in progress: the request every try dispatches, the handler of its outcome
 * (`DispatchHandler`), and (a `DispatchEntry`) the connection's entry for it, so a request is one
 * object from `send` down to the socket and back. Retries wrap nothing: the handler decides whether
 * to try again. Its `state` is the one state machine of the request: WAITING in the client's queue,
 * IDLE while the client routes it (or it waits for a retry), QUEUED or SENT at a connection, DONE.
 *
 * The fields its constructor sets are `declare`d: defined once, by the assignment, rather than
 * first as undefined by a field definition (a smaller constructor, inlined where a request is
 * prepared).
 */
export class Task extends DispatchEntry implements DispatchHandler {
  declare readonly message: Message;
  declare readonly msg: number;
  declare readonly key: MessageKey | undefined;
  declare readonly body: Uint8Array;
  declare readonly noReply: boolean;
  declare readonly responseClass: ResponseClass | undefined;
  declare readonly decode: ReplyDecoder | undefined;
  declare readonly maxTries: number;
  declare timeout: number | undefined;
  declare readonly signal: AbortSignal | undefined;
  /**
   * The caller's async context, where the client's events about this request (`retry`, `warning`)
   * run, and where its outcome goes when it is a `CallbackOutcome` (callback mode). For a Promise
   * one is made only when such a listener is attached at send time (a Promise's own reactions
   * already run in the caller's context). One field for both keeps a task, of which 100,000 may
   * wait at once, a word smaller.
   */
  declare readonly scope: AsyncResource | undefined;
  declare readonly resolve: (reply: unknown) => void;
  declare readonly reject: (error: Error) => void;
  tries = 1;
  server: ServerLike | undefined = undefined;
  /** Where each try's outcome is reported; private, as the task is handed to user server objects. */
  readonly #runner: TaskRunner;

  constructor(
    runner: TaskRunner,
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
    super();
    this.#runner = runner;
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

  /**
   * The one `abort` listener of its signal (no closure per request): the connection's while the
   * request is at one, else the client's.
   */
  override handleEvent(): void {
    const state = this.state;
    if (state === ENTRY_QUEUED || state === ENTRY_SENT) super.handleEvent();
    else this.#runner.aborted(this);
  }

  onReply(frame: ReplyFrame | undefined): void {
    this.#runner.replied(this, frame);
  }

  onReplyBytes(msg: number, sync: number, bytes: Uint8Array, start: number, end: number): void {
    this.#runner.repliedBytes(this, msg, sync, bytes, start, end);
  }

  onError(error: Error): void {
    this.#runner.failed(this, error);
  }
}

/**
 * A try goes to `server.dispatch`; a server object of the user's that has only a Promise `send`
 * is adapted here, once for all such servers.
 */
export function dispatchTo(server: ServerLike, task: Task): void {
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
