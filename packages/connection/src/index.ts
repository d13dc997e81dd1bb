export type {
  ConnectionEvents,
  ConnectionOptions,
  ConnectionTarget,
  ReplyHandler,
  SendOptions,
} from './connection.js';
export { Connection } from './connection.js';
export { channels } from './diagnostics.js';
export type { ConnectionErrorCode, IProtoErrorOptions } from './errors.js';
export { IProtoError, isIProtoError } from './errors.js';
