import { HEADER_SIZE } from './constants.js';
import { FrameError } from './frame-error.js';

/** One iproto packet: the header's message code and sync, and the body (possibly empty). */
export interface Frame {
  msg: number;
  sync: number;
  body: Uint8Array;
}

/** A decoded header. `len` is the body length in bytes, header not counted. */
export interface Header {
  msg: number;
  len: number;
  sync: number;
}

/** Throws unless `value` is an integer in 0..2^32-1 (what a 32-bit unsigned header field can hold). */
export function checkUint32(value: number, field: string): void {
  if (value >>> 0 !== value) {
    throw new RangeError(`iproto header: ${field} must be an integer from 0 to 4294967295, got ${value}`);
  }
}

/** Largest body a header can announce: its `len` is 32 bits. */
const MAX_BODY_LENGTH = 0xffffffff;

/**
 * Throws `FrameError` `ERR_FRAME_TOO_LARGE` when a body is longer than a header can announce: its
 * length would wrap in `len`, and the tail of the body would be read by the peer as frames of its own.
 */
export function checkBodyLength(len: number, msg: number, sync: number): void {
  if (len > MAX_BODY_LENGTH) {
    throw new FrameError(
      'ERR_FRAME_TOO_LARGE',
      `iproto frame: a body of ${len} bytes (msg ${msg}, sync ${sync}) is longer than a header can announce (${MAX_BODY_LENGTH})`,
      { msg, sync, len, maxFrameSize: MAX_BODY_LENGTH },
    );
  }
}

/** Writes the three header words at `offset`; the values must already be checked. */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  msg: number,
  len: number,
  sync: number,
): void {
  target[offset] = msg;
  target[offset + 1] = msg >>> 8;
  target[offset + 2] = msg >>> 16;
  target[offset + 3] = msg >>> 24;
  target[offset + 4] = len;
  target[offset + 5] = len >>> 8;
  target[offset + 6] = len >>> 16;
  target[offset + 7] = len >>> 24;
  target[offset + 8] = sync;
  target[offset + 9] = sync >>> 8;
  target[offset + 10] = sync >>> 16;
  target[offset + 11] = sync >>> 24;
}

/** Reads an unsigned 32-bit little-endian integer; works on any `Uint8Array`, not only `Buffer`. */
export function readUint32(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0
  );
}

/**
 * Builds the 12-byte header `pack('L3', msg, len, sync)` (little-endian, as iproto servers expect).
 * Each value must be an integer from 0 to 2^32-1, else a `RangeError` is thrown.
 */
export function encodeHeader(msg: number, len: number, sync: number): Buffer {
  checkUint32(msg, 'msg');
  checkUint32(len, 'len');
  checkUint32(sync, 'sync');
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  writeHeader(header, 0, msg, len, sync);
  return header;
}

/**
 * Reads the header at `offset` (default 0). Throws a `RangeError` when fewer than 12 bytes are there.
 */
export function decodeHeader(bytes: Uint8Array, offset = 0): Header {
  if (!(Number.isInteger(offset) && offset >= 0 && offset + HEADER_SIZE <= bytes.length)) {
    throw new RangeError(
      `iproto header: need ${HEADER_SIZE} bytes at offset ${offset}, have ${Math.max(0, bytes.length - offset)}`,
    );
  }
  return {
    msg: readUint32(bytes, offset),
    len: readUint32(bytes, offset + 4),
    sync: readUint32(bytes, offset + 8),
  };
}

/**
 * Builds one whole frame, header and body, in a single new Buffer. Without a body: the header only.
 * A string body is written as UTF-8. A body over 2^32-1 bytes throws `FrameError` `ERR_FRAME_TOO_LARGE`.
 */
export function encodeFrame(msg: number, sync: number, body?: Uint8Array | string): Buffer {
  checkUint32(msg, 'msg');
  checkUint32(sync, 'sync');
  if (typeof body === 'string') {
    const len = Buffer.byteLength(body, 'utf8');
    checkBodyLength(len, msg, sync);
    const frame = Buffer.allocUnsafe(HEADER_SIZE + len);
    writeHeader(frame, 0, msg, len, sync);
    frame.write(body, HEADER_SIZE, len, 'utf8');
    return frame;
  }
  const len = body === undefined ? 0 : body.length;
  checkBodyLength(len, msg, sync);
  const frame = Buffer.allocUnsafe(HEADER_SIZE + len);
  writeHeader(frame, 0, msg, len, sync);
  if (len > 0) frame.set(body!, HEADER_SIZE);
  return frame;
}
