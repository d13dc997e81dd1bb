import { bufferView } from './fast-buffer.js';
import { fixedPack, fixedUnpack } from './fixed-layout.js';
import { limits } from './limits.js';
import { PackError, PackErrorCode } from './pack-error.js';
import { endPack, finishPack, newPackState, type PackState } from './pack-writer.js';
import { compileSequence as compilePack } from './packer.js';
import { parseTemplate } from './template.js';
import { tuplePack, tupleUnpack } from './tuple-layout.js';
import { compileSequence as compileUnpack, type UnpackOptions, type UnpackState } from './unpacker.js';
import { newCharWalk, upgradeBytes } from './utf8.js';

export type { UnpackOptions } from './unpacker.js';

/** A template compiled once into closures; `pack` and `unpack` reuse it for every call. */
export interface CompiledTemplate {
  readonly template: string;
  /** Packs `values` with the template, as `pack(template, ...values)`. */
  pack(...values: unknown[]): Buffer;
  /** Unpacks `data` with the template, as `unpack(template, data, options)`. */
  unpack(data: Uint8Array, options?: UnpackOptions): unknown[];
  /**
   * `unpack(data.subarray(start, end), options)` without making the view: for a reader holding a
   * range of a larger buffer, such as a reply body inside a socket read.
   */
  unpackRange(data: Uint8Array, start: number, end: number, options?: UnpackOptions): unknown[];
}

/** Perl's pp_pack.c need_utf8(): unpack works on the upgraded data when the template asks for it. */
function needUtf8(t: string): boolean {
  let first = true;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (c === '#') {
      const nl = t.indexOf('\n', i + 1);
      if (nl < 0) return false;
      i = nl;
    } else if (c === 'U') {
      if (first || t[i + 1] === '0') return true;
    } else first = false;
  }
  return false;
}

/** Perl's first_symbol(): the first character that is not in a leading comment. */
function firstSymbol(t: string): string {
  let i = 0;
  while (i < t.length) {
    if (t[i] !== '#') return t[i];
    const nl = t.indexOf('\n', i + 1);
    if (nl < 0) return '';
    i = nl + 1;
  }
  return '';
}

function withTemplate(error: unknown, template: string): never {
  if (error instanceof PackError && error.template === undefined) error.template = template;
  throw error;
}

function buildPack(template: string): (values: ArrayLike<unknown>) => Buffer {
  const syms = parseTemplate(template, 'pack');
  const run = compilePack(syms);
  const startsWithU = syms.length > 0 && syms[0].code === 'U' && !syms[0].error;
  const general = (values: ArrayLike<unknown>): Buffer => {
    const st: PackState = newPackState(values);
    try {
      if (startsWithU) st.doUtf8 = true;
      run(st);
      return finishPack(st);
    } catch (error) {
      return withTemplate(error, template);
    } finally {
      endPack(st);
    }
  };
  const fixed = fixedPack(syms, general);
  if (fixed) return fixed;
  const tuple = tuplePack(syms);
  if (tuple) return (values) => tuple(values) ?? general(values);
  return general;
}

type UnpackFunctions = Pick<CompiledTemplate, 'unpack' | 'unpackRange'>;

function buildUnpack(template: string): UnpackFunctions {
  const syms = parseTemplate(template, 'unpack');
  const run = compileUnpack(syms);
  const upgrade = needUtf8(template);
  const parseUtf8 = upgrade && firstSymbol(template) !== 'U';
  const fixed = upgrade ? undefined : fixedUnpack(syms);
  const tuple = upgrade ? undefined : tupleUnpack(syms);
  const unpack = (data: Uint8Array, options?: UnpackOptions): unknown[] => {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`unpack: data must be a Uint8Array, got ${typeof data}`);
    }
    if (fixed) {
      const out = fixed(data, 0, data.length);
      if (out) return out;
    }
    return unpackGeneral(data, options);
  };
  /** Everything but the fixed-layout fast path, which the callers have tried. */
  const unpackGeneral = (data: Uint8Array, options: UnpackOptions | undefined): unknown[] => {
    const bytes = upgrade ? upgradeBytes(data) : data;
    const d = Buffer.isBuffer(bytes) ? bytes : bufferView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (tuple) {
      const out = tuple(d, options !== undefined && options.strings === 'utf8');
      if (out) return out;
    }
    // unpack runs no user code, so one state object serves every call.
    const st = sharedUnpackState;
    st.d = d;
    st.s = 0;
    st.end = d.length;
    const out: unknown[] = [];
    st.out = out;
    st.utf8 = parseUtf8;
    st.doUtf8 = upgrade;
    st.level = 0;
    st.starts[0] = 0;
    st.checksum = 0;
    st.groupSlash = false;
    st.int64Number = options !== undefined && options.int64 === 'number';
    st.utf8Strings = options !== undefined && options.strings === 'utf8';
    st.work = 0;
    st.budget = limits.freeWork + limits.workPerByte * d.length;
    st.walk0.at = -1;
    st.walkN.at = -1;
    try {
      run(st);
    } catch (error) {
      withTemplate(error, template);
    } finally {
      st.d = EMPTY;
      st.out = [];
    }
    return out;
  };
  const unpackRange = (data: Uint8Array, start: number, end: number, options?: UnpackOptions): unknown[] => {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`unpackRange: data must be a Uint8Array, got ${typeof data}`);
    }
    if (
      !(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= data.length)
    ) {
      throw new RangeError(
        `unpackRange: need 0 <= start <= end <= ${data.length} (the data's length), got ${start} and ${end}`,
      );
    }
    if (fixed) {
      const out = fixed(data, start, end);
      if (out) return out;
    }
    return unpackGeneral(bufferView(data.buffer, data.byteOffset + start, end - start), options);
  };
  return { unpack, unpackRange };
}

