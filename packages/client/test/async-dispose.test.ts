import { startTestServer, type TestServer } from '@iproto/server/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IProto } from '../src/iproto.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('await using', () => {
  it('closes an IProto client and the cluster it built when the scope ends', async () => {
    server = await startTestServer();
    let client: IProto | undefined;
    let inFlight: Promise<unknown> | undefined;
    {
      await using scoped = new IProto({ servers: server.address });
      client = scoped;
      expect(await scoped.send({ msg: 7, data: [42], pack: 'L', unpack: 'L' })).toEqual([42]);
      // Not awaited in the scope: the disposal closes gracefully, as close() does.
      inFlight = scoped.send({ msg: 8, data: [43], pack: 'L', unpack: 'L' });
    }
    await expect(inFlight).resolves.toEqual([43]);
    await expect(client.send({ msg: 7, unpack: 'L' })).rejects.toMatchObject({ code: 'ERR_CLIENT_CLOSED' });
    const live = server;
    await vi.waitFor(() => expect(live.connections.size).toBe(0));
  });

  it('closes the client when the scope throws, and the error still propagates', async () => {
    server = await startTestServer();
    const { address } = server;
    let client: IProto | undefined;
    const scope = async (): Promise<void> => {
      await using scoped = new IProto({ servers: address });
      client = scoped;
      throw new Error('scope failed');
    };
    await expect(scope()).rejects.toThrow('scope failed');
    await expect(client?.send({ msg: 7, unpack: 'L' })).rejects.toMatchObject({ code: 'ERR_CLIENT_CLOSED' });
  });
});
