import { allocResult, bufferView } from './fast-buffer.js';
import { limits } from './limits.js';
import { PackError, PackErrorCode } from './pack-error.js';
import { type CharWalk, decodeUtf8, newCharWalk } from './utf8.js';

/**
 * The pack writer: one shared buffer that grows geometrically and is reused from call to call
 * (pack runs no user code mid-way, so one state object serves every call), with the output cap
 * checked before any memory is taken, and the finished bytes copied out as the result.
 */

export interface PackState {
  buf: Buffer;
  cur: number;
  args: ArrayLike<unknown>;
  ai: number;
  /** The count a `/` length prefix packs, in place of the next value. */
  lengthcode: number | undefined;
  /** Bytes are written as upgraded characters (pack_rec's local `utf8`). */
  utf8: boolean;
  /** The result is a character string (SvUTF8 of Perl's result). */
  doUtf8: boolean;
  /** Start offset of the current repetition of each enclosing group, by nesting level. */
  starts: number[];
  level: number;
  /** Group repetitions so far, against PackLimits.freeWork + workPerByte per value and byte. */
  work: number;
  /** Characters written from the start, for `x!` in character mode; forgotten when bytes change. */
  walk: CharWalk;
}

/**
 * Up to this size the writer doubles into fresh memory. Beyond it, it grows in place inside one
 * resizable `ArrayBuffer` reserved up to PackLimits.maxOutput, which takes memory only as bytes are
 * written: no copy on growth, so the peak stays near the bytes written and a result refused at the
 * cap has not cost twice the cap first.
 */
const IN_PLACE_FROM = 1 << 20;

let sharedBuf: Buffer = Buffer.allocUnsafe(4096);

// pack never runs user code mid-way (values are converted without calling valueOf/toString), so
// one state object serves every call.
const shared: PackState = {
  buf: sharedBuf,
  cur: 0,
  args: [],
  ai: 0,
  lengthcode: undefined,
  utf8: false,
  doUtf8: false,
  starts: [0],
  level: 0,
  work: 0,
  walk: newCharWalk(),
};

export function newPackState(args: ArrayLike<unknown>): PackState {
  const st = shared;
  st.buf = sharedBuf;
  st.cur = 0;
  st.args = args;
  st.ai = 0;
  st.lengthcode = undefined;
  st.utf8 = false;
  st.doUtf8 = false;
  st.starts[0] = 0;
  st.level = 0;
  st.work = 0;
  st.walk.at = -1;
  return st;
}

/** Drops the reference to the caller's values once a pack is over. */
export function endPack(st: PackState): void {
  st.args = [];
  // Keep the writer for the next call, unless one huge pack blew it up.
  if (sharedBuf.length > IN_PLACE_FROM) {
    // Give a grown-in-place writer's memory back now (the result was copied out), not at some GC.
    if (isResizable(sharedBuf.buffer)) sharedBuf.buffer.resize(0);
    sharedBuf = Buffer.allocUnsafe(4096);
  }
  st.buf = sharedBuf;
}

interface Resizable extends ArrayBuffer {
  readonly resizable: boolean;
  readonly maxByteLength: number;
  resize(byteLength: number): void;
}

function isResizable(ab: ArrayBufferLike): ab is Resizable {
  return (ab as Partial<Resizable>).resizable === true;
}

/** A resizable `ArrayBuffer` of `size` bytes reserved up to `max`, or undefined where there is none. */
function resizable(size: number, max: number): Resizable | undefined {
  try {
    const ab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(
      size,
      { maxByteLength: max },
    );
    return isResizable(ab) ? ab : undefined;
  } catch {
    return undefined;
  }
}

function tooLarge(need: number): PackError {
  return new PackError(
    PackErrorCode.LIMIT,
    `pack result of ${need} bytes is over the limit of ${limits.maxOutput} bytes (PackLimits.maxOutput)`,
  );
}

/** Makes room for `need` bytes; the size is checked against the cap before any memory is taken. */
function growTo(st: PackState, need: number): void {
  const max = limits.maxOutput;
  if (!(need <= max)) throw tooLarge(need);
  const old = st.buf;
  let size = Math.max(old.length * 2, need);
  if (size <= IN_PLACE_FROM) {
    const bigger = Buffer.allocUnsafe(size);
    old.copy(bigger, 0, 0, st.cur);
    st.buf = bigger;
  } else {
    size = Math.min(size, max);
    const ab = old.buffer;
    if (isResizable(ab) && old.byteOffset === 0 && ab.maxByteLength >= size) {
      ab.resize(size);
      st.buf = bufferView(ab, 0, size);
    } else {
      const grown = resizable(size, max);
      const bigger = grown ? bufferView(grown, 0, size) : Buffer.allocUnsafe(size);
      old.copy(bigger, 0, 0, st.cur);
      st.buf = bigger;
    }
  }
  sharedBuf = st.buf;
}

export function ensure(st: PackState, n: number): void {
  if (st.cur + n > st.buf.length) growTo(st, st.cur + n);
}

/** Turns the finished state into the result bytes. */
export function finishPack(st: PackState): Buffer {
  const n = st.cur;
  // growTo checks the cap as the writer grows; a cap below the writer's first 4 KiB (set by a test)
  // is checked here.
  if (n > limits.maxOutput) throw tooLarge(n);
  const out = allocResult(n);
  // A short result is cheaper to copy by hand than through a native call.
  if (n <= 64) {
    const b = st.buf;
    for (let i = 0; i < n; i++) out[i] = b[i];
  } else st.buf.copy(out, 0, 0, n);
  if (!st.doUtf8) return out;
  // A character string: its characters as bytes when all are below 256 (what Perl writes to a
  // byte stream), else its UTF-8 encoding. Malformed UTF-8 (from `U0` bytes) dies as in Perl.
  let wide = false;
  let chars = 0;
  for (let s = 0; s < out.length; ) {
    const [cp, n] = decodeUtf8(out, s, out.length, 'pack');
    if (typeof cp === 'bigint' || cp > 0xff) wide = true;
    s += n;
    chars++;
  }
  if (wide) return out;
  const bytes = allocResult(chars);
  let o = 0;
  for (let s = 0; s < out.length; ) {
    const b = out[s];
    if (b < 0x80) {
      bytes[o++] = b;
      s++;
    } else {
      bytes[o++] = ((b & 0x1f) << 6) | (out[s + 1] & 0x3f);
      s += 2;
    }
  }
  return bytes;
}
