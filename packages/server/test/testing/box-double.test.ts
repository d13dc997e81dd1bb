import { pack } from '@iproto/pack';
import { afterEach, describe, expect, test } from 'vitest';
import {
  BOX_MAX_FRAME_SIZE,
  BoxCode,
  BoxDouble,
  BoxDoubleError,
  type BoxDoubleOptions,
  BoxMsg,
  startBoxDouble,
} from '../../src/testing/index.js';
import {
  BoxTestClient,
  callBody,
  decodeReply,
  deleteBody,
  frame,
  insertBody,
  num,
  num64,
  selectBody,
  tuple,
} from '../support/box-test-support.js';
import { sleep, waitFor } from '../support/test-support.js';

let box: BoxDouble | undefined;
const clients: BoxTestClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await box?.close();
  box = undefined;
});

async function start(options?: BoxDoubleOptions): Promise<BoxTestClient> {
  box = await startBoxDouble(options);
  const client = await BoxTestClient.connect(box.port);
  clients.push(client);
  return client;
}

/** The users space of the examples: id NUM, name STR, age NUM; a non-unique TREE index on age. */
const USERS: BoxDoubleOptions = {
  spaces: [
    {
      space: 0,
      indexes: [
        { parts: [{ field: 0, type: 'NUM' }], type: 'HASH' },
        { parts: [{ field: 2, type: 'NUM' }], unique: false },
      ],
    },
  ],
};

/** An error reply's exact bytes: `L code`, the text, a NUL. */
const errorBytes = (code: number, text: string): Buffer =>
  Buffer.concat([pack('L', code), Buffer.from(text), Buffer.from([0])]);

describe('replies', () => {
  test('INSERT with WANT_RESULT answers L 0, L 1 and the tuple; size counts the BER prefixes', async () => {
    const client = await start(USERS);
    client.send([BoxMsg.INSERT, 1, insertBody(0, 1, num(1), 'alice', num(30))]);
    const [reply] = await client.frames(1);
    expect(reply.msg).toBe(13);
    expect(reply.sync).toBe(1);
    // fields: 1+4, 1+5, 1+4 bytes = 16; the cardinality word is not counted
    expect(reply.body).toEqual(
      Buffer.concat([
        pack('L L L L', 0, 1, 16, 3),
        Buffer.from([4]),
        num(1),
        Buffer.from('\x05alice'),
        Buffer.from([4]),
        num(30),
      ]),
    );
  });

  test('a write without WANT_RESULT answers the 8 bytes L 0, L count', async () => {
    const client = await start(USERS);
    client.send([13, 1, insertBody(0, 0, num(1), 'alice', num(30))]);
    expect((await client.frames(1))[0].body).toEqual(pack('L L', 0, 1));
    client.send([21, 2, deleteBody(0, 0, tuple(num(1)))]);
    expect((await client.frames(1))[0].body).toEqual(pack('L L', 0, 1));
    client.send([21, 3, deleteBody(0, 0, tuple(num(1)))]);
    expect((await client.frames(1))[0].body).toEqual(pack('L L', 0, 0));
  });

  test('a field longer than 127 bytes has a two-byte BER prefix, counted in the size', async () => {
    const client = await start({ spaces: [{ space: 0, indexes: [{ parts: [{ field: 0, type: 'STR' }] }] }] });
    const long = 'x'.repeat(200);
    const reply = await client.request(13, insertBody(0, 1, long));
    expect(reply.tuples).toEqual([[Buffer.from(long)]]);
    client.send([17, 8, selectBody(0, 0, 0, 10, tuple(long))]);
    const [select] = await client.frames(1);
    expect(select.body.subarray(0, 16)).toEqual(pack('L L L L', 0, 1, 202, 1));
    expect(select.body.subarray(16, 18)).toEqual(Buffer.from([0x81, 0x48])); // 200 as BER
  });

  test('replies echo msg and sync, sync 0 and repeated syncs included', async () => {
    const client = await start(USERS);
    client.send(
      [17, 0, selectBody(0, 0, 0, 1, tuple(num(1)))],
      [17, 0, selectBody(0, 0, 0, 1, tuple(num(2)))],
      [0xff00, 5, Buffer.from('any')],
      [0xff00, 5, Buffer.alloc(0)],
    );
    const replies = await client.frames(4);
    expect(replies.map((r) => [r.msg, r.sync])).toEqual([
      [17, 0],
      [17, 0],
      [0xff00, 5],
      [0xff00, 5],
    ]);
  });

  test('ping with any body is a bare 12-byte header', async () => {
    const client = await start();
    client.send([0xff00, 9, Buffer.from('ignored body')]);
    await client.frames(1);
    expect(client.raw.received).toEqual(frame(0xff00, 9));
  });

  test('an unknown msg code: 0x0202 with the server text, NUL-terminated', async () => {
    const client = await start();
    client.send([15, 3, pack('L L', 0, 1)]);
    const [reply] = await client.frames(1);
    expect(reply.msg).toBe(15);
    expect(reply.body).toEqual(
      errorBytes(0x0202, 'Illegal parameters, unsupported command code, check the error log'),
    );
  });
});

