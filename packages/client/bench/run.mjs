// The client's own cost per request, without the network: IProto.send through its real cluster,
// server and connection, over an in-memory stream that echoes every write back (no server work, no
// kernel), against the same work done by hand on the layer below: pack the body, `Connection#send`
// over the same kind of stream, unpack the reply. What the ratio measures is what the client adds
// on top of its connection: message handling, balancing, the task, retries and queue bookkeeping,
// the caller's promise. The network benchmark against Perl and a bare loop is bench/client.mjs at
// the repository root. Run after a build:
//   pnpm --filter @iproto/client... build && pnpm --filter @iproto/client bench
// Human table on stderr; the last stdout line is the JSON summary of docs/architecture.md.
import { Duplex } from 'node:stream';
import { Connection } from '@iproto/connection';
import { compile } from '@iproto/pack';
import { printRows, resultRow } from '../../../bench/lib/rows.mjs';
import { defineMessage, IProto } from '../dist/index.js';

const REQUESTS = 200_000;
const DEPTH = 256;
const ROUNDS = 7;
// The client keeps at least half the rate of the hand-written path for plain messages; message
// objects "require some more CPU" (the seed), a class instance per request and per reply.
const TARGETS = { plain: 0.5, object: 0.25 };

/**
 * A stream that hands every write back as the next read, one macrotask later (as a socket would:
 * never from inside the write). An iproto echo server answers a request with its own bytes.
 */
function echoStream() {
  return new Duplex({
    read() {},
    write(chunk, _encoding, callback) {
      setImmediate(() => this.push(chunk));
      callback();
    },
    final(callback) {
      this.push(null);
      callback();
    },
  });
}

const connectionOptions = { maxParallel: DEPTH, timeout: 10_000 };
const memoryConnection = (options) => new Connection({ address: 'memory', connect: echoStream }, options);

const client = new IProto({
  servers: 'memory:1',
  maxParallel: DEPTH,
  clusterOptions: {
    ...connectionOptions,
    connectionFactory: (_target, options) => memoryConnection(options),
  },
});
const connection = memoryConnection(connectionOptions);
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
    connection.send(7, L3.packArray([1, 2, 3])).then((frame) => {
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
await Promise.all([client.close(), connection.close()]);

const results = ['plain', 'object'].map((name) =>
  resultRow({
    name: `send ${name} message (depth ${DEPTH}, in memory)`,
    unit: 'req/s',
    value: best[name],
    baseline: 'pack + Connection#send + unpack by hand',
    baselineValue: best.bare,
    target: TARGETS[name],
    ratio: 'ours/baseline',
  }),
);

printRows(results);
if (sink === 0) process.stderr.write('(no replies?)\n');
console.log(JSON.stringify({ package: '@iproto/client', results }));
