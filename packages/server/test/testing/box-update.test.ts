import { pack } from '@iproto/pack';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { BoxSpace } from '../../src/testing/box-space.js';
import { applyUpdateOps, type UpdateOp } from '../../src/testing/box-update.js';
import { type BoxDouble, BoxUpdateOp as Op, startBoxDouble } from '../../src/testing/index.js';
import { BoxTestClient, num, spliceArg, tuple, updateBody } from '../support/box-test-support.js';

let box: BoxDouble;
let client: BoxTestClient;

beforeEach(async () => {
  box = await startBoxDouble({
    spaces: [
      {
        space: 0,
        indexes: [{ parts: [{ field: 0, type: 'NUM' }] }, { parts: [{ field: 1, type: 'STR' }] }],
      },
    ],
  });
  client = await BoxTestClient.connect(box.port);
  box.space(0).put([1, 'alice', 30, 'hello world', 2n ** 40n]);
  box.space(0).put([2, 'bob', 25, 'x', 0]);
});

afterEach(async () => {
  client.destroy();
  await box.close();
});

type OpSpec = [number, number, Uint8Array | string];

/** UPDATE key 1 with WANT_RESULT; the updated tuple's fields, or the error. */
async function update(...ops: OpSpec[]): Promise<Buffer[] | { code: number; text?: string }> {
  const reply = await client.request(19, updateBody(0, 1, tuple(num(1)), ...ops));
  return reply.code === 0 ? reply.tuples![0] : { code: reply.code, text: reply.text };
}

const u32 = (fields: Buffer[] | object, i: number): number => (fields as Buffer[])[i].readUInt32LE(0);

