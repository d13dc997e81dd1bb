import { frameBody } from '@iproto/framing';
import { compile } from '@iproto/pack';
import type { MessageKey } from './types.js';

/**
 * A message without classes (MR::IProto::_send's `\%args`): `data` is an array packed with `pack`
 * (default `L*`) or bytes already packed, `payload` bytes win over `data`, and the reply is the
 * array `unpack` returns.
 */
export interface PlainMessage<T extends unknown[] = unknown[]> {
  /** The message code. */
  msg: number;
  /** The balancing key. */
  key?: MessageKey;
  /** Values packed with `pack`, or a body already packed (a string is sent as UTF-8). */
  data?: readonly unknown[] | Uint8Array | string;
  /** The pack template for an array `data`; `L*` by default. */
  pack?: string;
  /** Decodes the reply body: a pack template, or a function returning the reply array. */
  unpack?: string | ((body: Buffer) => unknown);
  /** The body, already packed; takes precedence over `data`. */
  payload?: Uint8Array | string;
  /** The message gets no reply: it is complete once written, and its reply is `[0]`. */
  noReply?: boolean;
  /**
   * May the request be retried after a communication error? A function is called with the message
   * as `this` (typed `any`: a message may carry fields of its own, such as a retry budget).
   */
  retry?: boolean | ((this: any) => boolean);
  /** Given the unpacked reply, does the server ask for a retry? Called with the message as `this`. */
  isRetry?: (this: any, data: T) => boolean;
  /** Tries for this message (MR::IProto::_send_try's per-message `max_request_retries`). */
  maxRequestRetries?: number;
  /** Per-try timeout in ms for this message. */
  timeout?: number;
  /** Aborts the message. */
  signal?: AbortSignal;
}

/** One `sendBulk` result for a plain message: `data` on success, `error` on failure. */
export interface PlainResult<T extends readonly unknown[] = unknown[]> {
  data: T | undefined;
  error: Error | undefined;
}

const EMPTY = Buffer.alloc(0);

type Compiled = ReturnType<typeof compile>;

// The last template each way: a program sends the same few message shapes over and over, and a
// string compare (usually of the same interned literal) is cheaper than the pack layer's Map lookup.
let lastPack = '';
let lastPacker: Compiled | undefined;
let lastUnpack = '';
let lastUnpacker: Compiled | undefined;

function packTemplate(template: string): Compiled {
  if (template !== lastPack || lastPacker === undefined) {
    lastPacker = compile(template);
    lastPack = template;
  }
  return lastPacker;
}

function unpackTemplate(template: string): Compiled {
  if (template !== lastUnpack || lastUnpacker === undefined) {
    lastUnpacker = compile(template);
    lastUnpack = template;
  }
  return lastUnpacker;
}

/** The bytes as a `Buffer` (a view, no copy): what user code such as an `unpack` function is given. */
export function asBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** Strings go out as their UTF-8 bytes, as the pack layer encodes strings. */
export function toBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/** The body of a plain message, as MR::IProto::_send_now builds `$args->{body}`. */
export function plainBody(message: PlainMessage<any>): Uint8Array {
  if (message.payload !== undefined) return toBytes(message.payload);
  const { data } = message;
  if (data === undefined || data === null) return EMPTY;
  if (Array.isArray(data)) return packTemplate(message.pack || 'L*').packArray(data);
  if (typeof data === 'string' || data instanceof Uint8Array) return toBytes(data);
  throw new TypeError(`message ${message.msg}: data must be an array, a Uint8Array or a string`);
}

/** Decodes a plain message's reply body, `bytes[start..end)`, into the reply array. */
export interface ReplyDecoder {
  unpackRange(bytes: Uint8Array, start: number, end: number): unknown[];
}

/**
 * The reply decoder of a plain message: `[ unpack->(data) ]` or `[ unpack TEMPLATE, data ]`. A
 * template's compiled form (cached by the pack layer) is the decoder itself: nothing is allocated
 * per message on that path.
 */
export function plainDecoder(message: PlainMessage<any>): ReplyDecoder {
  const { unpack } = message;
  if (typeof unpack === 'string') return unpackTemplate(unpack);
  if (typeof unpack === 'function') {
    return {
      unpackRange(bytes, start, end) {
        const value = unpack(asBuffer(frameBody(bytes, start, end)));
        return Array.isArray(value) ? value : [value];
      },
    };
  }
  throw new TypeError(`message ${message.msg}: unpack must be a pack template or a function`);
}
