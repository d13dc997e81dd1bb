import { PING_MSG } from '@iproto/cluster';
import { Connection, IProtoError, isIProtoErrorCode } from '@iproto/connection';
import { CliError, ExitCode } from '../cli-error.js';
import type { CliIO } from '../io.js';
import { parseOptions, stringOption } from '../parse-options.js';
import { type Address, describeError, formatAddress, parseAddressList, parseInteger } from '../values.js';

/** Options of `pingServer`: the msg code to send, how many pings, and each one's timeout in milliseconds. */
export interface PingOptions {
  msg?: number;
  count?: number;
  timeout?: number;
}

/** One server's outcome of `pingServer`: up or down, round-trip times, and the error when down. */
export interface PingResult {
  address: string;
  up: boolean;
  /** Round-trip time of each ping, in milliseconds. */
  rtt: number[];
  error?: string;
  code?: string;
}

const EMPTY = new Uint8Array(0);

/** Pings one server `count` times over one connection; never rejects. */
export async function pingServer(address: Address, options: PingOptions = {}): Promise<PingResult> {
  const { msg = PING_MSG, count = 1, timeout = 2000 } = options;
  const name = formatAddress(address);
  const connection = new Connection({
    host: address.host,
    port: address.port,
    connectTimeout: timeout,
    timeout,
  });
  const rtt: number[] = [];
  try {
    // Connect first so the round-trip times measure the protocol, not the TCP handshake.
    await connection.connect();
    for (let i = 0; i < count; i++) {
      const started = process.hrtime.bigint();
      await connection.send(msg, EMPTY, { timeout });
      rtt.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return { address: name, up: true, rtt };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      address: name,
      up: false,
      rtt,
      // The address is the table's first column already; do not say it twice.
      error: describeError(error, name),
      ...(typeof code === 'string' ? { code } : {}),
    };
  } finally {
    await connection.close().catch(() => {});
  }
}

export async function pingCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseOptions('ping', argv, {
    msg: { type: 'string' },
    count: { type: 'string' },
    timeout: { type: 'string' },
  });
  if (positionals.length === 0)
    throw new CliError('iproto ping: no server given (usage: iproto ping host:port[,...])');
  const addresses = positionals.flatMap((p) => parseAddressList(p));
  const options: PingOptions = {
    msg: parseInteger('--msg', stringOption(values, 'msg') ?? String(PING_MSG)),
    count: parseInteger('--count', stringOption(values, 'count') ?? '1', 1, 1_000_000),
    timeout: parseInteger('--timeout', stringOption(values, 'timeout') ?? '2000', 1, 3_600_000),
  };
  const results = await Promise.all(addresses.map((a) => pingServer(a, options)));
  const allUp = results.every((r) => r.up);

  if (values.json) {
    io.stdout.write(`${JSON.stringify({ ok: allUp, servers: results })}\n`);
  } else {
    const width = Math.max(...results.map((r) => r.address.length));
    for (const r of results) {
      const state = r.up ? 'up  ' : 'down';
      io.stdout.write(`${r.address.padEnd(width)}  ${state}  ${r.up ? describeRtt(r.rtt) : r.error}\n`);
    }
  }
  const down = results.filter((r) => !r.up);
  if (down.length > 0) {
    // The table (or JSON) above says why each is down; the error names them for scripts and logs.
    throw new CliError(
      `iproto ping: ${down.length} of ${results.length} server${results.length === 1 ? '' : 's'} down: ` +
        down.map((r) => r.address).join(', '),
      ExitCode.FAILURE,
      { cause: downCause(down[0]) },
    );
  }
  return ExitCode.OK;
}

function describeRtt(rtt: number[]): string {
  if (rtt.length === 1) return `${rtt[0].toFixed(3)} ms`;
  const min = Math.min(...rtt);
  const max = Math.max(...rtt);
  const avg = rtt.reduce((a, b) => a + b, 0) / rtt.length;
  return `min/avg/max ${min.toFixed(3)}/${avg.toFixed(3)}/${max.toFixed(3)} ms (${rtt.length} pings)`;
}

/** The first down server's failure as an error, so the command's error code is the connection's. */
function downCause(result: PingResult): unknown {
  const { code, error } = result;
  return code !== undefined && isIProtoErrorCode(code)
    ? new IProtoError(code, error ?? code, { address: result.address })
    : new Error(error);
}
