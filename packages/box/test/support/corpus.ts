/**
 * The parity corpus: calls covering every method and option of MR::Tarantool::Box, each with its
 * Perl form, our form, and the reply bytes the recording server answers with (one per try).
 */
import type { Box } from '../../src/index.js';
import { errorReply, f, hex, okCount, okSets, okTuples, s } from './test-support.js';

export const SPACES = [
  {
    space: 0,
    name: 'users',
    format: 'L$L',
    fields: ['id', 'name', 'age'],
    indexes: [
      { name: 'primary', keys: ['id'] },
      { name: 'by_name_age', keys: ['name', 'age'] },
    ],
  },
  {
    space: 1,
    name: 'events',
    format: 'Q&(L$)*',
    fields: ['id', 'blob', 'tail'],
    longFields: ['n', 's'],
    indexes: [{ name: 'pk', keys: [0] }],
  },
  {
    space: 2,
    name: 'ints',
    format: 'LlSsCcQq&$',
    indexes: [
      { name: 'pk', keys: [0] },
      { name: 'by_bytes', keys: [8] },
    ],
  },
  { space: 3, name: 'tail', format: 'L&L*', indexes: [{ name: 'pk', keys: [0] }] },
  { space: 4, name: 'strkey', format: '$L', fields: ['k', 'v'], indexes: [{ name: 'pk', keys: ['k'] }] },
] as const;

export type ParityBox = Box<typeof SPACES, false>;

export interface ParityCase {
  name: string;
  /** The command for test/support/perl/box-driver.pl. */
  perl: Record<string, unknown>;
  ts: (box: ParityBox) => Promise<unknown>;
  replies: Uint8Array[];
}

const user = (id: number, name: string, age: number) => [f('L', id), s(name), f('L', age)];
const BIG = Buffer.alloc(900 * 1024, 0x5a);
const UTF8 = 'Юлия, 東京 🙂';
const Q_MAX = '18446744073709551615';
const q_MIN = '-9223372036854775808';
const intsTuple = [
  f('L', 4294967295),
  f('l', -2147483648),
  f('S', 65535),
  f('s', -32768),
  f('C', 255),
  f('c', -128),
  f('Q', BigInt(Q_MAX)),
  f('q', BigInt(q_MIN)),
  Buffer.from([0, 1, 0xff]),
  s(UTF8),
];

const call = (method: string, args: unknown[], opts: Record<string, unknown> = {}) => ({
  op: 'call',
  method,
  args,
  opts,
});

const cases: ParityCase[] = [];
const add = (name: string, perl: ParityCase['perl'], ts: ParityCase['ts'], ...replies: Uint8Array[]) =>
  cases.push({ name, perl, ts, replies });

