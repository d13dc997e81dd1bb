import { limits } from './limits.js';
import { PackError, PackErrorCode } from './pack-error.js';
import { ensure, type PackState } from './pack-writer.js';
import { toBerInteger, toBits64, toBytes, toInt, toIVNumber, toNV } from './perl-value.js';
import { Endian, Howlen, isBerFieldGroup, type Sym, symSize } from './template.js';
import { charAlignBack, charsFrom, encodeUtf8, utf8Skip } from './utf8.js';

export type { PackState } from './pack-writer.js';

/**
 * The pack engine: a template's symbols compiled into closures that write into one shared,
 * geometrically grown buffer (pack-writer.ts). It follows Perl's pp_pack.c pack_rec(), including
 * its utf8 modes (a template starting with `U`, `U0`/`C0`, `W` above 255), so results match Perl
 * 5.36 byte for byte.
 */

export type PackStep = (st: PackState, howlen: Howlen, length: number) => void;

function pushByte(st: PackState, b: number): void {
  if (st.utf8 && b >= 0x80) {
    ensure(st, 2);
    st.buf[st.cur++] = 0xc0 | (b >> 6);
    st.buf[st.cur++] = 0x80 | (b & 0x3f);
  } else {
    ensure(st, 1);
    st.buf[st.cur++] = b;
  }
}

function pushBytes(st: PackState, bytes: ArrayLike<number>, from: number, n: number): void {
  if (!st.utf8) {
    ensure(st, n);
    const buf = st.buf;
    let c = st.cur;
    for (let i = 0; i < n; i++) buf[c++] = bytes[from + i];
    st.cur = c;
  } else {
    for (let i = 0; i < n; i++) pushByte(st, bytes[from + i]);
  }
}

function zeros(st: PackState, n: number, fill = 0): void {
  if (n <= 0) return;
  ensure(st, n);
  st.buf.fill(fill, st.cur, st.cur + n);
  st.cur += n;
}

function missing(st: PackState, letter: string): PackError {
  return new PackError(
    PackErrorCode.VALUE,
    `Not enough values for '${letter}' in pack: the template needs more than the ${st.args.length} given`,
  );
}

function next(st: PackState, letter: string): unknown {
  if (st.lengthcode !== undefined) return st.lengthcode;
  if (st.ai < st.args.length) return st.args[st.ai++];
  throw missing(st, letter);
}

function items(st: PackState): number {
  return st.args.length - st.ai;
}

/**
 * Perl's marked_upgrade: the result becomes a character string; group marks are moved along. The
 * bytes are widened in place, from the end, with no copy of the result so far.
 */
function markedUpgrade(st: PackState): void {
  if (st.doUtf8) return;
  st.doUtf8 = true;
  // Every byte may move: a walk over the old ones means nothing now.
  st.walk.at = -1;
  const cur = st.cur;
  let extra = 0;
  for (let i = 0; i < cur; i++) if (st.buf[i] >= 0x80) extra++;
  if (!extra) return;
  // Each group start moves by the bytes that widen before it; one pass over the starts in order.
  const marks = st.starts
    .slice(0, st.level + 1)
    .map((at, level) => ({ at, level }))
    .sort((a, b) => a.at - b.at);
  let k = 0;
  let wide = 0;
  for (let i = 0; k < marks.length; i++) {
    while (k < marks.length && (marks[k].at === i || i >= cur)) {
      st.starts[marks[k].level] = marks[k].at + wide;
      k++;
    }
    if (i < cur && st.buf[i] >= 0x80) wide++;
  }
  ensure(st, extra);
  const b = st.buf;
  let w = cur + extra;
  for (let r = cur - 1; r >= 0; r--) {
    const x = b[r];
    if (x >= 0x80) {
      b[--w] = 0x80 | (x & 0x3f);
      b[--w] = 0xc0 | (x >> 6);
    } else b[--w] = x;
  }
  st.cur = cur + extra;
}

function outside(letter: string): PackError {
  return new PackError(PackErrorCode.VALUE, `'${letter}' outside of string in pack`);
}

/** Moves group starts that now point past the end back to it (pack_rec after a shrink). */
function clampStarts(st: PackState): void {
  for (let l = st.level; l >= 0 && st.cur < st.starts[l]; l--) st.starts[l] = st.cur;
}

