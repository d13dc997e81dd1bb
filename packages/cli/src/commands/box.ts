import { Box, BoxError, type IndexSpec, type SpaceSpec } from '@iproto/box';
import { fieldValue, formatTable, jsonTuple, keyParts, letterAt, readFormat } from '../box-values.js';
import { CliError, ExitCode } from '../cli-error.js';
import type { CliIO } from '../io.js';
import { parseOptions, stringOption } from '../parse-options.js';
import { describeError, parseAddressList, parseInteger } from '../values.js';

/** The box operations `iproto box` runs. */
export const BOX_OPERATIONS = ['select', 'insert', 'update', 'delete', 'call'] as const;
type Operation = (typeof BOX_OPERATIONS)[number];

/** Arguments each UPDATE op takes after `FIELD OP` on the command line. */
const OP_ARITY: Readonly<Record<string, number>> = {
  set: 1,
  insert: 1,
  delete: 0,
  add: 1,
  num_add: 1,
  num_sub: 1,
  and: 1,
  xor: 1,
  or: 1,
  bit_set: 1,
  bit_clear: 1,
  splice: 3,
  substr: 3,
  append: 1,
  prepend: 1,
  cutbeg: 1,
  cutend: 1,
};

/** Ops whose arguments are integers whatever the field (the splice family's counts). */
const COUNT_OPS = new Set(['cutbeg', 'cutend']);

function isOperation(word: string | undefined): word is Operation {
  return (BOX_OPERATIONS as readonly string[]).includes(word ?? '');
}

/**
 * `iproto box <op> host:port [options] [args]`: select, insert, update, delete and call against a
 * Tarantool 1.5 box through `@iproto/box`, with the space described on the command line.
 */
export async function boxCommand(argv: string[], io: CliIO): Promise<number> {
  const [operation, ...rest] = argv;
  if (!isOperation(operation)) {
    throw new CliError(
      operation === undefined
        ? `iproto box: no operation given (${BOX_OPERATIONS.join(', ')})`
        : `iproto box: unknown operation "${operation}" (${BOX_OPERATIONS.join(', ')})`,
    );
  }
  const command = `box ${operation}`;
  const { values, positionals } = parseOptions(command, rest, {
    space: { type: 'string' },
    format: { type: 'string' },
    fields: { type: 'string' },
    key: { type: 'string' },
    index: { type: 'string' },
    limit: { type: 'string' },
    offset: { type: 'string' },
    add: { type: 'boolean' },
    replace: { type: 'boolean' },
    'want-result': { type: 'boolean' },
    timeout: { type: 'string' },
  });
  const [target, ...words] = positionals;
  if (target === undefined) throw new CliError(`iproto ${command}: no server given`);
  parseAddressList(target); // a typo is a usage error before anything connects
  const timeout = parseInteger('--timeout', stringOption(values, 'timeout') ?? '2000', 1, 3_600_000);
  const allowed: Record<Operation, readonly string[]> = {
    select: ['index', 'limit', 'offset'],
    insert: ['add', 'replace', 'want-result'],
    update: ['want-result'],
    delete: ['want-result'],
    call: [],
  };
  for (const name of ['index', 'limit', 'offset', 'add', 'replace', 'want-result']) {
    if (values[name] !== undefined && !allowed[operation].includes(name))
      throw new CliError(`iproto ${command}: --${name} does not apply to ${operation}`);
  }
  // A call names no space: its --format and --fields describe the tuples it returns.
  for (const name of ['space', 'key']) {
    if (operation === 'call' && values[name] !== undefined)
      throw new CliError(`iproto ${command}: --${name} does not apply to call`);
  }
  if (values.add && values.replace) throw new CliError(`iproto ${command}: use --add or --replace, not both`);

  const formatText = stringOption(values, 'format');
  if (formatText === undefined && operation !== 'call')
    throw new CliError(`iproto ${command}: --format is required (the space's field letters, e.g. 'L$L')`);
  const format = readFormat(operation, formatText ?? '&*');
  const fields = stringOption(values, 'fields')
    ?.split(',')
    .map((f) => f.trim());
  const spaceId = parseInteger('--space', stringOption(values, 'space') ?? '0');
  const indexId = parseInteger('--index', stringOption(values, 'index') ?? '0');
  const keyFields = (stringOption(values, 'key') ?? '0').split(',').map((f) => {
    const t = f.trim();
    return /^\d+$/.test(t) ? Number(t) : t;
  });
  const keyNumbers = keyFields.map((f) => (typeof f === 'number' ? f : (fields?.indexOf(f) ?? -1)));
  if (operation !== 'call' && keyNumbers.some((n) => n < 0))
    throw new CliError(
      `iproto ${command}: --key names a field that --fields does not: ${keyFields.join(',')}`,
    );

  const index: IndexSpec = { name: 'cli', keys: keyFields, id: indexId };
  // A call names no space; the Box still wants one declared.
  const spec: SpaceSpec =
    operation === 'call'
      ? { space: 0, format: '&', indexes: [{ name: 'cli', keys: [0] }] }
      : {
          space: spaceId,
          format: format.source,
          ...(fields === undefined ? {} : { fields }),
          indexes: [index],
        };
  let box: Box<readonly [SpaceSpec]>;
  try {
    // One try per call: a person at a terminal retries by hand.
    box = new Box({ servers: target, spaces: [spec], timeout, retry: 1, selectRetry: 1, softRetry: 1 });
  } catch (error) {
    throw new CliError(`iproto ${command}: ${describeError(error)}`);
  }
  const keyOf = (word: string): unknown => {
    const parts = keyParts(word, keyNumbers.length);
    if (parts.length > keyNumbers.length)
      throw new CliError(
        `iproto ${command}: key ${word} has ${parts.length} parts, --key names ${keyNumbers.length}`,
      );
    const values = parts.map((part, i) => fieldValue(letterAt(format, keyNumbers[i]), part));
    return keyNumbers.length === 1 ? values[0] : values;
  };

  try {
    const started = performance.now();
    let tuples: unknown[] | undefined;
    let count: number | undefined;
    const wantResult = values['want-result'] === true;
    switch (operation) {
      case 'select': {
        if (words.length === 0) throw new CliError(`iproto ${command}: no keys given`);
        const options = {
          index: 'cli',
          limit: parseInteger('--limit', stringOption(values, 'limit') ?? String(0x7fffffff)),
          offset: parseInteger('--offset', stringOption(values, 'offset') ?? '0'),
        };
        tuples = (await box.select(spaceId, words.map(keyOf) as never, options)) as unknown[];
        break;
      }
      case 'insert': {
        if (words.length === 0) throw new CliError(`iproto ${command}: no fields given`);
        const tuple = words.map((word, i) => fieldValue(letterAt(format, i), word));
        const action = values.add ? 'add' : values.replace ? 'replace' : 'set';
        const result = await box.insert(spaceId, tuple as never, { action, wantResult });
        if (wantResult) tuples = result === undefined ? [] : [result];
        else count = result as number;
        break;
      }
      case 'update': {
        const [keyWord, ...opWords] = words;
        if (keyWord === undefined) throw new CliError(`iproto ${command}: no key given`);
        const ops = readOps(command, opWords, format, fields);
        const result = await box.update(spaceId, keyOf(keyWord) as never, ops as never, { wantResult });
        if (wantResult) tuples = result === undefined ? [] : [result];
        else count = result as number;
        break;
      }
      case 'delete': {
        if (words.length !== 1) throw new CliError(`iproto ${command}: give one key`);
        const result = await box.delete(spaceId, keyOf(words[0]) as never, { wantResult });
        if (wantResult) tuples = result === undefined ? [] : [result];
        else count = result as number;
        break;
      }
      case 'call': {
        const [proc, ...args] = words;
        if (proc === undefined) throw new CliError(`iproto ${command}: no procedure given`);
        const raw = await box.call(proc, args.map((a) => fieldValue('&', a)) as never, {
          unpackFormat: format.source,
        });
        // A call's tuples are arrays; name their fields as --fields says.
        tuples =
          fields === undefined ? raw : raw.map((t) => Object.fromEntries(fields.map((f, i) => [f, t[i]])));
        break;
      }
    }
    const time = performance.now() - started;
    print(io, values.json === true, operation, tuples, count, fields, time);
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof BoxError && error.code.startsWith('ERR_BOX_ARGUMENT'))
      throw new CliError(`iproto ${command}: ${error.message.replace(/^Box: /, '')}`, ExitCode.USAGE, {
        cause: error,
      });
    // "Box: select from space 9: Error 00003902: ..." reads better without the Box's default name.
    const line = describeError(error).replace(/(^|: )Box: /, '$1');
    throw new CliError(`iproto ${command}: ${line}`, ExitCode.FAILURE, { cause: error });
  } finally {
    await box.close();
  }
}

