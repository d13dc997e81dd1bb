/** What a `SyncTable` holds: anything that knows its own sync. */
export interface HasSync {
  sync: number;
}

/**
 * The requests in flight on a connection, by sync: a hash table whose hash is the sync's low bits.
 * Syncs come from a counter, so consecutive requests land in consecutive slots; the connection never
 * hands out a sync whose slot is taken (`isFree`), so two entries never collide and a lookup is one
 * array read and one comparison. The table doubles when half full, so the counter always finds a free
 * slot soon. (A JavaScript `Map` did the same job at about a quarter of the connection's CPU time per
 * request; see the README.)
 */
export class SyncTable<T extends HasSync> {
  #slots: (T | undefined)[];
  #mask: number;
  #size = 0;

  constructor(initialCapacity = 64) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.#slots = new Array(capacity).fill(undefined);
    this.#mask = capacity - 1;
  }

  get size(): number {
    return this.#size;
  }

  /** The entry with this sync, or undefined. */
  get(sync: number): T | undefined {
    const entry = this.#slots[sync & this.#mask];
    return entry !== undefined && entry.sync === sync ? entry : undefined;
  }

  /** True when `sync` may be handed out: its slot is empty. */
  isFree(sync: number): boolean {
    return this.#slots[sync & this.#mask] === undefined;
  }

  /** Adds an entry under its own `sync`, whose slot must be free (see `isFree`). */
  add(entry: T): void {
    if (this.#size * 2 >= this.#slots.length) this.#grow();
    const index = entry.sync & this.#mask;
    if (this.#slots[index] !== undefined) throw new Error(`SyncTable: slot of sync ${entry.sync} is taken`);
    this.#slots[index] = entry;
    this.#size++;
  }

  /** Removes `entry` if it is the one held under its sync. */
  remove(entry: T): boolean {
    const index = entry.sync & this.#mask;
    if (this.#slots[index] !== entry) return false;
    this.#slots[index] = undefined;
    this.#size--;
    return true;
  }

  /** Every entry (O(capacity): for the failure path). */
  values(): T[] {
    const out: T[] = [];
    for (const entry of this.#slots) if (entry !== undefined) out.push(entry);
    return out;
  }

  clear(): void {
    if (this.#size === 0) return;
    this.#slots.fill(undefined);
    this.#size = 0;
  }

  /**
   * Doubles the table. Entries cannot collide afterwards: two syncs that differed in their low bits
   * still differ in more of them.
   */
  #grow(): void {
    const old = this.#slots;
    const slots = new Array<T | undefined>(old.length * 2).fill(undefined);
    const mask = slots.length - 1;
    for (const entry of old) if (entry !== undefined) slots[entry.sync & mask] = entry;
    this.#slots = slots;
    this.#mask = mask;
  }
}
