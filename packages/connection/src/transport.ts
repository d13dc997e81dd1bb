import { connect as netConnect, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { FrameDecoder, FrameError, type FrameSink } from '@iproto/framing';
import type { DispatchEntry } from './entry.js';
import { errnoOf, fromSocketError, IProtoError } from './errors.js';
import { rethrowLater } from './reply-batch.js';

/** Where a `Connection` goes: TCP, a unix socket, or any stream the caller opens (TLS, an in-memory pair). */
export type ConnectionTarget =
  | { host: string; port: number }
  | { path: string }
  | {
      /** Opens the stream; called on each (re)connect. */
      connect: () => Duplex;
      /** Names the peer in errors and debug lines. Default `'stream'`. */
      address?: string;
    };

// The states of one socket.
/** Opening. */
export const CONNECTING = 0;
/** Open: new requests are written to it. */
export const OPEN = 1;
/** Found silent: nothing new is written to it; it stays open for the replies still within their deadlines. */
export const RETIRED = 2;
/** Ended by us (close): waiting for the socket to go. */
export const ENDING = 3;
/** Gone. */
export const CLOSED = 4;

/** What a transport reports to (its `Connection`). */
export interface TransportOwner {
  readonly address: string;
  transportOpened(transport: Transport): void;
  /** One frame of a read; reads never nest. */
  transportFrame(
    transport: Transport,
    msg: number,
    sync: number,
    bytes: Uint8Array,
    start: number,
    end: number,
  ): void;
  /** A read was decoded (after its frames). */
  transportRead(transport: Transport): void;
  transportDrained(transport: Transport): void;
  transportFailed(transport: Transport, error: IProtoError): void;
  /** A socket we ended has closed. */
  transportEnded(transport: Transport): void;
  /** The signal of a request waiting or in flight on this connection was aborted. */
  entryAborted(entry: DispatchEntry): void;
}

export interface TransportOptions {
  connectTimeout: number;
  tcpNoDelay: boolean;
  tcpKeepAlive: boolean;
  keepAliveInitialDelay: number;
  maxFrameSize: number;
}

/** The transport whose read is being decoded (reads do not nest), for the shared frame sink. */
let reading: Transport | null = null;
const onFrame: FrameSink = (msg, sync, bytes, start, end) => {
  const transport = reading!;
  // Once a frame has failed the socket, the rest of the chunk is not ours.
  if (transport.state === OPEN || transport.state === RETIRED) {
    transport.owner.transportFrame(transport, msg, sync, bytes, start, end);
  }
};

/**
 * One socket of a connection: opening it (TCP, unix socket, or the caller's stream; TLS handshakes
 * waited for), its connect timeout, its frame decoder, its requests' count, and its end. A
 * connection has one open transport at a time, and may keep retired ones while their last replies
 * come.
 */
export class Transport {
  state = CONNECTING;
  socket: Duplex | null = null;
  readonly decoder: FrameDecoder;
  /** When something was last received, or when requests began to wait on a quiet socket. */
  lastActivity = 0;
  /** Entries holding a sync on this socket (in flight or abandoned). */
  held = 0;
  /** Entries in flight on this socket (not abandoned). */
  live = 0;
  /** Writing paused until the socket drains. */
  needDrain = false;
  #connectTimer: NodeJS.Timeout | null = null;
  #forceTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly owner: TransportOwner,
    target: ConnectionTarget,
    readonly options: TransportOptions,
  ) {
    this.decoder = new FrameDecoder({ maxFrameSize: options.maxFrameSize });
    let socket: Duplex;
    let waitFor: string | null;
    try {
      if ('connect' in target) {
        socket = target.connect();
        // A TLS socket is usable after its handshake, a net socket once connected, any other stream now.
        if (socket instanceof TLSSocket) {
          waitFor = (socket as unknown as { _secureEstablished?: boolean })._secureEstablished
            ? null
            : 'secureConnect';
        } else {
          waitFor = (socket as Partial<Socket>).connecting === true ? 'connect' : null;
        }
      } else {
        socket = netConnect(
          'path' in target ? { path: target.path } : { host: target.host, port: target.port },
        );
        waitFor = 'connect';
      }
    } catch (error) {
      // The user's connect() threw: fail like a refused connection, asynchronously (so that sends of
      // this tick join the failure rather than call connect() again).
      const failure = fromSocketError(error, owner.address, 'connect');
      process.nextTick(() => {
        if (this.state === CONNECTING) owner.transportFailed(this, failure);
      });
      return;
    }
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => {
      if (this.state !== CLOSED) {
        this.needDrain = false;
        owner.transportDrained(this);
      }
    });
    socket.on('error', (error: Error) => {
      if (this.state === CLOSED || this.state === ENDING) return;
      owner.transportFailed(
        this,
        fromSocketError(error, owner.address, this.state === CONNECTING ? 'connect' : 'read/write'),
      );
    });
    socket.on('end', () => {
      if (this.state !== CLOSED && this.state !== ENDING) owner.transportFailed(this, this.#eofError());
    });
    socket.on('close', () => {
      if (this.state === ENDING) {
        this.#closed();
        owner.transportEnded(this);
      } else if (this.state !== CLOSED) owner.transportFailed(this, this.#eofError());
    });
    if (waitFor === null) {
      process.nextTick(() => this.#opened());
    } else {
      socket.once(waitFor, () => this.#opened());
      if (options.connectTimeout > 0) {
        this.#connectTimer = setTimeout(() => {
          this.#connectTimer = null;
          if (this.state !== CONNECTING) return;
          owner.transportFailed(
            this,
            new IProtoError(
              'ERR_CONNECT_TIMEOUT',
              `${owner.address}: connect timed out after ${options.connectTimeout} ms`,
              { address: owner.address, errno: errnoOf('ETIMEDOUT') },
            ),
          );
        }, options.connectTimeout);
        this.#connectTimer.unref();
      }
    }
  }

  /** Bytes the stream holds that the OS has not taken yet. */
  get writableLength(): number {
    return this.socket === null ? 0 : this.socket.writableLength;
  }

  /** Ends the socket gracefully (FIN), destroying it if it has not gone after `forceMs`. */
  end(forceMs: number): void {
    const socket = this.socket;
    if (this.state === CLOSED || this.state === ENDING) return;
    this.#clearConnectTimer();
    if (socket === null) {
      this.#closed();
      return;
    }
    const wasOpen = this.state === OPEN || this.state === RETIRED;
    this.state = ENDING;
    this.#forceTimer = setTimeout(() => socket.destroy(), forceMs);
    this.#forceTimer.unref();
    socket.once('finish', () => socket.destroy());
    // A socket still connecting has nothing to say goodbye to.
    if (wasOpen) socket.end();
    else socket.destroy();
    if (socket.destroyed && socket.closed) {
      this.#closed();
      this.owner.transportEnded(this);
    }
  }

  /** Closes the socket at once. */
  destroy(): void {
    if (this.state === CLOSED) return;
    this.#closed();
    this.socket?.destroy();
  }

  #closed(): void {
    this.state = CLOSED;
    this.#clearConnectTimer();
    if (this.#forceTimer !== null) {
      clearTimeout(this.#forceTimer);
      this.#forceTimer = null;
    }
  }

  #opened(): void {
    if (this.state !== CONNECTING) return;
    this.#clearConnectTimer();
    this.state = OPEN;
    const socket = this.socket;
    if (socket instanceof Socket) {
      socket.setNoDelay(this.options.tcpNoDelay);
      socket.setKeepAlive(this.options.tcpKeepAlive, this.options.keepAliveInitialDelay);
    }
    this.owner.transportOpened(this);
  }

  #onData(chunk: Buffer): void {
    if (this.state === CLOSED) return;
    this.lastActivity = performance.now();
    reading = this;
    try {
      this.decoder.scan(chunk, onFrame);
    } catch (error) {
      reading = null;
      this.owner.transportRead(this);
      // Anything but the decoder's own error is a bug that must not vanish: surface it, later.
      if (!(error instanceof FrameError)) {
        rethrowLater(error);
        return;
      }
      if (this.state === CLOSED) return;
      const address = this.owner.address;
      this.owner.transportFailed(
        this,
        new IProtoError('ERR_FRAME_TOO_LARGE', `${address}: ${error.message}`, {
          address,
          msg: error.msg,
          sync: error.sync,
          cause: error,
        }),
      );
      return;
    }
    reading = null;
    this.owner.transportRead(this);
  }

  #eofError(): IProtoError {
    const address = this.owner.address;
    const held = this.decoder.bufferedBytes;
    const detail = held === 0 ? '' : ` in the middle of a frame (${held} bytes of it received)`;
    // AnyEvent::Handle reports an end-of-file with reads pending as EPIPE, which the Perl client passes on as $!.
    return new IProtoError('ECONNCLOSED', `${address}: connection closed by the server${detail}`, {
      address,
      errno: errnoOf('EPIPE'),
    });
  }

  #clearConnectTimer(): void {
    if (this.#connectTimer !== null) {
      clearTimeout(this.#connectTimer);
      this.#connectTimer = null;
    }
  }
}
