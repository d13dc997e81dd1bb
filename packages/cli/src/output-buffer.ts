import type { CliIO } from './io.js';

/** Text gathered before it is written: one `write` per ~64 KiB rather than one per line. */
const HIGH_WATER = 64 * 1024;

/**
 * Gathers a command's output and writes it to stdout in pieces, waiting for `drain` when the stream
 * says it is full, so a slow reader (`| less`, a full pipe) slows the command down instead of
 * making it hold the rest of its output in memory.
 */
export class OutputBuffer {
  readonly #stream: CliIO['stdout'];
  #text = '';
  #closed = false;

  constructor(stream: CliIO['stdout']) {
    this.#stream = stream;
  }

  /** Whether the stream closed or failed (the reader went away): nothing more is written. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Appends text; returns true when enough is gathered that the caller should `await flush()`. */
  add(text: string): boolean {
    this.#text += text;
    return this.#text.length >= HIGH_WATER;
  }

  /**
   * Writes what is gathered and resolves when the stream can take more: at once, or on `drain`.
   * Resolves to false when the stream closed or failed instead (then nothing more is written).
   */
  async flush(): Promise<boolean> {
    if (this.#closed) return false;
    const text = this.#text;
    this.#text = '';
    if (text === '') return true;
    const stream = this.#stream;
    if (stream.write(text) !== false || stream.once === undefined) return true;
    return new Promise<boolean>((resolve) => {
      const settle = (ok: boolean) => () => {
        stream.off?.('drain', onDrain);
        stream.off?.('close', onClose);
        stream.off?.('error', onClose);
        if (!ok) this.#closed = true;
        resolve(ok);
      };
      const onDrain = settle(true);
      const onClose = settle(false);
      stream.once?.('drain', onDrain);
      stream.once?.('close', onClose);
      stream.once?.('error', onClose);
    });
  }
}
