import { unpack } from '@iproto/pack';
import type { Request } from './request.js';

/** A response class as the client constructs it. */
export interface ResponseClass<Res extends Response = Response> {
  new (data: Buffer | undefined, request: Request<any>): Res;
  readonly msg?: number;
  readonly name: string;
  readonly noReply?: boolean;
}

/**
 * Base class of response messages (MR::IProto::Response). The client builds one with
 * `new Class(body, request)`; a subclass decodes its fields in its constructor with
 * `this.unpack(template)`, which consumes the body from the front. Bytes left unconsumed when the
 * constructor returns make the client warn or fail, as MR::IProto::Response's BUILDARGS warns
 * "Not all data was parsed".
 */
export class Response<Req extends Request<any> = Request<any>> {
  /** The message code this class answers; it registers the class in a client's `messages`. */
  static readonly msg?: number;
  /** Set by NoResponse: messages answered by this class get no reply frame. */
  static readonly noReply: boolean = false;

  /** The raw reply body (undefined for no-reply messages). */
  readonly data: Buffer | undefined;
  /** The request this response answers. */
  readonly request: Req;
  #offset = 0;

  constructor(data: Buffer | undefined, request: Req) {
    this.data = data;
    this.request = request;
  }

  /** The message code, read from the class (or from the request when the class has none). */
  get msg(): number {
    // Through the prototype: a field named `constructor` on the instance must not hide the class.
    return (Object.getPrototypeOf(this).constructor as ResponseClass).msg ?? this.request.msg;
  }

  /** Whether the server asked for this request to be retried (MR::IProto::Response::retry). */
  retry(): boolean {
    return false;
  }

  /** Always false; the error object's `isError()` returns true (so `isError()` tells the two apart). */
  isError(): this is never {
    return false;
  }

  /** How many body bytes no `unpack` / `consume` has taken yet. */
  get unparsed(): number {
    return this.data === undefined ? 0 : this.data.length - this.#offset;
  }

  /** The bytes no `unpack` / `consume` has taken yet. */
  protected get rest(): Buffer {
    return this.data === undefined ? Buffer.alloc(0) : this.data.subarray(this.#offset);
  }

  /**
   * Unpacks `template` from the unconsumed part of the body and consumes what it read. The bytes a
   * template reads are found by unpacking `template a*` and measuring the tail.
   */
  protected unpack(template: string, options?: Parameters<typeof unpack>[2]): unknown[] {
    const values = unpack(`${template} a*`, this.rest, options);
    const tail = values.pop() as Uint8Array;
    this.#offset = (this.data?.length ?? 0) - tail.length;
    return values;
  }

  /** Marks `bytes` more of the body as parsed (all of it when omitted), for hand-written decoders. */
  protected consume(bytes: number = this.unparsed): void {
    this.#offset = Math.min(this.#offset + bytes, this.data?.length ?? 0);
  }
}
