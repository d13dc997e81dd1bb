import { DEFAULT_MAX_FRAME_SIZE } from '@iproto/framing';
import { defaultDebugCb, type Hooks } from './debug-log.js';
import { booleanOption, functionOption, integerOption, invalidOption, timeoutOption } from './options.js';
import type { ConnectionTarget } from './transport.js';

/** Options of `new Connection(target, options)`; every one is checked, and a bad one throws `ERR_INVALID_OPTION`. */
export interface ConnectionOptions {
  /** Milliseconds to establish the connection. Default 2000 (Perl's `connect_timeout` of 2 s). 0: no limit. */
  connectTimeout?: number;
  /**
   * Milliseconds: each request's default deadline, queue time included, and how long a socket may
   * stay silent while a request passes its deadline before it is retired (see README, "Deadlines").
   * Default 2000 (Perl's `timeout` of 2 s). 0: no default deadline.
   */
  timeout?: number;
  /** TCP_NODELAY. Default true (Perl's `tcp_nodelay` default). */
  tcpNoDelay?: boolean;
  /** SO_KEEPALIVE. Default false (Perl's `tcp_keepalive` default). */
  tcpKeepAlive?: boolean;
  /** Milliseconds of idleness before the first keep-alive probe. Default 0 (the OS setting). */
  keepAliveInitialDelay?: number;
  /** Requests in flight at once. Default 10 (Perl MR::IProto::Cluster::Server `max_parallel`). */
  maxParallel?: number;
  /** Requests waiting for a free slot; past it `send` rejects with `ERR_QUEUE_FULL`. Default 10000. */
  maxQueue?: number;
  /**
   * Bytes of requests buffered for the socket (ours and the stream's) before further requests wait
   * in the queue. A single frame larger than this goes out alone. Default 4 MiB.
   */
  maxWriteBuffer?: number;
  /** Largest reply body accepted, in bytes. Default 16 MiB (`DEFAULT_MAX_FRAME_SIZE`). */
  maxFrameSize?: number;
  /**
   * Milliseconds `close()` lets requests in flight and queued settle before it fails them with
   * `ERR_CONNECTION_CLOSED` and closes the socket. Default 10000; 0 fails them at once.
   */
  closeTimeout?: number;
  /** Perl debug level: 1 connect/close, 4 connecting, 5 dump sent packets, 6 dump received packets. */
  debug?: number;
  /** Receives each debug line (`host:port: text`). Default: stderr, prefixed `MR::IProto: `. */
  debugCb?: (line: string) => void;
  /** Leave the 32-bit integers out of packet dumps (Perl's `dump_no_ints`). */
  dumpNoInts?: boolean;
  /** Called as a request is handed to the socket (Perl's `_send_started`). */
  sendStarted?(sync: number, msg: number, body: Uint8Array): void;
  /** Called as a sent request settles (Perl's `_recv_finished`): reply, no-reply write, or error. */
  recvFinished?(
    sync: number,
    msg: number | undefined,
    body: Uint8Array | undefined,
    error: Error | undefined,
  ): void;
}

/** A connection's `timeout` (ms) when none is given: Perl's 2 s. */
export const DEFAULT_TIMEOUT = 2000;
const DEFAULT_MAX_WRITE_BUFFER = 4 * 1024 * 1024;
const DEFAULT_CLOSE_TIMEOUT = 10_000;
const WHERE = 'Connection';

/** The address of `host:port` as errors, debug lines and cluster servers spell it: `[::1]:port` for IPv6. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A connection's settings, checked and defaulted. */
export interface ResolvedOptions {
  address: string;
  target: ConnectionTarget;
  connectTimeout: number;
  timeout: number;
  tcpNoDelay: boolean;
  tcpKeepAlive: boolean;
  keepAliveInitialDelay: number;
  maxParallel: number;
  maxQueue: number;
  maxWriteBuffer: number;
  maxFrameSize: number;
  closeTimeout: number;
  debug: number;
  debugCb: (line: string) => void;
  dumpNoInts: boolean;
  hooks: Hooks;
  /** Debug lines or hooks asked for: the connection needs the debug subscriber. */
  observed: boolean;
}

/**
 * Checks a `Connection`'s target and options (options may also sit on the target: the design's
 * single-argument form) and fills in the defaults; a bad one throws `ERR_INVALID_OPTION`.
 */
export function resolveOptions(target: ConnectionTarget, options: ConnectionOptions): ResolvedOptions {
  if (target === null || typeof target !== 'object') {
    throw invalidOption(WHERE, 'target', '{ host, port }, { path } or { connect: () => Duplex }', target);
  }
  const o: ConnectionOptions = { ...(target as ConnectionOptions), ...options };
  let address: string;
  if ('connect' in target && typeof target.connect === 'function') {
    address = target.address ?? 'stream';
  } else if ('path' in target && typeof target.path === 'string') {
    address = target.path;
  } else if ('port' in target && target.port !== undefined) {
    const host = (target as { host?: string }).host ?? '127.0.0.1';
    if (!Number.isInteger(target.port) || target.port < 0 || target.port > 65535) {
      throw invalidOption(WHERE, 'port', 'an integer from 0 to 65535', target.port);
    }
    if (typeof host !== 'string' || host === '')
      throw invalidOption(WHERE, 'host', 'a host name or IP', host);
    target = { host, port: target.port };
    address = formatAddress(host, target.port);
  } else {
    throw invalidOption(WHERE, 'target', '{ host, port }, { path } or { connect: () => Duplex }', target);
  }
  const debug = integerOption(WHERE, 'debug', o.debug, 0, 0);
  const hooks: Hooks = {
    sendStarted: functionOption(WHERE, 'sendStarted', o.sendStarted),
    recvFinished: functionOption(WHERE, 'recvFinished', o.recvFinished),
  };
  return {
    address,
    target,
    connectTimeout: timeoutOption(WHERE, 'connectTimeout', o.connectTimeout, 2000),
    timeout: timeoutOption(WHERE, 'timeout', o.timeout, DEFAULT_TIMEOUT),
    tcpNoDelay: booleanOption(WHERE, 'tcpNoDelay', o.tcpNoDelay, true),
    tcpKeepAlive: booleanOption(WHERE, 'tcpKeepAlive', o.tcpKeepAlive, false),
    keepAliveInitialDelay: timeoutOption(WHERE, 'keepAliveInitialDelay', o.keepAliveInitialDelay, 0),
    maxParallel: integerOption(WHERE, 'maxParallel', o.maxParallel, 10, 1),
    maxQueue: integerOption(WHERE, 'maxQueue', o.maxQueue, 10_000, 0),
    maxWriteBuffer: integerOption(WHERE, 'maxWriteBuffer', o.maxWriteBuffer, DEFAULT_MAX_WRITE_BUFFER, 1),
    maxFrameSize: integerOption(WHERE, 'maxFrameSize', o.maxFrameSize, DEFAULT_MAX_FRAME_SIZE, 0),
    closeTimeout: timeoutOption(WHERE, 'closeTimeout', o.closeTimeout, DEFAULT_CLOSE_TIMEOUT),
    debug,
    debugCb: functionOption(WHERE, 'debugCb', o.debugCb) ?? defaultDebugCb,
    dumpNoInts: booleanOption(WHERE, 'dumpNoInts', o.dumpNoInts, false),
    hooks,
    observed:
      debug > 0 ||
      o.debugCb !== undefined ||
      hooks.sendStarted !== undefined ||
      hooks.recvFinished !== undefined,
  };
}
