import { channel } from 'node:diagnostics_channel';

/**
 * Every `diagnostics_channel` channel of `@iproto/server`, named `iproto:server:<event>`. Publishers
 * check `hasSubscribers` first, so an unobserved channel costs one property read.
 *
 * Messages:
 * - `accept`     `{ server, connection }`: a client connected.
 * - `request`    `{ server, connection, request }`: a request frame arrived.
 * - `reply`      `{ connection, msg, sync, body }`: a frame was queued for a client (`ServerConnection.send`).
 * - `error`      `{ server, connection, error }`: what the `error` event reports, published whether or
 *                not anyone listens to the event.
 * - `disconnect` `{ server, connection, error }`: a client is gone (`error` undefined after a clean close).
 * - `drop`       `{ server, error }`: a connection was closed on arrival, `maxConnections` being open
 *                (`error` a `ServerError` `ERR_MAX_CONNECTIONS` naming the client).
 * - `debug`      `{ server, connection, line }`: each line of the Perl-style debug log (as given to `debugCb`).
 */
export const channels = {
  accept: channel('iproto:server:accept'),
  request: channel('iproto:server:request'),
  reply: channel('iproto:server:reply'),
  error: channel('iproto:server:error'),
  disconnect: channel('iproto:server:disconnect'),
  drop: channel('iproto:server:drop'),
  debug: channel('iproto:server:debug'),
} as const;
