import { readFile } from 'node:fs/promises';
import { dumpPacket, encodeFrame, parseCapture } from '@iproto/framing';
import { unpack } from '@iproto/pack';
import { CliError, ExitCode } from '../cli-error.js';
import { type CliIO, readAll } from '../io.js';
import { parseOptions, stringOption } from '../parse-options.js';
import { checkUnpackTemplate, describeError, formatValue, parseInteger, toJsonValue } from '../values.js';

export interface DecodedFrame {
  /** Byte offset of the frame's header in the capture. */
  offset: number;
  msg: number;
  sync: number;
  len: number;
  dump: string;
  values?: unknown[];
  error?: string;
}

export interface DecodeOptions {
  unpack?: string;
  ints?: boolean;
  msg?: number;
}

/** Lists the frames of a captured byte stream; `rest` is the count of trailing bytes of an incomplete frame. */
export function decodeCapture(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): { frames: DecodedFrame[]; rest: number } {
  const { frames, rest } = parseCapture(bytes);
  const out: DecodedFrame[] = [];
  for (const frame of frames) {
    if (options.msg !== undefined && frame.msg !== options.msg) continue;
    const decoded: DecodedFrame = {
      offset: frame.offset,
      msg: frame.msg,
      sync: frame.sync,
      len: frame.body.length,
      dump: dumpPacket(encodeFrame(frame.msg, frame.sync, frame.body), { ints: options.ints ?? true }),
    };
    if (options.unpack !== undefined) {
      try {
        decoded.values = unpack(options.unpack, frame.body);
      } catch (error) {
        decoded.error = describeError(error);
      }
    }
    out.push(decoded);
  }
  return { frames: out, rest };
}

export async function decodeCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseOptions('decode', argv, {
    unpack: { type: 'string' },
    msg: { type: 'string' },
    'no-ints': { type: 'boolean' },
  });
  if (positionals.length > 1) throw new CliError('iproto decode: give one file (or "-" for stdin)');
  const source = positionals[0] ?? '-';
  const unpackTemplate = stringOption(values, 'unpack');
  if (unpackTemplate !== undefined) checkUnpackTemplate('--unpack', unpackTemplate);
  const msgText = stringOption(values, 'msg');
  const msg = msgText === undefined ? undefined : parseInteger('--msg', msgText);
  let bytes: Buffer;
  try {
    bytes = source === '-' ? await readAll(io.stdin) : await readFile(source);
  } catch (error) {
    throw new CliError(`iproto decode: cannot read ${source}: ${describeError(error)}`, ExitCode.FAILURE, {
      cause: error,
    });
  }
  let result: ReturnType<typeof decodeCapture>;
  try {
    result = decodeCapture(bytes, {
      unpack: unpackTemplate,
      ints: values['no-ints'] !== true,
      msg,
    });
  } catch (error) {
    throw new CliError(`iproto decode: ${source}: ${describeError(error)}`, ExitCode.FAILURE, {
      cause: error,
    });
  }
  const { frames, rest } = result;

  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({
        frames: frames.map((f) => ({ ...f, ...(f.values ? { values: toJsonValue(f.values) } : {}) })),
        rest,
      })}\n`,
    );
  } else {
    frames.forEach((f, i) => {
      io.stdout.write(`#${i + 1} @${f.offset} msg=${f.msg} sync=${f.sync} len=${f.len}\n  ${f.dump}\n`);
      if (f.values) io.stdout.write(`  = ${f.values.map(formatValue).join(' ')}\n`);
      if (f.error) io.stdout.write(`  ! ${f.error}\n`);
    });
    io.stdout.write(`${frames.length} frame${frames.length === 1 ? '' : 's'}, ${bytes.length} bytes\n`);
  }
  // A capture cut mid-frame is normal (the recording stopped); say so without failing.
  if (rest > 0) io.stderr.write(`iproto decode: the last ${rest} bytes are an incomplete frame\n`);
  return frames.some((f) => f.error) ? ExitCode.FAILURE : ExitCode.OK;
}