describe('INSERT', () => {
  test('flags: 2 fails on an existing key, 4 on a missing one, 0 replaces; unknown bits are ignored', async () => {
    const client = await start(USERS);
    expect(await client.request(13, insertBody(0, 2, num(1), 'alice', num(30)))).toEqual({
      code: 0,
      count: 1,
    });
    expect(await client.request(13, insertBody(0, 2, num(1), 'mallory', num(1)))).toEqual({
      code: 0x3702,
      text: 'Duplicate key exists in unique index 0',
      nul: true,
    });
    expect(await client.request(13, insertBody(0, 4, num(2), 'bob', num(20)))).toEqual({
      code: 0x3102,
      text: "Tuple doesn't exist in index 0",
      nul: true,
    });
    expect(await client.request(13, insertBody(0, 4 | 1 | 0x100, num(1), 'alice', num(31)))).toMatchObject({
      code: 0,
      tuples: [[num(1), Buffer.from('alice'), num(31)]],
    });
    expect(await client.request(13, insertBody(0, 0, num(1), 'alicia', num(32)))).toEqual({
      code: 0,
      count: 1,
    });
    expect(box!.space(0).tuples()).toEqual([[num(1), Buffer.from('alicia'), num(32)]]);
  });

  test('no such space: 0x3902 "Space 9 does not exist"', async () => {
    const client = await start(USERS);
    expect(await client.request(13, insertBody(9, 0, num(1)))).toMatchObject({
      code: 0x3902,
      text: 'Space 9 does not exist',
    });
  });

  test('an indexed NUM field that is not 4 bytes: 0x2602', async () => {
    const client = await start(USERS);
    expect(await client.request(13, insertBody(0, 0, 'abc', 'x', num(1)))).toMatchObject({
      code: 0x2602,
      text: 'Supplied key field type does not match index type: expected u32',
    });
    expect(box!.space(0).size).toBe(0);
  });

  test('a tuple without the indexed fields, an empty tuple, a malformed tuple: 0x0202', async () => {
    const client = await start(USERS);
    expect(await client.request(13, insertBody(0, 0, num(1)))).toMatchObject({
      code: 0x0202,
      text: 'Illegal parameters, tuple must have all indexed fields',
    });
    expect(await client.request(13, insertBody(0, 0))).toMatchObject({
      code: 0x0202,
      text: 'Illegal parameters, tuple field count is 0',
    });
    // cardinality 3, but the body holds two fields
    expect(await client.request(13, pack('L L L w/a* w/a*', 0, 0, 3, num(1), 'a'))).toMatchObject({
      code: 0x0202,
      text: 'Illegal parameters, during verifying tuple: incorrect tuple format',
    });
    // a byte after the last field
    expect(
      await client.request(13, Buffer.concat([insertBody(0, 0, num(1), 'a', num(2)), Buffer.from([0])])),
    ).toMatchObject({
      code: 0x0202,
      text: 'Illegal parameters, during verifying tuple: incorrect tuple format',
    });
    expect(box!.space(0).size).toBe(0);
  });

  test('a unique secondary index refuses a duplicate: 0x3702 naming index 1, and nothing changes', async () => {
    const client = await start({
      spaces: [
        {
          space: 0,
          indexes: [{ parts: [{ field: 0, type: 'NUM' }] }, { parts: [{ field: 1, type: 'STR' }] }],
        },
      ],
    });
    await client.request(13, insertBody(0, 0, num(1), 'alice'));
    expect(await client.request(13, insertBody(0, 0, num(2), 'alice'))).toMatchObject({
      code: 0x3702,
      text: 'Duplicate key exists in unique index 1',
    });
    expect(box!.space(0).tuples()).toEqual([[num(1), Buffer.from('alice')]]);
  });

  test('the slab limit: a tuple allocation of maxTupleSize bytes fits, one more fails with 0x0701', async () => {
    const client = await start({ maxTupleSize: 1000 });
    // allocation = 12-byte header + fields: (1 + 4) + (2 + 981) = 1000
    expect(await client.request(13, insertBody(0, 0, num(1), 'y'.repeat(981)))).toMatchObject({
      code: 0,
      count: 1,
    });
    expect(await client.request(13, insertBody(0, 0, num(2), 'y'.repeat(982)))).toEqual({
      code: 0x0701,
      text: 'Failed to allocate 1001 bytes in slab allocator for tuple',
      nul: true,
    });
    expect(box!.space(0).size).toBe(1);
  });

  test('the default slab limit is 1 MiB: a 900 KiB field fits, a 1 MiB field does not', async () => {
    const client = await start();
    expect(await client.request(13, insertBody(0, 0, num(1), Buffer.alloc(900 * 1024, 7)))).toMatchObject({
      code: 0,
    });
    const big = await client.request(13, insertBody(0, 0, num(2), Buffer.alloc(1024 * 1024)));
    expect(big.code).toBe(0x0701);
    expect(big.text).toBe(
      `Failed to allocate ${12 + (1 + 4) + (3 + 1024 * 1024)} bytes in slab allocator for tuple`,
    );
    const [stored] = (await client.request(17, selectBody(0, 0, 0, 1, tuple(num(1))))).tuples!;
    expect(stored[1].equals(Buffer.alloc(900 * 1024, 7))).toBe(true);
  });

  test('UTF-8 and 64-bit fields; a NUM64 key must be 8 bytes', async () => {
    const client = await start({
      spaces: [{ space: 3, indexes: [{ parts: [{ field: 0, type: 'NUM64' }] }] }],
    });
    const id = num64(2n ** 63n + 5n);
    expect(await client.request(13, insertBody(3, 1, id, 'Zoë ✓'))).toMatchObject({
      tuples: [[id, Buffer.from('Zoë ✓')]],
    });
    expect(await client.request(17, selectBody(3, 0, 0, 1, tuple(id)))).toMatchObject({ count: 1 });
    expect(await client.request(17, selectBody(3, 0, 0, 1, tuple(num(5))))).toMatchObject({
      code: 0x2602,
      text: 'Supplied key field type does not match index type: expected u64',
    });
  });

  test('NUM64 keys on both sides of 2^53 stay distinct (they are map keys as numbers below it)', async () => {
    const client = await start({
      spaces: [{ space: 3, indexes: [{ parts: [{ field: 0, type: 'NUM64' }], type: 'HASH' }] }],
    });
    const keys = [1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n];
    for (const key of keys) {
      expect(await client.request(13, insertBody(3, 2, num64(key), `k${key}`))).toMatchObject({ count: 1 });
    }
    expect(box!.space(3).size).toBe(keys.length);
    for (const key of keys) {
      expect(await client.request(17, selectBody(3, 0, 0, 10, tuple(num64(key))))).toMatchObject({
        tuples: [[num64(key), Buffer.from(`k${key}`)]],
      });
    }
    expect(await client.request(21, deleteBody(3, 0, tuple(num64(2n ** 53n))))).toMatchObject({ count: 1 });
    expect(await client.request(17, selectBody(3, 0, 0, 10, tuple(num64(2n ** 53n + 1n))))).toMatchObject({
      count: 1,
    });
  });

  test('a read-only (secondary) port refuses writes with 0x0302 and serves reads', async () => {
    const client = await start({ ...USERS, readOnly: true });
    box!.space(0).put([1, 'alice', 30]);
    const refused = { code: 0x0302, text: "Can't modify data upon a request on the secondary port." };
    expect(await client.request(13, insertBody(0, 0, num(2), 'bob', num(20)))).toMatchObject(refused);
    expect(
      await client.request(
        19,
        Buffer.concat([pack('L L', 0, 0), tuple(num(1)), pack('L L C w/a*', 1, 1, 0, 'x')]),
      ),
    ).toMatchObject(refused);
    expect(await client.request(20, Buffer.concat([pack('L', 0), tuple(num(1))]))).toMatchObject(refused);
    expect(await client.request(21, deleteBody(0, 0, tuple(num(1))))).toMatchObject(refused);
    expect(await client.request(17, selectBody(0, 0, 0, 1, tuple(num(1))))).toMatchObject({
      code: 0,
      count: 1,
    });
  });
});

