import { frameBody } from '@iproto/framing';
import type { DispatchHandler } from './dispatch.js';

/** Entries per reply waiting in a `ReplyBatch`: handler, bytes, msg, sync, start, end. */
const SLOTS = 6;

/**
 * A handler that throws is a bug in the caller's code: surface it as an uncaught exception, as Node
 * does for a throwing listener, but only after our bookkeeping is done.
 */
export function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * The replies of one read, handed to their handlers after the whole read is decoded: like promise
 * reactions, handler code never runs inside the decoder's loop. The arrays are kept and overwritten,
 * not grown afresh per read.
 */
export class ReplyBatch {
  #replies: (DispatchHandler | Uint8Array | number | undefined)[] = [];
  #spare: (DispatchHandler | Uint8Array | number | undefined)[] = [];
  #count = 0;

  push(
    handler: DispatchHandler,
    msg: number,
    sync: number,
    bytes: Uint8Array,
    start: number,
    end: number,
  ): void {
    const replies = this.#replies;
    const n = this.#count;
    replies[n] = handler;
    replies[n + 1] = bytes;
    replies[n + 2] = msg;
    replies[n + 3] = sync;
    replies[n + 4] = start;
    replies[n + 5] = end;
    this.#count = n + SLOTS;
  }

  /** Hands every reply over, as a byte range to handlers that take one, else as a frame. */
  deliver(): void {
    const count = this.#count;
    if (count === 0) return;
    const replies = this.#replies;
    // A read started from a handler would fill the other array.
    this.#replies = this.#spare;
    this.#count = 0;
    for (let i = 0; i < count; i += SLOTS) {
      const handler = replies[i] as DispatchHandler;
      const bytes = replies[i + 1] as Uint8Array;
      const msg = replies[i + 2] as number;
      const sync = replies[i + 3] as number;
      const start = replies[i + 4] as number;
      const end = replies[i + 5] as number;
      // Cleared as we go: the kept array must not hold on to handlers or reads.
      replies[i] = undefined;
      replies[i + 1] = undefined;
      try {
        if (handler.onReplyBytes !== undefined) handler.onReplyBytes(msg, sync, bytes, start, end);
        else handler.onReply({ msg, sync, body: frameBody(bytes, start, end) });
      } catch (error) {
        rethrowLater(error);
      }
    }
    this.#spare = replies;
  }
}
