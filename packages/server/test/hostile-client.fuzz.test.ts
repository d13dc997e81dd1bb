import { connect, type Socket } from 'node:net';
import type { Frame } from '@iproto/framing';
import { expect, test } from 'vitest';
import { IProtoServer, type IProtoServerOptions } from '../src/iproto-server.js';
import type { ServerError } from '../src/server-error.js';
import type { ServerLimits } from '../src/server-options.js';
import { createRng, frame, RawClient, type Rng, sleep, waitFor } from './support/test-support.js';

// Seeded hostile clients against a real IProtoServer on 127.0.0.1: garbage, headers cut anywhere,
// huge and limit +/- 1 lengths, slow dribbles, pipelines that never read, resets, floods, idlers,
// half-closes, all at once, against a server whose limits are drawn per run. Each run checks that
// the process survives, that an honest client is answered throughout (and how fast), that the
// server is back to that one client afterwards, that every error has a documented code, and that
// memory stays bounded. IPROTO_FUZZ_SCALE=50 (`pnpm fuzz`) runs 50 times as many seeds;
// IPROTO_FUZZ_SEED picks the first one, to replay a failure.

const SCALE = Number(process.env.IPROTO_FUZZ_SCALE ?? 1);
const FIRST_SEED = Number(process.env.IPROTO_FUZZ_SEED ?? 1);
const RUNS = Math.max(1, Math.round(3 * SCALE));
const MiB = 1024 * 1024;
/** How long the hostile clients of one run go on. */
const RUN_MS = 1200;
/** The honest client's requests: msg 0x100 is echoed at once whatever the run. */
const HONEST_MSG = 0x100;
/** What the server may report, and what the `drop` event carries. */
const DOCUMENTED = new Set([
  'ERR_HANDLER_FAILED',
  'ERR_HANDLER_TIMEOUT',
  'ERR_FRAME_TOO_LARGE',
  'ERR_FRAME_TIMEOUT',
  'ERR_REPLY_BUFFER_FULL',
  'ECONNRESET',
  'EPIPE',
]);
/** The longest an honest request may wait for its reply while the hostile clients are at it. */
const HONEST_LATENCY_MS = 2000;
/** Heap + array buffers may grow this much above the run's start, at any sample. */
const MEMORY_BUDGET = 96 * MiB;

const { proxy: revoked, revoke } = Proxy.revocable({}, {});
revoke();

