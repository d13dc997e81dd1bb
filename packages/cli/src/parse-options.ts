import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CliError } from './cli-error.js';

type OptionsSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedOptions {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * A word that is a negative number (`-5`, `-0x1f`, `-1.5`, `-.5`, `-5n`): a value, never an option,
 * since no option of any command starts with a digit.
 */
const NEGATIVE_NUMBER = /^-\.?\d/;

/** Stands in for a negative number while parseArgs reads the words: it starts with no dash. */
const PLACEHOLDER = '\u0000iproto-negative:';

/**
 * node:util parseArgs, strict, with `--help` and `--json` added to every command, and its errors
 * turned into one-line usage errors that name the command. Negative numbers are values
 * (`iproto send ... --pack l -5`): parseArgs alone would read `-5` as the short options 5.
 */
export function parseOptions(command: string, argv: string[], options: OptionsSpec): ParsedOptions {
  // Only words before a "--" need hiding; after it parseArgs takes every word as a value.
  const end = argv.indexOf('--');
  const hidden: string[] = [];
  const args = argv.map((word, i) => {
    if ((end >= 0 && i > end) || !NEGATIVE_NUMBER.test(word)) return word;
    hidden.push(word);
    return `${PLACEHOLDER}${hidden.length - 1}`;
  });
  const restore = (word: string): string =>
    word.startsWith(PLACEHOLDER) ? hidden[Number(word.slice(PLACEHOLDER.length))] : word;
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' }, ...options },
      allowPositionals: true,
      strict: true,
    });
    const restored: ParsedOptions['values'] = {};
    for (const [name, value] of Object.entries(values)) {
      // `--timeout -5` reads -5 as the option's value, to be refused by the option's own check.
      restored[name] =
        typeof value === 'string' ? restore(value) : Array.isArray(value) ? value.map(restore) : value;
    }
    return { values: restored, positionals: positionals.map(restore) };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const shown = message.replace(new RegExp(`${PLACEHOLDER}(\\d+)`, 'g'), (_, n) => hidden[Number(n)]);
    throw new CliError(`iproto ${command}: ${shown} (see "iproto help ${command}")`);
  }
}

export function stringOption(values: ParsedOptions['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}
