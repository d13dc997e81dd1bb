import { allocResult, bufferView } from './fast-buffer.js';
import { limits } from './limits.js';
import { isLittle } from './packer.js';
import { Howlen, isBerFieldGroup, type Sym, symSize } from './template.js';

/**
 * The fast path for the shape of iproto bodies: 16/32-bit integers, `w/a*` fields and a final
 * `(w/a*)*` field list (`L w/a* L(w/a*)*`, `LLL (w/a*)*`). Packing measures first and writes into an
 * exact buffer; unpacking reads straight from the data. Anything else (another value type, short or
 * odd data) returns undefined and the general engine answers, so results stay Perl's.
 */

export type Item =
  | { kind: 'int'; size: number; little: boolean; signed: boolean }
  | { kind: 'field' }
  | { kind: 'fields' };

type PackFn = (values: ArrayLike<unknown>) => Buffer | undefined;
type UnpackFn = (d: Buffer, text: boolean) => unknown[] | undefined;

const INT_LETTERS = 'sSlLnNvViI';
/**
 * A layout of more items than this is left to the general engine: the generated code grows with the
 * items it spells out, and neither a count nor a long template may choose its size.
 */
const MAX_ITEMS = 64;

function isBerPair(sym: Sym, target: Sym | undefined): boolean {
  return (
    sym.code === 'w' &&
    sym.slash &&
    !sym.shriek &&
    sym.howlen === Howlen.None &&
    target !== undefined &&
    !target.error &&
    target.code === 'a' &&
    target.howlen === Howlen.Star &&
    !target.slash
  );
}

export function layoutOf(syms: Sym[]): Item[] | undefined {
  const items: Item[] = [];
  let fields = false;
  for (let i = 0; i < syms.length; i++) {
    const sym = syms[i];
    if (sym.error) return undefined;
    if (sym.code === '(') {
      if (!isBerFieldGroup(sym) || sym.howlen !== Howlen.Star || sym.slash || i !== syms.length - 1)
        return undefined;
      items.push({ kind: 'fields' });
      fields = true;
    } else if (isBerPair(sym, syms[i + 1])) {
      items.push({ kind: 'field' });
      fields = true;
      i++;
    } else if (INT_LETTERS.includes(sym.code) && !sym.slash && sym.howlen !== Howlen.Star) {
      const size = symSize(sym.code, sym.shriek);
      if (size !== 2 && size !== 4) return undefined;
      if ((sym.code === 'n' || sym.code === 'N' || sym.code === 'v' || sym.code === 'V') && sym.shriek)
        return undefined;
      const signed = sym.code === 's' || sym.code === 'l' || sym.code === 'i';
      if (items.length + sym.length > MAX_ITEMS) return undefined;
      for (let k = 0; k < sym.length; k++) items.push({ kind: 'int', size, little: isLittle(sym), signed });
    } else return undefined;
    if (items.length > MAX_ITEMS) return undefined;
  }
  return fields ? items : undefined;
}

const berLength = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

function fieldSize(v: unknown): number {
  if (v instanceof Uint8Array) return berLength(v.length) + v.length;
  if (typeof v === 'string') {
    const n = Buffer.byteLength(v, 'utf8');
    return berLength(n) + n;
  }
  return -1;
}

function writeField(b: Buffer, at: number, v: Uint8Array | string): number {
  const n = typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
  if (n < 0x80) b[at++] = n;
  else if (n < 0x4000) {
    b[at] = 0x80 | (n >>> 7);
    b[at + 1] = n & 0x7f;
    at += 2;
  } else {
    const k = berLength(n);
    for (let i = k - 1; i >= 0; i--)
      b[at + i] = ((n / 2 ** (7 * (k - 1 - i))) & 0x7f) | (i === k - 1 ? 0 : 0x80);
    at += k;
  }
  if (typeof v === 'string') return at + b.write(v, at, 'utf8');
  if (n <= 32) {
    for (let i = 0; i < n; i++) b[at + i] = v[i];
  } else b.set(v, at);
  return at + n;
}

