/**
 * The Box against the box double (@iproto/server/testing), an in-memory Tarantool 1.5 faithful to
 * tarantool-1.5.md, over real sockets: every error code of the reference, write replies that come
 * after the reads pipelined behind them, long tuples, UTF-8, 64-bit fields, a 900 KiB field,
 * retries, timeouts and abort.
 */
import { BoxCode, type BoxDouble, BoxDoubleError, startBoxDouble } from '@iproto/server/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Box, BoxError } from '../src/index.js';

const USERS = {
  space: 0,
  name: 'users',
  format: 'L$L',
  fields: ['id', 'name', 'age'],
  indexes: [
    { name: 'primary', keys: ['id'] },
    { name: 'by_age', keys: ['age'] },
  ],
} as const;

const EVENTS = {
  space: 1,
  name: 'events',
  format: 'Q&(L$)*',
  fields: ['id', 'blob', 'tail'],
  longFields: ['n', 's'],
  indexes: [{ name: 'pk', keys: ['id'] }],
} as const;

const NAMES = {
  space: 2,
  name: 'names',
  format: '$L',
  fields: ['name', 'n'],
  indexes: [{ name: 'pk', keys: ['name'] }],
} as const;

const COUNTERS = {
  space: 3,
  name: 'counters',
  format: 'LQ',
  fields: ['id', 'n'],
  indexes: [{ name: 'pk', keys: ['id'] }],
} as const;

const DOUBLE_SPACES = [
  {
    space: 0,
    indexes: [
      { parts: [{ field: 0, type: 'NUM' as const }] },
      { parts: [{ field: 2, type: 'NUM' as const }], unique: false },
    ],
  },
  { space: 1, indexes: [{ parts: [{ field: 0, type: 'NUM64' as const }] }] },
  { space: 2, indexes: [{ parts: [{ field: 0, type: 'STR' as const }] }] },
  { space: 3, indexes: [{ parts: [{ field: 0, type: 'NUM' as const }] }] },
];

let double: BoxDouble | undefined;
let box: Box<readonly [typeof USERS, typeof EVENTS, typeof NAMES, typeof COUNTERS]> | undefined;

async function start(options: Parameters<typeof startBoxDouble>[0] = {}) {
  double = await startBoxDouble({ spaces: DOUBLE_SPACES, ...options });
  box = new Box({
    servers: double.address,
    spaces: [USERS, EVENTS, NAMES, COUNTERS],
    retryDelay: 0,
    timeout: 5000,
  });
  return { double, box };
}

afterEach(async () => {
  await box?.close();
  await double?.close();
  box = undefined;
  double = undefined;
});

