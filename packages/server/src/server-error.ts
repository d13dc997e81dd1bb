const BRAND = Symbol.for('iproto.error');

/** Every `code` of a {@link ServerError}. */
export const SERVER_ERROR_CODES = [
  /** A handler threw, rejected, or returned something that is not a body. */
  'ERR_HANDLER_FAILED',
  /** A request arrived for a msg code with no route and no default handler. */
  'ERR_NO_HANDLER',
  /** A client announced a frame larger than `maxFrameSize`; its connection was closed. */
  'ERR_FRAME_TOO_LARGE',
  /** A client started a frame and did not finish it within `frameTimeout`; its connection was closed. */
  'ERR_FRAME_TIMEOUT',
  /** A client sent nothing for `idleTimeout` with no request in progress; its connection was closed. */
  'ERR_IDLE_TIMEOUT',
  /** A client left more than `maxReplyBuffer` bytes of replies unread; its connection was closed. */
  'ERR_REPLY_BUFFER_FULL',
  /** A handler did not answer within `handlerTimeout`; the request gets no reply. */
  'ERR_HANDLER_TIMEOUT',
  /** A connection arrived with `maxConnections` open; it was closed at once (the `drop` event). */
  'ERR_MAX_CONNECTIONS',
] as const;

/** Stable codes of {@link ServerError}: one of {@link SERVER_ERROR_CODES}. */
export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];

/** What a `ServerError` carries besides its code and message: the client and request it concerns. */
export interface ServerErrorOptions {
  cause?: unknown;
  /** `host:port` of the client the error concerns. */
  address?: string;
  msg?: number;
  sync?: number;
}

/**
 * What `IProtoServer` reports through its `error` event when a request cannot be answered. Socket
 * errors (`ECONNRESET`, ...) are reported as the `Error` Node raised, unchanged.
 */
export class ServerError extends Error {
  override readonly name = 'ServerError' as const;
  readonly code: ServerErrorCode;
  readonly address?: string;
  readonly msg?: number;
  readonly sync?: number;

  constructor(code: ServerErrorCode, message: string, options: ServerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.address !== undefined) this.address = options.address;
    if (options.msg !== undefined) this.msg = options.msg;
    if (options.sync !== undefined) this.sync = options.sync;
  }
}

Object.defineProperty(ServerError.prototype, BRAND, { value: true });
