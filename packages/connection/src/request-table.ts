import { type DispatchEntry, PINNED, QUEUED } from './entry.js';
import { LiveQueue } from './ring-queue.js';
import { SyncTable } from './sync-table.js';

const MAX_SYNC = 0xfffffffe;

/**
 * The requests of one connection: those holding a sync (in flight, or abandoned and waiting out
 * their grace), found by sync in O(1), and those waiting for a slot, in order.
 */
export class RequestTable {
  readonly #bySync = new SyncTable<DispatchEntry>();
  readonly #queue = new LiveQueue<DispatchEntry>((entry) => entry.state === QUEUED);
  /** Live (QUEUED) entries in the queue: aborted and expired ones stay in it until dropped. */
  get queued(): number {
    return this.#queue.length;
  }
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
  }

  /** The oldest live queued entry, left in the queue. */
  peek(): DispatchEntry | undefined {
    return this.#queue.peek();
  }

  /** Takes the front entry (after `peek` found it live). */
  dequeue(): void {
    this.#queue.shift();
  }

  /**
   * A queued entry settled (aborted or expired): it leaves the count now and the queue later, and
   * until then is not taken as an entry again (see `DispatchEntry#transport`).
   */
  forgetQueued(entry: DispatchEntry): void {
    entry.transport = PINNED;
    this.#queue.forget();
  }

  /** The live queued entries, in order, left in place. */
  queuedEntries(): DispatchEntry[] {
    return this.#queue.live();
  }

  /** Empties the queue; returns its live entries in order. */
  drainQueue(): DispatchEntry[] {
    return this.#queue.drain();
  }
}
