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
 * goes over, so an endless pipe costs at most one chunk more than the limit.
 */
export async function readStdin(io: CliIO, what: string, limit = MAX_STDIN_VALUE): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of io.stdin) {
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
    if (error instanceof CliError) throw error;
    throw new CliError(`${what}: cannot read stdin: ${describeError(error)}`, ExitCode.FAILURE, {
      cause: error,
    });
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
