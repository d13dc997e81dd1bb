import { compile } from '@iproto/pack';
import { NoResponse } from './no-response.js';
import { Request } from './request.js';
import { Response, type ResponseClass } from './response.js';
import type { TemplateFields } from './template-types.js';
import type { MessageKey } from './types.js';

/** An object with one `unknown` property per field name. */
export type FieldValues<F extends readonly string[]> = { -readonly [K in F[number]]: unknown };

/** The request half of a `defineMessage` spec. */
export interface RequestSpec<F extends readonly string[], T extends string = string> {
  /** The pack template of the body; fields are packed in `fields` order. */
  template: T;
  fields: F;
  /** The field that is the balancing key, or a function computing the key. */
  key?: F[number] | ((request: FieldValues<F>) => MessageKey | undefined);
  /** May the request be retried after a communication error (MR::IProto::Request::retry)? */
  retry?: boolean | ((request: FieldValues<F>) => boolean);
  /** The last field is a list whose items are packed one by one (for a template ending in `*`). */
  rest?: boolean;
}

/** The response half of a `defineMessage` spec. */
export interface ResponseSpec<F extends readonly string[], T extends string = string> {
  /** The pack template of the body; unpacked values become fields in `fields` order. */
  template: T;
  fields: F;
  /** Does the server ask for a retry with this reply (MR::IProto::Response::retry)? */
  retry?: (response: FieldValues<F>) => boolean;
  /** The last field collects every remaining unpacked value as a list. */
  rest?: boolean;
}

/** What `defineMessage` takes: the msg code, an optional name, and the request and response layouts. */
export interface DefineMessageSpec<Q extends readonly string[], S extends readonly string[]> {
  /** The message code. */
  msg: number;
  /** Names the generated classes (`<name>Request`, `<name>Response`); defaults to `Msg<code>`. */
  name?: string;
  request: RequestSpec<Q>;
  response: ResponseSpec<S> | { noReply: true };
}

/**
 * The response a defined message resolves to: a `Response` to its {@link DefinedRequest}, with the
 * response's named fields `S` (the request's are `Q`). A named type, so an editor shows
 * `DefinedResponse<{ id: number }, { id: number; name: Buffer }>`.
 */
export type DefinedResponse<Q, S> = Response<DefinedRequest<Q, S>> & S;
/** A request of a defined message: a `Request` with the named fields `Q`, answered by a {@link DefinedResponse}. */
export type DefinedRequest<Q, S> = Request<DefinedResponse<Q, S>> & Q;

/** The request class of a defined message (`Get.Request`): `new Get.Request(fields)`. */
export interface DefinedRequestClass<Q, S> {
  new (fields: Q): DefinedRequest<Q, S>;
  readonly msg: number;
  /** The paired response class. */
  readonly Response: DefinedResponseClass<Q, S>;
}

/** The response class of a defined message (`Get.Response`), for a client's `messages`. */
export interface DefinedResponseClass<Q, S> extends ResponseClass<DefinedResponse<Q, S>> {
  readonly msg: number;
}

/** What `defineMessage` returns: the message's `Request` class (with its `Response`), ready for `send`. */
export interface MessagePair<Q, S> {
  readonly msg: number;
  readonly Request: DefinedRequestClass<Q, S>;
  readonly Response: DefinedResponseClass<Q, S>;
}

/** What sending a request of a defined no-reply message resolves to: a `NoResponse`, no data. */
export type NoReplyResponse<Q> = NoResponse<NoReplyRequest<Q>>;
/** A request of a defined no-reply message: a `Request` with the named fields `Q`, complete once written. */
export type NoReplyRequest<Q> = Request<NoReplyResponse<Q>> & Q;

/** The request class of a defined no-reply message: `new Fire.Request(fields)`. */
export interface NoReplyRequestClass<Q> {
  new (fields: Q): NoReplyRequest<Q>;
  readonly msg: number;
  /** The paired response class (a `NoResponse`). */
  readonly Response: NoReplyResponseClass<Q>;
}

/** The response class of a defined no-reply message. */
export interface NoReplyResponseClass<Q> extends ResponseClass<NoReplyResponse<Q>> {
  readonly msg: number;
}

/** What `defineMessage` returns for `response: { noReply: true }`: the request class, and its `NoResponse` class. */
export interface NoReplyMessagePair<Q> {
  readonly msg: number;
  readonly Request: NoReplyRequestClass<Q>;
  readonly Response: NoReplyResponseClass<Q>;
}