function shrink(st: PackState, len: number, letter: string): void {
  if (st.cur < len) throw outside(letter);
  st.cur -= len;
  clampStarts(st);
  movedBack(st);
}

function utf8Shrink(st: PackState, len: number, letter: string): void {
  while (len > 0) {
    if (st.cur <= 0) throw outside(letter);
    st.cur--;
    while ((st.buf[st.cur] & 0xc0) === 0x80) {
      if (st.cur <= 0) throw outside(letter);
      st.cur--;
    }
    len--;
  }
  clampStarts(st);
  movedBack(st);
}

/** `@` and `.`: move to `len` characters after `from` (pack_rec's resize). */
function resize(st: PackState, from: number, len: number, shriek: boolean, letter: string): void {
  if (st.utf8 && !shriek) {
    if (len >= 0) {
      while (len && from < st.cur) {
        from += utf8Skip(st.buf[from]);
        len--;
      }
      if (from > st.cur) throw new PackError(PackErrorCode.VALUE, 'Malformed UTF-8 string in pack');
      if (len) zeros(st, len);
      else if (from < st.cur) shrink(st, st.cur - from, letter);
    } else {
      st.cur = from;
      utf8Shrink(st, -len, letter);
    }
    return;
  }
  len -= st.cur - from;
  if (len > 0) zeros(st, len);
  else if (len < 0) shrink(st, -len, letter);
}

/** The output went back to `st.cur`: bytes after it will be written again, so a walk over them is stale. */
function movedBack(st: PackState): void {
  if (st.cur < st.walk.at) st.walk.at = -1;
}

// Scratch space for floats and 64-bit integers.
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

function writeInt(st: PackState, x: number, size: number, little: boolean): void {
  if (!st.utf8) {
    ensure(st, size);
    const b = st.buf;
    const c = st.cur;
    if (size === 4) {
      if (little) {
        b[c] = x;
        b[c + 1] = x >>> 8;
        b[c + 2] = x >>> 16;
        b[c + 3] = x >>> 24;
      } else {
        b[c] = x >>> 24;
        b[c + 1] = x >>> 16;
        b[c + 2] = x >>> 8;
        b[c + 3] = x;
      }
    } else if (size === 2) {
      if (little) {
        b[c] = x;
        b[c + 1] = x >>> 8;
      } else {
        b[c] = x >>> 8;
        b[c + 1] = x;
      }
    } else b[c] = x;
    st.cur = c + size;
    return;
  }
  for (let i = 0; i < size; i++) {
    const shift = little ? i * 8 : (size - 1 - i) * 8;
    pushByte(st, (x >>> shift) & 0xff);
  }
}

function writeScratch(st: PackState, size: number, little: boolean): void {
  // scratch is written little-endian; reverse for big-endian.
  if (little) pushBytes(st, scratchBytes, 0, size);
  else for (let i = size - 1; i >= 0; i--) pushByte(st, scratchBytes[i]);
}

const FLT_MAX = 3.4028234663852886e38;

function lenOf(st: PackState, howlen: Howlen, length: number): number {
  return howlen === Howlen.Star ? items(st) : length;
}

/** Little-endian unless the letter or a modifier says big. */
export function isLittle(sym: Sym): boolean {
  if (sym.code === 'n' || sym.code === 'N') return false;
  if (sym.code === 'v' || sym.code === 'V') return true;
  return sym.endian !== Endian.Big;
}

function unsupported(sym: Sym): PackStep {
  const what = sym.code === 'D' ? 'long doubles' : 'memory pointers';
  return () => {
    throw new PackError(
      PackErrorCode.UNSUPPORTED,
      `'${sym.code}' is not supported: this pack works on bytes and has no ${what}`,
    );
  };
}

const UUEMAP = '`!"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_';
const UU = Array.from(UUEMAP, (c) => c.charCodeAt(0));

/** Writes one uuencoded line at `at`; returns where it ends. */
function uuLine(out: Uint8Array, at: number, s: Uint8Array, p: number, len: number): number {
  out[at++] = UU[len];
  while (len > 2) {
    const a = s[p];
    const b = s[p + 1];
    const c = s[p + 2];
    out[at++] = UU[a >> 2];
    out[at++] = UU[((a << 4) & 0o60) | (b >> 4)];
    out[at++] = UU[((b << 2) & 0o74) | (c >> 6)];
    out[at++] = UU[c & 0o77];
    p += 3;
    len -= 3;
  }
  if (len > 0) {
    const a = s[p];
    const r = len > 1 ? s[p + 1] : 0;
    out[at++] = UU[a >> 2];
    out[at++] = UU[((a << 4) & 0o60) | (r >> 4)];
    out[at++] = UU[(r << 2) & 0o74];
    out[at++] = UU[0];
  }
  out[at++] = 10;
  return at;
}

