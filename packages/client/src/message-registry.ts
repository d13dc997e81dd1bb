import { Response, type ResponseClass } from './response.js';

/**
 * What the `messages` option takes: response classes, message pairs made by `defineMessage`
 * (anything with a `Response` class), a module namespace holding either (the seed's `prefix`), or
 * a list of these.
 */
export type MessagesOption = Iterable<unknown> | Readonly<Record<string, unknown>>;

function isResponseClass(value: unknown): value is ResponseClass {
  return typeof value === 'function' && value.prototype instanceof Response;
}

/**
 * Maps message codes to response classes, as MR::IProto::_build__reply_class does from the class
 * hierarchy under the client's prefix. Backed by a `Map`, and it reads a namespace only through
 * `Object.keys` and own property values, so export names such as `__proto__` or `constructor` are
 * plain names here.
 */
export class MessageRegistry {
  readonly #byMsg = new Map<number, ResponseClass>();

  constructor(messages?: MessagesOption) {
    if (messages !== undefined) this.add(messages);
  }

  /** Registers every response class found in `messages`; a later class for the same code wins. */
  add(messages: MessagesOption | ResponseClass): this {
    if (isResponseClass(messages)) {
      this.#register(messages);
    } else if (typeof (messages as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const item of messages as Iterable<unknown>) this.#visit(item, 1);
    } else if (messages !== null && typeof messages === 'object') {
      this.#visit(messages, 0);
    } else {
      throw new TypeError('messages must be a list of message classes or a module namespace');
    }
    return this;
  }

  /** The response class for `msg`, if one is registered. */
  get(msg: number): ResponseClass | undefined {
    return this.#byMsg.get(msg);
  }

  get size(): number {
    return this.#byMsg.size;
  }

  #visit(value: unknown, depth: number): void {
    if (isResponseClass(value)) {
      this.#register(value);
      return;
    }
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return;
    if (Object.hasOwn(value, 'Response')) {
      const paired = (value as { Response?: unknown }).Response;
      if (isResponseClass(paired)) {
        this.#register(paired);
        return;
      }
    }
    // A namespace object: look one level into its exports (a defineMessage pair per export). Own
    // keys only; exports may be getters (bundlers' and test runners' namespaces are), so read them.
    if (depth > 0 || typeof value !== 'object') return;
    for (const name of Object.keys(value)) this.#visit((value as Record<string, unknown>)[name], depth + 1);
  }

  #register(cls: ResponseClass): void {
    const msg = cls.msg;
    // Perl registers only classes that `can('msg')`; a base class without a code is skipped.
    if (typeof msg !== 'number' || !Number.isInteger(msg)) return;
    this.#byMsg.set(msg, cls);
  }
}
