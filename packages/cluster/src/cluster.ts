import { EventEmitter } from 'node:events';
import {
  booleanOption,
  type Dispatcher,
  type DispatchHandler,
  type DispatchRequest,
  IProtoError,
  timeoutOption,
} from '@iproto/connection';
import { type Balance, HASH, KETAMA, normalizeBalance, RR } from './balance.js';
import { Balancer } from './balancer.js';
import { channels } from './diagnostics.js';
import { HealthChecker, type HealthOptions } from './health-checker.js';
import { type BalanceKey, keyBytes } from './key.js';
import { parseServer, parseServers } from './parse-servers.js';
import { type ConnectionFactory, SET_INACTIVE, Server, type ServerOptions } from './server.js';

/** Options every server of the cluster gets unless its own options say otherwise. */
export type ServerDefaults = Omit<ServerOptions, 'host' | 'port' | 'weight' | 'active'>;

export interface ClusterOptions extends ServerDefaults {
  /** `"host:port[:weight],..."` (Perl's form), or a list of server options or `Server`s. */
  servers: string | readonly (ServerOptions | Server | string)[];
  /** `'round-robin'` (default), `'hash-crc32'`, `'ketama'`, or Perl's constants 1, 2, 3. */
  balance?: Balance | 1 | 2 | 3;
  /** Bringing failed servers back; `false` keeps Perl's behaviour (they stay down). */
  health?: HealthOptions | boolean;
  /**
   * KETAMA: pass over inactive servers as if they were not in the list. Default false: Perl's
   * MR::IProto::Cluster::_balance_ketama ignores `active`, and mixed fleets must agree.
   */
  ketamaSkipInactive?: boolean;
  connectionFactory?: ConnectionFactory;
}

/** Options of `Cluster.server()`. */
export interface PickOptions {
  /**
   * Servers already tried for this request: balancing treats them as inactive where it can (see
   * README, "Retries"). When every server is excluded, the pick is the one made without `exclude`.
   */
  exclude?: Iterable<Server>;
}

/** A request for `Cluster#dispatch`: what to send, and what balancing needs to pick a server. */
export interface ClusterRequest extends DispatchRequest, PickOptions {
  /** HASH and KETAMA balance on it (see `server(key)`). */
  readonly key?: BalanceKey | null;
}

/**
 * The cluster's events. Each is emitted under its Node-style name and under the Perl-style name it
 * had before (kept as a deprecated alias): a listener registered under either name runs once.
 */
export interface ClusterEvents {
  /** A server was marked inactive; `reason` is the error that did it, or `'set inactive'`. */
  serverDown: [server: Server, reason: unknown];
  /** A server was marked active again (`'probe succeeded'` or `'set active'`). */
  serverUp: [server: Server, reason: string];
  /** @deprecated The alias of `serverDown` (MR::IProto's wording); listen to `serverDown`. */
  'server down': [server: Server, reason: unknown];
  /** @deprecated The alias of `serverUp`; listen to `serverUp`. */
  'server up': [server: Server, reason: string];
}

/**
 * The counterpart of MR::IProto::Cluster: a list of servers and the balancing that picks one per
 * request, exactly as Perl picks it, plus what Perl lacks: failed servers come back, membership
 * changes at run time, and retries can ask for a server not tried yet.
 */
export class Cluster extends EventEmitter<ClusterEvents> implements Dispatcher {
  static readonly RR = RR;
  static readonly HASH = HASH;
  static readonly KETAMA = KETAMA;

  readonly balance: Balance;
  readonly health: HealthChecker;
  readonly ketamaSkipInactive: boolean;
  #defaults: ServerDefaults;
  #balancer: Balancer<Server>;
  #listeners = new Map<Server, { down: (reason: unknown) => void; up: (reason: string) => void }>();
  #closed = false;

