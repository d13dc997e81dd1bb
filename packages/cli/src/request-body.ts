import { pack } from '@iproto/pack';
import { CliError } from './cli-error.js';
import type { CliIO } from './io.js';
import { type ParsedOptions, stringOption } from './parse-options.js';
import { readStdin } from './read-input.js';
import { describeError, type PackValue, parseHex, parseValue } from './values.js';

/** The word that stands for "read this value from stdin". */
export const STDIN_VALUE = '-';

/**
 * The body of a request as `send` and `bench` read it from the command line: `--pack TEMPLATE`
 * with the value words (see `parseValue`; the word `-` is every byte of stdin, as they are), or
 * `--payload-hex HEX`, or none (empty). Mistakes are usage errors naming `command`.
 */
export async function readRequestBody(
  command: string,
  values: ParsedOptions['values'],
  words: readonly string[],
  io: CliIO,
): Promise<Uint8Array | undefined> {
  const template = stringOption(values, 'pack');
  const payloadHex = stringOption(values, 'payload-hex');
  if (template !== undefined && payloadHex !== undefined)
    throw new CliError(`iproto ${command}: use either --pack or --payload-hex, not both`);
  if (template === undefined && words.length > 0)
    throw new CliError(`iproto ${command}: values given without --pack: ${words.join(' ')}`);
  if (payloadHex !== undefined) return parseHex('--payload-hex', payloadHex);
  if (template === undefined) return undefined;
  const fromStdin = words.filter((word) => word === STDIN_VALUE).length;
  if (fromStdin > 1)
    throw new CliError(`iproto ${command}: stdin can give one value; "-" is there ${fromStdin} times`);
  const parsed: PackValue[] = [];
  for (const word of words) {
    parsed.push(word === STDIN_VALUE ? await readStdin(io, `iproto ${command}`) : parseValue(word));
  }
  try {
    return pack(template, ...parsed);
  } catch (error) {
    throw new CliError(`iproto ${command}: cannot pack the body: ${describeError(error)}`);
  }
}
