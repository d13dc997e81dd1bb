import { performance } from 'node:perf_hooks';
import { PING_MSG } from '@iproto/cluster';
import { Connection } from '@iproto/connection';
import { CliError, ExitCode } from '../cli-error.js';
import { Histogram } from '../histogram.js';
import type { CliIO } from '../io.js';
import { parseOptions, stringOption } from '../parse-options.js';
import {
  type Address,
  describeError,
  formatAddress,
  formatCount,
  parseAddress,
  parseInteger,
} from '../values.js';

export interface BenchOptions extends Address {
  requests?: number;
  depth?: number;
  connections?: number;
  /** Body size of each request, in bytes. */
  body?: number;
  msg?: number;
  timeout?: number;
  /** Stops issuing requests; the result covers what completed. */
  signal?: AbortSignal;
  /** Called about five times a second while the run lasts. */
  onProgress?: (progress: BenchProgress) => void;
}

/** A snapshot of a running `runBench`, handed to `onProgress`. */
export interface BenchProgress {
  completed: number;
  errors: number;
  total: number;
  elapsedMs: number;
  histogram: Histogram;
}

/** What `runBench` measured: the run's parameters, counts, throughput and latency percentiles. */
export interface BenchResult {
  address: string;
  msg: number;
  body: number;
  depth: number;
  connections: number;
  requests: number;
  errors: number;
  elapsedMs: number;
  /** Completed requests per second (errors excluded). */
  throughput: number;
  /** Latency in milliseconds. */
  latency: { min: number; mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
  firstError?: string;
}

/**
 * Keeps `depth` requests in flight on each of `connections` connections until `requests` have
 * completed. Latencies go into a histogram (nanoseconds), not an array, so a run of any length
 * costs the same memory.
 */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const {
    host,
    port,
    requests: total = 100_000,
    depth = 64,
    connections: connectionCount = 1,
    body: bodySize = 0,
    msg = PING_MSG,
    timeout = 2000,
    signal,
    onProgress,
  } = options;
  const address = formatAddress({ host, port });
  const body = new Uint8Array(bodySize).fill(0x61);
  const connections = Array.from(
    { length: connectionCount },
    () =>
      new Connection({
        host,
        port,
        timeout,
        connectTimeout: timeout,
        // The generator itself bounds what is in flight; the connection must not queue behind it.
        maxParallel: depth,
      }),
  );
  const histogram = new Histogram();
  let issued = 0;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  let started = 0;
  // Taken before the connections close: a graceful close is not part of the run.
  let finished = 0;
  let progressTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  let onAbort: (() => void) | undefined;

  try {
    try {
      await Promise.all(connections.map((c) => c.connect()));
    } catch (error) {
      throw new CliError(`iproto bench: ${address}: ${describeError(error, address)}`, ExitCode.FAILURE, {
        cause: error,
      });
    }
    started = performance.now();
    if (onProgress) {
      progressTimer = setInterval(
        () => onProgress({ completed, errors, total, elapsedMs: performance.now() - started, histogram }),
        200,
      );
      progressTimer.unref();
    }
    await new Promise<void>((resolve) => {
      const settle = () => {
        if (completed + errors === issued && (issued >= total || stopped)) resolve();
      };
      onAbort = () => {
        stopped = true;
        settle();
      };
      // `now` is when the previous request on this slot completed: the next one starts at once, so
      // one clock read serves as both that request's end and this one's start.
      const issue = (connection: Connection, failed: (error: unknown) => void, now: number) => {
        if (issued >= total || stopped) {
          settle();
          return;
        }
        issued++;
        // The timeout is the connection's own (set above): no options object per request.
        connection.send(msg, body).then(() => {
          const end = performance.now();
          histogram.record((end - now) * 1e6);
          completed++;
          issue(connection, failed, end);
        }, failed);
      };
      const start = (connection: Connection) => {
        const failed = (error: unknown) => {
          errors++;
          firstError ??= describeError(error);
          issue(connection, failed, performance.now());
        };
        for (let i = 0; i < depth; i++) issue(connection, failed, performance.now());
      };
      if (signal?.aborted) stopped = true;
      else signal?.addEventListener('abort', onAbort!, { once: true });
      for (const connection of connections) start(connection);
      settle();
    });
    finished = performance.now();
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    await Promise.all(connections.map((c) => c.close().catch(() => {})));
  }

