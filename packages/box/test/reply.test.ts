/**
 * Reply decoding on its own: every count and length a reply holds is checked against the bytes
 * that are there, so a lying reply costs nothing and fails with ERR_BOX_REPLY.
 */
import { describe, expect, it } from 'vitest';
import { BoxError, decodeReply, parseFormat, type ReplyPlan, TupleDecoder } from '../src/index.js';
import { errorReply, f, okCount, okSets, okTuples, s } from './support/test-support.js';

const users = new TupleDecoder(parseFormat('L$L', 'users'));
const events = new TupleDecoder(parseFormat('Q&(L$)*', 'events'));
const tuples: ReplyPlan = {
  kind: 'tuples',
  where: 'select',
  decoder: users,
  shape: { fields: ['id', 'name', 'age'] },
};
const longTuples: ReplyPlan = {
  kind: 'tuples',
  where: 'select',
  decoder: events,
  shape: { fields: ['id', 'blob', 'tail'], longFields: ['n', 's'] },
};
const count: ReplyPlan = { kind: 'count', where: 'insert' };
const multi: ReplyPlan = {
  kind: 'multi',
  where: 'union',
  parts: [
    { decoder: users, shape: undefined },
    { decoder: events, shape: undefined },
  ],
};

function badReply(plan: ReplyPlan, bytes: Uint8Array, message?: RegExp) {
  let thrown: unknown;
  try {
    decodeReply(plan, Buffer.from(bytes));
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(BoxError);
  expect((thrown as BoxError).code).toBe('ERR_BOX_REPLY');
  if (message) expect((thrown as BoxError).message).toMatch(message);
}

const valid: [string, ReplyPlan, Buffer][] = [
  ['count', count, okCount(1)],
  [
    'tuples',
    tuples,
    okTuples([
      [f('L', 1), s('alice'), f('L', 30)],
      [f('L', 2), s(''), f('L', 0)],
    ]),
  ],
  [
    'long tuples',
    longTuples,
    okTuples([
      [f('Q', 5n), s('b'), f('L', 1), s('x'), f('L', 2), s('y')],
      [f('Q', 6n), s('')],
    ]),
  ],
  ['multi', multi, okSets([[[f('L', 1), s('a'), f('L', 2)]], [[f('Q', 1n), s('z'), f('L', 3), s('w')]]])],
];

describe('decodeReply', () => {
  it.each(valid)('reads a %s reply, and fails on every shorter prefix of it', (_name, plan, bytes) => {
    expect(decodeReply(plan, bytes).returnCode).toBe(0);
    for (let end = 0; end < bytes.length; end++) badReply(plan, bytes.subarray(0, end));
    badReply(plan, Buffer.concat([bytes, Buffer.from([0])]), /1 bytes left after the answer/);
  });

  it('reads objects, long tails folded into groups, and values of every letter', () => {
    expect(decodeReply(longTuples, valid[2]![2]).value).toEqual([
      {
        id: 5n,
        blob: Buffer.from('b'),
        tail: [
          { n: 1, s: 'x' },
          { n: 2, s: 'y' },
        ],
      },
      { id: 6n, blob: Buffer.alloc(0), tail: [] },
    ]);
    const all = new TupleDecoder(parseFormat('LlSsCcQq&$', 'all'));
    const reply = okTuples([
      [
        f('L', 4294967295),
        f('l', -1),
        f('S', 65535),
        f('s', -1),
        f('C', 255),
        f('c', -1),
        f('Q', 2n ** 64n - 1n),
        f('q', -1n),
        s('\u0000'),
        s('é'),
      ],
    ]);
    expect(decodeReply({ kind: 'tuples', where: 'x', decoder: all, shape: undefined }, reply).value).toEqual([
      [4294967295, -1, 65535, -1, 255, -1, 2n ** 64n - 1n, -1n, Buffer.from([0]), 'é'],
    ]);
  });

  it('copies bytes fields out of the reply', () => {
    const reply = okTuples([[f('Q', 1n), s('abc')]]);
    const [tuple] = decodeReply({ kind: 'tuples', where: 'x', decoder: events, shape: undefined }, reply)
      .value as Buffer[][];
    reply.fill(0);
    expect(String(tuple![1])).toBe('abc');
  });

  it('reads bytes fields as views into one copy of their tuple, empty ones all one Buffer', () => {
    const big = (byte: number) => Buffer.alloc(5000, byte); // past Buffer's pool: each copy its own memory
    const reply = okTuples([
      [f('Q', 1n), big(1), f('L', 1), s(''), f('L', 2), s('')],
      [f('Q', 2n), big(2), f('L', 3), big(3)],
    ]);
    const decoder = new TupleDecoder(parseFormat('Q&(L&)*', 'blobs'));
    const value = decodeReply({ kind: 'tuples', where: 'x', decoder, shape: undefined }, reply)
      .value as unknown[][];
    const [a, b] = value as [Buffer[], Buffer[]];
    // An empty field costs no object of its own: a reply of 16 M of them was 3 GiB of heap.
    expect(a[3]).toBe(a[5]);
    expect(a[3]).toHaveLength(0);
    expect(b[1]!.buffer).toBe(b[3]!.buffer);
    expect(b[1]!.buffer).not.toBe(a[1]!.buffer);
    expect(b[1]!.buffer).not.toBe(reply.buffer);
    expect([a[1], b[1], b[3]]).toEqual([big(1), big(2), big(3)]);
  });

  it('reads at most maxFields fields, all tuples together, checked before each tuple is read', () => {
    const reply = okTuples([
      [f('Q', 1n), s('a'), f('L', 1), s('b')],
      [f('Q', 2n), s('c')],
    ]);
    const plan = (maxFields: number): ReplyPlan => ({
      kind: 'tuples',
      where: 'x',
      decoder: events,
      shape: undefined,
      maxFields,
    });
    expect(decodeReply(plan(6), reply).value).toHaveLength(2);
    badReply(
      plan(5),
      reply,
      /tuple 1 brings the reply past maxReplyFields \(5 fields\): it holds 2, 1 were left/,
    );
    badReply(
      plan(3),
      reply,
      /tuple 0 brings the reply past maxReplyFields \(3 fields\): it holds 4, 3 were left/,
    );
    // Fields past a fixed format are read over, not kept: they do not count.
    const extra = okTuples([[f('L', 1), s('a'), f('L', 2), s('dropped'), s('dropped')]]);
    expect(decodeReply({ ...tuples, maxFields: 3 }, extra).value).toEqual([{ id: 1, name: 'a', age: 2 }]);
    // And the default, without a plan's own: 1,000,000 fields of 'L&*' in one tuple, and one more.
    const wide = new TupleDecoder(parseFormat('&*', 'wide'));
    const header = (n: number) => Buffer.concat([okCount(1).subarray(0, 8), f('L', n), f('L', n)]);
    const fields = (n: number) => Buffer.concat([header(n), Buffer.alloc(n)]);
    const call: ReplyPlan = { kind: 'tuples', where: 'call', decoder: wide, shape: undefined };
    expect((decodeReply(call, fields(1_000_000)).value as unknown[][])[0]).toHaveLength(1_000_000);
    badReply(call, fields(1_000_001), /past maxReplyFields \(1000000 fields\)/);
  });

  it('answers an error reply with its code and text, the NUL removed', () => {
    expect(decodeReply(tuples, errorReply(0x3702, 'Duplicate key exists in unique index 0'))).toEqual({
      returnCode: 0x3702,
      value: undefined,
      text: 'Duplicate key exists in unique index 0',
    });
    // No NUL: the text runs to the end.
    expect(decodeReply(count, Buffer.concat([f('L', 0x0202), s('no nul')])).text).toBe('no nul');
    expect(decodeReply(count, f('L', 0x0202)).text).toBe('');
  });

  it('refuses counts and lengths the reply has no bytes for, at once', () => {
    badReply(
      tuples,
      Buffer.concat([okCount(0xffffffff), Buffer.alloc(12)]),
      /4294967295 tuples claimed in 12 bytes/,
    );
    // The limit +/- 1: two tuples need 16 bytes at least.
    badReply(tuples, Buffer.concat([okCount(2), Buffer.alloc(15)]), /2 tuples claimed in 15 bytes/);
    badReply(
      tuples,
      Buffer.concat([okCount(2), Buffer.alloc(16)]),
      /tuple 0 has 0 fields, the format needs 3/,
    );
    badReply(
      tuples,
      Buffer.concat([okCount(1), f('L', 0xffffffff), f('L', 3), Buffer.alloc(8)]),
      /tuple 0 claims 4294967295 bytes, 8 left/,
    );
    badReply(
      tuples,
      Buffer.concat([okCount(1), f('L', 4), f('L', 0xffffffff), Buffer.alloc(4)]),
      /claims 4294967295 fields in 4 bytes/,
    );
    badReply(
      tuples,
      Buffer.concat([okCount(1), f('L', 6), f('L', 3), Buffer.from([0x8f, 0xff, 0xff, 0xff, 0x7f, 0])]),
      /length .* runs past/,
    );
    badReply(
      tuples,
      Buffer.concat([okCount(1), f('L', 6), f('L', 3), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]),
      /length unreadable/,
    );
    badReply(tuples, okTuples([[f('L', 1), s('a'), f('S', 2)]]), /field 2 is 2 bytes, format 'L' takes 4/);
    badReply(
      longTuples,
      okTuples([[f('Q', 1n), s('a'), f('L', 1)]]),
      /tail of 1 fields is not whole groups of 2/,
    );
    const sized = okTuples([[f('L', 1), s('a'), f('L', 2)]]);
    sized.writeUInt32LE(sized.readUInt32LE(8) + 1, 8);
    badReply(tuples, Buffer.concat([sized, Buffer.from([0])]), /its 3 fields take 12 of its 13 bytes/);
  });
});
