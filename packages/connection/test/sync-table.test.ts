import { describe, expect, it } from 'vitest';
import { SyncTable } from '../src/sync-table.js';

const entry = (sync: number) => ({ sync });

describe('SyncTable', () => {
  it('finds entries by sync and tells taken slots from free ones', () => {
    const table = new SyncTable<{ sync: number }>(16);
    const a = entry(1);
    table.add(a);
    expect(table.get(1)).toBe(a);
    expect(table.get(17)).toBeUndefined(); // same slot, another sync
    expect(table.isFree(17)).toBe(false);
    expect(table.isFree(2)).toBe(true);
    expect(() => table.add(entry(17))).toThrow(/slot of sync 17 is taken/);
    expect(table.remove(entry(1))).toBe(false); // only the very entry is removed
    expect(table.remove(a)).toBe(true);
    expect(table.size).toBe(0);
    expect(table.isFree(17)).toBe(true);
  });

  it('doubles when half full and keeps every entry reachable', () => {
    const table = new SyncTable<{ sync: number }>(16);
    // Consecutive syncs across the wrap, as the connection's counter hands them out.
    const entries = Array.from({ length: 1000 }, (_, i) => entry(i < 10 ? 0xfffffff5 + i : i - 9));
    for (const e of entries) {
      expect(table.isFree(e.sync)).toBe(true);
      table.add(e);
    }
    for (const e of entries) expect(table.get(e.sync)).toBe(e);
    expect(table.size).toBe(1000);
    expect(table.values()).toHaveLength(1000);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.get(entries[0].sync)).toBeUndefined();
  });
});
