import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { target } from '../lib/format.mjs';
import { ratioOf, renderReport } from '../lib/report.mjs';

const machine = {
  cpu: 'Some CPU',
  cores: 2,
  memory: '4.0 GiB',
  os: 'Linux x64',
  node: 'v20.0.0',
  perl: '5.36.0',
  mrIProto: 'libmr-tarantool-perl 0.0.24-2',
  cc: '12.2.0',
};

function run(value) {
  return {
    date: '2026-01-01 00:00 UTC',
    quick: false,
    seconds: 12.4,
    machine,
    loadStart: '1.00 1.00 1.00',
    loadEnd: '2.00 2.00 2.00',
    sections: [
      {
        title: 'Client against its peers',
        file: 'bench/client.mjs',
        status: 'ok',
        seconds: 30,
        chart: 'throughput.svg',
        results: [
          {
            name: 'IProto send, 256 in flight',
            unit: 'req/s',
            value,
            baseline: 'bare Node loop',
            baselineValue: 1_000_000,
            target: '>= 0.5x',
            pass: value / 1_000_000 >= 0.5,
          },
        ],
        notes: ['Echo server: native.'],
      },
      {
        title: '@iproto/pack',
        file: 'packages/pack/bench/run.mjs',
        status: 'missing',
        reason: 'no bench/run.mjs yet',
        seconds: 0,
      },
      {
        title: '@iproto/server',
        file: 'packages/server/bench/run.mjs',
        status: 'failed',
        reason: 'exit code 1 (boom)',
        seconds: 2,
      },
      {
        title: '@iproto/cluster',
        file: 'packages/cluster/bench/run.mjs',
        status: 'timeout',
        reason: 'killed after 180 s',
        seconds: 180,
      },
    ],
  };
}

const headings = (text) => text.split('\n').filter((l) => l.startsWith('#'));

describe('renderReport', () => {
  it('describes the machine and the load', () => {
    const text = renderReport(run(600_000));
    assert.ok(text.includes('| CPU | Some CPU |'));
    assert.ok(text.includes('| Cores | 2 |'));
    assert.ok(text.includes('| MR::IProto | libmr-tarantool-perl 0.0.24-2 |'));
    assert.ok(text.includes('1.00 1.00 1.00 at the start, 2.00 2.00 2.00 at the end'));
  });

  it('sets each figure beside its baseline, with the ratio and the verdict', () => {
    const text = renderReport(run(600_000));
    assert.ok(
      text.includes(
        '| IProto send, 256 in flight | 600 k req/s | bare Node loop | 1.00 M req/s | 0.60x | >= 0.5x | yes |',
      ),
    );
    assert.ok(text.includes('No target was missed in this run.'));
    assert.ok(text.includes('![Client against its peers: throughput against depth](throughput.svg)'));
  });

  it('says which benchmarks did not run and why', () => {
    const text = renderReport(run(600_000));
    assert.ok(
      text.includes('| @iproto/pack | `packages/pack/bench/run.mjs` | not run: no bench/run.mjs yet | – |'),
    );
    assert.ok(text.includes('**failed**: exit code 1 (boom)'));
    assert.ok(text.includes('**timeout**: killed after 180 s'));
  });

  it('lists missed targets', () => {
    const text = renderReport(run(300_000));
    assert.ok(text.includes('| 0.30x | >= 0.5x | **no** |'));
    assert.ok(
      text.includes(
        '- Client against its peers: IProto send, 256 in flight: ratio 0.30x against bare Node loop, target >= 0.5x',
      ),
    );
  });

  it('keeps the same structure whatever the figures', () => {
    assert.deepEqual(headings(renderReport(run(300_000))), headings(renderReport(run(900_000))));
    const rows = (text) => text.split('\n').filter((l) => l.startsWith('|')).length;
    assert.equal(rows(renderReport(run(300_000))), rows(renderReport(run(900_000))));
  });
});

describe('ratios and targets', () => {
  it('computes value / baseline when a benchmark gives no ratio', () => {
    assert.equal(ratioOf({ value: 3, baselineValue: 4 }), 0.75);
    assert.equal(ratioOf({ value: 3, baselineValue: 4, ratio: 2 }), 2);
    assert.equal(ratioOf({ value: 3 }), undefined);
  });

  it("reads a bare number's direction off the benchmark's verdict", () => {
    assert.equal(target(1.5, { ratio: 0.79, pass: true }), '<= 1.50x');
    assert.equal(target(1.5, { ratio: 1.76, pass: false }), '<= 1.50x');
    assert.equal(target(0.5, { ratio: 0.79, pass: true }), '>= 0.50x');
    assert.equal(target(0.5, { ratio: 0.5, pass: true }), '0.50x');
    assert.equal(target('>= 50x', { ratio: 1, pass: false }), '>= 50x');
    assert.equal(target(undefined), '–');
  });
});