const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

function maxCodePointError(v: bigint): PackError {
  return new PackError(
    PackErrorCode.VALUE,
    `Use of code point 0x${v.toString(16).toUpperCase()} is not allowed; the permissible max is 0x7FFFFFFFFFFFFFFF`,
  );
}

function codePoint(value: unknown, letter: string): number | bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  const uv = toBits64(value, letter);
  if (uv > 0x7fffffffffffffffn) throw maxCodePointError(uv);
  return uv <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(uv) : uv;
}

/** Compiles one symbol (not a `/` pair) into a step. */
function compileSym(sym: Sym, groupBody?: (st: PackState) => void): PackStep {
  if (sym.error) {
    const { code, message } = sym.error;
    return () => {
      throw new PackError(code, message);
    };
  }
  const c = sym.code;
  switch (c) {
    case '%':
      return () => {
        throw new PackError(PackErrorCode.TEMPLATE, "'%' may not be used in pack");
      };
    case '/':
      return () => {
        throw new PackError(PackErrorCode.TEMPLATE, "Invalid type '/' in pack");
      };
    case '(': {
      const body = groupBody!;
      const general: PackStep = (st, howlen, length) => {
        let len = lenOf(st, howlen, length);
        let utf8 = st.utf8;
        const level = ++st.level;
        // A group that is itself a `/` length packs real values inside; its count goes to the target.
        const lengthcode = st.lengthcode;
        st.lengthcode = undefined;
        while (len-- > 0) {
          // One budget across nested groups: a count (`((x)1000 X999)4294967295`) cannot make more
          // repetitions than the values given and the bytes written pay for.
          if (++st.work > limits.freeWork + limits.workPerByte * (st.args.length + st.cur)) {
            throw new PackError(
              PackErrorCode.LIMIT,
              `pack stopped: ${st.work} group repetitions for ${st.args.length} values and ${st.cur} bytes ` +
                `written, over the budget (PackLimits: ${limits.freeWork} + ${limits.workPerByte} per value and byte)`,
            );
          }
          st.utf8 = utf8;
          const was = st.doUtf8;
          st.starts[level] = st.cur;
          const before = st.cur;
          const aiBefore = st.ai;
          body(st);
          if (st.doUtf8 !== was) utf8 = true;
          if (howlen === Howlen.Star && st.ai >= st.args.length) break;
          // A repetition that used no value, ended where it began and did not turn the result into
          // characters (a `U0` upgrade moves every byte) repeats identically: stop early.
          if (st.cur === before && st.ai === aiBefore && st.doUtf8 === was) break;
        }
        st.level = level - 1;
        st.utf8 = utf8;
        st.lengthcode = lengthcode;
      };
      if (!isBerFieldGroup(sym)) return general;
      // `(w/a*)*`: the fields of a tuple, packed in one loop while they are plain strings or bytes.
      return (st, howlen, length) => {
        if (st.utf8 || st.lengthcode !== undefined) return general(st, howlen, length);
        let len = lenOf(st, howlen, length);
        const args = st.args;
        while (len > 0 && st.ai < args.length) {
          const v = args[st.ai];
          if (typeof v !== 'string' && !(v instanceof Uint8Array)) break;
          const bytes = typeof v === 'string' ? toBytes(v) : v;
          writeBerField(st, bytes);
          st.ai++;
          len--;
        }
        // Values that are not strings, or more repetitions than values: the general loop decides.
        if (len > 0 && !(howlen === Howlen.Star && st.ai >= args.length)) general(st, Howlen.Number, len);
      };
    }
    case '@':
      return (st, howlen, length) => {
        const len = howlen === Howlen.Star ? 0 : length;
        resize(st, st.starts[st.level], len, sym.shriek, '@');
      };
    case '.':
      return (st, howlen, length) => {
        let from: number;
        if (howlen === Howlen.Star) from = 0;
        else if (length === 0) from = st.cur;
        else {
          const l = st.level - (length - 1);
          from = l >= 0 ? st.starts[l] : 0;
        }
        const v = next(st, '.');
        const off = toInt(v, '.');
        resize(st, from, off, sym.shriek, '.');
      };
    case 'x':
      return (st, howlen, length) => {
        let len = howlen === Howlen.Star ? 0 : length;
        if (sym.shriek) {
          if (!len) len = 1;
          const at = st.utf8 ? charsFrom(st.buf, 0, st.cur, st.walk) : st.cur;
          const rem = at % len;
          if (rem === 0) return;
          len -= rem;
        }
        zeros(st, len);
      };
    case 'X':
      return (st, howlen, length) => {
        let len = howlen === Howlen.Star ? 0 : length;
        if (sym.shriek) {
          if (!len) len = 1;
          if (st.utf8) {
            const last = charAlignBack(st.buf, st.cur, len);
            if (last > st.cur) throw new PackError(PackErrorCode.VALUE, 'Malformed UTF-8 string in pack');
            st.cur = last;
            movedBack(st);
            return;
          }
          len = st.cur % len;
        }
        if (st.utf8) {
          if (len >= 1) utf8Shrink(st, len, 'X');
        } else shrink(st, len, 'X');
      };
    case 'a':
    case 'A':
    case 'Z':
      return (st, howlen, length) => {
        let len = lenOf(st, howlen, length);
        const bytes = toBytes(next(st, c));
        let fromlen = bytes.length;
        if (howlen === Howlen.Star) {
          len = fromlen;
          if (c === 'Z') len++;
        }
        if (len <= fromlen) {
          fromlen = len;
          if (c === 'Z' && fromlen > 0) fromlen--;
        }
        if (!st.utf8) {
          ensure(st, len);
          st.buf.set(fromlen === bytes.length ? bytes : bytes.subarray(0, fromlen), st.cur);
          st.cur += fromlen;
        } else pushBytes(st, bytes, 0, fromlen);
        zeros(st, len - fromlen, c === 'A' ? 0x20 : 0);
      };
    case 'b':
    case 'B':
      return (st, howlen, length) => {
        let len = lenOf(st, howlen, length);
        const str = toBytes(next(st, c));
        const fromlen = str.length;
        if (howlen === Howlen.Star) len = fromlen;
        let fieldLen = Math.floor((len + 7) / 8);
        if (len > fromlen) len = fromlen;
        let bits = 0;
        let l = 0;
        let p = 0;
        if (c === 'B') {
          while (l++ < len) {
            bits |= str[p++] & 1;
            if (l & 7) bits <<= 1;
            else {
              pushByte(st, bits & 0xff);
              bits = 0;
            }
          }
        } else {
          while (l++ < len) {
            if (str[p++] & 1) bits |= 0x80;
            if (l & 7) bits >>= 1;
            else {
              pushByte(st, bits & 0xff);
              bits = 0;
            }
          }
        }
        l--;
        if (l & 7) {
          if (c === 'B') bits <<= 7 - (l & 7);
          else bits >>= 7 - (l & 7);
          pushByte(st, bits & 0xff);
          l += 7;
        }
        l = Math.floor(l / 8);
        if (howlen === Howlen.Star) fieldLen = 0;
        else fieldLen -= l;
        zeros(st, fieldLen);
      };
    case 'h':
    case 'H':
      return (st, howlen, length) => {
        let len = lenOf(st, howlen, length);
        const str = toBytes(next(st, c));
        const fromlen = str.length;
        if (howlen === Howlen.Star) len = fromlen;
        let fieldLen = Math.floor((len + 1) / 2);
        if (len > fromlen) len = fromlen;
        let bits = 0;
        let l = 0;
        let p = 0;
        const nibble = (ch: number) => (isAlpha(ch) ? (ch + 9) & 0xf : ch & 0xf);
        if (c === 'H') {
          while (l++ < len) {
            bits |= nibble(str[p++]);
            if (l & 1) bits <<= 4;
            else {
              pushByte(st, bits & 0xff);
              bits = 0;
            }
          }
        } else {
          while (l++ < len) {
            bits |= nibble(str[p++]) << 4;
            if (l & 1) bits >>= 4;
            else {
              pushByte(st, bits & 0xff);
              bits = 0;
            }
          }
        }
        l--;
        if (l & 1) {
          pushByte(st, bits & 0xff);
          l++;
        }
        l = Math.floor(l / 2);
        if (howlen === Howlen.Star) fieldLen = 0;
        else fieldLen -= l;
        zeros(st, fieldLen);
      };
    case 'c':
    case 'C':
      return (st, howlen, length) => {
        let len = lenOf(st, howlen, length);
        if (c === 'C' && len === 0) {
          // C0: back to character mode.
          st.utf8 = st.doUtf8;
          return;
        }
        while (len-- > 0) {
          const iv = toIVNumber(next(st, c), c);
          if (c === 'c' ? iv < -128 || iv > 127 : iv < 0 || iv > 255) {
            throw new PackError(PackErrorCode.VALUE, `Character in '${c}' format wrapped in pack`);
          }
          pushByte(st, iv & 0xff);
        }
      };
    case 'W':
      return (st, howlen, length) => {
        let len = lenOf(st, howlen, length);
        while (len-- > 0) {
          const cp = codePoint(next(st, 'W'), 'W');
          if (!st.utf8 && cp >= 0x100) {
            if (st.doUtf8)
              throw new PackError(PackErrorCode.VALUE, "Character in 'W' format wrapped in pack");
            markedUpgrade(st);
            st.utf8 = true;
          }
          if (st.utf8) {
            const tmp: number[] = [];
            encodeUtf8(cp, tmp);
            ensure(st, tmp.length);
            for (const b of tmp) st.buf[st.cur++] = b;
          } else {
            ensure(st, 1);
            st.buf[st.cur++] = Number(cp);
          }
        }
      };
    case 'U':
      return (st, howlen, length) => {
        let len = lenOf(st, howlen, length);
        if (len === 0) {
          // U0: the following bytes are UTF-8 of a character string.
          markedUpgrade(st);
          st.utf8 = false;
          return;
        }
        while (len-- > 0) {
          const cp = codePoint(next(st, 'U'), 'U');
          const tmp: number[] = [];
          encodeUtf8(cp, tmp);
          if (st.utf8) pushBytes(st, tmp, 0, tmp.length);
          else {
            ensure(st, tmp.length);
            for (const b of tmp) st.buf[st.cur++] = b;
          }
        }
      };
    case 'f':
    case 'd':
    case 'F': {
      const little = isLittle(sym);
      const single = c === 'f';
      return (st, howlen, length) => {
        let len = lenOf(st, howlen, length);
        while (len-- > 0) {
          const v = next(st, c);
          let nv = toNV(v);
          if (Number.isNaN(nv) && typeof v !== 'number') {
            // Perl's NaN from a string ("nan") has the sign bit set; a JS NaN cannot carry it.
            const bits = single ? [0, 0, 0xc0, 0xff] : [0, 0, 0, 0, 0, 0, 0xf8, 0xff];
            for (let i = 0; i < bits.length; i++) scratchBytes[i] = bits[i];
            writeScratch(st, bits.length, little);
            continue;
          }
          if (single) {
            if (nv > FLT_MAX) nv = Infinity;
            else if (nv < -FLT_MAX) nv = -Infinity;
            scratch.setFloat32(0, nv, true);
            writeScratch(st, 4, little);
          } else {
            scratch.setFloat64(0, nv, true);
            writeScratch(st, 8, little);
          }
        }
      };
    }
    case 'w':
      return (st, howlen, length) => {
        let len = lenOf(st, howlen, length);
        while (len-- > 0) {
          const v = next(st, 'w');
          if (typeof v === 'number' && v >= 0 && v <= 0x7fffffff && Number.isInteger(v)) {
            // The common small case without bigint arithmetic.
            if (v < 0x80) pushByte(st, v);
            else {
              const tmp: number[] = [];
              let x = v;
              tmp.push(x & 0x7f);
              x = Math.floor(x / 128);
              while (x > 0) {
                tmp.push((x & 0x7f) | 0x80);
                x = Math.floor(x / 128);
              }
              for (let i = tmp.length - 1; i >= 0; i--) pushByte(st, tmp[i]);
            }
            continue;
          }
          writeBerBig(st, toBerInteger(v));
        }
      };
    case 'u':
      return (st, howlen, length) => {
        let len = howlen === Howlen.Star ? 0 : length;
        const bytes = toBytes(next(st, 'u'));
        if (len <= 2) len = 45;
        else len = Math.floor(len / 3) * 3;
        if (len >= 64) throw new PackError(PackErrorCode.VALUE, "Field too wide in 'u' format in pack");
        // The encoded size first (a length character, 4 per 3 bytes, a newline per line), so the cap
        // is checked before any work; uuencoding is ASCII, the same bytes in character mode.
        const full = Math.floor(bytes.length / len);
        const rest = bytes.length - full * len;
        const size = full * (2 + (len / 3) * 4) + (rest ? 2 + Math.ceil(rest / 3) * 4 : 0);
        ensure(st, size);
        let at = st.cur;
        for (let p = 0; p < bytes.length; p += len)
          at = uuLine(st.buf, at, bytes, p, Math.min(len, bytes.length - p));
        st.cur = at;
      };
    case 'p':
    case 'P':
    case 'D':
      return unsupported(sym);
    default: {
      const size = symSize(c, sym.shriek);
      if (!size || !'sSiIlLnNvVqQjJ'.includes(c)) {
        return () => {
          throw new PackError(PackErrorCode.TEMPLATE, `Invalid type '${c}' in pack`);
        };
      }
      const little = isLittle(sym);
      if (size === 8) {
        return (st, howlen, length) => {
          let len = lenOf(st, howlen, length);
          while (len-- > 0) {
            scratch.setBigUint64(0, toBits64(next(st, c), c), true);
            writeScratch(st, 8, little);
          }
        };
      }
      if (size === 4) {
        // The common case (`L`, `N`, `V`, `l`): bytes written in place, no helper calls.
        return (st, howlen, length) => {
          let len = lenOf(st, howlen, length);
          while (len-- > 0) {
            const v =
              st.lengthcode !== undefined
                ? st.lengthcode
                : st.ai < st.args.length
                  ? st.args[st.ai++]
                  : next(st, c);
            const x = typeof v === 'number' && Number.isSafeInteger(v) ? v : toInt(v, c);
            if (st.utf8 || st.cur + 4 > st.buf.length) {
              writeInt(st, x, 4, little);
              continue;
            }
            const b = st.buf;
            const at = st.cur;
            if (little) {
              b[at] = x;
              b[at + 1] = x >>> 8;
              b[at + 2] = x >>> 16;
              b[at + 3] = x >>> 24;
            } else {
              b[at] = x >>> 24;
              b[at + 1] = x >>> 16;
              b[at + 2] = x >>> 8;
              b[at + 3] = x;
            }
            st.cur = at + 4;
          }
        };
      }
      return (st, howlen, length) => {
        let len = lenOf(st, howlen, length);
        while (len-- > 0) {
          const v = next(st, c);
          writeInt(st, typeof v === 'number' && Number.isSafeInteger(v) ? v : toInt(v, c), size, little);
        }
      };
    }
  }
}

