import type { Frame } from '@iproto/framing';
import type { HandlerResult } from '../iproto-server.js';
import { BoxMsg, encodeError, REPLY_ONE } from './box-codec.js';
import { BoxCode, BoxDoubleError } from './box-double-error.js';
import {
  type BoxOutcome,
  type BoxProcedure,
  type BoxState,
  executeRequest,
  WRITE_MSGS,
} from './box-requests.js';
import { BoxSpace, type BoxSpaceOptions, DEFAULT_MAX_TUPLE_SIZE } from './box-space.js';
import { TestServer, type TestServerOptions } from './test-server.js';

/** Options of `startBoxDouble` and `new BoxDouble(...)`: the spaces, procedures, and the test server's own options. */
export interface BoxDoubleOptions extends Omit<TestServerOptions, 'handler'> {
  /** The spaces. Default: space 0 with one TREE index on field 0 as a NUM. */
  spaces?: BoxSpaceOptions[];
  /** Stored procedures for CALL (msg 22), by name; `box.procedures` holds them afterwards. */
  procedures?: Record<string, BoxProcedure>;
  /**
   * The write-ahead log, on as in production: a write applies at once (reads behind it see it) but
   * its reply waits for the log, so replies to reads pipelined behind it go out first. `false` answers
   * writes at once, as `wal_mode = none`. Default true.
   */
  wal?: boolean;
  /** How long the log takes, in ms. Default 0: write replies go out after the current batch of requests. */
  walDelay?: number;
  /** The read-only (secondary) port: writes fail with 0x0302. Default false. */
  readOnly?: boolean;
  /** The slab limit: a tuple allocation (12-byte header + fields) over it fails with 0x0701. Default 1 MiB. */
  maxTupleSize?: number;
  /** The largest reply body a SELECT builds; over it, 0x0701. Default 64 MiB. */
  maxReplySize?: number;
  /**
   * The largest request body a header may announce; a header announcing more closes the connection
   * with no reply. Default 2 GiB (`BOX_MAX_FRAME_SIZE`), as a real box; a `TestServer`'s is 16 MiB.
   */
  maxFrameSize?: number;
}

/** Which requests an injected error answers (see `BoxDouble#injectError`). */
export interface BoxErrorMatch {
  /** Only this msg code. */
  msg?: number;
  /** Any condition on the request. */
  when?: (request: Frame) => boolean;
  /** Answer this many requests, then stop. Default: until removed. */
  times?: number;
}

interface InjectedError {
  error: BoxDoubleError;
  match: BoxErrorMatch;
  left: number;
}

/** The double's default `maxReplySize`, in bytes: 64 MiB. */
export const DEFAULT_MAX_REPLY_SIZE = 64 * 1024 * 1024;

/**
 * The double's default `maxFrameSize`: 2 GiB, as a real Tarantool 1.5 box, which closes the connection
 * with no reply on a header announcing more. A split frame's body grows as its bytes arrive, so a
 * header alone costs nothing near what it announces.
 */
export const BOX_MAX_FRAME_SIZE = 2 * 1024 * 1024 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * An in-memory Tarantool 1.5 box on a `TestServer`, faithful to what a real 1.5 server sends
 * (`tarantool-1.5.md`): INSERT, SELECT, UPDATE, DELETE, CALL, the multi-space SELECT, ping, every
 * error code and text, write replies that wait for the write-ahead log. Faults, request counting and
 * routes of `TestServer` work on it too.
 */
export class BoxDouble extends TestServer {
  /** The stored procedures CALL runs, by name. */
  readonly procedures: Map<string, BoxProcedure>;
  private readonly spaceMap = new Map<number, BoxSpace>();
  private readonly state: BoxState;
  private readonly wal: boolean;
  private readonly walDelay: number;
  private readonly readOnly: boolean;
  private readonly injected: InjectedError[] = [];
  /** Write replies waiting for the log, released together (a group commit). */
  private logQueue: (() => void)[] = [];
  /**
   * The promise the latest writes share while each answers `L 0, L 1` (most writes do): one promise
   * for a run of them rather than one each. Its reactions run in the order the server attached them,
   * and any other reply ends the run, so replies still go out in the order of the writes.
   */
  private countRun: Promise<Uint8Array> | undefined;
  private logTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(options: BoxDoubleOptions = {}) {
    const {
      spaces = [{ space: 0 }],
      procedures = {},
      wal = true,
      walDelay = 0,
      readOnly = false,
      maxTupleSize = DEFAULT_MAX_TUPLE_SIZE,
      maxReplySize = DEFAULT_MAX_REPLY_SIZE,
      maxFrameSize = BOX_MAX_FRAME_SIZE,
      port: _port,
      host: _host,
      ...serverOptions
    } = options;
    super({ ...serverOptions, maxFrameSize, handler: (request) => this.handleBox(request) });
    if (!(walDelay >= 0 && Number.isFinite(walDelay)))
      throw new RangeError(`box double: walDelay must be a number of ms >= 0, got ${walDelay}`);
    for (const [name, value] of [
      ['maxTupleSize', maxTupleSize],
      ['maxReplySize', maxReplySize],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 0)
        throw new RangeError(`box double: ${name} must be an integer >= 0, got ${value}`);
    }
    for (const options of spaces) {
      const space = new BoxSpace(options, maxTupleSize);
      if (this.spaceMap.has(space.id)) throw new TypeError(`box double: space ${space.id} is declared twice`);
      this.spaceMap.set(space.id, space);
    }
    this.procedures = new Map(Object.entries(procedures));
    this.state = { spaces: this.spaceMap, procedures: this.procedures, maxReplySize };
    this.wal = wal;
    this.walDelay = walDelay;
    this.readOnly = readOnly;
    // Ping is answered before the box layer: no injected error, no log.
    this.route(BoxMsg.PING, () => EMPTY);
  }

