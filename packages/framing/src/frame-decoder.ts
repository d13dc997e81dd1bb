import { DEFAULT_MAX_FRAME_SIZE, HEADER_SIZE } from './constants.js';
import type { Frame } from './frame.js';
import { readUint32 } from './frame.js';
import { FrameError } from './frame-error.js';

export interface FrameDecoderOptions {
  /**
   * Largest body, in bytes, a header may announce (header not counted). Default
   * {@link DEFAULT_MAX_FRAME_SIZE} (16 MiB). Any value from 0 to 2^32-1; `Infinity` lifts the limit.
   */
  maxFrameSize?: number;
}

const EMPTY = new Uint8Array(0);

/**
 * Turns a byte stream (TCP chunks of any size and boundary) into iproto frames.
 *
 * Frames that lie inside one chunk are returned with `body` as a `subarray` view of that chunk: the
 * decoder borrows chunks, so do not modify a chunk after pushing it. Only a frame that straddles
 * chunks is copied, once, into a buffer of its exact size (allocated after its header has been read
 * and checked against `maxFrameSize`).
 *
 * A header announcing a body larger than `maxFrameSize` makes `push` throw a `FrameError`
 * `ERR_FRAME_TOO_LARGE` (its `frames` holds the frames completed earlier in the same chunk). The
 * stream cannot be resynchronised after that, so the decoder stays failed: every later `push` throws
 * the same error. Use a new decoder for a new stream.
 */
export class FrameDecoder {
  readonly maxFrameSize: number;

