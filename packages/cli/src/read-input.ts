import { readFile, stat } from 'node:fs/promises';
import { DEFAULT_MAX_FRAME_SIZE } from '@iproto/framing';
import { CliError, ExitCode } from './cli-error.js';
import type { CliIO } from './io.js';
import { describeError } from './values.js';

/**
 * The most a value read from stdin may hold: a frame's body, which the value must fit in, cannot
 * be larger (`DEFAULT_MAX_FRAME_SIZE`, 16 MiB).
 */
export const MAX_STDIN_VALUE = DEFAULT_MAX_FRAME_SIZE;

/**
 * Reads all of stdin as bytes, refusing more than `limit` bytes: reading stops at the chunk that
 * goes over, so an endless pipe costs at most one chunk more than the limit. The command's signal
 * (SIGINT, SIGTERM) stops the read at once: a stdin that never ends does not hold the command.
 */
export async function readStdin(io: CliIO, what: string, limit = MAX_STDIN_VALUE): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const { signal } = io;
  const iterator = io.stdin[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted =
    signal === undefined
      ? undefined
      : new Promise<never>((_, reject) => {
          onAbort = () => reject(new CliError(`${what}: interrupted while reading stdin`, ExitCode.FAILURE));
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        });
  // Nobody waits on it once the read is over.
  aborted?.catch(() => {});
  try {
    for (;;) {
      const next = iterator.next();
      const { done, value: chunk } = await (aborted === undefined ? next : Promise.race([next, aborted]));
      if (done) break;
      const bytes =
        typeof chunk === 'string'
          ? Buffer.from(chunk)
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      size += bytes.length;
      if (size > limit)
        throw new CliError(`${what}: stdin holds more than ${limit} bytes (the limit of a body)`);
      chunks.push(bytes);
    }
  } catch (error) {
    // Stops the stream: a pending read must not keep the process alive (an iterator's `return`
    // waits for the read in progress, so a stream is destroyed outright).
    const stream = io.stdin as { destroy?: () => void };
    if (typeof stream.destroy === 'function') stream.destroy();
    else void iterator.return?.()?.catch(() => {});
    if (error instanceof CliError) throw error;
    throw new CliError(`${what}: cannot read stdin: ${describeError(error)}`, ExitCode.FAILURE, {
      cause: error,
    });
  } finally {
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
  return Buffer.concat(chunks, size);
}

/** Reads a file of at most `limit` bytes; a larger one is refused before it is read. */
export async function readSmallFile(path: string, what: string, limit: number): Promise<Buffer> {
  try {
    const { size } = await stat(path);
    if (size > limit)
      throw new CliError(`${what}: ${path} holds ${size} bytes, more than the ${limit} allowed`);
    return await readFile(path);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${what}: cannot read ${path}: ${describeError(error)}`, ExitCode.FAILURE, {
      cause: error,
    });
  }
}
