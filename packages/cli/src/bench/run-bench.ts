import { performance } from 'node:perf_hooks';
import { IProto, type PlainMessage } from '@iproto/client';
import { type Balance, Cluster, HASH, KETAMA, PING_MSG, RR } from '@iproto/cluster';
import { createRng } from '@iproto/test-kit';
import { CliError, ExitCode } from '../cli-error.js';
import { Histogram } from '../histogram.js';
import { describeError, formatAddress, MAX_RATE, parseAddressList } from '../values.js';

/** One request the generator sends: its message code and body. */
export interface BenchRequest {
  msg: number;
  body: Uint8Array;
}

/** What `runBench` sends, to which servers, for how long and at what rate. */
export interface BenchOptions {
  /** The servers, as Perl's string `host:port[:weight],...`; requests go to them by `balance`. */
  servers?: string;
  /**
   * How each request picks its server, as MR::IProto::Cluster picks it: `'round-robin'` (default),
   * or `'hash-crc32'` and `'ketama'` on the request's key (which then needs `key` or `randomKeys`).
   */
  balance?: Balance;
  /** The balancing key of every request (Perl hashes its string form: `7` and `'7'` are one key). */
  key?: string | number | bigint;
  /**
   * A key per request instead of `key`: an integer in [0, 2^32) drawn from a PRNG seeded with
   * `seed` (default 1), so hash balancing spreads the requests as many keys would, the same way
   * every run.
   */
  randomKeys?: { seed?: number };
  /** One server, when `servers` is not given. */
  host?: string;
  port?: number;
  /**
   * What to send, in turn (a capture's frames, say). Default: one request of `msg` with a body of
   * `body` bytes.
   */
  messages?: readonly BenchRequest[];
  /** Message code of the default request (default 0xff00, the ping). */
  msg?: number;
  /** Body size of the default request, in bytes (default 0). */
  body?: number;
  /**
   * Stop after this many measured requests have completed. Default: 100,000 when no `duration` is
   * given, else no limit.
   */
  requests?: number;
  /** Stop issuing requests after this long, in ms (the warm-up not included). */
  duration?: number;
  /** Send for this long, in ms, before measuring; what completes then is not counted (default 0). */
  warmup?: number;
  /**
   * Fixed-rate mode: requests per second, sent on a schedule whatever the replies do, each one's
   * latency measured from when the schedule meant to send it. Default: closed loop (`depth` in
   * flight per connection, the next sent when one completes).
   */
  rate?: number;
  /** Requests in flight per connection: kept there (closed loop), or at most (fixed rate). Default 64. */
  depth?: number;
  /** Connections to each server (default 1): each is a client of its own over the servers. */
  connections?: number;
  /** Per-request timeout, ms (default 2000). */
  timeout?: number;
  /** Stops issuing requests; the result covers what completed. */
  signal?: AbortSignal;
  /** Called about five times a second while the run lasts. */
  onProgress?: (progress: BenchProgress) => void;
}

/** A snapshot of a running `runBench`, handed to `onProgress`. */
export interface BenchProgress {
  /** Whether the warm-up still runs (then nothing is counted yet). */
  warmingUp: boolean;
  completed: number;
  errors: number;
  /** Requests to measure, when the run stops at a count. */
  total?: number;
  /** Milliseconds to measure, when the run stops at a duration. */
  duration?: number;
  elapsedMs: number;
  histogram: Histogram;
}

