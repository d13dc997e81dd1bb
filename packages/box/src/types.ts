// Type-level reading of space declarations: a space given with a literal `format` and `fields`
// (a `const` type parameter of Box, or `as const`) gives typed tuples, keys and update operations.
// A space whose format is only known as `string` falls back to loose types.

import type { FieldLetter } from './format.js';

/** One index of a space (MR::Tarantool::Box's `indexes` entry). */
export interface IndexSpec {
  /** The index name (Perl's `index_name`). */
  readonly name: string;
  /** Indexed fields in key order, by field name or number. */
  readonly keys: readonly (string | number)[];
  /** The index id on the server; its position in `indexes` by default. */
  readonly id?: number;
}

/** One space (MR::Tarantool::Box's `spaces` entry). */
export interface SpaceSpec {
  /** The space id on the server. */
  readonly space: number;
  /** A name to call the space by. */
  readonly name?: string;
  /**
   * One letter per field: `Q q` 64-bit, `L l` 32-bit, `S s` 16-bit, `C c` 8-bit integers (upper case
   * unsigned), `&` bytes, `$` UTF-8 text; a trailing `*` repeats the last letter (or a final
   * `(group)*`) over the rest of a long tuple.
   */
  readonly format: string;
  /** Field names: tuples come back as objects. With a long format the last name holds the tail. */
  readonly fields?: readonly string[];
  /** Names of the fields of a long tuple's repeated group: the tail becomes an array of objects. */
  readonly longFields?: readonly string[];
  readonly indexes: readonly IndexSpec[];
  /** The index `select` uses (name or id); the first by default. */
  readonly defaultIndex?: string | number;
  /** The index whose key format `update` and `delete` pack their key with; `defaultIndex` by default. */
  readonly primaryKeyIndex?: string | number;
}

type Whitespace = ' ' | '\t' | '\n' | '\r';

type Letters<S extends string> = S extends `${infer H}${infer T}`
  ? H extends FieldLetter
    ? [H, ...Letters<T>]
    : H extends Whitespace
      ? Letters<T>
      : never
  : [];

type Trim<S extends string> = S extends `${infer H}${infer T}`
  ? H extends Whitespace
    ? Trim<T>
    : `${H}${Trim<T>}`
  : S;

/** A format split into its fixed letters and the letters of its repeated tail. */
export type ParseFormat<F extends string> =
  Trim<F> extends `${infer Fixed}(${infer Group})*`
    ? { fixed: Letters<Fixed>; long: Letters<Group> }
    : Trim<F> extends `${infer Body}*`
      ? Letters<Body> extends [...infer Fixed extends FieldLetter[], infer Last extends FieldLetter]
        ? { fixed: Fixed; long: [Last] }
        : never
      : { fixed: Letters<F>; long: [] };

/** What a field of this letter decodes to. */
export type FieldOutput<L> = L extends 'Q' | 'q'
  ? bigint
  : L extends '&'
    ? Buffer
    : L extends '$'
      ? string
      : L extends FieldLetter
        ? number
        : unknown;

/** What a field of this letter accepts. */
export type FieldInput<L> = L extends 'Q' | 'q'
  ? bigint | number | string
  : L extends '&'
    ? Uint8Array | string
    : L extends '$'
      ? string
      : L extends FieldLetter
        ? number
        : unknown;

type Dir = 'in' | 'out';
type Conv<L, D extends Dir> = D extends 'in' ? FieldInput<L> : FieldOutput<L>;
type MapLetters<T extends readonly unknown[], D extends Dir> = { -readonly [K in keyof T]: Conv<T[K], D> };

type IsLiteral<S> = S extends string ? (string extends S ? false : true) : false;

type FormatOf<S extends SpaceSpec> = IsLiteral<S['format']> extends true ? ParseFormat<S['format']> : never;

/** A tuple as an array: fixed fields, then the long tail flattened. */
export type ArrayTuple<S extends SpaceSpec, D extends Dir = 'out'> = [FormatOf<S>] extends [never]
  ? unknown[]
  : FormatOf<S> extends { fixed: infer F extends FieldLetter[]; long: infer G extends FieldLetter[] }
    ? G extends []
      ? MapLetters<F, D>
      : [...MapLetters<F, D>, ...Conv<G[number], D>[]]
    : unknown[];

type LongElement<
  S extends SpaceSpec,
  G extends FieldLetter[],
  D extends Dir,
> = S['longFields'] extends readonly string[]
  ? {
      -readonly [I in keyof S['longFields'] as I extends `${number}`
        ? S['longFields'][I] & string
        : never]: Conv<G[I & keyof G], D>;
    }
  : Conv<G[number], D>;

/** A tuple as an object by field names; the last name of a long format holds the tail as an array. */
export type ObjectTuple<S extends SpaceSpec, D extends Dir = 'out'> = [FormatOf<S>] extends [never]
  ? Record<string, unknown>
  : S['fields'] extends readonly string[]
    ? FormatOf<S> extends { fixed: infer F extends FieldLetter[]; long: infer G extends FieldLetter[] }
      ? {
          -readonly [I in keyof S['fields'] as I extends `${number}`
            ? S['fields'][I] & string
            : never]: I extends keyof F ? Conv<F[I], D> : LongElement<S, G, D>[];
        }
      : Record<string, unknown>
    : Record<string, unknown>;