describe('UPDATE ops', () => {
  test('set replaces a field, and appends one just past the end', async () => {
    const fields = (await update([2, Op.SET, num(31)], [5, Op.SET, 'new'])) as Buffer[];
    expect(u32(fields, 2)).toBe(31);
    expect(fields[5].toString()).toBe('new');
    expect(fields).toHaveLength(6);
  });

  test('add, and, xor, or on a 4-byte field wrap as u32; add takes a signed argument', async () => {
    expect(u32(await update([2, Op.ADD, pack('l', -31)]), 2)).toBe(0xffffffff);
    expect(u32(await update([2, Op.ADD, pack('l', 2)]), 2)).toBe(1);
    expect(u32(await update([2, Op.OR, pack('L', 0xf0)]), 2)).toBe(0xf1);
    expect(u32(await update([2, Op.AND, pack('L', 0x3c)]), 2)).toBe(0x30);
    expect(u32(await update([2, Op.XOR, pack('L', 0xff)]), 2)).toBe(0xcf);
  });

  test('arithmetic on an 8-byte field takes a 4-byte (sign-extended) or 8-byte argument', async () => {
    let fields = (await update([4, Op.ADD, pack('l', -1)])) as Buffer[];
    expect(fields[4].readBigUInt64LE(0)).toBe(2n ** 40n - 1n);
    fields = (await update([4, Op.ADD, pack('Q', 2n ** 63n)])) as Buffer[];
    expect(fields[4].readBigUInt64LE(0)).toBe(2n ** 63n + 2n ** 40n - 1n);
    fields = (await update([4, Op.OR, pack('Q', 2n ** 64n - 1n)], [4, Op.ADD, pack('l', 1)])) as Buffer[];
    expect(fields[4].readBigUInt64LE(0)).toBe(0n);
  });

  test('arithmetic with a wrong-size argument or on a field that is no number fails', async () => {
    expect(await update([2, Op.ADD, pack('Q', 1)])).toEqual({
      code: 0x2902,
      text: 'Argument type in operation does not match field type: expected a 32-bit int',
    });
    expect(await update([4, Op.ADD, 'abc'])).toEqual({
      code: 0x2902,
      text: 'Argument type in operation does not match field type: expected a 32-bit or 64-bit int',
    });
    expect(await update([1, Op.ADD, pack('l', 1)])).toEqual({
      code: 0x2802,
      text: 'Field type does not match one required by operation: expected a NUM or NUM64',
    });
  });

  test('splice as MR::Tarantool::Box packs it: splice, append, prepend, cutbeg, cutend', async () => {
    const splice = async (offset: number, length: number | undefined, paste: string): Promise<string> => {
      box.space(0).put([1, 'alice', 30, 'hello world', 2n ** 40n]);
      const fields = (await update([3, Op.SPLICE, spliceArg(offset, length, paste)])) as Buffer[];
      return fields[3].toString();
    };
    expect(await splice(6, 5, 'there')).toBe('hello there');
    expect(await splice(0x7fffffff, 0, '!')).toBe('hello world!'); // append (offset undef)
    expect(await splice(0, 0, '> ')).toBe('> hello world'); // prepend
    expect(await splice(0, 6, '')).toBe('world'); // cutbeg 6
    expect(await splice(-6, 6, '')).toBe('hello'); // cutend 6
    expect(await splice(5, undefined, '')).toBe('hello'); // no length: to the end
    expect(await splice(2, -2, '_')).toBe('he_ld'); // a negative length leaves that many at the end
    expect(await splice(2, -100, '_')).toBe('he_llo world');
  });

  test('splice errors: an offset before the start, a malformed argument', async () => {
    expect(await update([3, Op.SPLICE, spliceArg(-12, 1, '')])).toEqual({
      code: 0x2a02,
      text: 'Field SPLICE error: offset is out of bound',
    });
    expect(await update([3, Op.SPLICE, pack('(w/a*)*', 'abc', '', '')])).toEqual({
      code: 0x0202,
      text: 'Illegal parameters, field splice format error: offset',
    });
    expect(await update([3, Op.SPLICE, Buffer.concat([spliceArg(0, 0, ''), Buffer.from([0])])])).toEqual({
      code: 0x0202,
      text: 'Illegal parameters, field splice format error',
    });
  });

  test('delete removes a field; insert puts one before field_no, or at the end', async () => {
    let fields = (await update([3, Op.DELETE, ''])) as Buffer[];
    expect(fields.map(String).slice(0, 3)).toEqual(['\x01\x00\x00\x00', 'alice', '\x1e\x00\x00\x00']);
    expect(fields).toHaveLength(4);
    fields = (await update([1, Op.INSERT, 'middle'], [5, Op.INSERT, 'end'])) as Buffer[];
    expect(fields.map(String).slice(1, 3)).toEqual(['middle', 'alice']);
    expect(fields[5].toString()).toBe('end');
  });

  test('ops apply in order, to the tuple the previous ones made', async () => {
    const fields = (await update(
      [2, Op.SET, num(10)],
      [2, Op.ADD, pack('l', 5)],
      [2, Op.ADD, pack('l', 5)],
    )) as Buffer[];
    expect(u32(fields, 2)).toBe(20);
  });

  test('a field the tuple does not have: 0x3602; nothing changes', async () => {
    expect(await update([2, Op.SET, num(99)], [9, Op.SET, 'x'])).toEqual({
      code: 0x3602,
      text: 'Field 9 was not found in the tuple',
    });
    expect(await update([5, Op.DELETE, ''])).toMatchObject({ code: 0x3602 });
    expect(box.space(0).tuples()[0][2].readUInt32LE(0)).toBe(30);
  });

  test('no ops: 0x0202; an op code above 7: 0x2c02', async () => {
    expect(await update()).toEqual({ code: 0x0202, text: 'Illegal parameters, no operations for update' });
    expect(await update([2, 8, num(1)])).toEqual({ code: 0x2c02, text: 'Unknown UPDATE operation' });
  });

  test('updating a key: to a free one moves the tuple, to a taken one is 0x3702; indexed fields keep their type', async () => {
    expect(await update([1, Op.SET, 'bob'])).toEqual({
      code: 0x3702,
      text: 'Duplicate key exists in unique index 1',
    });
    expect(await update([0, Op.SET, num(2)])).toEqual({
      code: 0x3702,
      text: 'Duplicate key exists in unique index 0',
    });
    expect(await update([0, Op.SET, 'abc'])).toEqual({
      code: 0x2602,
      text: 'Supplied key field type does not match index type: expected u32',
    });
    expect(await update(...Array.from({ length: 4 }, (): OpSpec => [0, Op.DELETE, '']))).toEqual({
      code: 0x0202,
      text: 'Illegal parameters, tuple must have all indexed fields',
    });
    expect(u32(await update([0, Op.SET, num(7)]), 0)).toBe(7);
    expect(
      box
        .space(0)
        .tuples()
        .map((t) => t[0].readUInt32LE(0)),
    ).toEqual([2, 7]);
  });

  test('an UPDATE that makes the tuple too big: 0x0701', async () => {
    const reply = await update([3, Op.SET, Buffer.alloc(1024 * 1024)]);
    expect(reply).toMatchObject({ code: 0x0701 });
    expect((reply as { text: string }).text).toMatch(
      /^Failed to allocate \d+ bytes in slab allocator for tuple$/,
    );
  });

  test('a missing key is a success with count 0; without WANT_RESULT the reply is L 0, L 1', async () => {
    expect(await client.request(19, updateBody(0, 1, tuple(num(9)), [2, Op.SET, num(1)]))).toEqual({
      code: 0,
      count: 0,
    });
    expect(await client.request(19, updateBody(0, 0, tuple(num(2)), [2, Op.SET, num(1)]))).toEqual({
      code: 0,
      count: 1,
    });
  });
});

