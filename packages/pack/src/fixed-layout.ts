import { allocResult } from './fast-buffer.js';
import { isLittle } from './packer.js';
import { Howlen, type Sym, symSize } from './template.js';

/**
 * The fast path for fixed layouts: a run of 8/16/32-bit integers (`L3`, the iproto header, `LLC`).
 * The size is known before packing, so pack writes into an exact buffer and unpack reads in place.
 *
 * Each layout is turned into straight-line code once, at compile time: a generated function with
 * the offsets and byte shifts spelled out runs about twice as fast as a loop over per-field tables.
 * Only numbers we computed from the parsed symbols go into the generated source, never template
 * text. Where code generation is disabled (`--disallow-code-generation-from-strings`, a CSP), the
 * table-driven loops below do the same work.
 *
 * Pack hands anything unusual (a missing, fractional, huge or non-number value, a `c`/`C` value out
 * of range) to the general engine, which gives Perl's result or error; unpack returns undefined
 * when the data is short, and the general engine answers.
 */

export interface FixedField {
  code: string;
  size: 1 | 2 | 4;
  little: boolean;
  /** Unpacks as a signed number. */
  signed: boolean;
}

type PackFn = (values: ArrayLike<unknown>) => Buffer;
/** Unpacks `data[start..end)`; the caller has checked the range. */
type UnpackFn = (data: Uint8Array, start: number, end: number) => unknown[] | undefined;

const FIXED = 'cCsSlLnNvViI';
/** Beyond this many fields the generated function would only grow; the loop is as good. */
const MAX_FIELDS = 64;

export function fixedFields(syms: Sym[], direction: 'pack' | 'unpack'): FixedField[] | undefined {
  const fields: FixedField[] = [];
  for (const sym of syms) {
    if (sym.error || sym.slash || sym.howlen === Howlen.Star || !FIXED.includes(sym.code)) return undefined;
    // `n! N! v! V!` unpack signed: left to the general engine.
    if (direction === 'unpack' && sym.shriek && 'nNvV'.includes(sym.code)) return undefined;
    const size = symSize(sym.code, sym.shriek);
    if (size !== 1 && size !== 2 && size !== 4) return undefined;
    const signed = sym.code === 'c' || sym.code === 's' || sym.code === 'i' || sym.code === 'l';
    for (let i = 0; i < sym.length; i++) fields.push({ code: sym.code, size, little: isLittle(sym), signed });
    if (fields.length > MAX_FIELDS) return undefined;
  }
  return fields.length ? fields : undefined;
}

/** The expressions that store number `v` into `b` at `at`, one per byte. */
function storeBytes(f: FixedField, v: string, at: number): string[] {
  const shifts = f.size === 4 ? [0, 8, 16, 24] : f.size === 2 ? [0, 8] : [0];
  if (!f.little) shifts.reverse();
  // A typed-array store keeps the low 8 bits (ToUint8), which is Perl's wrap for any safe integer.
  return shifts.map((s, k) => `b[${at + k}] = ${s ? `${v} >>> ${s}` : v};`);
}

/** The condition under which the fast path takes a value; everything else goes to the general engine. */
function accepts(f: FixedField, v: string): string {
  if (f.code === 'C') return `(${v} >= 0 && ${v} <= 255 && Number.isInteger(${v}))`;
  if (f.code === 'c') return `(${v} >= -128 && ${v} <= 127 && Number.isInteger(${v}))`;
  return `Number.isSafeInteger(${v})`;
}

function generatedPack(fields: FixedField[], general: PackFn): PackFn | undefined {
  const n = fields.length;
  const names = fields.map((_, i) => `a${i}`);
  let at = 0;
  const stores: string[] = [];
  for (let i = 0; i < n; i++) {
    stores.push(...storeBytes(fields[i], names[i], at));
    at += fields[i].size;
  }
  const source = [
    '"use strict";',
    'return function packFixed(v) {',
    `  if (v.length < ${n}) return general(v);`,
    ...names.map((a, i) => `  const ${a} = v[${i}];`),
    `  if (!(${fields.map((f, i) => accepts(f, names[i])).join(' && ')})) return general(v);`,
    `  const b = alloc(${at});`,
    ...stores.map((s) => `  ${s}`),
    '  return b;',
    '};',
  ].join('\n');
  try {
    return new Function('general', 'alloc', source)(general, allocResult) as PackFn;
  } catch {
    return undefined;
  }
}

