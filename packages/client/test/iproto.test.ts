import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { constants } from 'node:os';
import { pack, unpack } from '@iproto/pack';
import { afterEach, describe, expect, it } from 'vitest';
import { defineMessage } from '../src/define-message.js';
import { ErrorReply } from '../src/error-reply.js';
import { IProto } from '../src/iproto.js';
import { NoResponse } from '../src/no-response.js';
import { Request } from '../src/request.js';
import { Response } from '../src/response.js';
import type { ClusterLike, ServerLike } from '../src/types.js';
import { deferred, Fixture, oneServerCluster } from './support/test-helpers.js';
import * as appMessages from './support/test-messages.js';

const ECHO = 1;

class EchoRequest extends Request<EchoResponse> {
  static override readonly msg = ECHO;
  constructor(
    readonly value: number,
    readonly mayRetry = false,
  ) {
    super();
  }
  override key() {
    return this.value;
  }
  override retry() {
    return this.mayRetry;
  }
  protected override encode() {
    return pack('L', this.value);
  }
}

class EchoResponse extends Response<EchoRequest> {
  static override readonly msg = ECHO;
  readonly value: number;
  constructor(data: Buffer | undefined, request: EchoRequest) {
    super(data, request);
    [this.value] = this.unpack('L') as [number];
    // Perl's unpack yields nothing for a short field rather than dying; a decoder checks.
    if (this.value === undefined) throw new RangeError('EchoResponse: reply too short');
  }
}

/** Asks for a retry while the server says "busy" (a leading 1). */
class BusyResponse extends Response {
  static override readonly msg = 5;
  readonly busy: number;
  constructor(data: Buffer | undefined, request: Request) {
    super(data, request);
    [this.busy] = this.unpack('L') as [number];
  }
  override retry() {
    return this.busy === 1;
  }
}
class BusyRequest extends Request<BusyResponse> {
  static override readonly msg = 5;
}

class FireRequest extends Request<FireResponse> {
  static override readonly msg = 9;
  protected override encode() {
    return 'fire';
  }
}
class FireResponse extends NoResponse {
  static override readonly msg = 9;
}

const messages = [EchoResponse, BusyResponse, FireResponse];

function errorOf(promise: Promise<unknown>): Promise<any> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error) => error,
  );
}