  const elapsedMs = finished - started;
  const ms = (ns: number) => ns / 1e6;
  return {
    address,
    msg,
    body: bodySize,
    depth,
    connections: connectionCount,
    requests: completed,
    errors,
    elapsedMs,
    throughput: elapsedMs > 0 ? (completed / elapsedMs) * 1000 : 0,
    latency: {
      min: ms(histogram.min),
      mean: ms(histogram.mean),
      p50: ms(histogram.percentile(50)),
      p90: ms(histogram.percentile(90)),
      p99: ms(histogram.percentile(99)),
      p999: ms(histogram.percentile(99.9)),
      max: ms(histogram.max),
    },
    ...(firstError === undefined ? {} : { firstError }),
  };
}

/** The final table of a run, one metric per line. */
export function formatBenchTable(result: BenchResult): string {
  const f = (n: number) => n.toFixed(3);
  const rows: [string, string][] = [
    ['requests', formatCount(result.requests)],
    ['errors', formatCount(result.errors)],
    ['elapsed', `${(result.elapsedMs / 1000).toFixed(3)} s`],
    ['throughput', `${formatCount(result.throughput)} req/s`],
    ['latency p50', `${f(result.latency.p50)} ms`],
    ['latency p90', `${f(result.latency.p90)} ms`],
    ['latency p99', `${f(result.latency.p99)} ms`],
    ['latency p99.9', `${f(result.latency.p999)} ms`],
    ['latency max', `${f(result.latency.max)} ms`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const header =
    `iproto bench ${result.address}  msg=${result.msg} body=${result.body} B  ` +
    `depth=${result.depth} x ${result.connections} connection${result.connections === 1 ? '' : 's'}`;
  return [header, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
}

export async function benchCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseOptions('bench', argv, {
    requests: { type: 'string' },
    depth: { type: 'string' },
    connections: { type: 'string' },
    body: { type: 'string' },
    msg: { type: 'string' },
    timeout: { type: 'string' },
  });
  if (positionals.length !== 1)
    throw new CliError('iproto bench: give one server (usage: iproto bench host:port)');
  const address = parseAddress(positionals[0]);
  const live = io.stdout.isTTY === true && values.json !== true;
  const result = await runBench({
    ...address,
    requests: parseInteger(
      '--requests',
      stringOption(values, 'requests') ?? '100000',
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    depth: parseInteger('--depth', stringOption(values, 'depth') ?? '64', 1, 1_000_000),
    connections: parseInteger('--connections', stringOption(values, 'connections') ?? '1', 1, 10_000),
    body: parseInteger('--body', stringOption(values, 'body') ?? '0', 0, 64 * 1024 * 1024),
    msg: parseInteger('--msg', stringOption(values, 'msg') ?? String(PING_MSG)),
    timeout: parseInteger('--timeout', stringOption(values, 'timeout') ?? '2000', 1, 3_600_000),
    signal: io.signal,
    onProgress: live ? (p) => io.stdout.write(`\r\x1b[K${formatProgress(p)}`) : undefined,
  });
  if (live) io.stdout.write('\r\x1b[K');
  if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else io.stdout.write(`${formatBenchTable(result)}\n`);
  if (result.firstError !== undefined) {
    io.stderr.write(
      `iproto bench: ${formatCount(result.errors)} requests failed; first: ${result.firstError}\n`,
    );
    return ExitCode.FAILURE;
  }
  return ExitCode.OK;
}

function formatProgress(p: BenchProgress): string {
  const rate = p.elapsedMs > 0 ? (p.completed / p.elapsedMs) * 1000 : 0;
  const percent = ((p.completed + p.errors) / p.total) * 100;
  return (
    `${formatCount(p.completed)} / ${formatCount(p.total)} (${percent.toFixed(0)}%)  ` +
    `${formatCount(rate)} req/s  p99 ${(p.histogram.percentile(99) / 1e6).toFixed(3)} ms` +
    (p.errors > 0 ? `  ${formatCount(p.errors)} errors` : '')
  );
}
