import { BOX_ERROR_CODES, type BoxErrorCode } from '@iproto/box';
import { isIProtoError } from '@iproto/client';
import { FRAME_ERROR_CODES, type FrameErrorCode } from '@iproto/framing';
import { PackErrorCode, type PackErrorCodeValue } from '@iproto/pack';

/** The codes of a {@link CliError} of its own, not taken from a cause. */
export const CLI_OWN_ERROR_CODES = [
  /** The command line is wrong: unknown command or option, bad value (exit code 2). */
  'ERR_CLI_USAGE',
  /** A failure whose cause has no code of an `@iproto/*` package (exit code 1). */
  'ERR_CLI_FAILURE',
] as const;

/**
 * The `code` of a {@link CliError} (and of the `--json` error line): its own, or the code of its
 * cause from a layer below: a `BoxError`'s (which covers every `IProtoError` code), a `PackError`'s
 * or a `FrameError`'s. A closed union, so a `switch` over it can be exhaustive.
 */
export type CliErrorCode =
  | (typeof CLI_OWN_ERROR_CODES)[number]
  | BoxErrorCode
  | PackErrorCodeValue
  | FrameErrorCode;

/** Every {@link CliErrorCode}, once each. */
export const CLI_ERROR_CODES: readonly CliErrorCode[] = [
  ...new Set<CliErrorCode>([
    ...CLI_OWN_ERROR_CODES,
    ...BOX_ERROR_CODES,
    ...Object.values(PackErrorCode),
    ...FRAME_ERROR_CODES,
  ]),
];

const KNOWN: ReadonlySet<string> = new Set(CLI_ERROR_CODES);

/**
 * The code a failure with `cause` reports: the cause's `code` when the cause is an error of an
 * `@iproto/*` package and the code one of {@link CLI_ERROR_CODES}, otherwise `ERR_CLI_FAILURE`. A
 * code of Node's own stays on the cause, whatever it is (`EISDIR`, `EADDRINUSE`, and `ENOENT` for a
 * missing file too, although an `IProtoError` may carry that code for a missing unix socket).
 */
export function failureCode(cause: unknown): CliErrorCode {
  if (!isIProtoError(cause)) return 'ERR_CLI_FAILURE';
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' && KNOWN.has(code) ? (code as CliErrorCode) : 'ERR_CLI_FAILURE';
}

/** Exit codes of the `iproto` command. */
export const ExitCode = {
  /** Everything worked. */
  OK: 0,
  /** The command ran and something failed: a server down, a request rejected. */
  FAILURE: 1,
  /** The command line itself is wrong: unknown command or option, bad value. */
  USAGE: 2,
} as const;

/**
 * An error the command reports as one line on stderr before exiting with `exitCode`; anything
 * else that escapes a command is reported the same way with exit code 1.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  /**
   * What went wrong, for code that runs the CLI programmatically: `ERR_CLI_USAGE` for a bad command
   * line; for a failure, the `code` of its cause when it is one of an `@iproto/*` layer
   * (`ECONNREFUSED`, `ETIMEDOUT`, `ERR_FRAME_TOO_LARGE`, ...), else `ERR_CLI_FAILURE`.
   */
  readonly code: CliErrorCode;

  constructor(message: string, exitCode: number = ExitCode.USAGE, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
    this.code = exitCode === ExitCode.USAGE ? 'ERR_CLI_USAGE' : failureCode(options?.cause);
  }
}
