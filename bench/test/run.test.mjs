import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../run.mjs', import.meta.url));

describe('bench/run.mjs --quick', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iproto-bench-run-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses an --only name that is no benchmark, before running anything', async () => {
    const out = join(dir, 'never.md');
    const { error, stderr } = await new Promise((resolve) =>
      execFile(
        process.execPath,
        [RUN, '--only', 'peers,nothing-here', '--out', out],
        { timeout: 30_000 },
        (e, _o, err) => resolve({ error: e, stderr: err }),
      ),
    );
    assert.equal(error?.code, 2);
    assert.match(stderr, /no benchmark called nothing-here \(there are: peers, pack,/);
    assert.ok(!existsSync(out));
  });

  it('runs the sections asked for and writes the report and the chart', async () => {
    const out = join(dir, 'RESULTS.md');
    await new Promise((resolve, reject) =>
      execFile(
        process.execPath,
        [RUN, '--quick', '--only', 'peers,framing', '--out', out],
        { timeout: 150_000 },
        (error, _stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve()),
      ),
    );
    const report = readFileSync(out, 'utf8');
    assert.match(report, /^# Benchmark results\n/);
    assert.match(report, /\(`--quick`: short runs, rougher figures\) \(only: peers, framing\)/);
    assert.match(report, /\| Client against its peers \| `bench\/client\.mjs` \| ran in \d+ s \|/);
    assert.match(report, /\| @iproto\/framing \| `packages\/framing\/bench\/run\.mjs` \| ran in \d+ s \|/);
    // Every depth measured for the bare loop, and IProto (defaults) beside it (issue 12's table).
    for (const depth of [1, 256, 1024]) {
      assert.match(
        report,
        new RegExp(
          `\\| IProto send \\(defaults\\), ${depth} in flight \\| [\\d.]+ [kM]? ?req/s \\| bare Node loop, ${depth} in flight \\| [\\d.]+ [kM]? ?req/s \\| [\\d.]+x \\|`,
        ),
      );
    }
    // The Promise floor, the ceiling of any Promise client's ratio, beside the bare loops.
    for (const depth of [1, 256, 1024]) {
      assert.match(
        report,
        new RegExp(
          `\\| Promise floor, ${depth} in flight \\| [\\d.]+ [kM]? ?req/s \\| bare Node loop, ${depth} in flight \\|`,
        ),
      );
      assert.match(
        report,
        new RegExp(
          `\\| Promise floor over 3 sockets, ${depth} in flight \\| [\\d.]+ [kM]? ?req/s \\| bare loop over 3 sockets, ${depth} in flight \\|`,
        ),
      );
    }
    assert.match(report, /\| IProto \(defaults\), heap with 100,000 requests in flight \| [\d.]+ MB \|/);
    assert.ok(report.includes('![Client against its peers: throughput against depth](throughput.svg)'));
    const svg = readFileSync(join(dir, 'throughput.svg'), 'utf8');
    assert.equal((svg.match(/<polyline /g) ?? []).length, 3, 'IProto, Connection and the bare loop');
    assert.ok(!report.includes('@iproto/pack'), 'a section not asked for');
  });
});
