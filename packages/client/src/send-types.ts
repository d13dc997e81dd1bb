// What `send` and `sendBulk` take and give: the messages, the per-send options, and the reply
// types each kind of message resolves to.
import type { ErrorReply } from './error-reply.js';
import type { PlainMessage, PlainResult } from './plain-message.js';
import type { Request } from './request.js';
import type { TemplateValues } from './template-types.js';

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
/** The callback form of `send`: called once, with the reply or with the error. */
export type SendCallback<R> = (reply: R | undefined, error: Error | undefined) => void;
