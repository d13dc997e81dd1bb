/**
 * Declarations and calls the Box refuses, each with a clear error and a stable code, before
 * anything is sent; the limits at the limit +/- 1; the BER lengths against @iproto/pack.
 */
import { pack } from '@iproto/pack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Box, BoxError, MAX_UPDATE_OPS, parseFormat, type SpaceSpec } from '../src/index.js';
import { Writer } from '../src/writer.js';
import { okCount, RecordingServer } from './support/test-support.js';

const users = {
  space: 0,
  name: 'users',
  format: 'L$L',
  fields: ['id', 'name', 'age'],
  indexes: [
    { name: 'primary', keys: ['id'] },
    { name: 'pair', keys: ['name', 'age'] },
  ],
} as const;
const ints = { space: 1, name: 'ints', format: 'LlSsCcQq&$', indexes: [{ name: 'pk', keys: [0] }] } as const;
const tail = {
  space: 2,
  name: 'tail',
  format: 'L(L$)*',
  fields: ['id', 'rest'],
  longFields: ['n', 's'],
  indexes: [{ name: 'pk', keys: [0] }],
} as const;

let server: RecordingServer;
let box: Box<readonly [typeof users, typeof ints, typeof tail]>;

beforeAll(async () => {
  server = new RecordingServer();
  server.replies = [okCount(1)];
  box = new Box({ servers: await server.listen(), spaces: [users, ints, tail], retryDelay: 0 });
});

afterAll(async () => {
  await box.close();
  await server.close();
});

function specError(spec: Partial<SpaceSpec> | Record<string, unknown>, message: RegExp) {
  expect(() => new Box({ servers: '127.0.0.1:1', spaces: [spec as SpaceSpec] })).toThrow(
    expect.objectContaining({
      name: 'BoxError',
      code: 'ERR_BOX_SPEC',
      message: expect.stringMatching(message),
    }),
  );
}

async function argumentError(call: () => Promise<unknown>, message: RegExp) {
  server.take();
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BoxError);
  expect(error).toMatchObject({ code: 'ERR_BOX_ARGUMENT', message: expect.stringMatching(message) });
  expect(server.take()).toEqual([]);
}

