/**
 * Where we differ from MR::Tarantool::Box on purpose (the README lists each one): every case runs
 * the Perl driver to show what it does, then ours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoxError } from '../src/index.js';
import type { ParityBox } from './support/corpus.js';
import { type Drivers, perlOptions as newPerlBox, startDrivers } from './support/drivers.js';
import {
  errorReply,
  f,
  hex,
  okCount,
  okTuples,
  type PerlBox,
  type RecordingServer,
  s,
} from './support/test-support.js';

let drivers: Drivers;
let server: RecordingServer;
let perl: PerlBox;
let box: ParityBox;
let address: string;

const perlOptions = (extra: Record<string, unknown> = {}) => newPerlBox(address, extra);

beforeAll(async () => {
  drivers = await startDrivers();
  expect(drivers.created.died).toBeUndefined();
  ({ server, perl, box, address } = drivers);
});

afterAll(() => drivers?.close());

async function both(
  perlCommand: Record<string, unknown>,
  ours: () => Promise<unknown>,
  ...replies: Uint8Array[]
) {
  server.replies = replies;
  server.take();
  const theirs = await perl.send(perlCommand);
  const theirFrames = server.take();
  const mine = await ours().catch((error: unknown) => error);
  const myFrames = server.take();
  return { theirs, theirFrames, mine, myFrames };
}

const hexOf = (text: string) => Buffer.from(text).toString('hex');
const call = (method: string, args: unknown[], opts: Record<string, unknown> = {}) => ({
  op: 'call',
  method,
  args,
  opts,
});

describe('deliberate differences from MR::Tarantool::Box', () => {
  it('a long tuple with an empty tail: Perl 5.36 dies in unpack, we answer an empty tail', async () => {
    const r = await both(
      call('Select', [1], { space: 'tail' }),
      () => box.select('tail', 1),
      okTuples([[f('L', 1), s('x')]]),
    );
    expect(r.theirs.died).toMatch(/'x' outside of string in unpack/);
    expect(r.mine).toEqual([[1, Buffer.from('x')]]);
  });

  it('a CALL answering a tuple of no fields: Perl dies, we answer []', async () => {
    const r = await both(
      call('Call', ['p', []], { unpack_format: '&*' }),
      () => box.call('p', []),
      okTuples([[]]),
    );
    expect(r.theirs.died).toMatch(/can't unpack tuple/);
    expect(r.mine).toEqual([[]]);
  });

  it('a character string beyond U+00FF in Insert: Perl fails to write it, we send its UTF-8 bytes', async () => {
    const r = await both(
      call('Insert', [1, 'Юлия', 2]),
      () => box.insert('users', [1, 'Юлия', 2]),
      okCount(1),
    );
    // MR::Tarantool::Box::Insert calls Encode::_utf8_off on the loop index, not on the field.
    expect(r.theirFrames).toEqual([]);
    expect(r.theirs.error).toBe('fail');
    expect(r.myFrames).toHaveLength(1);
    expect(r.myFrames[0]!.body).toContain(Buffer.from('Юлия').toString('hex'));
    expect(r.mine).toBe(1);
  });

  it('a numeric field of the wrong size: Perl reads across it silently, we answer ERR_BOX_REPLY', async () => {
    // An 8-byte field where the format says L: Perl's `xL` skips one byte (the length, whatever it
    // says) and reads four, and every field after it is read out of place.
    const reply = okTuples([[f('Q', 1n), s('a'), f('L', 2)]]);
    const r = await both(call('Select', [1]), () => box.select('users', 1), reply);
    expect(r.theirs.died).toBeUndefined();
    expect(r.theirs.value).toEqual([{ id: hexOf('1'), name: '', age: hexOf(String(0x61010000)) }]);
    expect(r.mine).toBeInstanceOf(BoxError);
    expect((r.mine as BoxError).code).toBe('ERR_BOX_REPLY');
    expect((r.mine as BoxError).message).toMatch(/field 0 is 8 bytes, format 'L' takes 4/);
  });

  it('0x0701, a tuple too big: Perl retries it as transient, we do not', async () => {
    const text = 'Failed to allocate 1048600 bytes in slab allocator for tuple';
    const r = await both(
      call('Insert', [1, 'a', 1]),
      () => box.insert('users', [1, 'a', 1]),
      errorReply(0x0701, text),
    );
    expect(r.theirFrames).toHaveLength(3);
    expect(r.myFrames).toHaveLength(1);
    expect((r.mine as BoxError).returnCode).toBe(0x0701);
  });

  it('a permanent error on a select: Perl repeats it select_retry times, we do not', async () => {
    expect((await perl.send(perlOptions({ select_retry: 3 }))).died).toBeUndefined();
    try {
      const r = await both(
        call('Select', [1]),
        () => box.select('users', 1),
        errorReply(0x3502, 'No index #0 is defined in space 0'),
      );
      expect(r.theirFrames).toHaveLength(3);
      expect(r.myFrames).toHaveLength(1);
    } finally {
      await perl.send(perlOptions());
    }
  });

  it("Select's format option: Perl sends msg 21, which a 1.5 server runs as DELETE; we refuse it", async () => {
    const r = await both(
      call('Select', [1], { format: [{ field: 0, full: 1 }] }),
      () => box.select('users', 1, { format: [{ field: 0 }] } as never),
      okTuples([[f('L', 1)]]),
    );
    expect(r.theirFrames.map((frame) => frame.msg)).toEqual([21]);
    expect(r.myFrames).toEqual([]);
    expect((r.mine as BoxError).code).toBe('ERR_BOX_ARGUMENT');
  });

  it('limit 0: Perl sends 0x7FFFFFFF (limit || default), we send 0', async () => {
    const r = await both(
      call('Select', [1], { limit: 0 }),
      () => box.select('users', 1, { limit: 0 }),
      okTuples([]),
    );
    expect(r.theirFrames[0]!.body.slice(24, 32)).toBe('ffffff7f');
    expect(r.myFrames[0]!.body.slice(24, 32)).toBe('00000000');
  });

  it('a return code whose severity byte is 0: Perl takes it for success, we report it', async () => {
    const r = await both(
      call('Insert', [1, 'a', 1]),
      () => box.insert('users', [1, 'a', 1]),
      Buffer.concat([f('L', 0x3700), okCount(1).subarray(4)]),
    );
    expect(r.theirs.error).toBe(0x3700);
    expect(r.theirs.value).toBe(Buffer.from('1').toString('hex'));
    expect((r.mine as BoxError).returnCode).toBe(0x3700);
  });

  it('SelectUnion: Perl dies "not supported yet", we send msg 18', async () => {
    const r = await both(
      call('SelectUnion', [['users', [1]]]),
      () => box.selectUnion([['users', [1]]]),
      okCount(0),
    );
    expect(r.theirs.died).toMatch(/not supported yet/);
    expect(r.theirFrames).toEqual([]);
    expect(r.myFrames.map((frame) => frame.msg)).toEqual([18]);
  });

  it('the server text: Perl keeps its NUL, we remove it', async () => {
    const r = await both(
      call('Insert', [1, 'a', 1]),
      () => box.insert('users', [1, 'a', 1]),
      errorReply(0x3702, 'dup'),
    );
    expect(r.theirs.errstr).toBe('Error 00003702: dup\0');
    expect((r.mine as BoxError).serverMessage).toBe('dup');
  });

  it('a bytes value in Perl and ours give the same frame', async () => {
    const r = await both(
      call('Insert', [1, hex('Юлия'), 2]),
      () => box.insert('users', [1, 'Юлия', 2]),
      okCount(1),
    );
    expect(r.theirFrames).toEqual(r.myFrames);
  });
});
