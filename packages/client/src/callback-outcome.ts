import { AsyncResource } from 'node:async_hooks';

/** How a request's outcome is handed over: `(reply, undefined)` or `(undefined, error)`. */
export type Settle = (reply: unknown, error: Error | undefined) => void;

/**
 * Where a request's outcome goes when the caller gave a callback: the callback, run in the caller's
 * async context (an `AsyncResource`, as undici's handlers are). Written once for send and sendBulk;
 * the other outcome is a Promise's settlers, kept on the task.
 */
export class CallbackOutcome extends AsyncResource {
  constructor(readonly callback: Settle) {
    super('IPROTO_REQUEST');
  }
  settle(reply: unknown, error: Error | undefined): void {
    this.runInAsyncScope(this.callback, null, reply, error);
    this.emitDestroy();
  }
}
