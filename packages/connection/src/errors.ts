import { constants } from 'node:os';
import { type ConnectionErrorCode, type IProtoErrorCode, isOsErrorCode } from './error-codes.js';

const BRAND = Symbol.for('iproto.error');

/** Where and why an {@link IProtoError} happened: the fields it carries besides its code and message. */
export interface IProtoErrorOptions {
  /** Numeric OS errno (the Perl client's `$!`), positive as in C. */
  errno?: number;
  /** `host:port` or the unix socket path. */
  address?: string;
  msg?: number;
  sync?: number;
  cause?: unknown;
}

/**
 * The error of the iproto network layers: `code` is stable, one of {@link IProtoErrorCode} (a closed
 * union: `switch (error.code)` can be exhaustive), `errno` is the numeric OS error where the Perl client
 * would have set `$!`, `address` says which server. `@iproto/cluster` and `@iproto/client` throw it
 * too, with their own codes; a code outside the union is a compile error.
 */
export class IProtoError extends Error {
  override readonly name = 'IProtoError' as const;
  /** Stable: which failure this is (see the README's table, or `IPROTO_ERROR_CODES`). */
  readonly code: IProtoErrorCode;
  readonly errno?: number;
  readonly address?: string;
  readonly msg?: number;
  readonly sync?: number;

  constructor(code: IProtoErrorCode, message: string, options: IProtoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.errno !== undefined) this.errno = options.errno;
    if (options.address !== undefined) this.address = options.address;
    if (options.msg !== undefined) this.msg = options.msg;
    if (options.sync !== undefined) this.sync = options.sync;
  }
}

Object.defineProperty(IProtoError.prototype, BRAND, { value: true });

/**
 * `instanceof IProtoError` also holds for an IProtoError made by another loaded copy of this
 * package (its ESM and CommonJS builds side by side, or two versions in one tree), recognised by
 * the `Symbol.for('iproto.error')` brand and the name. Subclasses test by their prototype chain.
 */
Object.defineProperty(IProtoError, Symbol.hasInstance, {
  value: function hasInstance(this: unknown, value: unknown): boolean {
    return (
      Function.prototype[Symbol.hasInstance].call(this, value) ||
      (this === IProtoError && isIProtoError(value) && (value as { name?: unknown }).name === 'IProtoError')
    );
  },
});

/**
 * True for an error of any `@iproto/*` package (`IProtoError`, `FrameError`, `PackError`, ...), even one
 * thrown by another installed copy of the package: it checks the `Symbol.for('iproto.error')` brand, not
 * the class.
 */
export function isIProtoError(value: unknown): value is IProtoError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * The rejection of an aborted request whose signal's `reason` is not an `Error` (a string, or no
 * reason at all from a signal polyfill): `name` `'AbortError'` and `code` `'ABORT_ERR'` as Node's
 * own abort errors, the reason as `cause`. A reason that is an `Error` (the `DOMException`
 * `AbortError` of `controller.abort()`, `AbortSignal.timeout()`'s `TimeoutError`, or your own) is
 * the rejection itself, as undici's `fetch` does.
 */
export class AbortError extends Error {
  override readonly name = 'AbortError' as const;
  readonly code = 'ABORT_ERR' as const;
  readonly address?: string;
  readonly msg?: number;
  readonly sync?: number;

  constructor(message: string, options: IProtoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.address !== undefined) this.address = options.address;
    if (options.msg !== undefined) this.msg = options.msg;
    if (options.sync !== undefined) this.sync = options.sync;
  }
}

/**
 * What an aborted request rejects with, at every layer: the signal's `reason` when it is an `Error`,
 * otherwise an {@link AbortError} carrying it as `cause` (`message` and `options` say which request).
 */
export function abortReason(signal: AbortSignal, message: string, options: IProtoErrorOptions = {}): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new AbortError(message, reason === undefined ? options : { ...options, cause: reason });
}

/** Positive errno for a code such as `'ECONNRESET'`, or undefined when the OS has no such code. */
export function errnoOf(code: string): number | undefined {
  return (constants.errno as Record<string, number | undefined>)[code];
}

/**
 * Wraps an error of a socket (or of a user's Duplex) into an `IProtoError` naming the server. An OS
 * code of `OS_ERROR_CODES` (`ECONNREFUSED`, `ECONNRESET`, `EPIPE`, `EHOSTUNREACH`, `ENOENT`, ...)
 * is kept as the code; any other OS code becomes `ERR_SOCKET` (the original error, with its code, is
 * `cause`, and its number `errno`); an error without an OS code (a user's stream) becomes `ECONNRESET`.
 */
export function fromSocketError(error: unknown, address: string, doing: string): IProtoError {
  const err = error as NodeJS.ErrnoException;
  const sysCode = typeof err?.code === 'string' ? err.code : undefined;
  const code: ConnectionErrorCode =
    sysCode === undefined || !/^E(?:AI_)?[A-Z0-9]+$/.test(sysCode)
      ? 'ECONNRESET'
      : isOsErrorCode(sysCode)
        ? sysCode
        : 'ERR_SOCKET';
  let errno = typeof err?.errno === 'number' ? Math.abs(err.errno) : undefined;
  if (errno === undefined && sysCode !== undefined) errno = errnoOf(sysCode);
  const detail = err instanceof Error ? err.message : String(error);
  return new IProtoError(code, `${address}: ${doing} failed: ${detail}`, { errno, address, cause: error });
}
