import { pack } from '@iproto/pack';
import { createRng, fuzzSeed, type Rng } from '@iproto/test-kit';
import { expect, test } from 'vitest';
import { BoxDoubleError } from '../../src/testing/box-double-error.js';
import { executeRequest } from '../../src/testing/box-requests.js';
import { BoxSpace } from '../../src/testing/box-space.js';
import { callBody, insertBody, num, selectBody, tuple, updateBody } from '../support/box-test-support.js';

const SCALE = Number(process.env.IPROTO_FUZZ_SCALE ?? 1);
const SEED = fuzzSeed(0xb0c5);

/** Valid requests of every kind, to mutate. */
function seeds(rng: Rng): [number, Buffer][] {
  const k = rng.int(0, 50);
  return [
    [13, insertBody(rng.int(0, 1), rng.int(0, 7), num(k), `v${k}`, num(rng.int(0, 9)))],
    [17, selectBody(rng.int(0, 1), rng.int(0, 2), rng.int(0, 3), rng.int(0, 20), tuple(num(k)), tuple())],
    [
      18,
      Buffer.concat([
        pack('L', 2),
        selectBody(0, 1, 0, 5, tuple(num(3))),
        selectBody(1, 0, 0, 5, tuple('s')),
      ]),
    ],
    [
      19,
      updateBody(0, rng.int(0, 1), tuple(num(k)), [rng.int(0, 3), rng.int(0, 8), pack('l', rng.int(-5, 5))]),
    ],
    [
      19,
      updateBody(0, 1, tuple(num(k)), [
        1,
        5,
        pack('(w/a*)*', pack('l', rng.int(-9, 9)), pack('l', rng.int(-9, 9)), 'xy'),
      ]),
    ],
    [20, Buffer.concat([pack('L', 0), tuple(num(k))])],
    [21, Buffer.concat([pack('L L', 0, 1), tuple(num(k))])],
    [22, callBody(0, rng.int(0, 1) ? 'echo' : 'fail', 'a', num(k))],
  ];
}

/** Flips bytes, cuts, splices in lying counts, or appends garbage. */
function mutate(rng: Rng, body: Buffer): Buffer {
  const out = Buffer.from(body);
  switch (rng.int(0, 4)) {
    case 0:
      for (let i = rng.int(1, 4); i > 0 && out.length > 0; i--)
        out[rng.int(0, out.length - 1)] = rng.int(0, 255);
      return out;
    case 1:
      return out.subarray(0, rng.int(0, out.length));
    case 2: {
      if (out.length < 4) return out;
      const at = rng.int(0, (out.length >> 2) - 1) * 4;
      out.writeUInt32LE(rng.int(0, 1) ? 0xffffffff : rng.int(0, 1 << 20), at);
      return out;
    }
    case 3:
      return Buffer.concat([out, Buffer.from(Array.from({ length: rng.int(1, 8) }, () => rng.int(0, 255)))]);
    default:
      return out;
  }
}

test(`box requests: mutated bodies answer a reply or a box error, in bounded time and memory (seed ${SEED})`, async () => {
  const rng = createRng(SEED);
  const spaces = new Map([
    [
      0,
      new BoxSpace({
        space: 0,
        indexes: [
          { parts: [{ field: 0, type: 'NUM' }] },
          { parts: [{ field: 2, type: 'NUM' }], unique: false },
        ],
      }),
    ],
    [1, new BoxSpace({ space: 1, indexes: [{ parts: [{ field: 0, type: 'STR' }], type: 'HASH' }] }, 4096)],
  ]);
  const procedures = new Map([
    ['echo', (args: Buffer[]) => [args]],
    [
      'fail',
      () => {
        throw new Error('fuzz');
      },
    ],
  ]);
  const state = { spaces, procedures, maxReplySize: 1024 * 1024 };
  const iterations = 20_000 * SCALE;
  const codes = new Map<number, number>();
  let bytes = 0;
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const candidates = seeds(rng);
    const [msg, body] = candidates[rng.int(0, candidates.length - 1)];
    const input = rng.int(0, 9) === 0 ? body : mutate(rng, body);
    bytes += input.length;
    let code = 0;
    try {
      const outcome = executeRequest(state, rng.int(0, 50) === 0 ? rng.int(0, 30) : msg, input);
      if (outcome instanceof Promise) await outcome.catch(() => {});
      else expect(outcome instanceof Uint8Array || outcome.logged instanceof Uint8Array).toBe(true);
    } catch (error) {
      if (!(error instanceof BoxDoubleError))
        throw new Error(`iteration ${i}: ${String(error)}`, { cause: error });
      code = error.returnCode;
      expect(error.message.length).toBeGreaterThan(0);
    }
    codes.set(code, (codes.get(code) ?? 0) + 1);
    // keep the spaces small: memory then measures the double, not the data the fuzzer stored
    if (i % 1000 === 999) for (const space of spaces.values()) space.clear();
  }
  const elapsed = performance.now() - started;
  globalThis.gc?.();
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  // successes, illegal parameters and the semantic errors all turn up
  expect(codes.get(0)).toBeGreaterThan(0);
  expect(codes.get(0x0202)).toBeGreaterThan(0);
  expect(codes.size).toBeGreaterThan(6);
  // Generous bounds for a loaded 2-core machine (a request takes some 30 µs here): a cost that grew
  // with a count the fuzzer wrote would blow through them.
  expect(elapsed / iterations).toBeLessThan(5);
  expect(heapGrowth).toBeLessThan(64 * 1024 * 1024 + bytes);
});
