import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { IProto } from '@iproto/client';
import { encodeFrame, encodeHeader } from '@iproto/framing';
import { startTestServer } from '@iproto/server/testing';
import { describe, expect, it } from 'vitest';
import { createRng } from '../support/reliability.js';

type Rng = ReturnType<typeof createRng>;

/** Bytes a hostile or broken client might send: frames, then lies, truncations and garbage. */
function hostileBytes(rng: Rng): Buffer {
  const parts: Buffer[] = [];
  for (let i = rng.int(0, 5); i > 0; i--) {
    parts.push(encodeFrame(rng.int(0, 0xffffffff), rng.int(0, 0xffffffff), Buffer.alloc(rng.int(0, 200), i)));
  }
  const roll = rng();
  if (roll < 0.25)
    parts.push(encodeHeader(rng.int(0, 100), rng.pick([0xffffffff, 0x80000000, 16 * 1024 * 1024 + 1]), 1));
  else if (roll < 0.5) {
    const garbage = Buffer.alloc(rng.int(1, 64));
    for (let i = 0; i < garbage.length; i++) garbage[i] = rng.int(0, 255);
    parts.push(garbage);
  } else if (roll < 0.75) {
    parts.push(encodeHeader(rng.int(0, 100), rng.int(1, 5000), rng.int(0, 100)).subarray(0, rng.int(1, 12)));
  }
  return Buffer.concat(parts);
}

describe('the server under hostile clients (seeded fuzz)', () => {
  it('never crashes, drops only the offenders, and keeps serving a well-behaved client', async () => {
    const rng = createRng(0x5e7e7);
    const server = await startTestServer();
    const errors: string[] = [];
    server.on('error', (error: Error & { code?: string }) => errors.push(error.code ?? 'none'));
    const client = new IProto({ servers: server.address, timeout: 5000 });
    try {
      for (let round = 0; round < 30; round++) {
        // Ten hostile connections at once, each writing its bytes in random pieces, then leaving
        // (half by closing, half by resetting).
        const sockets: Socket[] = [];
        for (let i = 0; i < 10; i++) {
          const socket = connect(server.port, server.host);
          socket.on('error', () => {});
          socket.on('data', () => {});
          sockets.push(socket);
        }
        await Promise.all(sockets.map((socket) => once(socket, 'connect')));
        for (const socket of sockets) {
          const bytes = hostileBytes(rng);
          for (let pos = 0; pos < bytes.length; ) {
            const size = rng.int(1, bytes.length - pos);
            socket.write(bytes.subarray(pos, pos + size));
            pos += size;
          }
        }
        // The honest client is answered in the middle of it.
        await expect(client.send({ msg: 7, data: [round], unpack: 'L' })).resolves.toEqual([round]);
        for (const socket of sockets) {
          if (rng() < 0.5) socket.end();
          else socket.resetAndDestroy();
        }
        await Promise.all(sockets.map((socket) => (socket.closed ? undefined : once(socket, 'close'))));
      }
      // Only the honest client's connection is left once the hostile ones are gone.
      const deadline = Date.now() + 10_000;
      while (server.connections.size > 1 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect(server.connections.size).toBe(1);
      // Oversized announcements were refused as such (ERR_FRAME_TOO_LARGE), nothing undocumented.
      expect(errors).toContain('ERR_FRAME_TOO_LARGE');
      for (const code of errors) expect(['ERR_FRAME_TOO_LARGE', 'ECONNRESET', 'EPIPE']).toContain(code);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
