import type { Frame } from '@iproto/framing';
import { unpack } from '@iproto/pack';
import { describeError, formatMsg, formatValue, toJsonValue } from './values.js';

/** One frame of a capture as `iproto decode` prints it: header fields, hex dump and, with `unpack`, the values. */
export interface DecodedFrame {
  /** Byte offset of the frame's header in the capture. */
  offset: number;
  msg: number;
  sync: number;
  len: number;
  dump: string;
  values?: unknown[];
  error?: string;
}

/** How `decodeCapture` shows bodies: an `unpack` template, 32-bit integers in the dump, only one msg code. */
export interface DecodeOptions {
  unpack?: string;
  ints?: boolean;
  msg?: number;
}

/**
 * Bodies longer than this are printed in pieces of this many bytes (a multiple of 4, for the
 * integers of the dump), so a 16 MiB frame is never one 100 MB string: memory stays in proportion
 * to the frame, and the output waits for a slow reader between pieces.
 */
export const DUMP_PIECE = 16 * 1024;

/** One frame as `decodeCapture` lists it; `dump` is left empty when `withDump` is false. */
export function decodeFrame(
  offset: number,
  frame: Frame,
  options: DecodeOptions,
  withDump = true,
): DecodedFrame {
  const decoded: DecodedFrame = {
    offset,
    msg: frame.msg,
    sync: frame.sync,
    len: frame.body.length,
    dump: withDump ? dump(frame, options.ints ?? true) : '',
  };
  if (options.unpack !== undefined) {
    try {
      decoded.values = unpack(options.unpack, frame.body);
    } catch (error) {
      decoded.error = describeError(error);
    }
  }
  return decoded;
}

/**
 * Prints the frames of a capture one at a time, as text or as the pieces of one JSON object, in the
 * exact format `iproto decode` has always printed (the whole capture's output, concatenated, is
 * byte for byte what printing `decodeCapture`'s result gives).
 */
export class CapturePrinter {
  /** Frames printed so far (those `msg` keeps). */
  count = 0;
  /** Frames whose body failed to unpack. */
  failed = 0;
  readonly #options: DecodeOptions & { json: boolean };

  constructor(options: DecodeOptions & { json: boolean }) {
    this.#options = options;
  }

  /** What comes before the first frame. */
  begin(): string {
    return this.#options.json ? '{"frames":[' : '';
  }

  /**
   * The whole text of one frame whose body is at most DUMP_PIECE bytes ('' for a frame `msg` leaves
   * out). Larger frames go through {@link framePieces}.
   */
  frameText(offset: number, frame: Frame): string {
    const options = this.#options;
    if (options.msg !== undefined && frame.msg !== options.msg) return '';
    const n = ++this.count;
    const f = decodeFrame(offset, frame, options);
    if (f.error) this.failed++;
    if (!options.json) return `${head(n, f)}  ${f.dump}\n${tail(f)}`;
    const json = JSON.stringify({ ...f, ...(f.values ? { values: toJsonValue(f.values) } : {}) });
    return n === 1 ? json : `,${json}`;
  }

  /** The text of one frame of any size, in pieces of about DUMP_PIECE bytes of body each. */
  *framePieces(offset: number, frame: Frame): Generator<string> {
    const options = this.#options;
    if (options.msg !== undefined && frame.msg !== options.msg) return;
    const n = ++this.count;
    const f = decodeFrame(offset, frame, options, false);
    if (f.error) this.failed++;
    const ints = options.ints ?? true;
    // JSON.stringify's layout of the same object: the dump needs no escaping (digits, hex, ' > ').
    yield options.json
      ? `${n === 1 ? '' : ','}{"offset":${f.offset},"msg":${f.msg},"sync":${f.sync},"len":${f.len},"dump":"`
      : `${head(n, f)}  `;
    const { msg, sync, body } = frame;
    const len = body.length;
    const words = len - (len % 4);
    if (ints) {
      yield `${msg} ${len} ${sync}`;
      for (let start = 0; start < words; start += DUMP_PIECE) {
        yield wordsText(body, start, Math.min(words, start + DUMP_PIECE));
      }
      yield ' > ';
    }
    yield headerHex(msg, len, sync);
    for (let start = 0; start < len; start += DUMP_PIECE) yield hexText(body, start, start + DUMP_PIECE);
    if (!options.json) {
      yield `\n${tail(f)}`;
      return;
    }
    let end = '"';
    if (f.values) end += `,"values":${JSON.stringify(toJsonValue(f.values))}`;
    if (f.error !== undefined) end += `,"error":${JSON.stringify(f.error)}`;
    yield `${end}}`;
  }

  /** What comes after the last frame: the summary line, or the end of the JSON object. */
  end(bytes: number, rest: number): string {
    if (this.#options.json) return `],"rest":${rest}}\n`;
    return `${this.count} frame${this.count === 1 ? '' : 's'}, ${bytes} bytes\n`;
  }
}

function head(n: number, f: DecodedFrame): string {
  return `#${n} @${f.offset} msg=${formatMsg(f.msg)} sync=${f.sync} len=${f.len}\n`;
}

function tail(f: DecodedFrame): string {
  let text = '';
  if (f.values) text += `  = ${f.values.map(formatValue).join(' ')}\n`;
  if (f.error) text += `  ! ${f.error}\n`;
  return text;
}

/**
 * `dumpPacket(encodeFrame(msg, sync, body), { ints })` without building the packet: the header's
 * integers are msg, len and sync, and the body's words follow (the header is 3 whole words).
 */
function dump({ msg, sync, body }: Frame, ints: boolean): string {
  const len = body.length;
  const hex = `${headerHex(msg, len, sync)}${hexText(body, 0, len)}`;
  return ints ? `${msg} ${len} ${sync}${wordsText(body, 0, len - (len % 4))} > ${hex}` : hex;
}

/** The body's little-endian 32-bit words in [start, end), each after a space. */
function wordsText(body: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i += 4) {
    text += ` ${(body[i] | (body[i + 1] << 8) | (body[i + 2] << 16) | (body[i + 3] << 24)) >>> 0}`;
  }
  return text;
}

/** Each byte value as a space and two hex digits, as dumpPacket separates them. */
const SPACED_HEX = Array.from({ length: 256 }, (_, b) => ` ${b.toString(16).padStart(2, '0')}`);

/** The header's 12 bytes in hex, separated by spaces (as dumpPacket prints them). */
function headerHex(msg: number, len: number, sync: number): string {
  return `${wordHex(msg).slice(1)}${wordHex(len)}${wordHex(sync)}`;
}

/** A 32-bit word's 4 little-endian bytes, each after a space. */
function wordHex(word: number): string {
  return (
    SPACED_HEX[word & 0xff] +
    SPACED_HEX[(word >>> 8) & 0xff] +
    SPACED_HEX[(word >>> 16) & 0xff] +
    SPACED_HEX[word >>> 24]
  );
}

/** The body's bytes in [start, end) in hex, each after a space. */
function hexText(body: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start, stop = Math.min(end, body.length); i < stop; i++) text += SPACED_HEX[body[i]];
  return text;
}
