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
export { ServerError, type ServerErrorCode, type ServerErrorOptions } from './server-error.js';
