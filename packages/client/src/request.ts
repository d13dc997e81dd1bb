import type { Response } from './response.js';
import type { MessageKey } from './types.js';

const EMPTY = new Uint8Array(0);

/** A request class: its constructor, with the message code as a static `msg`. */
export interface RequestClass {
  readonly msg: number;
  readonly name: string;
  /** The response class paired with this request (set by `defineMessage`); used when no registry entry matches. */
  readonly Response?: unknown;
}

/**
 * Base class of request messages (MR::IProto::Request). A subclass sets `static msg`, implements
 * `encode()` (Perl's `_build_data`), and may override `key()` for hash balancing and `retry()` to
 * allow retries on communication errors.
 *
 * The type parameter names the response class `client.send` resolves to.
 */
export class Request<Res extends Response = Response> {
  /** The message code; every subclass sets it. */
  static readonly msg: number;

  /** Phantom: carries the response type for `client.send`'s return type. Never set. */
  declare readonly '~response'?: Res;

  #data: Uint8Array | undefined;

  /** The message code, read from the class. */
  get msg(): number {
    // Through the prototype: a field named `constructor` on the instance must not hide the class.
    return (Object.getPrototypeOf(this).constructor as RequestClass).msg;
  }

  /** The balancing key (MR::IProto::Request::key); `undefined` when the request has none. */
  key(): MessageKey | undefined {
    return undefined;
  }

  /** Whether this request may be retried after a communication error (MR::IProto::Request::retry). */
  retry(): boolean {
    return false;
  }

  /** The packed body, encoded once on first use and then reused across retries. */
  get data(): Uint8Array {
    if (this.#data === undefined) {
      const encoded = this.encode();
      this.#data = typeof encoded === 'string' ? Buffer.from(encoded, 'utf8') : encoded;
    }
    return this.#data;
  }

  /** Packs the body (Perl's `_build_data`); the default is an empty body. */
  protected encode(): Uint8Array | string {
    return EMPTY;
  }
}