/**
 * A BER integer of any size, in time linear in its length: its binary digits are cut into 7-bit
 * groups (a bigint shifted 7 bits per byte would be quadratic). At most PackLimits.maxBerLength bytes.
 */
function writeBerBig(st: PackState, n: bigint): void {
  const bits = n.toString(2);
  const groups = Math.ceil(bits.length / 7);
  if (groups > limits.maxBerLength) {
    throw new PackError(
      PackErrorCode.LIMIT,
      `Cannot compress an integer of ${bits.length} bits in pack: its BER form would be ${groups} bytes, over the limit of ${limits.maxBerLength} (PackLimits.maxBerLength)`,
    );
  }
  // The first group takes what is left over at the top.
  let end = bits.length - (groups - 1) * 7;
  for (let g = 0; g < groups; g++) {
    const value = Number.parseInt(bits.slice(end - (g === 0 ? end : 7), end), 2);
    pushByte(st, g < groups - 1 ? value | 0x80 : value);
    end += 7;
  }
}

/**
 * `w/a*`, the iproto field: a BER length and the bytes, written in one go. Anything unusual (a count,
 * character mode, a value that is not a string or bytes) takes the general path.
 */
function berPrefixed(own: PackStep, target: PackStep): PackStep {
  return (st, howlen, length) => {
    const v = st.ai < st.args.length ? st.args[st.ai] : undefined;
    if (howlen !== Howlen.None || st.utf8 || (typeof v !== 'string' && !(v instanceof Uint8Array))) {
      const count = st.ai < st.args.length ? toBytes(st.args[st.ai]).length : 0;
      st.lengthcode = count;
      try {
        own(st, howlen, length);
      } finally {
        st.lengthcode = undefined;
      }
      target(st, Howlen.Number, count);
      return;
    }
    writeBerField(st, typeof v === 'string' ? toBytes(v) : v);
    st.ai++;
  };
}

