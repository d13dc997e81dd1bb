/**
 * Seeded fuzz of reply decoding: valid replies of every plan, mutated (bytes flipped, cut, lying
 * counts and lengths spliced in, garbage appended). Each decode either succeeds or fails with
 * ERR_BOX_REPLY; time and heap stay in proportion to the bytes given. `IPROTO_FUZZ_SCALE`
 * multiplies the iterations (`pnpm fuzz` runs 50x).
 */
import { createRng, fuzzSeed, type Rng } from '@iproto/test-kit';
import { expect, test } from 'vitest';
import { BoxError, decodeReply, parseFormat, type ReplyPlan, TupleDecoder } from '../src/index.js';
import { errorReply, f, okCount, okSets, okTuples, s } from './support/test-support.js';

const SCALE = Number(process.env.IPROTO_FUZZ_SCALE ?? 1);
const SEED = fuzzSeed(0x5eed_b0c5);
const ITERATIONS = Math.round(8_000 * SCALE);

const users = new TupleDecoder(parseFormat('L$L', 'users'));
const events = new TupleDecoder(parseFormat('Q&(L$)*', 'events'));
const all = new TupleDecoder(parseFormat('LlSsCcQq&$', 'all'));
const PLANS: ReplyPlan[] = [
  { kind: 'count', where: 'x' },
  { kind: 'tuples', where: 'x', decoder: users, shape: { fields: ['id', 'name', 'age'] } },
  {
    kind: 'tuples',
    where: 'x',
    decoder: events,
    shape: { fields: ['id', 'blob', 'tail'], longFields: ['n', 's'] },
  },
  { kind: 'tuples', where: 'x', decoder: all, shape: undefined },
  {
    kind: 'multi',
    where: 'x',
    parts: [
      { decoder: users, shape: undefined },
      { decoder: events, shape: undefined },
    ],
  },
];

function userTuple(rng: Rng) {
  return [f('L', rng.int(0, 2 ** 32 - 1)), s('x'.repeat(rng.int(0, 200))), f('L', rng.int(0, 99))];
}
function eventTuple(rng: Rng) {
  const tuple = [f('Q', BigInt(rng.int(0, 2 ** 31))), s('b'.repeat(rng.int(0, 300)))];
  for (let i = rng.int(0, 4); i > 0; i--) tuple.push(f('L', rng.int(0, 9)), s('é'.repeat(rng.int(0, 5))));
  return tuple;
}
function allTuple(rng: Rng) {
  return [
    f('L', rng.int(0, 9)),
    f('l', -1),
    f('S', 1),
    f('s', -1),
    f('C', 1),
    f('c', -1),
    f('Q', 1n),
    f('q', -1n),
    s('a'),
    s('ü'),
  ];
}

function validReply(rng: Rng, plan: number): Buffer {
  const n = rng.int(0, 5);
  const many = (make: (rng: Rng) => Buffer[]) => Array.from({ length: n }, () => make(rng));
  switch (plan) {
    case 0:
      return rng.int(0, 3) === 0
        ? errorReply(0x3702, 'Duplicate key exists in unique index 0')
        : okCount(rng.int(0, 1));
    case 1:
      return okTuples(many(userTuple));
    case 2:
      return okTuples(many(eventTuple));
    case 3:
      return okTuples(many(allTuple));
    default:
      return okSets([many(userTuple), many(eventTuple)]);
  }
}

function mutate(rng: Rng, reply: Buffer): Buffer {
  const out = Buffer.from(reply);
  switch (rng.int(0, 4)) {
    case 0: // flip a few bytes
      for (let i = rng.int(1, 4); i > 0 && out.length > 0; i--)
        out[rng.int(0, out.length - 1)] = rng.int(0, 255);
      return out;
    case 1: // cut
      return out.subarray(0, rng.int(0, out.length));
    case 2: // a lying count or length at a 4-byte slot
      if (out.length >= 4)
        out.writeUInt32LE(
          [0xffffffff, 0x7fffffff, 0x10000, rng.int(0, 64)][rng.int(0, 3)]!,
          rng.int(0, (out.length - 4) >> 2) * 4,
        );
      return out;
    case 3: // garbage after
      return Buffer.concat([out, Buffer.from(Array.from({ length: rng.int(1, 16) }, () => rng.int(0, 255)))]);
    default: // a BER length gone wild somewhere
      if (out.length > 0) out[rng.int(0, out.length - 1)] = 0x80 | rng.int(0, 127);
      return out;
  }
}

test(`decodeReply survives ${ITERATIONS} mutated replies (seed ${SEED.toString(16)})`, () => {
  const rng = createRng(SEED);
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  let bytes = 0;
  let decoded = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const plan = rng.int(0, PLANS.length - 1);
    const reply = rng.int(0, 9) === 0 ? validReply(rng, plan) : mutate(rng, validReply(rng, plan));
    bytes += reply.length;
    try {
      decodeReply(PLANS[plan]!, reply);
      decoded++;
    } catch (error) {
      if (!(error instanceof BoxError) || error.code !== 'ERR_BOX_REPLY') {
        throw new Error(`iteration ${i}: ${reply.toString('hex')} threw ${String(error)}`);
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  // Generous bounds on a noisy machine: time per byte received, heap that does not grow with the run.
  expect(seconds).toBeLessThan(10 + bytes / 1e6);
  expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  expect(decoded).toBeGreaterThan(0);
});
