import { boxError } from './box-error.js';
import { describe, writeField } from './field-codec.js';
import { type FieldLetter, isStringLetter, letterAt, type ParsedFormat, parseFormat } from './format.js';
import type { IndexSpec, SpaceSpec } from './types.js';
import type { Writer } from './writer.js';

/** An index of a space, resolved: its id, and the number and letter of each key field. */
export interface ResolvedIndex {
  readonly id: number;
  readonly name: string;
  readonly fieldNos: readonly number[];
  readonly letters: readonly FieldLetter[];
}

const NAME_RE = /^[A-Za-z]/;

/**
 * A space as MR::Tarantool::Box::new checks and keeps it: the format parsed, field names and
 * indexes resolved, and what packs tuples and keys for it.
 */
export class Space {
  readonly id: number;
  readonly name: string | undefined;
  readonly format: ParsedFormat;
  readonly fields: readonly string[] | undefined;
  readonly longFields: readonly string[] | undefined;
  readonly indexes: readonly ResolvedIndex[];
  readonly defaultIndex: ResolvedIndex;
  readonly primaryKeyIndex: ResolvedIndex;
  /** Field number by name (the fixed fields; with a long format, not the tail's own name). */
  readonly fieldNo: ReadonlyMap<string, number>;
  readonly longFieldNo: ReadonlyMap<string, number>;
  readonly #indexByName = new Map<string, ResolvedIndex>();
  readonly #indexById = new Map<number, ResolvedIndex>();

