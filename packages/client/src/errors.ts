import { type ClientErrorCode, IProtoError, type IProtoErrorOptions } from '@iproto/connection';

/** An `IProtoError` raised by the client itself (no socket involved, so no errno). */
export function clientError(
  code: ClientErrorCode,
  message: string,
  options?: IProtoErrorOptions,
): IProtoError {
  return new IProtoError(code, message, options);
}
