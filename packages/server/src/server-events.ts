import type { Frame } from '@iproto/framing';
import type { ServerConnection } from './server-connection.js';
import type { ServerError } from './server-error.js';

/**
 * The events an `IProtoServer` emits, with their arguments: `server.on(name, listener)` checks the
 * name and types the listener's arguments. (`server.on(msg, handler)` with a number routes requests
 * instead; it is no event.)
 */
export interface IProtoServerEvents {
  /** A client connected. */
  accept: [connection: ServerConnection];
  /** A client's connection closed; `error` says why when it failed or a limit closed it. */
  disconnect: [connection: ServerConnection, error?: Error];
  /**
   * A request could not be answered (a `ServerError`), or a socket failed (Node's `Error`,
   * unchanged); emitted only when someone listens, so it never throws.
   */
  error: [error: Error, connection?: ServerConnection];
  /** A request frame arrived (emitted only while someone listens). */
  request: [request: Frame, connection: ServerConnection];
  /** A connection was closed on arrival because `maxConnections` were open (`ERR_MAX_CONNECTIONS`). */
  drop: [error: ServerError];
  /** `close()` finished: the server listens no more and every connection is gone. */
  close: [];
}
