import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { startTestServer, type TestServer } from '@iproto/server/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EARLY_WRITE_BYTES } from '../src/batch-writer.js';
import { Connection } from '../src/connection.js';
import { IProtoError, isIProtoError } from '../src/errors.js';
import {
  duplexPair,
  expectNoLeaks,
  Ledger,
  listenUnixEcho,
  rejection,
  resources,
  serveEcho,
  until,
  watchTimers,
} from './support/test-support.js';

const text = (body: Uint8Array): string => Buffer.from(body).toString();

// A self-signed P-256 key and certificate made for this test only (openssl req -x509 -newkey ec).
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgRmXA8XFkviN57PCQ
ELmgksFqSii1w11UJw+qGAayMVKhRANCAAQTwbhxz8MmTEkFj2Mh3YU+zLQb3RRa
nTeUvhRaTgoe1XMc1y6EwwJ/NdklhvMT3Xjxu1E8vX1jDvOTX8H7oIVL
-----END PRIVATE KEY-----`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUFHD1NjgJmSgRzzS8+GXP0xO99ekwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNTEwMTMxMFoYDzIxMjYxMTAx
MTAxMzEwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQTwbhxz8MmTEkFj2Mh3YU+zLQb3RRanTeUvhRaTgoe1XMc1y6EwwJ/
NdklhvMT3Xjxu1E8vX1jDvOTX8H7oIVLo1MwUTAdBgNVHQ4EFgQUsLkJCJh/QJeU
xjaKwq87jFX3Ap8wHwYDVR0jBBgwFoAUsLkJCJh/QJeUxjaKwq87jFX3Ap8wDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiA2nogZObYMdqt8WbJ8zX9j
v2blDqp6l5IswwTNPcbrxgIhAOczBwQk99Q+LVD4u6V5og+13tLmUmd4SaORbyUY
ApW4
-----END CERTIFICATE-----`;

let before: Record<string, number>;
let timers: ReturnType<typeof watchTimers>;
let ledger: Ledger;
let server: TestServer;

beforeEach(async () => {
  before = resources();
  timers = watchTimers();
  ledger = new Ledger();
  server = await startTestServer();
});

afterEach(async () => {
  await ledger.check();
  await ledger.closeAll();
  await server.close();
  await expectNoLeaks(before, timers);
});

