import { describe, expect, it } from 'vitest';
// The same harness as `pnpm soak` (bench/soak/), run short: servers in child processes, real kills.
import { runSoak } from '../../../../bench/soak/harness.mjs';

describe('soak (short, seeded)', () => {
  it('keeps every invariant through kill -9, SIGSTOP, late replies, cut frames and wrong syncs', async () => {
    const result = await runSoak({
      requests: 20_000,
      seed: 7,
      inFlight: 1000,
      timeout: 400,
      warmup: 2000,
      faults: ['kill', 'pause', 'delay', 'truncate', 'wrongSync'],
    });
    const violated = result.checks.filter((check: { ok: boolean }) => !check.ok);
    expect(violated).toEqual([]);
    // The faults really happened and really hurt: without them there would be no failures to retry.
    expect(result.chaos.filter((event: { kind: string }) => event.kind !== 'mark')).toHaveLength(5);
    const codes = new Map<string, number>(result.outcomes);
    expect(codes.get('ok')).toBeGreaterThan(10_000);
    expect(codes.get('ERR_UNKNOWN_SYNC')).toBeGreaterThan(0);
    expect(codes.get('ETIMEDOUT')).toBeGreaterThan(0);
    expect(codes.get('ABORT_ERR')).toBeGreaterThan(0);
    expect(result.stats.retries).toBeGreaterThan(0);
    expect(result.stats.serverDown).toBeGreaterThan(0);
  }, 90_000);
});
