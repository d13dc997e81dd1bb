/** Where a command writes and reads; `process` streams in the real command, buffers in tests. */
export interface CliIO {
  /**
   * `write` returning false, with `once`/`off`, is a stream asking to wait for `drain` (Node's
   * backpressure): commands with a lot of output (`decode`) wait. Without them, writes never wait.
   */
  stdout: {
    /** Writes `text`; `false` asks to wait for `drain`. */
    write(text: string): unknown;
    isTTY?: boolean;
    columns?: number;
    /** Listens once for `drain` (or `close`/`error` while waiting for it). */
    once?(event: 'drain' | 'close' | 'error', listener: (...args: unknown[]) => void): unknown;
    /** Removes a listener added with `once`. */
    off?(event: 'drain' | 'close' | 'error', listener: (...args: unknown[]) => void): unknown;
  };
  stderr: {
    /** Writes `text`: errors and progress. */
    write(text: string): unknown;
  };
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
