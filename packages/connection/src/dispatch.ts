import type { Frame } from '@iproto/framing';

/**
 * One request as every layer hands it down (`Connection`, a cluster `Server`, a `Cluster`, the
 * client): what to send and the per-request options. A caller may pass any object with these
 * fields (the client passes its own request state), so no copy is made on the way down.
 */
export interface DispatchRequest {
  readonly msg: number;
  readonly body?: Uint8Array | undefined;
  /** The message has no reply: the handler's `onReply(undefined)` comes once the frame is written. */
  readonly noReply?: boolean | undefined;
  /** This request's deadline in ms, queue time included; 0 for none. Default: the connection's. */
  readonly timeout?: number | undefined;
  /** Aborting fails the request with the signal's reason (see `abortReason`); a late reply is dropped. */
  readonly signal?: AbortSignal | null | undefined;
}

/**
 * Receives the outcome of one dispatched request: exactly one of `onReply` / `onError`, once, and
 * never from inside the `dispatch` call itself.
 */
export interface DispatchHandler {
  /** The reply frame, or `undefined` for a `noReply` request once written. */
  onReply(frame: Frame | undefined): void;
  /** The request failed with `error` (an `IProtoError` with a stable `code`). */
  onError(error: Error): void;
  /**
   * Optional, and called instead of `onReply` for a reply when present: the reply with no `Frame`
   * object or body view made, its body being `bytes[start..end)` (a range of the socket read, valid
   * for as long as the handler keeps `bytes`). `frameBody(bytes, start, end)` makes the view.
   */
  onReplyBytes?(msg: number, sync: number, bytes: Uint8Array, start: number, end: number): void;
}

/** The one contract of every layer of the request path (as undici's `Dispatcher#dispatch`). */
export interface Dispatcher {
  /** Sends `request`; its outcome goes to `handler`, exactly once. */
  dispatch(request: DispatchRequest, handler: DispatchHandler): void;
}

/** The former name of `DispatchHandler` (what `Connection#sendTo` takes). */
export type ReplyHandler = DispatchHandler;

/** Options of a `send` call at any layer. */
export interface SendOptions {
  /** The message has no reply: the promise resolves (to undefined) once the frame is written. */
  noReply?: boolean;
  /** This request's deadline in milliseconds, queue time included. Default: the connection's `timeout`. */
  timeout?: number;
  /**
   * Aborting rejects the request with the signal's `reason` when it is an `Error` (for
   * `controller.abort()`, a `DOMException` named `'AbortError'`), otherwise with an `AbortError`
   * (`code` `'ABORT_ERR'`) carrying it as `cause`. A late reply is dropped.
   */
  signal?: AbortSignal;
}

const noop = (): void => {};
const EMPTY = new Uint8Array(0);

/**
 * The Promise façade of `dispatch`, written once for every layer: one object is both the request
 * and its handler, and the promise's settlers are captured by a shared executor (no closure per
 * request).
 */
class PromiseRequest implements DispatchRequest, DispatchHandler {
  resolve: (frame: any) => void = noop;
  reject: (error: unknown) => void = noop;
  constructor(
    readonly msg: number,
    readonly body: Uint8Array,
    readonly noReply: boolean,
    readonly timeout: number | undefined,
    readonly signal: AbortSignal | undefined,
  ) {}
  onReply(frame: Frame | undefined): void {
    this.resolve(frame);
  }
  onError(error: Error): void {
    this.reject(error);
  }
}

let capturing: PromiseRequest | null = null;
function capture(resolve: (value: any) => void, reject: (error: unknown) => void): void {
  capturing!.resolve = resolve;
  capturing!.reject = reject;
}

/**
 * `dispatcher.dispatch` as a Promise: resolves to the reply frame (or undefined for `noReply`),
 * rejects with the error. What each layer's `send` is.
 */
export function dispatchPromise(
  dispatcher: Dispatcher,
  msg: number,
  body: Uint8Array | undefined,
  options: SendOptions | undefined,
): Promise<Frame | undefined> {
  const request =
    options === undefined
      ? new PromiseRequest(msg, body ?? EMPTY, false, undefined, undefined)
      : new PromiseRequest(msg, body ?? EMPTY, options.noReply === true, options.timeout, options.signal);
  capturing = request;
  const promise = new Promise<Frame | undefined>(capture);
  capturing = null;
  dispatcher.dispatch(request, request);
  return promise;
}
