import { DEFAULT_MAX_FRAME_SIZE } from '@iproto/framing';
import type { Handler } from './iproto-server.js';

/**
 * Every option is checked by the constructor: a value of the wrong type throws a `TypeError`, one out
 * of range a `RangeError`, each naming the option. Times are in milliseconds; a timeout of 0 is off.
 */
export interface IProtoServerOptions {
  /** The default handler: requests whose msg code has no route (`server.on(msg, handler)`). */
  handler?: Handler;
  /** Largest request body accepted, in bytes; a client announcing more is disconnected. Default: framing's `DEFAULT_MAX_FRAME_SIZE` (16 MiB). */
  maxFrameSize?: number;
  /**
   * Connections open at once. One more is closed as soon as it is accepted, counted in
   * `droppedConnections` and reported by the `drop` event (`ERR_MAX_CONNECTIONS`). Default 10,000.
   */
  maxConnections?: number;
  /**
   * Requests of one connection whose handlers have not answered yet (handlers that returned a
   * promise). At the limit the server stops reading that connection until one answers: the client's
   * writes back up, and what the server holds for it stays bounded. Default 1000.
   */
  maxInFlight?: number;
  /**
   * Bytes of replies written to a connection and not yet taken by the client (beyond what the
   * kernel buffers). When more replies come and the client has left more than this unread, the
   * connection is closed (`ERR_REPLY_BUFFER_FULL`). Default 64 MiB.
   */
  maxReplyBuffer?: number;
  /**
   * Time a client has to finish a frame once its first byte arrived (slow senders, slowloris); then
   * the connection is closed (`ERR_FRAME_TIMEOUT`). Counted only while the server reads. Default 30,000.
   */
  frameTimeout?: number;
  /**
   * Time a connection may stay with nothing received and no request in progress; then it is closed
   * (`ERR_IDLE_TIMEOUT`, in the `disconnect` event). Default 0, off: iproto clients keep their
   * connections open between requests.
   */
  idleTimeout?: number;
  /**
   * Time a handler's promise may take. Then the request is given up: no reply is sent (a later answer
   * is dropped), its `maxInFlight` slot is freed, and `ERR_HANDLER_TIMEOUT` is reported. Default 0, off.
   */
  handlerTimeout?: number;
  /**
   * Bytes a connection's write buffer may hold before the server stops reading that client's requests
   * until the buffer drains. Default: Node's socket default (16 KiB on Node 20).
   */
  highWaterMark?: number;
  /** Disable Nagle's algorithm on accepted sockets. Default true. */
  noDelay?: boolean;
  /**
   * Perl debug level (MR::IProto::Server::Connection): 1 accept, close, errors and failed handlers;
   * 5 dump received packets; 6 dump sent packets too. Default 0.
   */
  debug?: number;
  /** Receives each debug line (`host(host:port): text`). Default: stderr, prefixed `MR::IProto::Server: `. */
  debugCb?: (line: string) => void;
  /** Dumps show bytes only, not the `unpack('L*')` integers (Perl's `dump_no_ints`). */
  dumpNoInts?: boolean;
}

/** Default `maxConnections`: connections open at once; more are closed as soon as they are accepted. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Default `maxInFlight`: requests of one connection whose handlers have not answered yet. */
export const DEFAULT_MAX_IN_FLIGHT = 1000;
/** Default `maxReplyBuffer` (64 MiB): replies written to one connection and not yet taken by the client. */
export const DEFAULT_MAX_REPLY_BUFFER = 64 * 1024 * 1024;
/** Default `frameTimeout` (30 s): time a client has to finish a frame it started sending. */
export const DEFAULT_FRAME_TIMEOUT = 30_000;
/** Default `idleTimeout`: 0, off (Tarantool 1.5 and MR::IProto keep idle connections open). */
export const DEFAULT_IDLE_TIMEOUT = 0;
/** Default `handlerTimeout`: 0, off. */
export const DEFAULT_HANDLER_TIMEOUT = 0;