/** Request field names refused (they would hide a `Request` member): a type error, and a TypeError at run time. */
export type ReservedRequestField = 'msg' | 'data' | 'key' | 'retry' | 'encode';
/** Response field names refused (they would hide a `Response` member). */
export type ReservedResponseField =
  | 'msg'
  | 'data'
  | 'request'
  | 'retry'
  | 'isError'
  | 'unparsed'
  | 'rest'
  | 'unpack'
  | 'consume';

/**
 * `F` when no name in it is reserved; otherwise a type no list of names matches, whose text says
 * which name is refused (`defineMessage` rejects it at run time too).
 */
export type CheckedFields<F extends readonly string[], Reserved extends string> =
  Extract<F[number], Reserved> extends never
    ? F
    : readonly [`field name "${Extract<F[number], Reserved>}" is reserved`, never];

const REQUEST_RESERVED = new Set<string>([
  'msg',
  'data',
  'key',
  'retry',
  'encode',
] satisfies ReservedRequestField[]);
const RESPONSE_RESERVED = new Set<string>([
  'msg',
  'data',
  'request',
  'retry',
  'isError',
  'unparsed',
  'rest',
  'unpack',
  'consume',
] satisfies ReservedResponseField[]);

function checkFields(fields: readonly string[], reserved: Set<string>, where: string): void {
  if (!Array.isArray(fields)) throw new TypeError(`defineMessage: ${where}.fields must be an array of names`);
  const seen = new Set<string>();
  for (const name of fields) {
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(`defineMessage: ${where}.fields must hold non-empty strings`);
    }
    if (reserved.has(name)) {
      throw new TypeError(
        `defineMessage: ${where} field "${name}" would hide the ${where} member of that name`,
      );
    }
    if (seen.has(name)) throw new TypeError(`defineMessage: ${where} field "${name}" is listed twice`);
    seen.add(name);
  }
}

/**
 * Fields are own data properties. Plain assignment is the fast path; only `__proto__` would hit
 * Object.prototype's setter (and change the prototype), so it is defined instead.
 */
function setField(target: object, name: string, value: unknown): void {
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    (target as Record<string, unknown>)[name] = value;
  }
}

/** Fixed-width numbers only, each with an optional count (`L3`, `S l<2 n`): no strings, groups or `*`. */
const FIXED_NUMBERS = /^\s*(?:[cCsSlLqQjJiInNvVfdF][<>!]*\d*\s*)+$/;

/** The bytes a template of fixed-width numbers reads, or undefined for any other template. */
function fixedSize(template: string): number | undefined {
  if (!FIXED_NUMBERS.test(template)) return undefined;
  let count = 0;
  for (const [, digits] of template.matchAll(/[a-zA-Z][<>!]*(\d*)/g))
    count += digits === '' ? 1 : Number(digits);
  if (count > 4096) return undefined;
  try {
    return compile(template).packArray(new Array<number>(count).fill(0)).length;
  } catch {
    return undefined;
  }
}

/** A field of a caller's object: never one inherited from Object.prototype (`constructor`, ...). */
function readField(source: object, name: string): unknown {
  const value = (source as Record<string, unknown>)[name];
  return value === undefined || !(name in Object.prototype) || Object.hasOwn(source, name)
    ? value
    : undefined;
}

function nameClass(cls: Function, name: string): void {
  Object.defineProperty(cls, 'name', { value: name });
}

/**
 * Defines a request/response class pair from pack templates with named fields, registered under
 * `msg`. Put the pair (or its `Response`) in the client's `messages`, or just send its requests:
 * a request made by `defineMessage` knows its response class.
 *
 * ```ts
 * const Get = defineMessage({
 *   msg: 17,
 *   request: { template: 'L', fields: ['id'] as const, key: 'id' },
 *   response: { template: 'L w/a*', fields: ['id', 'name'] as const },
 * });
 * const reply = await client.send(new Get.Request({ id: 1 })); // reply.id: number, reply.name: Buffer
 * ```
 *
 * Fields are typed from the template when it lists one item per field, separated by spaces
 * (`'L w/a*'`: a number, then bytes); otherwise they are `unknown`.
 */
export function defineMessage<
  const Q extends readonly string[],
  const S extends readonly string[],
  const QT extends string,
  const ST extends string,
