import { PING_MSG, RR } from '@iproto/cluster';
import { HEADER_SIZE, parseCapture } from '@iproto/framing';
import {
  type BenchOptions,
  type BenchProgress,
  type BenchRequest,
  type BenchResult,
  MAX_IN_FLIGHT,
  runBench,
} from '../bench/run-bench.js';
import { CliError, ExitCode } from '../cli-error.js';
import type { CliIO } from '../io.js';
import { parseOptions, stringOption } from '../parse-options.js';
import { readSmallFile } from '../read-input.js';
import { readRequestBody } from '../request-body.js';
import {
  describeError,
  formatCount,
  formatDuration,
  formatMsg,
  parseAddressList,
  parseBalance,
  parseDuration,
  parseInteger,
  parseRate,
} from '../values.js';

/** The `--key` that asks for a key per request, drawn from the seeded PRNG. */
const RANDOM_KEYS = 'random';

/** The largest `--frame` file read: room for a few frames of the largest size. */
export const MAX_FRAME_FILE = 64 * 1024 * 1024;
/** The longest `--duration` (a day) and `--warmup` (an hour). */
const MAX_DURATION = 86_400_000;
const MAX_WARMUP = 3_600_000;

/** The final table of a run, one metric per line. */
export function formatBenchTable(result: BenchResult): string {
  const f = (n: number) => n.toFixed(3);
  const rows: [string, string][] = [
    ['requests', formatCount(result.requests)],
    ['errors', formatCount(result.errors)],
    ...(result.mode === 'fixed-rate' ? [['unsent', formatCount(result.unsent)] as [string, string]] : []),
    ['elapsed', `${(result.elapsedMs / 1000).toFixed(3)} s`],
    ['throughput', `${formatCount(result.throughput)} req/s`],
    ['latency p50', `${f(result.latency.p50)} ms`],
    ['latency p90', `${f(result.latency.p90)} ms`],
    ['latency p99', `${f(result.latency.p99)} ms`],
    ['latency p99.9', `${f(result.latency.p999)} ms`],
    ['latency max', `${f(result.latency.max)} ms`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const what =
    result.kinds === 1
      ? `msg=${formatMsg(result.msg)} body=${result.body} B`
      : `${result.kinds} requests in turn`;
  const load =
    result.mode === 'fixed-rate'
      ? `rate=${formatCount(result.rate!)}/s  depth<=${result.depth}`
      : `depth=${result.depth}`;
  const header =
    `iproto bench ${result.address}  ${what}  ${load} x ${result.connections} ` +
    `connection${result.connections === 1 ? '' : 's'}` +
    (result.warmupMs > 0 ? `  warmup=${formatDuration(result.warmupMs)}` : '') +
    formatBalancing(result);
  return [header, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
}

/** `  balance=hash-crc32 key=random seed=1`; nothing for round-robin over one server, the default. */
function formatBalancing(result: BenchResult): string {
  const several = result.address.includes(',');
  if (!several && result.balance === RR && result.key === undefined) return '';
  const seed = result.seed === undefined ? '' : ` seed=${result.seed}`;
  return `  balance=${result.balance}${result.key === undefined ? '' : ` key=${result.key}${seed}`}`;
}

export async function benchCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseOptions('bench', argv, {
    requests: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    rate: { type: 'string' },
    depth: { type: 'string' },
    connections: { type: 'string' },
    body: { type: 'string' },
    msg: { type: 'string' },
    pack: { type: 'string' },
    'payload-hex': { type: 'string' },
    frame: { type: 'string' },
    timeout: { type: 'string' },
    balance: { type: 'string' },
    key: { type: 'string' },
    seed: { type: 'string' },
  });
  const [servers, ...words] = positionals;
  if (servers === undefined)
    throw new CliError('iproto bench: give the servers (usage: iproto bench host:port[,host:port...])');
  // Validates every address up front, so a typo is a usage error before anything connects.
  parseAddressList(servers);
  const option = (name: string) => stringOption(values, name);
  const countText = option('requests');
  const durationText = option('duration');
  const rateText = option('rate');
  const warmup = parseDuration('--warmup', option('warmup') ?? '0', 0, MAX_WARMUP);
  const settings = {
    ...(countText === undefined
      ? {}
      : { requests: parseInteger('--requests', countText, 1, Number.MAX_SAFE_INTEGER) }),
    ...(durationText === undefined
      ? {}
      : { duration: parseDuration('--duration', durationText, 1, MAX_DURATION) }),
    ...(rateText === undefined ? {} : { rate: parseRate('--rate', rateText) }),
    warmup,
    depth: parseInteger('--depth', option('depth') ?? '64', 1, 1_000_000),
    connections: parseInteger('--connections', option('connections') ?? '1', 1, 10_000),
    timeout: parseInteger('--timeout', option('timeout') ?? '2000', 1, 3_600_000),
  };
  if (settings.depth * settings.connections > MAX_IN_FLIGHT)
    throw new CliError(
      `iproto bench: --depth x --connections may keep at most ${MAX_IN_FLIGHT} requests in flight, got ${settings.depth} x ${settings.connections}`,
      ExitCode.USAGE,
    );
  const balancing = readBalancing(values);
  const messages = await readBenchRequests(values, words, io);

  const live = io.stdout.isTTY === true && values.json !== true;
  const result = await runBench({
    servers,
    ...settings,
    ...balancing,
    messages,
    signal: io.signal,
    onProgress: live ? (p) => io.stdout.write(`\r\x1b[K${formatProgress(p)}`) : undefined,
  });
  if (live) io.stdout.write('\r\x1b[K');
  if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else io.stdout.write(`${formatBenchTable(result)}\n`);
  if (result.firstError !== undefined) {
    throw new CliError(
      `iproto bench: ${formatCount(result.errors)} requests failed; first: ${result.firstError}`,
      ExitCode.FAILURE,
      { cause: { code: result.firstErrorCode } },
    );
  }
  if (result.unsent > 0 && values.json !== true) {
    // Not a failure (the figures above are right for what was sent), but what they leave out.
    io.stderr.write(
      `iproto bench: ${formatCount(result.unsent)} requests due were never sent: all ` +
        `${formatCount(result.depth * result.connections)} slots (--depth x --connections) were busy, ` +
        'so the servers (or this generator) fell behind the rate\n',
    );
  }
  return ExitCode.OK;
}

/**
 * How requests pick their server: `--balance` (as `send` reads it), over `--key KEY` (every request's
 * key) or `--key random` (a key per request from a PRNG seeded with `--seed`, default 1).
 */
function readBalancing(
  values: Parameters<typeof stringOption>[0],
): Pick<BenchOptions, 'balance' | 'key' | 'randomKeys'> {
  const key = stringOption(values, 'key');
  const seed = stringOption(values, 'seed');
  const balance = parseBalance('bench', stringOption(values, 'balance'), key !== undefined);
  if (seed !== undefined && key !== RANDOM_KEYS)
    throw new CliError(
      `iproto bench: --seed seeds the keys of --key ${RANDOM_KEYS}; give --key ${RANDOM_KEYS}`,
    );
  if (key === RANDOM_KEYS)
    return { balance, randomKeys: { seed: parseInteger('--seed', seed ?? '1', 0, 0xffffffff) } };
  return { balance, ...(key === undefined ? {} : { key }) };
}

/**
 * What `iproto bench` sends: the frames of `--frame FILE` in turn, or one request of `--msg` with
 * the body of `--pack` and values, `--payload-hex` or `--body BYTES`.
 */
async function readBenchRequests(
  values: Parameters<typeof readRequestBody>[1],
  words: readonly string[],
  io: CliIO,
): Promise<BenchRequest[]> {
  const frameFile = stringOption(values, 'frame');
  const bodySize = stringOption(values, 'body');
  if (frameFile !== undefined) {
    for (const other of ['msg', 'pack', 'payload-hex', 'body']) {
      if (values[other] !== undefined)
        throw new CliError(`iproto bench: --frame gives the message code and body; drop --${other}`);
    }
    if (words.length > 0) throw new CliError(`iproto bench: values given without --pack: ${words.join(' ')}`);
    return readFrameFile(frameFile);
  }
  const msg = parseInteger('--msg', stringOption(values, 'msg') ?? String(PING_MSG));
  const body = await readRequestBody('bench', values, words, io);
  if (bodySize !== undefined && body !== undefined)
    throw new CliError('iproto bench: --body gives a body of N bytes; drop it with --pack or --payload-hex');
  if (body !== undefined) return [{ msg, body }];
  return [
    { msg, body: new Uint8Array(parseInteger('--body', bodySize ?? '0', 0, 64 * 1024 * 1024)).fill(0x61) },
  ];
}

/** The frames of a file of back-to-back iproto frames (a capture), each sent with a sync of our own. */
async function readFrameFile(path: string): Promise<BenchRequest[]> {
  const bytes = await readSmallFile(path, 'iproto bench: --frame', MAX_FRAME_FILE);
  let frames: ReturnType<typeof parseCapture>['frames'];
  try {
    frames = parseCapture(bytes, { strict: true }).frames;
  } catch (error) {
    throw new CliError(`iproto bench: --frame ${path}: ${describeError(error)}`, ExitCode.USAGE, {
      cause: error,
    });
  }
  if (frames.length === 0)
    throw new CliError(
      `iproto bench: --frame ${path} holds no frame (a frame is a ${HEADER_SIZE}-byte header and its body)`,
    );
  return frames.map((frame) => ({ msg: frame.msg, body: frame.body }));
}

function formatProgress(p: BenchProgress): string {
  if (p.warmingUp) return `warming up...  ${p.errors > 0 ? `${formatCount(p.errors)} errors` : ''}`.trimEnd();
  const rate = p.elapsedMs > 0 ? (p.completed / p.elapsedMs) * 1000 : 0;
  const done =
    p.total !== undefined
      ? `${formatCount(p.completed)} / ${formatCount(p.total)} (${(((p.completed + p.errors) / p.total) * 100).toFixed(0)}%)`
      : `${formatCount(p.completed)}  ${(p.elapsedMs / 1000).toFixed(1)} / ${((p.duration ?? 0) / 1000).toFixed(1)} s`;
  return (
    `${done}  ${formatCount(rate)} req/s  p99 ${(p.histogram.percentile(99) / 1e6).toFixed(3)} ms` +
    (p.errors > 0 ? `  ${formatCount(p.errors)} errors` : '')
  );
}
