import { startTestServer, type TestServer } from '@iproto/server/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../src/connection.js';
import { until } from './support/test-support.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('await using', () => {
  it('closes a Connection when the scope ends, after the request in flight got its reply', async () => {
    server = await startTestServer();
    let connection: Connection | undefined;
    let inFlight: Promise<unknown> | undefined;
    let closed = false;
    {
      await using scoped = new Connection({ host: server.host, port: server.port });
      connection = scoped;
      scoped.on('close', () => {
        closed = true;
      });
      expect(Buffer.from((await scoped.send(1, Buffer.from('one'))).body).toString()).toBe('one');
      // Not awaited in the scope: the disposal closes gracefully, as close() does.
      inFlight = scoped.send(2, Buffer.from('two'));
    }
    expect(closed).toBe(true);
    await expect(inFlight).resolves.toMatchObject({ msg: 2 });
    await expect(connection.send(3, Buffer.from('three'))).rejects.toMatchObject({
      code: 'ERR_CONNECTION_CLOSED',
    });
    const live = server;
    await until(() => live.connections.size === 0, 'the server sees the connection go');
  });

  it('closes the Connection when the scope throws, and the error still propagates', async () => {
    server = await startTestServer();
    const { host, port } = server;
    let connection: Connection | undefined;
    const scope = async (): Promise<void> => {
      await using scoped = new Connection({ host, port });
      connection = scoped;
      await scoped.send(1, Buffer.from('x'));
      throw new Error('scope failed');
    };
    await expect(scope()).rejects.toThrow('scope failed');
    await expect(connection?.send(1, Buffer.from('y'))).rejects.toMatchObject({
      code: 'ERR_CONNECTION_CLOSED',
    });
  });
});
