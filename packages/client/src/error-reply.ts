import type { Request } from './request.js';

/**
 * What a failed object request yields in callback mode and in `sendBulk` (MR::IProto::Error): the
 * request, the error, and its numeric errno (the seed's `$!`, 0 when there is none).
 */
export class ErrorReply<Req extends Request<any> = Request<any>> {
  readonly request: Req;
  readonly error: Error;
  readonly errno: number;

  constructor(request: Req, error: Error) {
    this.request = request;
    this.error = error;
    const errno = (error as { errno?: unknown }).errno;
    this.errno = typeof errno === 'number' ? errno : 0;
  }

  /** Always true (MR::IProto::Error::is_error). */
  isError(): this is ErrorReply<Req> {
    return true;
  }

  /** The error's message text (MR::IProto::Error::error_message). */
  get errorMessage(): string {
    return this.error.message;
  }
}
