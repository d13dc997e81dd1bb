import { describe, expectTypeOf, it } from 'vitest';
import type {
  ArrayTuple,
  BoxError,
  KeyOf,
  ObjectTuple,
  ParseFormat,
  TupleInput,
  UpdateOp,
} from '../src/index.js';
import { Box } from '../src/index.js';

const spaces = [
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
] as const;
type Users = (typeof spaces)[0];
type Events = (typeof spaces)[1];

describe('types', () => {
  it('parses formats', () => {
    expectTypeOf<ParseFormat<'L$L'>>().toEqualTypeOf<{ fixed: ['L', '$', 'L']; long: [] }>();
    expectTypeOf<ParseFormat<'L&CL*'>>().toEqualTypeOf<{ fixed: ['L', '&', 'C']; long: ['L'] }>();
    expectTypeOf<ParseFormat<'Q&(L$)*'>>().toEqualTypeOf<{ fixed: ['Q', '&']; long: ['L', '$'] }>();
  });
  it('tuples', () => {
    expectTypeOf<ObjectTuple<Users>>().toEqualTypeOf<{ id: number; name: string; age: number }>();
    expectTypeOf<ArrayTuple<Users>>().toEqualTypeOf<[number, string, number]>();
    expectTypeOf<ObjectTuple<Events>>().toEqualTypeOf<{
      id: bigint;
      blob: Buffer;
      tail: { n: number; s: string }[];
    }>();
    expectTypeOf<ArrayTuple<Events>>().toEqualTypeOf<[bigint, Buffer, ...(number | string)[]]>();
    expectTypeOf<[1, 'a', 2]>().toExtend<TupleInput<Users>>();
  });
  it('keys', () => {
    expectTypeOf<KeyOf<Users>>().toEqualTypeOf<number | [number]>();
    expectTypeOf<KeyOf<Users, 'by_name_age'>>().toEqualTypeOf<[string, number] | [string]>();
  });
  it('ops', () => {
    expectTypeOf<readonly ['age', 'add', 1]>().toExtend<UpdateOp<Users>>();
    expectTypeOf<readonly ['name', 'splice', 0, 1, 'x']>().toExtend<UpdateOp<Users>>();
    expectTypeOf<readonly ['name', 'add', 1]>().not.toExtend<UpdateOp<Users>>();
  });
  it('methods', async () => {
    const box = new Box({ servers: '127.0.0.1:1', spaces });
    const check = async () => {
      const users = await box.select('users', [1, 2]);
      expectTypeOf(users).toEqualTypeOf<{ id: number; name: string; age: number }[]>();
      const raw = await box.select('users', 1, { raw: true });
      expectTypeOf(raw).toEqualTypeOf<[number, string, number][]>();
      const byName = await box.select('users', [['alice', 30]], { index: 'by_name_age' });
      expectTypeOf(byName).toEqualTypeOf<{ id: number; name: string; age: number }[]>();
      const t = await box.insert('users', { id: 1, name: 'a', age: 2 }, { wantResult: true });
      expectTypeOf(t).toEqualTypeOf<{ id: number; name: string; age: number } | undefined>();
      const maybe = await box.update('users', 1, [['age', 'add', 1]], { raise: false });
      expectTypeOf(maybe).toEqualTypeOf<number | BoxError>();
      // @ts-expect-error: a string field takes no arithmetic
      await box.update('users', 1, [['name', 'add', 1]]);
      // @ts-expect-error: no such space
      await box.select('nope', 1);
      const e = await box.space('events').select(5n);
      expectTypeOf(e).toEqualTypeOf<{ id: bigint; blob: Buffer; tail: { n: number; s: string }[] }[]>();
    };
    void check;
    await box.close();
  });
});
