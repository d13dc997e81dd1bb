import { limits } from './limits.js';
import { PackError, PackErrorCode } from './pack-error.js';

/** How a repeat count was given: none (means 1), a number (also `[N]` / `[template]`), or `*`. */
export const Howlen = { None: 0, Number: 1, Star: 2 } as const;
export type Howlen = (typeof Howlen)[keyof typeof Howlen];

export const Endian = { Native: 0, Little: 1, Big: 2 } as const;
export type Endian = (typeof Endian)[keyof typeof Endian];

/** One parsed template symbol, as Perl's pp_pack.c next_symbol() yields it. */
export interface Sym {
  /** The letter, `(` for a group, `%` for a checksum; '' for a parse error. */
  code: string;
  shriek: boolean;
  endian: Endian;
  howlen: Howlen;
  length: number;
  /** The group body, for `(`. */
  group?: Sym[];
  /** Followed by `/`: this symbol is the length of the next one. */
  slash: boolean;
  /** Parsing stopped here: Perl dies on reaching this symbol. */
  error?: PackError;
}

const SHRIEKING_ALLOWED = 'sSiIlLxXnNvV@.';
const ENDIANNESS_ALLOWED = 'sSiIlLqQjJfFdDpP(';

const isSpace = (c: string) =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/** Byte sizes used by `[template]` counts (pp_pack.c packprops). */
const SIZES: Record<string, number> = {
  c: 1,
  C: 1,
  W: 1,
  U: 1,
  w: 1,
  s: 2,
  S: 2,
  n: 2,
  v: 2,
  l: 4,
  L: 4,
  N: 4,
  V: 4,
  q: 8,
  Q: 8,
  j: 8,
  J: 8,
  i: 4,
  I: 4,
  f: 4,
  d: 8,
  F: 8,
  p: 8,
  // Only for `[template]` counts: this Perl has 16-byte long doubles, which `D` itself refuses.
  D: 16,
};
const SHRIEK_SIZES: Record<string, number> = { s: 2, S: 2, i: 4, I: 4, l: 8, L: 8, n: 2, N: 4, v: 2, V: 4 };

export function symSize(code: string, shriek: boolean): number {
  return (shriek ? SHRIEK_SIZES[code] : SIZES[code]) ?? 0;
}

function templateError(message: string): PackError {
  return new PackError(PackErrorCode.TEMPLATE, message);
}

/**
 * Index of the `ender` that closes the group or bracket starting at `pos` (pp_pack.c group_end).
 * Perl's group_end recurses into nested groups and brackets; a stack of the enders still awaited does
 * the same without the call stack, so 100,000 nested `(` cannot overflow it. As in Perl, a closer
 * other than the awaited one is skipped, and the error names the innermost ender missing.
 *
 * Each nested group closed on the way is noted in `ends` (by the index of its opener): parsing that
 * group next finds its end there instead of scanning it again, so a template is scanned once
 * however deeply it nests. A scan from a nested opener would close it at the same place, since a
 * closer only ever matches the innermost ender awaited.
 */
function groupEnd(t: string, pos: number, end: number, ender: string, ends: Map<number, number>): number {
  const known = ends.get(pos - 1);
  if (known !== undefined && known < end) return known;
  const awaited = [ender];
  const openers = [pos - 1];
  while (pos < end) {
    const c = t[pos++];
    if (c === awaited[awaited.length - 1]) {
      awaited.pop();
      ends.set(openers.pop() as number, pos - 1);
      if (awaited.length === 0) return pos - 1;
    } else if (c === '#') {
      while (pos < end && t[pos] !== '\n') pos++;
    } else if (c === '(' || c === '[') {
      awaited.push(c === '(' ? ')' : ']');
      openers.push(pos - 1);
    }
  }
  throw templateError(`No group ending character '${awaited[awaited.length - 1]}' found in template`);
}

const SSIZE_MAX = (1n << 63n) - 1n;

/** A decimal repeat count; Perl allows up to SSize_t's maximum. */
function getNum(t: string, pos: number): [number, number] {
  const start = pos;
  while (isDigit(t[pos])) pos++;
  const digits = t.slice(start, pos);
  if (digits.length > 15 && BigInt(digits) > SSIZE_MAX)
    throw templateError('pack/unpack repeat count overflow');
  return [Number(digits), pos];
}

function errorSym(error: PackError): Sym {
  return { code: '', shriek: false, endian: 0, howlen: Howlen.None, length: 1, slash: false, error };
}

/**
 * Parses `t[from, to)` into symbols. A template error does not throw here: it ends the list with an
 * error symbol, because Perl only dies when its parser reaches that point (a group repeated zero
 * times is never parsed).
 */
