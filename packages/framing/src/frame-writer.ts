import { DEFAULT_LARGE_BODY_THRESHOLD, HEADER_SIZE } from './constants.js';
import { checkBodyLength, checkUint32, writeHeader } from './frame.js';

/** Options of `new FrameWriter(options)`. */
export interface FrameWriterOptions {
  /** Size of the first buffer, in bytes. Default 16 KiB; later buffers grow geometrically. */
  initialSize?: number;
  /**
   * Bodies of at least this many bytes are not copied but handed out by `take()` as their own chunk.
   * Default {@link DEFAULT_LARGE_BODY_THRESHOLD} (64 KiB). `Infinity` copies every body.
   */
  largeBodyThreshold?: number;
}

const DEFAULT_INITIAL_SIZE = 16 * 1024;
/** Doubling stops here (1 MiB); a frame larger than that still gets a buffer of its own size. */
const MAX_GROWN_SIZE = 1024 * 1024;
/** Bodies up to this many bytes are copied byte by byte (see `add`). */
const SMALL_BODY = 32;
/** A batch of up to this many bytes moves to the next buffer rather than ending a chunk (see `#reserve`). */
const CARRY_LIMIT = 64 * 1024;

/**
 * Gathers many frames into as few chunks as possible, so that a connection calls `add` for every
 * request of a tick and writes the result of one `take()` (e.g. `socket.write` of each chunk inside
 * `cork`/`uncork`, or a single `write` when there is one chunk).
 *
 * Small frames are copied back to back into one buffer that is reused across `take()` calls: each
 * `take()` hands out the filled part and later frames go after it, so bytes already handed to a
 * socket are never overwritten. When the rest of the buffer is too small a new one is allocated: twice
 * the previous size when one batch outgrew it (up to 1 MiB), else the same size, and always large
 * enough for the frame. A body of `largeBodyThreshold` bytes or more is not copied: its header ends the
 * current chunk and the body itself is the next chunk, so do not modify such a body until it has
 * been written.
 */
export class FrameWriter {
  readonly largeBodyThreshold: number;
  #buffer: Buffer;
  /** Start of the bytes not yet handed out by `take()`. */
  #start = 0;
  /** End of the bytes written. */
  #pos = 0;
  #chunks: Buffer[] = [];
  /** Bytes in `#chunks`, and how many of them are large bodies handed out uncopied. */
  #chunkBytes = 0;
  #largeBytes = 0;

  constructor(options: FrameWriterOptions = {}) {
    const size = options.initialSize ?? DEFAULT_INITIAL_SIZE;
    if (!(Number.isInteger(size) && size >= HEADER_SIZE)) {
      throw new RangeError(`FrameWriter: initialSize must be an integer >= ${HEADER_SIZE}, got ${size}`);
    }
    const threshold = options.largeBodyThreshold ?? DEFAULT_LARGE_BODY_THRESHOLD;
    if (!(threshold >= 0)) {
      throw new RangeError(`FrameWriter: largeBodyThreshold must be a non-negative number, got ${threshold}`);
    }
    this.largeBodyThreshold = threshold;
    this.#buffer = Buffer.allocUnsafe(size);
  }

  /** Bytes gathered since the last `take()`. */
  get pendingBytes(): number {
    return this.#chunkBytes + this.#pos - this.#start;
  }

  /**
   * Appends one frame. `msg` and `sync` must be integers from 0 to 2^32-1 (else `RangeError`); no
   * body, or an empty one, makes a header-only frame. A string body is written as UTF-8. A body over
   * 2^32-1 bytes throws `FrameError` `ERR_FRAME_TOO_LARGE` and adds nothing.
   */
  add(msg: number, sync: number, body?: Uint8Array | string): void {
    checkUint32(msg, 'msg');
    checkUint32(sync, 'sync');
    if (typeof body === 'string') {
      this.#addString(msg, sync, body);
      return;
    }
    const len = body === undefined ? 0 : body.length;
    checkBodyLength(len, msg, sync);
    if (len >= this.largeBodyThreshold && len > 0) {
      this.#reserve(HEADER_SIZE);
      writeHeader(this.#buffer, this.#pos, msg, len, sync);
      this.#pos += HEADER_SIZE;
      this.#cut();
      const chunk = Buffer.isBuffer(body) ? body : Buffer.from(body!.buffer, body!.byteOffset, len);
      this.#chunks.push(chunk);
      this.#chunkBytes += len;
      this.#largeBytes += len;
      return;
    }
    this.#reserve(HEADER_SIZE + len);
    const buffer = this.#buffer;
    const pos = this.#pos;
    writeHeader(buffer, pos, msg, len, sync);
    if (len > SMALL_BODY) buffer.set(body!, pos + HEADER_SIZE);
    else {
      // A byte loop beats TypedArray#set's call overhead on the small bodies iproto is mostly made of.
      for (let i = 0, to = pos + HEADER_SIZE; i < len; i++) buffer[to + i] = body![i]!;
    }
    this.#pos = pos + HEADER_SIZE + len;
  }

  #addString(msg: number, sync: number, body: string): void {
    const len = Buffer.byteLength(body, 'utf8');
    checkBodyLength(len, msg, sync);
    if (len >= this.largeBodyThreshold && len > 0) {
      this.add(msg, sync, Buffer.from(body, 'utf8'));
      return;
    }
    this.#reserve(HEADER_SIZE + len);
    writeHeader(this.#buffer, this.#pos, msg, len, sync);
    if (len !== 0) this.#buffer.write(body, this.#pos + HEADER_SIZE, len, 'utf8');
    this.#pos += HEADER_SIZE + len;
  }

  /**
   * Returns the gathered chunks, in order, and starts over. Empty when nothing was added. The chunks
   * are views that this writer never writes to again.
   */
  take(): Buffer[] {
    this.#cut();
    const chunks = this.#chunks;
    if (chunks.length === 0) return [];
    this.#chunks = [];
    this.#chunkBytes = 0;
    this.#largeBytes = 0;
    return chunks;
  }

  /** Moves the bytes written since the last cut into the chunk list. */
  #cut(): void {
    if (this.#pos === this.#start) return;
    this.#chunks.push(this.#buffer.subarray(this.#start, this.#pos));
    this.#chunkBytes += this.#pos - this.#start;
    this.#start = this.#pos;
  }

  /** Makes room for `bytes` more bytes after `#pos`, in a new buffer when this one is too full. */
  #reserve(bytes: number): void {
    const buffer = this.#buffer;
    if (buffer.length - this.#pos >= bytes) return;
    // Grow only when the bytes copied since the last take() outgrow the buffer; a buffer merely used
    // up by earlier batches is replaced by one of the same size, so steady traffic does not inflate it.
    let size = buffer.length;
    const pending = this.#pos - this.#start;
    const batch = this.#chunkBytes - this.#largeBytes + pending;
    if (batch + bytes > size) size = Math.max(size, Math.min(size * 2, MAX_GROWN_SIZE));
    if (pending !== 0 && this.#chunks.length === 0 && pending <= CARRY_LIMIT && pending + bytes <= size) {
      // The batch so far was never handed out, so it may move: copying it into the new buffer keeps
      // the batch one chunk (one plain write() instead of a corked writev for every buffer turnover).
      const next = Buffer.allocUnsafe(size);
      buffer.copy(next, 0, this.#start, this.#pos);
      this.#buffer = next;
      this.#start = 0;
      this.#pos = pending;
      return;
    }
    this.#cut();
    this.#buffer = Buffer.allocUnsafe(Math.max(size, bytes));
    this.#start = 0;
    this.#pos = 0;
  }
}
