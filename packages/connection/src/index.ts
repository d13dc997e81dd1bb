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
export { channels } from './diagnostics.js';
export { dispatchPromise } from './dispatch.js';
export type { ConnectionErrorCode, IProtoErrorOptions } from './errors.js';
export { AbortError, abortReason, IProtoError, isIProtoError } from './errors.js';
export {
  booleanOption,
  functionOption,
  integerOption,
  invalidOption,
  MAX_TIMEOUT,
  timeoutOption,
} from './options.js';