describe('space declarations', () => {
  const base = { space: 0, format: 'L', indexes: [{ name: 'pk', keys: [0] }] };
  it('parses formats as MR::Tarantool::Box does', () => {
    expect(parseFormat('L $ L', 'x')).toEqual({ source: 'L$L', fixed: ['L', '$', 'L'], long: [] });
    expect(parseFormat('L&CL*', 'x')).toMatchObject({ fixed: ['L', '&', 'C'], long: ['L'] });
    expect(parseFormat('L(&$)*', 'x')).toMatchObject({ fixed: ['L'], long: ['&', '$'] });
    expect(parseFormat('$*', 'x')).toMatchObject({ fixed: [], long: ['$'] });
  });

  it('refuses bad declarations', () => {
    specError({ ...base, format: 'Lx' }, /bad format 'Lx'/);
    specError({ ...base, format: '*' }, /bad format/);
    specError({ ...base, format: 'L*L' }, /bad format/);
    specError({ ...base, format: 5 }, /format must be a string/);
    specError({ ...base, space: -1 }, /unsigned 32-bit id/);
    specError({ ...base, fields: ['a', 'b'] }, /fields number must match format: 2 names for 1 fields/);
    specError({ ...base, format: 'LL*', fields: ['a'] }, /2 fields/);
    specError({ ...base, fields: ['1a'] }, /must begin with \[A-Za-z\]/);
    specError({ ...base, format: 'LL', fields: ['a', 'a'] }, /named twice/);
    specError({ ...base, longFields: ['a'] }, /need a long format/);
    specError({ ...base, format: 'L(LL)*', longFields: ['a'] }, /longFields number must match/);
    specError({ ...base, indexes: [] }, /no indexes defined/);
    specError({ ...base, indexes: [{ name: 'pk', keys: [1] }] }, /bad key 1/);
    specError({ ...base, format: 'LL*', indexes: [{ name: 'pk', keys: [1] }] }, /bad key 1/);
    specError({ ...base, indexes: [{ name: 'pk', keys: ['nope'] }] }, /bad key "nope"/);
    specError({ ...base, indexes: [{ name: 'pk', keys: [] }] }, /no keys defined/);
    specError({ ...base, indexes: [{ name: '', keys: [0] }] }, /no name given/);
    specError(
      {
        ...base,
        indexes: [
          { name: 'a', keys: [0] },
          { name: 'a', keys: [0] },
        ],
      },
      /already defined/,
    );
    specError({ ...base, defaultIndex: 'nope' }, /defaultIndex "nope" does not exist/);
    specError({ ...base, primaryKeyIndex: 3 }, /primaryKeyIndex 3 does not exist/);
  });

  it('refuses bad Box options', () => {
    const spaces = [base as SpaceSpec];
    const refuse = (options: object, message: RegExp) =>
      expect(() => new Box({ spaces, ...options } as never)).toThrow(
        expect.objectContaining({ code: 'ERR_BOX_SPEC', message: expect.stringMatching(message) }),
      );
    refuse({}, /either servers or client is required/);
    refuse({ servers: '127.0.0.1:1', spaces: [] }, /no spaces given/);
    refuse({ servers: '127.0.0.1:1', spaces: [base, base] }, /already defined/);
    refuse(
      {
        servers: '127.0.0.1:1',
        spaces: [base, { ...base, space: 1 }].map((s, i) => ({ ...s, name: 'x', space: i })),
      },
      /already defined/,
    );
    refuse({ servers: '127.0.0.1:1', defaultSpace: 'nope' }, /defaultSpace "nope" does not exist/);
    refuse({ servers: '127.0.0.1:1', retry: 0 }, /retry must be a positive integer/);
    refuse({ servers: '127.0.0.1:1', timeout: 0 }, /timeout must be a number of ms > 0/);
  });

  it('refuses, with ERR_BOX_SPEC, timers Node cannot keep and a client that cannot send, at the limit +/- 1', () => {
    const spaces = [base as SpaceSpec];
    const max = 2 ** 31 - 1;
    const refuse = (options: object, message: RegExp) =>
      expect(() => new Box({ servers: '127.0.0.1:1', spaces, ...options } as never)).toThrow(
        expect.objectContaining({
          name: 'BoxError',
          code: 'ERR_BOX_SPEC',
          message: expect.stringMatching(message),
        }),
      );
    for (const name of ['timeout', 'selectTimeout', 'retryDelay']) {
      expect(new Box({ servers: '127.0.0.1:1', spaces, [name]: max })).toMatchObject(
        name === 'retryDelay' ? {} : { [name]: max },
      );
      refuse({ [name]: max + 1 }, new RegExp(`${name} must be a number of ms .* 2147483647, got 2147483648`));
    }
    expect(new Box({ servers: '127.0.0.1:1', spaces, retryDelay: 0 })).toBeInstanceOf(Box);
    refuse({ retryDelay: -1 }, /retryDelay must be a number of ms from 0/);
    refuse({ selectTimeout: 0 }, /selectTimeout must be a number of ms > 0/);
    refuse({ servers: undefined, client: {} }, /client must be an IProto/);
    expect(new Box({ servers: '127.0.0.1:1', spaces, maxReplyFields: 1 }).maxReplyFields).toBe(1);
    refuse({ maxReplyFields: 0 }, /maxReplyFields must be a positive integer, got 0/);
    refuse({ maxReplyFields: 1.5 }, /maxReplyFields must be a positive integer/);
  });
});

