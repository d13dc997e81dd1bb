import { afterEach, describe, expect, test } from 'vitest';
import { type Handler, IProtoServer } from '../src/iproto-server.js';
import type { ServerError } from '../src/server-error.js';
import { frame, RawClient, Started, waitFor } from './support/test-support.js';

// Whatever a handler returns or throws, the server answers nothing for that request, reports
// ERR_HANDLER_FAILED, and goes on serving: the process must not die and no rejection may go
// unhandled (vitest fails the run on either).

const started = new Started();
const { servers, clients } = started;
afterEach(() => started.cleanup());

/**
 * A server whose msg 1 runs `odd` and whose msg 2 echoes; sends msg 1 (sync 1) then msg 2 (sync 2)
 * and returns what came back and the errors reported once the echo arrived and `errors` settled.
 */
async function run(
  odd: Handler,
  { listen = true, errorCount = 1 } = {},
): Promise<{
  received: Buffer;
  errors: ServerError[];
  server: IProtoServer;
  client: RawClient;
}> {
  const server = new IProtoServer({ handler: (request) => request.body });
  servers.push(server);
  server.on(1, odd);
  const errors: ServerError[] = [];
  if (listen) server.on('error', (error) => errors.push(error as ServerError));
  const { port } = await server.listen();
  const client = await RawClient.connect(port);
  clients.push(client);
  client.write(frame(1, 1, 'odd'), frame(2, 2, 'echo'));
  await client.bytes(16);
  if (listen) await waitFor(() => errors.length >= errorCount, `${errorCount} error event(s)`);
  // Anything more (a late reply, a second report) would show up by now.
  await new Promise((resolve) => setTimeout(resolve, 30));
  return { received: client.received, errors, server, client };
}

function expectFailed(result: { received: Buffer; errors: ServerError[] }, message: RegExp): void {
  expect(result.received).toEqual(frame(2, 2, 'echo'));
  expect(result.errors).toHaveLength(1);
  expect(result.errors[0]).toMatchObject({
    name: 'ServerError',
    code: 'ERR_HANDLER_FAILED',
    msg: 1,
    sync: 1,
  });
  expect(result.errors[0].message).toMatch(message);
}

describe('odd handler results never take the process down', () => {
  test('a thenable whose then throws: reported, no reply, the server goes on', async () => {
    const thenable = {
      // biome-ignore lint/suspicious/noThenProperty: the point of the test
      then() {
        throw new Error('then threw');
      },
    };
    expectFailed(await run(() => thenable as never), /failed: then threw$/);
  });

  test('a thenable whose then getter throws: reported, no reply, the server goes on', async () => {
    const thenable = Object.defineProperty({}, 'then', {
      get() {
        throw new Error('then getter threw');
      },
    });
    expectFailed(await run(() => thenable as never), /failed: then getter threw$/);
  });

  // Regression: a reply of 2^32 bytes or more wrapped the header's len and the rest of the body was
  // read by the client as frames of its own. A fake length stands in for a 4 GiB buffer.
  test('a reply longer than a header can announce, sync or async: reported, no reply, the server goes on', async () => {
    const huge = () => Object.defineProperty(new Uint8Array(16), 'length', { value: 2 ** 32 });
    for (const odd of [() => huge(), async () => huge()]) {
      const result = await run(odd);
      expectFailed(
        result,
        /failed: iproto frame: a body of 4294967296 bytes .* longer than a header can announce/,
      );
      expect(result.errors[0].cause).toMatchObject({ name: 'FrameError', code: 'ERR_FRAME_TOO_LARGE' });
    }
  });

  test('a revoked Proxy: reported, no reply, the server goes on', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expectFailed(await run(() => proxy as never), /failed: .*revoked/);
  });

  test('a promise of a revoked Proxy, and a revoked Proxy thrown or rejected with: reported', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expectFailed(await run(async () => proxy as never), /failed: .*revoked/);
    expectFailed(
      await run(() => {
        throw proxy;
      }),
      /failed: a value that cannot be printed$/,
    );
    expectFailed(await run(() => Promise.reject(proxy)), /failed: a value that cannot be printed$/);
  });

  test('a thrown object whose toString throws, and an Error whose message getter throws: reported', async () => {
    const unprintable = {
      toString() {
        throw new Error('no');
      },
    };
    expectFailed(
      await run(() => {
        throw unprintable;
      }),
      /failed: a value that cannot be printed$/,
    );
    const error = Object.defineProperty(new Error('x'), 'message', {
      get() {
        throw new Error('no');
      },
    });
    expectFailed(await run(() => Promise.reject(error)), /failed: a value that cannot be printed$/);
  });

  test('a number, a plain object, a symbol, a function, a bigint, true: reported as not a body', async () => {
    for (const [value, type] of [
      [42, 'number'],
      [{ a: 1 }, 'object'],
      [Symbol('s'), 'symbol'],
      [() => 'x', 'function'],
      [10n, 'bigint'],
      [true, 'boolean'],
    ] as const) {
      expectFailed(
        await run(() => value as never),
        new RegExp(`handler returned ${type}, expected a Uint8Array, a string or undefined$`),
      );
      expectFailed(
        await run(async () => value as never),
        new RegExp(`handler returned ${type}, expected a Uint8Array, a string or undefined$`),
      );
    }
  });

  test('a Proxy of a 64 KiB Uint8Array is not a body: reported, not written', async () => {
    const proxy = new Proxy(new Uint8Array(64 * 1024), {});
    expectFailed(await run(() => proxy), /handler returned object/);
  });

  test('a Uint8Array whose length getter throws: reported, whether returned or resolved', async () => {
    class Evil extends Uint8Array {
      override get length(): number {
        throw new Error('evil length');
      }
    }
    expectFailed(await run(() => new Evil(4)), /failed: evil length$/);
    expectFailed(await run(async () => new Evil(4)), /failed: evil length$/);
  });

  test('a thenable that calls back twice, or both ways, answers once', async () => {
    const twice = {
      // biome-ignore lint/suspicious/noThenProperty: the point of the test
      then(resolve: (value: string) => void, reject: (error: Error) => void) {
        resolve('first');
        resolve('second');
        reject(new Error('late'));
        throw new Error('after resolving');
      },
    };
    const server = new IProtoServer({ handler: () => twice as never });
    servers.push(server);
    const errors: Error[] = [];
    server.on('error', (error) => errors.push(error));
    const { port } = await server.listen();
    const client = await RawClient.connect(port);
    clients.push(client);
    client.write(frame(1, 1), frame(1, 2));
    await client.bytes(34);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(client.received).toEqual(Buffer.concat([frame(1, 1, 'first'), frame(1, 2, 'first')]));
    expect(errors).toEqual([]);
    expect([...server.connections][0].inFlight).toBe(0);
  });

  test('without an error listener every odd result is silent: no crash, no unhandled rejection', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const odd: (() => unknown)[] = [
      () => ({
        // biome-ignore lint/suspicious/noThenProperty: the point of the test
        then() {
          throw new Error('then');
        },
      }),
      () =>
        Object.defineProperty({}, 'then', {
          get() {
            throw new Error('getter');
          },
        }),
      () => proxy,
      () => Promise.reject(proxy),
      () => Symbol('s'),
    ];
    for (const make of odd) {
      const result = await run(() => make() as never, { listen: false });
      expect(result.received).toEqual(frame(2, 2, 'echo'));
    }
  });
});
