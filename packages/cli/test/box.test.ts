import { type BoxDouble, BoxDoubleError, startBoxDouble } from '@iproto/server/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { fakeIO } from './support/test-support.js';

/**
 * `iproto box` in-process (`main` with captured output) against the box double on a real socket:
 * a users space [id NUM, name STR, age NUM] with a non-unique TREE index on age, and a space keyed
 * by [STR, NUM] for partial keys.
 */
let box: BoxDouble;
let address: string;

beforeEach(async () => {
  box = await startBoxDouble({
    spaces: [
      {
        space: 0,
        indexes: [
          { parts: [{ field: 0, type: 'NUM' }], type: 'HASH' },
          { parts: [{ field: 2, type: 'NUM' }], unique: false },
        ],
      },
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
      { space: 2, indexes: [{ parts: [{ field: 0, type: 'NUM64' }] }] },
    ],
    procedures: {
      'users.older': ([age]) =>
        box
          .space(0)
          .tuples()
          .filter((t) => t[2].readUInt32LE(0) > Number(age.toString())),
      'users.busy': () => {
        throw new BoxDoubleError(0x0401);
      },
    },
  });
  address = box.address;
  for (const [id, name, age] of [
    [1, 'alice', 30],
    [2, 'bob', 25],
    [3, 'Zoë ✓', 30],
  ] as const)
    box.space(0).put([id, name, age]);
});

afterEach(async () => {
  await box.close();
});

const USERS = ['--format', 'L$L', '--fields', 'id,name,age'];

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const t = fakeIO();
  const code = await main(['box', ...argv], t.io);
  return { code, stdout: t.stdout(), stderr: t.stderr() };
}

/** Output lines without the trailing timing. */
function lines(stdout: string): string[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((l) => l.replace(/ \([\d.]+ ms\)$/, ''));
}

describe('iproto box select', () => {
  it('prints the tuples of several keys as a table, in key order; missing keys add nothing', async () => {
    const r = await run('select', address, ...USERS, '3', '9', '1');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'id  name   age',
      '--  -----  ---',
      '3   Zoë ✓  30',
      '1   alice  30',
      '2 tuples',
    ]);
    expect(r.stdout).toMatch(/ \([\d.]+ ms\)\n$/);
  });

  it('without --fields the header numbers the fields; --json gives arrays or objects', async () => {
    expect(lines((await run('select', address, '--format', 'L$L', '2')).stdout)).toEqual([
      '0  1    2',
      '-  ---  --',
      '2  bob  25',
      '1 tuple',
    ]);
    expect(JSON.parse((await run('select', address, '--format', 'L$L', '--json', '2')).stdout)).toEqual({
      count: 1,
      tuples: [[2, 'bob', 25]],
    });
    expect(JSON.parse((await run('select', address, ...USERS, '--json', '2', '3')).stdout)).toEqual({
      count: 2,
      tuples: [
        { id: 2, name: 'bob', age: 25 },
        { id: 3, name: 'Zoë ✓', age: 30 },
      ],
    });
    expect(lines((await run('select', address, ...USERS, '7')).stdout)).toEqual(['0 tuples']);
  });

  it('--index and --key select by a secondary index; --limit and --offset page through it', async () => {
    const byAge = ['--index', '1', '--key', 'age'];
    const ids = async (...extra: string[]): Promise<number[]> =>
      JSON.parse((await run('select', address, ...USERS, ...byAge, '--json', ...extra)).stdout).tuples.map(
        (t: { id: number }) => t.id,
      );
    expect(await ids('30')).toEqual([1, 3]);
    expect(await ids('30', '25')).toEqual([1, 3, 2]);
    expect(await ids('--limit', '2', '30', '25')).toEqual([1, 3]);
    expect(await ids('--offset', '1', '--limit', '1', '30', '25')).toEqual([3]);
  });

  it('a key of several fields as "a,2" or a JSON array; a prefix selects by the leading fields', async () => {
    for (const [name, n] of [
      ['b', 2],
      ['a,x', 1],
      ['b', 1],
    ] as const)
      box.space(1).put([name, n]);
    const keys = async (...words: string[]): Promise<unknown> =>
      JSON.parse(
        (await run('select', address, '--space', '1', '--format', '$L', '--key', '0,1', '--json', ...words))
          .stdout,
      ).tuples;
    expect(await keys('b,2')).toEqual([['b', 2]]);
    expect(await keys('b')).toEqual([
      ['b', 1],
      ['b', 2],
    ]);
    expect(await keys('["a,x",1]')).toEqual([['a,x', 1]]);
  });

  it('64-bit fields come back whole, as decimal strings in JSON', async () => {
    const big = '18446744073709551615';
    expect((await run('insert', address, '--space', '2', '--format', 'Q$', big, 'max')).code).toBe(0);
    const r = await run('select', address, '--space', '2', '--format', 'Q$', '--json', big);
    expect(JSON.parse(r.stdout).tuples).toEqual([[big, 'max']]);
    expect(lines((await run('select', address, '--space', '2', '--format', 'Q$', big)).stdout)[2]).toBe(
      `${big}  max`,
    );
  });
});

