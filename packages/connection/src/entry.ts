// A request as a connection holds it, and the one state machine of a request on its way down.
import type { Bucket, Timed } from './deadlines.js';
import type { DispatchHandler, DispatchRequest } from './dispatch.js';
import type { RequestTable } from './request-table.js';
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
 * A subclass provides `msg`, `body`, `noReply` and `signal`, implements the handler's methods, and
 * leaves the fields it inherits alone while the request is at a connection.
 */
export abstract class DispatchEntry implements DispatchRequest, Timed {
  /** The request's message code. */
  declare readonly msg: number;
  /** The request's body. */
  declare readonly body: Uint8Array;
  /** The message has no reply. */
  declare readonly noReply: boolean;
  /** Aborting fails the request (see `DispatchRequest#signal`). */
  declare readonly signal: AbortSignal | null | undefined;

  /** Where the request is (IDLE, QUEUED, SENT, ...). @internal */
  state: number = IDLE;
  /** Its sync on the socket it was written to (from SENT on). @internal */
  sync = 0;
  /** @internal */
  deadline = 0;
  /** @internal */
  bucket: Bucket | null = null;
  /** The socket it was written to (from SENT on). @internal */
  transport: Transport | null = null;
  /** The requests of the connection holding it, whose `onAbort` its signal reaches. @internal */
  table: RequestTable | null = null;
  /** Its deadline at the connection, in ms (0 for none). @internal */
  timeoutMs = 0;
  /** Where the connection reports its outcome. @internal */
  handler: DispatchHandler | null = null;
  /**
   * Settled while a connection's queue or write batch still held it (both forget lazily): it is not
   * taken as an entry again, and its later tries get an entry of their own.
   * @internal
   */
  pinned = false;

  /** Bytes its frame takes: header and body. @internal */
  get size(): number {
    return 12 + this.body.length;
  }

  /** The `abort` listener of its signal while it is at a connection. @internal */
  handleEvent(): void {
    this.table!.onAbort(this);
  }
}

const EMPTY = new Uint8Array(0);

/** The entry a connection makes for a request that is not a free `DispatchEntry` of its own. */
export class Entry extends DispatchEntry {
  override readonly msg: number;
  override readonly body: Uint8Array;
  override readonly noReply: boolean;
  override readonly signal: AbortSignal | null;

  constructor(msg: number, body: Uint8Array, noReply: boolean, signal: AbortSignal | null) {
    super();
    this.msg = msg;
    this.body = body;
    this.noReply = noReply;
    this.signal = signal;
  }
}

/**
 * The stand-in that keeps the sync of a sent request settled early (ABANDONED): the request itself
 * is handed back at once, free for its next try.
 */
export function placeholder(entry: DispatchEntry): Entry {
  const stand = new Entry(entry.msg, EMPTY, entry.noReply, null);
  stand.state = ABANDONED;
  stand.sync = entry.sync;
  stand.transport = entry.transport;
  stand.table = entry.table;
  return stand;
}

/** Whether a connection may take `request` itself as its entry (see `DispatchEntry`). */
export function isFreeEntry(request: DispatchRequest, handler: DispatchHandler): request is DispatchEntry {
  return (
    request === (handler as unknown) &&
    request instanceof DispatchEntry &&
    request.state === IDLE &&
    !request.pinned
  );
}