describe('sending', () => {
  it('connects lazily on the first send and resolves to the reply frame', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port });
    expect(connection.connected).toBe(false);
    expect(server.connections.size).toBe(0);
    const reply = await ledger.track(connection.send(13, Buffer.from('hello')));
    expect(reply.msg).toBe(13);
    expect(text(reply.body)).toBe('hello');
    expect(reply.sync).toBeGreaterThan(0);
    expect(connection.connected).toBe(true);
    expect(connection.address).toBe(server.address);
  });

  it('accepts the single-object form of the design', async () => {
    const connection = new Connection({
      host: server.host,
      port: server.port,
      timeout: 1234,
      maxParallel: 3,
    });
    expect(connection.timeout).toBe(1234);
    connection.timeout = undefined;
    expect(connection.timeout).toBe(2000);
    connection.timeout = 1234;
    // Issue 12: option errors carry the stable code ERR_INVALID_OPTION (they were bare RangeErrors).
    expect(() => {
      connection.timeout = -1;
    }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(connection.maxParallel).toBe(3);
    expect(connection.connectTimeout).toBe(2000);
    expect(connection.maxQueue).toBe(10_000);
    expect(text((await ledger.track(connection.send(1))).body)).toBe('');
    await connection.close();
  });

  it('connect() opens the socket ahead of the first send and emits connect', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port });
    let connects = 0;
    connection.on('connect', () => connects++);
    await connection.connect();
    expect(connection.connected).toBe(true);
    await connection.connect();
    expect(connects).toBe(1);
    await until(() => server.connections.size === 1, 'the server to accept');
  });

  it('pipelines up to maxParallel requests, queues the rest in order, each reply to its request', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { maxParallel: 4 });
    let peak = 0;
    server.on('request', () => {
      peak = Math.max(peak, connection.inFlight);
    });
    const order: number[] = [];
    server.on('request', (frame) => order.push(frame.msg));
    const requests = Array.from({ length: 50 }, (_, i) =>
      ledger.track(connection.send(i, Buffer.from(`body ${i}`))),
    );
    expect(connection.inFlight).toBe(4);
    expect(connection.queued).toBe(46);
    const replies = await Promise.all(requests);
    replies.forEach((reply, i) => {
      expect(reply.msg).toBe(i);
      expect(text(reply.body)).toBe(`body ${i}`);
    });
    expect(peak).toBeLessThanOrEqual(4);
    expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(new Set(replies.map((r) => r.sync)).size).toBe(50);
  });

  it("writes a tick's batch once it reaches EARLY_WRITE_BYTES, a short one at the end of the tick", async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { maxParallel: 1000 });
    await connection.connect();
    const frame = 12 + 12;
    const body = (i: number) => Buffer.from(String(i).padStart(12, '0'));
    // A short burst waits for the end of the tick: every byte is still ours.
    const short = Array.from({ length: 10 }, (_, i) => ledger.track(connection.send(7, body(i))));
    expect(connection.bufferedBytes).toBe(10 * frame);
    await Promise.all(short);
    // A long one goes out in pieces as it grows: only what came after the last piece is held.
    const count = Math.ceil((3 * EARLY_WRITE_BYTES) / frame);
    const long = Array.from({ length: count }, (_, i) => ledger.track(connection.send(8, body(i))));
    expect(connection.bufferedBytes).toBeLessThan(EARLY_WRITE_BYTES);
    const replies = await Promise.all(long);
    expect(replies.map((reply) => text(reply.body))).toEqual(replies.map((_, i) => text(body(i))));
  });

  it('syncs count up from 1 on each connection object, one per request', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port });
    server.faults.add({ type: 'delay', ms: 100 }, { times: 1, msg: 1 });
    const slow = ledger.track(connection.send(1));
    const first = await ledger.track(connection.send(2));
    expect((await slow).sync).toBe(1);
    expect(first.sync).toBe(2);
  });

  it('skips a sync whose slot is held by a request still in flight', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port });
    server.faults.add({ type: 'delay', ms: 60_000 }, { times: 1, msg: 1 });
    const lingering = ledger.track(connection.send(1, undefined, { timeout: 0 }));
    // Syncs 2..64 come and go; 65 shares its slot (65 & 63) with the lingering sync 1.
    for (let i = 2; i <= 64; i++) expect((await ledger.track(connection.send(2))).sync).toBe(i);
    expect((await ledger.track(connection.send(2))).sync).toBe(66);
    connection.destroy();
    expect(await rejection(lingering)).toMatchObject({ code: 'ERR_DESTROYED', sync: undefined });
  });

  it('resolves a noReply request once written, with no reply expected', async () => {
    server.route(77, () => undefined);
    const finished: unknown[][] = [];
    const connection = ledger.connection(
      { host: server.host, port: server.port },
      { recvFinished: (...args) => finished.push(args) },
    );
    const result = await ledger.track(connection.send(77, Buffer.from('fire'), { noReply: true }));
    expect(result).toBeUndefined();
    expect(connection.inFlight).toBe(0);
    expect(finished).toEqual([[expect.any(Number), undefined, undefined, undefined]]);
    await until(() => server.requests === 1, 'the server to read it');
  });

  it('keeps queue order when many queued requests are aborted (the ring is compacted)', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { maxParallel: 1 });
    server.faults.add({ type: 'delay', ms: 50 }, { times: 1, msg: 0 });
    const order: number[] = [];
    server.on('request', (frame) => order.push(frame.msg));
    const first = ledger.track(connection.send(0));
    const controllers = Array.from({ length: 200 }, () => new AbortController());
    const queued = controllers.map((c, i) =>
      ledger.track(connection.send(i + 1, undefined, { signal: c.signal })),
    );
    controllers.forEach((c, i) => {
      if (i % 4 !== 0) c.abort();
    });
    expect(connection.queued).toBe(50);
    await first;
    const kept = queued.filter((_, i) => i % 4 === 0);
    expect((await Promise.all(kept)).map((r) => r.msg)).toEqual(
      Array.from({ length: 50 }, (_, k) => 4 * k + 1),
    );
    for (const [i, request] of queued.entries()) {
      if (i % 4 !== 0) expect(await rejection(request)).toMatchObject({ name: 'AbortError' });
    }
    expect(order).toEqual([0, ...Array.from({ length: 50 }, (_, k) => 4 * k + 1)]);
  });

  it('rejects at once with ERR_QUEUE_FULL past maxQueue', async () => {
    const connection = ledger.connection(
      { host: server.host, port: server.port },
      { maxParallel: 1, maxQueue: 2 },
    );
    const ok = [1, 2, 3].map((i) => ledger.track(connection.send(i)));
    const error = await rejection(ledger.track(connection.send(4)));
    expect(error).toMatchObject({ code: 'ERR_QUEUE_FULL', msg: 4, address: server.address });
    await Promise.all(ok);
  });

  it('a deadline covers queue time: a queued request times out without being sent', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { maxParallel: 1 });
    server.faults.add({ type: 'delay', ms: 1000 }, { times: 1 });
    const timeouts: unknown[] = [];
    connection.on('timeout', (info) => timeouts.push(info));
    const first = ledger.track(connection.send(1));
    const error = await rejection(ledger.track(connection.send(2, undefined, { timeout: 30 })));
    expect(error).toMatchObject({ code: 'ETIMEDOUT', msg: 2, sync: undefined, errno: 110 });
    expect(error.message).toBe(
      `${server.address}: request timed out after 30 ms waiting in the queue, msg 2`,
    );
    expect(timeouts).toEqual([{ msg: 2, sync: undefined }]);
    expect(connection.queued).toBe(0);
    await first;
    expect(server.requests).toBe(1);
  });

  it('keeps deadlines of different lengths apart: a short one behind a long one still fires first', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { timeout: 10_000 });
    server.faults.add({ type: 'drop' }, { msg: 9 });
    await connection.connect();
    const long = ledger.track(connection.send(9, undefined, { timeout: 5_000 }));
    const short = ledger.track(connection.send(9, undefined, { timeout: 40 }));
    expect(await rejection(short)).toMatchObject({ code: 'ETIMEDOUT' });
    let longSettled = false;
    long.catch(() => {}).finally(() => (longSettled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(longSettled).toBe(false);
    connection.destroy();
    expect(await rejection(long)).toMatchObject({ code: 'ERR_DESTROYED' });
  });

  it('does not wake up for every tick of a burst once its requests are done', async () => {
    const connection = ledger.connection(
      { host: server.host, port: server.port },
      { timeout: 1000, maxParallel: 17 },
    );
    await connection.connect();
    server.faults.add({ type: 'delay', ms: 100 }, { times: 1, msg: 2 });
    const before = timers.created();
    const started = Date.now();
    // One slow request holds the oldest deadline while a burst of ticks each get one of their own.
    const slow = ledger.track(connection.send(2));
    const loop = async (): Promise<void> => {
      while (Date.now() - started < 80) await ledger.track(connection.send(1));
    };
    await Promise.all(Array.from({ length: 16 }, loop));
    await slow;
    // Past every deadline of the burst: a timer per emptied tick would show here.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(timers.created() - before).toBeLessThan(5);
  });

  it('rejects a bad msg code or body at once', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port });
    await expect(connection.send(-1)).rejects.toThrow(RangeError);
    await expect(connection.send(2 ** 32)).rejects.toThrow(RangeError);
    await expect(connection.send(1, 'text' as unknown as Uint8Array)).rejects.toThrow(TypeError);
    await expect(connection.send(1, undefined, { timeout: -1 })).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    );
  });
});

