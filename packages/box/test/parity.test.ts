/**
 * Parity with the Perl MR::Tarantool::Box, both directions: for every call of the corpus, the
 * request frames Perl sends equal ours (message code and body, byte for byte; the sync is each
 * client's own counter), and given the same reply bytes both drivers return the same values and
 * the same errors. Fails (never skips) when perl or MR::Tarantool::Box are missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoxError } from '../src/index.js';
import { CORPUS, type ParityBox } from './support/corpus.js';
import { type Drivers, startDrivers } from './support/drivers.js';
import { canon, type PerlBox, type RecordingServer } from './support/test-support.js';

let drivers: Drivers;
let server: RecordingServer;
let perl: PerlBox;
let box: ParityBox;

beforeAll(async () => {
  drivers = await startDrivers();
  expect(drivers.created.died).toBeUndefined();
  ({ server, perl, box } = drivers);
});

afterAll(() => drivers?.close());

describe('parity with MR::Tarantool::Box', () => {
  it.each(CORPUS.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    server.replies = c.replies;
    server.take();
    const theirs = await perl.send(c.perl);
    const theirFrames = server.take();
    const ours = await c.ts(box).catch((error: unknown) => error);
    const ourFrames = server.take();

    expect(ourFrames).toEqual(theirFrames);
    if (theirs.died !== undefined || theirs.error === 'fail') {
      // Perl confesses on a reply it cannot read (or, for one shorter than its return code, fails
      // the request as MR::IProto does a broken one); we answer ERR_BOX_REPLY.
      expect(ours, `perl: ${(theirs.died ?? theirs.errstr)?.slice(0, 160)}`).toBeInstanceOf(BoxError);
      expect((ours as BoxError).code).toBe('ERR_BOX_REPLY');
    } else if (theirs.error !== 0) {
      expect(ours).toBeInstanceOf(BoxError);
      const error = ours as BoxError;
      expect(error.returnCode).toBe(theirs.error);
      const hex = error.returnCode!.toString(16).toUpperCase().padStart(8, '0');
      // Perl keeps the server's NUL at the end of ErrorStr; we remove it.
      expect(`Error ${hex}: ${error.serverMessage}`).toBe(theirs.errstr!.replace(/\0$/, ''));
    } else {
      expect(ours).not.toBeInstanceOf(Error);
      expect(canon(ours)).toEqual(theirs.value);
    }
  });
});
