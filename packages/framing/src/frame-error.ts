import type { Frame } from './frame.js';

/** Every `code` of a {@link FrameError}. */
export const FRAME_ERROR_CODES = [
  /**
   * A header announces a body larger than `maxFrameSize`, or a body to encode is longer than a
   * header can announce (2^32-1 bytes).
   */
  'ERR_FRAME_TOO_LARGE',
  /** A stream or capture ends in the middle of a frame. */
  'ERR_FRAME_TRUNCATED',
] as const;

/** Stable codes of {@link FrameError}: one of {@link FRAME_ERROR_CODES}. */
export type FrameErrorCode = (typeof FRAME_ERROR_CODES)[number];

/** What a {@link FrameError} carries besides its code and message: the offending header's fields. */
export interface FrameErrorOptions {
  cause?: unknown;
  /** Message code of the offending header, when it was read. */
  msg?: number;
  /** Sync of the offending header, when it was read. */
  sync?: number;
  /** Body length announced by the offending header. */
  len?: number;
  /** The limit that was exceeded (`ERR_FRAME_TOO_LARGE`). */
  maxFrameSize?: number;
  /** Byte offset of the offending frame in the stream or capture, when known. */
  offset?: number;
}

const BRAND = Symbol.for('iproto.error');

/**
 * The one error class of `@iproto/framing`: `ERR_FRAME_TOO_LARGE` (a header announces a body larger
 * than `maxFrameSize`) or `ERR_FRAME_TRUNCATED` (a stream or capture ends in the middle of a frame).
 */
export class FrameError extends Error {
  override readonly name = 'FrameError' as const;
  readonly code: FrameErrorCode;
  declare readonly msg?: number;
  declare readonly sync?: number;
  declare readonly len?: number;
  declare readonly maxFrameSize?: number;
  declare readonly offset?: number;
  /**
   * Frames completed by the same `FrameDecoder.push` call before the error was found, in order. The
   * decoder throws rather than returns, so these would otherwise be lost; a connection can still
   * settle the requests they answer. Empty otherwise (and from `parse`, which has delivered them
   * already).
   */
  frames: Frame[] = [];

  constructor(code: FrameErrorCode, message: string, options: FrameErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.msg !== undefined) this.msg = options.msg;
    if (options.sync !== undefined) this.sync = options.sync;
    if (options.len !== undefined) this.len = options.len;
    if (options.maxFrameSize !== undefined) this.maxFrameSize = options.maxFrameSize;
    if (options.offset !== undefined) this.offset = options.offset;
  }
}

Object.defineProperty(FrameError.prototype, BRAND, { value: true });

/**
 * `instanceof FrameError` also holds for a FrameError of another loaded copy of this package (ESM
 * and CommonJS builds side by side), recognised by the `Symbol.for('iproto.error')` brand and the
 * name. Subclasses test by their prototype chain.
 */
Object.defineProperty(FrameError, Symbol.hasInstance, {
  value: function hasInstance(this: unknown, value: unknown): boolean {
    return (
      Function.prototype[Symbol.hasInstance].call(this, value) ||
      (this === FrameError &&
        typeof value === 'object' &&
        value !== null &&
        (value as Record<symbol, unknown>)[BRAND] === true &&
        (value as { name?: unknown }).name === 'FrameError')
    );
  },
});