// ---- Insert / Add / Set / Replace ----------------------------------------------------------
add('insert', call('Insert', [1, 'alice', 30]), (b) => b.insert('users', [1, 'alice', 30]), okCount(1));
add(
  'insert an object',
  call('Insert', [1, 'alice', 30]),
  (b) => b.insert('users', { id: 1, name: 'alice', age: 30 }),
  okCount(1),
);
add(
  'insert want_result',
  call('Insert', [1, 'alice', 30], { want_result: 1 }),
  (b) => b.insert('users', [1, 'alice', 30], { wantResult: true }),
  okTuples([user(1, 'alice', 30)]),
);
add(
  'insert want_inserted_tuple, raw',
  call('Insert', [1, 'alice', 30], { want_inserted_tuple: 1, raw: 1 }),
  (b) => b.insert('users', [1, 'alice', 30], { wantResult: true, raw: true }),
  okTuples([user(1, 'alice', 30)]),
);
add('Add', call('Add', [2, 'bob', 40]), (b) => b.add('users', [2, 'bob', 40]), okCount(1));
add(
  'Set',
  call('Set', [2, 'bob', 40]),
  (b) => b.insert('users', [2, 'bob', 40], { action: 'set' }),
  okCount(1),
);
add('Replace', call('Replace', [2, 'bob', 40]), (b) => b.replace('users', [2, 'bob', 40]), okCount(1));
add(
  'insert action add, want_result',
  call('Insert', [3, 'c', 1], { action: 'add', want_result: 1 }),
  (b) => b.insert('users', [3, 'c', 1], { action: 'add', wantResult: true }),
  okTuples([user(3, 'c', 1)]),
);
add(
  'insert UTF-8 text',
  call('Insert', [4, hex(UTF8), 5]),
  (b) => b.insert('users', [4, UTF8, 5]),
  okCount(1),
);
add(
  'insert every integer letter at its limits, bytes and text',
  call(
    'Insert',
    [4294967295, -2147483648, 65535, -32768, 255, -128, Q_MAX, q_MIN, hex([0, 1, 0xff]), hex(UTF8)],
    {
      space: 'ints',
      want_result: 1,
    },
  ),
  (b) =>
    b.insert(
      'ints',
      [
        4294967295,
        -2147483648,
        65535,
        -32768,
        255,
        -128,
        BigInt(Q_MAX),
        q_MIN,
        Buffer.from([0, 1, 0xff]),
        UTF8,
      ],
      { wantResult: true },
    ),
  okTuples([intsTuple]),
);
add(
  'insert a long tuple with groups',
  call('Insert', ['5', hex('blob'), 1, 'a', 2, 'b'], { space: 'events', want_result: 1 }),
  (b) =>
    b.insert(
      'events',
      {
        id: 5n,
        blob: 'blob',
        tail: [
          { n: 1, s: 'a' },
          { n: 2, s: 'b' },
        ],
      },
      { wantResult: true },
    ),
  okTuples([[f('Q', 5n), s('blob'), f('L', 1), s('a'), f('L', 2), s('b')]]),
);
add(
  'insert a long tuple, no fields',
  call('Insert', [1, 'x', 7, 8, 9], { space: 3, want_result: 1 }),
  (b) => b.insert(3, [1, 'x', 7, 8, 9], { wantResult: true }),
  okTuples([[f('L', 1), s('x'), f('L', 7), f('L', 8), f('L', 9)]]),
);
add(
  'insert a 900 KiB field',
  call('Insert', ['6', hex(BIG), 1, 'a'], { space: 'events', want_result: 1 }),
  (b) => b.insert('events', [6n, BIG, 1, 'a'], { wantResult: true }),
  okTuples([[f('Q', 6n), BIG, f('L', 1), s('a')]]),
);
add(
  'insert into a string-keyed space',
  call('Insert', [hex('ключ'), 9], { space: 'strkey' }),
  (b) => b.insert('strkey', ['ключ', 9]),
  okCount(1),
);
for (const [code, text] of [
  [0x3702, 'Duplicate key exists in unique index 0'],
  [0x3102, "Tuple doesn't exist in index 0"],
  [0x0302, "Can't modify data upon a request on the secondary port."],
  [0x3902, 'Space 9 does not exist'],
  [0x0202, 'Illegal parameters, during verifying tuple: incorrect tuple format'],
  [0x2602, 'Supplied key field type does not match index type: expected u32'],
] as const) {
  add(
    `insert error 0x${code.toString(16)}`,
    call('Insert', [1, 'a', 1]),
    (b) => b.insert('users', [1, 'a', 1]),
    errorReply(code, text),
  );
}
add(
  'insert: a transient error, then success (soft retry)',
  call('Insert', [1, 'a', 1]),
  (b) => b.insert('users', [1, 'a', 1]),
  errorReply(0x0401, 'Tuple is marked as read-only'),
  okCount(1),
);
add(
  'insert: transient errors until the soft retries are spent',
  call('Insert', [1, 'a', 1]),
  (b) => b.insert('users', [1, 'a', 1]),
  errorReply(0x0401, 'Tuple is marked as read-only'),
);

