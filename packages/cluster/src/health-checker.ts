import { channels } from './diagnostics.js';
import type { Server } from './server.js';

/** The iproto ping: an empty request that Octopus / Tarantool 1.5 answer with an empty reply. */
export const PING_MSG = 0xff00;

/**
 * How a cluster brings failed servers back. MR::IProto marks a failed server inactive and never
 * looks at it again; here a background probe retries it with exponential backoff and jitter.
 */
export interface HealthOptions {
  /** false: Perl's behaviour, a server marked inactive stays so until set active. Default true. */
  enabled?: boolean;
  /**
   * How to probe a server: `'ping'` sends `pingMsg` and waits for any reply; `'connect'` only
   * connects; a function resolves when the server is fine. Default `'ping'`.
   */
  probe?: 'ping' | 'connect' | ((server: Server) => Promise<unknown>);
  /** Message code of the ping. Default 0xff00. */
  pingMsg?: number;
  /** Body of the ping. Default empty. */
  pingBody?: Uint8Array;
  /** ms a ping may take. Default 1000. */
  probeTimeout?: number;
  /** ms before the first probe of a server that went down. Default 200. */
  minDelay?: number;
  /** Upper bound of the delay between probes, in ms. Default 10000. */
  maxDelay?: number;
  /** Growth of the delay after each failed probe. Default 2. */
  factor?: number;
  /** Each delay is scaled by a random factor in [1 - jitter, 1 + jitter]. Default 0.2. */
  jitter?: number;
  /** ms between checks of the active servers; 0 checks only failed ones. Default 0. */
  interval?: number;
}

type Resolved = Required<Omit<HealthOptions, 'probe'>> & Pick<HealthOptions, 'probe'>;

const EMPTY = new Uint8Array(0);

/** Schedules probes of down servers and, optionally, periodic checks of active ones. */
export class HealthChecker {
  readonly options: Resolved;
  /** Pending probe timer of each down server. */
  #timers = new Map<Server, NodeJS.Timeout>();
  /** Failed probes in a row, per down server: the backoff exponent. */
  #attempts = new Map<Server, number>();
  /** Servers with a probe in flight. */
  #probing = new Set<Server>();
  #interval: NodeJS.Timeout | undefined;
  #servers: () => readonly Server[];
  #owner: unknown;
  #closed = false;

  /** `servers` lists the current members; `owner` (the cluster) is named in diagnostics messages. */
  constructor(options: HealthOptions, servers: () => readonly Server[], owner?: unknown) {
    this.options = {
      enabled: options.enabled ?? true,
      probe: options.probe ?? 'ping',
      pingMsg: options.pingMsg ?? PING_MSG,
      pingBody: options.pingBody ?? EMPTY,
      probeTimeout: options.probeTimeout ?? 1000,
      minDelay: options.minDelay ?? 200,
      maxDelay: options.maxDelay ?? 10_000,
      factor: options.factor ?? 2,
      jitter: options.jitter ?? 0.2,
      interval: options.interval ?? 0,
    };
    const { jitter, minDelay, maxDelay, factor, interval, probeTimeout, pingMsg } = this.options;
    if (!(jitter >= 0 && jitter < 1)) throw new RangeError(`health.jitter must be in [0, 1), got ${jitter}`);
    if (!(minDelay >= 0 && maxDelay >= minDelay && Number.isFinite(maxDelay) && factor >= 1)) {
      throw new RangeError(
        'health: need 0 <= minDelay <= maxDelay (finite) and factor >= 1, ' +
          `got minDelay ${minDelay}, maxDelay ${maxDelay}, factor ${factor}`,
      );
    }
    if (!(probeTimeout > 0 && Number.isFinite(probeTimeout))) {
      throw new RangeError(`health.probeTimeout must be a positive number of ms, got ${probeTimeout}`);
    }
    if (!(interval >= 0 && Number.isFinite(interval))) {
      throw new RangeError(`health.interval must be 0 (off) or a positive number of ms, got ${interval}`);
    }
    if (pingMsg >>> 0 !== pingMsg) {
      throw new RangeError(`health.pingMsg must be an integer from 0 to 4294967295, got ${pingMsg}`);
    }
    this.#servers = servers;
    this.#owner = owner;
    if (this.options.enabled && interval > 0) {
      this.#interval = setInterval(() => this.#checkActive(), interval);
      this.#interval.unref();
    }
  }

