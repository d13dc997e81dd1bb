import { IProtoError, type IProtoErrorOptions } from '@iproto/connection';

/** The codes this package adds to `IProtoError`'s. */
export type ClientErrorCode =
  | 'ERR_MSG_MISMATCH'
  | 'ERR_UNKNOWN_RESPONSE'
  | 'ERR_BAD_MESSAGE'
  | 'ERR_TRAILING_DATA'
  /** A reply's `unpack` (or its response class) threw: `address`, `msg`, `sync` say which; the error is `cause`. */
  | 'ERR_REPLY_DECODE'
  | 'ERR_CLIENT_CLOSED'
  | 'ERR_CLIENT_DESTROYED'
  | 'ETIMEDOUT'
  | 'ABORT_ERR';

/** An `IProtoError` raised by the client itself (no socket involved, so no errno). */
export function clientError(
  code: ClientErrorCode,
  message: string,
  options?: IProtoErrorOptions,
): IProtoError {
  return new IProtoError(code, message, options);
}
