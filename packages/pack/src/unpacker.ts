import { bufferView } from './fast-buffer.js';
import { limits } from './limits.js';
import { PackError, PackErrorCode } from './pack-error.js';
import { describe } from './perl-value.js';
import { Endian, Howlen, isBerFieldGroup, type Sym, symSize } from './template.js';
import { type CharWalk, charAlignBack, charsFrom, decodeUtf8, malformed, utf8Skip } from './utf8.js';

/**
 * The unpack engine: a template's symbols compiled into closures over a cursor. It follows Perl's
 * pp_pack.c unpack_rec(), including checksums, `/` counts and its utf8 modes (`U` first, `U0`, `C0`).
 */

export interface UnpackOptions {
  /** `q Q j J` (and `w` beyond 2^53) as `bigint` (default), or as `number` where exactly representable. */
  int64?: 'bigint' | 'number';
  /** `a A Z u` as `Buffer` views (default), or decoded as UTF-8 text. */
  strings?: 'buffer' | 'utf8';
}

export interface UnpackState {
  d: Buffer;
  s: number;
  end: number;
  out: unknown[];
  /** Parse the data as characters (unpack_rec's local `utf8`). */
  utf8: boolean;
  /** The data was upgraded to characters (a template starting with `U`, or with `U0`). */
  doUtf8: boolean;
  starts: number[];
  level: number;
  checksum: number;
  /** Whether the group just run ends with a pending `/` (see the '(' step). */
  groupSlash: boolean;
  cuv: bigint;
  cdouble: number;
  int64Number: boolean;
  utf8Strings: boolean;
  /** Group repetitions so far: with the values made, the work this call has done. */
  work: number;
  /** What values and repetitions together may reach (PackLimits.freeWork + workPerByte per byte). */
  budget: number;
  /** Character counts in character mode: from the start of the data, and from a group start. */
  walk0: CharWalk;
  walkN: CharWalk;
}

export type UnpackStep = (st: UnpackState, howlen: Howlen, len: number, explicit: boolean) => void;

const MASK64 = (1n << 64n) - 1n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function dataError(message: string): PackError {
  return new PackError(PackErrorCode.DATA, message);
}

/** The budget of values and group repetitions is spent: the data does not pay for this much work. */
export function overBudget(st: UnpackState): PackError {
  return new PackError(
    PackErrorCode.LIMIT,
    `unpack stopped: ${st.out.length} values and ${st.work} group repetitions from ${st.end} bytes of data, ` +
      `over the budget of ${st.budget} (PackLimits: ${limits.freeWork} + ${limits.workPerByte} per byte)`,
  );
}

/** Pushes a value, or adds it to the running checksum. */
function emit(st: UnpackState, v: number): void {
  if (!st.checksum) st.out.push(v);
  else if (st.checksum > 64) st.cdouble += v;
  else st.cuv = (st.cuv + BigInt(Math.trunc(v))) & MASK64;
}

function emitBig(st: UnpackState, v: bigint): void {
  if (!st.checksum) st.out.push(st.int64Number && v >= -SAFE && v <= SAFE ? Number(v) : v);
  else if (st.checksum > 64) st.cdouble += Number(v);
  else st.cuv = (st.cuv + v) & MASK64;
}

/** Perl's uni_to_byte: one character that must fit in a byte. */
function uniToByte(st: UnpackState, letter: string): number {
  const [v, n] = decodeUtf8(st.d, st.s, st.end, 'unpack');
  if (typeof v === 'bigint' || v >= 0x100)
    throw dataError(`Character in '${letter}' format wrapped in unpack`);
  st.s += n;
  return v;
}

function shiftByte(st: UnpackState, letter: string): number {
  return st.utf8 ? uniToByte(st, letter) : st.d[st.s++];
}

const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

/**
 * Reads `size` bytes into scratch, in little-endian order (reversed when `little` is false).
 * Returns false when the data ends first (only possible in character mode).
 */
