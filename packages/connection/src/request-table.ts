import type { Bucket, Timed } from './deadlines.js';
import type { DispatchHandler } from './dispatch.js';
import { RingQueue } from './ring-queue.js';
import { SyncTable } from './sync-table.js';
import type { Transport } from './transport.js';

// The one state machine of a request on a connection.
/** Waiting for a slot; in the queue, no sync yet. */
export const QUEUED = 0;
/** Has a slot and a sync on a transport; its frame handed to the writer (a noReply one until written). */
export const SENT = 1;
/** Settled by its deadline or signal; its sync kept until the late reply comes or its grace ends. */
export const ABANDONED = 2;
/** Settled; holds nothing. */
export const DONE = 3;

const MAX_SYNC = 0xfffffffe;

/**
 * One request on a connection: what the caller dispatched, its handler, and the connection's state
 * for it (sync, deadline, transport). Also the `abort` listener of its signal (`handleEvent`), so no
 * closure is needed.
 */
export class Entry implements Timed {
  sync = 0;
  state = QUEUED;
  deadline = 0;
  bucket: Bucket | null = null;
  /** The socket it was written to (from SENT on). */
  transport: Transport | null = null;
  /** When it was handed to the writer (the tick's clock). */
  startedAt = 0;

  constructor(
    readonly table: RequestTable,
    readonly msg: number,
    readonly body: Uint8Array,
    readonly noReply: boolean,
    readonly timeout: number,
    readonly signal: AbortSignal | null,
    readonly handler: DispatchHandler,
  ) {}

  /** Bytes its frame takes: header and body. */
  get size(): number {
    return 12 + this.body.length;
  }

  handleEvent(): void {
    this.table.onAbort(this);
  }
}

/**
 * The requests of one connection: those holding a sync (in flight, or abandoned and waiting out
 * their grace), found by sync in O(1), and those waiting for a slot, in order.
 */
export class RequestTable {
  readonly #bySync = new SyncTable<Entry>();
  readonly #queue = new RingQueue<Entry>();
  /** Live (QUEUED) entries in the queue: aborted and expired ones stay in it until they reach the front. */
  queued = 0;
  #lastSync = 0;

  /** `onAbort(entry)`: the entry's signal fired. */
  constructor(readonly onAbort: (entry: Entry) => void) {}

  /** Entries holding a sync, on every transport. */
  get size(): number {
    return this.#bySync.size;
  }

  get(sync: number): Entry | undefined {
    return this.#bySync.get(sync);
  }

  /**
   * Gives an entry the next free sync and files it. A counter rather than Perl's random draw
   * (MR::IProto::Connection::Async `_choose_sync`): cheaper, and a sync is not reused until 2^32 - 2
   * later requests, so a very late reply cannot be taken for a newer request's. Values whose slot is
   * taken (a request still in flight with the same low bits) are skipped, so syncs stay unique.
   */
  add(entry: Entry): void {
    let sync = this.#lastSync;
    do {
      sync = sync >= MAX_SYNC ? 1 : sync + 1;
    } while (!this.#bySync.isFree(sync));
    this.#lastSync = sync;
    entry.sync = sync;
    this.#bySync.add(entry);
  }

  remove(entry: Entry): void {
    this.#bySync.remove(entry);
  }

  /** Every entry holding a sync (O(capacity): for failure paths). */
  values(): Entry[] {
    return this.#bySync.values();
  }

  clear(): void {
    this.#bySync.clear();
  }

  enqueue(entry: Entry): void {
    this.#queue.push(entry);
    this.queued++;
  }

  /** The oldest live queued entry, left in the queue; dead ones in front of it are dropped. */
  peek(): Entry | undefined {
    this.dropDead();
    return this.#queue.peek();
  }

  /** Takes the front entry (after `peek` found it live). */
  dequeue(): void {
    this.#queue.shift();
    this.queued--;
  }

  /** A queued entry settled (aborted or expired): it leaves the count now and the queue later. */
  forgetQueued(): void {
    this.queued--;
    this.dropDead();
  }

  /**
   * Forgets queued entries that were aborted or expired: those at the front at once, the rest when
   * they outnumber the living. Runs on every such death too, not only when a slot frees, because
   * while a stuck server holds every slot nothing moves, and dead entries would keep their bodies.
   */
  dropDead(): void {
    const queue = this.#queue;
    while (queue.length !== 0 && queue.peek()!.state !== QUEUED) queue.shift();
    if (queue.length > 64 && queue.length > 2 * this.queued) queue.filter((e) => e.state === QUEUED);
  }

  /** The live queued entries, in order, left in place. */
  queuedEntries(): Entry[] {
    return this.#queue.toArray().filter((e) => e.state === QUEUED);
  }

  /** Empties the queue; returns its live entries in order. */
  drainQueue(): Entry[] {
    const live = this.#queue.drain().filter((e) => e.state === QUEUED);
    this.queued = 0;
    return live;
  }
}