// ---- Select ----------------------------------------------------------------------------------
add('select one key', call('Select', [1]), (b) => b.select('users', 1), okTuples([user(1, 'alice', 30)]));
add(
  'select many keys',
  call('Select', [[1, 2, 3]]),
  (b) => b.select('users', [1, 2, 3]),
  okTuples([user(1, 'alice', 30), user(3, 'carol', 50)]),
);
add(
  'select a key given as [key]',
  call('Select', [[[1], [2]]]),
  (b) => b.select('users', [[1], [2]]),
  okTuples([]),
);
add(
  'select by a multi-field key',
  call('Select', [['alice', 30]], { use_index: 'by_name_age' }),
  (b) => b.select('users', ['alice', 30], { index: 'by_name_age' }),
  okTuples([user(1, 'alice', 30)]),
);
add(
  'select by several multi-field keys, partial ones too',
  call('Select', [[['alice', 30], ['bob']]], { use_index: 'by_name_age' }),
  (b) => b.select('users', [['alice', 30], ['bob']], { index: 'by_name_age' }),
  okTuples([user(1, 'alice', 30), user(2, 'bob', 40), user(7, 'bob', 41)]),
);
add(
  'select by index id',
  call('Select', [[['bob']]], { use_index: 1 }),
  (b) => b.select('users', [['bob']], { index: 1 }),
  okTuples([user(2, 'bob', 40)]),
);
add(
  'select with limit and offset',
  call('Select', [[1, 2]], { limit: 10, offset: 5 }),
  (b) => b.select('users', [1, 2], { limit: 10, offset: 5 }),
  okTuples([]),
);
add(
  'select raw',
  call('Select', [1], { raw: 1 }),
  (b) => b.select('users', 1, { raw: true }),
  okTuples([user(1, UTF8, 30)]),
);
add('select UTF-8 text', call('Select', [1]), (b) => b.select('users', 1), okTuples([user(1, UTF8, 30)]));
add(
  'select every integer letter',
  call('Select', [4294967295], { space: 'ints' }),
  (b) => b.select('ints', 4294967295),
  okTuples([intsTuple]),
);
add(
  'select by a bytes index',
  call('Select', [hex([0, 1, 0xff])], { space: 'ints', use_index: 'by_bytes' }),
  (b) => b.select('ints', Buffer.from([0, 1, 0xff]), { index: 'by_bytes' }),
  okTuples([intsTuple]),
);
add(
  'select long tuples folded into groups',
  call('Select', ['5'], { space: 'events' }),
  (b) => b.select('events', 5n),
  okTuples([
    [f('Q', 5n), s('b'), f('L', 1), s('x'), f('L', 2), s(UTF8)],
    [f('Q', 6n), s(''), f('L', 0), s('')],
  ]),
);
add(
  'select long tuples without fields',
  call('Select', [1], { space: 'tail' }),
  (b) => b.select('tail', 1),
  okTuples([
    [f('L', 1), s('x'), f('L', 2)],
    [f('L', 1), s('y'), f('L', 3), f('L', 4)],
  ]),
);
add(
  'select a string key',
  call('Select', ['ключ'], { space: 'strkey' }),
  (b) => b.select('strkey', 'ключ'),
  okTuples([[s('ключ'), f('L', 9)]]),
);
add('select no keys: nothing sent', call('Select', []), (b) => b.select('users', []));
add('select: nothing found', call('Select', [9]), (b) => b.select('users', 9), okTuples([]));
add(
  'select: a tuple longer than the format',
  call('Select', [1]),
  (b) => b.select('users', 1),
  okTuples([[...user(1, 'a', 2), s('extra')]]),
);
for (const [code, text] of [
  [0x3502, 'No index #1 is defined in space 0'],
  [0x2f02, 'Invalid key part count (expected [0..1], got 2)'],
  [0x0202, 'Illegal parameters, tuple count must be positive'],
] as const) {
  add(
    `select error 0x${code.toString(16)}`,
    call('Select', [1]),
    (b) => b.select('users', 1),
    errorReply(code, text),
  );
}
add(
  'select: a reply shorter than its return code',
  call('Select', [1]),
  (b) => b.select('users', 1),
  Buffer.from([0, 0]),
);
add('select: a count with no tuples', call('Select', [1]), (b) => b.select('users', 1), okCount(1));
add(
  'select: a count of 4 billion in 20 bytes',
  call('Select', [1]),
  (b) => b.select('users', 1),
  Buffer.concat([okCount(0xffffffff), Buffer.alloc(12)]),
);
add(
  'select: a tuple size past the reply',
  call('Select', [1]),
  (b) => b.select('users', 1),
  Buffer.concat([okCount(1), Buffer.from([200, 0, 0, 0, 3, 0, 0, 0, 4, 1, 0, 0, 0])]),
);
add(
  'select: bytes left after the tuples',
  call('Select', [1]),
  (b) => b.select('users', 1),
  Buffer.concat([okTuples([user(1, 'a', 2)]), Buffer.from([1, 2, 3])]),
);
add(
  'select: a tuple shorter than the format',
  call('Select', [1]),
  (b) => b.select('users', 1),
  okTuples([[f('L', 1), s('a')]]),
);

