import { afterEach, describe, expect, test, vi } from 'vitest';
import { BoxSpace } from '../../src/testing/box-space.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** A space keyed by a NUM id, with a non-unique TREE index on a STR field 1 and a 2-part one on 1, 2. */
function space(): BoxSpace {
  return new BoxSpace({
    space: 0,
    indexes: [
      { parts: [{ field: 0, type: 'NUM' }] },
      { parts: [{ field: 1, type: 'STR' }], unique: false },
      {
        parts: [
          { field: 1, type: 'STR' },
          { field: 2, type: 'STR' },
        ],
        unique: false,
      },
    ],
  });
}

const ids = (tuples: readonly { fields: readonly Buffer[] }[]): number[] =>
  tuples.map((tuple) => tuple.fields[0].readUInt32LE(0));

/** The ids a range read of `key` on `index` finds, in order. */
function find(box: BoxSpace, index: number, ...key: string[]): number[] {
  const { tuples, start, end } = box.index(index).find(key.map((part) => Buffer.from(part)));
  return ids(tuples.slice(start, end));
}

/** STR key parts compare with `Buffer.compare`: counting its calls counts the index's comparisons. */
function countComparisons(run: () => void): number {
  const spy = vi.spyOn(Buffer, 'compare');
  run();
  const calls = spy.mock.calls.length;
  spy.mockRestore();
  return calls;
}

describe('BoxIndex: a TREE index stays sorted across writes', () => {
  test('regression: a write after a range read costs a binary search, not a sort of the space', () => {
    const box = space();
    const n = 16_000;
    for (let i = 0; i < n; i++) box.put([i, `k${(i * 7919) % n}`, 'x']);
    find(box, 1, 'k1'); // the first ordered read sorts once
    const pair = countComparisons(() => {
      box.put([n, 'k5000', 'y']);
      find(box, 1, 'k5000');
    });
    // log2(16k) = 14: an insert and two binary searches; a re-sort would be some 200k comparisons
    expect(pair).toBeGreaterThan(0);
    expect(pair).toBeLessThan(6 * 15);
    const found = find(box, 1, 'k5000');
    expect(found).toHaveLength(2);
    expect(found[1]).toBe(n); // ties by the primary key: the new, highest id last
  });

  test('regression: a key matching many tuples finds its end by binary search, not by walking them', () => {
    const box = space();
    const n = 10_000;
    for (let i = 0; i < n; i++) box.put([i, i < n - 1 ? 'same' : 'zzz', String(i % 10)]);
    find(box, 1, 'same');
    const comparisons = countComparisons(() => {
      for (let i = 0; i < 100; i++) expect(box.index(1).find([Buffer.from('same')]).end).toBe(n - 1);
    });
    // walking the matches would be 100 x 10k comparisons
    expect(comparisons).toBeLessThan(100 * 2 * 16);
  });

  test('equal keys are ordered by the primary key; partial keys find their prefix in order', () => {
    const box = space();
    for (const [id, a, b] of [
      [5, 'b', '2'],
      [3, 'a', '9'],
      [9, 'b', '1'],
      [1, 'b', '2'],
      [7, 'c', '0'],
    ] as const)
      box.put([id, a, b]);
    expect(find(box, 1, 'b')).toEqual([1, 5, 9]);
    expect(find(box, 2, 'b')).toEqual([9, 1, 5]);
    expect(find(box, 2, 'b', '2')).toEqual([1, 5]);
    expect(find(box, 2)).toEqual([3, 9, 1, 5, 7]);
    expect(find(box, 1, 'bb')).toEqual([]);
    // an update that moves a tuple to another key, a delete, and a new tuple: still in order
    box.put([5, 'a', '0']);
    box.remove(box.byPrimaryKey([Buffer.from([9, 0, 0, 0])])!);
    box.put([0, 'b', '3']);
    expect(find(box, 1, 'a')).toEqual([3, 5]);
    expect(find(box, 1, 'b')).toEqual([0, 1]);
    expect(find(box, 2)).toEqual([5, 3, 1, 0, 7]);
  });

  test('random writes between reads keep every index equal to a fresh sort (seed 1)', () => {
    let seed = 1;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const box = space();
    const model = new Map<number, [number, string, string]>();
    for (let step = 0; step < 3000; step++) {
      const id = random(300);
      const existing = box.byPrimaryKey([Buffer.from(new Uint32Array([id]).buffer)]);
      if (random(4) === 0 && existing !== undefined) {
        box.remove(existing);
        model.delete(id);
      } else {
        const tuple: [number, string, string] = [id, `k${random(20)}`, `${random(5)}`];
        box.put(tuple);
        model.set(id, tuple);
      }
      if (step % 7 === 0) find(box, 1, `k${random(20)}`);
      if (step % 11 === 0) find(box, 2);
    }
    const rows = [...model.values()];
    const byIndex1 = [...rows].sort(
      (a, b) => Buffer.compare(Buffer.from(a[1]), Buffer.from(b[1])) || a[0] - b[0],
    );
    const byIndex2 = [...rows].sort(
      (a, b) =>
        Buffer.compare(Buffer.from(a[1]), Buffer.from(b[1])) ||
        Buffer.compare(Buffer.from(a[2]), Buffer.from(b[2])) ||
        a[0] - b[0],
    );
    expect(find(box, 1)).toEqual(byIndex1.map((row) => row[0]));
    expect(find(box, 2)).toEqual(byIndex2.map((row) => row[0]));
    expect(ids(box.index(0).values())).toEqual(rows.map((row) => row[0]).sort((a, b) => a - b));
  });
});
