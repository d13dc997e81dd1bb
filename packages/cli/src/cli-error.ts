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

  constructor(message: string, exitCode: number = ExitCode.USAGE, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}