export function parseTemplate(
  t: string,
  op: 'pack' | 'unpack',
  from = 0,
  to = t.length,
  inherited: Endian = 0,
  level = 0,
  brackets = 0,
  ends: Map<number, number> = new Map(),
): Sym[] {
  const out: Sym[] = [];
  let pos = from;
  try {
    while (pos < to) {
      const c = t[pos];
      if (isSpace(c)) {
        pos++;
        continue;
      }
      if (c === '#') {
        pos++;
        while (pos < to && t[pos] !== '\n') pos++;
        if (pos < to) pos++;
        continue;
      }
      pos++;
      if (c === ',') throw templateError(`Invalid type ',' in ${op}`);
      const sym: Sym = { code: c, shriek: false, endian: 0, howlen: Howlen.None, length: 1, slash: false };
      let grpBeg = 0;
      let grpEnd = 0;
      if (c === '(') {
        const n = t[pos];
        if (isDigit(n) || n === '*' || n === '[')
          throw templateError(`()-group starts with a count in ${op}`);
        grpBeg = pos;
        grpEnd = groupEnd(t, pos, to, ')', ends);
        pos = grpEnd + 1;
        if (level >= limits.maxGroupNesting) throw templateError(`Too deeply nested ()-groups in ${op}`);
      }
      const inheritable = inherited !== 0 && ENDIANNESS_ALLOWED.includes(c);
      // Modifiers.
      while (pos < to) {
        const m = t[pos];
        let allowed: string;
        if (m === '!') allowed = SHRIEKING_ALLOWED;
        else if (m === '<' || m === '>') allowed = ENDIANNESS_ALLOWED;
        else break;
        if (!allowed.includes(c)) throw templateError(`'${m}' allowed only after types ${allowed} in ${op}`);
        if (m === '!') {
          if (sym.shriek) throw templateError(`Duplicate modifier '!' after '${c}' in ${op}`);
          sym.shriek = true;
        } else {
          const e: Endian = m === '<' ? Endian.Little : Endian.Big;
          if (sym.endian !== 0 && sym.endian !== e) {
            throw templateError(`Can't use both '<' and '>' after type '${c}' in ${op}`);
          }
          if (inheritable && inherited !== e) {
            throw templateError(`Can't use '${m}' in a group with different byte-order in ${op}`);
          }
          if (sym.endian === e) throw templateError(`Duplicate modifier '${m}' after '${c}' in ${op}`);
          sym.endian = e;
        }
        pos++;
      }
      if (inheritable && sym.endian === 0) sym.endian = inherited;
      // Count.
      if (pos < to) {
        const n = t[pos];
        if (isDigit(n)) {
          [sym.length, pos] = getNum(t, pos);
          sym.howlen = Howlen.Number;
        } else if (n === '*') {
          pos++;
          sym.howlen = Howlen.Star;
        } else if (n === '[') {
          const lenPos = ++pos;
          sym.howlen = Howlen.Number;
          pos = groupEnd(t, pos, to, ']', ends) + 1;
          if (isDigit(t[lenPos])) {
            const [len, after] = getNum(t, lenPos);
            if (t[after] !== ']') throw templateError(`Malformed integer in [] in ${op}`);
            sym.length = len;
          } else {
            if (brackets >= limits.maxBracketNesting) {
              throw new PackError(
                PackErrorCode.LIMIT,
                `Too deeply nested []-counts in ${op}: more than ${limits.maxBracketNesting} levels`,
              );
            }
            sym.length = measure(parseTemplate(t, op, lenPos, pos - 1, 0, level, brackets + 1, ends), op);
          }
        }
        // A '/' after the count makes this symbol a length prefix.
        while (pos < to) {
          const s = t[pos];
          if (isSpace(s)) pos++;
          else if (s === '#') {
            pos++;
            while (pos < to && t[pos] !== '\n') pos++;
            if (pos < to) pos++;
          } else {
            if (s === '/') {
              sym.slash = true;
              pos++;
              const n2 = t[pos];
              if (pos < to && (isDigit(n2) || n2 === '*' || n2 === '[')) {
                throw templateError(`'/' does not take a repeat count in ${op}`);
              }
            }
            break;
          }
        }
      }
      if (c === '(') sym.group = parseTemplate(t, op, grpBeg, grpEnd, sym.endian, level + 1, brackets, ends);
      out.push(sym);
    }
  } catch (error) {
    if (!(error instanceof PackError)) throw error;
    out.push(errorSym(error));
  }
  return out;
}

/** The byte length of a template, for `[template]` counts (pp_pack.c measure_struct). */
function measure(syms: Sym[], op: string): number {
  let total = 0;
  for (const sym of syms) {
    if (sym.error) throw sym.error;
    if (sym.howlen === Howlen.Star) throw templateError(`Within []-length '*' not allowed in ${op}`);
    let len = sym.length;
    let size = symSize(sym.code, sym.shriek);
    if (!size) {
      switch (sym.code) {
        case '@':
        case '.':
        case '/':
        case 'u':
          throw templateError(`Within []-length '${sym.code}' not allowed in ${op}`);
        case '%':
          size = 0;
          break;
        case '(':
          size = measure(sym.group!, op);
          break;
        case 'X':
          if (sym.shriek) {
            if (!len) len = 1;
            len = total % len;
          }
          size = -1;
          if (total < len) throw templateError(`'X' outside of string in ${op}`);
          break;
        case 'x':
          if (sym.shriek) {
            if (!len) len = 1;
            const rem = total % len;
            len = rem ? len - rem : 0;
          }
          size = 1;
          break;
        case 'A':
        case 'Z':
        case 'a':
          size = 1;
          break;
        case 'B':
        case 'b':
          len = Math.floor((len + 7) / 8);
          size = 1;
          break;
        case 'H':
        case 'h':
          len = Math.floor((len + 1) / 2);
          size = 1;
          break;
        case 'P':
          len = 1;
          size = 8;
          break;
        default:
          throw templateError(`Invalid type '${sym.code}' in ${op}`);
      }
    }
    total += len * size;
  }
  return total;
}

/** `(w/a*)`: a group that is exactly one BER-length-prefixed field, the shape of an iproto tuple. */
export function isBerFieldGroup(sym: Sym): boolean {
  const g = sym.group;
  if (g?.length !== 2) return false;
  const [len, field] = g;
  return (
    !len.error &&
    !field.error &&
    len.code === 'w' &&
    len.slash &&
    !len.shriek &&
    len.howlen === Howlen.None &&
    field.code === 'a' &&
    field.howlen === Howlen.Star &&
    !field.slash
  );
}