function readScratch(st: UnpackState, size: number, little: boolean, letter: string): boolean {
  if (!st.utf8) {
    const d = st.d;
    const s = st.s;
    if (little) for (let i = 0; i < size; i++) scratchBytes[i] = d[s + i];
    else for (let i = 0; i < size; i++) scratchBytes[size - 1 - i] = d[s + i];
    st.s = s + size;
    return true;
  }
  const bytes: number[] = [];
  if (!readCharsAsBytes(st, size, bytes, letter)) return false;
  for (let i = 0; i < size; i++) scratchBytes[little ? i : size - 1 - i] = bytes[i];
  return true;
}

function toLatin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** A byte-string result: a view of the data, or an undone upgrade in character mode. */
function stringValue(st: UnpackState, from: number, to: number): Buffer {
  if (!st.utf8) return bufferView(st.d.buffer, st.d.byteOffset + from, to - from);
  const bytes: number[] = [];
  for (let p = from; p < to; ) {
    const [v, n] = decodeUtf8(st.d, p, to, 'unpack');
    if (typeof v === 'bigint' || v > 0xff) throw dataError('Wide character in unpack');
    bytes.push(v);
    p += n;
  }
  return Buffer.from(bytes);
}

function pushString(st: UnpackState, b: Buffer): void {
  st.out.push(st.utf8Strings ? b.toString('utf8') : b);
}

/** Perl's POPi on the length of a `/` construct. */
function popCount(st: UnpackState): number {
  const v = st.out.pop();
  if (v === undefined) throw dataError('Use of uninitialized value in unpack');
  if (typeof v === 'number') return ivOf(v);
  // Beyond 2^64 Perl holds a 'w' value as a decimal string, whose IV is -1 (through UV_MAX).
  if (typeof v === 'bigint') return v >= 1n << 64n ? -1 : Number(BigInt.asIntN(64, v));
  const text = typeof v === 'string' ? v : toLatin1(v as Uint8Array);
  if (
    !/^[ \t\n\v\f\r]*[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)[ \t\n\v\f\r]*$/.test(text)
  ) {
    throw new PackError(PackErrorCode.DATA, `Argument ${describe(text)} isn't numeric in unpack`);
  }
  return ivOf(Number(text.trim()));
}

/** Perl's SvIV of a float: past 2^63 it wraps through UV, so huge counts come out negative. */
function ivOf(n: number): number {
  if (Number.isNaN(n)) return 0;
  if (n >= 2 ** 64) return -1;
  if (n >= 2 ** 63) return Number(BigInt.asIntN(64, BigInt(Math.trunc(n))));
  if (n < -(2 ** 63)) return -(2 ** 63);
  return Math.trunc(n);
}

function isLittle(sym: Sym): boolean {
  if (sym.code === 'n' || sym.code === 'N') return false;
  if (sym.code === 'v' || sym.code === 'V') return true;
  return sym.endian !== Endian.Big;
}

const isSpace = (b: number) => b === 32 || (b >= 9 && b <= 13);
const HEX = '0123456789abcdef';
const isUuChar = (b: number) => b >= 0x20 && b < 0x61;
const uuValue = (b: number) => (b === 0x60 || b === 0x20 ? 0 : b - 0x20) & 0o77;

function charsBetween(d: Uint8Array, from: number, to: number): number {
  let n = 0;
  while (from < to) {
    from += utf8Skip(d[from]);
    n++;
  }
  return n;
}