  // A frame split across chunks: its header bytes gathered so far, then (once the header is
  // complete) its body buffer and how much of it is filled.
  #head = Buffer.alloc(HEADER_SIZE);
  #headFill = 0;
  #msg = 0;
  #sync = 0;
  #body: Uint8Array = EMPTY;
  #bodyFill = 0;
  #inBody = false;
  #failed: FrameError | null = null;
  /** Bytes of the stream consumed by earlier pushes, for error offsets. */
  #streamOffset = 0;

  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    if (!(max >= 0) || (max !== Number.POSITIVE_INFINITY && !Number.isInteger(max))) {
      throw new RangeError(
        `FrameDecoder: maxFrameSize must be a non-negative integer or Infinity, got ${max}`,
      );
    }
    this.maxFrameSize = max;
  }

  /** Bytes held for a frame not yet complete (0 between frames). */
  get bufferedBytes(): number {
    return this.#inBody ? HEADER_SIZE + this.#bodyFill : this.#headFill;
  }

  /** The error that failed this decoder, if any. */
  get error(): FrameError | null {
    return this.#failed;
  }

  /**
   * Feeds the next chunk of the stream; returns the frames it completes, in order (often none).
   * Throws `FrameError` `ERR_FRAME_TOO_LARGE` (before allocating anything for that frame).
   */
  push(chunk: Uint8Array): Frame[] {
    if (this.#failed !== null) throw this.#failed;
    const frames: Frame[] = [];
    const end = chunk.length;
    let pos = 0;
    if (this.#headFill !== 0 || this.#inBody) {
      pos = this.#continueSplit(chunk, frames);
      if (pos === end) {
        this.#streamOffset += end;
        return frames;
      }
    }
    const max = this.maxFrameSize;
    // The hot path: whole frames inside this chunk become views of it.
    while (end - pos >= HEADER_SIZE) {
      const len = readUint32(chunk, pos + 4);
      if (len > max) {
        this.#fail(chunk, pos, len, frames);
      }
      const bodyStart = pos + HEADER_SIZE;
      const bodyEnd = bodyStart + len;
      if (bodyEnd > end) break;
      frames.push({
        msg: readUint32(chunk, pos),
        sync: readUint32(chunk, pos + 8),
        body: chunk.subarray(bodyStart, bodyEnd),
      });
      pos = bodyEnd;
    }
    if (pos < end) this.#startSplit(chunk, pos, end);
    this.#streamOffset += end;
    return frames;
  }

  /**
   * Declares the end of the stream. Throws `FrameError` `ERR_FRAME_TRUNCATED` when bytes of an
   * unfinished frame are held (say, the peer closed in the middle of a reply); otherwise does nothing.
   */
  end(): void {
    if (this.#failed !== null) throw this.#failed;
    const held = this.bufferedBytes;
    if (held === 0) return;
    const offset = this.#streamOffset - held;
    const error = this.#inBody
      ? new FrameError(
          'ERR_FRAME_TRUNCATED',
          `iproto stream ended inside a frame at offset ${offset}: msg ${this.#msg} sync ${this.#sync} announces ` +
            `${this.#body.length} body bytes, ${this.#bodyFill} arrived`,
          { msg: this.#msg, sync: this.#sync, len: this.#body.length, offset },
        )
      : new FrameError(
          'ERR_FRAME_TRUNCATED',
          `iproto stream ended inside a header at offset ${offset}: ${held} of ${HEADER_SIZE} bytes arrived`,
          { offset },
        );
    this.#failed = error;
    throw error;
  }

  /** Keeps the tail of a chunk that holds only the start of a frame (copying it: chunks are borrowed). */
  #startSplit(chunk: Uint8Array, pos: number, end: number): void {
    if (end - pos < HEADER_SIZE) {
      this.#head.set(chunk.subarray(pos, end), 0);
      this.#headFill = end - pos;
      return;
    }
    // Header complete and already checked against maxFrameSize by the loop; the body is not.
    const len = readUint32(chunk, pos + 4);
    this.#msg = readUint32(chunk, pos);
    this.#sync = readUint32(chunk, pos + 8);
    const body = Buffer.allocUnsafe(len);
    const have = end - pos - HEADER_SIZE;
    body.set(chunk.subarray(pos + HEADER_SIZE, end), 0);
    this.#body = body;
    this.#bodyFill = have;
    this.#inBody = true;
  }

  /** Continues a split frame with the start of `chunk`; returns how many bytes of it were used. */
  #continueSplit(chunk: Uint8Array, frames: Frame[]): number {
    let pos = 0;
    const end = chunk.length;
    if (!this.#inBody) {
      const need = HEADER_SIZE - this.#headFill;
      if (end < need) {
        this.#head.set(chunk, this.#headFill);
        this.#headFill += end;
        return end;
      }
      const head = this.#head;
      head.set(chunk.subarray(0, need), this.#headFill);
      pos = need;
      const len = readUint32(head, 4);
      if (len > this.maxFrameSize) this.#fail(head, 0, len, frames, -this.#headFill);
      this.#headFill = 0;
      this.#msg = readUint32(head, 0);
      this.#sync = readUint32(head, 8);
      if (len === 0) {
        frames.push({ msg: this.#msg, sync: this.#sync, body: chunk.subarray(pos, pos) });
        return pos;
      }
      // Body entirely inside this chunk: a view, no copy.
      if (end - pos >= len) {
        frames.push({ msg: this.#msg, sync: this.#sync, body: chunk.subarray(pos, pos + len) });
        return pos + len;
      }
      this.#body = Buffer.allocUnsafe(len);
      this.#bodyFill = 0;
      this.#inBody = true;
    }
    const body = this.#body;
    const take = Math.min(body.length - this.#bodyFill, end - pos);
    body.set(take === end - pos && pos === 0 ? chunk : chunk.subarray(pos, pos + take), this.#bodyFill);
    this.#bodyFill += take;
    pos += take;
    if (this.#bodyFill === body.length) {
      frames.push({ msg: this.#msg, sync: this.#sync, body });
      this.#body = EMPTY;
      this.#bodyFill = 0;
      this.#inBody = false;
    }
    return pos;
  }

  #fail(bytes: Uint8Array, pos: number, len: number, frames: Frame[], offsetDelta = 0): never {
    const msg = readUint32(bytes, pos);
    const sync = readUint32(bytes, pos + 8);
    const offset = this.#streamOffset + (bytes === this.#head ? 0 : pos) + offsetDelta;
    const error = new FrameError(
      'ERR_FRAME_TOO_LARGE',
      `iproto frame too large at stream offset ${offset}: msg ${msg} sync ${sync} announces ${len} body bytes, ` +
        `maxFrameSize is ${this.maxFrameSize}`,
      { msg, sync, len, maxFrameSize: this.maxFrameSize, offset },
    );
    error.frames = frames;
    this.#failed = error;
    throw error;
  }
}
