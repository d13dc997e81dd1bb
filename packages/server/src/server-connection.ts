import type { Socket } from 'node:net';
import { type Frame, FrameDecoder, FrameError, FrameWriter } from '@iproto/framing';
import { ConnectionClock } from './connection-clock.js';
import { channels } from './diagnostics.js';
import { ServerError, type ServerErrorCode } from './server-error.js';

/** What a connection needs from the server that accepted it. */
export interface ConnectionHooks {
  maxFrameSize?: number;
  /** Requests whose answer is pending (`beginRequest`) at which reading pauses. Default: no limit. */
  maxInFlight?: number;
  /**
   * Bytes of replies the client may leave untaken, counting those about to be written, before the
   * connection is closed; a reply is never refused when none is left untaken. Default: no limit.
   */
  maxReplyBuffer?: number;
  /** Milliseconds a client has to finish a frame it started; 0 or absent: no limit. */
  frameTimeout?: number;
  /**
   * Milliseconds without a byte received and no request pending before closing, or, while replies
   * wait for the client to take them, without it taking any; 0 or absent: no limit.
   */
  idleTimeout?: number;
  /** Milliseconds a pending request may take (see `beginRequest`); 0 or absent: no limit. */
  handlerTimeout?: number;
  /** A complete request frame arrived. */
  onFrame(frame: Frame, connection: ServerConnection): void;
  /**
   * The client announced a frame over `maxFrameSize`; the connection is destroyed next, and the
   * returned error is the one `onClose` gets.
   */
  onFrameError(error: FrameError, connection: ServerConnection): Error;
  /**
   * A limit closes the connection (`ERR_FRAME_TIMEOUT`, `ERR_IDLE_TIMEOUT`, `ERR_REPLY_BUFFER_FULL`);
   * the connection is destroyed next with this error, which `onClose` gets.
   */
  onLimit?(error: ServerError, connection: ServerConnection): void;
  /** A socket error; `onClose` follows. */
  onError(error: Error, connection: ServerConnection): void;
  /** The socket is gone; `error` is the socket or framing error that ended it, if any. */
  onClose(connection: ServerConnection, error?: Error): void;
  /** Called for every frame queued by `send()` (the debug log's packet dumps); absent when not needed. */
  onSend?(msg: number, sync: number, body: Uint8Array | undefined, connection: ServerConnection): void;
}

// Why reading is paused: one bit per reason, so one field says whether and why.
/** The socket's write buffer is over its high-water mark (the client is slow to read replies). */
const PAUSED_BY_WRITES = 1;
/** `stopReading()`. */
const PAUSED_BY_CALLER = 2;
/** `maxInFlight` requests are waiting for their handlers. */
const PAUSED_BY_IN_FLIGHT = 4;