  constructor(spec: SpaceSpec, position: number) {
    if (spec === null || typeof spec !== 'object') {
      throw boxError(
        'ERR_BOX_SPEC',
        `spaces[${position}]: expected a space declaration, got ${describe(spec)}`,
      );
    }
    const { space } = spec;
    if (!Number.isInteger(space) || space < 0 || space > 0xffffffff) {
      throw boxError(
        'ERR_BOX_SPEC',
        `spaces[${position}]: space must be an unsigned 32-bit id, got ${describe(space)}`,
      );
    }
    this.id = space;
    if (spec.name !== undefined && (typeof spec.name !== 'string' || spec.name === '')) {
      throw boxError('ERR_BOX_SPEC', `space[${space}]: name must be a non-empty string`);
    }
    this.name = spec.name;
    const where = `space[${spec.name ?? space}]`;
    this.format = parseFormat(spec.format, where);
    const { fixed, long } = this.format;

    this.fields = spec.fields;
    const fieldNo = new Map<string, number>();
    if (spec.fields !== undefined) {
      if (!Array.isArray(spec.fields))
        throw boxError('ERR_BOX_SPEC', `${where}: fields must be an array of names`);
      const expected = fixed.length + (long.length > 0 ? 1 : 0);
      if (spec.fields.length !== expected) {
        throw boxError(
          'ERR_BOX_SPEC',
          `${where}: fields number must match format: ${spec.fields.length} names for ${expected} fields of '${this.format.source}'`,
        );
      }
      spec.fields.forEach((name, i) => {
        if (typeof name !== 'string' || !NAME_RE.test(name)) {
          throw boxError(
            'ERR_BOX_SPEC',
            `${where}: field names must begin with [A-Za-z]: bad name ${describe(name)}`,
          );
        }
        if (fieldNo.has(name)) throw boxError('ERR_BOX_SPEC', `${where}: field ${name} named twice`);
        if (i < fixed.length) fieldNo.set(name, i);
      });
    }
    this.fieldNo = fieldNo;

    this.longFields = spec.longFields;
    const longFieldNo = new Map<string, number>();
    if (spec.longFields !== undefined) {
      if (long.length === 0)
        throw boxError('ERR_BOX_SPEC', `${where}: longFields need a long format (ending in '*')`);
      if (!Array.isArray(spec.longFields) || spec.longFields.length !== long.length) {
        throw boxError(
          'ERR_BOX_SPEC',
          `${where}: longFields number must match the ${long.length} letters of the long format`,
        );
      }
      spec.longFields.forEach((name, i) => {
        if (typeof name !== 'string' || !NAME_RE.test(name) || longFieldNo.has(name)) {
          throw boxError('ERR_BOX_SPEC', `${where}: bad long field name ${describe(name)}`);
        }
        longFieldNo.set(name, i);
      });
    }
    this.longFieldNo = longFieldNo;

    if (!Array.isArray(spec.indexes) || spec.indexes.length === 0) {
      throw boxError('ERR_BOX_SPEC', `${where}: no indexes defined`);
    }
    this.indexes = spec.indexes.map((index, i) => this.#resolveIndex(index, i, where));
    this.defaultIndex =
      spec.defaultIndex === undefined
        ? this.indexes[0]!
        : this.#specIndex(spec.defaultIndex, where, 'defaultIndex');
    this.primaryKeyIndex =
      spec.primaryKeyIndex === undefined
        ? this.defaultIndex
        : this.#specIndex(spec.primaryKeyIndex, where, 'primaryKeyIndex');
  }

  /** `users (space 0)` or `space 0`, for messages. */
  get label(): string {
    return this.name === undefined ? `space ${this.id}` : `${this.name} (space ${this.id})`;
  }

  #resolveIndex(index: IndexSpec, position: number, where: string): ResolvedIndex {
    if (index === null || typeof index !== 'object') {
      throw boxError('ERR_BOX_SPEC', `${where}: indexes[${position}] must be an object`);
    }
    if (typeof index.name !== 'string' || index.name === '') {
      throw boxError('ERR_BOX_SPEC', `${where}: indexes[${position}] no name given`);
    }
    const id = index.id ?? position;
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
      throw boxError('ERR_BOX_SPEC', `${where}: index ${index.name}: id must be an unsigned 32-bit integer`);
    }
    if (this.#indexByName.has(index.name) || this.#indexById.has(id)) {
      throw boxError('ERR_BOX_SPEC', `${where}: index ${index.name} (${id}) already defined`);
    }
    if (!Array.isArray(index.keys) || index.keys.length === 0) {
      throw boxError('ERR_BOX_SPEC', `${where}: index ${index.name}: no keys defined`);
    }
    const fieldNos = index.keys.map((key) => {
      const n = typeof key === 'string' ? this.fieldNo.get(key) : key;
      if (n === undefined || !Number.isInteger(n) || n < 0 || n >= this.format.fixed.length) {
        throw boxError(
          'ERR_BOX_SPEC',
          `${where}: index ${index.name}: bad key ${describe(key)} (a field name or number of the ${this.format.fixed.length} fixed fields)`,
        );
      }
      return n;
    });
    const resolved: ResolvedIndex = {
      id,
      name: index.name,
      fieldNos,
      letters: fieldNos.map((n) => this.format.fixed[n]!),
    };
    this.#indexByName.set(index.name, resolved);
    this.#indexById.set(id, resolved);
    return resolved;
  }

  #specIndex(ref: string | number, where: string, option: string): ResolvedIndex {
    const index = this.#lookupIndex(ref);
    if (!index) throw boxError('ERR_BOX_SPEC', `${where}: ${option} ${describe(ref)} does not exist`);
    return index;
  }

  #lookupIndex(ref: string | number): ResolvedIndex | undefined {
    // MR::Tarantool::Box's index_names hold both names and positions; here a number is the id.
    return typeof ref === 'number' ? this.#indexById.get(ref) : this.#indexByName.get(ref);
  }

  /** The index a call names (by name or id), or `fallback`. */
  index(ref: string | number | undefined, fallback: ResolvedIndex): ResolvedIndex {
    if (ref === undefined) return fallback;
    const index = this.#lookupIndex(ref);
    if (!index) throw boxError('ERR_BOX_ARGUMENT', `${this.label}: bad index ${describe(ref)}`);
    return index;
  }

  /** The letter of field `n`, or undefined past a fixed format. */
  letter(n: number): FieldLetter | undefined {
    return letterAt(this.format, n);
  }

  /**
   * Writes `L cardinality, (w/a*)*` for a tuple given as an array or as an object by field names
   * (MR::Tarantool::Box::Insert packs each field with its letter, then the tuple as `L (w/a*)*`).
   */
  writeTuple(w: Writer, tuple: unknown): void {
    const values = Array.isArray(tuple) ? tuple : this.#fromObject(tuple);
    const { fixed, long } = this.format;
    const n = values.length;
    if (long.length === 0 ? n !== fixed.length : n < fixed.length || (n - fixed.length) % long.length !== 0) {
      throw boxError(
        'ERR_BOX_ARGUMENT',
        `${this.label}: wrong fields number in tuple: ${n} for format '${this.format.source}'`,
      );
    }
    w.u32(n);
    for (let i = 0; i < n; i++) {
      const letter = i < fixed.length ? fixed[i]! : long[(i - fixed.length) % long.length]!;
      writeField(w, letter, values[i], `${this.label}: field ${this.#fieldLabel(i)}`);
    }
  }

  #fieldLabel(n: number): string {
    const name = this.fields?.[n];
    return name !== undefined && n < this.format.fixed.length ? `${n} (${name})` : String(n);
  }

  /** The values of a tuple given as an object, in field order; the tail of a long tuple flattened. */
  #fromObject(tuple: unknown): unknown[] {
    if (tuple === null || typeof tuple !== 'object' || tuple instanceof Uint8Array) {
      throw boxError(
        'ERR_BOX_ARGUMENT',
        `${this.label}: a tuple is an array or an object, got ${describe(tuple)}`,
      );
    }
    const { fields } = this;
    if (fields === undefined) {
      throw boxError(
        'ERR_BOX_ARGUMENT',
        `${this.label}: a tuple given as an object needs the space's fields`,
      );
    }
    const object = tuple as Record<string, unknown>;
    const { fixed, long } = this.format;
    for (const key of Object.keys(object)) {
      if (!fields.includes(key)) throw boxError('ERR_BOX_ARGUMENT', `${this.label}: no such field ${key}`);
    }
    const values: unknown[] = [];
    for (let i = 0; i < fixed.length; i++) {
      const name = fields[i]!;
      if (!Object.hasOwn(object, name))
        throw boxError('ERR_BOX_ARGUMENT', `${this.label}: field ${name} is missing`);
      values.push(object[name]);
    }
    if (long.length > 0) {
      const tailName = fields[fixed.length]!;
      const tail = Object.hasOwn(object, tailName) ? object[tailName] : [];
      if (!Array.isArray(tail)) {
        throw boxError(
          'ERR_BOX_ARGUMENT',
          `${this.label}: field ${tailName} (the long tail) must be an array`,
        );
      }
      const { longFields } = this;
      for (const item of tail) {
        if (longFields === undefined) {
          values.push(item);
          continue;
        }
        if (item === null || typeof item !== 'object') {
          throw boxError(
            'ERR_BOX_ARGUMENT',
            `${this.label}: items of ${tailName} are objects of ${longFields.join(', ')}`,
          );
        }
        for (const name of longFields) {
          if (!Object.hasOwn(item, name))
            throw boxError('ERR_BOX_ARGUMENT', `${this.label}: ${tailName}.${name} is missing`);
          values.push((item as Record<string, unknown>)[name]);
        }
      }
    }
    return values;
  }

  /**
   * Writes one key of `index` as a tuple, as MR::Tarantool::Box::_pack_keys does: a one-field index
   * takes a value (or a one-element array), a longer one an array of its leading fields.
   */
  writeKey(w: Writer, index: ResolvedIndex, key: unknown): void {
    const { letters } = index;
    if (letters.length === 1) {
      const value = Array.isArray(key) && key.length === 1 ? key[0] : key;
      if (Array.isArray(value)) {
        throw boxError(
          'ERR_BOX_ARGUMENT',
          `${this.label}: index ${index.name} has one field: bad key ${describe(key)}`,
        );
      }
      w.u32(1);
      writeField(w, letters[0]!, value, `${this.label}: key of index ${index.name}`);
      return;
    }
    if (!Array.isArray(key) || key.length === 0 || key.length > letters.length) {
      throw boxError(
        'ERR_BOX_ARGUMENT',
        `${this.label}: index ${index.name} takes keys of 1 to ${letters.length} fields, got ${describe(key)}${
          Array.isArray(key) ? ` of ${key.length}` : ''
        }`,
      );
    }
    w.u32(key.length);
    for (let i = 0; i < key.length; i++) {
      writeField(w, letters[i]!, key[i], `${this.label}: key part ${i} of index ${index.name}`);
    }
  }

  /** Field number of an update operation's field: a name, a number, or `[i, longField]` in a long tail. */
  fieldNumber(ref: unknown): number {
    if (typeof ref === 'number') {
      if (!Number.isInteger(ref) || ref < 0 || ref > 0xffffffff) {
        throw boxError('ERR_BOX_ARGUMENT', `${this.label}: bad field number ${ref}`);
      }
      return ref;
    }
    if (typeof ref === 'string') {
      const n = this.fieldNo.get(ref);
      if (n === undefined) throw boxError('ERR_BOX_ARGUMENT', `${this.label}: no such field ${ref}`);
      return n;
    }
    const { fixed, long } = this.format;
    if (Array.isArray(ref) && ref.length === 2 && long.length > 0) {
      const [i, field] = ref as [unknown, unknown];
      const within = typeof field === 'string' ? this.longFieldNo.get(field) : field;
      if (
        !Number.isInteger(i) ||
        (i as number) < 0 ||
        typeof within !== 'number' ||
        !Number.isInteger(within) ||
        within < 0 ||
        within >= long.length
      ) {
        throw boxError(
          'ERR_BOX_ARGUMENT',
          `${this.label}: no such long field ${describe(field)} in [${describe(i)}, ${describe(field)}]`,
        );
      }
      const n = fixed.length + (i as number) * long.length + within;
      // A large group index makes a field number the request's `L` cannot carry.
      if (!Number.isSafeInteger(n) || n > 0xffffffff) {
        throw boxError(
          'ERR_BOX_ARGUMENT',
          `${this.label}: long field [${describe(i)}, ${describe(field)}] is field ${n}, beyond 4294967295`,
        );
      }
      return n;
    }
    throw boxError('ERR_BOX_ARGUMENT', `${this.label}: bad field ${describe(ref)}`);
  }

  /** Whether field `n` is declared as a string (`$`, `&`, or another string letter). */
  isStringField(n: number): boolean {
    const letter = this.letter(n);
    return letter !== undefined && isStringLetter(letter);
  }
}

/**
 * The keys of a select as a list, as MR::Tarantool::Box::Select reads its arguments: for a one-field
 * index an array is a list of keys; for a longer index an array of arrays is a list of keys and
 * an array of values is one key.
 */
export function keyList(index: ResolvedIndex, keys: unknown): readonly unknown[] {
  if (!Array.isArray(keys)) return [keys];
  if (index.fieldNos.length === 1 || keys.length === 0) return keys;
  return keys.length > 0 && Array.isArray(keys[0]) ? keys : [keys];
}
