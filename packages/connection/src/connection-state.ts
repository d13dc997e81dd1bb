import { BatchWriter } from './batch-writer.js';
import type { Connection } from './connection.js';
import type { ResolvedOptions } from './connection-options.js';
import { Deadlines } from './deadlines.js';
import type { DispatchEntry } from './entry.js';
import type { IProtoError } from './errors.js';
import { onTimer } from './expiry.js';
import { ReplyBatch } from './reply-batch.js';
import { pump, written } from './request-path.js';
import { RequestTable } from './request-table.js';
import { abort, replyFrame, replyRead } from './settling.js';
import { ended, failed, opened } from './sockets.js';
import type { ConnectionTarget, Transport, TransportOwner } from './transport.js';

/**
 * The state of one `Connection`, shared by the modules of its request path: its sockets
 * (sockets.ts), the requests on them (request-path.ts, settling.ts), their deadlines (expiry.ts)
 * and its closing (closing.ts). Internal: the public `Connection` holds it in a private field, so
 * none of it is reachable from outside. It is its sockets' `TransportOwner`.
 */
export class ConnectionState implements TransportOwner {
  readonly address: string;
  readonly target: ConnectionTarget;
  readonly maxParallel: number;
  readonly maxQueue: number;
  readonly maxWriteBuffer: number;
  readonly closeTimeout: number;
  /** The default deadline of new requests (`Connection#timeout`). */
  timeout: number;

  /** The socket new requests go to. */
  current: Transport | null = null;
  /** Sockets found silent, kept for the replies of requests still within their deadlines. */
  readonly retired = new Set<Transport>();
  /** Sockets `close()` ended, until they go. */
  readonly ending = new Set<Transport>();
  connectWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  closing = false;
  destroyed = false;
  closeWaiters: (() => void)[] = [];
  closeTimer: NodeJS.Timeout | null = null;

  readonly table: RequestTable;
  readonly deadlines: Deadlines;
  readonly writer: BatchWriter;
  readonly replies = new ReplyBatch();
  /** Requests the caller still waits for. */
  unsettled = 0;
  /** The clock, read once per tick of sends, per read and per timer run rather than per request. */
  now = 0;

  constructor(
    /** The public object: what events are emitted on and channel messages name. */
    readonly connection: Connection,
    o: ResolvedOptions,
  ) {
    this.address = o.address;
    this.target = o.target;
    this.maxParallel = o.maxParallel;
    this.maxQueue = o.maxQueue;
    this.maxWriteBuffer = o.maxWriteBuffer;
    this.closeTimeout = o.closeTimeout;
    this.timeout = o.timeout;
    this.table = new RequestTable();
    this.deadlines = new Deadlines((now) => onTimer(this, now));
    this.writer = new BatchWriter((batch, transport, error) => written(this, batch, transport, error));
  }

  // ---- TransportOwner: what a socket reports ------------------------------------------------------

  transportOpened(transport: Transport): void {
    opened(this, transport);
  }

  transportFrame(
    transport: Transport,
    msg: number,
    sync: number,
    bytes: Uint8Array,
    start: number,
    end: number,
  ): void {
    replyFrame(this, transport, msg, sync, bytes, start, end);
  }

  transportRead(transport: Transport): void {
    replyRead(this, transport);
  }

  transportDrained(transport: Transport): void {
    if (transport !== this.current) return;
    this.writer.flush(false);
    if (this.table.queued !== 0) pump(this);
  }

  transportFailed(transport: Transport, error: IProtoError): void {
    failed(this, transport, error);
  }

  transportEnded(transport: Transport): void {
    ended(this, transport);
  }

  entryAborted(entry: DispatchEntry): void {
    abort(this, entry);
  }
}
