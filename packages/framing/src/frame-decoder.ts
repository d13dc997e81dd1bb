import { HEADER_SIZE, resolveMaxFrameSize } from './constants.js';
import type { Frame } from './frame.js';
import { readUint32 } from './frame.js';
import { FrameError } from './frame-error.js';

/** Options of `new FrameDecoder(options)`. */
export interface FrameDecoderOptions {
  /**
   * Largest body, in bytes, a header may announce (header not counted). Default
   * {@link DEFAULT_MAX_FRAME_SIZE} (16 MiB). Any value from 0 to 2^32-1; `Infinity` lifts the limit.
   */
  maxFrameSize?: number;
}

const EMPTY = new Uint8Array(0);

/**
 * Room given at first to the body of a frame split across chunks (64 KiB, or the bytes already at
 * hand when more, never more than the frame announces). The buffer then doubles as bytes arrive, so a
 * header announcing 16 MiB costs 64 KiB until the peer actually sends more: memory follows the bytes
 * received, not the length a peer wrote.
 */
const INITIAL_BODY_ROOM = 64 * 1024;

/** Receives one frame from {@link FrameDecoder.scan}: its header fields and where its body lies. */
export type FrameSink = (msg: number, sync: number, bytes: Uint8Array, start: number, end: number) => void;

type BufferViewClass = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer;

/**
 * Node's own `Buffer` view class (the one `Buffer[Symbol.species]` names). `new View(arrayBuffer,
 * offset, length)` makes the same `Buffer` view as `buffer.subarray(...)` at about the cost of a plain
 * `Uint8Array` (~20 ns against ~48 ns on Node 20: `subarray` looks the class up through the species
 * protocol on every call). Undefined where the runtime does not offer such a class; then `subarray`.
 */
const BufferView: BufferViewClass | undefined = findBufferView();

function findBufferView(): BufferViewClass | undefined {
  const species: unknown = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species];
  // `Buffer` itself would work too, but through its deprecated constructor (DEP0005).
  if (typeof species !== 'function' || species === Buffer) return undefined;
  try {
    const probe = new (species as BufferViewClass)(new ArrayBuffer(4), 1, 2);
    if (
      Buffer.isBuffer(probe) &&
      Object.getPrototypeOf(probe) === Buffer.prototype &&
      probe.byteOffset === 1 &&
      probe.length === 2
    ) {
      return species as BufferViewClass;
    }
  } catch {
    // not a usable constructor here
  }
  return undefined;
}

/**
 * The body of a frame that {@link FrameDecoder.scan} handed over as a range, as `parse` gives it: the
 * bytes themselves when the range is all of them (a body copied out of split chunks), else a view
 * (a `Buffer` of a `Buffer`, at the cost of a plain typed array).
 */
export function frameBody(bytes: Uint8Array, start: number, end: number): Uint8Array {
  if (start === 0 && end === bytes.length) return bytes;
  if (BufferView !== undefined && Buffer.isBuffer(bytes)) {
    return new BufferView(bytes.buffer, bytes.byteOffset + start, end - start);
  }
  return bytes.subarray(start, end);
}