/** What `runBench` measured: the run's parameters, counts, throughput and latency percentiles. */
export interface BenchResult {
  /** The servers, comma-separated. */
  address: string;
  /** How requests picked their server. */
  balance: Balance;
  /** The balancing key: the fixed key (its string form), or `'random'` for `randomKeys`. */
  key?: string;
  /** `randomKeys`: the seed the keys were drawn with. */
  seed?: number;
  /** The first request's message code and body size. */
  msg: number;
  body: number;
  /** How many different requests were sent in turn. */
  kinds: number;
  mode: 'closed-loop' | 'fixed-rate';
  /** Fixed rate: the requests per second asked for. */
  rate?: number;
  depth: number;
  connections: number;
  warmupMs: number;
  /** Measured requests that completed. */
  requests: number;
  errors: number;
  /**
   * Fixed rate: requests the schedule meant to send before the end that were never sent, because
   * `depth` x `connections` were all in flight (the servers, or the generator, fell behind).
   */
  unsent: number;
  /** From the end of the warm-up to the last measured reply. */
  elapsedMs: number;
  /** Completed requests per second (errors excluded). */
  throughput: number;
  /**
   * Latency in milliseconds: from the send (closed loop) or from the scheduled send time (fixed
   * rate, so time spent waiting behind a slow reply counts, as coordinated omission demands).
   */
  latency: { min: number; mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
  /** The first failure, as one line, and its `code` when it has one (`ETIMEDOUT`, ...). */
  firstError?: string;
  firstErrorCode?: string;
}

/**
 * The most requests a run keeps in flight (`depth` × `connections`): each costs the generator about
 * a kilobyte of heap, and a million of them would take the process down before the first reply.
 */
export const MAX_IN_FLIGHT = 100_000;

/** Requests measured when neither a count nor a duration is given. */
export const DEFAULT_BENCH_COUNT = 100_000;

/** `randomKeys` draw integers below this: every uint32, as an application's ids might be. */
const KEY_RANGE = 2 ** 32;

const NO_VALUES: unknown[] = [];
/** The reply's bytes are not looked at: a load generator measures, it does not decode. */
const ignoreReply = (): unknown[] => NO_VALUES;

function check(name: string, value: number | undefined, min: number, max: number, integer: boolean): void {
  if (value === undefined) return;
  if (
    typeof value !== 'number' ||
    !(value >= min && value <= max) ||
    (integer && !Number.isSafeInteger(value))
  ) {
    throw new CliError(
      `runBench: ${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${String(value)}`,
    );
  }
}

/**
 * A load generator over `@iproto/client`: `connections` clients, each over its own cluster of the
 * servers (one connection to each), sending `requests` in turn, balanced over the servers, with
 * no retries (a failure is counted, not hidden). Latencies go into a histogram (nanoseconds), not an
 * array, so a run of any length costs the same memory.
 */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const {
    msg = PING_MSG,
    body: bodySize = 0,
    duration,
    warmup = 0,
    rate,
    depth = 64,
    connections: connectionCount = 1,
    timeout = 2000,
    signal,
    onProgress,
  } = options;
  check('requests', options.requests, 1, Number.MAX_SAFE_INTEGER, true);
  check('duration', duration, 1, Number.MAX_SAFE_INTEGER, false);
  check('warmup', warmup, 0, Number.MAX_SAFE_INTEGER, false);
  if (rate !== undefined && !(typeof rate === 'number' && rate > 0 && rate <= MAX_RATE))
    throw new CliError(`runBench: rate must be a number above 0 and up to ${MAX_RATE}, got ${String(rate)}`);
  check('depth', depth, 1, 1_000_000, true);
  check('connections', connectionCount, 1, 10_000, true);
  if (depth * connectionCount > MAX_IN_FLIGHT)
    throw new CliError(
      `runBench: depth × connections must be at most ${MAX_IN_FLIGHT} requests in flight, got ${depth} × ${connectionCount}`,
    );
  check('body', bodySize, 0, 64 * 1024 * 1024, true);
  const { balance = RR, key, randomKeys } = options;
  if (balance !== RR && balance !== HASH && balance !== KETAMA)
    throw new CliError(`runBench: balance must be '${RR}', '${HASH}' or '${KETAMA}', got ${String(balance)}`);
  if (key !== undefined && randomKeys !== undefined)
    throw new CliError('runBench: give key or randomKeys, not both');
  if (key !== undefined && !['string', 'number', 'bigint'].includes(typeof key))
    throw new CliError(`runBench: key must be a string, number or bigint, got ${typeof key}`);
  const seed = randomKeys === undefined ? undefined : (randomKeys.seed ?? 1);
  check('randomKeys.seed', seed, 0, 0xffffffff, true);
  if (balance !== RR && key === undefined && randomKeys === undefined)
    throw new CliError(`runBench: balance ${balance} needs key or randomKeys`);
  const count = options.requests ?? (duration === undefined ? DEFAULT_BENCH_COUNT : Number.POSITIVE_INFINITY);
  const servers =
    options.servers ??
    (options.host !== undefined && options.port !== undefined
      ? formatAddress({ host: options.host, port: options.port })
      : undefined);
  if (servers === undefined) throw new CliError('runBench: give servers, or host and port');
  const address = parseAddressList(servers).map(formatAddress).join(',');
  const kinds = options.messages ?? [{ msg, body: new Uint8Array(bodySize).fill(0x61) }];
  if (kinds.length === 0) throw new CliError('runBench: messages is empty');
  const messages: PlainMessage[] = kinds.map((r) => ({
    msg: r.msg,
    payload: r.body,
    unpack: ignoreReply,
    retry: false,
    ...(key === undefined ? {} : { key }),
  }));
  // Drawn when a request is sent, so the same seed gives the same keys in the same order.
  const nextKey =
    seed === undefined
      ? undefined
      : (() => {
          const rng = createRng(seed);
          return () => rng.below(KEY_RANGE);
        })();

