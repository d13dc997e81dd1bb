const BRAND = Symbol.for('iproto.error');

/** Stable codes of {@link PackError}. */
export const PackErrorCode = {
  /** The template is malformed (unknown letter, bad modifier, unbalanced group, ...). */
  TEMPLATE: 'ERR_PACK_TEMPLATE',
  /** A value is missing, of the wrong type, or out of range for its letter. */
  VALUE: 'ERR_PACK_VALUE',
  /** `unpack` ran past the end of the data, or the data is malformed. */
  DATA: 'ERR_PACK_DATA',
  /** A letter that needs memory pointers or long doubles (`p`, `P`, `D`). */
  UNSUPPORTED: 'ERR_PACK_UNSUPPORTED',
  /**
   * A limit of `PackLimits` was reached: a template too long or nested too deep, a `pack` result
   * over 256 MiB, a BER integer over 1024 bytes, or a call that would make more values or group
   * repetitions than its data pays for. Perl would go on until it runs out of memory or time.
   */
  LIMIT: 'ERR_PACK_LIMIT',
} as const;

/** One of the {@link PackErrorCode} values: the `code` of a {@link PackError}. */
export type PackErrorCodeValue = (typeof PackErrorCode)[keyof typeof PackErrorCode];

/**
 * Thrown by `pack`, `unpack` and compiled templates wherever Perl's `pack`/`unpack` would die under
 * `use warnings FATAL => 'all'`. The message follows Perl's wording.
 */
export class PackError extends Error {
  override readonly name = 'PackError' as const;
  readonly code: PackErrorCodeValue;
  /** The template being packed or unpacked, when known. */
  template?: string;

  constructor(code: PackErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** True for a PackError, also one thrown by another installed copy of this package. */
  static isPackError(value: unknown): value is PackError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true &&
      (value as { name?: unknown }).name === 'PackError'
    );
  }
}

Object.defineProperty(PackError.prototype, BRAND, { value: true, enumerable: false });

/**
 * `instanceof PackError` also holds for a PackError of another loaded copy of this package (ESM and
 * CommonJS builds side by side), as `isPackError` does. Subclasses test by their prototype chain.
 */
Object.defineProperty(PackError, Symbol.hasInstance, {
  value: function hasInstance(this: unknown, value: unknown): boolean {
    return (
      Function.prototype[Symbol.hasInstance].call(this, value) ||
      (this === PackError && PackError.isPackError(value))
    );
  },
});