const EMPTY = Buffer.alloc(0);

const sharedUnpackState: UnpackState = {
  d: EMPTY,
  s: 0,
  end: 0,
  out: [],
  utf8: false,
  doUtf8: false,
  starts: [0],
  level: 0,
  checksum: 0,
  groupSlash: false,
  cuv: 0n,
  cdouble: 0,
  int64Number: false,
  utf8Strings: false,
  work: 0,
  budget: 0,
  walk0: newCharWalk(),
  walkN: newCharWalk(),
};

type Compiled = CompiledTemplate & { packArray(values: ArrayLike<unknown>): Buffer };

/** Parses the template for both directions and closes over the result; plain closures, no `this`. */
function build(template: string): Compiled {
  const packArray = buildPack(template);
  const { unpack, unpackRange } = buildUnpack(template);
  return Object.freeze({
    template,
    pack: (...values: unknown[]): Buffer => packArray(values),
    /** Packs an array of values (no spread: the fast path for long lists). */
    packArray,
    unpack,
    unpackRange,
  });
}

/**
 * Compiled templates by their text, oldest first. Bounded by count and by the characters of template
 * text held (a compiled template costs a few hundred bytes per character), so templates built from
 * data cannot grow memory without end, however long they are.
 */
const cache = new Map<string, Compiled>();
let cachedChars = 0;

/** For tests: what the cache holds. */
export function cacheStats(): { templates: number; chars: number } {
  return { templates: cache.size, chars: cachedChars };
}

/**
 * Compiles `template` once and caches it by its text: the same template string gives the same object.
 * Template errors are reported when a part of the template is first used, as Perl does.
 */
export function compile(template: string): CompiledTemplate & {
  /** Packs an array of values (no spread: the fast path for long lists). */
  packArray(values: ArrayLike<unknown>): Buffer;
} {
  if (typeof template !== 'string') throw new TypeError('compile: template must be a string');
  const c = cache.get(template);
  if (c !== undefined) return c;
  if (template.length > limits.maxTemplateLength) {
    // Parsing and compiling cost time and memory in proportion to the template: refuse before either.
    throw new PackError(
      PackErrorCode.LIMIT,
      `Template of ${template.length} characters is longer than the limit of ${limits.maxTemplateLength} (PackLimits.maxTemplateLength)`,
    );
  }
  const built = build(template);
  if (template.length <= limits.cacheChars && limits.cacheTemplates > 0) {
    while (
      cache.size > 0 &&
      (cache.size >= limits.cacheTemplates || cachedChars + template.length > limits.cacheChars)
    ) {
      const oldest = cache.keys().next().value as string;
      cache.delete(oldest);
      cachedChars -= oldest.length;
    }
    cache.set(template, built);
    cachedChars += template.length;
  }
  return built;
}

/** Packs `values` by `template`, exactly as Perl 5.36's `pack` does. */
export function pack(template: string, ...values: unknown[]): Buffer {
  return compile(template).packArray(values);
}

/** Unpacks `data` by `template`, exactly as Perl 5.36's `unpack` does (in list context). */
export function unpack(template: string, data: Uint8Array, options?: UnpackOptions): unknown[] {
  return compile(template).unpack(data, options);
}
