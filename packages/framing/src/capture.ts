import { readFile } from 'node:fs/promises';
import { HEADER_SIZE, resolveMaxFrameSize } from './constants.js';
import type { Frame } from './frame.js';
import { readUint32 } from './frame.js';
import { FrameError } from './frame-error.js';

/** Options of `parseCapture`. */
export interface CaptureOptions {
  /** Largest body a header may announce; default {@link DEFAULT_MAX_FRAME_SIZE}. `Infinity` lifts it. */
  maxFrameSize?: number;
  /**
   * When `true`, a capture that ends inside a frame throws `FrameError` `ERR_FRAME_TRUNCATED` instead
   * of reporting the leftover bytes in `rest`. Default `false`: a capture cut mid-frame is normal.
   */
  strict?: boolean;
}

/** A frame found in a capture, with where it starts. */
export interface CaptureFrame extends Frame {
  /** Byte offset of the frame's header in the capture. */
  offset: number;
}

/** What `parseCapture` returns: the whole frames of a capture and what is left after the last one. */
export interface Capture {
  /** The whole frames, in order; each `body` is a view of the capture's bytes. */
  frames: CaptureFrame[];
  /** Trailing bytes that do not make a whole frame (0 when the capture ends on a frame boundary). */
  rest: number;
  /** When `rest > 0`: the offset where the unfinished frame starts (`bytes.length - rest`). */
  restOffset: number;
}

function truncated(bytes: Uint8Array, offset: number): FrameError {
  const have = bytes.length - offset;
  if (have < HEADER_SIZE) {
    return new FrameError(
      'ERR_FRAME_TRUNCATED',
      `iproto capture ends inside a header at offset ${offset}: ${have} of ${HEADER_SIZE} bytes`,
      { offset },
    );
  }
  const msg = readUint32(bytes, offset);
  const len = readUint32(bytes, offset + 4);
  const sync = readUint32(bytes, offset + 8);
  return new FrameError(
    'ERR_FRAME_TRUNCATED',
    `iproto capture ends inside a frame at offset ${offset}: msg ${msg} sync ${sync} announces ${len} body bytes, ` +
      `${have - HEADER_SIZE} present`,
    { msg, sync, len, offset },
  );
}

/**
 * Walks the frames of a captured byte stream (one direction of a TCP conversation, or a file of
 * back-to-back frames) lazily. Stops at the first unfinished frame: with `strict` it throws
 * `ERR_FRAME_TRUNCATED` there, otherwise it just ends (see {@link parseCapture} for the leftover
 * count). A header announcing more than `maxFrameSize` throws `ERR_FRAME_TOO_LARGE`.
 */
export function* iterateCapture(
  bytes: Uint8Array,
  options: CaptureOptions = {},
): Generator<CaptureFrame, number> {
  const max = resolveMaxFrameSize(options.maxFrameSize, 'iproto capture');
  const end = bytes.length;
  let pos = 0;
  while (end - pos >= HEADER_SIZE) {
    const msg = readUint32(bytes, pos);
    const len = readUint32(bytes, pos + 4);
    const sync = readUint32(bytes, pos + 8);
    if (len > max) {
      throw new FrameError(
        'ERR_FRAME_TOO_LARGE',
        `iproto capture: frame at offset ${pos} (msg ${msg} sync ${sync}) announces ${len} body bytes, ` +
          `maxFrameSize is ${max}`,
        { msg, sync, len, maxFrameSize: max, offset: pos },
      );
    }
    if (end - pos - HEADER_SIZE < len) break;
    yield { msg, sync, body: bytes.subarray(pos + HEADER_SIZE, pos + HEADER_SIZE + len), offset: pos };
    pos += HEADER_SIZE + len;
  }
  if (pos < end && options.strict === true) throw truncated(bytes, pos);
  return end - pos;
}

/**
 * Lists the frames of a captured byte stream. Trailing bytes that do not make a whole frame are
 * reported as `rest` (or, with `strict: true`, throw `FrameError` `ERR_FRAME_TRUNCATED`).
 *
 * ```js
 * const { frames, rest } = parseCapture(readFileSync('replies.bin'));
 * for (const f of frames) console.log(f.offset, f.msg, f.sync, dumpPacket(f.body));
 * ```
 */
export function parseCapture(bytes: Uint8Array, options: CaptureOptions = {}): Capture {
  const frames: CaptureFrame[] = [];
  const it = iterateCapture(bytes, options);
  for (;;) {
    const step = it.next();
    if (step.done === true) return { frames, rest: step.value, restOffset: bytes.length - step.value };
    frames.push(step.value);
  }
}

/** Reads a capture file (with `node:fs`, nothing else) and parses it with {@link parseCapture}. */
export async function readCapture(path: string | URL, options: CaptureOptions = {}): Promise<Capture> {
  return parseCapture(await readFile(path), options);
}