describe('calls refused before anything is sent', () => {
  it('names a space or an index that does not exist', async () => {
    await argumentError(() => box.select('nope' as never, 1 as never), /bad space "nope"/);
    await argumentError(
      () => box.select('users', 1 as never, { index: 'nope' as never }),
      /bad index "nope"/,
    );
  });

  it('checks the tuple against the format', async () => {
    await argumentError(
      () => box.insert('users', [1, 'a'] as never),
      /wrong fields number in tuple: 2 for format 'L\$L'/,
    );
    await argumentError(
      () => box.insert('users', [1, 'a', 2, 3] as never),
      /wrong fields number in tuple: 4/,
    );
    await argumentError(
      () => box.insert('tail', [1, 2] as never),
      /wrong fields number in tuple: 2 for format 'L\(L\$\)\*'/,
    );
    await argumentError(() => box.insert('users', { id: 1, name: 'a' } as never), /field age is missing/);
    await argumentError(
      () => box.insert('users', { id: 1, name: 'a', age: 1, x: 1 } as never),
      /no such field x/,
    );
    await argumentError(() => box.insert('tail', { id: 1, rest: [{ n: 1 }] } as never), /rest\.s is missing/);
    await argumentError(() => box.insert('ints', { a: 1 } as never), /needs the space's fields/);
    await argumentError(
      () => box.insert('users', [1, {}, 2] as never),
      /field 1 \(name\): expected a string or bytes, got object/,
    );
  });

  it('holds each integer letter to its range, at the limit +/- 1', async () => {
    const limits: [number, bigint, bigint][] = [
      [0, 0n, 0xffffffffn],
      [1, -0x80000000n, 0x7fffffffn],
      [2, 0n, 0xffffn],
      [3, -0x8000n, 0x7fffn],
      [4, 0n, 0xffn],
      [5, -0x80n, 0x7fn],
      [6, 0n, 0xffffffffffffffffn],
      [7, -0x8000000000000000n, 0x7fffffffffffffffn],
    ];
    const tuple = (at: number, value: bigint) => {
      const t: unknown[] = [0, 0, 0, 0, 0, 0, 0n, 0n, '', ''];
      t[at] = at >= 6 ? value : Number(value);
      return t;
    };
    for (const [at, min, max] of limits) {
      server.take();
      await box.insert('ints', tuple(at, min) as never);
      await box.insert('ints', tuple(at, max) as never);
      expect(server.take()).toHaveLength(2);
      await argumentError(() => box.insert('ints', tuple(at, min - 1n) as never), /is out of range for/);
      await argumentError(() => box.insert('ints', tuple(at, max + 1n) as never), /is out of range for/);
    }
    await argumentError(
      () => box.insert('ints', [1.5, ...tuple(0, 0n).slice(1)] as never),
      /1\.5 is not an integer/,
    );
    await argumentError(
      () => box.insert('ints', [Number.NaN, ...tuple(0, 0n).slice(1)] as never),
      /NaN is not an integer/,
    );
    await argumentError(
      () => box.insert('ints', ['12abc', ...tuple(0, 0n).slice(1)] as never),
      /expected an integer for 'L', got "12abc"/,
    );
    await argumentError(() => box.select('ints', null as never), /expected an integer for 'L', got null/);
  });

  it('checks keys against the index', async () => {
    await argumentError(
      () => box.select('users', [['a', 1, 2]] as never, { index: 'pair' }),
      /takes keys of 1 to 2 fields, got an array of 3/,
    );
    await argumentError(
      () => box.select('users', [[]] as never, { index: 'pair' }),
      /takes keys of 1 to 2 fields/,
    );
    await argumentError(() => box.select('users', [[1, 2]] as never), /has one field: bad key/);
    await argumentError(
      () => box.update('users', 'x' as never, [['age', 'add', 1]]),
      /expected an integer for 'L', got "x"/,
    );
  });

  it('checks update operations', async () => {
    await argumentError(
      () => box.update('users', 1, [['age', 'splice', 0, 1, 'x']] as never),
      /'splice' applies to string fields, field 2 is 'L'/,
    );
    await argumentError(
      () => box.update('users', 1, [['name', 'add', 1]] as never),
      /'add' applies to integer fields, field 1 is '\$'/,
    );
    await argumentError(() => box.update('users', 1, [['age', 'nope', 1]] as never), /unknown op 'nope'/);
    await argumentError(() => box.update('users', 1, [['age', 'set']] as never), /takes 1 argument, got 0/);
    await argumentError(
      () => box.update('users', 1, [['age', 'delete', 1]] as never),
      /takes 0 arguments, got 1/,
    );
    await argumentError(() => box.update('users', 1, [['nope', 'set', 1]] as never), /no such field nope/);
    await argumentError(
      () => box.update('users', 1, [[3, 'set', 1]] as never),
      /no field 3 in format 'L\$L'/,
    );
    await argumentError(
      () => box.update('users', 1, ['age'] as never),
      /expected \[field, op, \.\.\.arguments\]/,
    );
    await argumentError(
      () => box.update('tail', 1, [[[0, 'x'], 'set', 1]] as never),
      /no such long field "x"/,
    );
    await argumentError(
      () => box.update('users', 1, [['age', 'add', 2n ** 33n]] as never),
      /does not fit the operation's argument/,
    );
  });

  it('refuses a long-field reference whose field number does not fit 32 bits, at the limit +/- 1', async () => {
    // 'L(L$)*': [i, 'n'] is field 1 + 2i, [i, 's'] field 2 + 2i. The last that fits: [2^31 - 1, 'n'].
    const last = 2 ** 31 - 1;
    server.take();
    expect(await box.update('tail', 1, [[[last, 'n'], 'set', 7]])).toBe(1);
    // L space, L flags, L key count, w/a* key (5 bytes), L op count, then the op's L field.
    expect(Buffer.from(server.take()[0]!.body, 'hex').readUInt32LE(21)).toBe(0xffffffff);
    await argumentError(
      () => box.update('tail', 1, [[[last, 's'], 'set', 'x']]),
      /long field \[2147483647, "s"\] is field 4294967296, beyond 4294967295/,
    );
    await argumentError(() => box.update('tail', 1, [[[2 ** 52, 'n'], 'set', 1]]), /beyond 4294967295/);
  });

  it(`takes at most ${MAX_UPDATE_OPS} update operations (MR::Tarantool::Box's limit)`, async () => {
    const ops = (n: number) => Array.from({ length: n }, () => ['age', 'add', 1] as const);
    server.take();
    expect(await box.update('users', 1, ops(MAX_UPDATE_OPS - 1))).toBe(1);
    expect(await box.update('users', 1, ops(MAX_UPDATE_OPS))).toBe(1);
    expect(server.take()).toHaveLength(2);
    await argumentError(
      () => box.update('users', 1, ops(MAX_UPDATE_OPS + 1)),
      /too many update ops: 129 \(at most 128\)/,
    );
  });

  it('checks calls, unions and options', async () => {
    await argumentError(() => box.call('', []), /bad procedure name/);
    await argumentError(() => box.call('p', [{}] as never), /argument 0 must be a string, bytes or a number/);
    await argumentError(() => box.call('p', [], { unpackFormat: 'X' }), /bad format 'X'/);
    await argumentError(() => box.selectUnion([['users', []]]), /selectUnion request 0 has no keys/);
    await argumentError(
      () => box.select('users', 1, { limit: -1 }),
      /limit must be an unsigned 32-bit integer/,
    );
    await argumentError(
      () => box.insert('users', [1, 'a', 1], { action: 'upsert' as never }),
      /bad insert action "upsert"/,
    );
  });

  it('refuses calls after close', async () => {
    const closed = new Box({ servers: '127.0.0.1:1', spaces: [users] });
    await closed.close();
    await expect(closed.ping()).rejects.toMatchObject({ name: 'BoxError', code: 'ERR_BOX_CLOSED' });
  });

  it('selects with no keys without a request, as Perl does', async () => {
    server.take();
    expect(await box.select('users', [])).toEqual([]);
    expect(await box.select('users', [], { index: 'pair' })).toEqual([]);
    expect(await box.selectUnion([])).toEqual([]);
    expect(server.take()).toEqual([]);
  });
});

describe('BER lengths', () => {
  it('writes every length boundary as Perl packs w', () => {
    const w = new Writer();
    for (const n of [0, 1, 127, 128, 129, 16383, 16384, 2097151, 2097152, 268435455, 268435456, 0xffffffff]) {
      w.reset();
      w.ber(n);
      expect(w.finish().toString('hex'), String(n)).toBe(pack('w', n).toString('hex'));
    }
  });

  it('moves bytes right of the length they get (wrapBer) at every prefix size', () => {
    for (const n of [0, 5, 127, 128, 16383, 16384, 70000]) {
      const w = new Writer();
      w.u8(0xee);
      const start = w.length;
      const body = Buffer.alloc(n, 0xab);
      w.bytes(body);
      w.wrapBer(start);
      expect(w.finish().equals(Buffer.concat([Buffer.from([0xee]), pack('w/a*', body)]))).toBe(true);
    }
  });
});