function compileSym(sym: Sym, groupBody?: (st: UnpackState) => boolean): UnpackStep {
  if (sym.error) {
    const { code, message } = sym.error;
    return () => {
      throw new PackError(code, message);
    };
  }
  const c = sym.code;
  const size = symSize(c, sym.shriek);
  switch (c) {
    case '(': {
      const body = groupBody!;
      const general: UnpackStep = (st, _howlen, len) => {
        const utf8 = st.utf8;
        const level = ++st.level;
        const saved = st.checksum;
        const [cuv, cdouble] = [st.cuv, st.cdouble];
        // Perl's unpack_rec shares one flags word with the group body: the group's own `/` is
        // replaced by whatever the last repetition left there (a `/` it broke off at, or none).
        let slash = sym.slash;
        while (len-- > 0) {
          // One budget for the whole call, across nested groups: a count from bad data (or a
          // nest of counts, `((a0)65535)65535`) cannot repeat a group beyond what the data pays for.
          if (++st.work + st.out.length > st.budget) throw overBudget(st);
          st.starts[level] = st.s;
          st.utf8 = utf8;
          st.checksum = 0;
          const before = st.s;
          const outBefore = st.out.length;
          slash = body(st);
          if (st.s === st.end && sym.howlen === Howlen.Star) break;
          // A repetition that neither moved nor produced anything repeats identically: stop early.
          if (st.s === before && st.out.length === outBefore) break;
        }
        st.level = level - 1;
        st.utf8 = utf8;
        st.checksum = saved;
        st.cuv = cuv;
        st.cdouble = cdouble;
        st.groupSlash = slash;
      };
      if (!isBerFieldGroup(sym)) return general;
      // `(w/a*)*`: the fields of a tuple, read in one loop while they are whole; the general loop
      // takes over at anything else (the end of the data with repetitions left, a long length).
      return (st, howlen, len, explicit) => {
        // At the end of the data Perl still runs the body once (and trips over the `/`): general path.
        if (st.utf8 || st.checksum || st.s >= st.end) return general(st, howlen, len, explicit);
        const d = st.d;
        const end = st.end;
        const out = st.out;
        const text = st.utf8Strings;
        const ab = d.buffer;
        const base = d.byteOffset;
        let s = st.s;
        while (len > 0 && s < end) {
          let p = s;
          let v = 0;
          let c = 0x80;
          for (let k = 0; k < 7 && p < end; k++) {
            c = d[p++];
            v = v * 128 + (c & 0x7f);
            if (c < 0x80) break;
          }
          if (c >= 0x80) break;
          const to = v < end - p ? p + v : end;
          out.push(text ? d.toString('utf8', p, to) : bufferView(ab, base + p, to - p));
          s = to;
          len--;
        }
        st.s = s;
        st.groupSlash = false;
        if (len > 0 && !(s === end && sym.howlen === Howlen.Star)) general(st, howlen, len, explicit);
      };
    }
    case '.':
      return (st, howlen, len) => {
        const u8 = st.utf8 && !sym.shriek;
        let from: number;
        if (howlen === Howlen.Star) from = 0;
        else if (len <= 0) from = st.s;
        else {
          const l = st.level - (len - 1);
          from = l >= 0 ? st.starts[l] : 0;
        }
        const s = st.s;
        st.out.push(
          from <= s
            ? u8
              ? charsFrom(st.d, from, s, from === 0 ? st.walk0 : st.walkN)
              : s - from
            : -(u8 ? charsBetween(st.d, s, from) : from - s),
        );
      };
    case '@':
      return (st, _howlen, len) => {
        st.s = st.starts[st.level];
        if (st.utf8 && !sym.shriek) {
          while (len > 0) {
            if (st.s >= st.end) throw dataError("'@' outside of string in unpack");
            st.s += utf8Skip(st.d[st.s]);
            len--;
          }
          if (st.s > st.end) throw dataError("'@' outside of string with malformed UTF-8 in unpack");
        } else {
          if (st.end - st.s < len) throw dataError("'@' outside of string in unpack");
          st.s += len;
        }
      };
    case 'X':
      return (st, _howlen, len) => {
        if (sym.shriek) {
          if (!len) len = 1;
          if (st.utf8) {
            const last = charAlignBack(st.d, st.s, len);
            if (last > st.s) throw malformed('unpack');
            st.s = last;
            return;
          }
          len = st.s % len;
        }
        if (st.utf8) {
          while (len > 0) {
            if (st.s <= 0) throw dataError("'X' outside of string in unpack");
            st.s--;
            while ((st.d[st.s] & 0xc0) === 0x80) {
              if (st.s <= 0) throw dataError("'X' outside of string in unpack");
              st.s--;
            }
            len--;
          }
        } else {
          if (len > st.s) throw dataError("'X' outside of string in unpack");
          st.s -= len;
        }
      };
    case 'x':
      return (st, _howlen, len) => {
        if (sym.shriek) {
          if (!len) len = 1;
          const at = st.utf8 ? charsFrom(st.d, 0, st.s, st.walk0) : st.s;
          const rem = at % len;
          if (rem === 0) return;
          len -= rem;
        }
        if (st.utf8) {
          while (len > 0) {
            if (st.s >= st.end) throw dataError("'x' outside of string in unpack");
            st.s += utf8Skip(st.d[st.s]);
            len--;
          }
        } else {
          if (len > st.end - st.s) throw dataError("'x' outside of string in unpack");
          st.s += len;
        }
      };
    case '/':
      return () => {
        throw new PackError(PackErrorCode.TEMPLATE, "'/' must follow a numeric type in unpack");
      };
    case 'a':
    case 'A':
    case 'Z':
      return (st, howlen, len) => {
        if (st.checksum) {
          if (len > st.end - st.s) len = st.end - st.s;
          readChars(st, len);
          return;
        }
        const s = st.s;
        if (st.utf8) {
          let hop = s;
          for (let l = len; l > 0; l--) {
            if (hop >= st.end) break;
            hop += utf8Skip(st.d[hop]);
          }
          if (hop > st.end) throw malformed('unpack');
          len = hop - s;
        } else if (len > st.end - s) len = st.end - s;
        let to = s + len;
        if (c === 'Z') {
          let p = s;
          while (p < to && st.d[p] !== 0) p++;
          if (howlen === Howlen.Star) len = p - s + (p !== st.end ? 1 : 0);
          to = p;
        } else if (c === 'A') {
          let p = to - 1;
          while (p >= s && (st.d[p] === 0 || isSpace(st.d[p]))) p--;
          to = p + 1;
        }
        pushString(st, stringValue(st, s, to));
        st.s = s + len;
      };
    case 'b':
    case 'B':
      return (st, howlen, len) => {
        if (howlen === Howlen.Star || len > (st.end - st.s) * 8) len = (st.end - st.s) * 8;
        if (st.checksum) {
          let n = 0;
          while (len >= 8 && st.s < st.end) {
            let byte = shiftByte(st, c);
            while (byte) {
              n += byte & 1;
              byte >>= 1;
            }
            len -= 8;
          }
          if (len && st.s < st.end) {
            let bits = shiftByte(st, c);
            if (c === 'b') {
              while (len-- > 0) {
                if (bits & 1) n++;
                bits >>= 1;
              }
            } else {
              while (len-- > 0) {
                if (bits & 0x80) n++;
                bits = (bits << 1) & 0xff;
              }
            }
          }
          st.cuv = (st.cuv + BigInt(n)) & MASK64;
          return;
        }
        let str = '';
        let bits = 0;
        for (let l = 0; l < len; l++) {
          if (l & 7) bits = c === 'b' ? bits >> 1 : (bits << 1) & 0xff;
          else {
            if (st.utf8 && st.s >= st.end) break;
            bits = shiftByte(st, c);
          }
          str += c === 'b' ? (bits & 1 ? '1' : '0') : bits & 0x80 ? '1' : '0';
        }
        st.out.push(str);
      };
    case 'h':
    case 'H':
      return (st, howlen, len) => {
        if (howlen === Howlen.Star || len > (st.end - st.s) * 2) len = (st.end - st.s) * 2;
        let str = '';
        let bits = 0;
        for (let l = 0; l < len; l++) {
          if (l & 1) bits = c === 'h' ? bits >> 4 : (bits << 4) & 0xff;
          else {
            if (st.utf8 && st.s >= st.end) break;
            bits = shiftByte(st, c);
          }
          str += HEX[c === 'h' ? bits & 15 : (bits >> 4) & 15];
        }
        // Checksums of 'h'/'H' sum nothing: Perl pushes only a zero checksum.
        if (!st.checksum) st.out.push(str);
      };
    case 'c':
    case 'C':
      return (st, _howlen, len, explicit) => {
        if (c === 'C' && len === 0) {
          // C0: back to character mode.
          if (explicit) st.utf8 = st.doUtf8;
          return;
        }
        if (len > st.end - st.s) len = st.end - st.s;
        while (len-- > 0 && st.s < st.end) {
          let v: number;
          if (st.utf8) {
            const [cp, n] = decodeUtf8(st.d, st.s, st.end, 'unpack');
            st.s += n;
            // Perl keeps the character in a C int.
            v = typeof cp === 'bigint' || cp > 0x7fffffff ? Number(BigInt.asIntN(32, BigInt(cp))) : cp;
          } else v = st.d[st.s++];
          if (v >= 128 && c === 'c') v -= 256;
          emit(st, v);
        }
      };
    case 'W':
      return (st, _howlen, len) => {
        if (len > st.end - st.s) len = st.end - st.s;
        readChars(st, len);
      };
    case 'U':
      return (st, howlen, len, explicit) => {
        if (len === 0) {
          if (explicit && howlen !== Howlen.Star) {
            if (st.doUtf8) st.utf8 = false;
            else throw dataError('U0 mode on a byte string');
          }
          return;
        }
        if (len > st.end - st.s) len = st.end - st.s;
        while (len-- > 0 && st.s < st.end) {
          if (st.utf8) {
            // Characters carry the bytes of UTF-8 that encodes the value.
            const save = st.s;
            const first: number[] = [];
            if (!readCharsAsBytes(st, 1, first, 'U')) break;
            const n = utf8Skip(first[0]);
            if (!readCharsAsBytes(st, n - 1, first, 'U')) {
              st.s = save;
              break;
            }
            const [v] = decodeUtf8(Uint8Array.from(first), 0, first.length, 'unpack');
            emitCode(st, v);
          } else {
            const [v, n] = decodeUtf8(st.d, st.s, st.end, 'unpack');
            st.s += n;
            emitCode(st, v);
          }
        }
      };
    case 'w':
      return (st, _howlen, len) => {
        const max = limits.maxBerLength;
        // The first 7 groups (49 bits) are exact in a double; a longer integer keeps its groups as
        // binary digits and becomes a bigint once, at its end: linear in its length (a bigint
        // shifted by 7 bits per byte would be quadratic).
        let small = 0;
        let bits = '';
        let bytes = 0;
        if (len > st.end - st.s) len = st.end - st.s;
        while (len > 0 && st.s < st.end) {
          const ch = shiftByte(st, 'w');
          if (++bytes <= 7) small = small * 128 + (ch & 0x7f);
          else {
            if (bytes > max) {
              throw new PackError(
                PackErrorCode.LIMIT,
                `BER compressed integer longer than ${max} bytes in unpack (PackLimits.maxBerLength)`,
              );
            }
            if (bytes === 8) bits = small.toString(2);
            bits += BITS7[ch & 0x7f];
          }
          if (ch < 0x80) {
            // 'w' is never checksummed: Perl pushes the values (and later a zero checksum).
            st.out.push(bytes <= 7 ? small : longBer(bits, bytes));
            bytes = 0;
            small = 0;
            bits = '';
            len--;
          }
        }
        if (st.s >= st.end && bytes) throw dataError('Unterminated compressed integer in unpack');
      };
    case 'u':
      return (st) => {
        const d = st.d;
        const end = st.end;
        // Perl starts with an undef result when too little data is left to decode anything.
        const room = Math.floor(((end - st.s) * 3) / 4);
        const out: number[] = [];
        let s = st.s;
        const take = (): number => (s < end && isUuChar(d[s]) ? uuValue(d[s++]) : 0);
        while (s < end && d[s] !== 0x20 && isUuChar(d[s])) {
          let len = uuValue(d[s++]);
          while (len > 0) {
            const a = take();
            const b = take();
            const cc = take();
            const dd = take();
            const hunk = [
              ((a << 2) | (b >> 4)) & 0xff,
              ((b << 4) | (cc >> 2)) & 0xff,
              ((cc << 6) | dd) & 0xff,
            ];
            for (let i = 0; i < Math.min(len, 3); i++) out.push(hunk[i]);
            len -= 3;
          }
          if (s < end && d[s] === 10) s++;
          else if (s + 1 < end && d[s + 1] === 10) s += 2;
        }
        st.s = s;
        if (st.checksum) return;
        if (room === 0 && out.length > 0) {
          // Perl appends to its still-undefined result: a fatal "uninitialized" warning.
          throw dataError('Use of uninitialized value in unpack');
        }
        if (room === 0) st.out.push(undefined);
        else pushString(st, Buffer.from(out));
      };
    case 'p':
    case 'P':
    case 'D':
      return () => {
        throw new PackError(
          PackErrorCode.UNSUPPORTED,
          `'${c}' is not supported: this unpack works on bytes and has no ${c === 'D' ? 'long doubles' : 'memory pointers'}`,
        );
      };
    case 'f':
    case 'd':
    case 'F': {
      const little = isLittle(sym);
      return (st, _howlen, len) => {
        const howmany = Math.floor((st.end - st.s) / size);
        if (len > howmany) len = howmany;
        while (len-- > 0) {
          if (!readScratch(st, size, little, c)) break;
          const v = size === 4 ? scratch.getFloat32(0, true) : scratch.getFloat64(0, true);
          if (!st.checksum) st.out.push(v);
          else st.cdouble += v;
        }
      };
    }
    default: {
      if (!size || !'sSiIlLnNvVqQjJ'.includes(c)) {
        return () => {
          throw new PackError(PackErrorCode.TEMPLATE, `Invalid type '${c}' in unpack`);
        };
      }
      const little = isLittle(sym);
      const signed = 'sil'.includes(c) || ((c === 'n' || c === 'v' || c === 'N' || c === 'V') && sym.shriek);
      if (size === 8) {
        const isSigned = c === 'q' || c === 'j' || (c === 'l' && sym.shriek);
        return (st, _howlen, len) => {
          const howmany = Math.floor((st.end - st.s) / 8);
          if (len > howmany) len = howmany;
          while (len-- > 0) {
            if (!readScratch(st, 8, little, c)) break;
            const v = isSigned ? scratch.getBigInt64(0, true) : scratch.getBigUint64(0, true);
            emitBig(st, v);
          }
        };
      }
      return (st, _howlen, len) => {
        const howmany = Math.floor((st.end - st.s) / size);
        if (len > howmany) len = howmany;
        if (!st.utf8 && !st.checksum) {
          const d = st.d;
          const out = st.out;
          let s = st.s;
          if (size === 4) {
            while (len-- > 0) {
              const u = little
                ? d[s] | (d[s + 1] << 8) | (d[s + 2] << 16) | (d[s + 3] << 24)
                : (d[s] << 24) | (d[s + 1] << 16) | (d[s + 2] << 8) | d[s + 3];
              out.push(signed ? u : u >>> 0);
              s += 4;
            }
          } else {
            while (len-- > 0) {
              const u = little ? d[s] | (d[s + 1] << 8) : (d[s] << 8) | d[s + 1];
              out.push(signed ? (u << 16) >> 16 : u);
              s += 2;
            }
          }
          st.s = s;
          return;
        }
        while (len-- > 0) {
          if (!readScratch(st, size, little, c)) break;
          let v: number;
          if (size === 4) v = signed ? scratch.getInt32(0, true) : scratch.getUint32(0, true);
          else v = signed ? scratch.getInt16(0, true) : scratch.getUint16(0, true);
          emit(st, v);
        }
      };
    }
  }
}