describe('sendTo (a handler instead of a promise)', () => {
  /** Records what a ReplyHandler is told, and whether it was told inside the sendTo call. */
  const recorder = () => {
    const outcomes: string[] = [];
    let inCall = false;
    let settled: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      settled = resolve;
    });
    const handler = {
      onReply(frame: { msg: number; sync: number; body: Uint8Array } | undefined) {
        outcomes.push(
          frame === undefined
            ? `written${inCall ? ' (sync!)' : ''}`
            : `reply ${frame.msg} ${text(frame.body)}${inCall ? ' (sync!)' : ''}`,
        );
        settled();
      },
      onError(error: Error) {
        outcomes.push(`error ${(error as IProtoError).code ?? error.name}${inCall ? ' (sync!)' : ''}`);
        settled();
      },
    };
    const call = (fn: () => void) => {
      inCall = true;
      fn();
      inCall = false;
    };
    return { outcomes, handler, call, done };
  };

  it('hands the reply frame to onReply, once, after the read is decoded', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port });
    const runs = Array.from({ length: 20 }, () => recorder());
    runs.forEach((run, i) => {
      run.call(() => connection.sendTo(7, Buffer.from(`m${i}`), undefined, run.handler));
    });
    await Promise.all(runs.map((run) => run.done));
    expect(runs.map((run) => run.outcomes)).toEqual(runs.map((_, i) => [`reply 7 m${i}`]));
    expect(connection.inFlight).toBe(0);
  });

  it('hands a reply to onReplyBytes as a range of the read when the handler has it, and a noReply write to onReply', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port });
    server.route(20, () => undefined);
    const seen: string[] = [];
    let finish: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const handler = {
      onReply(frame: unknown) {
        seen.push(`onReply ${frame === undefined ? 'written' : 'frame'}`);
        if (seen.length === 11) finish();
      },
      onError(error: Error) {
        seen.push(`error ${error.message}`);
        finish();
      },
      onReplyBytes(msg: number, sync: number, bytes: Uint8Array, start: number, end: number) {
        const body = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString();
        // The range lies inside the read: the header before it is this very reply's.
        const header = Buffer.from(bytes.buffer, bytes.byteOffset + start - 12, 12);
        seen.push(`${msg} ${body} ${header.readUInt32LE(8) === sync}`);
        if (seen.length === 11) finish();
      },
    };
    for (let i = 0; i < 10; i++) connection.sendTo(7, Buffer.from(`m${i}`), undefined, handler);
    connection.sendTo(20, Buffer.from('x'), { noReply: true }, handler);
    await done;
    expect(seen.sort()).toEqual(
      [...Array.from({ length: 10 }, (_, i) => `7 m${i} true`), 'onReply written'].sort(),
    );
  });

  it('reports a noReply write, a bad argument, a closed connection and a timeout to the handler, never synchronously', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { timeout: 300 });
    server.route(20, () => undefined);
    const written = recorder();
    written.call(() => connection.sendTo(20, Buffer.from('x'), { noReply: true }, written.handler));
    const bad = recorder();
    bad.call(() => connection.sendTo(-1, undefined, undefined, bad.handler));
    server.faults.add({ type: 'drop' }, { msg: 9 });
    const late = recorder();
    late.call(() => connection.sendTo(9, undefined, { timeout: 50 }, late.handler));
    await Promise.all([written.done, bad.done, late.done]);
    expect(written.outcomes).toEqual(['written']);
    expect(bad.outcomes).toEqual(['error RangeError']);
    expect(late.outcomes).toEqual(['error ETIMEDOUT']);
    await connection.close();
    const closed = recorder();
    closed.call(() => connection.sendTo(1, undefined, undefined, closed.handler));
    await closed.done;
    expect(closed.outcomes).toEqual(['error ERR_CONNECTION_CLOSED']);
  });

  it('settles handler and promise requests alike when the connection fails', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port });
    server.faults.add({ type: 'close' }, { msg: 3 });
    const run = recorder();
    run.call(() => connection.sendTo(3, undefined, undefined, run.handler));
    const viaPromise = rejection(connection.send(3));
    await run.done;
    expect(run.outcomes).toHaveLength(1);
    expect(run.outcomes[0]).toMatch(/^error E/);
    expect(isIProtoError(await viaPromise)).toBe(true);
  });
});