/**
 * Turns a byte stream (TCP chunks of any size and boundary) into iproto frames.
 *
 * Frames that lie inside one chunk are returned with `body` as a `subarray` view of that chunk: the
 * decoder borrows chunks, so do not modify a chunk after pushing it. Only a frame that straddles
 * chunks is copied, once, into a buffer of its exact size (allocated after its header has been read
 * and checked against `maxFrameSize`).
 *
 * Two ways to feed it: `push(chunk)` returns the completed frames as an array; `parse(chunk,
 * onFrame)` calls back per frame and is the faster one on a busy socket (see its note).
 *
 * A header announcing a body larger than `maxFrameSize` throws a `FrameError` `ERR_FRAME_TOO_LARGE`
 * (from `push`, its `frames` holds the frames completed earlier in the same chunk). The stream cannot
 * be resynchronised after that, so the decoder stays failed: every later call throws the same error.
 * Use a new decoder for a new stream.
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
  /** Body length the split frame's header announced; `#body` grows towards it as bytes arrive. */
  #bodyLen = 0;
  #bodyFill = 0;
  #inBody = false;
  #failed: Error | null = null;
  #completed: Frame | null = null;
  #parsing = false;
  /** Bytes of the stream consumed by earlier pushes, for error offsets. */
  #streamOffset = 0;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameSize = resolveMaxFrameSize(options.maxFrameSize, 'FrameDecoder');
  }

  /** Bytes held for a frame not yet complete (0 between frames). */
  get bufferedBytes(): number {
    return this.#inBody ? HEADER_SIZE + this.#bodyFill : this.#headFill;
  }

  /** The error that failed this decoder, if any. */
  get error(): Error | null {
    return this.#failed;
  }

  /**
   * Feeds the next chunk of the stream; returns the frames it completes, in order (often none).
   * Throws `FrameError` `ERR_FRAME_TOO_LARGE` (before allocating anything for that frame).
   */
  push(chunk: Uint8Array): Frame[] {
    if (this.#failed !== null || this.#parsing) this.#throwFailed();
    const frames: Frame[] = [];
    const end = chunk.length;
    let pos = 0;
    if (this.#headFill !== 0 || this.#inBody) {
      pos = this.#continueSplit(chunk, frames);
      const done = this.#completed;
      if (done !== null) {
        this.#completed = null;
        frames.push(done);
      }
    }
    const max = this.maxFrameSize;
    const View = BufferView !== undefined && Buffer.isBuffer(chunk) ? BufferView : undefined;
    const bytes = chunk.buffer;
    const base = chunk.byteOffset;
    // The hot path: whole frames inside this chunk become views of it (Buffers of a Buffer chunk).
    while (end - pos >= HEADER_SIZE) {
      const len = readUint32(chunk, pos + 4);
      if (len > max) this.#tooLarge(chunk, pos, len, frames);
      const bodyStart = pos + HEADER_SIZE;
      const bodyEnd = bodyStart + len;
      if (bodyEnd > end) break;
      frames.push({
        msg: readUint32(chunk, pos),
        sync: readUint32(chunk, pos + 8),
        body:
          View !== undefined ? new View(bytes, base + bodyStart, len) : chunk.subarray(bodyStart, bodyEnd),
      });
      pos = bodyEnd;
    }
    if (pos < end) this.#startSplit(chunk, pos, end);
    this.#streamOffset += end;
    return frames;
  }

  /**
   * Like {@link push}, but hands each frame to `onFrame` as soon as it is decoded instead of
   * collecting them in an array. This is the faster form for a busy socket: a frame the callback is
   * done with can be collected at once, while `push` keeps every frame of a chunk alive until the
   * caller has walked the array. Frames are the same (`body` views of the chunk, or a copy for a
   * frame that straddled chunks).
   *
   * `ERR_FRAME_TOO_LARGE` is thrown after the frames before the bad header have been delivered. If
   * `onFrame` throws, the exception propagates, the rest of the chunk is lost, and every later call
   * throws an `Error` saying so. Calling the decoder again from inside `onFrame` throws the same.
   */
  parse(chunk: Uint8Array, onFrame: (frame: Frame) => void): void {
    let pos = this.#beginChunk(chunk);
    const done = this.#completed;
    if (done !== null) {
      this.#completed = null;
      onFrame(done);
    }
    const end = chunk.length;
    const max = this.maxFrameSize;
    const View = BufferView !== undefined && Buffer.isBuffer(chunk) ? BufferView : undefined;
    const bytes = chunk.buffer;
    const base = chunk.byteOffset;
    while (end - pos >= HEADER_SIZE) {
      const len = readUint32(chunk, pos + 4);
      if (len > max) this.#tooLarge(chunk, pos, len, null);
      const bodyStart = pos + HEADER_SIZE;
      const bodyEnd = bodyStart + len;
      if (bodyEnd > end) break;
      onFrame({
        msg: readUint32(chunk, pos),
        sync: readUint32(chunk, pos + 8),
        body:
          View !== undefined ? new View(bytes, base + bodyStart, len) : chunk.subarray(bodyStart, bodyEnd),
      });
      pos = bodyEnd;
    }
    this.#endChunk(chunk, pos);
  }

  /**
   * The form that makes no object per frame: `sink(msg, sync, bytes, start, end)`, the body being
   * `bytes[start..end)`: a range of the chunk, or of a copy of the body when the frame straddled
   * chunks. The range is valid as long as the chunk is (the decoder keeps no reference to it). For a
   * reader that decodes bodies in place (`compile(template).unpackRange` of `@iproto/pack`). Errors
   * and re-entry behave as in {@link parse}.
   */
  scan(chunk: Uint8Array, sink: FrameSink): void {
    let pos = this.#beginChunk(chunk);
    const done = this.#completed;
    if (done !== null) {
      this.#completed = null;
      sink(done.msg, done.sync, done.body, 0, done.body.length);
    }
    const end = chunk.length;
    const max = this.maxFrameSize;
    while (end - pos >= HEADER_SIZE) {
      const len = readUint32(chunk, pos + 4);
      if (len > max) this.#tooLarge(chunk, pos, len, null);
      const bodyStart = pos + HEADER_SIZE;
      const bodyEnd = bodyStart + len;
      if (bodyEnd > end) break;
      sink(readUint32(chunk, pos), readUint32(chunk, pos + 8), chunk, bodyStart, bodyEnd);
      pos = bodyEnd;
    }
    this.#endChunk(chunk, pos);
  }

  /**
   * What `parse` and `scan` do before their loop: refuse a failed decoder, mark the callbacks as
   * running, and finish a frame split across chunks (left in `#completed`). Returns where the whole
   * frames of the chunk begin.
   */
  #beginChunk(chunk: Uint8Array): number {
    if (this.#failed !== null || this.#parsing) this.#throwFailed();
    // Set while callbacks run (a try/catch here costs ~15% of the loop): if a callback throws, the
    // flag stays set and the next call knows the stream position was lost.
    this.#parsing = true;
    return this.#headFill !== 0 || this.#inBody ? this.#continueSplit(chunk, null) : 0;
  }

  /** Keeps the start of a frame the chunk ends in, and clears the running mark. */
  #endChunk(chunk: Uint8Array, pos: number): void {
    const end = chunk.length;
    if (pos < end) this.#startSplit(chunk, pos, end);
    this.#streamOffset += end;
    this.#parsing = false;
  }

  #throwFailed(): never {
    if (this.#failed === null) {
      this.#failed = new Error(
        'FrameDecoder: an onFrame callback threw (or called the decoder again) in the middle of a chunk; ' +
          'the position in the stream is lost',
      );
    }
    throw this.#failed;
  }

  /**
   * Declares the end of the stream. Throws `FrameError` `ERR_FRAME_TRUNCATED` when bytes of an
   * unfinished frame are held (say, the peer closed in the middle of a reply); otherwise does nothing.
   */
  end(): void {
    if (this.#failed !== null || this.#parsing) this.#throwFailed();
    const held = this.bufferedBytes;
    if (held === 0) return;
    const offset = this.#streamOffset - held;
    const error = this.#inBody
      ? new FrameError(
          'ERR_FRAME_TRUNCATED',
          `iproto stream ended inside a frame at offset ${offset}: msg ${this.#msg} sync ${this.#sync} announces ` +
            `${this.#bodyLen} body bytes, ${this.#bodyFill} arrived`,
          { msg: this.#msg, sync: this.#sync, len: this.#bodyLen, offset },
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
    const have = end - pos - HEADER_SIZE;
    const body = Buffer.allocUnsafe(Math.min(len, Math.max(INITIAL_BODY_ROOM, have)));
    body.set(chunk.subarray(pos + HEADER_SIZE, end), 0);
    this.#body = body;
    this.#bodyLen = len;
    this.#bodyFill = have;
    this.#inBody = true;
  }

  /**
   * Continues a split frame with the start of `chunk`; returns how many bytes of it were used. A
   * frame it completes is left in `#completed` (at most one per chunk).
   */
  #continueSplit(chunk: Uint8Array, frames: Frame[] | null): number {
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
      if (len > this.maxFrameSize) this.#tooLarge(head, 0, len, frames, this.#streamOffset - this.#headFill);
      this.#headFill = 0;
      const msg = readUint32(head, 0);
      const sync = readUint32(head, 8);
      // Body entirely inside this chunk (or empty): a view, no copy.
      if (end - pos >= len) {
        this.#completed = { msg, sync, body: chunk.subarray(pos, pos + len) };
        return pos + len;
      }
      this.#msg = msg;
      this.#sync = sync;
      this.#body = Buffer.allocUnsafe(Math.min(len, Math.max(INITIAL_BODY_ROOM, end - pos)));
      this.#bodyLen = len;
      this.#bodyFill = 0;
      this.#inBody = true;
    }
    const bodyLen = this.#bodyLen;
    const fill = this.#bodyFill;
    const take = Math.min(bodyLen - fill, end - pos);
    let body = this.#body;
    if (fill + take > body.length) body = this.#growBody(fill + take);
    body.set(take === end && pos === 0 ? chunk : chunk.subarray(pos, pos + take), fill);
    this.#bodyFill = fill + take;
    pos += take;
    if (fill + take === bodyLen) {
      // Every allocation is capped at bodyLen, so the buffer is now exactly the body.
      this.#completed = { msg: this.#msg, sync: this.#sync, body };
      this.#body = EMPTY;
      this.#bodyFill = 0;
      this.#inBody = false;
    }
    return pos;
  }

  /**
   * Moves the split body into a buffer of at least `need` bytes: twice the current room, or the whole
   * announced length once that would be half of it or more. So the buffers of one body add up to less
   * than twice its length (however it is cut), the last one is exact, and the room reserved is never
   * more than four times the body bytes received (or 64 KiB).
   */
  #growBody(need: number): Uint8Array {
    const old = this.#body;
    const len = this.#bodyLen;
    let size = Math.max(need, old.length * 2);
    if (size >= len / 2) size = len;
    const body = Buffer.allocUnsafe(size);
    body.set(old.subarray(0, this.#bodyFill), 0);
    this.#body = body;
    return body;
  }

  #tooLarge(bytes: Uint8Array, pos: number, len: number, frames: Frame[] | null, offset?: number): never {
    const msg = readUint32(bytes, pos);
    const sync = readUint32(bytes, pos + 8);
    const at = offset ?? this.#streamOffset + pos;
    const error = new FrameError(
      'ERR_FRAME_TOO_LARGE',
      `iproto frame too large at stream offset ${at}: msg ${msg} sync ${sync} announces ${len} body bytes, ` +
        `maxFrameSize is ${this.maxFrameSize}`,
      { msg, sync, len, maxFrameSize: this.maxFrameSize, offset: at },
    );
    if (frames !== null) error.frames = frames;
    this.#failed = error;
    throw error;
  }
}
