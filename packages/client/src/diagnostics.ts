import { channel, tracingChannel } from 'node:diagnostics_channel';
import { debuglog } from 'node:util';

/**
 * Every diagnostics_channel this package publishes on. Each publish sits behind
 * `hasSubscribers`, so an idle channel costs one property read.
 */
export const channels = {
  /** A request starts a try: `{ client, message, msg, try, server }`. */
  send: channel('iproto:client:send'),
  /** A try failed or asked for a retry and another one is scheduled: `{ client, message, try, error?, reply? }`. */
  retry: channel('iproto:client:retry'),
  /** A request settled with a reply: `{ client, message, reply }`. */
  reply: channel('iproto:client:reply'),
  /** A request settled with an error: `{ client, message, error }`. */
  error: channel('iproto:client:error'),
  /** A request waits behind `maxParallel`: `{ client, message, queued }`. */
  queue: channel('iproto:client:queue'),
} as const;

/** The context object of one request on {@link requestTracing}. */
export interface RequestTraceContext {
  readonly client: object;
  readonly message: unknown;
  /** The reply, set before `asyncStart` when the request succeeded. */
  result?: unknown;
  /** The error, set before `error` and `asyncStart` when the request failed. */
  error?: Error;
}

/**
 * A request's whole lifecycle as a `TracingChannel` (as undici and ioredis trace theirs), the
 * channels `tracing:iproto:client:request:{start,end,asyncStart,asyncEnd,error}`, each message
 * the request's {@link RequestTraceContext}: `start` when `send` / `sendBulk` takes it, `end` when
 * that call returns, `error` when it failed, then `asyncStart` and `asyncEnd` around handing the
 * outcome to the caller (retries happen between `end` and `asyncStart`). Published only while the
 * tracing channel has subscribers (Node 20.13 or later).
 */
export const requestTracing = tracingChannel<unknown, RequestTraceContext>('iproto:client:request');

/** `NODE_DEBUG=iproto` also prints each try of a request (the client's debug level 2 line). */
const nodeDebug = debuglog('iproto');
if (nodeDebug.enabled) {
  channels.send.subscribe((message) => {
    const { msg, try: tries } = message as { msg: number; try: number };
    nodeDebug('send msg=%d try %d', msg, tries);
  });
}

/** A traced request's outcome: `error` when it failed, then `asyncStart` (its caller gets it next). */
export function traceOutcome(trace: RequestTraceContext, reply: unknown, error: Error | undefined): void {
  if (error !== undefined) {
    trace.error = error;
    requestTracing.error.publish(trace);
  } else trace.result = reply;
  requestTracing.asyncStart.publish(trace);
}
