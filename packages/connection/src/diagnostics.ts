import { channel } from 'node:diagnostics_channel';

/**
 * Every `diagnostics_channel` channel of `@iproto/connection`, named `iproto:connection:<event>`.
 * Publishers check `hasSubscribers` first, so an unobserved channel costs one property read. The
 * Perl debug levels, packet dumps and the `sendStarted` / `recvFinished` hooks are one more
 * subscriber of these (debug-log.ts), attached only when a connection asks for them.
 *
 * Messages (all carry `connection`, the `Connection`):
 * - `connecting` `{ connection, address }`: a socket is being opened.
 * - `connect`    `{ connection, address }`: the socket is open.
 * - `send`       `{ connection, msg, sync, body }`: a request was handed to the socket (the `sendStarted` hook).
 * - `frame`      `{ connection, msg, sync, bytes, start, end }`: a frame was read (its body `bytes[start..end)`),
 *                before it is matched to a request: late and unknown replies too.
 * - `reply`      `{ connection, msg, sync, reply, error }`: a sent request ended (the `recvFinished` hook):
 *                with its reply frame, with neither (a noReply request written), or with the error.
 * - `timeout`    `{ connection, msg, sync }`: a request passed its deadline.
 * - `error`      `{ connection, error }`: a socket failed (its requests rejected) or was retired as silent.
 * - `closing`    `{ connection, address }`: we are closing a socket.
 * - `close`      `{ connection, error }`: the socket is gone (`error` undefined after a clean close).
 * - `debug`      `{ connection, line }`: each line of the Perl-style debug log (as given to `debugCb`).
 */
export const channels = {
  connecting: channel('iproto:connection:connecting'),
  connect: channel('iproto:connection:connect'),
  send: channel('iproto:connection:send'),
  frame: channel('iproto:connection:frame'),
  reply: channel('iproto:connection:reply'),
  timeout: channel('iproto:connection:timeout'),
  error: channel('iproto:connection:error'),
  closing: channel('iproto:connection:closing'),
  close: channel('iproto:connection:close'),
  debug: channel('iproto:connection:debug'),
} as const;
