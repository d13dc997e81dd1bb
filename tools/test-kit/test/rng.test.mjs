import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng, fuzzSeed } from '../index.mjs';

// The values mulberry32 gave in each fuzzer's own copy before they shared this one: the same seed
// still gives the same cases, so a seed in an old failure report still replays it.
test('createRng is mulberry32: seed 13 gives the sequence every copy gave', () => {
  const rng = createRng(13);
  assert.deepEqual([rng(), rng(), rng()], [0.5663226493634284, 0.36011716164648533, 0.0705908453091979]);
});

test('int, below and pick draw one number each, in range', () => {
  const a = createRng(7);
  const b = createRng(7);
  for (let i = 0; i < 1000; i++) {
    const n = b();
    assert.equal(a.int(3, 9), 3 + Math.floor(n * 7));
    const m = a.below(5);
    assert.equal(m, Math.floor(b() * 5));
    assert.ok(m >= 0 && m < 5);
  }
  assert.equal(createRng(1).pick(['x']), 'x');
  assert.deepEqual(createRng(2).shuffle([1, 2, 3, 4]).sort(), [1, 2, 3, 4]);
});

test('fuzzSeed: the default, IPROTO_FUZZ_SEED when set, and a clear error for a bad one', () => {
  const saved = process.env.IPROTO_FUZZ_SEED;
  try {
    delete process.env.IPROTO_FUZZ_SEED;
    assert.equal(fuzzSeed(13), 13);
    process.env.IPROTO_FUZZ_SEED = '42';
    assert.equal(fuzzSeed(13), 42);
    process.env.IPROTO_FUZZ_SEED = 'x';
    assert.throws(() => fuzzSeed(13), /IPROTO_FUZZ_SEED must be an integer, got "x"/);
  } finally {
    if (saved === undefined) delete process.env.IPROTO_FUZZ_SEED;
    else process.env.IPROTO_FUZZ_SEED = saved;
  }
});