/** The layout interpreted item by item: the fallback where code generation is disabled. */
export function loopPack(items: Item[]): PackFn {
  const n = items.length;
  return (values) => {
    let size = 0;
    let vi = 0;
    for (let i = 0; i < n; i++) {
      const item = items[i];
      if (item.kind === 'int') {
        const v = values[vi++];
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) return undefined;
        size += item.size;
      } else if (item.kind === 'field') {
        if (vi >= values.length) return undefined;
        const s = fieldSize(values[vi++]);
        if (s < 0) return undefined;
        size += s;
      } else {
        for (; vi < values.length; vi++) {
          const s = fieldSize(values[vi]);
          if (s < 0) return undefined;
          size += s;
        }
      }
    }
    // Over the cap: the general engine refuses it (before taking the memory).
    if (vi > values.length || size > limits.maxOutput) return undefined;
    const b = allocResult(size);
    let at = 0;
    vi = 0;
    for (let i = 0; i < n; i++) {
      const item = items[i];
      if (item.kind === 'int') {
        const v = values[vi++] as number;
        if (item.size === 4) {
          if (item.little) {
            b[at] = v;
            b[at + 1] = v >>> 8;
            b[at + 2] = v >>> 16;
            b[at + 3] = v >>> 24;
          } else {
            b[at] = v >>> 24;
            b[at + 1] = v >>> 16;
            b[at + 2] = v >>> 8;
            b[at + 3] = v;
          }
        } else if (item.little) {
          b[at] = v;
          b[at + 1] = v >>> 8;
        } else {
          b[at] = v >>> 8;
          b[at + 1] = v;
        }
        at += item.size;
      } else if (item.kind === 'field') at = writeField(b, at, values[vi++] as Uint8Array | string);
      else for (; vi < values.length; vi++) at = writeField(b, at, values[vi] as Uint8Array | string);
    }
    return b;
  };
}

export function loopUnpack(items: Item[]): UnpackFn {
  const n = items.length;
  return (d, text) => {
    const end = d.length;
    const ab = d.buffer;
    const base = d.byteOffset;
    const out: unknown[] = [];
    let p = 0;
    for (let i = 0; i < n; i++) {
      const item = items[i];
      if (item.kind === 'int') {
        if (p + item.size > end) return undefined;
        let v: number;
        if (item.size === 4) {
          v = item.little
            ? d[p] | (d[p + 1] << 8) | (d[p + 2] << 16) | (d[p + 3] << 24)
            : (d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3];
          if (!item.signed) v >>>= 0;
        } else {
          v = item.little ? d[p] | (d[p + 1] << 8) : (d[p] << 8) | d[p + 1];
          if (item.signed) v = (v << 16) >> 16;
        }
        out.push(v);
        p += item.size;
        continue;
      }
      // A field list at the end of the data, like a field there, trips Perl's `/` quirks: general path.
      if (p >= end) return undefined;
      do {
        let v = 0;
        let c = 0x80;
        for (let k = 0; k < 7 && p < end; k++) {
          c = d[p++];
          v = v * 128 + (c & 0x7f);
          if (c < 0x80) break;
        }
        if (c >= 0x80) return undefined;
        const to = v < end - p ? p + v : end;
        out.push(text ? d.toString('utf8', p, to) : bufferView(ab, base + p, to - p));
        p = to;
      } while (item.kind === 'fields' && p < end);
    }
    return out;
  };
}

/*
 * The same layouts as straight-line generated code, built once per template. As in fixed-layout.ts,
 * only numbers we computed (value indexes, sizes, byte shifts) go into the source, never template
 * text; the helpers above are passed in as arguments.
 */

function intStores(item: Item & { kind: 'int' }, v: string): string[] {
  const shifts = item.size === 4 ? [0, 8, 16, 24] : [0, 8];
  if (!item.little) shifts.reverse();
  return [...shifts.map((sh, k) => `b[at + ${k}] = ${sh ? `${v} >>> ${sh}` : v};`), `at += ${item.size};`];
}

function intRead(item: Item & { kind: 'int' }): string {
  const byte = (k: number) => `d[p + ${item.little ? k : item.size - 1 - k}]`;
  if (item.size === 4) {
    const e = `(${byte(0)} | (${byte(1)} << 8) | (${byte(2)} << 16) | (${byte(3)} << 24))`;
    return item.signed ? e : `(${e} >>> 0)`;
  }
  const e = `(${byte(0)} | (${byte(1)} << 8))`;
  return item.signed ? `((${e} << 16) >> 16)` : e;
}

