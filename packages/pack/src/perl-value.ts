import { limits } from './limits.js';
import { PackError, PackErrorCode } from './pack-error.js';

/**
 * Conversions of JavaScript values into the numbers and byte strings Perl's `pack` sees, mirroring
 * Perl's SvIV / SvUV / SvNV / SvPV under `use warnings FATAL => 'all'`.
 */

const TWO_63 = 2 ** 63;
const TWO_64 = 2 ** 64;
const MASK64 = (1n << 64n) - 1n;
const IV_MIN = -(1n << 63n);

// Perl's looks_like_number for decimal strings (grok_number): optional surrounding whitespace,
// sign, digits with an optional fraction and exponent, or Inf / NaN words.
const NUMERIC = /^[ \t\n\v\f\r]*[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)[ \t\n\v\f\r]*$/;
const INTEGER = /^[ \t\n\v\f\r]*([+-]?)(\d+)[ \t\n\v\f\r]*$/;
const INFNAN = /^[ \t\n\v\f\r]*([+-]?)(inf(?:inity)?|nan)[ \t\n\v\f\r]*$/i;

export function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `bytes(${value.length})`;
  return String(value);
}

function notNumeric(value: unknown, op: string): PackError {
  return new PackError(PackErrorCode.VALUE, `Argument ${describe(value)} isn't numeric in ${op}`);
}

function uninitialized(op: string): PackError {
  return new PackError(PackErrorCode.VALUE, `Use of uninitialized value in ${op}`);
}

/** A Perl number: an integer (IV/UV, as bigint) or a float (NV). */
type PerlNum = { int: bigint } | { nv: number };

function bytesToLatin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function numify(value: unknown, op: string): PerlNum {
  switch (typeof value) {
    case 'number':
      return Number.isSafeInteger(value) ? { int: BigInt(value) } : { nv: value };
    case 'bigint':
      return value >= IV_MIN && value <= MASK64 ? { int: value } : { nv: Number(value) };
    case 'string':
      return numifyString(value, value, op);
    case 'undefined':
      throw uninitialized(op);
    default:
      if (value === null) throw uninitialized(op);
      if (value instanceof Uint8Array) return numifyString(bytesToLatin1(value), value, op);
      throw new PackError(PackErrorCode.VALUE, `Expected a number, got ${describe(value)} in ${op}`);
  }
}

function numifyString(text: string, original: unknown, op: string): PerlNum {
  const int = INTEGER.exec(text);
  if (int) {
    const n = BigInt(int[1] + int[2]);
    if (n >= IV_MIN && n <= MASK64) return { int: n };
    return { nv: Number(int[1] + int[2]) };
  }
  if (NUMERIC.test(text)) return { nv: Number(text.trim()) };
  const special = INFNAN.exec(text);
  if (special) {
    const word = special[2].toLowerCase();
    if (word === 'nan') return { nv: Number.NaN };
    return { nv: special[1] === '-' ? -Infinity : Infinity };
  }
  throw notNumeric(original, op);
}

/** Perl's %g rendering of an NV (`Inf`, `-Inf`, `NaN`). */
export function nvName(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  return n > 0 ? 'Inf' : '-Inf';
}

/** The 64-bit pattern Perl's SvIV / SvUV give a float (both agree on the bits). */
function nvTo64(nv: number): bigint {
  if (nv < -TWO_63) return IV_MIN & MASK64;
  if (nv < TWO_64) return BigInt(Math.trunc(nv)) & MASK64;
  return MASK64;
}

function infNanError(nv: number, letter: string): PackError {
  return new PackError(PackErrorCode.VALUE, `Cannot pack ${nvName(nv)} with '${letter}'`);
}

/**
 * The value as Perl's SvIV/SvUV would give it, as an unsigned 64-bit pattern (bigint).
 * `letter` names the pack letter for the Inf/NaN message.
 */
export function toBits64(value: unknown, letter: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value) & MASK64;
  const n = numify(value, 'pack');
  if ('int' in n) return n.int & MASK64;
  if (!Number.isFinite(n.nv)) throw infNanError(n.nv, letter);
  return nvTo64(n.nv);
}

/**
 * The value as a JS number whose low 32 bits are those of Perl's SvIV/SvUV (the caller applies
 * `| 0` or `>>> 0`). Exact for every safe integer; other values go through {@link toBits64}.
 */
export function toInt(value: unknown, letter: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  const bits = toBits64(value, letter);
  return Number(BigInt.asIntN(53, bits));
}

/** Perl's SvIV as a signed bigint. */
function toIV(value: unknown, letter: string): bigint {
  return BigInt.asIntN(64, toBits64(value, letter));
}

/**
 * For `c` and `C`: Perl's SvIV as a number that keeps the sign and the magnitude needed for the
 * "wrapped" range check, plus its low byte.
 */
export function toIVNumber(value: unknown, letter: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  const iv = toIV(value, letter);
  if (iv >= -(1n << 52n) && iv <= 1n << 52n) return Number(iv);
  // Out of every byte range either way; keep the low byte for the wrapped result.
  return 2 ** 53 - 256 + Number(iv & 0xffn);
}

