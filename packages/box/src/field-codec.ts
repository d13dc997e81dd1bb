import { boxError } from './box-error.js';
import type { FieldLetter } from './format.js';
import type { Writer } from './writer.js';

const RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  Q: [0n, 0xffff_ffff_ffff_ffffn],
  q: [-0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn],
  L: [0n, 0xffff_ffffn],
  l: [-0x8000_0000n, 0x7fff_ffffn],
  S: [0n, 0xffffn],
  s: [-0x8000n, 0x7fffn],
  C: [0n, 0xffn],
  c: [-0x80n, 0x7fn],
};

const INTEGER_STRING = /^\s*[+-]?\d+\s*$/;

/**
 * An integer for letter `letter`, as a bigint, from a number, a bigint or a decimal string (Perl
 * takes `"42"` as 42). Fractions and values out of the letter's range are refused: Perl's `pack`
 * would truncate or wrap them silently.
 */
export function toInteger(value: unknown, letter: string, what: string): bigint {
  let big: bigint;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw boxError('ERR_BOX_ARGUMENT', `${what}: ${value} is not an integer`);
    big = BigInt(value);
  } else if (typeof value === 'bigint') {
    big = value;
  } else if (typeof value === 'string' && INTEGER_STRING.test(value)) {
    big = BigInt(value.trim());
  } else {
    throw boxError(
      'ERR_BOX_ARGUMENT',
      `${what}: expected an integer for '${letter}', got ${describe(value)}`,
    );
  }
  const [min, max] = RANGES[letter]!;
  if (big < min || big > max) {
    throw boxError('ERR_BOX_ARGUMENT', `${what}: ${big} is out of range for '${letter}' (${min}..${max})`);
  }
  return big;
}

/** A 32-bit integer given as a number: the fast path for `L l S s C c`, no bigint. */
function smallInteger(value: unknown, letter: string, what: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) {
    const [min, max] = RANGES[letter]!;
    if (value >= Number(min) && value <= Number(max)) return value;
  }
  return Number(toInteger(value, letter, what));
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/**
 * Writes one field as MR::Tarantool::Box packs it into a tuple: the value packed with its letter
 * (`&` / `$` as they are), then Perl's `w/a*` around it.
 */
export function writeField(w: Writer, letter: FieldLetter, value: unknown, what: string): void {
  switch (letter) {
    case '&':
    case '$':
      writeStringField(w, value, what);
      return;
    case 'L':
      w.u8(4);
      w.u32(smallInteger(value, letter, what) >>> 0);
      return;
    case 'l':
      w.u8(4);
      w.u32(smallInteger(value, letter, what) >>> 0);
      return;
    case 'S':
    case 's':
      w.u8(2);
      w.u16(smallInteger(value, letter, what) & 0xffff);
      return;
    case 'C':
    case 'c':
      w.u8(1);
      w.u8(smallInteger(value, letter, what) & 0xff);
      return;
    case 'Q':
    case 'q':
      w.u8(8);
      w.u64(BigInt.asUintN(64, toInteger(value, letter, what)));
      return;
  }
}

/** The value of a `&` / `$` field: bytes as they are, text as UTF-8, numbers as Perl stringifies them. */
export function writeStringField(w: Writer, value: unknown, what: string): void {
  if (typeof value === 'string') w.berString(value);
  else if (value instanceof Uint8Array) w.berBytes(value);
  else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint')
    w.berString(String(value));
  else throw boxError('ERR_BOX_ARGUMENT', `${what}: expected a string or bytes, got ${describe(value)}`);
}

/** The packed value of an integer field without its length prefix (update arguments). */
export function writeInteger(w: Writer, letter: FieldLetter, value: unknown, what: string): void {
  switch (letter) {
    case 'L':
    case 'l':
      w.u32(smallInteger(value, letter, what) >>> 0);
      return;
    case 'S':
    case 's':
      w.u16(smallInteger(value, letter, what) & 0xffff);
      return;
    case 'C':
    case 'c':
      w.u8(smallInteger(value, letter, what) & 0xff);
      return;
    case 'Q':
    case 'q':
      w.u64(BigInt.asUintN(64, toInteger(value, letter, what)));
      return;
    default:
      throw new TypeError(`writeInteger: '${letter}' is not an integer letter`);
  }
}
