import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { categorize, describeProfile, summarizeProfile } from '../lib/profile.mjs';

const frame = (functionName, url = '') => ({
  functionName,
  url,
  scriptId: '0',
  lineNumber: 0,
  columnNumber: 0,
});

describe('profile summary (where the time goes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iproto-profile-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('puts each function in its part of the path', () => {
    assert.equal(categorize(frame('writeBuffer')), 'socket writes');
    assert.equal(categorize(frame('(garbage collector)')), 'garbage collection');
    assert.equal(categorize(frame('(idle)')), 'idle (waiting for the server)');
    assert.equal(categorize(frame('unpackFixed')), 'packages/pack');
    assert.equal(categorize(frame('#finish', 'file:///w/packages/client/dist/index.js')), 'packages/client');
    assert.equal(
      categorize(frame('loop', 'file:///w/bench/lib/client-loop.mjs')),
      'the harness (the loops awaiting send)',
    );
    assert.equal(categorize(frame('runMicrotasks')), 'promise jobs and ticks');
    assert.equal(categorize(frame('addChunk', 'node:internal/streams/readable')), 'Node streams (reads)');
  });

  it('sums self time by part and by function, largest first, as shares of the sampled time', () => {
    // Three nodes: writes sampled 3 times (30 us), GC once (10 us), the client once (60 us).
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('writeBuffer') },
        { id: 2, callFrame: frame('(garbage collector)') },
        { id: 3, callFrame: frame('#finish', 'file:///w/packages/client/dist/index.js') },
      ],
      samples: [1, 1, 1, 2, 3],
      timeDeltas: [10, 10, 10, 10, 60],
    };
    writeFileSync(join(dir, 'a.cpuprofile'), JSON.stringify(profile));
    const summary = summarizeProfile(dir);
    assert.deepEqual(
      summary.parts.map((p) => [p.part, p.share]),
      [
        ['packages/client', 0.6],
        ['socket writes', 0.3],
        ['garbage collection', 0.1],
      ],
    );
    assert.equal(summary.top[0].fn, '#finish (packages/client/dist/index.js)');
    const text = describeProfile(summary);
    assert.equal(text.parts, 'packages/client 60%, socket writes 30%, garbage collection 10%');
  });
});
