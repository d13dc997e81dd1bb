import { CliError, ExitCode } from './cli-error.js';
import { benchCommand } from './commands/bench.js';
import { boxCommand } from './commands/box.js';
import { decodeCommand } from './commands/decode.js';
import { pingCommand } from './commands/ping.js';
import { sendCommand } from './commands/send.js';
import { serveCommand } from './commands/serve.js';
import { describeFailure, writeError } from './error-output.js';
import { COMMAND_HELP, type CommandName, GENERAL_HELP } from './help.js';
import type { CliIO } from './io.js';
import { VERSION } from './version.js';

const COMMANDS: Record<CommandName, (argv: string[], io: CliIO) => Promise<number>> = {
  ping: pingCommand,
  send: sendCommand,
  decode: decodeCommand,
  bench: benchCommand,
  serve: serveCommand,
  box: boxCommand,
};

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/**
 * Runs the `iproto` command line (without the `node` and script words) and resolves to the exit
 * code. Never rejects: every error becomes one line on stderr, or with `--json` one JSON object
 * (`{"error":{"code","message","exitCode"}}`), whatever the command and whatever failed.
 */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  // Words after "--" are values (`iproto send ... --pack a* -- -h`), not options.
  const separator = argv.indexOf('--');
  const words = separator < 0 ? argv : argv.slice(0, separator);
  const json = words.includes('--json');
  try {
    if (command === undefined || command === '--help' || command === '-h') {
      io.stdout.write(`${GENERAL_HELP}\n`);
      return command === undefined ? ExitCode.USAGE : ExitCode.OK;
    }
    if (command === '--version' || command === '-V') {
      if (rest.length > (json ? 1 : 0))
        throw new CliError(`iproto ${command}: takes no arguments but --json`);
      io.stdout.write(json ? `${JSON.stringify({ version: VERSION })}\n` : `${VERSION}\n`);
      return ExitCode.OK;
    }
    if (command === 'help') {
      const topic = rest[0];
      if (topic === undefined) io.stdout.write(`${GENERAL_HELP}\n`);
      else if (isCommand(topic)) io.stdout.write(`${COMMAND_HELP[topic]}\n`);
      else
        throw new CliError(
          `iproto help: unknown command "${topic}" (commands: ${Object.keys(COMMANDS).join(', ')})`,
        );
      return ExitCode.OK;
    }
    if (!isCommand(command)) {
      throw new CliError(
        `iproto: unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(', ')})`,
      );
    }
    if (words.includes('--help') || words.includes('-h')) {
      io.stdout.write(`${COMMAND_HELP[command]}\n`);
      return ExitCode.OK;
    }
    return await COMMANDS[command](rest, io);
  } catch (error) {
    const failure = describeFailure(error, command);
    writeError(io, json, failure);
    return failure.exitCode;
  }
}
