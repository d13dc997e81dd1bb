import { describe, expect, it } from 'vitest';
import { MAX_WEIGHT } from '../src/weight.js';
import { HASH_REACH, WeightedList } from '../src/weighted-list.js';

const server = (i: number, weight: number) => ({ host: `h${i}`, port: 1, weight });

describe('WeightedList', () => {
  it.each([
    [[1]],
    [[3, 0, 2]],
    [[0, 4096, 1]],
    [[4095, 1, 1, 4097, 0, 3]],
    [[1, 1, 1, 1, 1, 70_000, 1, 1, 1, 2, 1]],
    [[65_536, 65_536, 3, 1, 1, 1, 500_000, 1, 1]],
    [[700_000, 1, 1, 1, 700_000, 1, 1]],
  ])('entry i is entry i of the expanded list, for every reachable i (weights %j)', (weights) => {
    const servers = weights.map((w, i) => server(i, w));
    const list = new WeightedList(servers);
    const expanded = servers.flatMap((s) => Array<typeof s>(s.weight).fill(s));
    expect(list.length).toBe(expanded.length);
    expect(list.modulus).toBe(Math.min(expanded.length, HASH_REACH));
    let wrong = 0;
    for (let i = 0; i < list.modulus; i++) if (list.at(i) !== expanded[i]) wrong++;
    expect(wrong).toBe(0);
  });

  it('finds the entries of a list of 10^9 (1000 servers of MAX_WEIGHT)', () => {
    const list = new WeightedList(Array.from({ length: 1000 }, (_, i) => server(i, MAX_WEIGHT)));
    expect(list.length).toBe(1000 * MAX_WEIGHT);
    expect(list.at(0).host).toBe('h0');
    expect(list.at(MAX_WEIGHT).host).toBe('h1');
    expect(list.at(HASH_REACH - 1).host).toBe(`h${Math.floor((HASH_REACH - 1) / MAX_WEIGHT)}`);
  });

  it('refuses a weight that is not a count, and one above MAX_WEIGHT, naming the server', () => {
    expect(() => new WeightedList([server(0, -1)])).toThrow(
      'server h0:1: weight must be a non-negative integer, got -1',
    );
    expect(() => new WeightedList([server(0, 1.5)])).toThrow(TypeError);
    expect(() => new WeightedList([{ host: '::1', port: 5, weight: MAX_WEIGHT + 1 }])).toThrow(
      expect.objectContaining({
        code: 'ERR_WEIGHT_LIMIT',
        message: expect.stringMatching(/^server \[::1\]:5: /),
      }),
    );
  });

  it('an empty list (every weight 0) has length 0 and no random entry', () => {
    const list = new WeightedList([server(0, 0), server(1, 0)]);
    expect([list.length, list.modulus, list.random(() => true)]).toEqual([0, 0, undefined]);
  });
});