/**
 * One accepted client of an `IProtoServer` (MR::IProto::Server::Connection). It decodes request
 * frames, hands them to the server, and gathers the replies of one tick into one write.
 *
 * Reading pauses (the socket stops being read, so the client's own writes back up) while the
 * socket's write buffer is over its high-water mark, while `maxInFlight` requests wait for their
 * handlers, and after `stopReading()`; frames already read wait, in order, until it resumes. The
 * time limits stop while the server holds reading back by its own choice (`maxInFlight`,
 * `stopReading()`): a client is never blamed for bytes the server did not read. A pause for replies
 * the client does not take is the client's doing: the idle time runs on then, so a client that never
 * reads is closed rather than held open forever.
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
  private readonly maxInFlight: number;
  private readonly maxReplyBuffer: number;
  private readonly handlerTimeout: number;
  /** `frameTimeout` and `idleTimeout`; undefined when both are off. */
  private readonly clock: ConnectionClock | undefined;
  /** Replies gathered during a read are written as soon as they pass this many bytes. */
  private readonly replyHighWater: number;
  // 64 KiB: a pipelined client's replies to one read fit, so a flush is usually one chunk, one write().
  // Made on the first reply: an idle connection does not hold a write buffer.
  private writer: FrameWriter | undefined;
  /** Frames read but not dispatched because reading paused first: `heldFrames[heldFrom..]`. */
  private heldFrames: Frame[] | undefined;
  private heldFrom = 0;
  private pausedBy = 0;
  private pending = 0;
  /** Timers of pending requests (`handlerTimeout`), cleared when the connection closes. */
  private requestTimers: Set<NodeJS.Timeout> | undefined;
  private inRead = false;
  private flushScheduled = false;
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
    this.maxInFlight = hooks.maxInFlight ?? Number.POSITIVE_INFINITY;
    this.maxReplyBuffer = hooks.maxReplyBuffer ?? Number.POSITIVE_INFINITY;
    this.handlerTimeout = hooks.handlerTimeout ?? 0;
    this.replyHighWater = Math.max(socket.writableHighWaterMark, 1);
    socket.on('data', this.onData);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    const frameTimeout = hooks.frameTimeout ?? 0;
    const idleTimeout = hooks.idleTimeout ?? 0;
    if (frameTimeout > 0 || idleTimeout > 0) {
      const self = this;
      this.clock = new ConnectionClock(frameTimeout, idleTimeout, {
        get suspended() {
          return (self.pausedBy & ~PAUSED_BY_WRITES) !== 0;
        },
        get writesBlocked() {
          return (self.pausedBy & PAUSED_BY_WRITES) !== 0;
        },
        get closed() {
          return self.closed;
        },
        get inFlight() {
          return self.pending;
        },
        heldBytes: () => this.decoder.bufferedBytes,
        unsentBytes: () => this.socket.writableLength,
        expire: (code, what) => this.limit(code, what),
      });
    }
  }

  /** True once the socket is closed or closing: replies sent now are dropped. */
  get closed(): boolean {
    return this.done || this.socket.destroyed;
  }

  /** True while reading is paused: by backpressure, by `maxInFlight`, or by `stopReading()`. */
  get paused(): boolean {
    return this.pausedBy !== 0;
  }

  /** Requests whose handlers have not answered yet (a handler that returned a promise). */
  get inFlight(): number {
    return this.pending;
  }

  /**
   * Queues a frame; frames queued in the same tick go out in one write, or as soon as they pass the
   * socket's high-water mark. Returns false (and sends nothing) when the connection is closing or
   * this frame pushed the replies the client left untaken over `maxReplyBuffer`. A body over
   * 2^32-1 bytes throws framing's `FrameError` `ERR_FRAME_TOO_LARGE` and queues nothing.
   */
  send(msg: number, sync: number, body?: Uint8Array): boolean {
    if (this.done) return false;
    const writer = (this.writer ??= new FrameWriter());
    writer.add(msg, sync, body);
    if (this.onSend !== undefined) this.onSend(msg, sync, body, this);
    if (channels.reply.hasSubscribers) channels.reply.publish({ connection: this, msg, sync, body });
    // Replies of async handlers all settle in one microtask run, before the end-of-tick flush: the
    // high-water mark and maxReplyBuffer must see them one by one, not after they have piled up.
    if (writer.pendingBytes >= this.replyHighWater) {
      this.flush();
      return !this.done;
    }
    this.scheduleFlush();
    return true;
  }

  /** Writes raw bytes after every frame queued so far (for tests that need malformed streams). */
  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    this.flush();
    if (this.closed) return false;
    this.afterWrite(this.socket.write(bytes));
    return true;
  }

  /**
   * Stops handling requests and reading the socket, so the client's writes back up. Requests already
   * read wait (unanswered) for `resumeReading()`.
   */
  stopReading(): void {
    this.pause(PAUSED_BY_CALLER);
  }

  /** Undoes `stopReading()`: handles the requests that waited, then reads on. */
  resumeReading(): void {
    this.unpause(PAUSED_BY_CALLER);
  }

  /**
   * Counts a request whose answer is pending (its handler returned a promise); reading pauses while
   * `maxInFlight` are. With a `handlerTimeout`, `onTimeout` is called if `endRequest` has not been
   * by then; the returned timer is to be passed to `endRequest`. For `IProtoServer`.
   */
  beginRequest(onTimeout?: () => void): NodeJS.Timeout | undefined {
    if (++this.pending >= this.maxInFlight) this.pause(PAUSED_BY_IN_FLIGHT);
    if (onTimeout === undefined || this.handlerTimeout === 0 || this.isClosed) return undefined;
    const timer = setTimeout(onTimeout, this.handlerTimeout);
    timer.unref();
    (this.requestTimers ??= new Set()).add(timer);
    return timer;
  }

  /** The request counted by `beginRequest` is answered, failed, or given up on. */
  endRequest(timer?: NodeJS.Timeout): void {
    if (timer !== undefined) {
      clearTimeout(timer);
      this.requestTimers?.delete(timer);
    }
    const pending = --this.pending;
    if (pending === 0) this.clock?.requestsDone();
    if (pending < this.maxInFlight) this.unpause(PAUSED_BY_IN_FLIGHT);
  }

  /**
   * Sends what is queued, then closes the connection (FIN after the data). Requests that arrive
   * afterwards are ignored.
   */
  close(): void {
    if (this.closed) return;
    this.flush();
    if (this.closed) return;
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
    if (writer === undefined) return;
    const bytes = writer.pendingBytes;
    if (bytes === 0) return;
    const chunks = writer.take();
    if (this.closed) return;
    const socket = this.socket;
    // Replies the client has not taken yet (Node's buffer; the kernel's are full by then) and these.
    // With none untaken anything goes out, so one large reply to a client that reads is never refused.
    const untaken = socket.writableLength;
    if (untaken > 0 && untaken + bytes > this.maxReplyBuffer) {
      this.limit(
        'ERR_REPLY_BUFFER_FULL',
        `${untaken} bytes of replies not taken by the client and ${bytes} more to send, maxReplyBuffer is ${this.maxReplyBuffer}`,
      );
      return;
    }
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
    if (ok || (this.pausedBy & PAUSED_BY_WRITES) !== 0) return;
    this.pause(PAUSED_BY_WRITES);
    this.clock?.writesBlocked();
    this.socket.once('drain', this.onDrain);
  }

  private readonly onDrain = (): void => {
    this.unpause(PAUSED_BY_WRITES);
  };

  private pause(reason: number): void {
    if (this.pausedBy === 0) this.socket.pause();
    // The server's own reasons suspend the clock; waiting for the client to take replies does not.
    if (reason !== PAUSED_BY_WRITES && (this.pausedBy & ~PAUSED_BY_WRITES) === 0) this.clock?.stop();
    this.pausedBy |= reason;
  }

  /** Lifts one reason to pause; when none is left, dispatches the frames that waited and reads on. */
  private unpause(reason: number): void {
    if ((this.pausedBy & reason) === 0) return;
    this.pausedBy &= ~reason;
    if (this.done) return;
    // Nothing the server chose holds reading back now: the clock runs from here (a drain is the
    // client's activity), even if the held frames' replies block writes again at once.
    if ((this.pausedBy & ~PAUSED_BY_WRITES) === 0) this.clock?.start();
    if (this.pausedBy !== 0) return;
    const held = this.heldFrames;
    if (held !== undefined) {
      this.heldFrames = undefined;
      this.dispatch(held, this.heldFrom);
    }
    if (this.pausedBy === 0 && !this.closed) this.socket.resume();
  }

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
    if (this.clock !== undefined && failure === undefined)
      this.clock.read(frames.length, this.decoder.bufferedBytes);
    if (this.heldFrames !== undefined) {
      // Reading was paused with frames waiting; keep the order (Node does not emit after pause(),
      // this is the belt to that brace).
      this.hold(frames, 0);
      this.socket.pause();
    } else {
      this.dispatch(frames, 0);
    }
    if (failure !== undefined && !this.socket.destroyed) {
      this.failure = this.hooks.onFrameError(failure, this);
      this.destroy();
    }
  };

  /** Hands `frames[from..]` to the server, then writes the replies they produced at once. */
  private dispatch(frames: Frame[], from: number): void {
    const onFrame = this.hooks.onFrame;
    this.inRead = true;
    try {
      for (let i = from; i < frames.length; i++) {
        if (this.pausedBy !== 0 || this.done) {
          if (!this.done) this.hold(frames, i);
          break;
        }
        onFrame(frames[i], this);
        // Many replies to one read (or large ones) go out as they pass the high-water mark, so a
        // client that does not read them pauses reading at once rather than after the whole chunk.
        const writer = this.writer;
        if (writer !== undefined && writer.pendingBytes >= this.replyHighWater) this.flush();
      }
    } finally {
      this.inRead = false;
    }
    this.flush();
  }

  private hold(frames: Frame[], from: number): void {
    if (from >= frames.length) return;
    if (this.heldFrames === undefined) {
      this.heldFrames = frames;
      this.heldFrom = from;
    } else {
      this.heldFrames = this.heldFrames.slice(this.heldFrom).concat(frames.slice(from));
      this.heldFrom = 0;
    }
  }

  /** A limit closes the connection: reported through the server, then destroyed with that error. */
  private limit(code: ServerErrorCode, what: string): void {
    const error = new ServerError(code, `${this.address}: ${what}; connection closed`, {
      address: this.address,
    });
    this.hooks.onLimit?.(error, this);
    this.destroy(error);
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
    this.heldFrames = undefined;
    this.clock?.stop();
    const timers = this.requestTimers;
    if (timers !== undefined) {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    }
    this.hooks.onClose(this, this.failure);
  };
}