async function failure(promise: Promise<unknown>): Promise<BoxError> {
  const error = await promise.then(
    (value) => {
      throw new Error(
        `expected a BoxError, got ${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`,
      );
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BoxError);
  return error as BoxError;
}

describe('Box against the box double', () => {
  it('inserts, selects, updates and deletes', async () => {
    const { box } = await start();
    expect(await box.insert('users', [1, 'alice', 30])).toBe(1);
    expect(await box.insert('users', { id: 2, name: 'bob', age: 40 }, { wantResult: true })).toEqual({
      id: 2,
      name: 'bob',
      age: 40,
    });
    expect(await box.select('users', [1, 2, 3])).toEqual([
      { id: 1, name: 'alice', age: 30 },
      { id: 2, name: 'bob', age: 40 },
    ]);
    expect(await box.select('users', 40, { index: 'by_age', raw: true })).toEqual([[2, 'bob', 40]]);
    expect(
      await box.update(
        'users',
        1,
        [
          ['age', 'add', 1],
          ['name', 'append', '!'],
        ],
        { wantResult: true },
      ),
    ).toEqual({
      id: 1,
      name: 'alice!',
      age: 31,
    });
    expect(await box.update('users', 9, [['age', 'add', 1]])).toBe(0);
    expect(await box.delete('users', 2)).toBe(1);
    expect(await box.delete('users', 1, { wantResult: true })).toEqual({ id: 1, name: 'alice!', age: 31 });
    expect(await box.delete('users', 1, { wantResult: true })).toBeUndefined();
    expect(await box.select('users', [1, 2])).toEqual([]);
    expect(await box.ping()).toBe(true);
  });

  it('runs every update op on the server as the reference says', async () => {
    const { box, double } = await start();
    await box.insert('users', [1, 'abcdef', 0b1010]);
    const apply = async (ops: Parameters<typeof box.update<'users'>>[2]) =>
      box.update('users', 1, ops, { wantResult: true, raw: true });
    expect(await apply([['age', 'and', 0b0110]])).toEqual([1, 'abcdef', 0b0010]);
    expect(await apply([['age', 'or', 0b1000]])).toEqual([1, 'abcdef', 0b1010]);
    expect(await apply([['age', 'xor', 0b1111]])).toEqual([1, 'abcdef', 0b0101]);
    expect(await apply([['age', 'bit_set', 0b1000]])).toEqual([1, 'abcdef', 0b1101]);
    expect(await apply([['age', 'bit_clear', 0b0001]])).toEqual([1, 'abcdef', 0b1100]);
    expect(await apply([['age', 'num_add', 8]])).toEqual([1, 'abcdef', 20]);
    expect(await apply([['age', 'num_sub', 30]])).toEqual([1, 'abcdef', 4294967286]);
    expect(await apply([['age', 'set', 7]])).toEqual([1, 'abcdef', 7]);
    expect(await apply([['name', 'splice', 1, 2, 'XY']])).toEqual([1, 'aXYdef', 7]);
    expect(await apply([['name', 'substr', 0, 1]])).toEqual([1, 'XYdef', 7]);
    expect(await apply([['name', 'prepend', '<']])).toEqual([1, '<XYdef', 7]);
    expect(await apply([['name', 'append', '>']])).toEqual([1, '<XYdef>', 7]);
    expect(await apply([['name', 'cutbeg', 2]])).toEqual([1, 'Ydef>', 7]);
    expect(await apply([['name', 'cutend', 2]])).toEqual([1, 'Yde', 7]);
    // A format of three fields reads three (as Perl's unpack does); the double holds the fourth.
    expect(await apply([['age', 'insert', 99]])).toEqual([1, 'Yde', 99]);
    expect(double.space(0).tuples()[0]).toHaveLength(4);
    expect(await apply([[2, 'delete']])).toEqual([1, 'Yde', 7]);
    expect(double.space(0).tuples()[0]).toHaveLength(3);
  });

  it('updates a 64-bit field with arguments from 2^31 to 2^32 as the values given (a 1.5 server sign-extends a 4-byte one)', async () => {
    const { box } = await start();
    const MAX = 0xffff_ffff_ffff_ffffn;
    const cases: [string, bigint, number, bigint][] = [
      ['add', 0n, 3_000_000_000, 3_000_000_000n],
      ['num_add', 0n, 0x8000_0000, 0x8000_0000n],
      ['num_sub', 5_000_000_000n, 3_000_000_000, 2_000_000_000n],
      ['or', 0n, 0x8000_0000, 0x8000_0000n],
      ['bit_set', 0n, 0x8000_0000, 0x8000_0000n],
      ['xor', 0n, 0xffff_ffff, 0xffff_ffffn],
      ['and', MAX, 0xffff_ffff, 0xffff_ffffn],
      ['bit_clear', MAX, 0x8000_0000, MAX - 0x8000_0000n],
      ['bit_clear', MAX, 1, MAX - 1n],
      ['add', 10n, -3, 7n],
    ];
    for (const [op, start, argument, expected] of cases) {
      await box.insert('counters', [1, start]);
      const updated = await box.update('counters', 1, [['n', op, argument]] as never, { wantResult: true });
      expect({ op, argument, n: updated?.n }).toEqual({ op, argument, n: expected });
    }
  });

  it('keeps UTF-8 text, 64-bit fields, long tuples and a 900 KiB field intact', async () => {
    const { box, double } = await start();
    const text = 'Юлия, 東京 🙂 \u0000 end';
    await box.insert('users', [7, text, 1]);
    expect(await box.select('users', 7)).toEqual([{ id: 7, name: text, age: 1 }]);
    expect(await box.select('names', 'ключ')).toEqual([]);
    await box.insert('names', ['ключ', 3]);
    expect(await box.select('names', 'ключ')).toEqual([{ name: 'ключ', n: 3 }]);

    const max = 0xffff_ffff_ffff_ffffn;
    const blob = Buffer.alloc(900 * 1024);
    for (let i = 0; i < blob.length; i++) blob[i] = (i * 31) & 0xff;
    const tail = [
      { n: 0xffffffff, s: text },
      { n: 0, s: '' },
      { n: 5, s: 'x' },
    ];
    await box.insert('events', { id: max, blob, tail });
    await box.insert('events', [1n, 'short']);
    const [big] = await box.select('events', max);
    expect(big!.id).toBe(max);
    expect(Buffer.compare(big!.blob, blob)).toBe(0);
    expect(big!.tail).toEqual(tail);
    expect(await box.select('events', 1n)).toEqual([{ id: 1n, blob: Buffer.from('short'), tail: [] }]);
    // The double holds exactly the bytes we sent: a 64-bit key is 8 bytes, a 900 KiB field whole.
    const stored = double
      .space(1)
      .tuples()
      .find((t) => t[0]!.length === 8 && t[0]!.readBigUInt64LE(0) === max)!;
    expect(stored[1]!.length).toBe(900 * 1024);
    expect(
      await box.update(
        'events',
        max,
        [
          [[1, 's'], 'set', 'changed'],
          [[0, 'n'], 'add', -1],
        ],
        { wantResult: true },
      ),
    ).toMatchObject({
      tail: [
        { n: 0xfffffffe, s: text },
        { n: 0, s: 'changed' },
        { n: 5, s: 'x' },
      ],
    });
  });

  it('matches replies by sync: write replies come after the reads pipelined behind them', async () => {
    const { box } = await start();
    const order: string[] = [];
    const track = <T>(label: string, promise: Promise<T>) =>
      promise.then((value) => {
        order.push(label);
        return value;
      });
    const calls: Promise<unknown>[] = [];
    for (let k = 1; k <= 3; k++) {
      calls.push(track(`insert ${k}`, box.insert('users', [k, `user ${k}`, k])));
      calls.push(track(`select ${k}`, box.select('users', k)));
      calls.push(track(`ping ${k}`, box.ping()));
    }
    const results = await Promise.all(calls);
    for (let k = 1; k <= 3; k++) {
      expect(results[(k - 1) * 3]).toBe(1);
      // The select behind an insert sees the new tuple (the write applies before the log).
      expect(results[(k - 1) * 3 + 1]).toEqual([{ id: k, name: `user ${k}`, age: k }]);
      expect(results[(k - 1) * 3 + 2]).toBe(true);
    }
    // Every read and ping settled before the first write's reply came back.
    const firstInsert = order.findIndex((label) => label.startsWith('insert'));
    expect(order.slice(0, firstInsert).sort()).toEqual([
      'ping 1',
      'ping 2',
      'ping 3',
      'select 1',
      'select 2',
      'select 3',
    ]);
  });

  it('reports every error code of the reference with its code, severity, name and the server text', async () => {
    const { box, double } = await start({
      procedures: {
        'box.fail': () => {
          throw new BoxDoubleError(BoxCode.PROC_LUA, 'Lua error: [string "return error(\'boom\')"]:1: boom');
        },
      },
    });
    await box.insert('users', [1, 'a', 1]);
    const check = async (
      promise: Promise<unknown>,
      returnCode: number,
      code: string,
      text: string | RegExp,
    ) => {
      const error = await failure(promise);
      expect(error.returnCode).toBe(returnCode);
      expect(error.errcode).toBe(returnCode >>> 8);
      expect(error.severity).toBe(returnCode & 0xff);
      expect(error.code).toBe(code);
      if (typeof text === 'string') expect(error.serverMessage).toBe(text);
      else expect(error.serverMessage).toMatch(text);
      expect(error.serverMessage).not.toContain('\0');
      expect(error.message).toContain(`Error ${returnCode.toString(16).toUpperCase().padStart(8, '0')}: `);
    };
    // 0x0202: an UPDATE with no ops.
    await check(
      box.update('users', 1, []),
      0x0202,
      'ER_ILLEGAL_PARAMS',
      'Illegal parameters, no operations for update',
    );
    // 0x3702: ADD of an existing key.
    await check(
      box.add('users', [1, 'b', 2]),
      0x3702,
      'ER_TUPLE_FOUND',
      'Duplicate key exists in unique index 0',
    );
    // 0x3102: REPLACE of a missing key.
    await check(
      box.replace('users', [2, 'b', 2]),
      0x3102,
      'ER_TUPLE_NOT_FOUND',
      "Tuple doesn't exist in index 0",
    );
    // 0x3202, 0x3302: calls.
    await check(box.call('nope', []), 0x3202, 'ER_NO_SUCH_PROC', "Procedure 'nope' is not defined");
    await check(box.call('box.fail', []), 0x3302, 'ER_PROC_LUA', /boom/);

    // A client whose declarations disagree with the server's: wrong key type, index, space, key parts.
    const wrong = new Box({
      servers: double.address,
      retryDelay: 0,
      spaces: [
        {
          space: 0,
          name: 'q',
          format: 'QL',
          indexes: [
            { name: 'pk', keys: [0] },
            { name: 'nine', keys: [1], id: 5 },
            { name: 'two', keys: [0, 1], id: 1 },
          ],
        },
        { space: 9, name: 'none', format: 'L', indexes: [{ name: 'pk', keys: [0] }] },
      ],
    });
    try {
      await check(
        wrong.select('q', 1n),
        0x2602,
        'ER_KEY_FIELD_TYPE',
        'Supplied key field type does not match index type: expected u32',
      );
      await check(
        wrong.select('q', 1, { index: 'nine' }),
        0x3502,
        'ER_NO_SUCH_INDEX',
        'No index #5 is defined in space 0',
      );
      await check(
        wrong.select('q', [[1n, 2]], { index: 'two' }),
        0x2f02,
        'ER_KEY_PART_COUNT',
        /^Invalid key part count/,
      );
      await check(wrong.insert('none', [1]), 0x3902, 'ER_NO_SUCH_SPACE', 'Space 9 does not exist');
    } finally {
      await wrong.close();
    }

    // 0x2c02 and an unknown msg's 0x0202 cannot come from well-formed calls: the double answers them when told.
    double.injectError(0x2c02, { msg: 19, times: 1 });
    await check(
      box.update('users', 1, [['age', 'add', 1]]),
      0x2c02,
      'ER_UNKNOWN_UPDATE_OP',
      'Unknown UPDATE operation',
    );
    await check(
      box
        .selectUnion([['users', [1]]])
        .then(() =>
          double.injectError(0x0202, {
            msg: 18,
            times: 1,
            text: 'Illegal parameters, unsupported command code, check the error log',
          }),
        )
        .then(() => box.selectUnion([['users', [1]]])),
      0x0202,
      'ER_ILLEGAL_PARAMS',
      /^Illegal parameters/,
    );
  });

  it('reports 0x0302 from a read-only port', async () => {
    const { box } = await start({ readOnly: true });
    const error = await failure(box.insert('users', [1, 'a', 1]));
    expect(error.returnCode).toBe(0x0302);
    expect(error.code).toBe('ER_SECONDARY');
    expect(error.serverMessage).toBe("Can't modify data upon a request on the secondary port.");
    expect(await box.select('users', 1)).toEqual([]);
  });

  it('retries a transient error (0x0401) while softRetry lasts', async () => {
    const { box, double } = await start();
    await box.insert('users', [1, 'a', 1]);
    double.injectError(0x0401, { msg: 17, times: 2 });
    const before = double.requests;
    expect(await box.select('users', 1)).toEqual([{ id: 1, name: 'a', age: 1 }]);
    expect(double.requests - before).toBe(3);

    double.injectError(0x0401, { msg: 13, times: 5 });
    const at = double.requests;
    const error = await failure(box.insert('users', [2, 'b', 2]));
    expect(error.returnCode).toBe(0x0401);
    expect(error.code).toBe('ER_TUPLE_IS_RO');
    expect(error.severity).toBe(1);
    // MR::Tarantool::Box::_chat: soft_retry 3 and retry 1 give three tries.
    expect(double.requests - at).toBe(3);
  });

  it('does not retry a tuple too big for the allocator (0x0701), transient as it is', async () => {
    const { box, double } = await start({ maxTupleSize: 64 * 1024 });
    const before = double.requests;
    const error = await failure(box.insert('events', [1n, Buffer.alloc(70 * 1024)]));
    expect(error.returnCode).toBe(0x0701);
    expect(error.severity).toBe(1);
    expect(error.code).toBe('ER_MEMORY_ISSUE');
    expect(error.serverMessage).toMatch(/^Failed to allocate \d+ bytes in slab allocator for tuple$/);
    expect(double.requests - before).toBe(1);
  });

  it('raise: false resolves to the BoxError, per Box or per call', async () => {
    const { double } = await start();
    const quiet = new Box({ servers: double.address, spaces: [USERS], raise: false, retryDelay: 0 });
    try {
      await quiet.insert('users', [1, 'a', 1]);
      const error = await quiet.add('users', [1, 'a', 1]);
      expect(error).toBeInstanceOf(BoxError);
      expect((error as BoxError).returnCode).toBe(0x3702);
      // raise: true per call throws again.
      await failure(quiet.add('users', [1, 'a', 1], { raise: true }));
      // A wrong call still throws, as Perl confesses whatever raise says.
      await expect(quiet.insert('users', [1, 'a'] as never)).rejects.toMatchObject({
        code: 'ERR_BOX_ARGUMENT',
      });
    } finally {
      await quiet.close();
    }
    const error = await box!.add('users', [1, 'a', 1], { raise: false });
    expect((error as BoxError).code).toBe('ER_TUPLE_FOUND');
  });

  it('times out and retries a select by selectRetry, a write not at all', async () => {
    const { double } = await start();
    const slow = new Box({
      servers: double.address,
      spaces: [USERS],
      retryDelay: 0,
      timeout: 100,
      selectRetry: 2,
    });
    try {
      double.faults.add({ type: 'delay', ms: 1000 }, { times: 1 });
      const before = double.requests;
      expect(await slow.select('users', 1)).toEqual([]);
      expect(double.requests - before).toBe(2);

      double.faults.add({ type: 'delay', ms: 1000 }, { times: 1 });
      const at = double.requests;
      const error = await failure(slow.insert('users', [1, 'a', 1]));
      expect(error.code).toBe('ETIMEDOUT');
      expect(error.cause).toBeDefined();
      expect(double.requests - at).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it('a reply it cannot read says which server, msg and sync it came from (ERR_BOX_REPLY)', async () => {
    const { box, double } = await start();
    const syncs: number[] = [];
    double.on('request', (frame: { sync: number }) => syncs.push(frame.sync));
    // Return code 0, then 5 tuples claimed with no byte left for them.
    double.on(17, () => Buffer.from([0, 0, 0, 0, 5, 0, 0, 0]));
    const error = await failure(box.select('users', 1));
    expect(error.code).toBe('ERR_BOX_REPLY');
    expect(error).toMatchObject({ address: double.address, msg: 17, sync: syncs.at(-1) });
    expect(error.message).toMatch(
      new RegExp(
        `bad reply: 5 tuples claimed in 0 bytes \\(reply from ${double.address}, msg 17 sync ${syncs.at(-1)}\\)$`,
      ),
    );
    // The client's ERR_REPLY_DECODE is the cause, and the decoder's own error its cause.
    const cause = error.cause as { code: string; cause: unknown };
    expect(cause.code).toBe('ERR_REPLY_DECODE');
    expect(cause.cause).toBeInstanceOf(BoxError);
  });

  it('aborts a call through its signal', async () => {
    const { box, double } = await start();
    double.faults.add({ type: 'delay', ms: 2000 }, { times: 1 });
    const controller = new AbortController();
    const pending = box.select('users', 1, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    // The signal's reason itself, not wrapped in a BoxError (as undici's fetch rejects).
    const rejected = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(await rejected(pending)).toBe(controller.signal.reason);
    const timeout = AbortSignal.timeout(10);
    double.faults.add({ type: 'delay', ms: 2000 }, { times: 1 });
    const timedOut = await rejected(box.select('users', 1, { signal: timeout, raise: false }));
    expect(timedOut).toBe(timeout.reason);
    expect(timedOut?.name).toBe('TimeoutError');
    const stopped = new AbortController();
    stopped.abort('stop');
    const bare = await rejected(box.select('users', 1, { signal: stopped.signal }));
    expect(bare).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'stop' });
  });

  it('runs the multi-space select (msg 18) the double serves', async () => {
    const { box } = await start();
    await box.insert('users', [1, 'a', 1]);
    await box.insert('names', ['n', 2]);
    expect(
      await box.selectUnion([
        ['users', [1, 2]],
        ['names', ['n'], { raw: true }],
        ['events', [5n]],
      ]),
    ).toEqual([[{ id: 1, name: 'a', age: 1 }], [['n', 2]], []]);
  });

  it('calls a procedure and reads its tuples with unpackFormat', async () => {
    const { box } = await start({
      procedures: { 'box.echo': (args) => [[...args], [7, 'seven']] },
    });
    expect(await box.call('box.echo', ['a', 5, Buffer.from([1])])).toEqual([
      [Buffer.from('a'), Buffer.from('5'), Buffer.from([1])],
      [Buffer.from([7, 0, 0, 0]), Buffer.from('seven')],
    ]);
    expect(await box.call('box.echo', ['x', 'y'], { unpackFormat: '$*' })).toEqual([
      ['x', 'y'],
      ['\u0007\u0000\u0000\u0000', 'seven'],
    ]);
  });

  it('refuses a wantResult that is not a boolean before sending: the write is not applied and then reported failed', async () => {
    const { box } = await start();
    // Perl's `want_result => 1`: the flag was sent, the tuple stored, the reply read as a count.
    const insert = await failure(box.insert('users', [1, 'a', 1], { wantResult: 1 as never }));
    expect(insert).toMatchObject({
      code: 'ERR_BOX_ARGUMENT',
      message: expect.stringMatching(/wantResult must be a boolean, got 1/),
    });
    expect(await box.select('users', 1)).toEqual([]);
    await box.insert('users', [1, 'a', 1]);
    expect(
      (await failure(box.update('users', 1, [['age', 'add', 1]], { wantResult: 'yes' as never }))).code,
    ).toBe('ERR_BOX_ARGUMENT');
    expect((await failure(box.delete('users', 1, { wantResult: 1 as never }))).code).toBe('ERR_BOX_ARGUMENT');
    expect((await failure(box.select('users', 1, { raw: 1 as never }))).code).toBe('ERR_BOX_ARGUMENT');
    expect((await failure(box.selectUnion([['users', 1, { raw: 1 as never }]]))).code).toBe(
      'ERR_BOX_ARGUMENT',
    );
    expect(await box.select('users', 1, { raw: true })).toEqual([[1, 'a', 1]]);
    expect(await box.delete('users', 1, { wantResult: true, raw: false })).toEqual({
      id: 1,
      name: 'a',
      age: 1,
    });
  });

  it('reads an error reply with no text as its known description, or Unknown error (as Perl falls back to %ERRORS)', async () => {
    const { box, double } = await start();
    double.on(13, () => Buffer.from([0x02, 0x37, 0, 0]));
    const known = await failure(box.insert('users', [1, 'a', 1]));
    expect(known).toMatchObject({ code: 'ER_TUPLE_FOUND', returnCode: 0x3702, serverMessage: '' });
    expect(known.message).toMatch(/Error 00003702: Duplicate key exists in unique index$/);
    double.on(13, () => Buffer.from([0x02, 0x4a, 0, 0, 0]));
    const unknown = await failure(box.insert('users', [1, 'a', 1]));
    expect(unknown).toMatchObject({ code: 'ER_UNKNOWN', returnCode: 0x4a02, serverMessage: '' });
    expect(unknown.message).toMatch(/Error 00004A02: Unknown error$/);
  });

  it('caps the fields of a reply, all its tuples together, at maxReplyFields, +/- 1', async () => {
    const { box: unused, double } = await start({
      // n fields, then one more in a second tuple.
      procedures: {
        'box.fields': (args) => [Array.from({ length: Number(String(args[0])) }, () => 'x'), ['y']],
      },
    });
    await unused.close();
    box = new Box({
      servers: double.address,
      spaces: [USERS, EVENTS, NAMES, COUNTERS],
      retryDelay: 0,
      maxReplyFields: 5,
    });
    expect((await box.call('box.fields', [3])).flat()).toHaveLength(4);
    expect((await box.call('box.fields', [4])).flat()).toHaveLength(5);
    const error = await failure(box.call('box.fields', [5]));
    expect(error.code).toBe('ERR_BOX_REPLY');
    expect(error.message).toMatch(
      /tuple 1 brings the reply past maxReplyFields \(5 fields\): it holds 1, 0 were left/,
    );
    expect((await failure(box.call('box.fields', [6]))).message).toMatch(
      /tuple 0 brings the reply past maxReplyFields/,
    );
  });

  it('a second close() waits for the first to finish', async () => {
    const { box, double } = await start();
    double.faults.add({ type: 'delay', ms: 200 }, { times: 1 });
    const order: string[] = [];
    const select = box.select('users', 1).then(() => order.push('select'));
    const first = box.close().then(() => order.push('close 1'));
    const second = box.close().then(() => order.push('close 2'));
    await Promise.all([select, first, second]);
    expect(order).toEqual(['select', 'close 1', 'close 2']);
  });
});
