import { CliError, type CliErrorCode, ExitCode, failureCode } from './cli-error.js';
import type { CliIO } from './io.js';
import { describeError } from './values.js';

/** An error as `--json` prints it on stderr: one object, one line. */
export interface JsonError {
  error: {
    /** `ERR_CLI_USAGE`, a cause's code (`ECONNREFUSED`, ...), or `ERR_CLI_FAILURE`: see `CliErrorCode`. */
    code: CliErrorCode;
    /** The same line the command prints without `--json`. */
    message: string;
    exitCode: number;
  };
}

/**
 * What escaped a command, as one line naming the command, its code and its exit code. A `CliError`
 * keeps its own; anything else is a failure (exit 1) with its cause's code when it has one.
 */
export function describeFailure(
  error: unknown,
  command: string | undefined,
): { message: string; code: CliErrorCode; exitCode: number } {
  if (error instanceof CliError) {
    // Helpers throw without knowing the command; name it so every error line says where it came from.
    const message = error.message.startsWith('iproto')
      ? error.message
      : `iproto ${command}: ${error.message}`;
    return { message, code: error.code, exitCode: error.exitCode };
  }
  return {
    message: `iproto${command ? ` ${command}` : ''}: ${describeError(error)}`,
    code: failureCode(error),
    exitCode: ExitCode.FAILURE,
  };
}

/** Writes an error to stderr: its line, or under `--json` one JSON object on one line. */
export function writeError(
  io: CliIO,
  json: boolean,
  failure: { message: string; code: CliErrorCode; exitCode: number },
): void {
  if (!json) {
    io.stderr.write(`${failure.message}\n`);
    return;
  }
  const report: JsonError = {
    error: { code: failure.code, message: failure.message, exitCode: failure.exitCode },
  };
  io.stderr.write(`${JSON.stringify(report)}\n`);
}
