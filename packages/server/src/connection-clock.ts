import type { ServerErrorCode } from './server-error.js';

/** What the clock reads of the connection it watches, and how it ends it. */
export interface ClockedConnection {
  /** Not reading by the server's own choice (`maxInFlight`, `stopReading()`): the clock does not run. */
  readonly suspended: boolean;
  /** Not reading because the client is not taking replies: only `idleTimeout` runs. */
  readonly writesBlocked: boolean;
  readonly closed: boolean;
  /** Requests whose handlers have not answered: not idleness. */
  readonly inFlight: number;
  /** Bytes of the unfinished frame held, for the message. */
  heldBytes(): number;
  /** Bytes of replies written and not yet taken by the client; fewer than before is progress. */
  unsentBytes(): number;
  /** A limit is passed: the connection is to be closed with this code. */
  expire(code: ServerErrorCode, what: string): void;
}

/**
 * The time limits of one connection, `frameTimeout` (a frame started and not finished) and
 * `idleTimeout` (nothing received, no request in progress), on one `unref()`ed timer armed for the
 * nearest deadline and re-checked when it fires: reading a chunk only stores a timestamp. The clock
 * stops while the server holds reading back by its own choice; `start()` afterwards begins both
 * periods anew, since bytes the server did not read are not the client's delay. While reading waits
 * for the client to take replies, `idleTimeout` runs on (the client's replies taken count as activity)
 * and `frameTimeout` does not: the unfinished frame waits on the server, the idleness on the client.
 */
export class ConnectionClock {
  private readonly frameTimeout: number;
  private readonly idleTimeout: number;
  private readonly connection: ClockedConnection;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  /** When the last byte was read, or the last pending request answered. */
  private readAt = 0;
  /** When the unfinished frame the decoder holds was started; 0 when it holds none. */
  private frameAt = 0;
  /** Unsent reply bytes when last looked at while writes were blocked. */
  private unsent = 0;

  constructor(frameTimeout: number, idleTimeout: number, connection: ClockedConnection) {
    this.frameTimeout = frameTimeout;
    this.idleTimeout = idleTimeout;
    this.connection = connection;
    if (idleTimeout > 0) {
      this.readAt = Date.now();
      this.arm(this.readAt + idleTimeout, this.readAt);
    }
  }

  /** Whether any limit is on (else the connection need not call `read`). */
  get enabled(): boolean {
    return this.frameTimeout > 0 || this.idleTimeout > 0;
  }

  /**
   * A chunk was read and decoded: `completed` frames came out of it and `held` bytes of an
   * unfinished one are left. A chunk that completed frames ended any frame held before it, so an
   * unfinished one is new; a chunk that completed none continued the held frame or started one.
   */
  read(completed: number, held: number): void {
    const now = Date.now();
    this.readAt = now;
    if (this.frameTimeout === 0) return;
    if (held === 0) this.frameAt = 0;
    else if (completed > 0 || this.frameAt === 0) {
      this.frameAt = now;
      this.arm(now + this.frameTimeout, now);
    }
  }

  /** The last pending request was answered: idle time starts now. */
  requestsDone(): void {
    if (this.idleTimeout > 0) this.readAt = Date.now();
  }

  /**
   * Reading paused for replies the client has not taken: idle time counts from the last byte read or
   * reply taken, and is looked at no later than one `idleTimeout` from now.
   */
  writesBlocked(): void {
    if (this.idleTimeout === 0) return;
    this.unsent = this.connection.unsentBytes();
    // Suspended by the server too: start() arms the timer when that ends.
    if (!this.connection.suspended) this.arm(this.readAt + this.idleTimeout, Date.now());
  }

  /** Reading suspended by the server, or the connection closed: no deadline runs. */
  stop(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Reading resumes (or only waits for the client to take replies): both periods start over. */
  start(): void {
    if (!this.enabled) return;
    this.stop();
    const now = Date.now();
    this.readAt = now;
    if (this.frameAt !== 0) this.frameAt = now;
    this.check();
  }

  /** Makes sure the timer fires by `due` (it may fire earlier, and re-arms itself). */
  private arm(due: number, now: number): void {
    if (this.timer !== undefined) {
      if (due >= this.timerAt) return;
      clearTimeout(this.timer);
    }
    this.timerAt = due;
    this.timer = setTimeout(this.check, Math.max(1, due - now));
    this.timer.unref();
  }

  private readonly check = (): void => {
    this.timer = undefined;
    const connection = this.connection;
    if (connection.closed || connection.suspended) return;
    const now = Date.now();
    const blocked = connection.writesBlocked;
    if (blocked) {
      const unsent = connection.unsentBytes();
      if (unsent < this.unsent) this.readAt = now;
      this.unsent = unsent;
    }
    let due = Number.POSITIVE_INFINITY;
    if (this.frameAt !== 0 && !blocked) {
      due = this.frameAt + this.frameTimeout;
      if (now >= due) {
        connection.expire(
          'ERR_FRAME_TIMEOUT',
          `a frame started ${now - this.frameAt} ms ago is unfinished (${connection.heldBytes()} bytes of it received), frameTimeout is ${this.frameTimeout} ms`,
        );
        return;
      }
    }
    if (this.idleTimeout > 0) {
      // A request in progress is not idleness; look again one idleTimeout later.
      const idleDue = connection.inFlight > 0 ? now + this.idleTimeout : this.readAt + this.idleTimeout;
      if (now >= idleDue) {
        connection.expire(
          'ERR_IDLE_TIMEOUT',
          blocked
            ? `nothing received and no reply taken for ${now - this.readAt} ms (${this.unsent} bytes of replies waiting), idleTimeout is ${this.idleTimeout} ms`
            : `nothing received for ${now - this.readAt} ms, idleTimeout is ${this.idleTimeout} ms`,
        );
        return;
      }
      if (idleDue < due) due = idleDue;
    }
    if (due !== Number.POSITIVE_INFINITY) this.arm(due, now);
  };
}
