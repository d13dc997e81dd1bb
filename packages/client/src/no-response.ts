import type { Request } from './request.js';
import { Response } from './response.js';

/**
 * Marks a message that gets no reply (MR::IProto::NoResponse): a request whose response class
 * extends this one is complete once written, and resolves to an instance with no data.
 */
export class NoResponse<Req extends Request<any> = Request<any>> extends Response<Req> {
  static override readonly noReply: boolean = true;

  constructor(_data: Buffer | undefined, request: Req) {
    super(undefined, request);
  }
}
