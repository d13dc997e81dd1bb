import type { Socket } from 'node:net';
import { type Frame, FrameDecoder, FrameError, FrameWriter } from '@iproto/framing';
import { channels } from './diagnostics.js';

/** What a connection needs from the server that accepted it. */
export interface ConnectionHooks {
  maxFrameSize?: number;
  /** A complete request frame arrived. */
  onFrame(frame: Frame, connection: ServerConnection): void;
  /**
   * The client announced a frame over `maxFrameSize`; the connection is destroyed next, and the
   * returned error is the one `onClose` gets.
   */
  onFrameError(error: FrameError, connection: ServerConnection): Error;
  /** A socket error; `onClose` follows. */
  onError(error: Error, connection: ServerConnection): void;
  /** The socket is gone; `error` is the socket or framing error that ended it, if any. */
  onClose(connection: ServerConnection, error?: Error): void;
  /** Called for every frame queued by `send()` (the debug log's packet dumps); absent when not needed. */
  onSend?(msg: number, sync: number, body: Uint8Array | undefined, connection: ServerConnection): void;
}

/**
 * One accepted client of an `IProtoServer` (MR::IProto::Server::Connection). It decodes request
 * frames, hands them to the server, and gathers the replies of one tick into one write. When the
 * socket's write buffer is over its high-water mark it stops reading until the buffer drains, so a
 * client that does not read its replies cannot make the server buffer without bound.
 */
export class ServerConnection {
  readonly socket: Socket;
  /** The client's IP address. */
  readonly host: string;
  /** The client's port. */
  readonly port: number;
  /** `host:port` of the client, for messages. */
  readonly address: string;

  private readonly hooks: ConnectionHooks;
  private readonly onSend: ConnectionHooks['onSend'];
  private readonly decoder: FrameDecoder;
  // 64 KiB: a pipelined client's replies to one read fit, so a flush is usually one chunk, one write().
  // Made on the first reply: an idle connection does not hold a write buffer.
  private writer: FrameWriter | undefined;
  /** Frames read but not dispatched because `stopReading()` came first; `resumeReading()` runs them. */
  private held: Frame[] | undefined;
  private inRead = false;
  private flushScheduled = false;
  private backpressured = false;
  private readingStopped = false;
  /** Set by close(), destroy() and the socket's close: no more frames are dispatched or queued. */
  private done = false;
  private failure: Error | undefined;
  private isClosed = false;

  constructor(socket: Socket, hooks: ConnectionHooks) {
    this.socket = socket;
    this.hooks = hooks;
    this.onSend = hooks.onSend;
    this.host = socket.remoteAddress ?? '';
    this.port = socket.remotePort ?? 0;
    this.address = `${this.host}:${this.port}`;
    this.decoder = new FrameDecoder(
      hooks.maxFrameSize === undefined ? {} : { maxFrameSize: hooks.maxFrameSize },
    );
    socket.on('data', this.onData);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
  }

  /** True once the socket is closed or closing: replies sent now are dropped. */
  get closed(): boolean {
    return this.done || this.socket.destroyed;
  }

  /** True while reading is paused, by backpressure or by `stopReading()`. */
  get paused(): boolean {
    return this.backpressured || this.readingStopped;
  }

  /**
   * Queues a frame; frames queued in the same tick go out in one write. Returns false (and sends
   * nothing) when the connection is closing.
   */
  send(msg: number, sync: number, body?: Uint8Array): boolean {
    if (this.done) return false;
    (this.writer ??= new FrameWriter()).add(msg, sync, body);
    if (this.onSend !== undefined) this.onSend(msg, sync, body, this);
    if (channels.reply.hasSubscribers) channels.reply.publish({ connection: this, msg, sync, body });
    this.scheduleFlush();
    return true;
  }

  /** Writes raw bytes after every frame queued so far (for tests that need malformed streams). */
  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    this.flush();
    this.afterWrite(this.socket.write(bytes));
    return true;
  }

  /**
   * Stops handling requests and reading the socket, so the client's writes back up. Requests already
   * read wait (unanswered) for `resumeReading()`.
   */
  stopReading(): void {
    this.readingStopped = true;
    this.socket.pause();
  }

  /** Undoes `stopReading()`: handles the requests that waited, then reads on. */
  resumeReading(): void {
    if (!this.readingStopped) return;
    this.readingStopped = false;
    const held = this.held;
    if (held !== undefined) {
      this.held = undefined;
      this.dispatch(held);
    }
    if (!this.readingStopped && !this.backpressured && !this.closed) this.socket.resume();
  }

  /**
   * Sends what is queued, then closes the connection (FIN after the data). Requests that arrive
   * afterwards are ignored.
   */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.done = true;
    this.socket.end(() => this.socket.destroy());
  }

  /** Closes the connection at once, dropping anything not yet written. */
  destroy(error?: Error): void {
    if (error !== undefined && this.failure === undefined) this.failure = error;
    this.done = true;
    this.socket.destroy();
  }

  /** Writes the queued frames now instead of at the end of the tick. */
  flush(): void {
    this.flushScheduled = false;
    const writer = this.writer;
    if (writer === undefined || writer.pendingBytes === 0) return;
    const chunks = writer.take();
    if (this.closed) return;
    const socket = this.socket;
    let ok: boolean;
    if (chunks.length === 1) {
      ok = socket.write(chunks[0]);
    } else {
      ok = true;
      socket.cork();
      for (const chunk of chunks) ok = socket.write(chunk) && ok;
      socket.uncork();
    }
    this.afterWrite(ok);
  }

  private scheduleFlush(): void {
    // Inside a read the flush runs once every frame of the chunk is dispatched.
    if (this.inRead || this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(this.flushTick);
  }

  private readonly flushTick = (): void => {
    if (this.flushScheduled) this.flush();
  };

  private afterWrite(ok: boolean): void {
    if (ok || this.backpressured) return;
    this.backpressured = true;
    this.socket.pause();
    this.socket.once('drain', this.onDrain);
  }

  private readonly onDrain = (): void => {
    this.backpressured = false;
    if (!this.readingStopped && !this.closed) this.socket.resume();
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return;
    let frames: Frame[];
    let failure: FrameError | undefined;
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      failure = error;
      frames = error.frames;
    }
    this.dispatch(frames);
    if (failure !== undefined && !this.socket.destroyed) {
      this.failure = this.hooks.onFrameError(failure, this);
      this.socket.destroy();
    }
  };

  /** Hands `frames` to the server, then writes the replies they produced at once. */
  private dispatch(frames: Frame[]): void {
    const onFrame = this.hooks.onFrame;
    this.inRead = true;
    try {
      for (let i = 0; i < frames.length && !this.done; i++) {
        if (this.readingStopped) {
          this.held = this.held === undefined ? frames.slice(i) : this.held.concat(frames.slice(i));
          break;
        }
        onFrame(frames[i], this);
      }
    } finally {
      this.inRead = false;
    }
    this.flush();
  }

  private readonly onSocketError = (error: Error): void => {
    if (this.failure === undefined) this.failure = error;
    this.hooks.onError(error, this);
  };

  private readonly onSocketClose = (): void => {
    if (this.isClosed) return;
    this.isClosed = true;
    this.done = true;
    this.flushScheduled = false;
    this.hooks.onClose(this, this.failure);
  };
}
