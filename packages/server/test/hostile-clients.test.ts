import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { IProtoServer, type IProtoServerOptions } from '../src/iproto-server.js';
import type { ServerError } from '../src/server-error.js';
import { frame, RawClient, sleep, waitFor } from './support/test-support.js';

// The cases of issue 13 that made one hostile client cost the server memory out of proportion to the
// bytes it sent, or hold its resources forever. Each runs against the defaults unless it says so.

const MiB = 1024 * 1024;
const servers: IProtoServer[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options: IProtoServerOptions): Promise<{ server: IProtoServer; port: number }> {
  const server = new IProtoServer(options);
  servers.push(server);
  const { port } = await server.listen();
  return { server, port };
}

async function rawSocket(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  sockets.push(socket);
  await once(socket, 'connect');
  return socket;
}

function external(): number {
  const usage = process.memoryUsage();
  return usage.arrayBuffers + usage.heapUsed;
}

describe('hostile clients cost what they send', () => {
  test('100 clients each sending a 12-byte header announcing 16 MiB do not make the server reserve 1.6 GB', async () => {
    const { server, port } = await start({ handler: (request) => request.body });
    const header = Buffer.alloc(12);
    header.writeUInt32LE(1, 0);
    header.writeUInt32LE(16 * MiB, 4);
    const before = process.memoryUsage().arrayBuffers;
    const hostile = await Promise.all(Array.from({ length: 100 }, () => rawSocket(port)));
    for (const socket of hostile) socket.write(header);
    await waitFor(
      () =>
        server.connections.size === 100 && [...server.connections].every((c) => c.socket.bytesRead === 12),
      'every header to be read',
    );
    const grown = process.memoryUsage().arrayBuffers - before;
    // 64 KiB each (6.4 MiB) until the bodies' bytes arrive; the margin is for the sockets' own buffers.
    expect(grown).toBeLessThan(64 * MiB);
    // And the server still serves.
    const honest = await RawClient.connect(port);
    try {
      honest.write(frame(2, 2, 'still here'));
      expect(await honest.bytes(22)).toEqual(frame(2, 2, 'still here'));
    } finally {
      honest.destroy();
    }
  });

  test('one client pipelining 20,000 requests of 4 KiB to a handler that answers after 1 s, never reading: reading pauses at maxInFlight (1000), memory stays bounded', async () => {
    let pending = 0;
    let peak = 0;
    let handled = 0;
    const { server, port } = await start({
      handler: async (request) => {
        handled++;
        peak = Math.max(peak, ++pending);
        await sleep(1000);
        pending--;
        return request.body;
      },
    });
    const errors: ServerError[] = [];
    server.on('error', (error) => errors.push(error as ServerError));
    const socket = await rawSocket(port);
    socket.pause(); // never reads a reply
    const batch = Buffer.concat(Array.from({ length: 64 }, (_, i) => frame(7, i, Buffer.alloc(4096, i))));
    const before = external();
    let sent = 0;
    let stop = false;
    // Writes as fast as the server takes them (the client's own buffer holds one batch at most).
    const writer = (async () => {
      while (!stop && sent < 20_000) {
        sent += 64;
        if (!socket.write(batch)) await Promise.race([once(socket, 'drain'), sleep(100)]);
      }
    })();
    await sleep(2500);
    stop = true;
    await writer;
    const connection = [...server.connections][0];
    const read = connection.socket.bytesRead;
    const grown = external() - before;
    // On the old server: all 20,000 read at once (78 MiB), peaking at +124 MiB for this one client.
    expect(peak).toBeLessThanOrEqual(1000);
    expect(peak).toBe(1000);
    expect(read).toBeLessThan(32 * MiB);
    expect(handled).toBeLessThan(20_000);
    expect(grown).toBeLessThan(64 * MiB);
    expect(errors).toEqual([]);
  });

  test('200 slowloris connections sending 1 byte a second are all dropped (ERR_FRAME_TIMEOUT) while a well-behaved client is served', async () => {
    const { server, port } = await start({ frameTimeout: 1000, handler: (request) => request.body });
    const errors: ServerError[] = [];
    server.on('error', (error) => errors.push(error as ServerError));
    const slow = await Promise.all(Array.from({ length: 200 }, () => rawSocket(port)));
    const closed = new Set<Socket>();
    for (const socket of slow) socket.on('close', () => closed.add(socket));
    const request = frame(1, 1, 'never finished');
    let byte = 0;
    const next = (): void => {
      if (byte >= request.length) return;
      for (const socket of slow) if (!socket.destroyed) socket.write(request.subarray(byte, byte + 1));
      byte++;
    };
    next();
    const dribble = setInterval(next, 1000);
    const honest = await RawClient.connect(port);
    try {
      for (let i = 0; closed.size < 200 && i < 40; i++) {
        honest.write(frame(2, i, 'ok'));
        await sleep(100);
      }
      await waitFor(() => closed.size === 200, 'every slow connection to be dropped', 10_000);
      expect(errors).toHaveLength(200);
      expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['ERR_FRAME_TIMEOUT']));
      expect(honest.closed).toBe(false);
      honest.write(frame(3, 3, 'after'));
      await waitFor(() => honest.received.includes(frame(3, 3, 'after')), 'the reply after the storm');
      expect(server.connections.size).toBe(1);
    } finally {
      clearInterval(dribble);
      honest.destroy();
    }
  });
});
