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
   * line; for a failure, the `code` of its cause when it has one (`ECONNREFUSED`, `ETIMEDOUT`,
   * `ERR_FRAME_TOO_LARGE`, ...), else `ERR_CLI_FAILURE`.
   */
  readonly code: string;

  constructor(message: string, exitCode: number = ExitCode.USAGE, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
    const cause = options?.cause as { code?: unknown } | null | undefined;
    if (exitCode === ExitCode.USAGE) this.code = 'ERR_CLI_USAGE';
    else if (typeof cause?.code === 'string') this.code = cause.code;
    else this.code = 'ERR_CLI_FAILURE';
  }
}
