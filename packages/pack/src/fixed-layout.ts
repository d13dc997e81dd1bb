import { allocResult } from './fast-buffer.js';
import { limits } from './limits.js';
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

/** A run of one integer letter: `L3` is one run of three 4-byte fields. */
export interface FixedField {
  code: string;
  size: 1 | 2 | 4;
  little: boolean;
  /** Unpacks as a signed number. */
  signed: boolean;
  /** How many fields of this kind follow one another. */
  count: number;
}

type PackFn = (values: ArrayLike<unknown>) => Buffer;
/** Unpacks `data[start..end)`; the caller has checked the range. */
type UnpackFn = (data: Uint8Array, start: number, end: number) => unknown[] | undefined;

const FIXED = 'cCsSlLnNvViI';
/**
 * Layouts of at most this many fields become straight-line code; longer ones (`C3000000`) run as a
 * loop over their runs. Generated code grows with the fields it spells out, so a count written in a
 * template must never choose its size.
 */
export const MAX_GENERATED_FIELDS = 64;

/** The runs of a fixed layout, one per symbol: built in time and memory of the template, not its counts. */
export function fixedFields(syms: Sym[], direction: 'pack' | 'unpack'): FixedField[] | undefined {
  const fields: FixedField[] = [];
  for (const sym of syms) {
    if (sym.error || sym.slash || sym.howlen === Howlen.Star || !FIXED.includes(sym.code)) return undefined;
    // `n! N! v! V!` unpack signed: left to the general engine.
    if (direction === 'unpack' && sym.shriek && 'nNvV'.includes(sym.code)) return undefined;
    const size = symSize(sym.code, sym.shriek);
    if (size !== 1 && size !== 2 && size !== 4) return undefined;
    const signed = sym.code === 'c' || sym.code === 's' || sym.code === 'i' || sym.code === 'l';
    if (sym.length > 0)
      fields.push({ code: sym.code, size, little: isLittle(sym), signed, count: sym.length });
  }
  return fields.length ? fields : undefined;
}

/** How many fields the runs hold, and their bytes. */
function totals(runs: FixedField[]): { n: number; bytes: number } {
  let n = 0;
  let bytes = 0;
  for (const f of runs) {
    n += f.count;
    bytes += f.count * f.size;
  }
  return { n, bytes };
}

/** One entry per field, for the generated code; only called on layouts of a few fields. */
function expand(runs: FixedField[]): FixedField[] {
  const out: FixedField[] = [];
  for (const f of runs) for (let i = 0; i < f.count; i++) out.push(f);
  return out;
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

function generatedPack(runs: FixedField[], general: PackFn): PackFn | undefined {
  const fields = expand(runs);
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

function generatedUnpack(runs: FixedField[]): UnpackFn | undefined {
  const fields = expand(runs);
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

/**
 * The same work without code generation, and for layouts too long to spell out: a loop over the
 * runs, in memory of the template's symbols whatever their counts.
 */
export function loopPack(runs: FixedField[], general: PackFn): PackFn {
  const { n, bytes } = totals(runs);
  return (values) => {
    // Too few values, or a result over the cap: the general engine gives Perl's error or ours.
    if (values.length < n || bytes > limits.maxOutput) return general(values);
    let vi = 0;
    for (const f of runs) {
      const code = f.code;
      for (let k = f.count; k > 0; k--) {
        const v = values[vi++];
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) return general(values);
        if (code === 'C' ? v < 0 || v > 255 : code === 'c' && (v < -128 || v > 127)) return general(values);
      }
    }
    const b = allocResult(bytes);
    let p = 0;
    vi = 0;
    for (const f of runs) {
      const { size, little } = f;
      for (let k = f.count; k > 0; k--) {
        const v = values[vi++] as number;
        if (size === 4) {
          if (little) {
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
          if (little) {
            b[p] = v;
            b[p + 1] = v >>> 8;
          } else {
            b[p] = v >>> 8;
            b[p + 1] = v;
          }
        } else b[p] = v;
        p += size;
      }
    }
    return b;
  };
}

export function loopUnpack(runs: FixedField[]): UnpackFn {
  const { n, bytes } = totals(runs);
  return (d, start, end) => {
    // Short data (the only way a huge count gets here): the general engine clips it as Perl does.
    if (end - start < bytes) return undefined;
    const out = new Array(n);
    let p = start;
    let i = 0;
    for (const f of runs) {
      const { size, little, signed } = f;
      for (let k = f.count; k > 0; k--) {
        let v: number;
        if (size === 4) {
          v = little
            ? d[p] | (d[p + 1] << 8) | (d[p + 2] << 16) | (d[p + 3] << 24)
            : (d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3];
          if (!signed) v >>>= 0;
        } else if (size === 2) {
          v = little ? d[p] | (d[p + 1] << 8) : (d[p] << 8) | d[p + 1];
          if (signed) v = (v << 16) >> 16;
        } else {
          v = d[p];
          if (signed && v >= 128) v -= 256;
        }
        out[i++] = v;
        p += size;
      }
    }
    return out;
  };
}

/** Straight-line code for a short layout; undefined for a long one or where generation is disabled. */
function generated<T>(runs: FixedField[], make: (runs: FixedField[]) => T | undefined): T | undefined {
  return totals(runs).n <= MAX_GENERATED_FIELDS ? make(runs) : undefined;
}

export function fixedPack(syms: Sym[], general: PackFn): PackFn | undefined {
  const runs = fixedFields(syms, 'pack');
  if (!runs) return undefined;
  return generated(runs, (r) => generatedPack(r, general)) ?? loopPack(runs, general);
}

export function fixedUnpack(syms: Sym[]): UnpackFn | undefined {
  const runs = fixedFields(syms, 'unpack');
  if (!runs) return undefined;
  return generated(runs, generatedUnpack) ?? loopUnpack(runs);
}

/** For tests: both implementations of a layout, so they can be checked against each other. */
export function fixedImplementations(syms: Sym[], general: PackFn) {
  const packFields = fixedFields(syms, 'pack');
  const unpackFields = fixedFields(syms, 'unpack');
  return {
    generatedPack: packFields && generated(packFields, (r) => generatedPack(r, general)),
    loopPack: packFields && loopPack(packFields, general),
    generatedUnpack: unpackFields && generated(unpackFields, generatedUnpack),
    loopUnpack: unpackFields && loopUnpack(unpackFields),
  };
}
