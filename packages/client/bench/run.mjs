// The client's own cost per request, without the network: IProto.send over a cluster whose server
// answers at once (an echo in memory), against the same work done by hand (pack the body, call the
// server, unpack the reply). The network benchmark against Perl and a bare loop is bench/client.mjs
// at the repository root. Run after a build:
//   pnpm --filter @iproto/client build && pnpm --filter @iproto/client bench
// Human table on stderr; the last stdout line is the JSON summary of docs/architecture.md.
import { EventEmitter } from 'node:events';
import { compile } from '@iproto/pack';
import { defineMessage, IProto } from '../dist/index.js';

const REQUESTS = 100_000;
const DEPTH = 256;
const ROUNDS = 7;
// The client keeps at least half the rate of the hand-written path for plain messages; message
// objects "require some more CPU" (the seed), a class instance per request and per reply.
const TARGETS = { plain: 0.5, object: 0.25 };

/** A server that answers every message with its own body, on the next microtask. */
const server = {
  host: 'memory',
  port: 0,
  address: 'memory:0',
  active: true,
  send(msg, body) {
    return Promise.resolve({ msg, sync: 1, body });
  },
};

class MemoryCluster extends EventEmitter {
  servers = [server];
  balance = 'round-robin';
  timeout = 1000;
  server() {
    return server;
  }
  async close() {}
}

const client = new IProto({ cluster: new MemoryCluster(), maxParallel: DEPTH });
const L3 = compile('L3');
const Triple = defineMessage({
  msg: 7,
  request: { template: 'L3', fields: ['a', 'b', 'c'] },
  response: { template: 'L3', fields: ['a', 'b', 'c'] },
});

async function withDepth(one) {
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      next++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: DEPTH }, worker));
  return REQUESTS;
}

let sink = 0;
const paths = {
  bare: () =>
    server.send(7, L3.pack(1, 2, 3)).then((frame) => {
      sink += L3.unpack(frame.body)[0];
    }),
  plain: () =>
    client.send({ msg: 7, data: [1, 2, 3], pack: 'L3', unpack: 'L3' }).then((reply) => {
      sink += reply[0];
    }),
  object: () =>
    client.send(new Triple.Request({ a: 1, b: 2, c: 3 })).then((reply) => {
      sink += reply.a;
    }),
};

/** Requests per second of CPU time: on a shared machine wall time mostly measures preemption. */
async function rate(path) {
  globalThis.gc?.();
  const start = process.cpuUsage();
  const done = await withDepth(path);
  const used = process.cpuUsage(start);
  return (done * 1e6) / (used.user + used.system);
}

const best = { bare: 0, plain: 0, object: 0 };
for (const name of Object.keys(paths)) await rate(paths[name]); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const name of Object.keys(paths)) best[name] = Math.max(best[name], await rate(paths[name]));
}
await client.close();

const results = ['plain', 'object'].map((name) => {
  const ratio = best[name] / best.bare;
  return {
    name: `send ${name} message (depth ${DEPTH}, in memory)`,
    unit: 'req/s',
    value: Math.round(best[name]),
    baseline: 'pack + server.send + unpack by hand',
    baselineValue: Math.round(best.bare),
    ratio: Number(ratio.toFixed(3)),
    target: TARGETS[name],
    pass: ratio >= TARGETS[name],
  };
});

const pad = (text, width) => String(text).padEnd(width);
process.stderr.write(`${pad('benchmark', 48)}${pad('req/s', 12)}${pad('by hand', 12)}ratio\n`);
for (const r of results) {
  process.stderr.write(`${pad(r.name, 48)}${pad(r.value, 12)}${pad(r.baselineValue, 12)}${r.ratio}\n`);
}
if (sink === 0) process.stderr.write('(no replies?)\n');
console.log(JSON.stringify({ package: '@iproto/client', results }));
