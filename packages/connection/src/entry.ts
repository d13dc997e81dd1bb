// A request as a connection holds it, and the one state machine of a request on its way down.

const EMPTY = new Uint8Array(0);

import type { Frame } from '@iproto/framing';
import type { Bucket, Timed } from './deadlines.js';
import type { DispatchHandler, DispatchRequest } from './dispatch.js';
import type { Transport } from './transport.js';

// The states of a request (`DispatchEntry#state`). The connection moves a request from IDLE to
// QUEUED or SENT and back to IDLE when it settles it; a dispatcher above (the client) owns IDLE,
// WAITING and DONE. A request is at a connection exactly while it is QUEUED or SENT.
/**
 * With its dispatcher, at no connection: new, being routed, waiting for a retry, or settled by a
 * connection and handed back.
 * @internal
 */
export const IDLE = 0;
/** In a connection's queue, waiting for a slot; no sync yet. @internal */
export const QUEUED = 1;
/** Has a slot and a sync on a socket; its frame handed to the writer. @internal */
export const SENT = 2;
/**
 * Only a connection's placeholders are ABANDONED: the sync of a request settled early (deadline,
 * abort) is kept by a small stand-in until the late reply comes or its grace ends, so the request
 * itself is handed back at once.
 * @internal
 */
export const ABANDONED = 3;
/** Settled for good (a request by its dispatcher, a placeholder by its connection). @internal */
export const DONE = 4;
/** In its dispatcher's own queue (the client's, behind `maxParallel`). @internal */
export const WAITING = 5;

/**
 * A request that can be its own connection entry. `Connection#dispatch(request, handler)` keeps its
 * state for a request (sync, deadline, socket) in an entry it makes per request, unless `request`
 * is a free `DispatchEntry` that is also the `handler`: then the request object is the entry, and a
 * request costs one object from its dispatcher down to the socket and back. `@iproto/client`'s
 * requests are such objects; a dispatcher of your own may extend this class to the same end.
 *
 * A subclass provides `msg`, `body`, `noReply` and `signal` (and `timeout` if it likes), implements
 * the handler's methods, and leaves the fields it inherits alone while the request is at a
 * connection. The connection adds as little as it can to the object (a request may wait in a queue
 * by the hundred thousand): its state, sync, deadline bucket and socket.
 */
export abstract class DispatchEntry implements DispatchRequest, DispatchHandler, Timed {
  /** The request's message code. */
  declare readonly msg: number;
  /** The request's body. */
  declare readonly body: Uint8Array;
  /** The message has no reply. */
  declare readonly noReply: boolean;
  /** Aborting fails the request (see `DispatchRequest#signal`). */
  declare readonly signal: AbortSignal | null | undefined;

  /** Where the request is (IDLE, QUEUED, SENT, ...). @internal */
  declare state: number;
  /** Its sync on the socket it was written to (from SENT on). @internal */
  declare sync: number;
  /** Its deadline at the connection (shared with the requests tracked in the same tick). @internal */
  declare bucket: Bucket | null;
  /**
   * The socket it was written to (SENT); while QUEUED, a socket of the connection it waits at,
   * whose owner its abort reaches. A queue or write batch may still hold a request the connection
   * settled (both forget lazily); such a request is `PINNED` here: it is not taken as an entry
   * again, and its later tries get an entry of their own.
   * @internal
   */
  declare transport: Transport | null;

  constructor() {
    // Assigned here, not as class fields: a subclass's \`super()\` is then inlined where requests
    // are made (a base class's field initializers kept it from being: +10 ns a request).
    this.state = IDLE;
    this.sync = 0;
    this.bucket = null;
    this.transport = null;
  }

  /** The reply frame, or `undefined` for a `noReply` request once written. */
  abstract onReply(frame: Frame | undefined): void;
  /** The request failed with `error`. */
  abstract onError(error: Error): void;

  /** Bytes its frame takes: header and body. @internal */
  get size(): number {
    return 12 + this.body.length;
  }

  /** The `abort` listener of its signal while it is at a connection. @internal */
  handleEvent(): void {
    this.transport!.owner.entryAborted(this);
  }
}

/**
 * The entry a connection makes for a request that is not a free `DispatchEntry` of its own: the
 * request's fields, and its handler, to which it passes the outcome on.
 */
export class Entry extends DispatchEntry {
  declare readonly msg: number;
  declare readonly body: Uint8Array;
  declare readonly noReply: boolean;
  declare readonly signal: AbortSignal | null;
  readonly handler: DispatchHandler;

  constructor(
    msg: number,
    body: Uint8Array,
    noReply: boolean,
    signal: AbortSignal | null,
    handler: DispatchHandler,
  ) {
    super();
    this.msg = msg;
    this.body = body;
    this.noReply = noReply;
    this.signal = signal;
    this.handler = handler;
  }

  onReply(frame: Frame | undefined): void {
    this.handler.onReply(frame);
  }

  onError(error: Error): void {
    this.handler.onError(error);
  }
}

/** Who is told of an entry's reply: the handler of an `Entry`, or the request itself. */
export function handlerOf(entry: DispatchEntry): DispatchHandler {
  return entry instanceof Entry ? entry.handler : entry;
}

/**
 * The stand-in that keeps the sync of a sent request settled early (ABANDONED): the request itself
 * is handed back at once, free for its next try.
 */
export function placeholder(entry: DispatchEntry): Entry {
  const stand = new Entry(entry.msg, EMPTY, entry.noReply, null, NO_HANDLER);
  stand.state = ABANDONED;
  stand.sync = entry.sync;
  stand.transport = entry.transport;
  stand.bucket = null;
  return stand;
}

const NO_HANDLER: DispatchHandler = { onReply() {}, onError() {} };

/**
 * What `transport` holds for a request settled while a connection's queue or write batch still
 * holds it (see `DispatchEntry#transport`): a socket no request is ever written to.
 */
export const PINNED = Object.freeze({ owner: null }) as unknown as Transport;

/** Whether a connection may take `request` itself as its entry (see `DispatchEntry`). */
export function isFreeEntry(request: DispatchRequest, handler: DispatchHandler): request is DispatchEntry {
  return (
    request === (handler as unknown) &&
    request instanceof DispatchEntry &&
    request.state === IDLE &&
    request.transport !== PINNED
  );
}