describe('UPDATE cost: work in proportion to the ops, the size checked after every op', () => {
  /** The rope nodes `ops` visit on a 3-field tuple, with the default 1 MiB slab check. */
  const work = (ops: UpdateOp[]): number => {
    const stats = { work: 0 };
    applyUpdateOps([num(1), num(2), num(3)], ops, new BoxSpace({ space: 0 }).checkSize, stats);
    return stats.work;
  };
  const empty = Buffer.alloc(0);
  /** `count` INSERT ops, each in the middle of the tuple as it then is: the worst case for an array. */
  const middleInserts = (count: number): UpdateOp[] =>
    Array.from({ length: count }, (_, i) => ({ field: (i + 3) >>> 1, op: Op.INSERT, argument: empty }));
  /** `count` SPLICE ops, each appending one byte to field 0. */
  const appendSplices = (count: number): UpdateOp[] =>
    Array.from({ length: count }, () => ({
      field: 0,
      op: Op.SPLICE,
      argument: pack('w/a* w/a* w/a*', pack('l', 0x7fffffff), pack('l', 0), 'x'),
    }));

  test('regression: INSERT ops in the middle cost O(log fields) apiece, not O(fields)', () => {
    // Quadratic work would grow 16-fold for 4 times the ops; ops x log(fields) grows some 4.6-fold.
    const ratio = work(middleInserts(40_000)) / work(middleInserts(10_000));
    expect(ratio).toBeGreaterThan(3);
    expect(ratio).toBeLessThan(8);
  });

  test('a long stored tuple is one run of fields: an op on it does not cost a node per field', () => {
    const stats = { work: 0 };
    const fields = Array.from({ length: 100_000 }, (_, i) => num(i));
    const result = applyUpdateOps(
      fields,
      [
        { field: 50_000, op: Op.INSERT, argument: empty },
        { field: 70_000, op: Op.DELETE, argument: empty },
        { field: 3, op: Op.SET, argument: num(7) },
      ],
      undefined,
      stats,
    );
    expect(stats.work).toBeLessThan(40);
    expect(result).toHaveLength(100_000);
    expect(result[50_000]).toHaveLength(0);
    expect(result[3].readUInt32LE(0)).toBe(7);
    expect(result[70_000].readUInt32LE(0)).toBe(70_000);
    expect(result[99_999].readUInt32LE(0)).toBe(99_999);
  });

  test('regression: a chain of SPLICE ops costs O(log chunks) apiece, not the field size', () => {
    const ratio = work(appendSplices(40_000)) / work(appendSplices(10_000));
    expect(ratio).toBeGreaterThan(3);
    expect(ratio).toBeLessThan(8);
    const [field] = applyUpdateOps(
      [Buffer.from('ab')],
      [
        ...appendSplices(3),
        { field: 0, op: Op.SPLICE, argument: pack('w/a* w/a* w/a*', pack('l', 1), pack('l', 2), 'YZ') },
        { field: 0, op: Op.SPLICE, argument: pack('w/a* w/a* w/a*', pack('l', -2), '', '!') },
      ],
    );
    expect(field.toString()).toBe('aYZ!'); // 'abxxx', then 'aYZxx', then the last two cut for '!'
  });

  test('regression: an UPDATE of 160k INSERT ops (960 KB) is answered with every field in place', async () => {
    const count = 160_000;
    const body = Buffer.concat([
      pack('L L', 0, 1),
      tuple(num(1)),
      pack('L', count),
      ...Array.from({ length: count }, (_, i) => pack('L C w/a*', 5 + i, Op.INSERT, num(i))),
    ]);
    expect(body.length).toBeGreaterThan(900_000);
    const fields = (await client.request(13 + 6, body)).tuples![0];
    expect(fields).toHaveLength(5 + count);
    expect(fields[5].readUInt32LE(0)).toBe(0);
    expect(fields[5 + count - 1].readUInt32LE(0)).toBe(count - 1);
  }, 30_000);

  test('the slab limit holds after every op: a tuple of maxTupleSize fits, one byte more fails at that op', () => {
    const limit = 1000;
    const check = new BoxSpace({ space: 0 }, limit).checkSize;
    // 12-byte header, field 0 (1 + 4 bytes), then 1-byte empty fields up to the limit
    const fits = limit - 12 - 5;
    const inserts = (count: number): UpdateOp[] =>
      Array.from({ length: count }, () => ({ field: 1, op: Op.INSERT, argument: empty }));
    expect(applyUpdateOps([num(1)], inserts(fits), check)).toHaveLength(1 + fits);
    expect(() => applyUpdateOps([num(1)], inserts(fits + 1), check)).toThrow(
      expect.objectContaining({
        returnCode: 0x0701,
        message: `Failed to allocate ${limit + 1} bytes in slab allocator for tuple`,
      }),
    );
    // a DELETE after the op that went over does not save it: the check is per op
    expect(() =>
      applyUpdateOps([num(1)], [...inserts(fits + 1), { field: 1, op: Op.DELETE, argument: empty }], check),
    ).toThrow(expect.objectContaining({ returnCode: 0x0701 }));
    // a SPLICE that grows field 0 one byte past the limit fails the same way
    const grow = (bytes: number): UpdateOp => ({
      field: 0,
      op: Op.SPLICE,
      argument: pack('w/a* w/a* w/a*', pack('l', 4), pack('l', 0), Buffer.alloc(bytes)),
    });
    // field 0 of 4 + n bytes takes a 2-byte BER prefix from 128 bytes on
    expect(applyUpdateOps([num(1)], [grow(limit - 12 - 2 - 4)], check)[0]).toHaveLength(limit - 14);
    expect(() => applyUpdateOps([num(1)], [grow(limit - 12 - 2 - 4 + 1)], check)).toThrow(
      expect.objectContaining({ returnCode: 0x0701 }),
    );
  });
});
