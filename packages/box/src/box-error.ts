import { BOX_ERRORS, type BoxErrorCode, type BoxOwnErrorCode, errorName } from './error-codes.js';

const BRAND = Symbol.for('iproto.error');

/** What a {@link BoxError} carries besides its code and message. */
export interface BoxErrorOptions {
  /** The server's return code, as it came: `(error number << 8) | severity`. */
  returnCode?: number;
  /** The server's own text, its terminating NUL removed. */
  serverMessage?: string;
  /** The OS errno of a communication failure. */
  errno?: number;
  /** The server (`host:port`) whose reply could not be read. */
  address?: string;
  /** The msg code of the reply that could not be read. */
  msg?: number;
  /** The sync of the reply that could not be read. */
  sync?: number;
  cause?: unknown;
}

/**
 * An error of a box call: a server error (with `returnCode`, `severity`, the symbolic `code` and the
 * server's `serverMessage`), a bad reply (`ERR_BOX_REPLY`), a bad call (`ERR_BOX_ARGUMENT`), or a
 * communication failure of `@iproto/client` (its `code` and `errno`, the `IProtoError` as `cause`).
 */
export class BoxError extends Error {
  override readonly name = 'BoxError' as const;
  /**
   * Stable, one of {@link BoxErrorCode}: this package's own (`ERR_BOX_*`), the symbolic name of a
   * server error (`ER_TUPLE_FOUND`, ..., `ER_UNKNOWN`), or the transport's (`ETIMEDOUT`, ...).
   */
  readonly code: BoxErrorCode;
  /** The server's return code (Perl's `$box->Error`), e.g. `0x3702`; undefined when the server did not answer one. */
  readonly returnCode?: number;
  /** The server's error number, `returnCode >> 8` (0x37 for `ER_TUPLE_FOUND`). */
  readonly errcode?: number;
  /** 1: transient (may succeed when retried), 2: permanent. */
  readonly severity?: number;
  /** The server's own text, NUL removed. */
  readonly serverMessage?: string;
  /** The OS errno of a communication failure (the Perl client's `$!`). */
  readonly errno?: number;
  /** For a reply that could not be read (`ERR_BOX_REPLY`): the server it came from. */
  readonly address?: string;
  /** For a reply that could not be read: its msg code. */
  readonly msg?: number;
  /** For a reply that could not be read: its sync. */
  readonly sync?: number;

  constructor(code: BoxErrorCode, message: string, options: BoxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.returnCode !== undefined) {
      this.returnCode = options.returnCode;
      this.errcode = options.returnCode >>> 8;
      this.severity = options.returnCode & 0xff;
    }
    if (options.serverMessage !== undefined) this.serverMessage = options.serverMessage;
    if (options.errno !== undefined) this.errno = options.errno;
    if (options.address !== undefined) this.address = options.address;
    if (options.msg !== undefined) this.msg = options.msg;
    if (options.sync !== undefined) this.sync = options.sync;
  }

  /** True for a BoxError made by any loaded copy of this package. */
  static isBoxError(value: unknown): value is BoxError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true &&
      (value as { name?: unknown }).name === 'BoxError'
    );
  }
}

Object.defineProperty(BoxError.prototype, BRAND, { value: true });
Object.defineProperty(BoxError, Symbol.hasInstance, {
  value: function hasInstance(this: unknown, value: unknown): boolean {
    return (
      Function.prototype[Symbol.hasInstance].call(this, value) ||
      (this === BoxError && BoxError.isBoxError(value))
    );
  },
});

/** A BoxError of this package's own codes. */
export function boxError(code: BoxOwnErrorCode, message: string, cause?: unknown): BoxError {
  return new BoxError(code, message, { cause });
}

/** The error a server reply carries: `Error 00003702: Duplicate key exists in unique index 0`, as Perl's `ErrorStr`. */
export function serverError(returnCode: number, serverMessage: string, where: string): BoxError {
  const hex = returnCode.toString(16).toUpperCase().padStart(8, '0');
  // A reply with no text of its own reads as MR::Tarantool::Box::_chat's fallback to %ERRORS.
  const text = serverMessage || (BOX_ERRORS.get(returnCode >>> 8)?.description ?? 'Unknown error');
  return new BoxError(errorName(returnCode), `${where}: Error ${hex}: ${text}`, {
    returnCode,
    serverMessage,
  });
}
