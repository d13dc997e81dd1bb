import { FrameWriter } from '@iproto/framing';
import type { DispatchEntry } from './entry.js';
import type { Transport } from './transport.js';

/** Batches up to this many bytes split over several chunks are joined into one write. */
const SMALL_BATCH = 64 * 1024;

/**
 * A turn's batch is written as soon as it holds this many bytes, not only at the end of the turn:
 * the server starts on the first requests of a long burst while we prepare the rest, instead of the
 * two sides taking turns. 16 KiB keeps the extra writes rare (one per 680 small frames): at 4 KiB,
 * 1024 requests in flight cost six writes per burst of replies, a quarter of the profile.
 */
export const EARLY_WRITE_BYTES = 16 * 1024;

/**
 * Writers with a flush due, flushed together once per turn of the event loop (in its check phase,
 * after every read of the turn has been handled). Requests made from one socket's replies are often
 * spread over several connections (round-robin over a cluster): flushing at the end of each read's
 * tick would write to every connection once per read, in batches a third the size, and the write
 * syscalls would dominate. Flushing after all reads of the turn writes each socket once per turn.
 */
let due: BatchWriter[] = [];
let spare: BatchWriter[] = [];

function flushDue(): void {
  const writers = due;
  due = spare;
  for (let i = 0; i < writers.length; i++) {
    const writer = writers[i]!;
    writer.scheduled = false;
    writer.flush(false);
  }
  writers.length = 0;
  spare = writers;
}

/**
 * The frames of one turn of the event loop, gathered and written to the open socket in one go (one `write`, or
 * several inside cork/uncork), plus the noReply requests of the batch, which are done once it is
 * written.
 */
export class BatchWriter {
  readonly frames = new FrameWriter();
  /** A flush is due at the end of this turn of the event loop. */
  scheduled = false;
  /** Where flushes go: the open transport; null while connecting. */
  transport: Transport | null = null;
  #noReply: DispatchEntry[] | null = null;

  /** `onWritten(batch, transport, error)`: the write holding these noReply entries finished. */
  constructor(
    readonly onWritten: (
      batch: DispatchEntry[],
      transport: Transport,
      error: Error | null | undefined,
    ) => void,
  ) {}

  /** Bytes gathered and not yet handed to the socket. */
  get pendingBytes(): number {
    return this.frames.pendingBytes;
  }

  /** Adds an entry's frame; the batch goes out at the end of the turn, or now when large. */
  add(entry: DispatchEntry): void {
    this.frames.add(entry.msg, entry.sync, entry.body);
    if (entry.noReply) (this.#noReply ??= []).push(entry);
    if (!this.scheduled) {
      this.scheduled = true;
      if (due.push(this) === 1) setImmediate(flushDue);
    } else if (this.frames.pendingBytes >= EARLY_WRITE_BYTES) {
      // The flush due at the end of the turn still runs and writes the rest.
      this.flush(false);
    }
  }

  /**
   * Writes what is gathered to the transport, unless it is connecting or (without `force`) waiting
   * for a drain. `force` hands everything to a socket being retired, whatever its buffer holds.
   */
  flush(force: boolean): void {
    const transport = this.transport;
    const pending = this.frames.pendingBytes;
    if (transport === null || pending === 0 || (transport.needDrain && !force)) return;
    const socket = transport.socket!;
    const chunks = this.frames.take();
    const batch = this.#noReply;
    this.#noReply = null;
    const callback =
      batch === null ? undefined : (error?: Error | null) => this.onWritten(batch, transport, error);
    let ok: boolean;
    if (chunks.length === 1) {
      ok = socket.write(chunks[0], callback);
    } else if (pending <= SMALL_BATCH) {
      // The writer's buffer turned over mid-batch: copying a few KiB is cheaper than a corked writev.
      ok = socket.write(Buffer.concat(chunks, pending), callback);
    } else {
      socket.cork();
      const last = chunks.length - 1;
      for (let i = 0; i < last; i++) socket.write(chunks[i]);
      ok = socket.write(chunks[last], callback);
      socket.uncork();
    }
    if (!ok) transport.needDrain = true;
  }

  /** Drops what is gathered (its socket is gone; the failure path settles the requests). */
  discard(): void {
    this.frames.take();
    this.#noReply = null;
  }
}