/** A BER length and the bytes (outside character mode). */
function writeBerField(st: PackState, bytes: Uint8Array): void {
  {
    const n = bytes.length;
    // Exactly what is written, so a field just under the output cap is not refused.
    ensure(st, (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5) + n);
    const buf = st.buf;
    let c = st.cur;
    if (n < 0x80) buf[c++] = n;
    else if (n < 0x4000) {
      buf[c++] = 0x80 | (n >>> 7);
      buf[c++] = n & 0x7f;
    } else {
      const tmp: number[] = [n & 0x7f];
      let x = Math.floor(n / 128);
      while (x > 0) {
        tmp.push((x & 0x7f) | 0x80);
        x = Math.floor(x / 128);
      }
      for (let k = tmp.length - 1; k >= 0; k--) buf[c++] = tmp[k];
    }
    if (n <= 32) for (let k = 0; k < n; k++) buf[c++] = bytes[k];
    else {
      buf.set(bytes, c);
      c += n;
    }
    st.cur = c;
  }
}

/** Compiles a symbol list into one function, pairing `/` length prefixes with their targets. */
export function compileSequence(input: Sym[]): (st: PackState) => void {
  // Perl's pack_rec overwrites the flags of the symbol after a group with the group's own, so a
  // `/` right after a group is lost: `(C) n/a*` packs `n` and `a*` as two plain items.
  const syms = input.map((sym, i) =>
    sym.slash && i > 0 && input[i - 1].code === '(' && !input[i - 1].error ? { ...sym, slash: false } : sym,
  );
  const steps: PackStep[] = new Array(syms.length);
  // Built from the end so that a `/` prefix can call its (already compiled) target.
  for (let i = syms.length - 1; i >= 0; i--) {
    const sym = syms[i];
    const own = compileSym(sym, sym.group ? compileSequence(sym.group) : undefined);
    if (!sym.slash || sym.error) {
      steps[i] = own;
      continue;
    }
    const target = syms[i + 1];
    if (!target) {
      steps[i] = () => {
        throw new PackError(PackErrorCode.TEMPLATE, "Code missing after '/' in pack");
      };
      continue;
    }
    const targetStep = steps[i + 1];
    const isString = 'aAZ'.includes(target.code);
    if (
      sym.code === 'w' &&
      !sym.shriek &&
      target.code === 'a' &&
      target.howlen === Howlen.Star &&
      !target.slash
    ) {
      steps[i] = berPrefixed(own, targetStep);
      continue;
    }
    steps[i] = (st, howlen, length) => {
      const remaining = items(st);
      let count: number;
      if (isString) {
        if (target.howlen === Howlen.Number) count = target.length;
        else {
          count = remaining > 0 ? toBytes(st.args[st.ai]).length : 0;
          if (target.code === 'Z') count++;
        }
      } else {
        count = target.howlen === Howlen.Number && target.length < remaining ? target.length : remaining;
      }
      st.lengthcode = count;
      try {
        own(st, howlen, length);
      } finally {
        st.lengthcode = undefined;
      }
      targetStep(st, Howlen.Number, count);
    };
  }
  // Top-level order: a `/` prefix consumes its target.
  const run: Array<{ step: PackStep; howlen: Howlen; length: number }> = [];
  for (let i = 0; i < syms.length; i++) {
    const sym = syms[i];
    run.push({ step: steps[i], howlen: sym.howlen, length: sym.length });
    if (sym.slash && !sym.error) {
      while (i + 1 < syms.length && syms[i + 1].slash && !syms[i + 1].error) i++;
      i++;
    }
  }
  const n = run.length;
  if (n === 1) {
    const { step, howlen, length } = run[0];
    return (st) => step(st, howlen, length);
  }
  const stepList = run.map((r) => r.step);
  const howlens = run.map((r) => r.howlen);
  const lengths = run.map((r) => r.length);
  return (st) => {
    for (let i = 0; i < n; i++) stepList[i](st, howlens[i], lengths[i]);
  };
}
