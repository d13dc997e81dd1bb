import { IProtoServer } from '@iproto/server';
import { BoxDouble, type BoxFieldType, type BoxSpaceOptions } from '@iproto/server/testing';
import { CliError, ExitCode } from '../cli-error.js';
import { describeFailure, writeError } from '../error-output.js';
import type { CliIO } from '../io.js';
import { parseOptions, stringOption } from '../parse-options.js';
import { describeError, formatAddress, parseInteger } from '../values.js';

/** Options of `createServer` (`iproto serve`). */
export interface ServeOptions {
  /** Answer every message with its own body instead of running the box. */
  echo?: boolean;
  /** The box's spaces (see `parseSpace`). Default: space 0 keyed by field 0 as a NUM. */
  spaces?: BoxSpaceOptions[];
}

/** The spaces `iproto serve` runs without `--space`: space 0, keyed by field 0 as a NUM. */
export const DEFAULT_SERVE_SPACES: readonly string[] = ['0:NUM'];

/**
 * The server `iproto serve` runs: an echo server, or a Tarantool 1.5 box double
 * (`@iproto/server/testing`'s `BoxDouble`) holding its tuples in memory.
 */
export function createServer(options: ServeOptions = {}): IProtoServer {
  if (options.echo) return new IProtoServer({ handler: (request) => request.body });
  return new BoxDouble({ spaces: options.spaces ?? DEFAULT_SERVE_SPACES.map(parseSpace) });
}

const TYPES = new Set<string>(['NUM', 'NUM64', 'STR']);

/**
 * `--space ID[:TYPE[,TYPE...]]`: space ID whose primary key is fields 0, 1, ... of those types (NUM,
 * NUM64 or STR; default NUM), a TREE index, so partial keys work.
 */
export function parseSpace(text: string): BoxSpaceOptions {
  const [idText, typesText = 'NUM', extra] = text.split(':');
  if (extra !== undefined) throw new CliError(`iproto serve: bad --space "${text}": expected ID[:TYPE,...]`);
  const space = parseInteger('--space', idText);
  const types = typesText.split(',').map((type) => type.trim().toUpperCase());
  for (const type of types) {
    if (!TYPES.has(type))
      throw new CliError(
        `iproto serve: bad --space "${text}": key types are NUM, NUM64 and STR, got "${type}"`,
      );
  }
  return {
    space,
    indexes: [{ parts: types.map((type, field) => ({ field, type: type as BoxFieldType })) }],
  };
}

export async function serveCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseOptions('serve', argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    echo: { type: 'boolean' },
    space: { type: 'string', multiple: true },
  });
  if (positionals.length > 0) throw new CliError(`iproto serve: unexpected argument "${positionals[0]}"`);
  const port = parseInteger('--port', stringOption(values, 'port') ?? '0', 0, 65535);
  const host = stringOption(values, 'host') ?? '127.0.0.1';
  const echo = values.echo === true;
  const spaceTexts = (values.space as string[] | undefined) ?? [...DEFAULT_SERVE_SPACES];
  if (echo && values.space !== undefined)
    throw new CliError('iproto serve: --space and --echo exclude each other');
  const spaces = spaceTexts.map(parseSpace);
  const ids = new Set(spaces.map((space) => space.space));
  if (ids.size !== spaces.length) throw new CliError('iproto serve: a space is given twice with --space');
  const server = createServer({ echo, spaces });
  // A handler that throws is the server's business, not a reason to stop; report it on one line.
  server.on('error', (error: unknown) =>
    writeError(io, values.json === true, describeFailure(error, 'serve')),
  );

  let bound: { host: string; port: number };
  try {
    bound = await server.listen(port, host);
  } catch (error) {
    throw new CliError(
      `iproto serve: cannot listen on ${formatAddress({ host, port })}: ${describeError(error)}`,
      ExitCode.FAILURE,
    );
  }
  const address = formatAddress(bound);
  const kind = echo ? 'echo' : 'box';
  const described = spaceTexts.map((text) => `space ${text.replace(':', ' ').toUpperCase()}`).join(', ');
  if (values.json) {
    const json: Record<string, unknown> = { listening: address, host: bound.host, port: bound.port, kind };
    if (!echo) json.spaces = spaceTexts;
    io.stdout.write(`${JSON.stringify(json)}\n`);
  } else if (echo) io.stdout.write(`iproto serve: echo listening on ${address} (Ctrl-C to stop)\n`);
  else
    io.stdout.write(
      `iproto serve: Tarantool 1.5 box (${described}) listening on ${address} (Ctrl-C to stop)\n`,
    );

  await new Promise<void>((resolve) => {
    if (!io.signal) return; // runs until the process is killed
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.close();
  if (!values.json) io.stdout.write('iproto serve: stopped\n');
  return ExitCode.OK;
}