describe('closing', () => {
  it('close() refuses new sends, lets those in flight and queued finish, then closes', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { maxParallel: 2 });
    server.faults.add({ type: 'delay', ms: 50 }, { times: 3 });
    const closes: unknown[] = [];
    connection.on('close', (error) => closes.push(error));
    const requests = [1, 2, 3].map((i) => ledger.track(connection.send(i)));
    const closing = connection.close();
    const refused = await rejection(ledger.track(connection.send(4)));
    expect(refused).toMatchObject({ code: 'ERR_CONNECTION_CLOSED', address: server.address });
    expect((await Promise.all(requests)).map((r) => r.msg)).toEqual([1, 2, 3]);
    await closing;
    expect(connection.connected).toBe(false);
    expect(closes).toEqual([undefined]);
    await until(() => server.connections.size === 0, 'the server to see the close');
    await expect(connection.connect()).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
  });

  it('close() while connecting rejects the connect() waiting for it', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port });
    const connecting = expect(connection.connect()).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    await connection.close();
    await connecting;
    expect(connection.connected).toBe(false);
  });

  it('close() of a connection never opened resolves at once', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port });
    await connection.close();
    await connection.close();
  });

  it('destroy() rejects everything now, with ERR_DESTROYED or the given error', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { maxParallel: 1 });
    server.faults.add({ type: 'drop' });
    const sent = ledger.track(connection.send(1));
    const queued = ledger.track(connection.send(2));
    await until(() => server.requests === 1, 'the first request to arrive');
    connection.destroy();
    expect(await rejection(sent)).toMatchObject({ code: 'ERR_DESTROYED' });
    expect(await rejection(queued)).toMatchObject({ code: 'ERR_DESTROYED' });
    expect(await rejection(ledger.track(connection.send(3)))).toMatchObject({
      code: 'ERR_CONNECTION_CLOSED',
    });

    const other = ledger.connection({ host: server.host, port: server.port });
    const request = ledger.track(other.send(1));
    const reason = new Error('shutting down');
    other.destroy(reason);
    expect(await rejection(request)).toBe(reason);
  });

  it('Connection.disconnectAll() drops every live socket; each connection reconnects on its next send', async () => {
    const a = ledger.connection({ host: server.host, port: server.port });
    const b = ledger.connection({ host: server.host, port: server.port });
    const idle = ledger.connection({ host: server.host, port: server.port });
    await Promise.all([ledger.track(a.send(1)), ledger.track(b.send(1))]);
    const closes: unknown[] = [];
    a.on('close', (error) => closes.push(error));
    Connection.disconnectAll();
    expect(a.connected).toBe(false);
    expect(b.connected).toBe(false);
    expect(closes).toEqual([undefined]);
    await until(() => server.connections.size === 0, 'the server to see both close');
    expect(text((await ledger.track(a.send(2, Buffer.from('again')))).body)).toBe('again');
    expect(idle.connected).toBe(false);
  });
});