/** Each 7-bit group as 7 binary digits. */
const BITS7 = Array.from({ length: 128 }, (_, v) => v.toString(2).padStart(7, '0'));

/**
 * A BER integer of 8 bytes or more. Perl (pp_pack.c, unpack 'w') turns one of 9 bytes or more into a
 * decimal string with its leading zeros cut, so a long zero is the empty string (which a `/` then
 * refuses as not numeric); a value that fits in 53 bits is a number, a larger one a bigint.
 */
function longBer(bits: string, bytes: number): number | bigint | string {
  const v = BigInt(`0b${bits}`);
  if (v === 0n && bytes >= 9) return '';
  return v <= SAFE ? Number(v) : v;
}

function emitCode(st: UnpackState, v: number | bigint): void {
  if (typeof v === 'bigint') emitBig(st, v);
  else emit(st, v);
}

/**
 * Perl's uni_to_bytes: `n` characters, each of which must be below 256, read as bytes onto `into`.
 * Returns false (consuming nothing) when the data ends first.
 */
function readCharsAsBytes(st: UnpackState, n: number, into: number[], letter: string): boolean {
  let p = st.s;
  let wrapped = false;
  const tmp: number[] = [];
  for (let i = 0; i < n; i++) {
    if (p >= st.end) return false;
    const [v, k] = decodeUtf8(st.d, p, st.end, 'unpack');
    p += k;
    if (typeof v === 'bigint' || v >= 0x100) wrapped = true;
    tmp.push(Number(BigInt(v) & 0xffn));
  }
  if (wrapped) throw dataError(`Character(s) in '${letter}' format wrapped in unpack`);
  into.push(...tmp);
  st.s = p;
  return true;
}

