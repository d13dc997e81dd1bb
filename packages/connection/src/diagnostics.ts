import { channel } from 'node:diagnostics_channel';

/**
 * Every `diagnostics_channel` channel of `@iproto/connection`, named `iproto:connection:<event>`.
 * Publishers check `hasSubscribers` first, so an unobserved channel costs one property read.
 *
 * Messages (all carry `connection`, the `Connection`):
 * - `connecting` `{ connection, address }`: a socket is being opened.
 * - `connect`    `{ connection, address }`: the socket is open.
 * - `send`       `{ connection, msg, sync, body }`: a request was handed to the socket (the `sendStarted` hook).
 * - `reply`      `{ connection, msg, sync, reply, error }`: a sent request ended (the `recvFinished` hook):
 *                with its reply frame, with neither (a noReply request written), or with the error.
 * - `timeout`    `{ connection, msg, sync }`: a request passed its deadline.
 * - `error`      `{ connection, error }`: the connection failed; every request on it was rejected.
 * - `close`      `{ connection, error }`: the socket is gone (`error` undefined after a clean close).
 * - `debug`      `{ connection, line }`: each line of the Perl-style debug log (as given to `debugCb`).
 */
export const channels = {
  connecting: channel('iproto:connection:connecting'),
  connect: channel('iproto:connection:connect'),
  send: channel('iproto:connection:send'),
  reply: channel('iproto:connection:reply'),
  timeout: channel('iproto:connection:timeout'),
  error: channel('iproto:connection:error'),
  close: channel('iproto:connection:close'),
  debug: channel('iproto:connection:debug'),
} as const;