  constructor(options: ClusterOptions) {
    super();
    const { servers, balance, health, ketamaSkipInactive, ...defaults } = options;
    this.balance = normalizeBalance(balance);
    this.ketamaSkipInactive = booleanOption('Cluster', 'ketamaSkipInactive', ketamaSkipInactive, false);
    this.#defaults = defaults;
    const entries = typeof servers === 'string' ? parseServers(servers) : servers;
    if (!entries || entries.length === 0) {
      throw new IProtoError('ERR_NO_SERVERS', 'cluster: no servers given');
    }
    const list = entries.map((entry) => this.#toServer(entry));
    this.#balancer = new Balancer(list);
    this.health = new HealthChecker(
      health === false ? { enabled: false } : health === true ? {} : (health ?? {}),
      () => this.servers,
      this,
    );
    for (const server of list) this.#watch(server);
  }

  /** The servers, in the order given (then added). */
  get servers(): readonly Server[] {
    return this.#balancer.servers;
  }

  /**
   * The server a request with this key goes to, picked as MR::IProto::Cluster::server picks it:
   * a lone server always; otherwise by `balance`. HASH and KETAMA need a key.
   */
  server(key?: BalanceKey | null, options?: PickOptions): Server {
    // A closed cluster owns no connections any more: a pick would open one that nobody closes.
    if (this.#closed) throw new IProtoError('ERR_CLUSTER_CLOSED', 'cluster: closed');
    const balancer = this.#balancer;
    const servers = balancer.servers;
    if (servers.length === 1) return servers[0];
    if (servers.length === 0)
      throw new IProtoError('ERR_NO_SERVERS', 'cluster: no servers to balance between');
    const exclude = toSet(options?.exclude);
    if (this.balance === RR) return balancer.pickRoundRobin(exclude);
    if (key === undefined || key === null) {
      // The messages of MR::IProto::Cluster::_balance_hash / _balance_ketama.
      const which = this.balance === HASH ? 'hash' : 'ketama';
      throw new IProtoError('ERR_NO_KEY', `Cannot balance ${which} without key`);
    }
    const bytes = keyBytes(key);
    if (this.balance === HASH) {
      const server = balancer.probeHash(bytes, exclude) ?? balancer.fallbackHash(exclude);
      if (server === undefined) throw noWeight();
      return server;
    }
    const server = balancer.pickKetama(bytes, exclude, this.ketamaSkipInactive);
    if (server === undefined)
      throw new IProtoError('ERR_NO_SERVERS', 'cluster: no servers to balance between');
    return server;
  }

  /**
   * Picks the server for `request.key` (leaving out `request.exclude` where it can) and forwards
   * the request to it. A failed pick (no key for HASH, a closed cluster) goes to `handler.onError`
   * in a microtask, as any failure does.
   */
  dispatch(request: ClusterRequest, handler: DispatchHandler): void {
    let server: Server;
    try {
      server = this.server(request.key, request.exclude === undefined ? undefined : request);
    } catch (error) {
      queueMicrotask(() => handler.onError(error as Error));
      return;
    }
    server.dispatch(request, handler);
  }

  /**
   * The per-request timeout of the servers (MR::IProto::Cluster::timeout): their common value, or
   * undefined when they differ. Setting it sets every server's.
   */
  get timeout(): number | undefined {
    let common: number | undefined;
    let first = true;
    for (const server of this.servers) {
      const t = server.timeout;
      if (first) common = t;
      else if (t !== common) return undefined;
      first = false;
    }
    return common;
  }

  set timeout(ms: number | undefined) {
    timeoutOption('Cluster', 'timeout', ms, 0);
    this.#defaults.timeout = ms;
    for (const server of this.servers) server.timeout = ms;
  }

  /** Adds a server (a `Server`, its options, or `"host:port[:weight]"`) and rebuilds the tables. */
  add(entry: Server | ServerOptions | string): Server {
    this.#assertOpen();
    const server = this.#toServer(entry);
    this.#balancer = new Balancer([...this.servers, server]);
    this.#watch(server);
    return server;
  }

  /**
   * Takes a server (or every server at an address) out of the cluster, rebuilds the tables, stops
   * probing it and closes its connection. Resolves to whether anything was removed.
   */
  async remove(entry: Server | string): Promise<boolean> {
    const gone = this.servers.filter((s) => (typeof entry === 'string' ? s.address === entry : s === entry));
    if (gone.length === 0) return false;
    this.#balancer = new Balancer(this.servers.filter((s) => !gone.includes(s)));
    for (const server of gone) this.#unwatch(server);
    await Promise.all(gone.map((s) => s.close()));
    return true;
  }

  /** Stops every probe timer and closes every server's connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.health.close();
    for (const server of this.servers) this.#unwatch(server);
    await Promise.all(this.servers.map((s) => s.close()));
  }

  /**
   * Closes at once: probes stop, and every server's connection is destroyed, failing what is in
   * flight or queued on it with `error` (or `ERR_DESTROYED`).
   */
  destroy(error?: Error): void {
    this.#closed = true;
    this.health.close();
    for (const server of this.servers) this.#unwatch(server);
    for (const server of this.servers) server.destroyConnection(error);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #toServer(entry: Server | ServerOptions | string): Server {
    if (entry instanceof Server) return entry;
    const options = typeof entry === 'string' ? parseServer(entry.trim()) : entry;
    return new Server({ ...this.#defaults, ...options });
  }

  #watch(server: Server): void {
    if (this.#listeners.has(server)) return;
    const down = (reason: unknown) => {
      // A server taken out by hand stays out until put back by hand, as in Perl.
      if (reason !== SET_INACTIVE) this.health.serverDown(server);
      if (channels.serverDown.hasSubscribers) channels.serverDown.publish({ cluster: this, server, reason });
      this.emit('serverDown', server, reason);
      this.emit('server down', server, reason);
    };
    const up = (reason: string) => {
      this.health.forget(server);
      if (channels.serverUp.hasSubscribers) channels.serverUp.publish({ cluster: this, server, reason });
      this.emit('serverUp', server, reason);
      this.emit('server up', server, reason);
    };
    server.on('down', down);
    server.on('up', up);
    this.#listeners.set(server, { down, up });
  }

  #unwatch(server: Server): void {
    // The same Server may stand twice in the list; keep watching while it is still a member.
    if (this.servers.includes(server) && !this.#closed) return;
    const listeners = this.#listeners.get(server);
    if (listeners) {
      server.off('down', listeners.down);
      server.off('up', listeners.up);
      this.#listeners.delete(server);
    }
    this.health.forget(server);
  }

  #assertOpen(): void {
    if (this.#closed) throw new IProtoError('ERR_CLUSTER_CLOSED', 'cluster: closed');
  }
}

function toSet(exclude: Iterable<Server> | undefined): ReadonlySet<Server> | undefined {
  if (exclude === undefined) return undefined;
  const set = exclude instanceof Set ? exclude : new Set(exclude);
  return set.size === 0 ? undefined : set;
}

function noWeight(): IProtoError {
  return new IProtoError(
    'ERR_NO_SERVERS',
    'cluster: every server has weight 0, hash-crc32 has nothing to pick',
  );
}
