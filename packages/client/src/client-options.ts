// The client's options (MR::IProto's attributes and BUILDARGS): their types, their checks and
// defaults, and the cluster they build. A bad option throws `ERR_INVALID_OPTION` from the constructor.
import { type Balance, Cluster } from '@iproto/cluster';
import { functionOption, integerOption, invalidOption, timeoutOption } from '@iproto/connection';
import { MessageRegistry, type MessagesOption } from './message-registry.js';
import type { ClusterLike } from './types.js';

/** What to do with reply bytes a response class left unparsed. */
export type TrailingDataMode = 'warn' | 'error' | 'ignore';

/** What MR::IProto::BUILDARGS hands down from the client's options to the cluster it builds. */
export interface BuiltClusterOptions {
  /**
   * Balancing of the built cluster: `'round-robin'` (default), `'hash-crc32'` or `'ketama'`, or
   * Perl's constants 1, 2, 3 (MR::IProto::Cluster's RR, HASH, KETAMA).
   */
  balance?: Balance | 1 | 2 | 3;
  /** Read/write timeout of the built cluster's servers, ms (Perl's 2 s by default). */
  timeout?: number;
  connectTimeout?: number;
  tcpNoDelay?: boolean;
  tcpKeepAlive?: boolean;
  dumpNoInts?: boolean;
  /**
   * Ms `close()` lets requests in flight settle before failing them with `ERR_CONNECTION_CLOSED`
   * (the built cluster's connections get it). Default 10000.
   */
  closeTimeout?: number;
  /** Debug level (MR::IProto::Role::Debuggable): 2 logs every try; the servers get it too. */
  debug?: number;
  /** Where debug lines go; default: standard error, as MR::IProto prints them. */
  debugCb?: (line: string) => void;
}

/** The options `servers` builds a cluster with. */
export interface ClusterBuildOptions extends BuiltClusterOptions {
  servers: string | readonly object[];
  [option: string]: unknown;
}

export interface IProtoOptions extends BuiltClusterOptions {
  /** A ready cluster (full control); the client does not close a cluster it was given. */
  cluster?: ClusterLike;
  /** `'host:port[:weight],...'` or server option objects: the client builds (and owns) a cluster. */
  servers?: string | readonly object[];
  /** Further options handed to the built cluster as they are. */
  clusterOptions?: Record<string, unknown>;
  /** Builds the cluster from `servers` (tests hand in a fake); `new Cluster(options)` by default. */
  factory?: (options: ClusterBuildOptions) => ClusterLike;
  /** Response classes (a list or a module namespace): how replies to object requests are decoded. */
  messages?: MessagesOption;
  /**
   * Requests in progress on the whole client, beyond which they queue (default 1000). Each server of
   * a built cluster may have as many in flight, unless `clusterOptions.maxParallel` says otherwise
   * (Perl's MR::IProto::Cluster::Server default is 10).
   */
  maxParallel?: number;
  /** Tries per request, the first one included (default 2). */
  maxRequestRetries?: number;
  /** Delay between tries, ms (default 0). */
  retryDelay?: number;
  /** Reply bytes left unparsed by a response class: `'warn'` (Perl's default), `'error'` or `'ignore'`. */
  trailingData?: TrailingDataMode;
}
const DEFAULT_MAX_PARALLEL = 1000;
const DEFAULT_MAX_REQUEST_RETRIES = 2;
const WHERE = 'IProto';

/** An option that is a whole number from 1 (`maxParallel`, `maxRequestRetries`, a message's too). */
export function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  return integerOption(WHERE, name, value, fallback, 1);
}

function defaultDebug(line: string): void {
  process.stderr.write(`IProto: ${line}\n`);
}

/** Options the client hands to the cluster it builds, checked here where the caller made them. */
const CLUSTER_OPTIONS = [
  'balance',
  'timeout',
  'connectTimeout',
  'closeTimeout',
  'tcpNoDelay',
  'tcpKeepAlive',
  'dumpNoInts',
  'debug',
  'debugCb',
] as const;

