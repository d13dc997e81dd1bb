// Requests per second of one Connection against one echo server, beside a bare Node net.Socket
// pipelined loop against the same server, at 1, 16, 256 and 1024 requests in flight with 12-byte
// bodies; then the heap that 100,000 requests in flight take. Run after a build:
//   pnpm --filter @iproto/connection build && pnpm --filter @iproto/connection bench
// (`--quick` or IPROTO_BENCH_QUICK=1 for a short run). Human table on stderr; the last stdout line is
// the JSON summary described in docs/architecture.md.
//
// The echo server is a raw `net` echo in a child process (`node run.mjs serve`): an iproto reply to an
// echo request is the request's own bytes, so the server does no parsing and is not the bottleneck.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { quantity } from '../../../bench/lib/format.mjs';
import { printRows, resultRow } from '../../../bench/lib/rows.mjs';

const BODY = 12;
const FRAME = 12 + BODY;
const DEPTHS = process.env.BENCH_DEPTHS
  ? process.env.BENCH_DEPTHS.split(',').map(Number)
  : [1, 16, 256, 1024];
const TARGETS = { 1: 0.9, 256: 0.6 };
const QUICK = process.argv.includes('--quick') || process.env.IPROTO_BENCH_QUICK === '1';
const ROUND_MS = QUICK ? 300 : 1000;
const ROUNDS = QUICK ? 2 : 4;
const MEMORY_REQUESTS = 100_000;
const MEMORY_TARGET_MB = 100;

if (process.argv[2] === 'serve') {
  serve(process.argv[3] === 'hold');
} else {
  await main();
}

/**
 * Echoes every byte back. With `hold` set it answers nothing until a line arrives on its stdin, then
 * everything held so far, so that many requests stay in flight for as long as the measurement
 * takes (the memory measurement).
 */
