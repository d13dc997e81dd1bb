import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { IProtoServer } from '../../src/iproto-server.js';
import type { IProtoServerOptions } from '../../src/server-options.js';

/**
 * Builds a frame by hand (three little-endian uint32 words, then the body), independently of
 * @iproto/framing's encoder, so tests compare the server's output with bytes they made themselves.
 */
export function frame(msg: number, sync: number, body: Uint8Array | string = ''): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  const header = Buffer.alloc(12);
  header.writeUInt32LE(msg, 0);
  header.writeUInt32LE(bytes.length, 4);
  header.writeUInt32LE(sync, 8);
  return Buffer.concat([header, bytes]);
}

/** Polls `check` until it holds; fails after `timeout` ms with `what` in the message. */
export async function waitFor(check: () => boolean, what: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A plain TCP client that records every byte it receives, to check the server's exact output. */
export class RawClient {
  readonly socket: Socket;
  private chunks: Buffer[] = [];
  private length = 0;
  ended = false;
  closed = false;
  error: Error | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
    });
    socket.on('end', () => {
      this.ended = true;
    });
    socket.on('error', (error) => {
      this.error = error;
    });
    socket.on('close', () => {
      this.closed = true;
    });
  }

  /** Every byte received so far. */
  get received(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks, this.length)];
    return this.chunks[0];
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const socket = connect({ port, host });
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  write(...chunks: Uint8Array[]): void {
    this.socket.write(Buffer.concat(chunks));
  }

  /** Resolves with the first `n` bytes received once that many have arrived. */
  async bytes(n: number, timeout?: number): Promise<Buffer> {
    await waitFor(() => this.length >= n, `${n} bytes (have ${this.length})`, timeout);
    return this.received.subarray(0, n);
  }

  /** Resolves when the server has closed the connection. */
  async waitClosed(timeout?: number): Promise<void> {
    await waitFor(() => this.ended || this.closed, 'the server to close the connection', timeout);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A promise with its resolve and reject, for handlers that answer when a test says so. */
export function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The one seeded PRNG of the workspace's fuzzers (tools/test-kit), so a failing run replays from its seed. */
export { createRng, type Rng } from '@iproto/test-kit';

/** The servers and raw clients a test file starts; `cleanup()` (in `afterEach`) closes them all. */
export class Started {
  readonly servers: IProtoServer[] = [];
  readonly clients: RawClient[] = [];

  async server(options: IProtoServerOptions = {}): Promise<{ server: IProtoServer; port: number }> {
    const server = new IProtoServer(options);
    this.servers.push(server);
    const { port } = await server.listen();
    return { server, port };
  }

  async client(port: number): Promise<RawClient> {
    const client = await RawClient.connect(port);
    this.clients.push(client);
    return client;
  }

  async cleanup(): Promise<void> {
    for (const client of this.clients.splice(0)) client.destroy();
    await Promise.all(this.servers.splice(0).map((server) => server.close()));
  }
}
