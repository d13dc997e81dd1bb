import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRows, resultRow } from '../lib/rows.mjs';

const base = { name: 'echo', unit: 'req/s', baseline: 'bare loop' };

describe('resultRow', () => {
  it('ours/baseline: the share of the baseline, met at or above the target', () => {
    const row = resultRow({
      ...base,
      value: 1_500_000.4,
      baselineValue: 2_000_000,
      target: 0.75,
      ratio: 'ours/baseline',
    });
    assert.deepEqual(row, {
      ...base,
      value: 1_500_000,
      baselineValue: 2_000_000,
      ratio: 0.75,
      target: 0.75,
      pass: true,
    });
    assert.equal(
      resultRow({ ...base, value: 1, baselineValue: 2, target: 0.6, ratio: 'ours/baseline' }).pass,
      false,
    );
  });

  it('baseline/ours: how many times slower, met at or below the target; digits round the ratio', () => {
    const row = resultRow({
      ...base,
      value: 3,
      baselineValue: 4,
      target: 1.5,
      ratio: 'baseline/ours',
      digits: 1,
    });
    assert.equal(row.ratio, 1.3);
    assert.equal(row.pass, true);
    assert.equal(
      resultRow({ ...base, value: 1, baselineValue: 2, target: 1.5, ratio: 'baseline/ours' }).pass,
      false,
    );
  });

  it('no baseline figure or no figure of ours: no ratio, no verdict; a null target: pass null', () => {
    const noBaseline = resultRow({ ...base, value: 10, target: 2, ratio: 'ours/baseline' });
    assert.equal(noBaseline.ratio, undefined);
    assert.equal(noBaseline.pass, undefined);
    const noValue = resultRow({
      ...base,
      value: undefined,
      baselineValue: 10,
      target: 2,
      ratio: 'ours/baseline',
    });
    assert.equal(noValue.value, undefined);
    assert.equal(noValue.pass, undefined);
    assert.equal(
      resultRow({ ...base, value: 1, baselineValue: 1, target: null, ratio: 'ours/baseline' }).pass,
      null,
    );
  });

  it('refuses a ratio direction it does not know', () => {
    assert.throws(() => resultRow({ ...base, value: 1, baselineValue: 1, ratio: 'ours' }), /bad ratio ours/);
  });
});

describe('formatRows', () => {
  it('one line per row: values with their unit, the target with its direction, ok or MISS', () => {
    const text = formatRows([
      resultRow({ ...base, value: 1_240_000, baselineValue: 2_000_000, target: 0.5, ratio: 'ours/baseline' }),
      resultRow({
        ...base,
        name: 'slow',
        value: 1000,
        baselineValue: 3000,
        target: 1.5,
        ratio: 'baseline/ours',
      }),
      {
        name: 'heap',
        unit: 'MB',
        value: 12.3,
        baseline: null,
        baselineValue: null,
        ratio: null,
        target: '< 20 MB',
        pass: true,
      },
    ]);
    const lines = text.split('\n');
    assert.equal(lines.length, 5);
    assert.match(lines[2], /^echo +1\.24 M req\/s +bare loop +2\.00 M req\/s +0\.62x +>= 0\.50x +ok$/);
    assert.match(lines[3], /^slow +1\.00 k req\/s +bare loop +3\.00 k req\/s +3\.00x +<= 1\.50x +MISS$/);
    assert.match(lines[4], /^heap +12\.3 MB +– +– +< 20 MB +ok$/);
  });
});
