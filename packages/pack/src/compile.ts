import { PackError } from './pack-error.js';
import { compileSequence as compilePack, finishPack, newPackState, type PackState } from './packer.js';
import { parseTemplate } from './template.js';
import { compileSequence as compileUnpack, type UnpackOptions, type UnpackState } from './unpacker.js';
import { upgradeBytes } from './utf8.js';

export type { UnpackOptions } from './unpacker.js';

/** A template compiled once into closures; `pack` and `unpack` reuse it for every call. */
export interface CompiledTemplate {
  readonly template: string;
  pack(...values: unknown[]): Buffer;
  unpack(data: Uint8Array, options?: UnpackOptions): unknown[];
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
  return (values) => {
    const st: PackState = newPackState(values);
    try {
      if (startsWithU) st.doUtf8 = true;
      run(st);
      return finishPack(st);
    } catch (error) {
      return withTemplate(error, template);
    }
  };
}

function buildUnpack(template: string): (data: Uint8Array, options?: UnpackOptions) => unknown[] {
  const syms = parseTemplate(template, 'unpack');
  const run = compileUnpack(syms);
  const upgrade = needUtf8(template);
  const parseUtf8 = upgrade && firstSymbol(template) !== 'U';
  return (data, options) => {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`unpack: data must be a Uint8Array, got ${typeof data}`);
    }
    let bytes = upgrade ? upgradeBytes(data) : data;
    const d = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    bytes = d;
    const st: UnpackState = {
      d,
      s: 0,
      end: d.length,
      out: [],
      utf8: parseUtf8,
      doUtf8: upgrade,
      starts: [0],
      level: 0,
      checksum: 0,
      groupSlash: false,
      cuv: 0n,
      cdouble: 0,
      int64Number: options?.int64 === 'number',
      utf8Strings: options?.strings === 'utf8',
    };
    try {
      run(st);
    } catch (error) {
      withTemplate(error, template);
    }
    return st.out;
  };
}

class Compiled implements CompiledTemplate {
  readonly template: string;
  #pack: ((values: ArrayLike<unknown>) => Buffer) | undefined;
  #unpack: ((data: Uint8Array, options?: UnpackOptions) => unknown[]) | undefined;

  constructor(template: string) {
    this.template = template;
    // Methods are bound so `const { pack } = compile('L3')` works.
    this.pack = this.pack.bind(this);
    this.unpack = this.unpack.bind(this);
  }

  pack(...values: unknown[]): Buffer {
    if (this.#pack === undefined) this.#pack = buildPack(this.template);
    return this.#pack(values);
  }

  /** Packs an array of values (no spread: the fast path for long lists). */
  packArray(values: ArrayLike<unknown>): Buffer {
    if (this.#pack === undefined) this.#pack = buildPack(this.template);
    return this.#pack(values);
  }

  unpack(data: Uint8Array, options?: UnpackOptions): unknown[] {
    if (this.#unpack === undefined) this.#unpack = buildUnpack(this.template);
    return this.#unpack(data, options);
  }
}

const cache = new Map<string, Compiled>();
const MAX_CACHE = 1024;

/**
 * Compiles `template` once and caches it by its text: the same template string gives the same object.
 * Template errors are reported when a part of the template is first used, as Perl does.
 */
export function compile(
  template: string,
): CompiledTemplate & { packArray(values: ArrayLike<unknown>): Buffer } {
  if (typeof template !== 'string') throw new TypeError('compile: template must be a string');
  let c = cache.get(template);
  if (c === undefined) {
    // A bounded cache: templates built from data must not grow memory without end.
    if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value as string);
    c = new Compiled(template);
    cache.set(template, c);
  }
  return c;
}

/** Packs `values` by `template`, exactly as Perl 5.36's `pack` does. */
export function pack(template: string, ...values: unknown[]): Buffer {
  return compile(template).packArray(values);
}

/** Unpacks `data` by `template`, exactly as Perl 5.36's `unpack` does (in list context). */
export function unpack(template: string, data: Uint8Array, options?: UnpackOptions): unknown[] {
  return compile(template).unpack(data, options);
}
