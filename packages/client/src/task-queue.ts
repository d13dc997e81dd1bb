import type { Task } from './task.js';

/**
 * The client's queue: the requests waiting behind `maxParallel`, oldest first. A doubly linked list
 * through the tasks themselves (`prev` / `next`), so queueing costs no node and an aborted request
 * leaves from the middle in O(1).
 */
export class TaskQueue {
  head: Task | undefined = undefined;
  tail: Task | undefined = undefined;
  length = 0;

  push(task: Task): void {
    task.prev = this.tail;
    if (this.tail) this.tail.next = task;
    else this.head = task;
    this.tail = task;
    this.length++;
  }

  /** Takes the oldest task out, or undefined when none waits. */
  shift(): Task | undefined {
    const task = this.head;
    if (task) {
      this.head = task.next;
      if (this.head) this.head.prev = undefined;
      else this.tail = undefined;
      task.next = undefined;
      this.length--;
    }
    return task;
  }

  /**
   * Takes a task out from wherever it is: aborting many queued requests newest first must not walk
   * the queue once per abort. A task not in the queue is left alone.
   */
  remove(task: Task): void {
    const { prev, next } = task;
    if (prev) prev.next = next;
    else if (this.head === task) this.head = next;
    else return; // not in the queue
    if (next) next.prev = prev;
    else this.tail = prev;
    task.next = task.prev = undefined;
    this.length--;
  }

  /** Empties the queue; returns the tasks that waited, oldest first. */
  drain(): Task[] {
    const tasks: Task[] = [];
    let task = this.head;
    this.head = this.tail = undefined;
    this.length = 0;
    while (task) {
      const next: Task | undefined = task.next;
      task.next = task.prev = undefined;
      tasks.push(task);
      task = next;
    }
    return tasks;
  }
}
