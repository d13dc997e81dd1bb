import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { bareLoop } from '../lib/bare-loop.mjs';
import { findCompiler, startEchoServer } from '../lib/echo-server.mjs';
import { PromiseFloor } from '../lib/promise-floor.mjs';

function frame(msg, sync, body) {
  const header = Buffer.alloc(12);
  header.writeUInt32LE(msg, 0);
  header.writeUInt32LE(body.length, 4);
  header.writeUInt32LE(sync, 8);
  return Buffer.concat([header, body]);
}

/** Writes `bytes` in pieces of the given sizes, one per tick, and resolves with all that comes back. */
async function echo(server, bytes, pieces) {
  const socket = net.connect({ host: server.host, port: server.port });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const received = [];
  let length = 0;
  const done = new Promise((resolve, reject) => {
    socket.on('data', (chunk) => {
      received.push(chunk);
      length += chunk.length;
      if (length >= bytes.length) resolve();
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed after ${length} of ${bytes.length} bytes`)));
  });
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = pieces[i % pieces.length];
    socket.write(bytes.subarray(at, at + size));
    at += size;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await done;
  socket.removeAllListeners('close');
  socket.destroy();
  return Buffer.concat(received);
}

describe('echo server', () => {
  let server;
  before(async () => {
    server = await startEchoServer();
  });
  after(async () => {
    await server.close();
  });

  it('is the native one whenever a C compiler is there', () => {
    assert.equal(server.kind, findCompiler() ? 'native' : '@iproto/server');
  });

  it('echoes pipelined frames byte for byte, whatever the chunking', async () => {
    const frames = Buffer.concat([
      frame(17, 1, Buffer.from([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0])),
      frame(0xff00, 2, Buffer.alloc(0)),
      frame(13, 0xffffffff, Buffer.from('a body of some length')),
      frame(99, 4, Buffer.alloc(100_000, 7)),
      frame(17, 5, Buffer.from([9])),
    ]);
    for (const pieces of [[1], [5, 7, 11], [12], [frames.length], [4096, 1, 65536]]) {
      const back = await echo(server, frames, pieces);
      assert.ok(back.equals(frames), `echo differs when written in pieces of ${pieces.join(',')}`);
    }
  });

  it('answers several connections at once', async () => {
    const a = Buffer.concat(Array.from({ length: 500 }, (_, i) => frame(1, i, Buffer.alloc(i % 40, i))));
    const b = Buffer.concat(
      Array.from({ length: 500 }, (_, i) => frame(2, i, Buffer.alloc(40 - (i % 40), i))),
    );
    const [backA, backB] = await Promise.all([echo(server, a, [777]), echo(server, b, [1000, 3])]);
    assert.ok(backA.equals(a));
    assert.ok(backB.equals(b));
  });

  it('holds replies back while the peer does not read, and loses none', async () => {
    // 16 MiB of frames against a paused reader: the server's writes hit EAGAIN and it must stop
    // reading, then finish once the reader resumes.
    const one = frame(5, 1, Buffer.alloc(4096 - 12, 1));
    const bytes = Buffer.concat(Array.from({ length: 4096 }, () => one));
    const socket = net.connect({ host: server.host, port: server.port });
    socket.pause();
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(bytes);
    await new Promise((resolve) => setTimeout(resolve, 300));
    let length = 0;
    let same = true;
    await new Promise((resolve, reject) => {
      socket.on('data', (chunk) => {
        same &&= chunk.equals(bytes.subarray(length, length + chunk.length));
        length += chunk.length;
        if (length >= bytes.length) resolve();
      });
      socket.on('error', reject);
      socket.resume();
    });
    socket.destroy();
    assert.equal(length, bytes.length);
    assert.ok(same, 'echoed bytes differ');
  });

  it('keeps a bare loop going at depth', async () => {
    const result = await bareLoop({
      host: server.host,
      port: server.port,
      depth: 8,
      durationMs: 100,
      warmupMs: 20,
    });
    assert.ok(result.requests > 0, 'no request completed');
    assert.ok(result.seconds > 0);
    assert.equal(result.rps, result.requests / result.seconds);
  });

  it('answers each Promise floor request with its own reply, past the size of its first ring', async () => {
    const floor = await PromiseFloor.connect({ host: server.host, port: server.port });
    try {
      // 3000 at once: the settler ring (1024) doubles twice while all are in flight.
      const replies = await Promise.all(
        Array.from({ length: 3000 }, (_, i) => floor.send({ msg: 17, data: [i, i + 1, i * 2] })),
      );
      for (const [i, reply] of replies.entries()) assert.deepEqual(reply, [i, i + 1, i * 2]);
    } finally {
      floor.close();
    }
  });
});

describe('echo server fallback (@iproto/server)', () => {
  let server;
  before(async () => {
    server = await startEchoServer({ prefer: 'node' });
  });
  after(async () => {
    await server.close();
  });

  it('runs @iproto/server in its own process and echoes frames', async () => {
    assert.equal(server.kind, '@iproto/server');
    assert.notEqual(server.pid, process.pid);
    const frames = Buffer.concat([
      frame(17, 1, Buffer.from([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0])),
      frame(13, 2, Buffer.alloc(70_000, 3)),
    ]);
    for (const pieces of [[7], [frames.length]]) {
      const back = await echo(server, frames, pieces);
      assert.ok(back.equals(frames), `echo differs when written in pieces of ${pieces.join(',')}`);
    }
  });
});
