import { ENTRY_WAITING, RingQueue } from '@iproto/connection';
import type { Task } from './task.js';

/**
 * The client's queue: the requests waiting behind `maxParallel`, oldest first. The same ring as a
 * connection's queue, and the same lazy removal: a request that settles while it waits (aborted,
 * the client closed) leaves the count at once and the ring when it reaches the front, or when the
 * dead outnumber the living. So queueing costs a request one slot of an array and no field of its
 * own, and an abort from the middle is O(1). A task waits here exactly while its state is WAITING.
 */
export class TaskQueue {
  readonly #ring = new RingQueue<Task>();
  /** Tasks waiting (WAITING); the ring may also hold settled ones not yet dropped. */
  length = 0;

  push(task: Task): void {
    this.#ring.push(task);
    this.length++;
  }

  /** Takes the oldest waiting task out, or undefined when none waits. */
  shift(): Task | undefined {
    this.#dropDead();
    if (this.length === 0) return undefined;
    this.length--;
    return this.#ring.shift();
  }

  /** A waiting task settled: it leaves the count now and the ring later. */
  forget(): void {
    this.length--;
    this.#dropDead();
  }

  /** Empties the queue; returns the tasks that waited, oldest first. */
  drain(): Task[] {
    this.length = 0;
    return this.#ring.drain().filter((task) => task.state === ENTRY_WAITING);
  }

  /**
   * Drops settled tasks: those at the front at once, the rest when they outnumber the living, so
   * that requests aborted from the middle of a long queue do not keep their bodies.
   */
  #dropDead(): void {
    const ring = this.#ring;
    while (ring.length !== 0 && ring.peek()!.state !== ENTRY_WAITING) ring.shift();
    if (ring.length > 64 && ring.length > 2 * this.length)
      ring.filter((task) => task.state === ENTRY_WAITING);
  }
}