describe('iproto box insert, update, delete', () => {
  it('insert stores a tuple; --want-result prints it; --add and --replace fail as the box says', async () => {
    expect(lines((await run('insert', address, ...USERS, '4', 'dave', '41')).stdout)).toEqual(['inserted 1']);
    expect(lines((await run('insert', address, ...USERS, '--want-result', '5', 'eve', '22')).stdout)).toEqual(
      ['id  name  age', '--  ----  ---', '5   eve   22', '1 tuple'],
    );
    const add = await run('insert', address, ...USERS, '--add', '1', 'x', '1');
    expect(add.code).toBe(1);
    expect(add.stdout).toBe('');
    expect(add.stderr).toBe(
      'iproto box insert: ER_TUPLE_FOUND: insert into space 0: Error 00003702: Duplicate key exists in unique index 0\n',
    );
    const replace = await run('insert', address, ...USERS, '--replace', '9', 'x', '1');
    expect(replace.code).toBe(1);
    expect(replace.stderr).toContain("Error 00003102: Tuple doesn't exist in index 0");
    expect(box.space(0).size).toBe(5);
  });

  it('update applies FIELD OP ARG ops in order, by name or number', async () => {
    const r = await run(
      'update',
      address,
      ...USERS,
      '--want-result',
      '1',
      'age',
      'add',
      '5',
      'name',
      'append',
      '!',
      '1',
      'splice',
      '0',
      '1',
      'A',
    );
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toEqual(['id  name    age', '--  ------  ---', '1   Alice!  35', '1 tuple']);
    expect(lines((await run('update', address, ...USERS, '2', 'age', 'set', '26')).stdout)).toEqual([
      'updated 1',
    ]);
    expect(lines((await run('update', address, ...USERS, '9', 'age', 'set', '1')).stdout)).toEqual([
      'updated 0',
    ]);
    expect(
      box
        .space(0)
        .tuples()
        .find((t) => t[0].readUInt32LE(0) === 2)![2]
        .readUInt32LE(0),
    ).toBe(26);
  });

  it('delete removes the tuple of a key, printing it with --want-result', async () => {
    expect(
      JSON.parse((await run('delete', address, ...USERS, '--want-result', '--json', '2')).stdout),
    ).toEqual({
      count: 1,
      tuples: [{ id: 2, name: 'bob', age: 25 }],
    });
    expect(lines((await run('delete', address, ...USERS, '2')).stdout)).toEqual(['deleted 0']);
    expect(JSON.parse((await run('delete', address, ...USERS, '--json', '1')).stdout)).toEqual({ count: 1 });
  });
});

