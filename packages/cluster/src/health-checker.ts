import { booleanOption, invalidOption, MAX_TIMEOUT, timeoutOption } from '@iproto/connection';
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
    this.options = resolve(options);
    this.#servers = servers;
    this.#owner = owner;
    const { enabled, interval } = this.options;
    if (enabled && interval > 0) {
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
    // Jitter may push maxDelay past what a Node timer holds, and a longer timer fires at once.
    return Math.min(MAX_TIMEOUT, base * (1 - jitter + 2 * jitter * Math.random()));
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
      // The connection is left alone: other requests may be in flight on it, and a probe's failure
      // is no failure of theirs. A silent socket is retired by the connection itself, a broken one
      // closed, and either marks the server down (see @iproto/connection, "Deadlines").
      return error ?? new Error(`${server.address}: probe failed`);
    }
  }

  #isMember(server: Server): boolean {
    return this.#servers().includes(server);
  }
}

/** Fills in the defaults and refuses what the checker cannot use, naming the option. */
function resolve(options: HealthOptions): Resolved {
  const where = 'Cluster';
  if (typeof options !== 'object' || options === null) {
    throw invalidOption(where, 'health', 'an object of health options, true or false', options);
  }
  const { probe = 'ping', pingMsg = PING_MSG, pingBody = EMPTY, probeTimeout = 1000 } = options;
  if (probe !== 'ping' && probe !== 'connect' && typeof probe !== 'function') {
    throw invalidOption(where, 'health.probe', "'ping', 'connect' or a function", probe);
  }
  if (!Number.isInteger(pingMsg) || pingMsg < 0 || pingMsg > 0xffffffff) {
    throw invalidOption(where, 'health.pingMsg', 'an integer from 0 to 4294967295', pingMsg);
  }
  if (!(pingBody instanceof Uint8Array))
    throw invalidOption(where, 'health.pingBody', 'a Uint8Array', pingBody);
  // 0 would mean "no deadline" to the connection: a ping to a silent server would never end.
  if (typeof probeTimeout !== 'number' || !(probeTimeout >= 1 && probeTimeout <= MAX_TIMEOUT)) {
    throw invalidOption(
      where,
      'health.probeTimeout',
      `a number of ms from 1 to ${MAX_TIMEOUT}`,
      probeTimeout,
    );
  }
  const minDelay = timeoutOption(where, 'health.minDelay', options.minDelay, 200);
  const maxDelay = timeoutOption(where, 'health.maxDelay', options.maxDelay, 10_000);
  if (maxDelay < minDelay) {
    throw invalidOption(
      where,
      'health.maxDelay',
      `a number of ms from minDelay (${minDelay}) to ${MAX_TIMEOUT}`,
      maxDelay,
    );
  }
  const { factor = 2, jitter = 0.2 } = options;
  if (typeof factor !== 'number' || !(factor >= 1 && Number.isFinite(factor))) {
    throw invalidOption(where, 'health.factor', 'a finite number >= 1', factor);
  }
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) {
    throw invalidOption(where, 'health.jitter', 'a number from 0 up to (not including) 1', jitter);
  }
  return {
    enabled: booleanOption(where, 'health.enabled', options.enabled, true),
    probe,
    pingMsg,
    pingBody,
    probeTimeout,
    minDelay,
    maxDelay,
    factor,
    jitter,
    interval: timeoutOption(where, 'health.interval', options.interval, 0),
  };
}
