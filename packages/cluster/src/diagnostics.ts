import { channel } from 'node:diagnostics_channel';

/**
 * Every `diagnostics_channel` channel of `@iproto/cluster`, named `iproto:cluster:<event>`.
 * Publishers check `hasSubscribers` first, so an unobserved channel costs one property read.
 *
 * Messages (all carry `cluster`, the `Cluster`, and `server`, the `Server`):
 * - `server-down` `{ cluster, server, reason }`: the server was marked inactive.
 * - `server-up`   `{ cluster, server, reason }`: the server was marked active again.
 * - `probe`       `{ cluster, server, error }`: a health probe ended (`error` undefined when it passed).
 */
export const channels = {
  serverDown: channel('iproto:cluster:server-down'),
  serverUp: channel('iproto:cluster:server-up'),
  probe: channel('iproto:cluster:probe'),
} as const;
