import { type DispatchEntry, PINNED, QUEUED } from './entry.js';
import { RingQueue } from './ring-queue.js';
import { SyncTable } from './sync-table.js';

const MAX_SYNC = 0xfffffffe;

/**
 * The requests of one connection: those holding a sync (in flight, or abandoned and waiting out
 * their grace), found by sync in O(1), and those waiting for a slot, in order.
 */
export class RequestTable {
  readonly #bySync = new SyncTable<DispatchEntry>();
  readonly #queue = new RingQueue<DispatchEntry>();
  /** Live (QUEUED) entries in the queue: aborted and expired ones stay in it until they reach the front. */
  queued = 0;
  #lastSync = 0;

  /** Entries holding a sync, on every transport. */
  get size(): number {
    return this.#bySync.size;
  }

  get(sync: number): DispatchEntry | undefined {
    return this.#bySync.get(sync);
  }

  /**
   * Gives an entry the next free sync and files it. A counter rather than Perl's random draw
   * (MR::IProto::Connection::Async `_choose_sync`): cheaper, and a sync is not reused until 2^32 - 2
   * later requests, so a very late reply cannot be taken for a newer request's. Values whose slot is
   * taken (a request still in flight with the same low bits) are skipped, so syncs stay unique.
   */
  add(entry: DispatchEntry): void {
    let sync = this.#lastSync;
    do {
      sync = sync >= MAX_SYNC ? 1 : sync + 1;
    } while (!this.#bySync.isFree(sync));
    this.#lastSync = sync;
    entry.sync = sync;
    this.#bySync.add(entry);
  }

  remove(entry: DispatchEntry): void {
    this.#bySync.remove(entry);
  }

  /** Files `stand` under the sync of `entry`, which leaves. */
  replace(entry: DispatchEntry, stand: DispatchEntry): void {
    this.#bySync.remove(entry);
    this.#bySync.add(stand);
  }

  /** Every entry holding a sync (O(capacity): for failure paths). */
  values(): DispatchEntry[] {
    return this.#bySync.values();
  }

  clear(): void {
    this.#bySync.clear();
  }

  enqueue(entry: DispatchEntry): void {
    this.#queue.push(entry);
    this.queued++;
  }

  /** The oldest live queued entry, left in the queue; dead ones in front of it are dropped. */
  peek(): DispatchEntry | undefined {
    this.dropDead();
    return this.#queue.peek();
  }

  /** Takes the front entry (after `peek` found it live). */
  dequeue(): void {
    this.#queue.shift();
    this.queued--;
  }

  /**
   * A queued entry settled (aborted or expired): it leaves the count now and the queue later, and
   * until then is not taken as an entry again (see `DispatchEntry#transport`).
   */
  forgetQueued(entry: DispatchEntry): void {
    entry.transport = PINNED;
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
  queuedEntries(): DispatchEntry[] {
    return this.#queue.toArray().filter((e) => e.state === QUEUED);
  }

  /** Empties the queue; returns its live entries in order. */
  drainQueue(): DispatchEntry[] {
    const live = this.#queue.drain().filter((e) => e.state === QUEUED);
    this.queued = 0;
    return live;
  }
}