/** 'C' / 'W' (and checksummed 'a A Z'): characters in character mode, else bytes. */
function readChars(st: UnpackState, len: number): void {
  if (st.utf8) {
    while (len-- > 0 && st.s < st.end) {
      const [v, n] = decodeUtf8(st.d, st.s, st.end, 'unpack');
      st.s += n;
      emitCode(st, v);
    }
    return;
  }
  const d = st.d;
  if (!st.checksum) {
    const out = st.out;
    while (len-- > 0) out.push(d[st.s++]);
  } else while (len-- > 0) emit(st, d[st.s++]);
}

const NV_CHECKSUM = 'fFdD';
const INT_LETTERS = 'cCsSiIlLnNUWvVqQjJ';

/** Pushes the finished checksum (unpack_rec's checksum block). */
function pushChecksum(st: UnpackState, letter: string): void {
  let checksum = st.checksum;
  if (NV_CHECKSUM.includes(letter) || (checksum > 64 && INT_LETTERS.includes(letter))) {
    let anv = 2 ** (checksum & 15);
    // Once anv is infinite, more rounds change nothing: `%4294967295d` must not loop 2^28 times.
    while (checksum >= 16 && anv !== Infinity) {
      checksum -= 16;
      anv *= 65536;
    }
    let cd = st.cdouble;
    // Perl adds anv until the sum is not negative; for a sum far below -anv that loop never ends
    // (or runs for ages) in Perl, so past a million rounds we reduce it arithmetically instead.
    for (let rounds = 0; cd < 0; rounds++) {
      const next = cd + anv;
      if (next === cd || rounds > 1_000_000) {
        cd = ((cd % anv) + anv) % anv;
        break;
      }
      cd = next;
    }
    const q = cd / anv;
    st.out.push((q - Math.trunc(q)) * anv);
  } else {
    let cuv = st.cuv;
    if (checksum < 64) cuv &= (1n << BigInt(checksum)) - 1n;
    st.out.push(cuv <= SAFE ? Number(cuv) : cuv);
  }
  st.checksum = 0;
}