describe('SELECT', () => {
  async function users(): Promise<BoxTestClient> {
    const client = await start(USERS);
    const space = box!.space(0);
    for (const [id, name, age] of [
      [1, 'alice', 30],
      [2, 'bob', 25],
      [3, 'carol', 30],
      [4, 'dave', 41],
    ] as const)
      space.put([id, name, age]);
    return client;
  }
  const ids = (reply: { tuples?: Buffer[][] }): number[] => reply.tuples!.map((t) => t[0].readUInt32LE(0));

  test('many keys, in key order; missing keys add nothing', async () => {
    const client = await users();
    const reply = await client.request(
      17,
      selectBody(0, 0, 0, 0x7fffffff, tuple(num(3)), tuple(num(9)), tuple(num(1))),
    );
    expect(ids(reply)).toEqual([3, 1]);
    expect(reply.tuples![0]).toEqual([num(3), Buffer.from('carol'), num(30)]);
  });

  test('offset and limit count over all keys together; limit 0 is a success with count 0', async () => {
    const client = await users();
    const keys = [tuple(num(1)), tuple(num(2)), tuple(num(3)), tuple(num(4))];
    expect(ids(await client.request(17, selectBody(0, 0, 1, 2, ...keys)))).toEqual([2, 3]);
    expect(ids(await client.request(17, selectBody(0, 0, 3, 10, ...keys)))).toEqual([4]);
    expect(await client.request(17, selectBody(0, 0, 0, 0, ...keys))).toEqual({
      code: 0,
      count: 0,
    });
  });

  test('a non-unique TREE index: every tuple with the key, then the next key', async () => {
    const client = await users();
    expect(ids(await client.request(17, selectBody(0, 1, 0, 100, tuple(num(30)), tuple(num(25)))))).toEqual([
      1, 3, 2,
    ]);
    expect(ids(await client.request(17, selectBody(0, 1, 1, 1, tuple(num(30)), tuple(num(25)))))).toEqual([
      3,
    ]);
    // no key parts on a TREE index: every tuple in index order
    expect(ids(await client.request(17, selectBody(0, 1, 0, 100, tuple())))).toEqual([2, 1, 3, 4]);
  });

  test('partial keys on a two-part TREE index; too many parts is 0x2f02', async () => {
    const client = await start({
      spaces: [
        {
          space: 1,
          indexes: [
            {
              parts: [
                { field: 0, type: 'STR' },
                { field: 1, type: 'NUM' },
              ],
            },
          ],
        },
      ],
    });
    for (const [name, n] of [
      ['b', 2],
      ['a', 9],
      ['b', 1],
      ['bb', 0],
    ] as const)
      box!.space(1).put([name, n]);
    const keys = (reply: { tuples?: Buffer[][] }): string[] =>
      reply.tuples!.map((t) => `${t[0]}:${t[1].readUInt32LE(0)}`);
    expect(keys(await client.request(17, selectBody(1, 0, 0, 100, tuple('b'))))).toEqual(['b:1', 'b:2']);
    expect(keys(await client.request(17, selectBody(1, 0, 0, 100, tuple('b', num(2)))))).toEqual(['b:2']);
    expect(keys(await client.request(17, selectBody(1, 0, 0, 100, tuple())))).toEqual([
      'a:9',
      'b:1',
      'b:2',
      'bb:0',
    ]);
    expect(await client.request(17, selectBody(1, 0, 0, 100, tuple('b', num(2), 'x')))).toMatchObject({
      code: 0x2f02,
      text: 'Invalid key part count (expected [0..2], got 3)',
    });
  });

  test('a HASH index needs every key part: 0x2d02', async () => {
    const client = await users();
    expect(await client.request(17, selectBody(0, 0, 0, 1, tuple()))).toMatchObject({
      code: 0x2d02,
      text: 'Invalid key part count in an exact match (expected 1, got 0)',
    });
  });

  test('no keys: 0x0202 "tuple count must be positive"; no index: 0x3502; no space: 0x3902', async () => {
    const client = await users();
    expect(await client.request(17, selectBody(0, 0, 0, 10))).toEqual({
      code: 0x0202,
      text: 'Illegal parameters, tuple count must be positive',
      nul: true,
    });
    expect(await client.request(17, selectBody(0, 5, 0, 10, tuple(num(1))))).toMatchObject({
      code: 0x3502,
      text: 'No index #5 is defined in space 0',
    });
    expect(await client.request(17, selectBody(7, 0, 0, 10, tuple(num(1))))).toMatchObject({
      code: 0x3902,
      text: 'Space 7 does not exist',
    });
  });

  test('a NUM key that is not 4 bytes: 0x2602 "expected u32"', async () => {
    const client = await users();
    expect(await client.request(17, selectBody(0, 0, 0, 10, tuple(Buffer.from([1, 0, 0]))))).toEqual({
      code: 0x2602,
      text: 'Supplied key field type does not match index type: expected u32',
      nul: true,
    });
  });

  test('bytes after the last key: 0x0202 "can\'t unpack request"', async () => {
    const client = await users();
    expect(
      await client.request(17, Buffer.concat([selectBody(0, 0, 0, 10, tuple(num(1))), Buffer.from([9])])),
    ).toMatchObject({
      code: 0x0202,
      text: "Illegal parameters, can't unpack request",
    });
  });

  test('msg 18 (SelectUnion): L count, SELECT bodies; the reply is L 0, then each result set', async () => {
    const client = await users();
    const body = Buffer.concat([
      pack('L', 2),
      selectBody(0, 0, 0, 0x7fffffff, tuple(num(2)), tuple(num(1))),
      selectBody(0, 1, 0, 0x7fffffff, tuple(num(41))),
    ]);
    client.send([18, 4, body]);
    const [reply] = await client.frames(1);
    const t = (id: number, name: string, age: number): Buffer =>
      pack('L L w/a* w/a* w/a*', 5 + 1 + name.length + 5, 3, num(id), name, num(age));
    expect(reply.body).toEqual(
      Buffer.concat([pack('L L', 0, 2), t(2, 'bob', 25), t(1, 'alice', 30), pack('L', 1), t(4, 'dave', 41)]),
    );
  });
});