/** Perl's SvNV. */
export function toNV(value: unknown): number {
  if (typeof value === 'number') return value;
  const n = numify(value, 'pack');
  return 'int' in n ? Number(n.int) : n.nv;
}

/** For `w`: a non-negative integer (bigint), mirroring Perl's pack 'w' rules. */
export function toBerInteger(value: unknown): bigint {
  if (typeof value === 'number') {
    if (Number.isNaN(value) || !Number.isFinite(value)) {
      throw new PackError(PackErrorCode.VALUE, `Cannot compress ${nvName(value)} in pack`);
    }
    if (value < 0) throw new PackError(PackErrorCode.VALUE, 'Cannot compress negative numbers in pack');
    return BigInt(Math.floor(value));
  }
  if (typeof value === 'bigint') {
    if (value < 0n) throw new PackError(PackErrorCode.VALUE, 'Cannot compress negative numbers in pack');
    return value;
  }
  if (typeof value === 'string' || value instanceof Uint8Array) {
    const text = typeof value === 'string' ? value : bytesToLatin1(value);
    const n = numifyString(text, value, 'pack');
    if ('int' in n) {
      if (n.int < 0n) throw new PackError(PackErrorCode.VALUE, 'Cannot compress negative numbers in pack');
      return n.int;
    }
    // Only the words (inf, nan) are refused as such: a number too large for a double ("1e999", 400
    // digits) is past 2^64, where Perl reads the string itself (pp_pack.c, pack 'w', w_string).
    if (Number.isNaN(n.nv) || (!Number.isFinite(n.nv) && INFNAN.test(text)))
      throw new PackError(PackErrorCode.VALUE, `Cannot compress ${nvName(n.nv)} in pack`);
    if (n.nv < 0) throw new PackError(PackErrorCode.VALUE, 'Cannot compress negative numbers in pack');
    if (n.nv < 2 ** 64) return BigInt(Math.floor(n.nv));
    // Beyond 2^64 Perl's pack 'w' divides the decimal string itself (pp_pack.c is_an_int): spaces
    // anywhere, a leading '+', digits, and a fraction that is ignored; anything else is refused.
    let digits = '';
    let started = false;
    let fraction = false;
    for (const ch of text) {
      if (ch === ' ') continue;
      if (ch === '+' && !started) continue;
      if (ch >= '0' && ch <= '9') {
        started = true;
        if (!fraction) digits += ch;
      } else if (ch === '.') fraction = true;
      else throw new PackError(PackErrorCode.VALUE, 'Can only compress unsigned integers in pack');
    }
    // A number of this many digits needs more BER bytes than PackLimits.maxBerLength allows: refuse
    // it before converting it (the digits of a hostile value may be millions).
    const significant = digits.replace(/^0+/, '').length;
    if ((significant - 1) * Math.log2(10) >= 7 * limits.maxBerLength) {
      throw new PackError(
        PackErrorCode.LIMIT,
        `Cannot compress an integer of ${significant} digits in pack: its BER form would be over ${limits.maxBerLength} bytes (PackLimits.maxBerLength)`,
      );
    }
    return BigInt(digits || '0');
  }
  if (value === undefined || value === null) throw uninitialized('pack');
  throw new PackError(PackErrorCode.VALUE, `Expected a number, got ${describe(value)} in pack`);
}

const utf8Encoder = new TextEncoder();

/** Perl's stringification of a number (IVs in full, NVs as %.15g). */
export function perlNumberString(n: number): string {
  if (Number.isSafeInteger(n)) return String(n);
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Inf' : '-Inf';
  if (n === 0) return '0';
  // %.15g: 15 significant digits; the exponent is the one after rounding.
  const ex = n.toExponential(14);
  const e = Number(ex.slice(ex.indexOf('e') + 1));
  if (e < -4 || e >= 15) {
    let [mant, pow] = ex.split('e');
    if (mant.includes('.')) mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    const sign = pow[0] === '-' ? '-' : '+';
    const digits = pow.replace(/^[+-]/, '');
    return `${mant}e${sign}${digits.length < 2 ? `0${digits}` : digits}`;
  }
  let fixed = n.toFixed(Math.max(0, 14 - e));
  if (fixed.includes('.')) fixed = fixed.replace(/0+$/, '').replace(/\.$/, '');
  return fixed;
}

/** The bytes of a string-ish value (`a A Z u b B h H`): strings are UTF-8 encoded. */
export function toBytes(value: unknown): Uint8Array {
  if (typeof value === 'string') return utf8Encoder.encode(value);
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'number') return utf8Encoder.encode(perlNumberString(value));
  if (typeof value === 'bigint') return utf8Encoder.encode(String(value));
  if (value === undefined || value === null) throw uninitialized('pack');
  throw new PackError(PackErrorCode.VALUE, `Expected a string or Uint8Array, got ${describe(value)} in pack`);
}