const KIND_PLAIN = 0;
const KIND_CHECKSUM = 1;
/** `w/a*`: the iproto field, read in one go when nothing unusual is going on. */
const KIND_BER_STRING = 2;

/** Compiles a symbol list into one function (unpack_rec's main loop). */
export function compileSequence(syms: Sym[]): (st: UnpackState) => boolean {
  const steps = syms.map((sym) => compileSym(sym, sym.group ? compileSequence(sym.group) : undefined));
  const n = syms.length;
  const sizes = syms.map((sym) =>
    sym.error || sym.code === 'D' || sym.code === 'p' || sym.code === 'P' ? 0 : symSize(sym.code, sym.shriek),
  );
  const kinds = syms.map((sym, i) => {
    if (sym.error) return KIND_PLAIN;
    if (sym.code === '%') return KIND_CHECKSUM;
    const target = syms[i + 1];
    if (
      sym.code === 'w' &&
      sym.slash &&
      !sym.shriek &&
      target &&
      !target.error &&
      target.code === 'a' &&
      target.howlen === Howlen.Star &&
      !target.slash
    ) {
      return KIND_BER_STRING;
    }
    return KIND_PLAIN;
  });
  return (st) => {
    const levelStart = st.out.length;
    for (let i = 0; i < n; i++) {
      const kind = kinds[i];
      if (kind === KIND_BER_STRING && !st.utf8 && !st.checksum && st.s < st.end) {
        const d = st.d;
        const end = st.end;
        let p = st.s;
        let v = 0;
        let c = 0x80;
        for (let k = 0; k < 7 && p < end; k++) {
          c = d[p++];
          v = v * 128 + (c & 0x7f);
          if (c < 0x80) break;
        }
        if (c < 0x80) {
          const to = v < end - p ? p + v : end;
          st.out.push(
            st.utf8Strings ? d.toString('utf8', p, to) : bufferView(d.buffer, d.byteOffset + p, to - p),
          );
          st.s = to;
          i++;
          continue;
        }
        // Long or unterminated: the general path below gives Perl's answer.
      }
      let sym = syms[i];
      if (kind === KIND_CHECKSUM) {
        st.checksum = sym.howlen === Howlen.None ? 16 : sym.howlen === Howlen.Star ? st.end : sym.length;
        st.cuv = 0n;
        st.cdouble = 0;
        continue;
      }
      const howlen = sym.howlen;
      let len = howlen === Howlen.Star ? st.end : sym.length;
      let explicit = true;
      let size = sizes[i];
      for (;;) {
        const beyond = st.s >= st.end;
        // Perl clips the count of a fixed-size letter to what the data holds, before anything else.
        if (size) {
          const howmany = Math.floor((st.end - st.s) / size);
          if (len > howmany) len = howmany;
        }
        steps[i](st, howlen, len, explicit);
        if (st.checksum) pushChecksum(st, sym.code);
        const slash = sym.code === '(' && !sym.error ? st.groupSlash : sym.slash;
        if (!slash || sym.error) break;
        // Nothing to take a count from: Perl stops unpacking this level here, and the `/` stays
        // set for the enclosing group to act on.
        if (st.out.length - levelStart <= 0) return true;
        const target = syms[i + 1];
        if (!target) throw new PackError(PackErrorCode.TEMPLATE, "Code missing after '/' in unpack");
        if (target.error) throw new PackError(target.error.code, target.error.message);
        if (target.howlen === Howlen.Number) {
          throw new PackError(PackErrorCode.TEMPLATE, 'Count after length/code in unpack');
        }
        if (beyond) throw dataError('length/code after end of string in unpack');
        len = popCount(st);
        if (len < 0) throw dataError("Negative '/' count in unpack");
        i++;
        sym = target;
        size = sizes[i];
        explicit = false;
        if (sym.code === '%') {
          st.checksum = len;
          st.cuv = 0n;
          st.cdouble = 0;
          break;
        }
      }
      // One step makes at most one value per byte of data (counts are clipped to it), but a
      // template can read the same data again and again (`C* @0 C* @0 ...`).
      if (st.out.length + st.work > st.budget) throw overBudget(st);
    }
    return false;
  };
}
