/**
 * Type-level reading of simple pack templates, so `defineMessage` can type each named field. Only
 * templates written as one item per field, separated by spaces (`'L w/a* Q'`), are read; any other
 * template types its fields as `unknown`.
 */

type Trim<S extends string> = S extends ` ${infer R}` ? Trim<R> : S extends `${infer R} ` ? Trim<R> : S;

/** `'L  w/a* Q'` -> `['L', 'w/a*', 'Q']`. */
export type TemplateItems<S extends string> =
  Trim<S> extends ''
    ? []
    : Trim<S> extends `${infer Head} ${infer Tail}`
      ? [Head, ...TemplateItems<Tail>]
      : [Trim<S>];

type Modifier = '' | '<' | '>' | '!' | '!<' | '!>';
type NumberLetter =
  | 'c'
  | 'C'
  | 's'
  | 'S'
  | 'l'
  | 'L'
  | 'n'
  | 'N'
  | 'v'
  | 'V'
  | 'i'
  | 'I'
  | 'f'
  | 'd'
  | 'F'
  | 'U';
type BigLetter = 'q' | 'Q' | 'j' | 'J';
type ByteLetter = 'a' | 'A' | 'Z';
type Digits = '' | `${number}`;

/** The value one template item unpacks to (what `@iproto/pack` documents), or `unknown`. */
export type ItemValue<Item extends string> = Item extends `${NumberLetter}${Modifier}`
  ? number
  : Item extends `${BigLetter}${Modifier}`
    ? bigint
    : Item extends 'w'
      ? number | bigint
      : Item extends `${ByteLetter}${'*' | Digits}` | `${string}/${ByteLetter}${'*' | Digits}`
        ? Buffer
        : Item extends `${'H' | 'h' | 'B' | 'b'}${'*' | Digits}`
          ? string
          : unknown;

/** What a field accepts when packed: numbers where a number goes, bytes or text where bytes go. */
export type ItemInput<Item extends string> = [ItemValue<Item>] extends [number]
  ? number
  : [ItemValue<Item>] extends [bigint]
    ? number | bigint | string
    : [ItemValue<Item>] extends [number | bigint]
      ? number | bigint | string
      : [ItemValue<Item>] extends [Buffer]
        ? Uint8Array | string
        : unknown;

type Typed<F extends readonly string[], Items extends readonly string[], Input extends boolean> = {
  -readonly [K in keyof F as K extends `${number}` ? F[K] & string : never]: K extends keyof Items
    ? Items[K] extends string
      ? Input extends true
        ? ItemInput<Items[K]>
        : ItemValue<Items[K]>
      : unknown
    : unknown;
};

/**
 * The named fields of a template: typed item by item when the template has one item per field,
 * else every field `unknown`.
 */
export type TemplateFields<
  T extends string,
  F extends readonly string[],
  Input extends boolean = false,
> = string extends T
  ? { -readonly [K in F[number]]: unknown }
  : TemplateItems<T>['length'] extends F['length']
    ? Typed<F, TemplateItems<T>, Input>
    : { -readonly [K in F[number]]: unknown };
