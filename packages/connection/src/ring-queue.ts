/**
 * A FIFO queue over a power-of-two ring that grows by doubling and never shifts an array. Items are
 * taken out from the front only; a caller that must drop an item from the middle marks it dead and
 * skips it when it reaches the front (see `RequestTable`; `@iproto/client`'s queue is one too), so
 * removal stays O(1).
 * @internal
 */
export class RingQueue<T> {
  #items: (T | undefined)[];
  #mask: number;
  #head = 0;
  #length = 0;

  constructor(initialCapacity = 16) {
    let capacity = 1;
    while (capacity < initialCapacity) capacity *= 2;
    this.#items = new Array(capacity);
    this.#mask = capacity - 1;
  }

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & this.#mask] = item;
    this.#length++;
  }

  /** The front item, or undefined when empty. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** Takes the front item out, or returns undefined when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#length--;
    return item;
  }

  /** Keeps only the items `keep` accepts, in order (O(n); for rare compaction). */
  filter(keep: (item: T) => boolean): void {
    const kept: T[] = [];
    let item = this.shift();
    while (item !== undefined) {
      if (keep(item)) kept.push(item);
      item = this.shift();
    }
    this.#head = 0;
    for (const k of kept) this.push(k);
  }

  /** What the queue holds, in order, without taking it out (O(n)). */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.#length; i++) out.push(this.#items[(this.#head + i) & this.#mask]!);
    return out;
  }

  /** Empties the queue and returns what it held, in order. */
  drain(): T[] {
    const out: T[] = [];
    let item = this.shift();
    while (item !== undefined) {
      out.push(item);
      item = this.shift();
    }
    this.#head = 0;
    return out;
  }

  #grow(): void {
    const old = this.#items;
    const items = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.#length; i++) items[i] = old[(this.#head + i) & this.#mask];
    this.#items = items;
    this.#head = 0;
    this.#mask = items.length - 1;
  }
}
