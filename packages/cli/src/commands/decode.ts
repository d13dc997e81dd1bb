import { createReadStream } from 'node:fs';
import { type Frame, FrameDecoder, HEADER_SIZE, parseCapture } from '@iproto/framing';
import {
  CapturePrinter,
  type DecodedFrame,
  type DecodeOptions,
  DUMP_PIECE,
  decodeFrame,
} from '../capture-printer.js';
import { CliError, ExitCode } from '../cli-error.js';
import type { CliIO } from '../io.js';
import { OutputBuffer } from '../output-buffer.js';
import { parseOptions, stringOption } from '../parse-options.js';
import { checkUnpackTemplate, describeError, parseInteger } from '../values.js';

export type { DecodedFrame, DecodeOptions } from '../capture-printer.js';

/** Bytes read from a capture file at a time. */
const READ_CHUNK = 64 * 1024;

/**
 * Lists the frames of a captured byte stream held in memory; `rest` is the count of trailing bytes
 * of an incomplete frame. (`iproto decode` itself streams: see decodeCommand.)
 */
export function decodeCapture(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): { frames: DecodedFrame[]; rest: number } {
  const { frames, rest } = parseCapture(bytes);
  const out: DecodedFrame[] = [];
  for (const frame of frames) {
    if (options.msg !== undefined && frame.msg !== options.msg) continue;
    out.push(decodeFrame(frame.offset, frame, options));
  }
  return { frames: out, rest };
}

/**
 * `iproto decode`: reads the capture in chunks through a FrameDecoder and prints each frame as it
 * completes, so memory stays the same for any size of capture (one chunk, one frame and the output
 * waiting for stdout) and output starts at once. A header announcing more than the frame limit
 * (16 MiB) stops it with exit code 1 after the frames before it have been printed.
 */
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

  const printer = new CapturePrinter({
    unpack: unpackTemplate,
    ints: values['no-ints'] !== true,
    msg,
    json: values.json === true,
  });
  const out = new OutputBuffer(io.stdout);
  const decoder = new FrameDecoder();
  const chunks: AsyncIterable<Uint8Array | string> =
    source === '-' ? io.stdin : createReadStream(source, { highWaterMark: READ_CHUNK });
  const reader = chunks[Symbol.asyncIterator]();
  const completed: Frame[] = [];
  const collect = (frame: Frame) => completed.push(frame);
  let bytes = 0;
  let offset = 0;
  let begun = false;
  try {
    for (;;) {
      let step: IteratorResult<Uint8Array | string>;
      try {
        step = await reader.next();
      } catch (error) {
        throw new CliError(
          `iproto decode: cannot read ${source}: ${describeError(error)}`,
          ExitCode.FAILURE,
          {
            cause: error,
          },
        );
      }
      // Nothing is printed before the source proves readable: a missing file prints no half JSON.
      if (!begun) {
        begun = true;
        out.add(printer.begin());
      }
      if (step.done === true) break;
      const chunk = typeof step.value === 'string' ? Buffer.from(step.value) : step.value;
      bytes += chunk.length;
      let failure: unknown;
      try {
        decoder.parse(chunk, collect);
      } catch (error) {
        // The frames before the bad header were delivered: print them, then stop.
        failure = error;
      }
      for (const frame of completed) {
        if (frame.body.length <= DUMP_PIECE) {
          if (out.add(printer.frameText(offset, frame)) && !(await out.flush())) return ExitCode.OK;
        } else {
          for (const piece of printer.framePieces(offset, frame)) {
            if (out.add(piece) && !(await out.flush())) return ExitCode.OK;
          }
        }
        offset += HEADER_SIZE + frame.body.length;
      }
      completed.length = 0;
      // What this chunk completed goes out now: output keeps up with the input, even when the
      // input trickles in (a live capture on stdin).
      if (!(await out.flush())) return ExitCode.OK;
      if (failure !== undefined) {
        throw new CliError(`iproto decode: ${source}: ${describeError(failure)}`, ExitCode.FAILURE, {
          cause: failure,
        });
      }
    }
    out.add(printer.end(bytes, decoder.bufferedBytes));
  } finally {
    // Whatever was printed reaches stdout before an error line reaches stderr; the file is closed.
    await out.flush();
    await reader.return?.();
  }
  // The reader went away (`| head`): that is its choice, not a failure.
  if (out.closed) return ExitCode.OK;
  const rest = decoder.bufferedBytes;
  // A capture cut mid-frame is normal (the recording stopped); say so without failing.
  // With --json the output's "rest" says it, and stderr is kept for errors.
  if (rest > 0 && values.json !== true)
    io.stderr.write(`iproto decode: the last ${rest} bytes are an incomplete frame\n`);
  if (printer.failed > 0) {
    const frames = `${printer.failed} frame${printer.failed === 1 ? '' : 's'}`;
    throw new CliError(`iproto decode: ${frames} did not unpack with "${unpackTemplate}"`, ExitCode.FAILURE);
  }
  return ExitCode.OK;
}