describe('iproto box call', () => {
  it('calls a procedure with its arguments and reads its tuples with --format', async () => {
    const r = await run('call', address, ...USERS, 'users.older', '26');
    expect(lines(r.stdout)).toEqual([
      'id  name   age',
      '--  -----  ---',
      '1   alice  30',
      '3   Zoë ✓  30',
      '2 tuples',
    ]);
    // without a format every field is bytes: printed as text when it is printable
    expect(JSON.parse((await run('call', address, '--json', 'users.older', '29')).stdout).tuples[0]).toEqual([
      'hex:01000000',
      'alice',
      'hex:1e000000',
    ]);
  });

  it('box errors print one line with the code and the server text, exit 1', async () => {
    const busy = await run('call', address, 'users.busy');
    expect(busy.code).toBe(1);
    expect(busy.stderr).toBe(
      'iproto box call: ER_TUPLE_IS_RO: call users.busy: Error 00000401: Tuple is marked as read-only\n',
    );
    const missing = await run('call', address, 'nope');
    expect(missing.stderr).toMatch(/Error 00003202: Procedure 'nope' is not defined\n$/);
  });
});

describe('iproto box: errors', () => {
  it('server and connection failures exit 1 with one line', async () => {
    const space = await run('select', address, '--space', '9', '--format', 'L', '1');
    expect(space.code).toBe(1);
    expect(space.stderr).toBe(
      'iproto box select: ER_NO_SUCH_SPACE: select from space 9: Error 00003902: Space 9 does not exist\n',
    );
    const key = await run('select', address, '--format', '$', 'abc');
    expect(key.code).toBe(1);
    expect(key.stderr).toMatch(
      /Error 00002602: Supplied key field type does not match index type: expected u32\n$/,
    );
    const port = box.port;
    await box.close();
    const down = await run('select', `127.0.0.1:${port}`, '--format', 'L', '1');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /^iproto box select: select from space 0: 127\.0\.0\.1:\d+: .*ECONNREFUSED.*\n$/,
    );
  });

  it.each([
    [
      ['frobnicate', '127.0.0.1:1'],
      'iproto box: unknown operation "frobnicate" (select, insert, update, delete, call)',
    ],
    [[], 'iproto box: no operation given (select, insert, update, delete, call)'],
    [['select'], 'iproto box select: no server given'],
    [
      ['select', '127.0.0.1:1', '1'],
      "iproto box select: --format is required (the space's field letters, e.g. 'L$L')",
    ],
    [
      ['select', '127.0.0.1:1', '--format', 'LX', '1'],
      "iproto box select: --format: bad format 'LX': letters $&lLsScCqQ, optionally ending in '*' or '(letters)*'",
    ],
    [['select', '127.0.0.1:1', '--format', 'L'], 'iproto box select: no keys given'],
    [
      ['insert', '127.0.0.1:1', '--format', 'L', '--index', '1', '1'],
      'iproto box insert: --index does not apply to insert',
    ],
    [
      ['insert', '127.0.0.1:1', '--format', 'L', '--add', '--replace', '1'],
      'iproto box insert: use --add or --replace, not both',
    ],
    [
      ['update', '127.0.0.1:1', '--format', 'L$', '1'],
      'iproto box update: no update ops given (FIELD OP [ARG...])',
    ],
    [
      ['update', '127.0.0.1:1', '--format', 'L$', '1', '1', 'frob', 'x'],
      'iproto box update: unknown op "frob" (set, insert, delete, add, num_add, num_sub, and, xor, or, bit_set, bit_clear, splice, substr, append, prepend, cutbeg, cutend)',
    ],
    [
      ['update', '127.0.0.1:1', '--format', 'L$', '1', '1', 'splice', '0'],
      'iproto box update: 1 splice takes 3 arguments',
    ],
    [['delete', '127.0.0.1:1', '--format', 'L', '1', '2'], 'iproto box delete: give one key'],
    [['call', '127.0.0.1:1', '--space', '1', 'p'], 'iproto box call: --space does not apply to call'],
    [
      ['select', '127.0.0.1:1', '--format', 'L$', '--fields', 'id,name', '--key', 'age', '1'],
      'iproto box select: --key names a field that --fields does not: age',
    ],
    [
      ['select', '127.0.0.1:1', '--format', 'L', 'x'],
      'iproto box select: space 0: key of index cli: expected an integer for \'L\', got "x"',
    ],
  ])('usage error: iproto box %j', async (argv, message) => {
    const t = fakeIO();
    expect(await main(['box', ...argv], t.io)).toBe(2);
    expect(t.stderr()).toBe(`${message}\n`);
    expect(t.stdout()).toBe('');
  });
});
