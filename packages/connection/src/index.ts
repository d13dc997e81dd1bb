export type {
  ConnectionEvents,
  ConnectionOptions,
  ConnectionTarget,
  Dispatcher,
  DispatchHandler,
  DispatchRequest,
  ReplyHandler,
  SendOptions,
} from './connection.js';
export { Connection, formatAddress } from './connection.js';
export { DEFAULT_TIMEOUT } from './connection-options.js';
export { Deadlines } from './deadlines.js';
export { channels } from './diagnostics.js';
export { dispatchPromise } from './dispatch.js';
export {
  DispatchEntry,
  DONE as ENTRY_DONE,
  IDLE as ENTRY_IDLE,
  QUEUED as ENTRY_QUEUED,
  SENT as ENTRY_SENT,
  WAITING as ENTRY_WAITING,
} from './entry.js';
export {
  CLIENT_ERROR_CODES,
  CLUSTER_ERROR_CODES,
  type ClientErrorCode,
  type ClusterErrorCode,
  CONNECTION_ERROR_CODES,
  type ConnectionErrorCode,
  IPROTO_ERROR_CODES,
  type IProtoErrorCode,
  isIProtoErrorCode,
  OS_ERROR_CODES,
  type OsErrorCode,
} from './error-codes.js';
export type { IProtoErrorOptions } from './errors.js';
export { AbortError, abortReason, IProtoError, isIProtoError } from './errors.js';
export {
  booleanOption,
  functionOption,
  integerOption,
  invalidOption,
  MAX_TIMEOUT,
  timeoutOption,
} from './options.js';
export { LiveQueue } from './ring-queue.js';
export { tickNow } from './tick-clock.js';
