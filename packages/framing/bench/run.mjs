// Microbenchmarks of the framing hot paths. Run after a build: `pnpm --filter @iproto/framing build &&
// pnpm --filter @iproto/framing bench`. Human table on stderr; the last stdout line is the JSON summary
// described in docs/architecture.md.

import { printRows, resultRow } from '../../../bench/lib/rows.mjs';
import { FrameDecoder, FrameWriter } from '../dist/index.js';

const CHUNK = 64 * 1024;
const STREAM_BYTES = 8 * 1024 * 1024;
const BODY = 12;
const FRAME = 12 + BODY;
const ROUNDS = 15;

/**
 * Frames per second of CPU time (user + system, all threads, so GC helpers count): on a shared
 * machine wall time mostly measures how often other processes preempted us. No forced `gc()`
 * between rounds: a full collection shrinks V8's young generation back to its minimum, which a
 * long-running process decoding a busy socket never sees, and which penalises the decoder's
 * short-lived frames out of proportion.
 */
function rate(fn) {
  const start = process.cpuUsage();
  const frames = fn();
  const used = process.cpuUsage(start);
  return (frames * 1e6) / (used.user + used.system);
}

/**
 * Runs `fn` and its `baseline` alternately ROUNDS times (so both see the same machine load, which
 * matters on a shared box) after a warm-up; returns the best frames/s of each: on a loaded machine
 * the best round is the one least disturbed by other processes.
 */
function compare(fn, baseline) {
  for (let i = 0; i < 3; i++) {
    fn();
    baseline();
  }
  const a = [];
  const b = [];
  for (let i = 0; i < ROUNDS; i++) {
    a.push(rate(fn));
    b.push(rate(baseline));
  }
  return [Math.max(...a), Math.max(...b)];
}

// The stream: 12-byte-body frames back to back, cut into 64 KiB chunks (frames straddle the cuts,
// as they do on a socket).
const count = Math.floor(STREAM_BYTES / FRAME);
const stream = Buffer.alloc(count * FRAME);
for (let i = 0; i < count; i++) {
  const at = i * FRAME;
  stream.writeUInt32LE(13, at);
  stream.writeUInt32LE(BODY, at + 4);
  stream.writeUInt32LE(i, at + 8);
  stream.fill(i & 0xff, at + 12, at + FRAME);
}
const chunks = [];
for (let at = 0; at < stream.length; at += CHUNK) chunks.push(stream.subarray(at, at + CHUNK));

let sink = 0;

function decodeWithFrameDecoder() {
  const decoder = new FrameDecoder();
  let n = 0;
  for (const chunk of chunks) {
    const frames = decoder.push(chunk);
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      sink += f.msg + f.sync + f.body.length;
    }
    n += frames.length;
  }
  return n;
}

function onFrame(f) {
  sink += f.msg + f.sync + f.body.length;
}

function parseWithFrameDecoder() {
  const decoder = new FrameDecoder();
  for (const chunk of chunks) decoder.parse(chunk, onFrame);
  return count;
}

function onRange(msg, sync, _bytes, start, end) {
  sink += msg + sync + (end - start);
}

function scanWithFrameDecoder() {
  const decoder = new FrameDecoder();
  for (const chunk of chunks) decoder.scan(chunk, onRange);
  return count;
}

// The bare loop: the same bytes in one piece, three readUInt32LE and a subarray per frame, nothing
// kept. What any decoder must at least do.
function decodeBare() {
  let n = 0;
  const end = stream.length;
  for (let pos = 0; pos + 12 <= end; ) {
    const msg = stream.readUInt32LE(pos);
    const len = stream.readUInt32LE(pos + 4);
    const sync = stream.readUInt32LE(pos + 8);
    const body = stream.subarray(pos + 12, pos + 12 + len);
    sink += msg + sync + body.length;
    pos += 12 + len;
    n++;
  }
  return n;
}

const BATCH = 256;
const BATCHES = 4000;
const body = Buffer.alloc(BODY, 7);

function writeWithFrameWriter() {
  const writer = new FrameWriter();
  for (let b = 0; b < BATCHES; b++) {
    for (let i = 0; i < BATCH; i++) writer.add(13, i, body);
    sink += writer.take().length;
  }
  return BATCHES * BATCH;
}

// The bare loop: three writeUInt32LE and a copy per frame into one preallocated buffer, a subarray
// per batch (this reuses memory that may still be queued on a socket: unsafe, but a floor).
function writeBare() {
  const buffer = Buffer.allocUnsafe(BATCH * FRAME);
  for (let b = 0; b < BATCHES; b++) {
    let pos = 0;
    for (let i = 0; i < BATCH; i++) {
      buffer.writeUInt32LE(13, pos);
      buffer.writeUInt32LE(BODY, pos + 4);
      buffer.writeUInt32LE(i, pos + 8);
      buffer.set(body, pos + 12);
      pos += FRAME;
    }
    sink += buffer.subarray(0, pos).length;
  }
  return BATCHES * BATCH;
}

const results = [];
function row(name, fn, baseline, baselineFn, target) {
  const [value, baselineValue] = compare(fn, baselineFn);
  results.push(
    resultRow({ name, unit: 'frames/s', value, baseline, baselineValue, target, ratio: 'baseline/ours' }),
  );
}

row(
  'FrameDecoder.parse, 64 KiB chunks of 12-byte-body frames',
  parseWithFrameDecoder,
  'bare readUInt32LE + subarray loop',
  decodeBare,
  1.5,
);
row(
  'FrameDecoder.scan, 64 KiB chunks of 12-byte-body frames',
  scanWithFrameDecoder,
  'bare readUInt32LE + subarray loop',
  decodeBare,
  1.5,
);
row(
  'FrameDecoder.push, 64 KiB chunks of 12-byte-body frames',
  decodeWithFrameDecoder,
  'bare readUInt32LE + subarray loop',
  decodeBare,
  1.5,
);
row(
  `FrameWriter.add x${BATCH} + take(), 12-byte bodies`,
  writeWithFrameWriter,
  'bare writeUInt32LE + set into one buffer',
  writeBare,
  1.5,
);

printRows(results);
if (sink === 0.5) process.stderr.write('\n'); // keeps `sink` alive
console.log(JSON.stringify({ package: '@iproto/framing', results }));