describe('DELETE', () => {
  test('msg 21 with WANT_RESULT answers the deleted tuple; msg 20 has no flags; a missing key is count 0', async () => {
    const client = await start(USERS);
    box!.space(0).put([1, 'alice', 30]);
    box!.space(0).put([2, 'bob', 25]);
    expect(await client.request(21, deleteBody(0, 1, tuple(num(1))))).toEqual({
      code: 0,
      count: 1,
      tuples: [[num(1), Buffer.from('alice'), num(30)]],
    });
    expect(await client.request(20, Buffer.concat([pack('L', 0), tuple(num(2))]))).toEqual({
      code: 0,
      count: 1,
    });
    expect(await client.request(21, deleteBody(0, 1, tuple(num(2))))).toEqual({
      code: 0,
      count: 0,
    });
    expect(box!.space(0).size).toBe(0);
  });

  test('the key must be the whole primary key: 0x2d02', async () => {
    const client = await start(USERS);
    expect(await client.request(21, deleteBody(0, 0, tuple(num(1), 'x')))).toMatchObject({
      code: 0x2d02,
      text: 'Invalid key part count in an exact match (expected 1, got 2)',
    });
  });
});

describe('CALL', () => {
  test('a procedure gets the arguments and returns tuples', async () => {
    const client = await start({
      procedures: {
        'box.echo': (args) => [args, [args.length]],
      },
    });
    expect(await client.request(22, callBody(0, 'box.echo', 'a', num(2)))).toEqual({
      code: 0,
      count: 2,
      tuples: [[Buffer.from('a'), num(2)], [num(2)]],
    });
    expect(await client.request(22, callBody(0, 'box.echo'))).toMatchObject({
      count: 2,
      tuples: [[], [num(0)]],
    });
  });

  test('no such procedure: 0x3202; a thrown error: 0x3302 with its message; a BoxDoubleError: its own code', async () => {
    const client = await start({
      procedures: {
        boom: () => {
          throw new Error('boom.lua:1: something broke');
        },
        busy: () => {
          throw new BoxDoubleError(BoxCode.TUPLE_IS_READ_ONLY);
        },
        nothing: () => undefined,
      },
    });
    expect(await client.request(22, callBody(0, 'nope', 'x'))).toEqual({
      code: 0x3202,
      text: "Procedure 'nope' is not defined",
      nul: true,
    });
    expect(await client.request(22, callBody(0, 'boom'))).toMatchObject({
      code: 0x3302,
      text: 'boom.lua:1: something broke',
    });
    expect(await client.request(22, callBody(0, 'busy'))).toMatchObject({
      code: 0x0401,
      text: 'Tuple is marked as read-only',
    });
    expect(await client.request(22, callBody(0, 'nothing'))).toEqual({ code: 0, count: 0 });
  });

  test('a procedure that yields is overtaken by the requests behind it', async () => {
    const client = await start({
      procedures: {
        slow: async () => {
          await new Promise((resolve) => setTimeout(resolve, 50));
          return [['late']];
        },
      },
    });
    client.send(
      [22, 1, callBody(0, 'slow')],
      [0xff00, 2, Buffer.alloc(0)],
      [17, 3, selectBody(0, 0, 0, 1, tuple(num(1)))],
    );
    const replies = await client.frames(3);
    expect(replies.map((r) => r.sync)).toEqual([2, 3, 1]);
    expect(decodeReply(replies[2].body).tuples).toEqual([[Buffer.from('late')]]);
  });
});

