import { boxError } from './box-error.js';

/**
 * A field letter of a space format (MR::Tarantool::Box's `format`): `Q q` 64-bit, `L l` 32-bit,
 * `S s` 16-bit, `C c` 8-bit integers (upper case unsigned, little-endian as Perl's `pack` on
 * x86_64), `&` bytes, `$` UTF-8 text.
 */
export type FieldLetter = 'Q' | 'q' | 'L' | 'l' | 'S' | 's' | 'C' | 'c' | '&' | '$';

/** A parsed format: the fixed fields, and the repeated group of a long tuple (`...*`). */
export interface ParsedFormat {
  /** The format as given, whitespace removed. */
  readonly source: string;
  /** One letter per fixed field. */
  readonly fixed: readonly FieldLetter[];
  /** The letters repeated over the tail of a long tuple; empty when the format has no `*`. */
  readonly long: readonly FieldLetter[];
}

/** Bytes of each integer letter. */
export const INT_SIZE: Readonly<Record<string, number>> = {
  Q: 8,
  q: 8,
  L: 4,
  l: 4,
  S: 2,
  s: 2,
  C: 1,
  c: 1,
};

const LETTERS = '$&lLsScCqQ';
// MR::Tarantool::Box::_make_unpack_format's accepted formats: letters, then either a `(group)*`
// or a `*` making the last letter the repeated tail.
const FORMAT_RE = /^[$&lLsScCqQ]*(?:\([$&lLsScCqQ]+\)\*|\*)?$/;

/** Parses a space format as MR::Tarantool::Box::_make_unpack_format does. */
export function parseFormat(format: string, where: string): ParsedFormat {
  if (typeof format !== 'string') {
    throw boxError(
      'ERR_BOX_SPEC',
      `${where}: format must be a string of ${LETTERS} letters, got ${typeof format}`,
    );
  }
  const source = format.replace(/\s+/g, '');
  if (!FORMAT_RE.test(source)) {
    throw boxError(
      'ERR_BOX_SPEC',
      `${where}: bad format '${format}': letters ${LETTERS}, optionally ending in '*' or '(letters)*'`,
    );
  }
  if (!source.endsWith('*')) return { source, fixed: [...source] as FieldLetter[], long: [] };
  const body = source.slice(0, -1);
  if (body.endsWith(')')) {
    const open = body.lastIndexOf('(');
    return {
      source,
      fixed: [...body.slice(0, open)] as FieldLetter[],
      long: [...body.slice(open + 1, -1)] as FieldLetter[],
    };
  }
  if (body.length === 0)
    throw boxError('ERR_BOX_SPEC', `${where}: bad format '${format}': '*' repeats nothing`);
  return { source, fixed: [...body.slice(0, -1)] as FieldLetter[], long: [body.at(-1) as FieldLetter] };
}

/** The letter of field number `n` in a tuple of this format, or undefined beyond it. */
export function letterAt(format: ParsedFormat, n: number): FieldLetter | undefined {
  const { fixed, long } = format;
  if (n < fixed.length) return fixed[n];
  if (long.length === 0) return undefined;
  return long[(n - fixed.length) % long.length];
}

export function isStringLetter(letter: FieldLetter): boolean {
  return letter === '&' || letter === '$';
}
