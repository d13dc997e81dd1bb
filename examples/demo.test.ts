import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runScript } from './support/run-script.js';

/**
 * Runs the demo exactly as `pnpm demo` does (after the build, against the packages' dist) and
 * checks what it prints and that it exits by itself with code 0: a handle left open would keep
 * the process alive past the timeout.
 */
it('runs the sharded key-value demo to a clean exit', async () => {
  const demo = fileURLToPath(new URL('./demo.mjs', import.meta.url));
  const { code, signal, stdout, stderr } = await runScript(
    demo,
    ['--keys', '3000', '--load', '5000'],
    50_000,
  );
  expect(signal, `demo was killed (hung?)\n${stdout}\n${stderr}`).toBeNull();
  expect(code, `${stdout}\n${stderr}`).toBe(0);
  expect(stderr).toBe('');

  // every shard got a fair share of the 3,000 keys: three bars, each with its count
  const bars = [...stdout.matchAll(/^ {2}shard (\d) +█*░* +([\d,]+) +[\d.]+%$/gm)];
  const firstChart = bars.slice(0, 3).map((m) => Number(m[2].replace(/,/g, '')));
  expect(firstChart).toHaveLength(3);
  expect(firstChart.reduce((a, b) => a + b, 0)).toBe(3000);
  for (const n of firstChart) expect(n).toBeGreaterThan(500);

  expect(stdout).toContain('read back: 3,000 of 3,000 match, 0 missing, 0 failed');
  // the kill is seen by the cluster and the shard comes back
  expect(stdout).toMatch(/\[cluster\] server down: shard 2 127\.0\.0\.1:\d+/);
  expect(stdout).toMatch(/\[cluster\] server up: shard 2 127\.0\.0\.1:\d+/);
  expect(stdout).toContain('1,500 of 1,500 writes succeeded, 0 failed');
  // shard 2's share of the new keys went to the other two shards
  const moved =
    /([\d,]+) writes meant for shard 2 failed over: ([\d,]+) to shard 1, ([\d,]+) to shard 3/.exec(stdout);
  expect(moved).not.toBeNull();
  const [total, one, three] = moved!.slice(1).map((n) => Number(n.replace(/,/g, '')));
  expect(total).toBe(one + three);
  expect(total).toBeGreaterThan(200);
  // after the restart, shard 2 serves its keys again
  expect(stdout).toMatch(/shard 2 answered [1-9][\d,]* of those reads/);
  expect(stdout).toMatch(/throughput +[\d,]+ req\/s +\(0 failed\)/);
  expect(stdout).toMatch(/latency +p50 [\d.]+ ms +p90 [\d.]+ ms +p99 [\d.]+ ms +max [\d.]+ ms/);
  expect(stdout).toContain('done: every key accounted for');
});

it('refuses a --keys that is not a count, with one line and exit code 2', async () => {
  const demo = fileURLToPath(new URL('./demo.mjs', import.meta.url));
  const { code, stdout, stderr } = await runScript(demo, ['--keys', 'x'], 20_000);
  expect(code).toBe(2);
  expect(stdout).toBe('');
  expect(stderr).toBe('demo: --keys must be an integer >= 2, got "x"\n');
});
