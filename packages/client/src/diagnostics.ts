import { channel } from 'node:diagnostics_channel';

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
