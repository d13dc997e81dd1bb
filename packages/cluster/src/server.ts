import { EventEmitter } from 'node:events';
import {
  Connection,
  type ConnectionOptions,
  type Dispatcher,
  type DispatchHandler,
  type DispatchRequest,
  dispatchPromise,
  formatAddress,
  invalidOption,
  type SendOptions,
  timeoutOption,
} from '@iproto/connection';
import { checkWeight } from './weight.js';

/** A reply frame, as `Connection#send` resolves it. */
export type Reply = Exclude<Awaited<ReturnType<Connection['send']>>, undefined>;

/** Builds a server's connection; tests and higher layers inject their own. */
export type ConnectionFactory = (
  target: { host: string; port: number },
  options: ConnectionOptions,
) => Connection;

/** One server: where it is, how much of the HASH load it takes, and how to connect to it. */
export interface ServerOptions extends ConnectionOptions {
  host: string;
  port: number;
  /** How many times the server stands in HASH's list (MR::IProto::Cluster::Server `weight`). Default 1. */
  weight?: number;
  /** Whether balancing may pick it. Default true. */
  active?: boolean;
  /** Default: `new Connection(target, options)`. */
  connectionFactory?: ConnectionFactory;
}

/** The events a cluster {@link Server} emits, with their arguments. */
export interface ServerEvents {
  /** The server was marked inactive; `reason` is the error that did it, or a string. */
  down: [reason: unknown];
  /** The server was marked active again. */
  up: [reason: string];
}

/** The reason given when `active` is set to false by hand: such a server is not probed back. */
export const SET_INACTIVE = 'set inactive';

const defaultFactory: ConnectionFactory = (target, options) => new Connection(target, options);

/**
 * The counterpart of MR::IProto::Cluster::Server: an address, a weight, an `active` flag and a
 * connection created on first use. A connection failure (its `close` event with an error) marks the
 * server inactive, as MR::IProto::Connection::Async / Sync do on error; the next use connects afresh.
 */
export class Server extends EventEmitter<ServerEvents> implements Dispatcher {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** `host:port` (`[v6]:port` for an IPv6 host). */
  readonly address: string;
  /** What each new connection of this server is given. */
  readonly options: ConnectionOptions;
  #active: boolean;
  #connection: Connection | undefined;
  /** Connections `close()` let go of but that are still finishing: `destroyConnection()` ends them. */
  #closing = new Set<Connection>();
  #factory: ConnectionFactory;

  constructor(options: ServerOptions) {
    super();
    const { host, port, weight = 1, active = true, connectionFactory, ...connectionOptions } = options;
    if (typeof host !== 'string' || host === '')
      throw invalidOption('Server', 'host', 'a non-empty string', host);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw invalidOption(`server ${host}`, 'port', 'an integer in 1..65535', port);
    }
    if (!Number.isInteger(weight) || weight < 0) {
      throw new TypeError(`server ${host}:${port}: weight must be a non-negative integer, got ${weight}`);
    }
    checkWeight(`server ${formatAddress(host, port)}`, weight);
    if (connectionFactory !== undefined && typeof connectionFactory !== 'function') {
      throw invalidOption(`server ${host}:${port}`, 'connectionFactory', 'a function', connectionFactory);
    }
    this.host = host;
    this.port = port;
    this.weight = weight;
    this.address = formatAddress(host, port);
    // The connection is made on first use; its options are checked now, where the mistake is.
    if (connectionFactory === undefined) new Connection({ host, port }, connectionOptions);
    this.options = connectionOptions;
    this.#active = active;
    this.#factory = connectionFactory ?? defaultFactory;
  }

  /** Whether balancing may pick this server. Setting it emits `down` / `up` when it changes. */
  get active(): boolean {
    return this.#active;
  }

  set active(active: boolean) {
    this.setActive(active, active ? 'set active' : SET_INACTIVE);
  }

  /** Marks the server up or down, saying why; emits `up` / `down` when the state changes. */
  setActive(active: boolean, reason: unknown): void {
    if (this.#active === active) return;
    this.#active = active;
    if (active) this.emit('up', typeof reason === 'string' ? reason : String(reason));
    else this.emit('down', reason);
  }

  /** Per-request timeout in ms (Perl's `timeout`); setting it updates the live connection too. */
  get timeout(): number | undefined {
    return this.options.timeout;
  }

  set timeout(ms: number | undefined) {
    // Checked before it is stored: a bad value would otherwise fail every later connection.
    timeoutOption(`server ${this.address}`, 'timeout', ms, 0);
    this.options.timeout = ms;
    // MR::IProto::Cluster::Server's timeout trigger does the same to its live connections.
    // Undefined: back to the connection's default, as a new connection would have.
    if (this.#connection) this.#connection.timeout = ms;
  }

  /** True when a connection object exists (it connects on first use and after failures). */
  get hasConnection(): boolean {
    return this.#connection !== undefined;
  }

  /**
   * The server's connection, created on first use. It reconnects by itself after a failure; the
   * failure (its `close` event with an error) marks the server inactive.
   */
  get connection(): Connection {
    let connection = this.#connection;
    if (connection === undefined) {
      connection = this.#factory({ host: this.host, port: this.port }, { ...this.options });
      this.#connection = connection;
      connection.on('close', (error?: Error) => {
        if (error) this.setActive(false, error);
      });
    }
    return connection;
  }

  /**
   * Forwards a request to this server's connection (see `Connection#dispatch`). A connection
   * failure marks the server down (its `close` event with an error, watched since the connection
   * was made), so the handler is passed on untouched: nothing is allocated here per request.
   */
  dispatch(request: DispatchRequest, handler: DispatchHandler): void {
    try {
      this.connection.dispatch(request, handler);
    } catch (error) {
      // A connection factory that throws, or a connection that breaks the contract, still fails
      // the request through its handler, never out of `dispatch` (the contract of every layer).
      queueMicrotask(() => handler.onError(error as Error));
    }
  }

  /** Sends one request over this server's connection: the Promise façade of `dispatch`. */
  send(
    msg: number,
    body: Uint8Array | undefined,
    options: SendOptions & { noReply: true },
  ): Promise<undefined>;
  send(msg: number, body?: Uint8Array, options?: SendOptions): Promise<Reply>;
  send(msg: number, body?: Uint8Array, options?: SendOptions): Promise<Reply | undefined> {
    return dispatchPromise(this, msg, body, options) as Promise<Reply | undefined>;
  }

  /**
   * Closes the current connection, if any (MR::IProto::Cluster::Server::disconnect_all for one
   * server). The server stays usable: the next request connects again.
   */
  async close(): Promise<void> {
    const connection = this.#connection;
    if (connection === undefined) return;
    this.#connection = undefined;
    this.#closing.add(connection);
    try {
      await connection.close();
    } finally {
      this.#closing.delete(connection);
    }
  }

  /**
   * Destroys the current connection, and any that `close()` is still closing, at once, failing what
   * is in flight on them with `error` (and marking the server inactive when there is an error); the
   * next use opens a new one.
   */
  destroyConnection(error?: Error): void {
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.destroy(error);
    for (const closing of this.#closing) closing.destroy(error);
    this.#closing.clear();
  }

  override toString(): string {
    return this.address;
  }
}
