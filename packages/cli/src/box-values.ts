import { type FieldLetter, type ParsedFormat, parseFormat } from '@iproto/box';
import { CliError } from './cli-error.js';
import { bytesToText, parseHex, parseValue, toJsonValue } from './values.js';

/** A space format from `--format`, or a one-line usage error saying what is wrong with it. */
export function readFormat(command: string, text: string): ParsedFormat {
  try {
    return parseFormat(text, `iproto box ${command}: --format`);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

/** The letter of field `n` of a tuple in this format (the long tail repeats), or undefined past it. */
export function letterAt(format: ParsedFormat, n: number): FieldLetter | undefined {
  if (n < format.fixed.length) return format.fixed[n];
  if (format.long.length === 0) return undefined;
  return format.long[(n - format.fixed.length) % format.long.length];
}

/**
 * One command-line word as the value of a field of letter `letter`: integers for the integer letters
 * (decimal, `0x` hex, bigints past 2^53), text as it is for `$` and `&`; `hex:0a0b` is bytes and
 * `str:...` always text, as for `iproto send`. A value the letter cannot take is left for the box
 * to refuse, with its own message.
 */
export function fieldValue(letter: FieldLetter | undefined, word: string): unknown {
  if (word.startsWith('hex:')) return parseHex('value', word.slice(4));
  if (word.startsWith('str:')) return word.slice(4);
  if (letter === '$' || letter === '&') return word;
  return parseValue(word);
}

/**
 * A key word: the parts of a multi-field key separated by commas (`alice,30`), or a JSON array when
 * a part holds a comma (`["a,b",30]`). One part for a one-field key.
 */
export function keyParts(word: string, fields: number): string[] {
  if (word.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(word);
    } catch {
      throw new CliError(`bad key ${word}: not a JSON array`);
    }
    if (!Array.isArray(parsed) || parsed.some((p) => typeof p !== 'string' && typeof p !== 'number'))
      throw new CliError(`bad key ${word}: expected a JSON array of strings and numbers`);
    return parsed.map(String);
  }
  return fields === 1 ? [word] : word.split(',');
}

/** A field value for JSON: bigints as decimal strings, bytes as text or `hex:...`. */
export function jsonTuple(tuple: unknown): unknown {
  if (Array.isArray(tuple)) return tuple.map(toJsonValue);
  if (tuple !== null && typeof tuple === 'object')
    return Object.fromEntries(Object.entries(tuple).map(([k, v]) => [k, jsonTuple(v)]));
  return toJsonValue(tuple);
}

/** A field value in a table cell: numbers and text bare, bytes as text or `hex:...`. */
function cell(value: unknown): string {
  if (value instanceof Uint8Array) return bytesToText(value).text;
  if (Array.isArray(value) || (value !== null && typeof value === 'object'))
    return JSON.stringify(jsonTuple(value));
  return String(value);
}

/**
 * Tuples as an aligned table: a header of the field names (or numbers), a rule, one row per tuple.
 * Tuples of a long format may differ in length: the widest sets the columns.
 */
export function formatTable(tuples: readonly unknown[], names: readonly string[] | undefined): string {
  const rows = tuples.map((tuple) =>
    Array.isArray(tuple)
      ? tuple.map(cell)
      : (names ?? Object.keys(tuple as object)).map((name) => cell((tuple as Record<string, unknown>)[name])),
  );
  const columns = Math.max(names?.length ?? 0, ...rows.map((row) => row.length));
  const header = Array.from({ length: columns }, (_, i) => names?.[i] ?? String(i));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    widths
      .map((w, i) => (cells[i] ?? '').padEnd(w))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
