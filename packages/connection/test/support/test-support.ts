// Helpers for this package's tests (not exported by the package).
import { createHook } from 'node:async_hooks';
import { createServer, type Server } from 'node:net';
import { Duplex } from 'node:stream';
import { encodeFrame, type Frame, FrameDecoder } from '@iproto/framing';
import { expect } from 'vitest';
import { Connection, type ConnectionOptions, type ConnectionTarget } from '../../src/connection.js';

/** Counts of the active libuv resources we could leave behind. */
const KINDS = ['TCPSocketWrap', 'TCPServerWrap', 'PipeWrap', 'PipeServerWrap', 'Timeout'];

export function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of KINDS) counts[kind] = 0;
  for (const kind of process.getActiveResourcesInfo()) if (kind in counts) counts[kind]++;
  return counts;
}

/** Waits (up to ~2 s, handles close asynchronously) until no kind of resource exceeds `before`. */
export async function expectNoLeaks(
  before: Record<string, number>,
  timers?: { live(): string[]; stop(): void },
): Promise<void> {
  if (timers !== undefined) {
    // A destroy hook runs asynchronously after clearTimeout.
    for (let i = 0; i < 100 && timers.live().length !== 0; i++) await new Promise((r) => setTimeout(r, 5));
    timers.stop();
    expect(timers.live(), 'timers of connection.ts left after close()').toEqual([]);
  }
  let now = resources();
  for (let i = 0; i < 200 && KINDS.some((k) => now[k] > before[k]); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    now = resources();
  }
  for (const kind of KINDS) expect(now[kind], `${kind} left open`).toBeLessThanOrEqual(before[kind]);
}

/**
 * Watches the timers that connection.ts creates (found by their creation stack), so a test can check
 * that none is left after close(): unref'd timers do not show in getActiveResourcesInfo().
 */
export function watchTimers(): { live(): string[]; created(): number; stop(): void } {
  const alive = new Map<number, string>();
  let created = 0;
  const hook = createHook({
    init(id, type) {
      if (type !== 'Timeout') return;
      const stack = new Error().stack ?? '';
      if (!/\/connection\/src\/(?!test-support)[a-z-]+\.ts/.test(stack)) return;
      created++;
      alive.set(id, stack.split('\n').slice(2, 6).join(' | '));
    },
    destroy(id) {
      alive.delete(id);
    },
  });
  hook.enable();
  return { live: () => [...alive.values()], created: () => created, stop: () => hook.disable() };
}

export function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = (): void => {
      if (condition()) resolve();
      else if (Date.now() - started > ms) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

type Outcome =
  | { state: 'pending' }
  | { state: 'fulfilled'; value: unknown }
  | { state: 'rejected'; error: any };

/**
 * Records every request of a test: how each promise settled, and how often the hooks saw each sync,
 * so `check()` can assert that every request settled exactly once.
 */
export class Ledger {
  readonly outcomes: Outcome[] = [];
  /** Keyed `connection index:sync`: syncs repeat across connections. */
  readonly started = new Map<string, number>();
  readonly finished = new Map<string, number>();
  readonly connections: Connection[] = [];

  /** A connection whose hooks feed this ledger. */
  connection(target: ConnectionTarget, options: ConnectionOptions = {}): Connection {
    const index = this.connections.length;
    const connection = new Connection(target, {
      ...options,
      sendStarted: (sync, msg, body) => {
        const key = `${index}:${sync}`;
        this.started.set(key, (this.started.get(key) ?? 0) + 1);
        options.sendStarted?.(sync, msg, body);
      },
      recvFinished: (sync, msg, body, error) => {
        const key = `${index}:${sync}`;
        this.finished.set(key, (this.finished.get(key) ?? 0) + 1);
        options.recvFinished?.(sync, msg, body, error);
      },
    });
    this.connections.push(connection);
    return connection;
  }

  /** Tracks a request's promise; returns it so the test can await it. */
  track<T>(promise: Promise<T>): Promise<T> {
    const index = this.outcomes.push({ state: 'pending' }) - 1;
    promise.then(
      (value) => {
        expect(this.outcomes[index].state, 'request settled twice').toBe('pending');
        this.outcomes[index] = { state: 'fulfilled', value };
      },
      (error) => {
        expect(this.outcomes[index].state, 'request settled twice').toBe('pending');
        this.outcomes[index] = { state: 'rejected', error };
      },
    );
    return promise;
  }

  /** Every tracked request settled; every sync handed to the socket was finished exactly once. */
  async check(): Promise<void> {
    await until(() => this.outcomes.every((o) => o.state !== 'pending'), 'every request to settle');
    for (const [sync, count] of this.started) {
      expect(count, `sync ${sync} started`).toBe(1);
      expect(this.finished.get(sync), `recvFinished calls for sync ${sync}`).toBe(1);
    }
    for (const sync of this.finished.keys())
      expect(this.started.has(sync), `finished sync ${sync}`).toBe(true);
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.close()));
  }
}

/** Settles `promise` into its rejection (fails the test when it fulfils). */
export async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Serves iproto echo on any stream, with the real codec: for unix sockets and in-memory pairs. */
export function serveEcho(stream: Duplex, onFrame?: (frame: Frame) => void): void {
  const decoder = new FrameDecoder();
  stream.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      onFrame?.(frame);
      stream.write(encodeFrame(frame.msg, frame.sync, frame.body));
    }
  });
  stream.on('end', () => stream.end());
  stream.on('error', () => {});
}

/** An iproto echo server on a unix socket path. */
export async function listenUnixEcho(path: string): Promise<Server> {
  const server = createServer((socket) => serveEcho(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return server;
}

/** Two in-memory Duplex ends: what one writes, the other reads. */
export function duplexPair(): [Duplex, Duplex] {
  let a!: Duplex;
  let b!: Duplex;
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk, _encoding, callback) {
        peer().push(chunk);
        callback();
      },
      final(callback) {
        peer().push(null);
        callback();
      },
    });
  a = make(() => b);
  b = make(() => a);
  return [a, b];
}
