import { IProtoServer } from '@iproto/server';
import { CliError, ExitCode } from '../cli-error.js';
import type { CliIO } from '../io.js';
import { handleKvRequest } from '../kv-box.js';
import { parseOptions, stringOption } from '../parse-options.js';
import { describeError, formatAddress, parseInteger } from '../values.js';

export interface ServeOptions {
  /** Answer every message with its own body instead of running the key-value box. */
  echo?: boolean;
}

/** The server `iproto serve` runs: an echo server, or the key-value box of `kv-box.ts`. */
export function createServer(options: ServeOptions = {}): IProtoServer {
  if (options.echo) return new IProtoServer({ handler: (request) => request.body });
  const store = new Map<string, Uint8Array>();
  return new IProtoServer({ handler: (request) => handleKvRequest(store, request.msg, request.body) });
}

export async function serveCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseOptions('serve', argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    echo: { type: 'boolean' },
  });
  if (positionals.length > 0) throw new CliError(`iproto serve: unexpected argument "${positionals[0]}"`);
  const port = parseInteger('--port', stringOption(values, 'port') ?? '0', 0, 65535);
  const host = stringOption(values, 'host') ?? '127.0.0.1';
  const echo = values.echo === true;
  const server = createServer({ echo });
  // A handler that throws is the server's business, not a reason to stop; report it on one line.
  server.on('error', (error: unknown) => io.stderr.write(`iproto serve: ${describeError(error)}\n`));

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
  const kind = echo ? 'echo' : 'key-value box';
  if (values.json)
    io.stdout.write(`${JSON.stringify({ listening: address, host: bound.host, port: bound.port, kind })}\n`);
  else io.stdout.write(`iproto serve: ${kind} listening on ${address} (Ctrl-C to stop)\n`);

  await new Promise<void>((resolve) => {
    if (!io.signal) return; // runs until the process is killed
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.close();
  if (!values.json) io.stdout.write('iproto serve: stopped\n');
  return ExitCode.OK;
}
