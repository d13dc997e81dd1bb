/**
 * What one template, one `pack` and one `unpack` may cost. Perl has none of these (it runs until
 * "Out of memory!" or forever); they are what makes a hostile count, template or reply end in a
 * `PackError` (`ERR_PACK_LIMIT`) instead of taking the process down. Each cost is bounded by the
 * bytes of template and data actually given, never by a count written in them.
 */
export const PackLimits = Object.freeze({
  /** The longest template `compile`, `pack` and `unpack` accept, in characters. */
  maxTemplateLength: 65_536,
  /** `()`-groups nest at most this deep: Perl's own limit (pp_pack.c MAX_SUB_TEMPLATE_LEVEL). */
  maxGroupNesting: 100,
  /** `[template]` counts nest at most this deep (Perl has no limit and recurses in C). */
  maxBracketNesting: 100,
  /** The compiled-template cache holds at most this many templates... */
  cacheTemplates: 1024,
  /** ...and at most this many characters of template text in all (oldest dropped first). */
  cacheChars: 65_536,
  /** The largest `pack` result, in bytes; checked before the memory is taken. */
  maxOutput: 256 * 1024 * 1024,
  /** One BER integer (`w`) is at most this many bytes long, in `unpack` and in `pack`. */
  maxBerLength: 1024,
  /**
   * The work budget of one call: `unpack` makes at most `freeWork + workPerByte x data bytes` values
   * and group repetitions together; `pack` makes at most `freeWork + workPerByte x (values given +
   * bytes written)` group repetitions.
   */
  freeWork: 65_536,
  workPerByte: 4,
});

export type PackLimitsShape = { -readonly [K in keyof typeof PackLimits]: number };

/** The limits in force: {@link PackLimits}, unless a test narrowed them with {@link withLimits}. */
export const limits: PackLimitsShape = { ...PackLimits };

/**
 * Runs `fn` with some limits changed, then puts them back. For tests (the fuzzers run with a small
 * `maxOutput` so that a runaway count costs milliseconds, not a 256 MiB result); not exported by the
 * package.
 */
export function withLimits<T>(changes: Partial<PackLimitsShape>, fn: () => T): T {
  const saved = { ...limits };
  Object.assign(limits, changes);
  try {
    return fn();
  } finally {
    Object.assign(limits, saved);
  }
}
