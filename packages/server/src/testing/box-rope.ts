/** A node of a `BoxRope`: a value, its measure, and the measure of its whole subtree. */
interface RopeNode<T> {
  value: T;
  size: number;
  total: number;
  priority: number;
  left: RopeNode<T> | undefined;
  right: RopeNode<T> | undefined;
}

/** Counts the nodes a rope visits, so a test can check the work grows as ops times a logarithm. */
export interface RopeStats {
  work: number;
}

/**
 * A sequence of values addressed by position, each value measuring `measure(value)` (a run of fields,
 * a chunk of bytes) and cut in two by `cut` where a split falls inside it: an implicit treap, so
 * inserting, removing and cutting at a position cost O(log n). Tarantool 1.5's `tuple_update` keeps an UPDATE's fields in a rope for
 * the same reason: an INSERT or DELETE op in the middle of a long tuple must not move every field
 * after it. Priorities come from `Math.random`, so no client can choose positions that unbalance it.
 */
export class BoxRope<T> {
  private root: RopeNode<T> | undefined;
  private readonly measure: (value: T) => number;
  private readonly cut: (value: T, at: number) => [T, T];
  private readonly stats: RopeStats | undefined;

  constructor(measure: (value: T) => number, cut: (value: T, at: number) => [T, T], stats?: RopeStats) {
    this.measure = measure;
    this.cut = cut;
    this.stats = stats;
  }

  /** The total measure: the field count, or the byte length. */
  get length(): number {
    return this.root?.total ?? 0;
  }

  /** Adds `value` at the end. */
  push(value: T): void {
    this.root = this.merge(this.root, this.node(value));
  }

  /** Inserts `value` so that it starts at `at` (0 to `length`). */
  insert(at: number, value: T): void {
    const [left, right] = this.split(this.root, at);
    this.root = this.merge(this.merge(left, this.node(value)), right);
  }

  /** Removes the measure from `at` to `at + count` (both within `length`). */
  remove(at: number, count: number): void {
    const [left, rest] = this.split(this.root, at);
    const [, right] = this.split(rest, count);
    this.root = this.merge(left, right);
  }

  /** The value covering position `at` (below `length`), and where `at` falls inside it. */
  locate(at: number): { value: T; offset: number } {
    let node = this.root;
    while (node !== undefined) {
      this.visit();
      const left = node.left?.total ?? 0;
      if (at < left) node = node.left;
      else if (at < left + node.size) return { value: node.value, offset: at - left };
      else {
        at -= left + node.size;
        node = node.right;
      }
    }
    throw new RangeError(`box rope: position ${at} is past the end`);
  }

  /** Every value, in order. */
  values(): T[] {
    const out: T[] = [];
    const stack: RopeNode<T>[] = [];
    let node = this.root;
    while (node !== undefined || stack.length > 0) {
      while (node !== undefined) {
        stack.push(node);
        node = node.left;
      }
      const top = stack.pop() as RopeNode<T>;
      out.push(top.value);
      node = top.right;
    }
    return out;
  }

  private node(value: T): RopeNode<T> {
    const size = this.measure(value);
    return { value, size, total: size, priority: Math.random(), left: undefined, right: undefined };
  }

  /** Splits into the first `at` of the measure and the rest, cutting a value that straddles `at`. */
  private split(
    node: RopeNode<T> | undefined,
    at: number,
  ): [RopeNode<T> | undefined, RopeNode<T> | undefined] {
    if (node === undefined) return [undefined, undefined];
    this.visit();
    const left = node.left?.total ?? 0;
    if (at <= left) {
      const [a, b] = this.split(node.left, at);
      node.left = b;
      this.update(node);
      return [a, node];
    }
    if (at >= left + node.size) {
      const [a, b] = this.split(node.right, at - left - node.size);
      node.right = a;
      this.update(node);
      return [node, b];
    }
    const [head, tail] = this.cut(node.value, at - left);
    node.value = head;
    node.size = this.measure(head);
    const right = this.merge(this.node(tail), node.right);
    node.right = undefined;
    this.update(node);
    return [node, right];
  }

  private merge(a: RopeNode<T> | undefined, b: RopeNode<T> | undefined): RopeNode<T> | undefined {
    if (a === undefined) return b;
    if (b === undefined) return a;
    this.visit();
    if (a.priority > b.priority) {
      a.right = this.merge(a.right, b);
      this.update(a);
      return a;
    }
    b.left = this.merge(a, b.left);
    this.update(b);
    return b;
  }

  private update(node: RopeNode<T>): void {
    node.total = (node.left?.total ?? 0) + node.size + (node.right?.total ?? 0);
  }

  private visit(): void {
    if (this.stats !== undefined) this.stats.work++;
  }
}