  /** The space `id` (throws when there is none): its tuples, for seeding and checking. */
  space(id: number): BoxSpace {
    const space = this.spaceMap.get(id);
    if (space === undefined) throw new RangeError(`box double: no space ${id}`);
    return space;
  }

  /** Every space, by number. */
  get spaces(): ReadonlyMap<number, BoxSpace> {
    return this.spaceMap;
  }

  /**
   * Answers matching requests with this error instead of running them (a transient 0x0401, say, to
   * test retries). `text` defaults to the server's text for the code. Returns a function that removes it.
   */
  injectError(code: number, options: BoxErrorMatch & { text?: string } = {}): () => void {
    const { text, ...match } = options;
    const times = match.times ?? Number.POSITIVE_INFINITY;
    if (!(times >= 1)) throw new RangeError(`box double: times must be >= 1, got ${times}`);
    const entry: InjectedError = { error: new BoxDoubleError(code, text), match, left: times };
    this.injected.push(entry);
    return () => {
      const at = this.injected.indexOf(entry);
      if (at >= 0) this.injected.splice(at, 1);
    };
  }

  override close(): Promise<void> {
    if (this.logTimer !== undefined) {
      clearTimeout(this.logTimer as NodeJS.Timeout);
      clearImmediate(this.logTimer as NodeJS.Immediate);
      this.logTimer = undefined;
    }
    // Replies still waiting for the log are dropped with their connections, as on a real shutdown.
    this.logQueue = [];
    this.countRun = undefined;
    return super.close();
  }

  private handleBox(request: Frame): HandlerResult | Promise<HandlerResult> {
    let outcome: BoxOutcome;
    try {
      if (this.injected.length > 0) this.injectedFor(request);
      if (this.readOnly && WRITE_MSGS.has(request.msg)) throw new BoxDoubleError(BoxCode.SECONDARY_PORT);
      outcome = executeRequest(this.state, request.msg, request.body);
    } catch (error) {
      return errorReply(error);
    }
    if (outcome instanceof Uint8Array) return outcome;
    if (outcome instanceof Promise) return outcome.catch(errorReply);
    return this.wal ? this.afterLog(outcome.logged) : outcome.logged;
  }

  /** Throws the first injected error that matches `request`. */
  private injectedFor(request: Frame): void {
    for (let i = 0; i < this.injected.length; i++) {
      const entry = this.injected[i];
      const { msg, when } = entry.match;
      if (msg !== undefined && msg !== request.msg) continue;
      if (when !== undefined && !when(request)) continue;
      if (--entry.left <= 0) this.injected.splice(i, 1);
      throw entry.error;
    }
  }

  /** The reply once the log has the write: after this batch of requests, or `walDelay` ms. */
  private afterLog(reply: Uint8Array): Promise<Uint8Array> {
    if (reply === REPLY_ONE && this.countRun !== undefined) return this.countRun;
    const promise = new Promise<Uint8Array>((resolve) => {
      this.logQueue.push(() => resolve(reply));
      if (this.logTimer !== undefined) return;
      if (this.walDelay > 0) {
        const timer = setTimeout(this.commit, this.walDelay);
        timer.unref();
        this.logTimer = timer;
      } else {
        this.logTimer = setImmediate(this.commit);
      }
    });
    this.countRun = reply === REPLY_ONE ? promise : undefined;
    return promise;
  }

  private readonly commit = (): void => {
    this.logTimer = undefined;
    this.countRun = undefined;
    const queue = this.logQueue;
    this.logQueue = [];
    for (const release of queue) release();
  };
}

/** A `BoxDoubleError` as its reply; anything else is a bug in the double, reported as the server reports handler failures. */
function errorReply(error: unknown): Uint8Array {
  if (error instanceof BoxDoubleError) return encodeError(error.returnCode, error.message);
  throw error;
}

/**
 * Starts a `BoxDouble` on `options.host` (default `127.0.0.1`) and `options.port` (default 0, a free
 * port).
 */
export async function startBoxDouble(options: BoxDoubleOptions = {}): Promise<BoxDouble> {
  const box = new BoxDouble(options);
  await box.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return box;
}
