// What the heap of `COUNT` requests in flight on IProto (defaults) is made of: a heap snapshot,
// self sizes summed by constructor, per request. Not part of `pnpm bench`; a tool for the heap target.
//
//   node --expose-gc bench/lib/heap-breakdown.mjs [COUNT]

import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { writeHeapSnapshot } from 'node:v8';
import { IProto } from '@iproto/client';
import { message } from './client-loop.mjs';

const count = Number(process.argv[2] ?? 100_000);
const server = createServer((s) => s.resume());
await new Promise((r) => server.listen(0, '127.0.0.1', r));
globalThis.gc();
const before = process.memoryUsage().heapUsed;
const client = new IProto({ servers: `127.0.0.1:${server.address().port}`, timeout: 0 });
const pending = [];
for (let i = 0; i < count; i++) pending.push(client.send(message()));
await new Promise((r) => setTimeout(r, 500));
globalThis.gc();
console.log(
  `heap: ${((process.memoryUsage().heapUsed - before) / 1024 / 1024).toFixed(1)} MB for ${count} requests`,
);
const file = writeHeapSnapshot();
const snap = JSON.parse(readFileSync(file, 'utf8'));
rmSync(file);
const f = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const [ti, ni, si] = ['type', 'name', 'self_size'].map((k) => f.indexOf(k));
const by = new Map();
for (let i = 0; i < snap.nodes.length; i += f.length) {
  const type = types[snap.nodes[i + ti]];
  const name = type === 'object' || type === 'closure' ? snap.strings[snap.nodes[i + ni]] : `(${type})`;
  const e = by.get(name) ?? { n: 0, bytes: 0 };
  e.n++;
  e.bytes += snap.nodes[i + si];
  by.set(name, e);
}
for (const [name, e] of [...by].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 15)) {
  console.log(`${(e.bytes / count).toFixed(1).padStart(7)} B/req  ${String(e.n).padStart(8)}  ${name}`);
}
client.destroy();
await Promise.allSettled(pending);
server.close();
process.exit(0);
