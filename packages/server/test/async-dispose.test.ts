import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { IProtoServer } from '../src/iproto-server.js';
import { startTestServer } from '../src/testing/index.js';

/** Resolves with the error of a TCP connect to `port`, or undefined when it connects. */
function connectError(port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error) => resolve(error));
  });
}

describe('await using', () => {
  it('closes an IProtoServer when the scope ends: its connections are gone, its port refuses', async () => {
    let port = 0;
    let disconnected = 0;
    {
      await using server = new IProtoServer({ handler: (request) => request.body });
      ({ port } = await server.listen(0, '127.0.0.1'));
      server.on('disconnect', () => disconnected++);
      expect(await connectError(port)).toBeUndefined();
      // A client that stays connected: the disposal must close it, as close() does.
      const client = connect(port, '127.0.0.1');
      await new Promise((resolve) => client.once('connect', resolve));
      client.on('error', () => {});
      await until(() => server.connections.size === 1);
    }
    expect(disconnected).toBeGreaterThanOrEqual(1);
    expect((await connectError(port))?.code).toBe('ECONNREFUSED');
  });

  it('closes the server when the scope throws, and the error still propagates', async () => {
    let port = 0;
    const scope = async (): Promise<void> => {
      await using server = await startTestServer();
      port = server.port;
      throw new Error('scope failed');
    };
    await expect(scope()).rejects.toThrow('scope failed');
    expect((await connectError(port))?.code).toBe('ECONNREFUSED');
  });
});

/** Waits (up to 5 s) for `condition`, which a socket event on the server's side makes true. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}