describe('events, hooks, debug', () => {
  it('emits error only when listened to, and close with the error', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port });
    server.faults.add({ type: 'close' }, { times: 2 });
    // No error listener: the failure must not throw.
    expect(await rejection(ledger.track(connection.send(1)))).toMatchObject({ code: 'ECONNCLOSED' });
    const errors: Error[] = [];
    const closes: unknown[] = [];
    connection.on('error', (error) => errors.push(error));
    connection.on('close', (error) => closes.push(error));
    const error = await rejection(ledger.track(connection.send(1)));
    expect(errors).toEqual([error]);
    expect(closes).toEqual([error]);
  });

  it('calls sendStarted and recvFinished with the sync, msg and bodies', async () => {
    const calls: unknown[][] = [];
    const connection = ledger.connection(
      { host: server.host, port: server.port },
      {
        sendStarted: (sync, msg, body) => calls.push(['sendStarted', sync, msg, text(body)]),
        recvFinished: (sync, msg, body, error) =>
          calls.push(['recvFinished', sync, msg, body && text(body), error?.message]),
      },
    );
    const reply = await ledger.track(connection.send(3, Buffer.from('abc')));
    expect(calls).toEqual([
      ['sendStarted', reply.sync, 3, 'abc'],
      ['recvFinished', reply.sync, 3, 'abc', undefined],
    ]);
  });

  it('writes the Perl debug lines for each level, with dumps and dump_no_ints', async () => {
    const lines: string[] = [];
    const connection = ledger.connection(
      { host: server.host, port: server.port },
      { debug: 6, debugCb: (line) => lines.push(line) },
    );
    const reply = await ledger.track(connection.send(1, Buffer.from([1, 0, 0, 0, 0xff])));
    await connection.close();
    const a = server.address;
    const s = reply.sync;
    const sx = Buffer.alloc(4);
    sx.writeUInt32LE(s);
    const hex = [...sx].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    expect(lines).toEqual([
      `${a}: connecting`,
      // As in Perl, a request is framed (and dumped) at once and goes out when the socket connects.
      `${a}: send header: 1 5 ${s} > 01 00 00 00 05 00 00 00 ${hex}`,
      `${a}: send payload: 1 > 01 00 00 00 ff`,
      `${a}: connected`,
      `${a}: recv header: 1 5 ${s} > 01 00 00 00 05 00 00 00 ${hex}`,
      `${a}: recv payload: 1 > 01 00 00 00 ff`,
      `${a}: closing socket`,
    ]);

    const quiet: string[] = [];
    const levelOne = ledger.connection(
      { host: server.host, port: server.port },
      { debug: 1, dumpNoInts: true, debugCb: (line) => quiet.push(line) },
    );
    await ledger.track(levelOne.send(1));
    await levelOne.close();
    expect(quiet).toEqual([`${a}: connected`, `${a}: closing socket`]);

    const noInts: string[] = [];
    const five = ledger.connection(
      { host: server.host, port: server.port },
      { debug: 5, dumpNoInts: true, debugCb: (line) => noInts.push(line) },
    );
    await ledger.track(five.send(2, Buffer.from([0xab])));
    expect(noInts.filter((l) => l.includes('payload'))).toEqual([`${a}: send payload: ab`]);
  });

  it('logs connection errors to debugCb even at level 0 (Perl logs them always)', async () => {
    const lines: string[] = [];
    const connection = ledger.connection(
      { host: server.host, port: server.port },
      { debugCb: (line) => lines.push(line) },
    );
    server.faults.add({ type: 'wrongSync', sync: 5 }, { times: 1 });
    await rejection(ledger.track(connection.send(1)));
    expect(lines).toEqual([`${server.address}: fatal error: reply sync 5 not found (msg 1)`]);
    // The read timeout is the one error AnyEvent::Handle does not call fatal.
    lines.length = 0;
    connection.timeout = 50;
    server.faults.add({ type: 'drop' }, { times: 1 });
    const timedOut = await rejection(ledger.track(connection.send(1)));
    expect(lines).toEqual([
      `${server.address}: error: read timed out: nothing received for 50 ms while msg 1 sync ${timedOut.sync} waited; socket retired`,
    ]);
  });

  it('publishes on the iproto:connection:* diagnostics channels', async () => {
    const seen: string[] = [];
    const names = ['connecting', 'connect', 'send', 'reply', 'close', 'error', 'timeout'];
    const handlers = names.map((name) => {
      const handler = (message: any): void => {
        if (message.connection === connection)
          seen.push(`${name}${message.sync === undefined ? '' : ` ${message.msg}`}`);
      };
      subscribe(`iproto:connection:${name}`, handler);
      return handler;
    });
    const connection = ledger.connection({ host: server.host, port: server.port });
    try {
      await ledger.track(connection.send(21));
      server.faults.add({ type: 'close' }, { times: 1 });
      await rejection(ledger.track(connection.send(22)));
    } finally {
      for (const [i, name] of names.entries()) unsubscribe(`iproto:connection:${name}`, handlers[i]);
    }
    expect(seen).toEqual([
      'connecting',
      'send 21',
      'connect',
      'reply 21',
      'send 22',
      // Issue 12: the failure is published as the socket fails, before its requests are rejected.
      'error',
      'reply 22',
      'close',
    ]);
  });

  it('sets TCP_NODELAY and SO_KEEPALIVE as configured', async () => {
    const calls: unknown[][] = [];
    const spy = (socket: Socket): Socket => {
      const setNoDelay = socket.setNoDelay.bind(socket);
      const setKeepAlive = socket.setKeepAlive.bind(socket);
      socket.setNoDelay = (on?: boolean) => {
        calls.push(['noDelay', on]);
        return setNoDelay(on);
      };
      socket.setKeepAlive = (on?: boolean, delay?: number) => {
        calls.push(['keepAlive', on, delay]);
        return setKeepAlive(on, delay);
      };
      return socket;
    };
    const connect = () => spy(netConnect({ host: server.host, port: server.port }));
    const defaults = ledger.connection({ connect });
    await ledger.track(defaults.send(1));
    const custom = ledger.connection(
      { connect },
      { tcpNoDelay: false, tcpKeepAlive: true, keepAliveInitialDelay: 5000 },
    );
    await ledger.track(custom.send(1));
    expect(calls).toEqual([
      ['noDelay', true],
      ['keepAlive', false, 0],
      ['noDelay', false],
      ['keepAlive', true, 5000],
    ]);
  });
});

