/**
 * Type-level reading of pack templates: what `unpack` returns for a literal template, as a tuple
 * (`'L w/a*'` -> `[number, Buffer]`), and the fields `defineMessage` names. A template the reader
 * does not follow (nested groups, an unknown letter, a count given as `[template]`) and any
 * template that is not a literal (`string`) give `unknown[]`.
 */

type Whitespace = ' ' | '\n' | '\t' | '\r' | '\f';
type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';
type ModifierChar = '<' | '>' | '!';

/** Integer and float letters: one `number` each (`c C W s S l L i I n N v V U f d F`). */
type NumberLetter =
  | 'c'
  | 'C'
  | 'W'
  | 's'
  | 'S'
  | 'l'
  | 'L'
  | 'i'
  | 'I'
  | 'n'
  | 'N'
  | 'v'
  | 'V'
  | 'U'
  | 'f'
  | 'd'
  | 'F';
/** 64-bit letters: `bigint` (the pack layer's default `int64: 'bigint'`). */
type BigLetter = 'q' | 'Q' | 'j' | 'J';
/** Byte-string letters: one `Buffer` whatever the count (the pack layer's default `strings: 'buffer'`). */
type BytesLetter = 'a' | 'A' | 'Z' | 'u';
/** Bit and hex-digit letters: one `string` whatever the count. */
type DigitsLetter = 'b' | 'B' | 'h' | 'H';
/** Letters that move the position and produce nothing. */
type MoveLetter = 'x' | 'X' | '@';

/** Repeat counts spelled out as a tuple (0 to 32); a larger count gives an array. */
type SmallCount = Digit | `${'1' | '2'}${Digit}` | '30' | '31' | '32';

/** A template the reader does not follow. */
declare const unreadable: unique symbol;
type Unreadable = typeof unreadable;

type TrimStart<S extends string> = S extends `${Whitespace}${infer R}`
  ? TrimStart<R>
  : S extends `#${infer Comment}`
    ? Comment extends `${string}\n${infer R}`
      ? TrimStart<R>
      : ''
    : S;

type SkipModifiers<S extends string> = S extends `${ModifierChar}${infer R}` ? SkipModifiers<R> : S;

type TakeDigits<S extends string, D extends string = ''> = S extends `${infer C}${infer R}`
  ? C extends Digit
    ? TakeDigits<R, `${D}${C}`>
    : [D, S]
  : [D, S];

/** `[count, rest]`: the count is `''` (none), `'*'`, digits, or `'?'` (a `[template]` count). */
type TakeCount<S extends string> = S extends `*${infer R}`
  ? ['*', R]
  : S extends `[${infer N}]${infer R}`
    ? N extends `${number}`
      ? [N, R]
      : ['?', R]
    : TakeDigits<S>;

type Repeat<
  V extends unknown[],
  N extends number,
  Out extends unknown[] = [],
  I extends unknown[] = [],
> = I['length'] extends N ? Out : Repeat<V, N, [...Out, ...V], [...I, 0]>;

type ToNumber<D extends string> = D extends `${infer N extends number}` ? N : 0;

/**
 * The values of one item repeated by `count`: `{ fixed }` a tuple, or `{ rest }` the type of each of
 * an unknown number of values.
 */
type Counted<V extends unknown[], Count extends string> = Count extends ''
  ? { fixed: V }
  : Count extends SmallCount
    ? { fixed: Repeat<V, ToNumber<Count>> }
    : { rest: V[number] };

/** The values of one letter with its count. */
type LetterValues<L extends string, Count extends string> = L extends NumberLetter
  ? Counted<[number], Count>
  : L extends BigLetter
    ? Counted<[bigint], Count>
    : L extends 'w'
      ? Counted<[number | bigint], Count>
      : L extends '.'
        ? { fixed: [number] }
        : L extends BytesLetter
          ? { fixed: [Buffer] }
          : L extends DigitsLetter
            ? { fixed: [string] }
            : L extends MoveLetter
              ? { fixed: [] }
              : Unreadable;