  // Each "connection" is a client over a cluster of its own: one socket to every server.
  const clusters: Cluster[] = [];
  const clients: IProto[] = [];
  const histogram = new Histogram();
  let progressTimer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    try {
      for (let i = 0; i < connectionCount; i++) {
        const cluster = new Cluster({
          servers,
          balance,
          health: false,
          timeout,
          connectTimeout: timeout,
          // The generator bounds what is in flight; neither layer below may queue behind it.
          maxParallel: depth,
        });
        clusters.push(cluster);
        clients.push(new IProto({ cluster, maxParallel: depth, maxRequestRetries: 1 }));
      }
    } catch (error) {
      throw new CliError(`iproto bench: bad servers "${servers}": ${describeError(error)}`, ExitCode.USAGE, {
        cause: error,
      });
    }
    // Connect first: the handshakes are not part of the run, and a server down is an error at once.
    await Promise.all(
      clusters.flatMap((cluster) =>
        cluster.servers.map((server) =>
          server.connection.connect().catch((error: unknown) => {
            throw new CliError(
              `iproto bench: ${server.address}: ${describeError(error, server.address)}`,
              ExitCode.FAILURE,
              { cause: error },
            );
          }),
        ),
      ),
    );

    const run = new Run(clients, messages, nextKey, histogram, { count, duration, warmup, rate, depth });
    // Aborted while connecting: the run stops before it sends anything.
    if (signal?.aborted) run.stop();
    if (onProgress) {
      progressTimer = setInterval(() => onProgress(run.progress()), 200);
      progressTimer.unref();
    }
    onAbort = () => run.stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    run.start();
    await run.done;

    const elapsedMs = run.elapsedMs;
    const ms = (ns: number) => ns / 1e6;
    return {
      address,
      balance,
      ...(key === undefined ? {} : { key: String(key) }),
      ...(seed === undefined ? {} : { key: 'random', seed }),
      msg: kinds[0].msg,
      body: kinds[0].body.length,
      kinds: kinds.length,
      mode: rate === undefined ? 'closed-loop' : 'fixed-rate',
      ...(rate === undefined ? {} : { rate }),
      depth,
      connections: connectionCount,
      warmupMs: warmup,
      requests: run.completed,
      errors: run.errors,
      unsent: run.unsent,
      elapsedMs,
      throughput: elapsedMs > 0 ? (run.completed / elapsedMs) * 1000 : 0,
      latency: {
        min: ms(histogram.min),
        mean: ms(histogram.mean),
        p50: ms(histogram.percentile(50)),
        p90: ms(histogram.percentile(90)),
        p99: ms(histogram.percentile(99)),
        p999: ms(histogram.percentile(99.9)),
        max: ms(histogram.max),
      },
      ...(run.firstError === undefined ? {} : failureOf(run.firstError)),
    };
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await Promise.all(clusters.map((c) => c.close().catch(() => {})));
  }
}

