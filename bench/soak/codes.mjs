/** The error codes docs/architecture.md lists for what a send can fail with at run time. */
export const DOCUMENTED_CODES = new Set([
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ECONNCLOSED',
  'ERR_CONNECT_TIMEOUT',
  'ERR_UNKNOWN_SYNC',
  'ERR_FRAME_TOO_LARGE',
  'ERR_QUEUE_FULL',
  'ERR_CONNECTION_CLOSED',
  'ABORT_ERR',
  'ERR_DESTROYED',
  'ERR_NO_SERVERS',
  'ERR_MSG_MISMATCH',
  'ERR_REPLY_DECODE',
  'ERR_CLIENT_CLOSED',
]);