/** Adds one item's values to what was read so far. */
type Add<Acc extends unknown[], Tail, Part> = Part extends { fixed: infer V extends unknown[] }
  ? [Tail] extends [never]
    ? [[...Acc, ...V], never]
    : [Acc, Tail | V[number]]
  : Part extends { rest: infer V }
    ? [Acc, Tail | V]
    : Unreadable;

/** `[part, rest]` for the item at the start of `S` (a letter or a group, with modifiers and count). */
type ReadItem<S extends string> = S extends `(${infer Inner})${infer R}`
  ? Inner extends `${string}(${string}`
    ? Unreadable
    : Values<Inner> extends infer V
      ? V extends unknown[]
        ? TakeCount<SkipModifiers<R>> extends [infer Count extends string, infer After extends string]
          ? [Counted<V, Count>, After]
          : Unreadable
        : Unreadable
      : Unreadable
  : S extends `${infer L}${infer R}`
    ? TakeCount<SkipModifiers<R>> extends [infer Count extends string, infer After extends string]
      ? [LetterValues<L, Count>, After]
      : Unreadable
    : Unreadable;

/**
 * `item/item`: the first item is a length, read and not returned; the second is read that many
 * times (a string letter: one value; anything else: an unknown number of values).
 */
type ReadSlash<S extends string> = S extends `(${string}`
  ? ReadItem<S> extends [infer Part, infer R extends string]
    ? Part extends { fixed: infer V extends unknown[] } | { rest: infer V extends unknown[] }
      ? [{ rest: V[number] }, R]
      : Part extends { rest: infer V }
        ? [{ rest: V }, R]
        : Unreadable
    : Unreadable
  : ReadItem<S> extends [infer Part, infer R extends string]
    ? S extends `${BytesLetter | DigitsLetter}${string}`
      ? [Part, R]
      : Part extends { fixed: infer V extends unknown[] } | { rest: infer V extends unknown[] }
        ? [{ rest: V[number] }, R]
        : Part extends { rest: infer V }
          ? [{ rest: V }, R]
          : Unreadable
    : Unreadable;

/** Letters that, with a `*` count, read the rest of the body: nothing is left for what follows. */
type ReadsAllLetter = 'a' | 'A' | 'b' | 'B' | 'h' | 'H';

/** `R` when `S` starts with such an item (`a*`, `H<*`, ...), the template after it; else `false`. */
type ReadsAll<S extends string> = S extends `${ReadsAllLetter}${infer M}`
  ? SkipModifiers<M> extends `*${infer R}`
    ? R
    : false
  : false;

/**
 * What follows an item that read the whole body: a number letter reads no value there (Perl's
 * unpack returns none for it), a string letter an empty string or buffer; a move back (`X`, `@`,
 * `.`), a group or a `/` is not followed.
 */
type ReadExhausted<S extends string, Acc extends unknown[], Tail> =
  TrimStart<S> extends ''
    ? Read<'', Acc, Tail>
    : TrimStart<S> extends `${'X' | '@' | '.' | '('}${string}`
      ? Unreadable
      : ReadItem<TrimStart<S>> extends [infer Part, infer R extends string]
        ? TrimStart<R> extends `/${string}`
          ? Unreadable
          : TrimStart<S> extends `${NumberLetter | BigLetter | 'w' | MoveLetter}${string}`
            ? ReadExhausted<R, Acc, Tail>
            : Add<Acc, Tail, Part> extends [infer A extends unknown[], infer T]
              ? ReadExhausted<R, A, T>
              : Unreadable
        : Unreadable;