>(spec: {
  msg: number;
  name?: string;
  request: RequestSpec<Q, QT> & { fields: CheckedFields<Q, ReservedRequestField> };
  response: ResponseSpec<S, ST> & { fields: CheckedFields<S, ReservedResponseField> };
}): MessagePair<TemplateFields<QT, Q, true>, TemplateFields<ST, S>>;
export function defineMessage<const Q extends readonly string[], const QT extends string>(spec: {
  msg: number;
  name?: string;
  request: RequestSpec<Q, QT> & { fields: CheckedFields<Q, ReservedRequestField> };
  response: { noReply: true };
}): NoReplyMessagePair<TemplateFields<QT, Q, true>>;
export function defineMessage(
  spec: DefineMessageSpec<readonly string[], readonly string[]>,
): MessagePair<any, any> | NoReplyMessagePair<any> {
  const { msg } = spec;
  if (!Number.isInteger(msg) || msg < 0 || msg > 0xffffffff) {
    throw new TypeError(`defineMessage: msg must be an unsigned 32-bit integer, got ${String(msg)}`);
  }
  const label = spec.name ?? `Msg${msg}`;
  const requestSpec = spec.request;
  checkFields(requestSpec.fields, REQUEST_RESERVED, 'request');
  const requestFields = [...requestSpec.fields];
  const requestCodec = compile(requestSpec.template);
  const { key: keySpec, retry: retrySpec, rest: requestRest } = requestSpec;
  if (typeof keySpec === 'string' && !requestFields.includes(keySpec)) {
    throw new TypeError(`defineMessage: request key "${keySpec}" is not one of the request fields`);
  }

  let ResponseCls: ResponseClass;
  const responseSpec = spec.response;
  if ('noReply' in responseSpec && responseSpec.noReply) {
    class DefinedNoResponse extends NoResponse {
      static override readonly msg: number = msg;
    }
    nameClass(DefinedNoResponse, `${label}Response`);
    ResponseCls = DefinedNoResponse;
  } else {
    const { template, fields, retry, rest } = responseSpec as ResponseSpec<readonly string[]>;
    checkFields(fields, RESPONSE_RESERVED, 'response');
    const names = [...fields];
    // `a*` at the end returns what the template left unread, for the "Not all data was parsed" check.
    const codec = compile(`${template} a*`);
    // A template of fixed-width numbers reads a known number of bytes from a body at least that long:
    // the template alone (the pack layer's fast path) gives the same values, and the size says what
    // is left unread. Shorter bodies take the general way, as Perl's unpack reads what it can.
    const fixed = fixedSize(template);
    const valueCodec = compile(template);
    class DefinedResponse extends Response {
      static override readonly msg: number = msg;

      constructor(data: Buffer | undefined, request: Request<any>) {
        super(data, request);
        if (data === undefined) return;
        let values: unknown[];
        if (fixed !== undefined && data.length >= fixed) {
          values = valueCodec.unpack(data);
          this.consume(fixed);
        } else {
          values = codec.unpack(data);
          const tail = values.pop() as Uint8Array;
          this.consume(data.length - tail.length);
        }
        const last = names.length - 1;
        for (let i = 0; i < names.length; i++) {
          setField(this, names[i], rest && i === last ? values.slice(i) : values[i]);
        }
      }

      override retry(): boolean {
        return retry ? retry(this as unknown as FieldValues<readonly string[]>) : false;
      }
    }
    nameClass(DefinedResponse, `${label}Response`);
    ResponseCls = DefinedResponse;
  }

  class DefinedRequest extends Request {
    static override readonly msg: number = msg;
    static readonly Response: ResponseClass = ResponseCls;

    constructor(values: Record<string, unknown>) {
      super();
      if (values === null || typeof values !== 'object') {
        throw new TypeError(`${label}Request: expected an object with fields ${requestFields.join(', ')}`);
      }
      for (const name of requestFields) setField(this, name, readField(values, name));
    }

    override key(): MessageKey | undefined {
      if (keySpec === undefined) return undefined;
      if (typeof keySpec === 'function') return keySpec(this as unknown as FieldValues<readonly string[]>);
      return readField(this, keySpec) as MessageKey | undefined;
    }

    override retry(): boolean {
      if (typeof retrySpec === 'function')
        return retrySpec(this as unknown as FieldValues<readonly string[]>);
      return retrySpec ?? false;
    }

    protected override encode(): Uint8Array {
      // Own fields set by the constructor (an own `__proto__` shadows the accessor, so reads are safe).
      const values = requestFields.map((name) => (this as unknown as Record<string, unknown>)[name]);
      if (requestRest && values.length > 0) {
        const last = values.pop();
        if (!Array.isArray(last)) {
          throw new TypeError(
            `${label}Request: field "${requestFields[requestFields.length - 1]}" must be an array (rest: true)`,
          );
        }
        values.push(...last);
      }
      return requestCodec.packArray(values);
    }
  }
  nameClass(DefinedRequest, `${label}Request`);

  return Object.freeze({ msg, Request: DefinedRequest, Response: ResponseCls }) as unknown as MessagePair<
    any,
    any
  >;
}
