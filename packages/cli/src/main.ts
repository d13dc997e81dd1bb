import { CliError, ExitCode } from './cli-error.js';
import { benchCommand } from './commands/bench.js';
import { boxCommand } from './commands/box.js';
import { decodeCommand } from './commands/decode.js';
import { pingCommand } from './commands/ping.js';
import { sendCommand } from './commands/send.js';
import { serveCommand } from './commands/serve.js';
import { COMMAND_HELP, type CommandName, GENERAL_HELP } from './help.js';
import type { CliIO } from './io.js';
import { describeError } from './values.js';

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
 * code. Never rejects: every error becomes one line on stderr.
 */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h') {
      io.stdout.write(`${GENERAL_HELP}\n`);
      return command === undefined ? ExitCode.USAGE : ExitCode.OK;
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
    // Words after "--" are values (`iproto send ... --pack a* -- -h`), not a request for help.
    const separator = rest.indexOf('--');
    const options = separator < 0 ? rest : rest.slice(0, separator);
    if (options.includes('--help') || options.includes('-h')) {
      io.stdout.write(`${COMMAND_HELP[command]}\n`);
      return ExitCode.OK;
    }
    return await COMMANDS[command](rest, io);
  } catch (error) {
    if (error instanceof CliError) {
      // Helpers throw without knowing the command; name it so every error line says where it came from.
      const line = error.message.startsWith('iproto') ? error.message : `iproto ${command}: ${error.message}`;
      io.stderr.write(`${line}\n`);
      return error.exitCode;
    }
    io.stderr.write(`iproto${command ? ` ${command}` : ''}: ${describeError(error)}\n`);
    return ExitCode.FAILURE;
  }
}
