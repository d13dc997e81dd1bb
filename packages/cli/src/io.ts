/** Where a command writes and reads; `process` streams in the real command, buffers in tests. */
export interface CliIO {
  stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(text: string): unknown };
  stdin: AsyncIterable<Uint8Array | string>;
  /** Stops long-running commands (`serve`, `bench`); the real command aborts it on SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

export function processIO(signal?: AbortSignal): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // process.stdin opens the stream on first access; only `decode -` needs it.
    get stdin() {
      return process.stdin;
    },
    signal,
  };
}

/** Reads a whole stream into one buffer. */
export async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