// ---- UpdateMulti and its helpers ---------------------------------------------------------------
const op = (name: string, perlOp: unknown[], tsOps: unknown[], space = 'users', key: unknown = 1) =>
  add(
    `update ${name}`,
    call('UpdateMulti', [key, ...perlOp], { space }),
    (b) => b.update(space as 'users', key as number, tsOps as never),
    okCount(1),
  );
op('set', [['age', 'set', 31]], [['age', 'set', 31]]);
op('set text', [['name', 'set', hex(UTF8)]], [['name', 'set', UTF8]]);
op('add', [['age', 'add', 5]], [['age', 'add', 5]]);
op('add negative', [['age', 'add', -5]], [['age', 'add', -5]]);
op('and', [['age', 'and', 0xff]], [['age', 'and', 0xff]]);
op('xor', [['age', 'xor', 3]], [['age', 'xor', 3]]);
op('or', [['age', 'or', 8]], [['age', 'or', 8]]);
op('splice', [['name', 'splice', [1, 2, 'xy']]], [['name', 'splice', 1, 2, 'xy']]);
op('splice to the end', [['name', 'splice', [null, 0, 'z']]], [['name', 'splice', undefined, 0, 'z']]);
op('splice with an offset only', [['name', 'splice', [2]]], [['name', 'splice', 2]]);
op('substr', [['name', 'substr', [0, 1, 'Q']]], [['name', 'substr', 0, 1, 'Q']]);
op('append', [['name', 'append', 'tail']], [['name', 'append', 'tail']]);
op('prepend', [['name', 'prepend', 'head']], [['name', 'prepend', 'head']]);
op('cutbeg', [['name', 'cutbeg', 2]], [['name', 'cutbeg', 2]]);
op('cutend', [['name', 'cutend', 3]], [['name', 'cutend', 3]]);
op('num_add', [['age', 'num_add', 4]], [['age', 'num_add', 4]]);
op('num_sub', [['age', 'num_sub', 4]], [['age', 'num_sub', 4]]);
op('bit_set', [['age', 'bit_set', 16]], [['age', 'bit_set', 16]]);
op('bit_clear', [['age', 'bit_clear', 16]], [['age', 'bit_clear', 16]]);
op('by field number', [[2, 'add', 1]], [[2, 'add', 1]]);
op(
  'several ops, one field twice',
  [
    ['age', 'add', 1],
    ['age', 'and', 7],
    ['name', 'append', '!'],
  ],
  [
    ['age', 'add', 1],
    ['age', 'and', 7],
    ['name', 'append', '!'],
  ],
);
op('a 64-bit field set', [[6, 'set', Q_MAX]], [[6, 'set', BigInt(Q_MAX)]], 'ints', 7);
op('a 64-bit field add', [[7, 'add', -3]], [[7, 'add', -3]], 'ints', 7);
op('a long field by [group, name]', [[[1, 's'], 'set', 'q']], [[[1, 's'], 'set', 'q']], 'events', '5');
op('a long field by [group, number]', [[[0, 0], 'add', 2]], [[[0, 0], 'add', 2]], 'events', '5');
op('a long tail field by number', [[4, 'add', 2]], [[4, 'add', 2]], 'tail', 1);
op('a string-keyed space', [['v', 'add', 1]], [['v', 'add', 1]], 'strkey', 'ключ');
add(
  'update want_updated_tuple',
  call('UpdateMulti', [1, ['age', 'add', 1]], { want_updated_tuple: 1 }),
  (b) => b.update('users', 1, [['age', 'add', 1]], { wantResult: true }),
  okTuples([user(1, 'alice', 31)]),
);
add(
  'update a missing key',
  call('UpdateMulti', [9, ['age', 'add', 1]]),
  (b) => b.update('users', 9, [['age', 'add', 1]]),
  okCount(0),
);
add(
  'update error',
  call('UpdateMulti', [1, ['age', 'add', 1]]),
  (b) => b.update('users', 1, [['age', 'add', 1]]),
  errorReply(0x2c02, 'Unknown UPDATE operation'),
);
add('Update', call('Update', [1, 'age', 33]), (b) => b.update('users', 1, [['age', 'set', 33]]), okCount(1));
add(
  'Append',
  call('Append', [1, 'name', 'x']),
  (b) => b.update('users', 1, [['name', 'append', 'x']]),
  okCount(1),
);
add(
  'Prepend',
  call('Prepend', [1, 'name', 'x']),
  (b) => b.update('users', 1, [['name', 'prepend', 'x']]),
  okCount(1),
);
add(
  'Cutbeg',
  call('Cutbeg', [1, 'name', 1]),
  (b) => b.update('users', 1, [['name', 'cutbeg', 1]]),
  okCount(1),
);
add(
  'Cutend',
  call('Cutend', [1, 'name', 1]),
  (b) => b.update('users', 1, [['name', 'cutend', 1]]),
  okCount(1),
);
add(
  'Substr',
  call('Substr', [1, 'name', [1, 1, 'y']]),
  (b) => b.update('users', 1, [['name', 'substr', 1, 1, 'y']]),
  okCount(1),
);
add(
  'AndXorAdd',
  call('AndXorAdd', [1, 'age', 0xf0, 3, 7]),
  (b) =>
    b.update('users', 1, [
      ['age', 'and', 0xf0],
      ['age', 'xor', 3],
      ['age', 'add', 7],
    ]),
  okCount(1),
);
add(
  'Bit',
  call('Bit', [1, 'age', 'set', 1, 'bit_set', 4, 'bit_clear', 2]),
  (b) =>
    b.update('users', 1, [
      ['age', 'set', 1],
      ['age', 'bit_clear', 2],
      ['age', 'bit_set', 4],
    ]),
  okCount(1),
);
add(
  'Num',
  call('Num', [1, 'age', 'num_add', 10, 'num_sub', 3]),
  (b) => b.update('users', 1, [['age', 'num_add', 7]]),
  okCount(1),
);