describe('IProto', () => {
  const fixture = new Fixture();
  afterEach(() => fixture.cleanup());

  describe('plain messages', () => {
    it('packs data with L* by default and unpacks with a template string', async () => {
      const servers = await fixture.startServers(1);
      const client = fixture.client(servers);
      let body: Buffer | undefined;
      servers[0].on(7, (request) => {
        body = Buffer.from(request.body);
        return request.body;
      });
      expect(await client.send({ msg: 7, data: [1, 2, 3], unpack: 'L*' })).toEqual([1, 2, 3]);
      expect(body).toEqual(pack('L3', 1, 2, 3));
    });

    it('sends bytes already packed, and payload wins over data', async () => {
      const servers = await fixture.startServers(1);
      const client = fixture.client(servers);
      expect(await client.send({ msg: 7, data: pack('S', 513), unpack: 'C2' })).toEqual([1, 2]);
      expect(await client.send({ msg: 7, data: [9], payload: pack('C', 5), unpack: 'C' })).toEqual([5]);
    });

    it('wraps what an unpack function returns into the reply array', async () => {
      const servers = await fixture.startServers(1);
      const client = fixture.client(servers);
      expect(await client.send({ msg: 7, data: [4], unpack: (d) => unpack('L', d) })).toEqual([4]);
      expect(await client.send({ msg: 7, data: [4], unpack: (d) => d.length })).toEqual([4]);
    });

    it('noReply resolves to [0] once written, and the server gets the message', async () => {
      const servers = await fixture.startServers(1);
      const client = fixture.client(servers);
      const got = deferred<number>();
      servers[0].on(8, (request) => {
        got.resolve(unpack('L', request.body)[0] as number);
        return undefined;
      });
      expect(await client.send({ msg: 8, data: [77], noReply: true })).toEqual([0]);
      expect(await got.promise).toBe(77);
    });

    it('refuses a message with neither unpack nor noReply, as Perl dies', async () => {
      const servers = await fixture.startServers(1);
      const client = fixture.client(servers);
      const error = await errorOf(client.send({ msg: 7, data: [1] }));
      expect(error.code).toBe('ERR_BAD_MESSAGE');
      expect(error.message).toMatch(/unpack or noReply must be specified/);
      expect(servers[0].requests).toBe(0);
    });

    it('a pack error reaches the caller as a rejection, and a callback as its error', async () => {
      const servers = await fixture.startServers(1);
      const client = fixture.client(servers);
      const error = await errorOf(client.send({ msg: 7, data: ['x'], pack: 'Q<<', unpack: 'L' }));
      expect(error.code).toMatch(/^ERR_PACK/);
      const viaCallback = await new Promise<unknown[]>((resolve) => {
        client.send({ msg: 7, data: [1] } as never, (reply, err) => resolve([reply, err]));
      });
      expect(viaCallback[0]).toBeUndefined();
      expect((viaCallback[1] as { code: string }).code).toBe('ERR_BAD_MESSAGE');
    });
  });

  describe('balancing', () => {
    it("hash-crc32 without a key fails the request with the cluster's ERR_NO_KEY, sending nothing", async () => {
      const servers = await fixture.startServers(2);
      const client = fixture.client(servers, { balance: 'hash-crc32' });
      const error = await errorOf(client.send({ msg: 7, data: [1], unpack: 'L' }));
      expect(error.code).toBe('ERR_NO_KEY');
      expect(error.message).toMatch(/Cannot balance hash without key/);
      expect(servers[0].requests + servers[1].requests).toBe(0);
      expect(await client.send({ msg: 7, key: 'k', data: [1], unpack: 'L' })).toEqual([1]);
    });
  });

  describe('queue', () => {
    it('a long queue of requests that fail before sending settles without growing the stack', async () => {
      const servers = await fixture.startServers(2);
      for (const server of servers) server.faults.add({ type: 'delay', ms: 20 });
      const client = fixture.client(servers, { balance: 'hash-crc32', maxParallel: 1 });
      // One request in flight, then a queue of requests that fail at balancing (no key): when the
      // first one finishes, each queued one starts and fails in turn.
      const first = client.send({ msg: 7, key: 'k', data: [1], unpack: 'L' });
      const results = client.sendBulk(Array.from({ length: 20_000 }, () => ({ msg: 7, unpack: 'L' })));
      expect(client.queued).toBe(20_000);
      expect(await first).toEqual([1]);
      const settled = await results;
      expect(settled.every((r) => (r.error as { code?: string } | undefined)?.code === 'ERR_NO_KEY')).toBe(
        true,
      );
      expect(client.inProgress).toBe(0);
    });
  });

  describe('message objects', () => {
    it('finds the response class in a module namespace registry', async () => {
      const servers = await fixture.startServers(1);
      const namespace = Object.create(null);
      namespace.EchoRequest = EchoRequest;
      namespace.EchoResponse = EchoResponse;
      Object.defineProperty(namespace, '__proto__', { value: EchoResponse, enumerable: true });
      namespace.constructor = 'not a class';
      const client = fixture.client(servers, { messages: namespace });
      expect(client.messages.get(ECHO)).toBe(EchoResponse);
      const response = await client.send(new EchoRequest(12));
      expect(response).toBeInstanceOf(EchoResponse);
      expect(response.value).toBe(12);
    });

    it("takes an imported module namespace as the registry (the seed's prefix)", async () => {
      const servers = await fixture.startServers(1);
      const client = fixture.client(servers, { messages: appMessages });
      expect(client.messages.size).toBe(2);
      const sum = await client.send(new appMessages.AddRequest(3, 4));
      expect(sum).toBeInstanceOf(appMessages.AddResponse);
      expect([sum.first, sum.second]).toEqual([3, 4]);
      const named = await client.send(new appMessages.Name.Request({ name: 'n' }));
      expect(String(named.name)).toBe('n');
    });

    it('an unknown response class is an error naming the code, and nothing is sent', async () => {
      const servers = await fixture.startServers(1);
      const client = fixture.client(servers, { messages: [BusyResponse] });
      const error = await errorOf(client.send(new EchoRequest(1)));
      expect(error.code).toBe('ERR_UNKNOWN_RESPONSE');
      expect(error.message).toBe('Cannot find response class for message code 1');
      expect(servers[0].requests).toBe(0);
    });

    it('a reply with another msg code is an error and is not retried', async () => {
      const servers = await fixture.startServers(1);
      servers[0].faults.add({ type: 'wrongMsg', msg: 99 });
      const client = fixture.client(servers, { messages });
      const error = await errorOf(client.send(new EchoRequest(1, true)));
      expect(error.code).toBe('ERR_MSG_MISMATCH');
      expect(error.message).toBe('Request and reply message code is different: 99 != 1');
      expect(servers[0].requests).toBe(1);
    });

    it('a NoResponse class marks a message without reply', async () => {
      const servers = await fixture.startServers(1);
      const got = deferred<string>();
      servers[0].on(9, (request) => {
        got.resolve(Buffer.from(request.body).toString());
        return undefined;
      });
      const client = fixture.client(servers, { messages });
      const response = await client.send(new FireRequest());
      expect(response).toBeInstanceOf(FireResponse);
      expect(response.data).toBeUndefined();
      expect(await got.promise).toBe('fire');
    });

    it('warns, fails or ignores when a response leaves bytes unparsed ("Not all data was parsed")', async () => {
      const servers = await fixture.startServers(1);
      servers[0].on(ECHO, (request) => Buffer.concat([request.body, Buffer.from([1, 2])]));
      const warned = fixture.client(servers, { messages });
      const warnings: Error[] = [];
      warned.on('warning', (w) => warnings.push(w));
      expect((await warned.send(new EchoRequest(3))).value).toBe(3);
      expect(warnings).toHaveLength(1);
      expect(warnings[0].message).toMatch(/^Not all data was parsed: 2 of 6 bytes left by EchoResponse/);

      const strict = fixture.client(servers, { messages, trailingData: 'error' });
      expect((await errorOf(strict.send(new EchoRequest(3)))).code).toBe('ERR_TRAILING_DATA');

      const lax = fixture.client(servers, { messages, trailingData: 'ignore' });
      lax.on('warning', (w) => warnings.push(w));
      expect((await lax.send(new EchoRequest(3))).value).toBe(3);
      expect(warnings).toHaveLength(1);
    });

    it('warns through process.emitWarning when the client has no warning listener', async () => {
      const servers = await fixture.startServers(1);
      servers[0].on(ECHO, (request) => Buffer.concat([request.body, Buffer.from([1])]));
      const client = fixture.client(servers, { messages });
      const warning = new Promise<Error & { code?: string }>((resolve) => process.once('warning', resolve));
      await client.send(new EchoRequest(3));
      const emitted = await warning;
      expect(emitted.code).toBe('ERR_TRAILING_DATA');
      expect(emitted.message).toMatch(/^Not all data was parsed/);
    });

    it('a response class that throws while decoding fails the request', async () => {
      const servers = await fixture.startServers(1);
      servers[0].on(ECHO, () => Buffer.from([1]));
      const client = fixture.client(servers, { messages });
      const error = await errorOf(client.send(new EchoRequest(3, true)));
      expect(error.code).toBe('ERR_REPLY_DECODE');
      expect(error.cause).toBeInstanceOf(RangeError);
      expect(error.cause.message).toBe('EchoResponse: reply too short');
      expect(error.message).toMatch(
        new RegExp(
          `^${servers[0].address}: cannot decode the reply, msg 1 sync \\d+: EchoResponse: reply too short$`,
        ),
      );
      expect(servers[0].requests).toBe(1); // a reply that cannot be decoded is not retried
    });
  });

  describe('retries (MR::IProto::_server_callback)', () => {
    it('retries a communication error on another server when the request allows it', async () => {
      const servers = await fixture.startServers(2);
      for (const server of servers) server.faults.add({ type: 'close' }, { times: 1 });
      const client = fixture.client(servers, { messages });
      const retried: number[] = [];
      client.on('retry', (event) => retried.push(event.try));
      // The first try closes whichever server it hits; the retry goes to the other one, which
      // closes too: with maxRequestRetries 2 there is no third try.
      const error = await errorOf(client.send(new EchoRequest(1, true)));
      expect(error.code).toBe('ECONNCLOSED');
      expect(retried).toEqual([2]);
      expect(servers.map((s) => s.requests)).toEqual([1, 1]);
      // Both faults are spent: now it works.
      expect((await client.send(new EchoRequest(2, true))).value).toBe(2);
    });

    it('does not retry when the request does not allow it', async () => {
      const servers = await fixture.startServers(2);
      for (const server of servers) server.faults.add({ type: 'close' }, { times: 1 });
      const client = fixture.client(servers, { messages });
      await errorOf(client.send(new EchoRequest(1, false)));
      expect(servers[0].requests + servers[1].requests).toBe(1);
    });

    it('counts tries up to maxRequestRetries, plain retry flags included', async () => {
      const servers = await fixture.startServers(1);
      servers[0].faults.add({ type: 'close' });
      const client = fixture.client(servers, { maxRequestRetries: 4 });
      const error = await errorOf(client.send({ msg: 7, data: [1], unpack: 'L', retry: true }));
      expect(error.code).toBe('ECONNCLOSED');
      expect(servers[0].requests).toBe(4);
      let asked = 0;
      await errorOf(
        client.send({
          msg: 7,
          data: [1],
          unpack: 'L',
          maxRequestRetries: 3,
          retry: () => {
            asked++;
            return true;
          },
        }),
      );
      expect(asked).toBe(3);
      expect(servers[0].requests).toBe(7);
    });

    it("retries after a reply when the response's retry() says so, and returns the last reply", async () => {
      const servers = await fixture.startServers(1);
      let calls = 0;
      servers[0].on(5, () => pack('L', ++calls < 3 ? 1 : 0));
      const client = fixture.client(servers, { messages, maxRequestRetries: 5 });
      const response = await client.send(new BusyRequest());
      expect(response.busy).toBe(0);
      expect(calls).toBe(3);

      calls = -10; // busy for longer than the tries allow
      const tired = fixture.client(servers, { messages, maxRequestRetries: 2 });
      const last = await tired.send(new BusyRequest());
      expect(last.busy).toBe(1);
      expect(calls).toBe(-8);
    });

    it('isRetry(data) asks for a retry after a plain reply', async () => {
      const servers = await fixture.startServers(1);
      let calls = 0;
      servers[0].on(7, () => pack('L', ++calls));
      const client = fixture.client(servers, { maxRequestRetries: 3 });
      const seen: unknown[] = [];
      const reply = await client.send({
        msg: 7,
        unpack: 'L',
        isRetry: (data) => {
          seen.push(data[0]);
          return (data[0] as number) < 2;
        },
      });
      expect(reply).toEqual([2]);
      expect(seen).toEqual([1, 2]);
    });

    it('retry() and isRetry(data) of a plain message are called with the message as this', async () => {
      const servers = await fixture.startServers(1);
      servers[0].faults.add({ type: 'close' }, { times: 1 });
      let calls = 0;
      servers[0].on(7, () => pack('L', ++calls));
      const client = fixture.client(servers, { maxRequestRetries: 5 });
      // The retry budget lives on the message, not in closures.
      const message = {
        msg: 7,
        unpack: 'L',
        budget: 3,
        retry(this: { budget: number }) {
          return --this.budget > 0;
        },
        isRetry(this: { budget: number }, data: unknown[]) {
          return (data[0] as number) < 2 && --this.budget > 0;
        },
      };
      expect(await client.send(message)).toEqual([2]);
      expect(message.budget).toBe(1);
    });

    it('an abort during the retry delay settles the request at once, and no retry is sent', async () => {
      const servers = await fixture.startServers(1);
      servers[0].faults.add({ type: 'close' }, { times: 1 });
      const client = fixture.client(servers, { retryDelay: 60_000 });
      const controller = new AbortController();
      const pending = client.send(
        { msg: 7, data: [3], unpack: 'L', retry: true },
        { signal: controller.signal },
      );
      await new Promise((resolve) => client.once('retry', resolve));
      controller.abort();
      expect(await errorOf(pending)).toBe(controller.signal.reason);
      expect(client.inProgress).toBe(0);
      expect(servers[0].requests).toBe(1);
    });

    it('an abort from a retry listener settles the request at once, not after the retry delay', async () => {
      const servers = await fixture.startServers(1);
      servers[0].faults.add({ type: 'close' }, { times: 1 });
      const client = fixture.client(servers, { retryDelay: 60_000 });
      const controller = new AbortController();
      client.on('retry', () => controller.abort());
      const pending = client.send(
        { msg: 7, data: [3], unpack: 'L', retry: true },
        { signal: controller.signal },
      );
      expect(await errorOf(pending)).toBe(controller.signal.reason);
      expect(client.inProgress).toBe(0);
      expect(servers[0].requests).toBe(1);
    });

    it('a throwing retry listener fails the request instead of escaping as an unhandled rejection', async () => {
      const servers = await fixture.startServers(1);
      servers[0].faults.add({ type: 'close' }, { times: 1 });
      const client = fixture.client(servers);
      client.on('retry', () => {
        throw new Error('listener broke');
      });
      const error = await errorOf(client.send({ msg: 7, data: [1], unpack: 'L', retry: true }));
      expect(error.message).toBe('listener broke');
      expect(client.inProgress).toBe(0);
    });

    it('waits retryDelay between tries', async () => {
      const servers = await fixture.startServers(1);
      servers[0].faults.add({ type: 'close' }, { times: 1 });
      const client = fixture.client(servers, { retryDelay: 50 });
      const pending = client.send({ msg: 7, data: [3], unpack: 'L', retry: true });
      const retry = deferred();
      client.on('retry', () => retry.resolve());
      await retry.promise;
      // The retry is scheduled, not sent: the server has seen one request only.
      expect(servers[0].requests).toBe(1);
      expect(await pending).toEqual([3]);
      expect(servers[0].requests).toBe(2);
    });
  });

  describe('maxParallel', () => {
    it('queues requests beyond maxParallel and starts them as others finish', async () => {
      const servers = await fixture.startServers(1);
      const gates: Array<() => void> = [];
      let concurrent = 0;
      let peak = 0;
      servers[0].on(7, (request) => {
        concurrent++;
        peak = Math.max(peak, concurrent);
        return new Promise((resolve) => {
          gates.push(() => {
            concurrent--;
            resolve(request.body);
          });
        });
      });
      const client = fixture.client(servers, { maxParallel: 2 });
      const replies = [1, 2, 3, 4, 5].map((n) => client.send({ msg: 7, data: [n], unpack: 'L' }));
      expect(client.inProgress).toBe(2);
      expect(client.queued).toBe(3);
      const results: unknown[] = [];
      for (const reply of replies) {
        reply.then((r) => {
          results.push(r[0]);
        });
      }
      while (results.length < 5) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        gates.shift()?.();
      }
      expect(peak).toBe(2);
      expect(results).toEqual([1, 2, 3, 4, 5]);
      expect(client.inProgress).toBe(0);
      expect(client.queued).toBe(0);
    });
  });

  describe('the send path to a connection', () => {
    // Issue 12: one contract. The client no longer compares `server.send` with the stock one to pick
    // a fast path beside a Promise path: every try goes to `server.dispatch(request, handler)`.
    it("dispatches every try through the server's dispatch(), with the task as request and handler", async () => {
      const servers = await fixture.startServers(1);
      const client = fixture.client(servers, { maxParallel: 64 });
      const server = client.cluster.servers[0] as ServerLike;
      const seen: unknown[] = [];
      const stock = server.dispatch!;
      Object.defineProperty(server, 'dispatch', {
        configurable: true,
        value: (request: { msg: number; timeout?: number }, handler: object) => {
          seen.push([request.msg, request.timeout, request === handler]);
          stock.call(server, request as never, handler as never);
        },
      });
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, n) => client.send({ msg: 7, data: [n], unpack: 'L' })),
      );
      expect(replies).toEqual(Array.from({ length: 40 }, (_, n) => [n]));
      expect(await client.send({ msg: 8, data: [99], unpack: 'L' }, { timeout: 1234 })).toEqual([99]);
      expect(seen).toHaveLength(41);
      expect(seen[0]).toEqual([7, undefined, true]);
      expect(seen[40]).toEqual([8, 1234, true]);
    });

    it("goes through a server object's send() when it has no dispatch()", async () => {
      const servers = await fixture.startServers(1);
      const stock = new IProto({ servers: servers[0].address });
      const real = stock.cluster.servers[0] as ServerLike;
      const seen: number[] = [];
      const own: ServerLike = {
        host: real.host,
        port: real.port,
        address: real.address,
        active: true,
        send: (msg, body, options) => {
          seen.push(msg);
          return real.send(msg, body, options);
        },
      };
      const cluster = oneServerCluster(own);
      const client = new IProto({ cluster });
      expect(await client.send({ msg: 7, data: [5], unpack: 'L' })).toEqual([5]);
      expect(await client.send({ msg: 8, data: [6], unpack: 'L' })).toEqual([6]);
      expect(seen).toEqual([7, 8]);
      await client.close();
      await stock.close();
    });
  });

  describe('timeouts and abort', () => {
    it('a per-request timeout fails the request with ETIMEDOUT and its errno', async () => {
      const servers = await fixture.startServers(1);
      servers[0].faults.add({ type: 'drop' }, { times: 1 });
      const client = fixture.client(servers);
      const error = await errorOf(client.send({ msg: 7, data: [1], unpack: 'L' }, { timeout: 50 }));
      expect(error.code).toBe('ETIMEDOUT');
      expect(error.errno).toBe(constants.errno.ETIMEDOUT);
      const viaCallback = await new Promise<unknown[]>((resolve) => {
        servers[0].faults.add({ type: 'drop' }, { times: 1 });
        client.send(new EchoRequest(1), (reply, err) => resolve([reply, err]), { timeout: 50 });
      });
      // No registry entry for EchoRequest here: that is a client error, still given to the callback.
      expect((viaCallback[1] as { code: string }).code).toBe('ERR_UNKNOWN_RESPONSE');
      expect(viaCallback[0]).toBeInstanceOf(ErrorReply);
    });

    it('the client timeout can be read and set through the cluster', async () => {
      const servers = await fixture.startServers(2);
      const client = fixture.client(servers, { timeout: 1500 });
      expect(client.timeout).toBe(1500);
      client.timeout = 40;
      expect(client.timeout).toBe(40);
      servers[0].faults.add({ type: 'drop' });
      servers[1].faults.add({ type: 'drop' });
      expect((await errorOf(client.send({ msg: 7, unpack: 'L' }))).code).toBe('ETIMEDOUT');
    });

    it('aborts a request in flight, a queued one, and one that is already aborted', async () => {
      const servers = await fixture.startServers(1);
      servers[0].faults.add({ type: 'drop' });
      const client = fixture.client(servers, { maxParallel: 1 });
      const first = new AbortController();
      const second = new AbortController();
      const inFlight = client.send({ msg: 7, unpack: 'L' }, { signal: first.signal });
      const queued = client.send({ msg: 7, unpack: 'L' }, { signal: second.signal });
      expect(client.queued).toBe(1);
      second.abort();
      expect(await errorOf(queued)).toBe(second.signal.reason);
      expect(client.queued).toBe(0);
      first.abort();
      expect(await errorOf(inFlight)).toBe(first.signal.reason);
      expect(client.inProgress).toBe(0);
      const already = AbortSignal.abort();
      expect(await errorOf(client.send({ msg: 7, unpack: 'L', signal: already }))).toBe(already.reason);
    });
    it('a debugCb that throws fails its request after send() returns and frees the slot', async () => {
      const [server] = await fixture.startServers(1);
      const thrown = new Error('debug sink full');
      const client = fixture.client([server], {
        maxParallel: 1,
        debug: 2,
        debugCb: () => {
          throw thrown;
        },
      });
      let called = false;
      const first = new Promise<unknown>((resolve) => {
        client.send({ msg: 7, data: [1], unpack: 'L' }, (_reply, error) => {
          called = true;
          resolve(error);
        });
      });
      expect(called).toBe(false);
      const second = client.send({ msg: 7, data: [2], unpack: 'L' });
      expect(await first).toBe(thrown);
      // The first request's slot went to the second, which fails the same way instead of waiting.
      await expect(second).rejects.toBe(thrown);
      expect(client.inProgress).toBe(0);
    });

    it('a queued request started within the ms it was queued keeps its timeout, even the longest allowed', async () => {
      const [server] = await fixture.startServers(1);
      const client = fixture.client([server], { maxParallel: 1 });
      const longest = 2 ** 31 - 1;
      for (let round = 0; round < 5; round++) {
        const controller = new AbortController();
        const first = client.send({ msg: 7, data: [1], unpack: 'L' }, { signal: controller.signal });
        const second = client.send({ msg: 7, data: [2], unpack: 'L' }, { timeout: longest });
        // The slot frees at once: the second request leaves the queue in the ms it entered it.
        controller.abort();
        await expect(first).rejects.toThrow();
        expect(await second).toEqual([2]);
      }
    });

    it('aborting queued requests at the head, in the middle and at the tail keeps the queue in order', async () => {
      const servers = await fixture.startServers(1);
      const seen: number[] = [];
      servers[0].on('request', (frame: { body: Uint8Array }) =>
        seen.push(unpack('L', frame.body)[0] as number),
      );
      const client = fixture.client(servers, { maxParallel: 1 });
      const controllers = Array.from({ length: 6 }, () => new AbortController());
      const sends = controllers.map((c, i) =>
        client.send({ msg: 7, data: [i], unpack: 'L' }, { signal: c.signal }).then(
          (reply) => reply,
          (error: { name: string }) => error.name,
        ),
      );
      expect(client.queued).toBe(5);
      for (const i of [5, 3, 1]) controllers[i].abort(); // tail, middle, head
      expect(client.queued).toBe(2);
      const late = client.send({ msg: 7, data: [6], unpack: 'L' }); // queued behind the new tail
      expect(await Promise.all([...sends, late])).toEqual([
        [0],
        'AbortError',
        [2],
        'AbortError',
        [4],
        'AbortError',
        [6],
      ]);
      expect(seen).toEqual([0, 2, 4, 6]);
      expect(client.queued).toBe(0);
    });
  });

  describe('sendBulk', () => {
    it('returns every result in request order, objects and plain messages mixed, errors included', async () => {
      const servers = await fixture.startServers(1);
      // Later requests are answered first.
      servers[0].on(7, (request) => {
        const [n] = unpack('L', request.body) as number[];
        return new Promise((resolve) => setTimeout(() => resolve(request.body), (5 - n) * 10));
      });
      servers[0].on(ECHO, (request) => request.body);
      const client = fixture.client(servers, { messages: [EchoResponse] });
      const results = await client.sendBulk([
        { msg: 7, data: [1], unpack: 'L' },
        new EchoRequest(2),
        { msg: 7, data: [3], unpack: 'L' },
        new BusyRequest(),
        { msg: 7, data: [4] },
      ] as const);
      expect(results[0]).toEqual({ data: [1], error: undefined });
      expect(results[1]).toBeInstanceOf(EchoResponse);
      expect((results[1] as EchoResponse).value).toBe(2);
      expect(results[2]).toEqual({ data: [3], error: undefined });
      expect(results[3]).toBeInstanceOf(ErrorReply);
      expect((results[3] as ErrorReply).error.message).toMatch(/message code 5/);
      expect(results[4].data).toBeUndefined();
      expect((results[4].error as unknown as { code: string }).code).toBe('ERR_BAD_MESSAGE');
    });

    it('calls the callback once with all results, and with [] for no messages', async () => {
      const servers = await fixture.startServers(1);
      const client = fixture.client(servers);
      const results = await new Promise<unknown[]>((resolve) =>
        client.sendBulk(
          [1, 2, 3].map((n) => ({ msg: 7, data: [n], unpack: 'L' })),
          (r) => resolve(r),
        ),
      );
      expect(results.map((r) => (r as { data: number[] }).data[0])).toEqual([1, 2, 3]);
      expect(await client.sendBulk([])).toEqual([]);
    });
  });

  describe('callback mode', () => {
    it('never throws communication errors: closed and timed-out requests reach the callback', async () => {
      const servers = await fixture.startServers(1);
      const client = fixture.client(servers, { messages });
      const viaCallback = (send: (cb: (reply: unknown, error: any) => void) => void) =>
        new Promise<[unknown, any]>((resolve) => {
          expect(() => send((reply, error) => resolve([reply, error]))).not.toThrow();
        });

      servers[0].faults.add({ type: 'close' }, { times: 1 });
      const [closedReply, closed] = await viaCallback((cb) => client.send(new EchoRequest(1), cb));
      expect(closed.code).toBe('ECONNCLOSED');
      expect(closedReply).toBeInstanceOf(ErrorReply);
      expect((closedReply as ErrorReply).request).toBeInstanceOf(EchoRequest);
      expect((closedReply as ErrorReply).errorMessage).toBe(closed.message);

      servers[0].faults.add({ type: 'drop' }, { times: 1 });
      const [timedOutReply, timedOut] = await viaCallback((cb) =>
        client.send({ msg: ECHO, data: [2], unpack: 'L' }, cb, { timeout: 100 }),
      );
      expect(timedOut.code).toBe('ETIMEDOUT');
      expect(timedOutReply).toBeUndefined();

      expect(await viaCallback((cb) => client.send({ msg: ECHO, data: [3], unpack: 'L' }, cb))).toEqual([
        [3],
        undefined,
      ]);
    });
  });

  describe('defineMessage end to end', () => {
    it('sends a typed request and gets a typed response back', async () => {
      const Get = defineMessage({
        msg: 17,
        name: 'Get',
        request: { template: 'L w/a*', fields: ['id', 'name'] as const, key: 'id' },
        response: { template: 'L w/a*', fields: ['id', 'name'] as const },
      });
      const servers = await fixture.startServers(1);
      const client = fixture.client(servers, { messages: { Get } });
      const response = await client.send(new Get.Request({ id: 5, name: 'five' }));
      expect(response).toBeInstanceOf(Get.Response);
      expect(response.id).toBe(5);
      expect(Buffer.from(response.name as Uint8Array).toString()).toBe('five');
      // Without a registry entry, the pair still knows its response class.
      const bare = fixture.client(servers);
      expect((await bare.send(new Get.Request({ id: 6, name: '' }))).id).toBe(6);
    });
  });

  describe('life cycle, options and observability', () => {
    it('close() fails queued requests with ERR_CLIENT_CLOSED, lets in-flight ones finish, refuses new ones', async () => {
      const servers = await fixture.startServers(1);
      servers[0].faults.add({ type: 'delay', ms: 50 });
      const client = fixture.client(servers, { maxParallel: 1 });
      const running = client.send({ msg: 7, data: [1], unpack: 'L' });
      const queued = client.send({ msg: 7, data: [2], unpack: 'L' });
      const closing = client.close();
      expect((await errorOf(queued)).code).toBe('ERR_CLIENT_CLOSED');
      // The cluster the client built closes gracefully: what is in flight still gets its reply.
      expect(await running).toEqual([1]);
      await closing;
      expect((await errorOf(client.send({ msg: 7, unpack: 'L' }))).code).toBe('ERR_CLIENT_CLOSED');
    });

    it('hands the Perl BUILDARGS options down to the cluster factory', async () => {
      const seen: unknown[] = [];
      const fake: ServerLike = {
        host: 'fake',
        port: 1,
        address: 'fake:1',
        active: true,
        send: async (msg, body) => ({ msg, sync: 1, body }),
      };
      const cluster = oneServerCluster(fake, 5);
      const debugCb = () => undefined;
      const client = new IProto({
        servers: 'a:1,b:2:3',
        balance: 'hash-crc32',
        timeout: 100,
        connectTimeout: 200,
        tcpNoDelay: false,
        tcpKeepAlive: true,
        dumpNoInts: true,
        debug: 1,
        debugCb,
        maxParallel: 3,
        factory: (options) => {
          seen.push(options);
          return cluster;
        },
      });
      expect(seen).toEqual([
        {
          servers: 'a:1,b:2:3',
          balance: 'hash-crc32',
          timeout: 100,
          connectTimeout: 200,
          tcpNoDelay: false,
          tcpKeepAlive: true,
          dumpNoInts: true,
          debug: 1,
          debugCb,
          // Issue 12: each server's in-flight limit follows the client's maxParallel unless set.
          maxParallel: 3,
        },
      ]);
      expect(client.maxParallel).toBe(3);
      expect(client.maxRequestRetries).toBe(2);
      expect(await client.send({ msg: 3, data: [4], unpack: 'L' })).toEqual([4]);
      await client.close();
    });

    it('reads reply frames from any server: Uint8Array bodies inside larger buffers, and a missing frame', async () => {
      // Each reply body sits inside a larger plain Uint8Array, as a custom server's views may.
      const replyBody = (body: Uint8Array) => {
        const whole = new Uint8Array(body.length + 8).fill(0xee);
        whole.set(body, 4);
        return whole.subarray(4, 4 + body.length);
      };
      const fake: ServerLike = {
        host: 'fake',
        port: 1,
        address: 'fake:1',
        active: true,
        send: async (msg, body) =>
          msg === 9 ? (undefined as never) : { msg, sync: 1, body: replyBody(body) },
      };
      const cluster = oneServerCluster(fake, 5);
      const client = new IProto({ cluster });
      expect(await client.send({ msg: 3, data: [4, 5], pack: 'L2', unpack: 'L2' })).toEqual([4, 5]);
      const seen: unknown[] = [];
      const unpack = (body: Buffer) => {
        seen.push(Buffer.isBuffer(body), body.length);
        return [body.readUInt32LE(0)];
      };
      expect(await client.send({ msg: 3, data: [6], unpack })).toEqual([6]);
      expect(seen).toEqual([true, 4]);
      const error = await errorOf(client.send({ msg: 9, data: [1], unpack: 'L' }));
      expect(error.message).toBe('message 9: the server gave no reply frame');
      await client.close();
    });

    it('logs every try at debug level 2 and publishes on iproto:client:* channels', async () => {
      const servers = await fixture.startServers(1);
      servers[0].faults.add({ type: 'close' }, { times: 1 });
      const lines: string[] = [];
      const client = fixture.client(servers, { debug: 2, debugCb: (line) => lines.push(line) });
      const events: string[] = [];
      const onSend = (m: any) => events.push(`send ${m.try}`);
      const onRetry = (m: any) => events.push(`retry ${m.try}`);
      const onReply = (m: any) => events.push(`reply ${m.reply[0]}`);
      subscribe('iproto:client:send', onSend);
      subscribe('iproto:client:retry', onRetry);
      subscribe('iproto:client:reply', onReply);
      try {
        await client.send({ msg: 7, data: [6], unpack: 'L', retry: true });
      } finally {
        unsubscribe('iproto:client:send', onSend);
        unsubscribe('iproto:client:retry', onRetry);
        unsubscribe('iproto:client:reply', onReply);
      }
      expect(events).toEqual(['send 1', 'retry 2', 'send 2', 'reply 6']);
      expect(lines).toContain('send msg=7 try 1 of 2 total');
      expect(lines).toContain('send msg=7 try 2 of 2 total');
    });

    it('passes server down events up from the cluster', async () => {
      const servers = await fixture.startServers(2);
      const client = fixture.client(servers);
      const down = deferred<unknown>();
      client.on('server down', (server) => down.resolve(server));
      servers[0].faults.add({ type: 'close' });
      servers[1].faults.add({ type: 'close' });
      await errorOf(client.send({ msg: 7, unpack: 'L' }));
      expect(await down.promise).toHaveProperty('address');
    });

    it('forwards each event once under each name when a listener makes the cluster emit another', async () => {
      const servers = await fixture.startServers(2);
      const client = fixture.client(servers);
      const [first, second] = client.cluster.servers as unknown as { active: boolean; address: string }[];
      const seen: string[] = [];
      client.on('serverDown', (server) => {
        seen.push(`serverDown ${server.address}`);
        // Put it back at once, and take the other one out: two more events inside this one.
        if (server === (first as unknown)) {
          first.active = true;
          second.active = false;
        }
      });
      client.on('server down', (server) => seen.push(`server down ${server.address}`));
      client.on('serverUp', (server) => seen.push(`serverUp ${server.address}`));
      client.on('server up', (server) => seen.push(`server up ${server.address}`));
      first.active = false;
      expect(seen).toEqual([
        `serverDown ${first.address}`,
        `serverUp ${first.address}`,
        `server up ${first.address}`,
        `serverDown ${second.address}`,
        `server down ${second.address}`,
        `server down ${first.address}`,
      ]);
    });

    it('forwards a cluster that emits only the Perl-style names, or only the Node-style ones, once under each', async () => {
      const { EventEmitter } = await import('node:events');
      const fake: ServerLike = {
        host: 'fake',
        port: 1,
        address: 'fake:1',
        active: true,
        send: async (msg, body) => ({ msg, sync: 1, body }),
      };
      const cluster = Object.assign(new EventEmitter(), {
        servers: [fake],
        timeout: 100,
        server: () => fake,
        close: async () => undefined,
      }) as unknown as ClusterLike & InstanceType<typeof EventEmitter>;
      const client = new IProto({ cluster });
      const seen: string[] = [];
      for (const name of ['serverDown', 'server down', 'serverUp', 'server up'] as const)
        client.on(name, (_server: ServerLike, reason: unknown) => seen.push(`${name} ${String(reason)}`));
      cluster.emit('server down', fake, 'old only');
      cluster.emit('serverUp', fake, 'new only');
      cluster.emit('serverDown', fake, 'both');
      cluster.emit('server down', fake, 'both');
      cluster.emit('server down', fake, 'twice');
      cluster.emit('server down', fake, 'twice');
      expect(seen).toEqual([
        'serverDown old only',
        'server down old only',
        'serverUp new only',
        'server up new only',
        'serverDown both',
        'server down both',
        'serverDown twice',
        'server down twice',
        'serverDown twice',
        'server down twice',
      ]);
      await client.close();
    });

    it('emits serverDown / serverUp, and their deprecated aliases, once each per event', async () => {
      const servers = await fixture.startServers(1);
      const client = fixture.client(servers);
      const seen: string[] = [];
      client.on('serverDown', (server) => seen.push(`serverDown ${server.address}`));
      client.on('server down', (server) => seen.push(`server down ${server.address}`));
      client.on('serverUp', (_server, reason) => seen.push(`serverUp ${reason}`));
      client.on('server up', (_server, reason) => seen.push(`server up ${reason}`));
      const [server] = client.cluster.servers as unknown as { active: boolean; address: string }[];
      server.active = false;
      server.active = true;
      expect(seen).toEqual([
        `serverDown ${server.address}`,
        `server down ${server.address}`,
        'serverUp set active',
        'server up set active',
      ]);
    });
  });
});