describe('transports', () => {
  it('talks over a unix socket', async () => {
    const path = join(tmpdir(), `iproto-connection-${process.pid}-${Date.now()}.sock`);
    const unix = await listenUnixEcho(path);
    try {
      const connection = ledger.connection({ path });
      expect(connection.address).toBe(path);
      const replies = await Promise.all(
        [1, 2, 3].map((i) => ledger.track(connection.send(i, Buffer.from(`u${i}`)))),
      );
      expect(replies.map((r) => text(r.body))).toEqual(['u1', 'u2', 'u3']);
      await connection.close();
    } finally {
      await new Promise((resolve) => unix.close(resolve));
      rmSync(path, { force: true });
    }
  });

  it('talks over a custom Duplex (an in-memory pair), reconnecting through connect() after a failure', async () => {
    const peers: ReturnType<typeof duplexPair>[1][] = [];
    const connection = ledger.connection({
      address: 'memory',
      connect: () => {
        const [ours, theirs] = duplexPair();
        serveEcho(theirs);
        peers.push(theirs);
        return ours;
      },
    });
    expect(connection.address).toBe('memory');
    expect(text((await ledger.track(connection.send(1, Buffer.from('in memory')))).body)).toBe('in memory');
    peers[0].end();
    const closed = new Promise((resolve) => connection.once('close', resolve));
    expect(await closed).toMatchObject({ code: 'ECONNCLOSED', address: 'memory' });
    expect(text((await ledger.track(connection.send(2, Buffer.from('again')))).body)).toBe('again');
    expect(peers).toHaveLength(2);
    await connection.close();
  });

  it('talks TLS through connect(), starting once the handshake is done', async () => {
    const tlsServer = createTlsServer({ key: TEST_KEY, cert: TEST_CERT }, (socket) => serveEcho(socket));
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    const { port } = tlsServer.address() as { port: number };
    try {
      let secured = false;
      const connection = ledger.connection({
        address: `tls:${port}`,
        connect: () => {
          // A throwaway self-signed certificate: the handshake is what matters here, not trust.
          const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
          socket.once('secureConnect', () => (secured = true));
          return socket;
        },
      });
      const events: string[] = [];
      // 'connect' comes after the handshake, not after the TCP connect under it.
      connection.on('connect', () => events.push(`connect, secured: ${secured}`));
      const reply = await ledger.track(connection.send(5, Buffer.from('secret')));
      expect(text(reply.body)).toBe('secret');
      expect(events).toEqual(['connect, secured: true']);
      await connection.close();
    } finally {
      await new Promise((resolve) => tlsServer.close(resolve));
    }
  });

  it('a connect() that throws rejects the requests with the error as cause', async () => {
    const connection = ledger.connection({
      connect: () => {
        throw Object.assign(new Error('no route'), { code: 'EHOSTUNREACH' });
      },
    });
    const closes: unknown[] = [];
    connection.on('close', (error) => closes.push(error));
    const both = [ledger.track(connection.send(1)), ledger.track(connection.send(2))];
    const error = await rejection(both[0]);
    expect(error).toMatchObject({ code: 'EHOSTUNREACH', address: 'stream', errno: 113 });
    expect(error.cause.message).toBe('no route');
    expect(await rejection(both[1])).toBe(error);
    expect(closes).toEqual([error]);
  });
});