/** Odd things for a handler to return (made on demand: an unused rejected promise would be unhandled). */
const ODD: (() => unknown)[] = [
  () => ({
    // biome-ignore lint/suspicious/noThenProperty: an odd result
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
  () => revoked,
  () => 42,
  () => Symbol('odd'),
  () => Promise.resolve(revoked),
  () => Promise.reject(revoked),
];

/** What a hostile client can make a handler do, by msg code: all the odd paths of `handle`. */
function makeHandler(limits: ServerLimits) {
  return (request: Frame): unknown => {
    switch (request.msg % 8) {
      case 0:
        return request.body;
      case 1:
        return sleep(request.sync % 40).then(() => request.body);
      case 2:
        throw new Error('asked to fail');
      case 3:
        return ODD[request.sync % ODD.length]();
      case 4:
        // A large reply to a small request: amplification.
        return Buffer.alloc((request.sync % 64) * 4096, 4);
      case 5:
        // Never answers when a handler timeout will give it up; else late.
        return limits.handlerTimeout > 0 ? new Promise(() => {}) : sleep(300).then(() => 'late');
      case 6:
        return 'a string reply';
      default:
        return undefined;
    }
  };
}

function drawOptions(rng: Rng): IProtoServerOptions {
  return {
    maxFrameSize: rng.pick([0, 1, 100, 4096, 65_536, 65_537, MiB, undefined]),
    maxConnections: rng.pick([20, 40, undefined]),
    maxInFlight: rng.pick([1, 2, 50, undefined]),
    maxReplyBuffer: rng.pick([0, 1000, 65_536, MiB, undefined]),
    frameTimeout: rng.pick([150, 400, 1000, undefined]),
    idleTimeout: rng.pick([0, 500, 900]),
    handlerTimeout: rng.pick([0, 30, 250]),
    highWaterMark: rng.pick([1024, 65_536, undefined]),
  };
}

interface Ctx {
  port: number;
  rng: Rng;
  limits: ServerLimits;
  sockets: Set<Socket>;
  until: number;
}

/** A raw connection; undefined when the server closed it at once (maxConnections). */
function open(ctx: Ctx): Promise<Socket | undefined> {
  const socket = connect(ctx.port, '127.0.0.1');
  socket.on('error', () => {});
  ctx.sockets.add(socket);
  return new Promise((resolve) => {
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => resolve(undefined));
  });
}

function randomBytes(rng: Rng, n: number): Buffer {
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = rng.int(0, 255);
  return bytes;
}

/** Frames a handler accepts (within maxFrameSize), any msg. */
function requests(rng: Rng, limits: ServerLimits, n: number, maxBody = 2048): Buffer {
  const parts: Buffer[] = [];
  const cap = Math.min(maxBody, limits.maxFrameSize);
  for (let i = 0; i < n; i++)
    parts.push(frame(rng.int(0, 7), rng.int(0, 0xffffffff), Buffer.alloc(rng.int(0, cap), i)));
  return Buffer.concat(parts);
}

function header(msg: number, len: number, sync: number): Buffer {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32LE(msg, 0);
  bytes.writeUInt32LE(len >>> 0, 4);
  bytes.writeUInt32LE(sync, 8);
  return bytes;
}

/** Writes `bytes` cut at random places, pausing up to `maxDelay` ms between pieces. */
async function dribble(
  ctx: Ctx,
  socket: Socket,
  bytes: Buffer,
  maxPiece: number,
  maxDelay: number,
): Promise<void> {
  for (let at = 0; at < bytes.length && !socket.destroyed && Date.now() < ctx.until; ) {
    const size = ctx.rng.int(1, Math.max(1, Math.min(maxPiece, bytes.length - at)));
    socket.write(bytes.subarray(at, at + size));
    at += size;
    if (maxDelay > 0) await sleep(ctx.rng.int(0, maxDelay));
  }
}

/** Leaves: FIN, or a reset, or nothing (destroyed at the end of the run). */
function leave(ctx: Ctx, socket: Socket): void {
  const roll = ctx.rng();
  if (roll < 0.4) socket.end();
  else if (roll < 0.8) socket.resetAndDestroy();
}

type Behaviour = (ctx: Ctx) => Promise<void>;

const behaviours: Record<string, Behaviour> = {
  async garbage(ctx) {
    const socket = await open(ctx);
    if (!socket) return;
    await dribble(ctx, socket, randomBytes(ctx.rng, ctx.rng.int(1, 3000)), 500, 10);
    await sleep(ctx.rng.int(0, 200));
    leave(ctx, socket);
  },
  async splitFrames(ctx) {
    const socket = await open(ctx);
    if (!socket) return;
    socket.on('data', () => {});
    await dribble(
      ctx,
      socket,
      requests(ctx.rng, ctx.limits, ctx.rng.int(1, 40)),
      ctx.rng.pick([1, 7, 13, 1000]),
      5,
    );
    await sleep(ctx.rng.int(0, 300));
    leave(ctx, socket);
  },
  async hugeLength(ctx) {
    const socket = await open(ctx);
    if (!socket) return;
    const max = ctx.limits.maxFrameSize;
    const len = ctx.rng.pick([0xffffffff, 0x80000000, 16 * MiB, 16 * MiB + 1, max + 1, max]);
    socket.write(
      Buffer.concat([
        requests(ctx.rng, ctx.limits, ctx.rng.int(0, 3)),
        header(0, Math.min(len, 0xffffffff), 1),
      ]),
    );
    // Then some of the body it announced, or none.
    await dribble(ctx, socket, randomBytes(ctx.rng, ctx.rng.int(0, 70_000)), 20_000, 20);
    await sleep(ctx.rng.int(0, 300));
    leave(ctx, socket);
  },
  async limitPlusMinusOne(ctx) {
    const socket = await open(ctx);
    if (!socket) return;
    socket.on('data', () => {});
    const max = Math.min(ctx.limits.maxFrameSize, MiB);
    const len = max + ctx.rng.pick([-1, 0, 1]);
    if (len < 0) return leave(ctx, socket);
    socket.write(header(ctx.rng.int(0, 7), len, 2));
    await dribble(ctx, socket, Buffer.alloc(Math.min(len, max), 9), 65_536, 0);
    await sleep(ctx.rng.int(50, 300));
    leave(ctx, socket);
  },
  async slowDribble(ctx) {
    const socket = await open(ctx);
    if (!socket) return;
    socket.on('data', () => {});
    await dribble(ctx, socket, requests(ctx.rng, ctx.limits, 3, 64), 1, ctx.rng.pick([20, 80, 200]));
    leave(ctx, socket);
  },
  async pipelineNeverRead(ctx) {
    const socket = await open(ctx);
    if (!socket) return;
    socket.pause();
    const batch = requests(ctx.rng, ctx.limits, 64, 4096);
    const stopAt = Math.min(ctx.until, Date.now() + ctx.rng.int(100, 1000));
    while (!socket.destroyed && Date.now() < stopAt) {
      if (!socket.write(batch)) await Promise.race([new Promise((r) => socket.once('drain', r)), sleep(50)]);
      else await sleep(0);
    }
    leave(ctx, socket);
  },
  async reset(ctx) {
    const socket = await open(ctx);
    if (!socket) return;
    const bytes = requests(ctx.rng, ctx.limits, ctx.rng.int(1, 5));
    socket.write(bytes.subarray(0, ctx.rng.int(1, bytes.length)));
    await sleep(ctx.rng.int(0, 100));
    socket.resetAndDestroy();
  },
  async flood(ctx) {
    const opened = await Promise.all(Array.from({ length: ctx.rng.int(5, 45) }, () => open(ctx)));
    await sleep(ctx.rng.int(0, 300));
    for (const socket of opened) if (socket) leave(ctx, socket);
  },
  async idle(ctx) {
    const socket = await open(ctx);
    if (!socket) return;
    await sleep(ctx.rng.int(0, 1100));
    leave(ctx, socket);
  },
  async halfClose(ctx) {
    const socket = await open(ctx);
    if (!socket) return;
    socket.on('data', () => {});
    const bytes = requests(ctx.rng, ctx.limits, ctx.rng.int(1, 5));
    socket.end(bytes.subarray(0, ctx.rng.int(1, bytes.length)));
  },
};
const names = Object.keys(behaviours);

/** The honest client: one request at a time, each reply checked byte for byte and timed. */
async function honestLoop(
  client: RawClient,
  maxBody: number,
  stop: () => boolean,
): Promise<{ sent: number; worst: number }> {
  let expected = 0;
  let worst = 0;
  let sent = 0;
  while (!stop()) {
    const request = frame(HONEST_MSG, sent, Buffer.from(`honest ${sent}`).subarray(0, maxBody));
    const started = Date.now();
    client.write(request);
    expected += request.length;
    const got = await client.bytes(expected, HONEST_LATENCY_MS);
    expect(got.subarray(expected - request.length)).toEqual(request);
    worst = Math.max(worst, Date.now() - started);
    sent++;
    await sleep(40);
  }
  return { sent, worst };
}

const seeds = Array.from({ length: RUNS }, (_, i) => FIRST_SEED + i);

test.each(seeds)(
  'hostile clients, seed %i: the server stays up, answers an honest client, and stays bounded',
  async (seed) => {
    const rng = createRng(seed);
    const options = drawOptions(rng);
    const server = new IProtoServer(options);
    const limits = server.limits;
    server.on(HONEST_MSG, (request) => request.body);
    server.on('request', () => {}); // the listener path too
    const handler = makeHandler(limits);
    for (let msg = 0; msg < 8; msg++) server.on(msg, handler as never);
    const codes = new Map<string, number>();
    const count = (code: string): void => {
      codes.set(code, (codes.get(code) ?? 0) + 1);
    };
    server.on('error', (error) => count((error as ServerError).code ?? `uncoded ${error.message}`));
    server.on('drop', (error) => count(error.code));
    const { port } = await server.listen();
    const sockets = new Set<Socket>();
    const honest = await RawClient.connect(port);
    const base = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peak = Math.max(peak, now.heapUsed + now.arrayBuffers - base.heapUsed - base.arrayBuffers);
    }, 20);
    const started = Date.now();
    try {
      const ctx: Ctx = { port, rng, limits, sockets, until: started + RUN_MS };
      let done = false;
      const honestRun = honestLoop(honest, limits.maxFrameSize, () => done);
      honestRun.catch(() => {}); // awaited below; a failure must not surface as unhandled first
      const picked = Array.from({ length: rng.int(6, 14) }, () => rng.pick(names));
      await Promise.all(picked.map((name) => behaviours[name](ctx)));
      done = true;
      const { sent, worst } = await honestRun;
      for (const socket of sockets) socket.destroy();

      // Back to the honest client alone once the hostile ones are gone (a handler answering late
      // may hold a paused connection until it answers).
      await waitFor(() => server.connections.size === 1, 'the hostile connections to be gone', 5000);
      expect(honest.closed, `seed ${seed}: honest client closed`).toBe(false);
      expect(sent).toBeGreaterThan(0);
      expect(worst).toBeLessThan(HONEST_LATENCY_MS);

      // Limits +/- 1 afterwards: a body of exactly maxFrameSize is answered, one byte more is refused.
      const max = limits.maxFrameSize;
      if (max <= MiB) {
        const atLimit = frame(HONEST_MSG, 7, Buffer.alloc(max, 5));
        const before = honest.received.length;
        honest.write(atLimit);
        const got = await honest.bytes(before + atLimit.length);
        expect(Buffer.compare(got.subarray(before), atLimit)).toBe(0);
        const over = await RawClient.connect(port);
        over.write(header(HONEST_MSG, max + 1, 8));
        await over.waitClosed();
        over.destroy();
        expect(codes.get('ERR_FRAME_TOO_LARGE')).toBeGreaterThan(0);
      }
      const fresh = await RawClient.connect(port);
      const after = frame(HONEST_MSG, 9, Buffer.from('after').subarray(0, max));
      fresh.write(after);
      expect(await fresh.bytes(after.length)).toEqual(after);
      fresh.destroy();

      for (const code of codes.keys())
        expect(DOCUMENTED.has(code) || code === 'ERR_MAX_CONNECTIONS', code).toBe(true);
      expect(peak, `seed ${seed}: memory grew ${(peak / MiB).toFixed(1)} MiB`).toBeLessThan(MEMORY_BUDGET);
      if (process.env.IPROTO_FUZZ_REPORT === '1') {
        process.stderr.write(
          `seed ${seed}: ${picked.length} hostile (${picked.join(' ')}), ${JSON.stringify(options)}; honest ${sent} ` +
            `(worst ${worst} ms); peak +${(peak / MiB).toFixed(1)} MiB; ${Date.now() - started} ms; ` +
            `${JSON.stringify(Object.fromEntries(codes))}\n`,
        );
      }
    } finally {
      clearInterval(sampler);
      for (const socket of sockets) socket.destroy();
      honest.destroy();
      await server.close();
    }
    expect(server.connections.size).toBe(0);
  },
  60_000,
);
