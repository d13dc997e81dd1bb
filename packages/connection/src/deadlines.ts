/**
 * The requests that share one deadline: same timeout, tracked in the same tick (the clock is read
 * once per tick). A request only counts itself in and out, so tracking costs no list surgery.
 */
export class Bucket {
  live = 0;
  expired = false;
  next: Bucket | null = null;
  constructor(
    readonly deadline: number,
    /** The timeout its requests were given, in ms. */
    readonly timeout: number,
  ) {}
}

/** The buckets of one timeout value, in creation order, which is also deadline order. */
class DeadlineList {
  head: Bucket | null = null;
  tail: Bucket | null = null;
  constructor(readonly timeout: number) {}
}

/** What a `Deadlines` tracks: anything that can hold its bucket (its deadline and timeout). */
export interface Timed {
  bucket: Bucket | null;
}

/**
 * Every deadline of one connection (or of `@iproto/client`'s queue), on one timer armed for the
 * earliest. Requests tracked in the same tick with the same timeout share a bucket, so tracking a
 * request is a counter increment and the timer is re-armed once per bucket, not once per request.
 * @internal
 */
export class Deadlines {
  #lists = new Map<number, DeadlineList>();
  /** One-entry cache of the list of the last timeout used. */
  #lastList: DeadlineList | null = null;
  #timer: NodeJS.Timeout | null = null;
  #timerDue = 0;
  readonly #fire: () => void;

  /** `onTimer(now)` runs when the earliest deadline may have passed. */
  constructor(onTimer: (now: number) => void) {
    this.#fire = () => {
      this.#timer = null;
      onTimer(performance.now());
    };
  }

  /** Starts counting `timeout` ms from `now` for `entry`. */
  track(entry: Timed, now: number, timeout: number): void {
    let list = this.#lastList;
    if (list === null || list.timeout !== timeout) {
      list = this.#lists.get(timeout) ?? null;
      if (list === null) {
        list = new DeadlineList(timeout);
        this.#lists.set(timeout, list);
      }
      this.#lastList = list;
    }
    const deadline = now + timeout;
    let bucket = list.tail;
    if (bucket === null || bucket.deadline !== deadline) {
      // Buckets whose requests all settled go as soon as a newer one comes.
      while (list.head !== null && list.head.live === 0) list.head = list.head.next;
      bucket = new Bucket(deadline, timeout);
      if (list.head === null) list.head = bucket;
      else list.tail!.next = bucket;
      list.tail = bucket;
      this.#arm(deadline);
    }
    bucket.live++;
    entry.bucket = bucket;
  }

  untrack(entry: Timed): void {
    const bucket = entry.bucket;
    if (bucket === null) return;
    bucket.live--;
    entry.bucket = null;
  }

  /**
   * Drops the buckets whose deadline passed, marking those that still hold requests `expired`.
   * True when some did: their requests are found by the owner (one pass over its table and queue;
   * rare, since only requests that time out cost it). Re-arms the timer for what is left.
   */
  sweep(now: number): boolean {
    let expiring = false;
    for (const list of [...this.#lists.values()]) {
      let bucket = list.head;
      // Empty buckets at the head go too, so that the timer is next armed for a deadline that some
      // request still has, not for every tick's bucket in turn.
      while (bucket !== null && (bucket.deadline <= now || bucket.live === 0)) {
        if (bucket.live !== 0) {
          bucket.expired = true;
          expiring = true;
        }
        bucket = bucket.next;
      }
      list.head = bucket;
      if (bucket === null) {
        list.tail = null;
        if (list !== this.#lastList) this.#lists.delete(list.timeout);
      }
    }
    return expiring;
  }

  /** Arms the timer for the earliest deadline still held, if any. */
  rearm(): void {
    let due = Number.POSITIVE_INFINITY;
    for (const list of this.#lists.values()) {
      if (list.head !== null && list.head.deadline < due) due = list.head.deadline;
    }
    if (due !== Number.POSITIVE_INFINITY) this.#arm(due);
  }

  /** Stops the timer (nothing left to time). */
  stop(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #arm(due: number): void {
    if (this.#timer !== null) {
      if (this.#timerDue <= due) return;
      clearTimeout(this.#timer);
    }
    this.#timerDue = due;
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(due - performance.now())));
    // The socket keeps the process alive while it is open; the timer alone must not.
    this.#timer.unref();
  }
}