function generatedUnpack(fields: FixedField[]): UnpackFn | undefined {
  let at = 0;
  const values: string[] = [];
  for (const f of fields) {
    const byte = (k: number) => `d[o + ${at + (f.little ? k : f.size - 1 - k)}]`;
    let e: string;
    if (f.size === 4) {
      e = `(${byte(0)} | (${byte(1)} << 8) | (${byte(2)} << 16) | (${byte(3)} << 24))`;
      e = f.signed ? e : `(${e} >>> 0)`;
    } else if (f.size === 2) {
      e = `(${byte(0)} | (${byte(1)} << 8))`;
      if (f.signed) e = `((${e} << 16) >> 16)`;
    } else e = f.signed ? `((${byte(0)} << 24) >> 24)` : byte(0);
    values.push(e);
    at += f.size;
  }
  const source = [
    '"use strict";',
    'return function unpackFixed(d, o, e) {',
    `  if (e - o < ${at}) return undefined;`,
    `  return [${values.join(', ')}];`,
    '};',
  ].join('\n');
  try {
    return new Function(source)() as UnpackFn;
  } catch {
    return undefined;
  }
}

/** The same work without code generation: a loop over per-field tables. */
export function loopPack(fields: FixedField[], general: PackFn): PackFn {
  const total = fields.reduce((n, f) => n + f.size, 0);
  const n = fields.length;
  const sizes = Uint8Array.from(fields, (f) => f.size);
  const little = fields.map((f) => f.little);
  const code = fields.map((f) => f.code);
  return (values) => {
    if (values.length < n) return general(values);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) return general(values);
      if (code[i] === 'C' ? v < 0 || v > 255 : code[i] === 'c' && (v < -128 || v > 127))
        return general(values);
    }
    const b = allocResult(total);
    let p = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i] as number;
      const size = sizes[i];
      if (size === 4) {
        if (little[i]) {
          b[p] = v;
          b[p + 1] = v >>> 8;
          b[p + 2] = v >>> 16;
          b[p + 3] = v >>> 24;
        } else {
          b[p] = v >>> 24;
          b[p + 1] = v >>> 16;
          b[p + 2] = v >>> 8;
          b[p + 3] = v;
        }
      } else if (size === 2) {
        if (little[i]) {
          b[p] = v;
          b[p + 1] = v >>> 8;
        } else {
          b[p] = v >>> 8;
          b[p + 1] = v;
        }
      } else b[p] = v;
      p += size;
    }
    return b;
  };
}

export function loopUnpack(fields: FixedField[]): UnpackFn {
  const total = fields.reduce((n, f) => n + f.size, 0);
  return (d, start, end) => {
    if (end - start < total) return undefined;
    const out = new Array(fields.length);
    let p = start;
    for (let i = 0; i < fields.length; i++) {
      const k = fields[i];
      let v: number;
      if (k.size === 4) {
        v = k.little
          ? d[p] | (d[p + 1] << 8) | (d[p + 2] << 16) | (d[p + 3] << 24)
          : (d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3];
        if (!k.signed) v >>>= 0;
      } else if (k.size === 2) {
        v = k.little ? d[p] | (d[p + 1] << 8) : (d[p] << 8) | d[p + 1];
        if (k.signed) v = (v << 16) >> 16;
      } else {
        v = d[p];
        if (k.signed && v >= 128) v -= 256;
      }
      out[i] = v;
      p += k.size;
    }
    return out;
  };
}

export function fixedPack(syms: Sym[], general: PackFn): PackFn | undefined {
  const fields = fixedFields(syms, 'pack');
  if (!fields) return undefined;
  return generatedPack(fields, general) ?? loopPack(fields, general);
}

export function fixedUnpack(syms: Sym[]): UnpackFn | undefined {
  const fields = fixedFields(syms, 'unpack');
  if (!fields) return undefined;
  return generatedUnpack(fields) ?? loopUnpack(fields);
}

/** For tests: both implementations of a layout, so they can be checked against each other. */
export function fixedImplementations(syms: Sym[], general: PackFn) {
  const packFields = fixedFields(syms, 'pack');
  const unpackFields = fixedFields(syms, 'unpack');
  return {
    generatedPack: packFields && generatedPack(packFields, general),
    loopPack: packFields && loopPack(packFields, general),
    generatedUnpack: unpackFields && generatedUnpack(unpackFields),
    loopUnpack: unpackFields && loopUnpack(unpackFields),
  };
}