function failureOf(error: unknown): { firstError: string; firstErrorCode?: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return { firstError: describeError(error), ...(typeof code === 'string' ? { firstErrorCode: code } : {}) };
}

/** The longest delay `setTimeout` keeps (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface RunLimits {
  count: number;
  duration: number | undefined;
  warmup: number;
  rate: number | undefined;
  depth: number;
}

/**
 * One run's state: what was sent, what completed, when the measured part began and ended. Closed
 * loop and fixed rate share it; they differ in when a request goes out and what its latency counts
 * from.
 */
class Run {
  completed = 0;
  errors = 0;
  unsent = 0;
  firstError: unknown;
  readonly done: Promise<void>;
  readonly #clients: readonly IProto[];
  readonly #messages: readonly PlainMessage[];
  readonly #nextKey: (() => number) | undefined;
  readonly #histogram: Histogram;
  readonly #limits: RunLimits;
  /**
   * Times are ms since the run (warm-up included) began: a request's due time is then exactly
   * i * 1000 / rate, and compares exactly with the warm-up and the duration.
   */
  readonly #start: number;
  /** When the measured part begins, and when it stops issuing. */
  readonly #measureFrom: number;
  readonly #measureUntil: number;
  /** When the last request settled, once the run is done. */
  #finished: number | undefined;
  #issued = 0;
  /** Measured requests issued: the count limit applies to them. */
  #measuredIssued = 0;
  #inFlight = 0;
  #started = false;
  #stopped = false;
  /** When `stop()` was called: requests due after it were not left unsent, they were not wanted. */
  #stoppedAt = Number.POSITIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #resolve!: () => void;

  constructor(
    clients: readonly IProto[],
    messages: readonly PlainMessage[],
    nextKey: (() => number) | undefined,
    histogram: Histogram,
    limits: RunLimits,
  ) {
    this.#clients = clients;
    this.#messages = messages;
    this.#nextKey = nextKey;
    this.#histogram = histogram;
    this.#limits = limits;
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    this.#start = performance.now();
    this.#measureFrom = limits.warmup;
    this.#measureUntil =
      limits.duration === undefined ? Number.POSITIVE_INFINITY : limits.warmup + limits.duration;
  }

