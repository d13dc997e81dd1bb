// Requests per second this server answers to a pipelined client, beside the same client against a
// bare Node echo loop. Run after a build: `pnpm --filter @iproto/server build && pnpm --filter
// @iproto/server bench` (`--quick` or IPROTO_BENCH_QUICK=1 for a short run). Human table on stderr;
// the last stdout line is the JSON summary described in docs/architecture.md.
//
// Each server runs in a child process (`node run.mjs serve iproto|bare`), so client and server do not
// share one event loop; the client is a raw `net` socket that keeps IN_FLIGHT requests outstanding.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { printRows, resultRow } from '../../../bench/lib/rows.mjs';

const IN_FLIGHT = 256;
const BODY = 12;
const FRAME = 12 + BODY;
const QUICK = process.argv.includes('--quick') || process.env.IPROTO_BENCH_QUICK === '1';
const ROUND_MS = QUICK ? 400 : 1000;
const ROUNDS = QUICK ? 3 : 6;

if (process.argv[2] === 'serve') {
  await serve(process.argv[3]);
} else {
  await main();
}

/** Serves on 127.0.0.1:0, prints the port, exits when stdin closes. */
async function serve(kind) {
  let port;
  if (kind === 'iproto') {
    const { IProtoServer } = await import('../dist/index.js');
    const server = new IProtoServer({ handler: (request) => request.body });
    ({ port } = await server.listen());
  } else if (kind === 'codec') {
    const server = createServer(await codecEcho());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = server.address().port;
  } else if (kind === 'chunk') {
    const server = createServer(chunkEcho);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = server.address().port;
  } else {
    const server = createServer(bareEcho);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = server.address().port;
  }
  process.stdout.write(`${port}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

/**
 * The baseline: the least work a correct iproto echo server does. Per frame, read the header's msg,
 * len and sync, write the reply header from them and copy the body after it into an output buffer
 * (plain indexed loads and stores, nothing allocated per frame); one write per chunk; a partial frame
 * waits for the next chunk. An echo reply happens to equal its request, but a server cannot know that
 * in general: it parses each request and builds each reply, and so does this loop.
 */
function bareEcho(socket) {
  socket.setNoDelay(true);
  let rest = null;
  let out = Buffer.allocUnsafe(64 * 1024);
  let used = 0;
  socket.on('data', (chunk) => {
    const data = rest === null ? chunk : Buffer.concat([rest, chunk]);
    // A buffer handed to write() must not change until written: take fresh space after it.
    if (out.length - used < data.length) {
      out = Buffer.allocUnsafe(Math.max(64 * 1024, data.length));
      used = 0;
    }
    const start = used;
    let o = used;
    let pos = 0;
    const end = data.length;
    while (end - pos >= 12) {
      const len =
        (data[pos + 4] | (data[pos + 5] << 8) | (data[pos + 6] << 16) | (data[pos + 7] << 24)) >>> 0;
      const frameEnd = pos + 12 + len;
      if (frameEnd > end) break;
      const msg = (data[pos] | (data[pos + 1] << 8) | (data[pos + 2] << 16) | (data[pos + 3] << 24)) >>> 0;
      const sync =
        (data[pos + 8] | (data[pos + 9] << 8) | (data[pos + 10] << 16) | (data[pos + 11] << 24)) >>> 0;
      out[o] = msg;
      out[o + 1] = msg >>> 8;
      out[o + 2] = msg >>> 16;
      out[o + 3] = msg >>> 24;
      out[o + 4] = len;
      out[o + 5] = len >>> 8;
      out[o + 6] = len >>> 16;
      out[o + 7] = len >>> 24;
      out[o + 8] = sync;
      out[o + 9] = sync >>> 8;
      out[o + 10] = sync >>> 16;
      out[o + 11] = sync >>> 24;
      o += 12;
      for (let p = pos + 12; p < frameEnd; p++) out[o++] = data[p];
      pos = frameEnd;
    }
    used = o;
    if (o > start) socket.write(out.subarray(start, o));
    rest = pos < end ? data.subarray(pos) : null;
  });
  socket.on('error', () => {});
}

/**
 * For scale, not a target: the previous baseline, which reads headers only to find where whole
 * frames end and writes those bytes of the chunk back as they are (no reply frames are built).
 */
function chunkEcho(socket) {
  socket.setNoDelay(true);
  let rest = null;
  socket.on('data', (chunk) => {
    const data = rest === null ? chunk : Buffer.concat([rest, chunk]);
    let pos = 0;
    while (data.length - pos >= 12) {
      const end = pos + 12 + data.readUInt32LE(pos + 4);
      if (end > data.length) break;
      pos = end;
    }
    if (pos > 0) socket.write(data.subarray(0, pos));
    rest = pos < data.length ? data.subarray(pos) : null;
  });
  socket.on('error', () => {});
}

/**
 * For scale, not a target: the codec alone (FrameDecoder in, FrameWriter out, one write per read),
 * without the server around it. The gap between this and the bare loop is the codec's.
 */
async function codecEcho() {
  const { FrameDecoder, FrameWriter } = await import('@iproto/framing');
  return (socket) => {
    socket.setNoDelay(true);
    const decoder = new FrameDecoder();
    const writer = new FrameWriter();
    socket.on('data', (chunk) => {
      const frames = decoder.push(chunk);
      for (let i = 0; i < frames.length; i++) writer.add(frames[i].msg, frames[i].sync, frames[i].body);
      for (const out of writer.take()) socket.write(out);
    });
    socket.on('error', () => {});
  };
}

async function startServer(kind) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve', kind], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = await once(child.stdout, 'data');
  return { child, port: Number(String(line).trim()) };
}

/** Replies received in ROUND_MS by a client keeping IN_FLIGHT requests in flight; returns replies/s. */
async function round(port) {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  await once(socket, 'connect');
  const requests = Buffer.alloc(IN_FLIGHT * FRAME);
  for (let i = 0; i < IN_FLIGHT; i++) {
    requests.writeUInt32LE(13, i * FRAME);
    requests.writeUInt32LE(BODY, i * FRAME + 4);
    requests.writeUInt32LE(i, i * FRAME + 8);
    requests.fill(i & 0xff, i * FRAME + 12, (i + 1) * FRAME);
  }
  let replies = 0;
  let partial = 0;
  let stop = false;
  // Replies are all FRAME bytes long, so counting bytes counts replies; each one frees a slot.
  socket.on('data', (chunk) => {
    const bytes = partial + chunk.length;
    const done = Math.floor(bytes / FRAME);
    partial = bytes - done * FRAME;
    replies += done;
    if (!stop && done > 0) socket.write(requests.subarray(0, done * FRAME));
  });
  const start = process.hrtime.bigint();
  socket.write(requests);
  await new Promise((resolve) => setTimeout(resolve, ROUND_MS));
  stop = true;
  const counted = replies;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  socket.destroy();
  return counted / seconds;
}

async function main() {
  const kinds = ['iproto', 'bare', 'codec', 'chunk'];
  const servers = [];
  for (const kind of kinds) servers.push(await startServer(kind));
  try {
    // Warm up all, then alternate so all see the same machine load; keep the best round of each.
    for (const server of servers) await round(server.port);
    const rounds = kinds.map(() => []);
    for (let i = 0; i < ROUNDS; i++) {
      for (let k = 0; k < servers.length; k++) rounds[k].push(await round(servers[k].port));
    }
    const [value, baselineValue, codecValue, chunkValue] = rounds.map((r) => Math.max(...r));
    // Per-round ratios (same round, same load) show the spread the best-of figure hides.
    const spread = rounds[0].map((v, i) => rounds[1][i] / v);
    const result = resultRow({
      name: `pipelined echo, ${IN_FLIGHT} in flight, ${BODY}-byte bodies`,
      unit: 'req/s',
      value,
      baseline: 'bare Node echo loop',
      baselineValue,
      target: 1.5,
      ratio: 'baseline/ours',
    });
    // For scale, in the same table (not results of their own: they have no target): the codec
    // alone, and echoing chunks with no reply frames built.
    const forScale = (name, scaleValue) =>
      resultRow({
        name: `for scale: ${name}`,
        unit: 'req/s',
        value: scaleValue,
        baseline: 'bare Node echo loop',
        baselineValue,
        target: null,
        ratio: 'baseline/ours',
      });
    printRows([
      result,
      forScale('FrameDecoder + FrameWriter alone', codecValue),
      forScale('chunk echo (no reply frames built)', chunkValue),
    ]);
    process.stderr.write(`per-round ratios: ${spread.map((r) => r.toFixed(2)).join(' ')}\n`);
    console.log(JSON.stringify({ package: '@iproto/server', results: [result] }));
  } finally {
    for (const server of servers) server.child.stdin.end();
  }
}