/** `FIELD OP ARG...` words as `[field, op, ...args]` ops, each op taking the arguments it needs. */
function readOps(
  command: string,
  words: readonly string[],
  format: ReturnType<typeof readFormat>,
  fields: readonly string[] | undefined,
): unknown[][] {
  if (words.length === 0) throw new CliError(`iproto ${command}: no update ops given (FIELD OP [ARG...])`);
  const ops: unknown[][] = [];
  for (let i = 0; i < words.length; ) {
    const fieldWord = words[i];
    const name = words[i + 1];
    if (name === undefined) throw new CliError(`iproto ${command}: field ${fieldWord} has no op`);
    const arity = OP_ARITY[name];
    if (arity === undefined)
      throw new CliError(`iproto ${command}: unknown op "${name}" (${Object.keys(OP_ARITY).join(', ')})`);
    const args = words.slice(i + 2, i + 2 + arity);
    if (args.length < arity)
      throw new CliError(
        `iproto ${command}: ${fieldWord} ${name} takes ${arity} argument${arity === 1 ? '' : 's'}`,
      );
    const field = /^\d+$/.test(fieldWord) ? Number(fieldWord) : fieldWord;
    const number = typeof field === 'number' ? field : (fields?.indexOf(field) ?? -1);
    const letter = letterAt(format, number);
    const values =
      name === 'splice' || name === 'substr'
        ? [fieldValue('l', args[0]), fieldValue('l', args[1]), fieldValue(letter, args[2])]
        : args.map((arg) => fieldValue(COUNT_OPS.has(name) ? 'L' : letter, arg));
    ops.push([field, name, ...values]);
    i += 2 + arity;
  }
  return ops;
}

function print(
  io: CliIO,
  json: boolean,
  operation: Operation,
  tuples: unknown[] | undefined,
  count: number | undefined,
  fields: readonly string[] | undefined,
  time: number,
): void {
  if (json) {
    io.stdout.write(
      `${JSON.stringify(tuples === undefined ? { count } : { count: tuples.length, tuples: tuples.map(jsonTuple) })}\n`,
    );
    return;
  }
  const ms = time.toFixed(3);
  if (tuples === undefined) {
    const done = { insert: 'inserted', update: 'updated', delete: 'deleted' }[operation as 'insert'];
    io.stdout.write(`${done} ${count} (${ms} ms)\n`);
    return;
  }
  if (tuples.length > 0) io.stdout.write(`${formatTable(tuples, fields)}\n`);
  io.stdout.write(`${tuples.length} tuple${tuples.length === 1 ? '' : 's'} (${ms} ms)\n`);
}