  /** Sends the first requests (nothing, when the run was stopped before it started). */
  start(): void {
    this.#started = true;
    if (this.#limits.rate === undefined) {
      for (const client of this.#clients)
        for (let i = 0; i < this.#limits.depth; i++) this.#closedLoop(client, 0);
    } else {
      this.#pump();
    }
    this.#settle();
  }

  get elapsedMs(): number {
    return Math.max(0, (this.#finished ?? this.#clock()) - this.#measureFrom);
  }

  #clock(): number {
    return performance.now() - this.#start;
  }

  progress(): BenchProgress {
    const now = this.#clock();
    const { count, duration } = this.#limits;
    return {
      warmingUp: now < this.#measureFrom,
      completed: this.completed,
      errors: this.errors,
      ...(Number.isFinite(count) ? { total: count } : {}),
      ...(duration === undefined ? {} : { duration }),
      elapsedMs: Math.max(0, now - this.#measureFrom),
      histogram: this.#histogram,
    };
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    // Stopped before it started, nothing was due; with a timer set (it is the next request's),
    // nothing due before that request waits for a slot, however late the timer fires.
    this.#stoppedAt = !this.#started
      ? 0
      : this.#timer === undefined
        ? this.#clock()
        : Math.min(this.#clock(), this.#due(this.#issued));
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#settle();
  }

  /** Whether a request meant for `at` may still go out (and is then measured when `at` is past the warm-up). */
  #mayIssue(at: number): boolean {
    if (this.#stopped) return false;
    if (at < this.#measureFrom) return true;
    return at < this.#measureUntil && this.#measuredIssued < this.#limits.count;
  }

  #send(client: IProto, at: number, onSettled: (measured: boolean, ok: boolean, end: number) => void): void {
    const measured = at >= this.#measureFrom;
    if (measured) this.#measuredIssued++;
    const template = this.#messages[this.#issued++ % this.#messages.length];
    const message = this.#nextKey === undefined ? template : { ...template, key: this.#nextKey() };
    this.#inFlight++;
    client.send(message).then(
      () => {
        const end = this.#clock();
        this.#inFlight--;
        if (measured) {
          this.#histogram.record((end - at) * 1e6);
          this.completed++;
        }
        onSettled(measured, true, end);
      },
      (error: unknown) => {
        this.#inFlight--;
        if (measured) {
          this.errors++;
          this.firstError ??= error;
        }
        onSettled(measured, false, this.#clock());
      },
    );
  }

  /**
   * Closed loop: `depth` requests in flight on each client, the next sent when one completes.
   * `now` is when the previous request on this slot completed: the next one starts at once, so one
   * clock read serves as both that request's end and this one's start.
   */
  #closedLoop(client: IProto, now: number): void {
    if (!this.#mayIssue(now)) {
      this.#settle();
      return;
    }
    this.#send(client, now, (_measured, _ok, end) => this.#closedLoop(client, end));
  }

  /** Fixed rate: when request `index` (warm-up included) is due. */
  #due(index: number): number {
    return (index * 1000) / this.#limits.rate!;
  }

  /**
   * Fixed rate: request i is due at start + i / rate, whatever came back. It goes out as soon as it
   * is due and a slot is free; its latency counts from when it was due, so a reply that holds up
   * the requests behind it shows in their latencies too (coordinated omission, as wrk2 corrects it).
   * Requests still waiting for a slot when the time is up are never sent: they are `unsent`.
   * `slotFreed` says a reply called: past the end, the backlog it would let out is left unsent
   * rather than sent late (with a stuck server that could take longer than the run itself).
   */
  #pump(slotFreed = false): void {
    this.#timer = undefined;
    const limit = this.#limits.depth * this.#clients.length;
    const now = this.#clock();
    if (slotFreed && now >= this.#measureUntil) {
      this.#settle();
      return;
    }
    for (;;) {
      const due = this.#due(this.#issued);
      if (!this.#mayIssue(due)) {
        this.#settle();
        return;
      }
      if (due > now) {
        // A timer longer than 2^31-1 ms fires at once (with a warning): wait in steps instead.
        this.#timer = setTimeout(() => this.#pump(), Math.min(due - now, MAX_TIMER_MS));
        return;
      }
      // Every slot busy: the due requests wait for a reply (which pumps again), their clocks running.
      if (this.#inFlight >= limit) return;
      this.#send(this.#clients[this.#issued % this.#clients.length], due, this.#afterReply);
    }
  }

  /** Fixed rate: a reply frees a slot for a request that waits for one; none waits while a timer is set. */
  readonly #afterReply = (): void => {
    if (this.#timer === undefined) this.#pump(true);
    else this.#settle();
  };

  /** Resolves `done` once nothing more will be issued and nothing is in flight. */
  #settle(): void {
    if (this.#inFlight > 0 || this.#finished !== undefined) return;
    const now = this.#clock();
    const rate = this.#limits.rate;
    // Fixed rate: a timer set is the next request's, to be sent (or to settle) when it fires.
    if (this.#timer !== undefined) return;
    if (rate !== undefined)
      this.unsent = this.#unsentBefore(Math.min(now, this.#measureUntil, this.#stoppedAt));
    this.#finished = now;
    this.#resolve();
  }

  /** Fixed rate: measured requests due before `time` that never went out. */
  #unsentBefore(time: number): number {
    const measuredDue = Math.max(0, this.#dueBefore(time) - this.#dueBefore(this.#measureFrom));
    return Math.max(0, Math.min(measuredDue, this.#limits.count) - this.#measuredIssued);
  }

  /** Fixed rate: how many requests are due before `time`, by the same sum `#due` makes. */
  #dueBefore(time: number): number {
    let n = Math.max(0, Math.ceil((time * this.#limits.rate!) / 1000));
    while (n > 0 && this.#due(n - 1) >= time) n--;
    while (this.#due(n) < time) n++;
    return n;
  }
}