/** A client's settings, checked and defaulted, and the cluster it sends to. */
export interface ResolvedClientOptions {
  maxParallel: number;
  maxRequestRetries: number;
  retryDelay: number;
  trailingData: TrailingDataMode;
  messages: MessageRegistry;
  debug: number;
  debugCb: (line: string) => void;
  cluster: ClusterLike;
  /** The client built the cluster (from `servers`), so it closes it. */
  ownsCluster: boolean;
  /** The cluster balances round-robin: retries then leave out the servers already tried. */
  roundRobin: boolean;
}

/** Checks the client's options, in the order they are documented, and builds or takes its cluster. */
export function resolveClientOptions(options: IProtoOptions): ResolvedClientOptions {
  if (options === null || typeof options !== 'object') {
    throw invalidOption(WHERE, 'options', 'an object with `servers` or `cluster`', options);
  }
  const maxParallel = positiveInteger(options.maxParallel, DEFAULT_MAX_PARALLEL, 'maxParallel');
  const maxRequestRetries = positiveInteger(
    options.maxRequestRetries,
    DEFAULT_MAX_REQUEST_RETRIES,
    'maxRequestRetries',
  );
  const retryDelay = timeoutOption(WHERE, 'retryDelay', options.retryDelay, 0);
  for (const name of ['timeout', 'connectTimeout', 'closeTimeout'] as const) {
    timeoutOption(WHERE, name, options[name], 0);
  }
  const trailingData = options.trailingData ?? 'warn';
  if (trailingData !== 'warn' && trailingData !== 'error' && trailingData !== 'ignore') {
    throw invalidOption(WHERE, 'trailingData', "'warn', 'error' or 'ignore'", trailingData);
  }
  const messages = new MessageRegistry(options.messages);
  const debug = integerOption(WHERE, 'debug', options.debug, 0, 0);
  const debugCb = functionOption(WHERE, 'debugCb', options.debugCb) ?? defaultDebug;
  const { cluster, ownsCluster } = clusterOf(options, maxParallel);
  // Our name or Perl's constant (MR::IProto::Cluster's RR = 1); a cluster without one balances RR.
  const balance = String(cluster.balance ?? 'round-robin');
  return {
    maxParallel,
    maxRequestRetries,
    retryDelay,
    trailingData,
    messages,
    debug,
    debugCb,
    cluster,
    ownsCluster,
    roundRobin: balance === 'round-robin' || balance === '1',
  };
}

/**
 * MR::IProto::BUILDARGS: `servers` builds the cluster and takes the server and cluster options
 * with it; without it, `cluster` is the cluster.
 */
function clusterOf(
  options: IProtoOptions,
  maxParallel: number,
): { cluster: ClusterLike; ownsCluster: boolean } {
  if (options.servers !== undefined && options.servers !== '') {
    const build: ClusterBuildOptions = { ...options.clusterOptions, servers: options.servers };
    for (const name of CLUSTER_OPTIONS) {
      if (options[name] !== undefined) (build as Record<string, unknown>)[name] = options[name];
    }
    // What the client lets be in progress may be on the wire: a server's own limit follows the
    // client's unless set (MR::IProto::Cluster::Server's 10 is `clusterOptions: { maxParallel: 10 }`).
    if (build.maxParallel === undefined) build.maxParallel = maxParallel;
    const cluster = options.factory
      ? options.factory(build)
      : (new Cluster(build as ConstructorParameters<typeof Cluster>[0]) as unknown as ClusterLike);
    return { cluster, ownsCluster: true };
  }
  if (options.cluster) {
    if (typeof options.cluster.server !== 'function') {
      throw invalidOption(WHERE, 'cluster', 'a Cluster (an object with server(key))', options.cluster);
    }
    return { cluster: options.cluster, ownsCluster: false };
  }
  throw invalidOption(
    WHERE,
    'servers',
    "'host:port[:weight],...' or a list of servers (or give `cluster`)",
    options.servers,
  );
}