  /** The longest a down server waits before its next probe. */
  get maxWait(): number {
    return this.options.maxDelay * (1 + this.options.jitter);
  }

  /** How many probe timers are pending (for tests and monitoring). */
  get pendingProbes(): number {
    return this.#timers.size;
  }

  /** A server went down: start probing it. */
  serverDown(server: Server): void {
    if (this.#closed || !this.options.enabled || this.#timers.has(server)) return;
    this.#schedule(server);
  }

  /** A server came back or left the cluster: stop probing it. */
  forget(server: Server): void {
    const timer = this.#timers.get(server);
    if (timer) clearTimeout(timer);
    this.#timers.delete(server);
    this.#attempts.delete(server);
  }

  /** Stops every probe and timer. */
  close(): void {
    this.#closed = true;
    if (this.#interval) clearInterval(this.#interval);
    this.#interval = undefined;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#attempts.clear();
  }

  /** Delay before the next probe: min(maxDelay, minDelay * factor^attempt), with jitter. */
  delay(attempt: number): number {
    const { minDelay, maxDelay, factor, jitter } = this.options;
    const base = Math.min(maxDelay, minDelay * factor ** attempt);
    return base * (1 - jitter + 2 * jitter * Math.random());
  }

  #schedule(server: Server): void {
    // One timer per server: a probe ending while the server went down again must not add a second.
    const pending = this.#timers.get(server);
    if (pending) clearTimeout(pending);
    const attempt = this.#attempts.get(server) ?? 0;
    const timer = setTimeout(() => {
      this.#timers.delete(server);
      void this.#probeDown(server);
    }, this.delay(attempt));
    timer.unref();
    this.#timers.set(server, timer);
  }

  async #probeDown(server: Server): Promise<void> {
    if (this.#closed || server.active || !this.#isMember(server)) return;
    // A periodic check is still out: look again later rather than probe twice at once.
    if (this.#probing.has(server)) return this.#schedule(server);
    this.#probing.add(server);
    const error = await this.#probe(server);
    this.#probing.delete(server);
    if (this.#closed || server.active || !this.#isMember(server)) return;
    if (error === undefined) {
      this.#attempts.delete(server);
      server.setActive(true, 'probe succeeded');
      return;
    }
    this.#attempts.set(server, (this.#attempts.get(server) ?? 0) + 1);
    this.#schedule(server);
  }

  #checkActive(): void {
    for (const server of this.#servers()) {
      if (!server.active || this.#probing.has(server)) continue;
      this.#probing.add(server);
      void this.#probe(server).then((error) => {
        this.#probing.delete(server);
        if (error === undefined || this.#closed || !server.active || !this.#isMember(server)) return;
        server.setActive(false, error);
      });
    }
  }

  /** Probes once; resolves to the failure, or undefined when the server answered. */
  async #probe(server: Server): Promise<unknown> {
    const error = await this.#probeOnce(server);
    if (channels.probe.hasSubscribers) channels.probe.publish({ cluster: this.#owner, server, error });
    return error;
  }

  async #probeOnce(server: Server): Promise<unknown> {
    const { probe, pingMsg, pingBody, probeTimeout } = this.options;
    try {
      if (typeof probe === 'function') await probe(server);
      else if (probe === 'connect') await server.connection.connect();
      else await server.send(pingMsg, pingBody, { timeout: probeTimeout });
      return undefined;
    } catch (error) {
      // A connection that failed a probe may be wedged (a reply that never comes): start afresh.
      server.destroyConnection(error instanceof Error ? error : undefined);
      return error ?? new Error(`${server.address}: probe failed`);
    }
  }

  #isMember(server: Server): boolean {
    return this.#servers().includes(server);
  }
}
