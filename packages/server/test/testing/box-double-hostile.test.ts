import { pack } from '@iproto/pack';
import { afterEach, describe, expect, test } from 'vitest';
import { BoxDoubleError } from '../../src/testing/box-double-error.js';
import { type BoxOutcome, executeRequest } from '../../src/testing/box-requests.js';
import { BoxSpace } from '../../src/testing/box-space.js';
import { type BoxDouble, startBoxDouble } from '../../src/testing/index.js';
import {
  BoxTestClient,
  callBody,
  decodeReply,
  insertBody,
  num,
  selectBody,
  tuple,
  updateBody,
} from '../support/box-test-support.js';

/** A box state of one space (TREE on field 0 as a NUM) holding `n` tuples. */
function state(n = 0, maxReplySize = 64 * 1024 * 1024) {
  const space = new BoxSpace({ space: 0 });
  for (let i = 0; i < n; i++) space.put([i, `name ${i}`]);
  return { spaces: new Map([[0, space]]), procedures: new Map(), maxReplySize };
}

/** The reply `executeRequest` makes, error replies decoded from the thrown `BoxDoubleError`. */
function run(msg: number, body: Buffer, s = state()): { code: number; text?: string; outcome?: BoxOutcome } {
  try {
    return { code: 0, outcome: executeRequest(s, msg, body) };
  } catch (error) {
    if (!(error instanceof BoxDoubleError)) throw error;
    return { code: error.returnCode, text: error.message };
  }
}

const U32_MAX = 0xffffffff;

describe('counts and lengths a client wrote cost nothing until their bytes arrive', () => {
  test.each([
    ['SELECT key count', 17, pack('L L L L L', 0, 0, 0, 10, U32_MAX)],
    ['SELECT key part count', 17, pack('L L L L L L', 0, 0, 0, 10, 1, U32_MAX)],
    ['INSERT cardinality', 13, pack('L L L', 0, 0, U32_MAX)],
    ['UPDATE op count', 19, Buffer.concat([pack('L L', 0, 0), tuple(num(1)), pack('L', U32_MAX)])],
    ['msg 18 count', 18, pack('L', U32_MAX)],
    ['CALL argument count', 22, pack('L w/a* L', 0, 'p', U32_MAX)],
    [
      'a BER length of 4 GiB',
      13,
      Buffer.concat([pack('L L L', 0, 0, 1), Buffer.from([0x8f, 0xff, 0xff, 0xff, 0x7f])]),
    ],
    [
      'a BER length of six bytes',
      13,
      Buffer.concat([pack('L L L', 0, 0, 1), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])]),
    ],
  ])('%s of 2^32-1 with a short body: 0x0202 at once', (_what, msg, body) => {
    const reply = run(msg, body);
    expect(reply.code).toBe(0x0202);
    expect(reply.text).toMatch(
      /^Illegal parameters, (packet too short|during verifying tuple: incorrect tuple format)/,
    );
  });

  test('every prefix of every valid request is answered with an error, never a crash', () => {
    const bodies: [number, Buffer][] = [
      [13, insertBody(0, 1, num(5), 'five')],
      [17, selectBody(0, 0, 0, 10, tuple(num(1)), tuple(num(2)))],
      [18, Buffer.concat([pack('L', 1), selectBody(0, 0, 0, 10, tuple(num(1)))])],
      [19, updateBody(0, 1, tuple(num(1)), [1, 5, pack('(w/a*)*', pack('l', 0), pack('l', 1), 'x')])],
      [20, Buffer.concat([pack('L', 0), tuple(num(1))])],
      [21, Buffer.concat([pack('L L', 0, 1), tuple(num(1))])],
      [22, callBody(0, 'p', 'a')],
    ];
    for (const [msg, body] of bodies) {
      for (let cut = 0; cut < body.length; cut++) {
        const reply = run(msg, body.subarray(0, cut), state(3));
        // a CALL prefix may end after the name (no such procedure); every other prefix is illegal
        expect([0x0202, 0x3202], `msg ${msg} cut at ${cut}`).toContain(reply.code);
      }
      expect(run(msg, body, state(3)).code, `msg ${msg} whole`).not.toBe(0x0202);
    }
  });

  test('many empty keys over a big TREE space cost a binary search each, and the reply is capped', () => {
    const big = state(5000, 1024 * 1024);
    const keys = Array.from({ length: 20_000 }, () => tuple());
    // offset skips past everything: 20,000 keys each matching 5,000 tuples, no tuple copied
    const skipped = run(17, selectBody(0, 0, 0xfffffff0, 10, ...keys), big);
    expect(skipped.code).toBe(0);
    expect(decodeReply(skipped.outcome as Buffer)).toEqual({ code: 0, count: 0 });
    const capped = run(17, selectBody(0, 0, 0, U32_MAX, ...keys), big);
    expect(capped.code).toBe(0x0701);
    expect(capped.text).toMatch(/^Failed to allocate \d+ bytes in palloc for reply$/);
  });

  test('maxReplySize: a reply of exactly that many bytes is built, one byte more is 0x0701', () => {
    // each tuple [i, 'name i'] for i < 10: L size, L cardinality, 1+4, 1+6 -> 20 bytes; the reply adds 8
    const exact = state(10, 8 + 3 * 20);
    const three = selectBody(0, 0, 0, 3, tuple());
    expect(decodeReply(run(17, three, exact).outcome as Buffer).count).toBe(3);
    const short = state(10, 8 + 3 * 20 - 1);
    expect(run(17, three, short)).toEqual({
      code: 0x0701,
      text: `Failed to allocate ${8 + 3 * 20} bytes in palloc for reply`,
    });
  });
});

describe('on a socket', () => {
  let box: BoxDouble | undefined;
  afterEach(async () => {
    await box?.close();
  });

  test('garbage bodies for every msg get error replies and the connection keeps serving', async () => {
    box = await startBoxDouble();
    const client = await BoxTestClient.connect(box.port);
    try {
      const frames: [number, number, Buffer][] = [];
      let sync = 0;
      for (const msg of [13, 17, 18, 19, 20, 21, 22, 0, 1, 0xffffffff])
        for (const body of [
          Buffer.alloc(0),
          Buffer.from([0xff]),
          Buffer.alloc(64, 0xff),
          Buffer.alloc(64, 0x80),
        ])
          frames.push([msg, sync++, body]);
      client.send(...frames);
      const replies = await client.frames(frames.length);
      for (const reply of replies) expect(decodeReply(reply.body).code).not.toBe(0);
      expect(await client.request(13, insertBody(0, 0, num(1), 'ok'))).toEqual({ code: 0, count: 1 });
    } finally {
      client.destroy();
    }
  });
});
