export { channels } from './diagnostics.js';
export {
  type Body,
  type Handler,
  type HandlerResult,
  IProtoServer,
  type IProtoServerOptions,
  type Responder,
  type ServerAddress,
} from './iproto-server.js';
export { type ConnectionHooks, ServerConnection } from './server-connection.js';
export {
  SERVER_ERROR_CODES,
  ServerError,
  type ServerErrorCode,
  type ServerErrorOptions,
} from './server-error.js';
export type { IProtoServerEvents } from './server-events.js';
export {
  DEFAULT_FRAME_TIMEOUT,
  DEFAULT_HANDLER_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_REPLY_BUFFER,
  type ServerLimits,
} from './server-options.js';
