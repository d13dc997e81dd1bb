import { PackError } from '@iproto/pack';
import { afterEach, describe, expect, it } from 'vitest';
import { IProtoError } from '../src/index.js';
import { Request } from '../src/request.js';
import { Response } from '../src/response.js';
import { Fixture } from './support/test-helpers.js';

const fixture = new Fixture();
afterEach(() => fixture.cleanup());

function errorOf(promise: Promise<unknown>): Promise<any> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error) => error,
  );
}

class CountRequest extends Request<CountResponse> {
  static override readonly msg = 21;
  protected override encode() {
    return Buffer.from([1]);
  }
}
class CountResponse extends Response<CountRequest> {
  static override readonly msg = 21;
  readonly count: number;
  constructor(data: Buffer | undefined, request: CountRequest) {
    super(data, request);
    [this.count] = this.unpack('x C') as [number];
  }
}

describe('a reply that cannot be decoded says where it came from', () => {
  it('a template unpack that fails: ERR_REPLY_DECODE with address, msg and sync, the PackError as cause', async () => {
    const [server] = await fixture.startServers(1);
    // A BER integer whose last byte says more follow: Perl dies "Unterminated compressed integer".
    server.on(17, () => Buffer.from([0x81, 0x80]));
    const client = fixture.client([server]);
    const syncs: number[] = [];
    server.on('request', (frame: { sync: number }) => syncs.push(frame.sync));
    const error = await errorOf(client.send({ msg: 17, data: [1], unpack: 'w' }));
    expect(error).toBeInstanceOf(IProtoError);
    expect(error.code).toBe('ERR_REPLY_DECODE');
    expect(error.cause).toBeInstanceOf(PackError);
    expect(error.cause.code).toBe('ERR_PACK_DATA');
    expect(error).toMatchObject({ address: server.address, msg: 17, sync: syncs[0] });
    expect(error.message).toBe(
      `${server.address}: cannot decode the reply, msg 17 sync ${syncs[0]}: ${error.cause.message}`,
    );
    // A reply that cannot be decoded is not a communication error: it is not tried again.
    expect(server.requests).toBe(1);
  });

  it('an unpack function that throws: its error is the cause, the callback gets the same error', async () => {
    const [server] = await fixture.startServers(1);
    const client = fixture.client([server]);
    const thrown = new TypeError('not a counter');
    const error = await new Promise<any>((resolve) =>
      client.send(
        {
          msg: 9,
          data: [5],
          unpack: () => {
            throw thrown;
          },
        },
        (_reply, err) => resolve(err),
      ),
    );
    expect(error.code).toBe('ERR_REPLY_DECODE');
    expect(error.cause).toBe(thrown);
    expect(error.address).toBe(server.address);
    expect(error.msg).toBe(9);
    expect(error.sync).toBeGreaterThan(0);
    expect(error.message).toMatch(/cannot decode the reply, msg 9 sync \d+: not a counter$/);
  });

  it("a response class's own PackError: wrapped with the place, the PackError as cause", async () => {
    const [server] = await fixture.startServers(1);
    // `x` skips a byte that is not there: Perl dies "'x' outside of string in unpack".
    server.on(21, () => Buffer.alloc(0));
    const client = fixture.client([server], { messages: [CountResponse] });
    const error = await errorOf(client.send(new CountRequest()));
    expect(error.code).toBe('ERR_REPLY_DECODE');
    expect(error.cause).toBeInstanceOf(PackError);
    expect(error).toMatchObject({ address: server.address, msg: 21 });
    expect(error.message).toMatch(
      /^.+: cannot decode the reply, msg 21 sync \d+: 'x' outside of string in unpack$/,
    );
  });

  it('trailing bytes with trailingData "error": ERR_TRAILING_DATA names the server and sync too', async () => {
    const [server] = await fixture.startServers(1);
    server.on(21, () => Buffer.from([7, 8, 9, 10]));
    const client = fixture.client([server], { messages: [CountResponse], trailingData: 'error' });
    const error = await errorOf(client.send(new CountRequest()));
    expect(error.code).toBe('ERR_TRAILING_DATA');
    expect(error.address).toBe(server.address);
    expect(error.sync).toBeGreaterThan(0);
    expect(error.message).toMatch(
      new RegExp(`left by CountResponse \\(${server.address}, msg 21 sync ${error.sync}\\)$`),
    );
  });

  it('a reply with another msg: ERR_MSG_MISMATCH names the server', async () => {
    const [server] = await fixture.startServers(1);
    server.faults.add({ type: 'wrongMsg', msg: 31 }, { times: 1 });
    const client = fixture.client([server]);
    const error = await errorOf(client.send({ msg: 30, data: [1], unpack: 'L' }));
    expect(error).toMatchObject({ code: 'ERR_MSG_MISMATCH', address: server.address, msg: 31 });
  });
});