function generatedPack(items: Item[]): PackFn | undefined {
  const check: string[] = [];
  const write: string[] = [];
  let fixedBytes = 0;
  let vi = 0;
  for (const item of items) {
    if (item.kind === 'int') {
      const a = `a${vi}`;
      check.push(`const ${a} = v[${vi++}];`, `if (!Number.isSafeInteger(${a})) return undefined;`);
      fixedBytes += item.size;
      write.push(...intStores(item, a));
    } else if (item.kind === 'field') {
      const a = `a${vi}`;
      check.push(
        `const ${a} = v[${vi++}];`,
        `s = fieldSize(${a});`,
        'if (s < 0) return undefined;',
        'size += s;',
      );
      write.push(`at = writeField(b, at, ${a});`);
    } else {
      check.push(
        `for (let i = ${vi}; i < n; i++) {`,
        '  s = fieldSize(v[i]);',
        '  if (s < 0) return undefined;',
        '  size += s;',
        '}',
      );
      write.push(`for (let i = ${vi}; i < n; i++) at = writeField(b, at, v[i]);`);
    }
  }
  const source = [
    '"use strict";',
    'return function packTuple(v) {',
    '  const n = v.length;',
    `  if (n < ${vi}) return undefined;`,
    `  let size = ${fixedBytes};`,
    '  let s = 0;',
    ...check.map((l) => `  ${l}`),
    // Over the cap: the general engine refuses it (before taking the memory).
    '  if (size > limits.maxOutput) return undefined;',
    '  const b = alloc(size);',
    '  let at = 0;',
    ...write.map((l) => `  ${l}`),
    '  return b;',
    '};',
  ].join('\n');
  try {
    return new Function('fieldSize', 'writeField', 'alloc', 'limits', source)(
      fieldSize,
      writeField,
      allocResult,
      limits,
    ) as PackFn;
  } catch {
    return undefined;
  }
}

/** Reads one BER length and the bytes it counts (clipped to the data, as Perl's `a` is). */
const READ_FIELD = [
  'v = 0;',
  'c = 0x80;',
  'for (k = 0; k < 7 && p < end; k++) {',
  '  c = d[p++];',
  '  v = v * 128 + (c & 0x7f);',
  '  if (c < 0x80) break;',
  '}',
  'if (c >= 0x80) return undefined;',
  'to = v < end - p ? p + v : end;',
  // Text is decoded straight from the data: no view object in between.
  "out.push(text ? d.toString('utf8', p, to) : view(ab, base + p, to - p));",
  'p = to;',
];

function generatedUnpack(items: Item[]): UnpackFn | undefined {
  const body: string[] = [];
  for (const item of items) {
    if (item.kind === 'int') {
      body.push(
        `if (p + ${item.size} > end) return undefined;`,
        `out.push(${intRead(item)});`,
        `p += ${item.size};`,
      );
    } else {
      // A field or field list at the end of the data trips Perl's `/` quirks: the general path answers.
      body.push('if (p >= end) return undefined;');
      if (item.kind === 'field') body.push(...READ_FIELD);
      else body.push('do {', ...READ_FIELD.map((l) => `  ${l}`), '} while (p < end);');
    }
  }
  const source = [
    '"use strict";',
    'return function unpackTuple(d, text) {',
    '  const end = d.length;',
    '  const ab = d.buffer;',
    '  const base = d.byteOffset;',
    '  const out = [];',
    '  let p = 0;',
    '  let v = 0;',
    '  let c = 0;',
    '  let k = 0;',
    '  let to = 0;',
    ...body.map((l) => `  ${l}`),
    '  return out;',
    '};',
  ].join('\n');
  try {
    return new Function('view', source)(bufferView) as UnpackFn;
  } catch {
    return undefined;
  }
}

export function tuplePack(syms: Sym[]): PackFn | undefined {
  const items = layoutOf(syms);
  if (!items) return undefined;
  return generatedPack(items) ?? loopPack(items);
}

export function tupleUnpack(syms: Sym[]): UnpackFn | undefined {
  const items = layoutOf(syms);
  if (!items) return undefined;
  return generatedUnpack(items) ?? loopUnpack(items);
}

/** For tests: both implementations of a layout, so they can be checked against each other. */
export function tupleImplementations(syms: Sym[]) {
  const items = layoutOf(syms);
  return {
    generatedPack: items && generatedPack(items),
    loopPack: items && loopPack(items),
    generatedUnpack: items && generatedUnpack(items),
    loopUnpack: items && loopUnpack(items),
  };
}