describe('reconnecting', () => {
  it('frames queued for a connect() that threw are not written on the next connection', async () => {
    let attempts = 0;
    const connection = ledger.connection({
      connect: () => {
        if (attempts++ === 0) throw Object.assign(new Error('not yet'), { code: 'ECONNREFUSED' });
        return netConnect({ host: server.host, port: server.port });
      },
    });
    expect(await rejection(ledger.track(connection.send(1, Buffer.from('lost'))))).toMatchObject({
      code: 'ECONNREFUSED',
    });
    const reply = await ledger.track(connection.send(2, Buffer.from('kept')));
    expect(text(reply.body)).toBe('kept');
    expect(server.requests).toBe(1);
  });
});

describe('IProtoError', () => {
  it('is branded so that isIProtoError works across copies', () => {
    const error = new IProtoError('ETIMEDOUT', 'x', { errno: 110, address: 'a:1', msg: 1, sync: 2 });
    expect(error.name).toBe('IProtoError');
    expect(isIProtoError(error)).toBe(true);
    expect(isIProtoError(new Error('x'))).toBe(false);
    expect(isIProtoError(null)).toBe(false);
    const foreign = Object.create({ [Symbol.for('iproto.error')]: true });
    expect(isIProtoError(foreign)).toBe(true);
  });

  it('instanceof recognises an IProtoError of another loaded copy, and subclasses still test by class', () => {
    // What another copy of the package (its CommonJS build beside this ESM one) makes: same brand,
    // same name, another class.
    class OtherCopy extends Error {
      override readonly name = 'IProtoError';
      readonly code = 'ECONNRESET';
    }
    Object.defineProperty(OtherCopy.prototype, Symbol.for('iproto.error'), { value: true });
    expect(new OtherCopy('x')).toBeInstanceOf(IProtoError);
    class Branded extends Error {}
    Object.defineProperty(Branded.prototype, Symbol.for('iproto.error'), { value: true });
    // Another iproto error class (a FrameError, a PackError) is branded but is not an IProtoError.
    expect(new Branded('x') instanceof IProtoError).toBe(false);
    expect(new Error('x') instanceof IProtoError).toBe(false);
    class Special extends IProtoError {}
    expect(new Special('ETIMEDOUT', 'x')).toBeInstanceOf(IProtoError);
    expect(new IProtoError('ETIMEDOUT', 'x') instanceof Special).toBe(false);
    expect(new OtherCopy('x') instanceof Special).toBe(false);
  });
});
