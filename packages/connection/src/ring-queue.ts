/**
 * A FIFO queue over a power-of-two ring that grows by doubling and never shifts an array. Items are
 * taken out from the front only; dropping one from the middle is `LiveQueue`'s job.
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

/**
 * A FIFO queue whose items may die while they wait (a request aborted or expired in a queue), kept
 * O(1): a dead item leaves the count at once (`forget`) and the ring when it reaches the front, or
 * when the dead outnumber the living. Dead items are dropped on every death too, not only when the
 * queue moves: while a stuck server holds every slot nothing moves, and they would keep their
 * bodies. A connection's queue and `@iproto/client`'s are each one.
 * @internal
 */
export class LiveQueue<T> {
  readonly #ring = new RingQueue<T>();
  readonly #isLive: (item: T) => boolean;
  /** Live items; the ring may also hold dead ones not yet dropped. */
  length = 0;

  /** `isLive(item)`: whether an item still waits (a dead one never lives again). */
  constructor(isLive: (item: T) => boolean) {
    this.#isLive = isLive;
  }

  push(item: T): void {
    this.#ring.push(item);
    this.length++;
  }

  /** The oldest live item, left in the queue. */
  peek(): T | undefined {
    this.#dropDead();
    return this.#ring.peek();
  }

  /** Takes the oldest live item out, or returns undefined when none waits. */
  shift(): T | undefined {
    this.#dropDead();
    if (this.length === 0) return undefined;
    this.length--;
    return this.#ring.shift();
  }

  /** An item in the queue died: it leaves the count now and the ring later. */
  forget(): void {
    this.length--;
    this.#dropDead();
  }

  /** The live items, in order, left in place (O(n)). */
  live(): T[] {
    return this.#ring.toArray().filter(this.#isLive);
  }

  /** Empties the queue; returns its live items in order. */
  drain(): T[] {
    this.length = 0;
    return this.#ring.drain().filter(this.#isLive);
  }

  #dropDead(): void {
    const ring = this.#ring;
    const isLive = this.#isLive;
    while (ring.length !== 0 && !isLive(ring.peek()!)) ring.shift();
    if (ring.length > 64 && ring.length > 2 * this.length) ring.filter(isLive);
  }
}