describe('ordering: the write-ahead log', () => {
  test('[INSERT k, SELECT k, PING] x3 in one write: replies 2 3 5 6 8 9 1 4 7, and each SELECT sees its INSERT', async () => {
    const client = await start();
    const frames: [number, number, Buffer][] = [];
    for (let i = 0; i < 3; i++) {
      const k = 100 + i;
      frames.push([13, 3 * i + 1, insertBody(0, 0, num(k), `v${k}`)]);
      frames.push([17, 3 * i + 2, selectBody(0, 0, 0, 1, tuple(num(k)))]);
      frames.push([0xff00, 3 * i + 3, Buffer.alloc(0)]);
    }
    client.send(...frames);
    const replies = await client.frames(9);
    expect(replies.map((r) => r.sync)).toEqual([2, 3, 5, 6, 8, 9, 1, 4, 7]);
    for (const reply of replies.filter((r) => r.msg === 17)) {
      const k = 100 + (reply.sync - 2) / 3;
      expect(decodeReply(reply.body).tuples).toEqual([[num(k), Buffer.from(`v${k}`)]]);
    }
  });

  test('errors and writes that change nothing do not wait for the log', async () => {
    const client = await start();
    client.send(
      [13, 1, insertBody(0, 0, num(1), 'a')],
      [13, 2, insertBody(0, 2, num(1), 'dup')],
      [21, 3, deleteBody(0, 0, tuple(num(5)))],
      [0xff00, 4, Buffer.alloc(0)],
    );
    expect((await client.frames(4)).map((r) => r.sync)).toEqual([2, 3, 4, 1]);
  });

  test('write replies leave the log in the order of the writes, whatever each one answers', async () => {
    const client = await start();
    const want = 1; // WANT_RESULT
    client.send(
      [13, 1, insertBody(0, 0, num(1), 'a')],
      [13, 2, insertBody(0, 0, num(2), 'b')],
      [13, 3, insertBody(0, want, num(3), 'c')],
      [13, 4, insertBody(0, 0, num(4), 'd')],
      [21, 5, deleteBody(0, want, tuple(num(1)))],
      [13, 6, insertBody(0, 0, num(5), 'e')],
      [0xff00, 7, Buffer.alloc(0)],
    );
    const replies = await client.frames(7);
    expect(replies.map((r) => r.sync)).toEqual([7, 1, 2, 3, 4, 5, 6]);
    expect(decodeReply(replies[3].body).tuples).toEqual([[num(3), Buffer.from('c')]]);
    expect(decodeReply(replies[5].body).tuples).toEqual([[num(1), Buffer.from('a')]]);
    expect(decodeReply(replies[6].body)).toEqual({ code: 0, count: 1 });
  });

  test('wal: false answers writes in order', async () => {
    const client = await start({ wal: false });
    client.send([13, 1, insertBody(0, 0, num(1), 'a')], [17, 2, selectBody(0, 0, 0, 1, tuple(num(1)))]);
    expect((await client.frames(2)).map((r) => r.sync)).toEqual([1, 2]);
  });

  test('walDelay holds write replies that long; close() drops them and leaves no timer', async () => {
    const client = await start({ walDelay: 60_000 });
    client.send([13, 1, insertBody(0, 0, num(1), 'a')], [0xff00, 2, Buffer.alloc(0)]);
    expect((await client.frames(1))[0].sync).toBe(2);
    expect(box!.space(0).size).toBe(1); // applied at once
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.unread).toBe(0);
    await box!.close();
    await client.waitClosed();
  });
});