/** The longest delay Node's timers take (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
const MAX_TIMER = 2 ** 31 - 1;

/** The limits a server runs with (`server.limits`): each checked, defaults filled in. */
export interface ServerLimits {
  maxFrameSize: number;
  maxConnections: number;
  maxInFlight: number;
  maxReplyBuffer: number;
  frameTimeout: number;
  idleTimeout: number;
  handlerTimeout: number;
  /** `undefined`: Node's socket default. */
  highWaterMark: number | undefined;
}

/** What `IProtoServer` and its connections run with: every option checked, defaults filled in. */
export interface ResolvedServerOptions extends ServerLimits {
  noDelay: boolean;
  debug: number;
  debugCb: ((line: string) => void) | undefined;
  dumpNoInts: boolean;
}

const where = 'IProtoServer';

/** A count or size: an integer from `min` up, or `Infinity` (no limit). */
function count(options: Record<string, unknown>, name: string, fallback: number, min: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number')
    throw new TypeError(`${where}: ${name} must be a number, got ${typeof value}`);
  if (!(value >= min) || (value !== Number.POSITIVE_INFINITY && !Number.isInteger(value))) {
    throw new RangeError(`${where}: ${name} must be an integer >= ${min} or Infinity, got ${value}`);
  }
  return value;
}

/** A time in milliseconds; 0 turns the timer off. */
function timeout(options: Record<string, unknown>, name: string, fallback: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number')
    throw new TypeError(`${where}: ${name} must be a number, got ${typeof value}`);
  if (!(value >= 0 && value <= MAX_TIMER)) {
    throw new RangeError(
      `${where}: ${name} must be a number of milliseconds from 0 (off) to ${MAX_TIMER}, got ${value}`,
    );
  }
  return value;
}

function flag(options: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new TypeError(`${where}: ${name} must be a boolean, got ${typeof value}`);
  return value;
}

function callback<T>(options: Record<string, unknown>, name: string): T | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'function')
    throw new TypeError(`${where}: ${name} must be a function, got ${typeof value}`);
  return value as T;
}

/**
 * Checks every option of `new IProtoServer(options)` and fills in the defaults, so that a bad value
 * throws in the constructor (a `TypeError` for the wrong type, a `RangeError` for a value out of
 * range, each naming the option) instead of failing later on a client's connection.
 */
export function resolveServerOptions(options: unknown): ResolvedServerOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      `${where}: options must be an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  const o = options as Record<string, unknown>;
  callback(o, 'handler');
  const highWaterMark = o.highWaterMark === undefined ? undefined : count(o, 'highWaterMark', 0, 0);
  if (highWaterMark === Number.POSITIVE_INFINITY) {
    throw new RangeError(`${where}: highWaterMark must be a finite integer >= 0, got Infinity`);
  }
  const debug = o.debug === undefined ? 0 : o.debug;
  if (typeof debug !== 'number') throw new TypeError(`${where}: debug must be a number, got ${typeof debug}`);
  if (!(debug >= 0)) throw new RangeError(`${where}: debug must be a level >= 0, got ${debug}`);
  return {
    maxFrameSize: count(o, 'maxFrameSize', DEFAULT_MAX_FRAME_SIZE, 0),
    maxConnections: count(o, 'maxConnections', DEFAULT_MAX_CONNECTIONS, 1),
    maxInFlight: count(o, 'maxInFlight', DEFAULT_MAX_IN_FLIGHT, 1),
    maxReplyBuffer: count(o, 'maxReplyBuffer', DEFAULT_MAX_REPLY_BUFFER, 0),
    frameTimeout: timeout(o, 'frameTimeout', DEFAULT_FRAME_TIMEOUT),
    idleTimeout: timeout(o, 'idleTimeout', DEFAULT_IDLE_TIMEOUT),
    handlerTimeout: timeout(o, 'handlerTimeout', DEFAULT_HANDLER_TIMEOUT),
    highWaterMark,
    noDelay: flag(o, 'noDelay', true),
    debug,
    debugCb: callback(o, 'debugCb'),
    dumpNoInts: flag(o, 'dumpNoInts', false),
  };
}