/** A tuple as select returns it: an object when the space names its fields, an array otherwise. */
export type Tuple<S extends SpaceSpec> = S['fields'] extends readonly string[]
  ? ObjectTuple<S>
  : ArrayTuple<S>;

/** A tuple as insert takes it: an array, or an object by field names. */
export type TupleInput<S extends SpaceSpec> =
  | ArrayTuple<S, 'in'>
  | (S['fields'] extends readonly string[] ? ObjectTuple<S, 'in'> : never);

/** The names a space answers to. */
export type SpaceRef<Spaces extends readonly SpaceSpec[]> =
  | Spaces[number]['space']
  | NonNullable<Spaces[number]['name']>;

/** The declaration of the space called `R`. */
export type SpaceOf<Spaces extends readonly SpaceSpec[], R> = [
  Extract<Spaces[number], { readonly name: R } | { readonly space: R }>,
] extends [never]
  ? SpaceSpec
  : Extract<Spaces[number], { readonly name: R } | { readonly space: R }>;

type PositionOf<Names extends readonly unknown[], K, Seen extends unknown[] = []> = Names extends readonly [
  infer H,
  ...infer T,
]
  ? H extends K
    ? Seen['length']
    : PositionOf<T, K, [...Seen, H]>
  : never;

type FieldIndex<S extends SpaceSpec, K> = K extends number
  ? K
  : S['fields'] extends readonly string[]
    ? PositionOf<S['fields'], K>
    : never;

type LetterOfField<S extends SpaceSpec, K> =
  FormatOf<S> extends { fixed: infer F extends FieldLetter[] } ? F[FieldIndex<S, K> & keyof F] : never;

/** The index called `I` (by name or id), or the space's default index. */
type IndexNamed<S extends SpaceSpec, I> = I extends number
  ? S['indexes'][I & keyof S['indexes']]
  : Extract<S['indexes'][number], { readonly name: I }>;

type DefaultIndexOf<S extends SpaceSpec> = S['defaultIndex'] extends string | number
  ? IndexNamed<S, S['defaultIndex']>
  : S['indexes'][0];

type KeyParts<S extends SpaceSpec, Keys extends readonly unknown[]> = {
  -readonly [K in keyof Keys]: [LetterOfField<S, Keys[K]>] extends [never]
    ? unknown
    : FieldInput<LetterOfField<S, Keys[K]>>;
};

type Prefixes<T extends unknown[]> = T extends [...infer Head, unknown]
  ? T | (Head extends [] ? never : Prefixes<Head>)
  : T;

/** One key of an index: a value for a one-field index; all or a leading part of the fields otherwise. */
export type IndexKey<S extends SpaceSpec, Ix> = [FormatOf<S>] extends [never]
  ? unknown
  : Ix extends { readonly keys: infer Keys extends readonly unknown[] }
    ? Keys extends readonly [unknown]
      ? KeyParts<S, Keys>[0] | KeyParts<S, Keys>
      : Prefixes<KeyParts<S, Keys>>
    : unknown;

/** A key of the space's index `I` (its default index when `I` is not given). */
export type KeyOf<S extends SpaceSpec, I = undefined> = IndexKey<
  S,
  I extends undefined ? DefaultIndexOf<S> : IndexNamed<S, I>
>;

/** The key update and delete take: of the primary-key index. */
export type PrimaryKeyOf<S extends SpaceSpec> = IndexKey<
  S,
  S['primaryKeyIndex'] extends string | number ? IndexNamed<S, S['primaryKeyIndex']> : DefaultIndexOf<S>
>;

/** Index names and ids of a space. */
export type IndexRef<S extends SpaceSpec> = S['indexes'][number]['name'] | number;

/** Update operations on integer fields. `num_sub`, `bit_set`, `bit_clear` are MR::Tarantool::Box's helpers. */
export type NumericOp = 'add' | 'and' | 'xor' | 'or' | 'num_add' | 'num_sub' | 'bit_set' | 'bit_clear';
/** Update operations on string fields, splice and its MR::Tarantool::Box shorthands. */
export type StringOp = 'splice' | 'substr' | 'append' | 'prepend' | 'cutbeg' | 'cutend';

/** One operation on a field given by name or number: `[field, op, ...arguments]`. */
export type FieldOp<F, L> =
  | readonly [F, 'set' | 'insert', FieldInput<L>]
  | readonly [F, 'delete']
  | (L extends '&' | '$'
      ?
          | readonly [F, 'splice' | 'substr', number | undefined, number?, (string | Uint8Array)?]
          | readonly [F, 'append' | 'prepend', string | Uint8Array]
          | readonly [F, 'cutbeg' | 'cutend', number]
      : readonly [F, NumericOp, number | bigint]);

type LooseOp = readonly [number | string | readonly [number, number | string], string, ...unknown[]];

type FieldOps<S extends SpaceSpec, Names extends readonly unknown[]> = Names extends readonly [
  infer H,
  ...infer T,
]
  ? FieldOp<H, LetterOfField<S, H>> | FieldOps<S, T>
  : never;

/** An update operation of a space: typed by field when the space's format and fields are literal. */
export type UpdateOp<S extends SpaceSpec> = [FormatOf<S>] extends [never]
  ? LooseOp
  : S['fields'] extends readonly string[]
    ? FieldOps<S, S['fields']> | readonly [number | readonly [number, number | string], string, ...unknown[]]
    : LooseOp;