describe('connection', () => {
  test('a header announcing more than 2 GiB closes the connection with no reply', async () => {
    const client = await start();
    client.raw.write(pack('L L L', 17, 2 ** 31 + 1, 1));
    await client.waitClosed();
    expect(client.raw.received.length).toBe(0);
    // The double's own limit, not the 16 MiB of a TestServer.
    expect(box!.limits.maxFrameSize).toBe(BOX_MAX_FRAME_SIZE);
    expect(BOX_MAX_FRAME_SIZE).toBe(2 ** 31);
  });

  test('headers announcing exactly 2 GiB and 1 GiB are accepted and cost what was sent, not what they announce', async () => {
    const first = await start();
    const more = await Promise.all([1, 2, 3].map(() => BoxTestClient.connect(box!.port)));
    clients.push(...more);
    const hostile = [first, ...more];
    const before = process.memoryUsage().arrayBuffers;
    hostile.forEach((client, i) => {
      // an INSERT whose body would be 2 GiB (or 1 GiB), of which 1000 bytes arrive
      client.raw.write(pack('L L L', 13, i % 2 === 0 ? 2 ** 31 : 2 ** 30, i), Buffer.alloc(1000, 1));
    });
    await waitFor(
      () => box!.connections.size === 4 && [...box!.connections].every((c) => c.socket.bytesRead === 1012),
      'every header and its 1000 bytes to be read',
    );
    const grown = process.memoryUsage().arrayBuffers - before;
    // 64 KiB each until more of the bodies arrives; the margin is for the sockets' own buffers.
    expect(grown).toBeLessThan(64 * 1024 * 1024);
    await sleep(50);
    for (const client of hostile) expect(client.raw.closed || client.raw.ended).toBe(false);
    expect([...box!.connections].every((c) => !c.socket.destroyed)).toBe(true);
    // And the double still serves.
    const honest = await BoxTestClient.connect(box!.port);
    clients.push(honest);
    expect(await honest.request(13, insertBody(0, 0, num(1), 'ok'))).toEqual({ code: 0, count: 1 });
  });

  test('maxFrameSize is still an option: a smaller one closes on one byte more', async () => {
    const client = await start({ maxFrameSize: 100 });
    const body = insertBody(0, 0, num(1), Buffer.alloc(82, 7));
    expect(body.length).toBe(100);
    expect(await client.request(13, body)).toEqual({ code: 0, count: 1 });
    client.raw.write(pack('L L L', 13, 101, 2));
    await client.waitClosed();
    expect(client.raw.received.length).toBe(12 + 8);
  });

  test('injected errors answer matching requests, then stop; ping is never touched', async () => {
    const client = await start();
    box!.injectError(0x0401, { msg: 17, times: 2 });
    const remove = box!.injectError(0x0701, {
      text: 'Failed to allocate 5 bytes in slab allocator for tuple',
      msg: 13,
    });
    const select = selectBody(0, 0, 0, 1, tuple(num(1)));
    client.send([0xff00, 1, Buffer.alloc(0)]);
    expect((await client.frames(1))[0].body.length).toBe(0);
    expect(await client.request(17, select)).toEqual({
      code: 0x0401,
      text: 'Tuple is marked as read-only',
      nul: true,
    });
    expect(await client.request(17, select)).toMatchObject({ code: 0x0401 });
    expect(await client.request(17, select)).toEqual({ code: 0, count: 0 });
    expect(await client.request(13, insertBody(0, 0, num(1)))).toMatchObject({ code: 0x0701 });
    remove();
    expect(await client.request(13, insertBody(0, 0, num(1)))).toMatchObject({ code: 0, count: 1 });
  });

  test('faults of TestServer apply to the box double too', async () => {
    const client = await start();
    box!.faults.add({ type: 'wrongSync', sync: 99 }, { msg: 17, times: 1 });
    client.send([17, 1, selectBody(0, 0, 0, 1, tuple(num(1)))]);
    expect((await client.frames(1))[0].sync).toBe(99);
    expect(box!.requests).toBe(1);
  });
});