function serve(hold) {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    if (!hold) {
      socket.on('data', (chunk) => socket.write(chunk));
      return;
    }
    let held = [];
    socket.on('data', (chunk) => {
      if (held === null) socket.write(chunk);
      else held.push(chunk);
    });
    process.stdin.once('data', () => {
      for (const chunk of held) socket.write(chunk);
      held = null;
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${server.address().port}\n`);
  });
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

async function startServer(hold = false) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve', hold ? 'hold' : 'echo'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = await once(child.stdout, 'data');
  return { child, port: Number(String(line).trim()) };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The baseline: a bare socket keeping `depth` requests outstanding with the least work a correct
 * pipelined iproto client does: it reads each reply's header (msg, length, sync) and frames one new
 * request (header with a fresh sync, body) per reply, gathered into one write per chunk. No promises,
 * no sync map, no timers. (A loop that only counts echoed bytes and re-writes a fixed buffer is also
 * measured, `raw`, to show the ceiling of the socket itself; it does no per-request work at all.)
 */
async function bareRound(port, depth, raw = false) {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  await once(socket, 'connect');
  const body = Buffer.alloc(BODY, 7);
  let sync = 0;
  const frame = (out, pos) => {
    sync = sync >= 0xfffffffe ? 1 : sync + 1;
    out.writeUInt32LE(13, pos);
    out.writeUInt32LE(BODY, pos + 4);
    out.writeUInt32LE(sync, pos + 8);
    body.copy(out, pos + 12);
    return pos + FRAME;
  };
  const initial = Buffer.allocUnsafe(depth * FRAME);
  for (let i = 0, pos = 0; i < depth; i++) pos = frame(initial, pos);
  const fixed = Buffer.from(initial);
  let replies = 0;
  let partial = 0;
  let rest = null;
  let stop = false;
  let checksum = 0;
  socket.on('data', (chunk) => {
    if (raw) {
      const bytes = partial + chunk.length;
      const done = Math.floor(bytes / FRAME);
      partial = bytes - done * FRAME;
      replies += done;
      if (!stop && done > 0) socket.write(fixed.subarray(0, done * FRAME));
      return;
    }
    const data = rest === null ? chunk : Buffer.concat([rest, chunk]);
    let pos = 0;
    let done = 0;
    while (data.length - pos >= 12) {
      const len = data.readUInt32LE(pos + 4);
      if (data.length - pos - 12 < len) break;
      checksum += data.readUInt32LE(pos) + data.readUInt32LE(pos + 8);
      pos += 12 + len;
      done++;
    }
    rest = pos < data.length ? data.subarray(pos) : null;
    replies += done;
    if (stop || done === 0) return;
    const out = Buffer.allocUnsafe(done * FRAME);
    for (let i = 0, at = 0; i < done; i++) at = frame(out, at);
    socket.write(out);
  });
  const start = process.hrtime.bigint();
  socket.write(initial);
  await sleep(ROUND_MS);
  stop = true;
  const counted = replies;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  socket.destroy();
  if (checksum < 0) throw new Error('unreachable');
  return counted / seconds;
}

/** A Connection keeping `depth` requests in flight: each reply sends the next request. */
async function connectionRound(Connection, port, depth) {
  const connection = new Connection({ host: '127.0.0.1', port }, { maxParallel: depth, timeout: 10_000 });
  await connection.connect();
  const body = Buffer.alloc(BODY, 7);
  let replies = 0;
  let stop = false;
  let running = depth;
  let finished;
  const done = new Promise((resolve) => {
    finished = resolve;
  });
  const onReply = () => {
    replies++;
    if (!stop) connection.send(13, body).then(onReply, onError);
    else if (--running === 0) finished();
  };
  const onError = (error) => {
    console.error(error);
    process.exit(1);
  };
  const start = process.hrtime.bigint();
  for (let i = 0; i < depth; i++) connection.send(13, body).then(onReply, onError);
  await sleep(ROUND_MS);
  stop = true;
  const counted = replies;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await done;
  await connection.close();
  return counted / seconds;
}

/** Heap taken by MEMORY_REQUESTS requests in flight (sent, written, their replies held back). */
async function memory(Connection) {
  const server = await startServer(true);
  try {
    const connection = new Connection(
      { host: '127.0.0.1', port: server.port },
      { maxParallel: MEMORY_REQUESTS, timeout: 60_000 },
    );
    await connection.connect();
    const body = Buffer.alloc(BODY, 7);
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    const requests = new Array(MEMORY_REQUESTS);
    for (let i = 0; i < MEMORY_REQUESTS; i++) requests[i] = connection.send(13, body);
    // The server answers nothing until told: every request is in flight until the heap is read.
    while (connection.inFlight !== MEMORY_REQUESTS || connection.bufferedBytes !== 0) await sleep(1);
    globalThis.gc?.();
    const heapMb = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
    server.child.stdin.write('answer\n');
    const replies = await Promise.all(requests);
    if (replies.length !== MEMORY_REQUESTS) throw new Error('lost replies');
    await connection.close();
    return heapMb;
  } finally {
    server.child.stdin.end();
  }
}

async function main() {
  const { Connection } = await import('../dist/index.js');
  const server = await startServer();
  const results = [];
  try {
    for (const depth of DEPTHS) {
      // Warm up both, then alternate so both see the same machine load; keep the best round of each.
      await bareRound(server.port, depth);
      await connectionRound(Connection, server.port, depth);
      const ours = [];
      const bare = [];
      for (let i = 0; i < ROUNDS; i++) {
        bare.push(await bareRound(server.port, depth));
        ours.push(await connectionRound(Connection, server.port, depth));
      }
      const raw = await bareRound(server.port, depth, true);
      const value = Math.max(...ours);
      const baselineValue = Math.max(...bare);
      results.push({
        ...resultRow({
          name: `echo, ${depth} in flight, ${BODY}-byte bodies`,
          unit: 'req/s',
          value,
          baseline: 'bare net.Socket pipelined loop',
          baselineValue,
          target: TARGETS[depth] ?? null,
          ratio: 'ours/baseline',
        }),
        rawEchoValue: Math.round(raw),
      });
    }
  } finally {
    server.child.stdin.end();
  }
  const heapMb = await memory(Connection);
  results.push({
    name: `heap for ${MEMORY_REQUESTS.toLocaleString('en')} requests in flight`,
    unit: 'MB',
    value: Number(heapMb.toFixed(1)),
    baseline: null,
    baselineValue: null,
    ratio: null,
    target: `< ${MEMORY_TARGET_MB} MB`,
    pass: heapMb < MEMORY_TARGET_MB,
  });

  printRows(results);
  for (const r of results) {
    if (r.rawEchoValue !== undefined)
      process.stderr.write(`${r.name}: raw echo ${quantity(r.rawEchoValue, r.unit)}\n`);
  }
  console.log(JSON.stringify({ package: '@iproto/connection', results }));
}