// ---- Delete -------------------------------------------------------------------------------------
add('delete (msg 20)', call('Delete', [1]), (b) => b.delete('users', 1), okCount(1));
add(
  'delete want_deleted_tuple (msg 21)',
  call('Delete', [1], { want_deleted_tuple: 1 }),
  (b) => b.delete('users', 1, { wantResult: true }),
  okTuples([user(1, 'alice', 30)]),
);
add(
  'delete a missing key',
  call('Delete', [9], { want_result: 1 }),
  (b) => b.delete('users', 9, { wantResult: true }),
  okTuples([]),
);
add(
  'delete a string key',
  call('Delete', ['ключ'], { space: 'strkey' }),
  (b) => b.delete('strkey', 'ключ'),
  okCount(1),
);

// ---- Call ---------------------------------------------------------------------------------------
add(
  'call with unpack_format',
  call('Call', ['box.my_proc', ['arg', 5, hex([1, 2])]], { unpack_format: 'L$' }),
  (b) => b.call('box.my_proc', ['arg', 5, Buffer.from([1, 2])], { unpackFormat: 'L$' }),
  okTuples([
    [f('L', 1), s('one')],
    [f('L', 2), s(UTF8)],
  ]),
);
add(
  'call with flags and a long unpack_format',
  call('Call', ['proc', []], { unpack_format: '&*', flags: 1 }),
  (b) => b.call('proc', [], { unpackFormat: '&*', flags: 1 }),
  okTuples([[s('a'), s('b'), s('c')], [s('d')]]),
);
add(
  'call with unpack_format as a list',
  call('Call', ['proc', ['x']], { unpack_format: ['L', 'L'] }),
  (b) => b.call('proc', ['x'], { unpackFormat: ['L', 'L'] }),
  okTuples([[f('L', 1), f('L', 2)]]),
);
for (const [code, text] of [
  [0x3202, "Procedure 'nope' is not defined"],
  [0x3302, 'Lua error: [string "return error(\'boom\')"]:1: boom'],
] as const) {
  add(
    `call error 0x${code.toString(16)}`,
    call('Call', ['nope', []], { unpack_format: '&*' }),
    (b) => b.call('nope', []),
    errorReply(code, text),
  );
}

// ---- SelectUnion ----------------------------------------------------------------------------
add(
  'select union',
  {
    op: 'union',
    reqs: [
      ['users', [1]],
      ['events', ['5'], { limit: 3 }],
      ['ints', [[hex([0, 1, 0xff])]], { use_index: 'by_bytes', raw: 1 }],
    ],
  },
  (b) =>
    b.selectUnion([
      ['users', [1]],
      ['events', [5n], { limit: 3 }],
      ['ints', [Buffer.from([0, 1, 0xff])], { index: 'by_bytes', raw: true }],
    ]),
  okSets([[user(1, 'alice', 30)], [[f('Q', 5n), s('b'), f('L', 1), s('c')]], [intsTuple]]),
);

export const CORPUS: readonly ParityCase[] = cases;