describe('configuration', () => {
  test('bad spaces and options are refused with a message naming what is wrong', () => {
    expect(() => new BoxDouble({ spaces: [{ space: -1 }] })).toThrow(/space must be a u32/);
    expect(() => new BoxDouble({ spaces: [{ space: 0 }, { space: 0 }] })).toThrow(
      /space 0 is declared twice/,
    );
    expect(() => new BoxDouble({ spaces: [{ space: 0, indexes: [] }] })).toThrow(/needs at least one index/);
    expect(
      () =>
        new BoxDouble({ spaces: [{ space: 0, indexes: [{ parts: [{ field: 0, type: 'INT' as 'NUM' }] }] }] }),
    ).toThrow(/key part must be/);
    expect(
      () =>
        new BoxDouble({
          spaces: [{ space: 0, indexes: [{ parts: [{ field: 0, type: 'NUM' }], unique: false }] }],
        }),
    ).toThrow(/primary index must be unique/);
    expect(
      () =>
        new BoxDouble({
          spaces: [
            {
              space: 0,
              indexes: [{ parts: [{ field: 0, type: 'NUM' }] }, { parts: [{ field: 0, type: 'STR' }] }],
            },
          ],
        }),
    ).toThrow(/field 0 is both NUM and STR/);
    expect(() => new BoxDouble({ walDelay: -1 })).toThrow(/walDelay/);
    expect(() => new BoxDouble({ maxTupleSize: 1.5 })).toThrow(/maxTupleSize/);
    expect(() => new BoxDouble().space(4)).toThrow(/no space 4/);
  });

  test('space(id).put validates as an INSERT does and stores numbers as NUM / NUM64 bytes', () => {
    const double = new BoxDouble({
      spaces: [{ space: 0, indexes: [{ parts: [{ field: 0, type: 'NUM' }] }] }],
    });
    double.space(0).put([7, 'x', -1, 2 ** 40, 5n]);
    expect(double.space(0).tuples()).toEqual([
      [num(7), Buffer.from('x'), pack('l', -1), pack('Q', 2 ** 40), pack('Q', 5)],
    ]);
    expect(() => double.space(0).put([2 ** 40])).toThrow(BoxDoubleError);
    expect(() => double.space(0).put([1.5])).toThrow(/not a safe integer/);
    double.space(0).clear();
    expect(double.space(0).size).toBe(0);
  });

  test('multi-space: each space is its own namespace', async () => {
    const client = await start({ spaces: [{ space: 0 }, { space: 1 }] });
    await client.request(13, insertBody(1, 0, num(1), 'one'));
    expect(await client.request(17, selectBody(0, 0, 0, 1, tuple(num(1))))).toMatchObject({ count: 0 });
    expect(await client.request(17, selectBody(1, 0, 0, 1, tuple(num(1))))).toMatchObject({ count: 1 });
  });
});