type Read<S extends string, Acc extends unknown[], Tail> =
  TrimStart<S> extends ''
    ? [Tail] extends [never]
      ? Acc
      : [...Acc, ...Tail[]]
    : ReadsAll<TrimStart<S>> extends infer After extends string
      ? ReadItem<TrimStart<S>> extends [infer Part, string]
        ? Add<Acc, Tail, Part> extends [infer A extends unknown[], infer T]
          ? ReadExhausted<After, A, T>
          : Unreadable
        : Unreadable
      : ReadItem<TrimStart<S>> extends [infer Part, infer R extends string]
        ? TrimStart<R> extends `/${infer AfterSlash}`
          ? ReadSlash<TrimStart<AfterSlash>> extends [infer SlashPart, infer R2 extends string]
            ? Add<Acc, Tail, SlashPart> extends [infer A extends unknown[], infer T]
              ? Read<R2, A, T>
              : Unreadable
            : Unreadable
          : Add<Acc, Tail, Part> extends [infer A extends unknown[], infer T]
            ? Read<R, A, T>
            : Unreadable
        : Unreadable;

/** The tuple read from a literal template, or `Unreadable`. */
type Values<S extends string> = Read<S, [], never>;

/**
 * What `unpack(template, body)` returns, as a tuple when `T` is a literal template the reader
 * follows, else `unknown[]`: `'L w/a*'` -> `[number, Buffer]`, `'L3'` -> `[number, number, number]`,
 * `'L*'` -> `number[]`, `'L (w/a*)*'` -> `[number, ...Buffer[]]`, `'q'` -> `[bigint]`.
 */
export type TemplateValues<T extends string> = string extends T
  ? unknown[]
  : Values<T> extends infer V
    ? V extends unknown[]
      ? V
      : unknown[]
    : unknown[];

/** `'L  w/a* Q'` -> `['L', 'w/a*', 'Q']`. */
export type TemplateItems<S extends string> =
  TrimStart<S> extends ''
    ? []
    : TrimStart<S> extends `${infer Head} ${infer Tail}`
      ? [Head, ...TemplateItems<Tail>]
      : [TrimStart<S>];

/** The value one template item unpacks to (`'L'`: number, `'w/a*'`: Buffer), or `unknown`. */
export type ItemValue<Item extends string> = TemplateValues<Item> extends [infer V] ? V : unknown;

/** What a value accepts when packed: numbers where a number goes, bytes or text where bytes go. */
export type InputOf<V> = [V] extends [number]
  ? number
  : [V] extends [bigint]
    ? number | bigint | string
    : [V] extends [number | bigint]
      ? number | bigint | string
      : [V] extends [Buffer]
        ? Uint8Array | string
        : [V] extends [string]
          ? string
          : unknown;

/** What one template item accepts when packed. */
export type ItemInput<Item extends string> = InputOf<ItemValue<Item>>;

/** `{ a: 1 } & { b: 2 }` shown as `{ a: 1; b: 2 }`. */
type Flat<O> = { [K in keyof O]: O[K] } & {};

type Named<F extends readonly string[], V extends readonly unknown[], Input extends boolean> = Flat<{
  -readonly [K in keyof F as K extends `${number}` ? F[K] & string : never]: K extends keyof V
    ? Input extends true
      ? InputOf<V[K]>
      : V[K]
    : unknown;
}>;

/**
 * The named fields of a template: typed value by value when the template reads exactly one value
 * per field (`'L w/a*'` with `['id', 'name']`: `{ id: number; name: Buffer }`), else every field
 * `unknown`. `Input` types them as `pack` accepts them (bytes as `Uint8Array | string`).
 */
export type TemplateFields<
  T extends string,
  F extends readonly string[],
  Input extends boolean = false,
> = string extends T
  ? Flat<{ -readonly [K in F[number]]: unknown }>
  : TemplateValues<T> extends infer V extends unknown[]
    ? number extends V['length']
      ? Flat<{ -readonly [K in F[number]]: unknown }>
      : V['length'] extends F['length']
        ? Named<F, V, Input>
        : Flat<{ -readonly [K in F[number]]: unknown }>
    : Flat<{ -readonly [K in F[number]]: unknown }>;
