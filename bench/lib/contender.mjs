// One contender of bench/client.mjs, run in a fresh process of its own so that no contender runs
// on a heap or JIT state another left behind (issue 12: a bare loop run after the client, in the
// same process, ran slower and flattered the client's ratio).
//
//   node --expose-gc bench/lib/contender.mjs KIND DEPTH WARMUP_MS DURATION_MS HOST:PORT[,HOST:PORT...]
//   node --expose-gc bench/lib/contender.mjs heap COUNT 0 0 HOST:PORT     (a holding echo server)
//
// KIND: bare | bare3 | floor | floor3 | connection | iproto | iproto-tuned | iproto3. Prints one JSON line:
// { rps } or, for heap, { heapMB }.
import { bareLoop } from './bare-loop.mjs';
import { clientLoop, message } from './client-loop.mjs';

const [kind, depthArg, warmupArg, durationArg, addresses] = process.argv.slice(2);
const depth = Number(depthArg);
const warmupMs = Number(warmupArg);
const durationMs = Number(durationArg);
const servers = addresses.split(',').map((address) => {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
});

/** `depth` spread over `parts` sockets as evenly as it goes (256 over 3: 86, 85, 85). */
const split = (total, parts) =>
  Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));

async function run() {
  const common = { durationMs, warmupMs };
  switch (kind) {
    case 'bare':
      return bareLoop({ ...common, ...servers[0], depth });
    case 'bare3': {
      // Each socket runs its own loop at the same time; the figure is their sum.
      const parts = split(depth, servers.length).map((d, i) =>
        d === 0 ? null : bareLoop({ ...common, ...servers[i], depth: d }),
      );
      const results = await Promise.all(parts.filter(Boolean));
      return { rps: results.reduce((sum, r) => sum + r.rps, 0) };
    }
    case 'floor':
    case 'floor3': {
      // The least any Promise client costs here (promise-floor.mjs): the ceiling of every ratio.
      // Over three sockets, requests go to each in turn, as the client's round-robin sends them.
      const { PromiseFloor } = await import('./promise-floor.mjs');
      const floors = await Promise.all(servers.map((server) => PromiseFloor.connect(server)));
      let next = 0;
      const client = {
        send(message) {
          const floor = floors[next];
          next = next + 1 === floors.length ? 0 : next + 1;
          return floor.send(message);
        },
      };
      try {
        return await clientLoop({ ...common, depth, client });
      } finally {
        for (const floor of floors) floor.close();
      }
    }
    case 'connection': {
      const { Connection } = await import('@iproto/connection');
      const { pack } = await import('@iproto/pack');
      const connection = new Connection(servers[0], { maxParallel: Math.max(depth, 1) });
      const body = pack('L3', 1, 2, 3);
      const fake = {
        async send() {
          const frame = await connection.send(17, body);
          const b = frame.body;
          if (b.length !== 12 || b[0] !== 1 || b[4] !== 2 || b[8] !== 3) throw new Error('bad reply');
          return [1, 2, 3];
        },
      };
      try {
        return await clientLoop({ ...common, depth, client: fake });
      } finally {
        await connection.close();
      }
    }
    case 'iproto':
    case 'iproto-tuned':
    case 'iproto3': {
      const { IProto } = await import('@iproto/client');
      const list = addresses;
      const options =
        kind === 'iproto-tuned'
          ? // What a user who read the README sets: the limits sized to the load, one try.
            {
              servers: list,
              maxParallel: Math.max(depth, 1),
              maxRequestRetries: 1,
              clusterOptions: { maxParallel: Math.max(depth, 1) },
            }
          : { servers: list };
      const client = new IProto(options);
      try {
        return await clientLoop({ ...common, depth, client });
      } finally {
        await client.close();
      }
    }
    case 'heap': {
      // `depth` requests in flight on IProto with its defaults (against a server that holds every
      // reply), heap measured after a full GC, less the heap before the client was made.
      const { IProto } = await import('@iproto/client');
      globalThis.gc();
      const before = process.memoryUsage().heapUsed;
      const client = new IProto({ servers: list(), timeout: 0 });
      const pending = [];
      // Handlers are attached only at the end, as an application awaiting later would: a `.catch` per
      // request would add a promise and a closure of the harness's own to every figure.
      for (let i = 0; i < depth; i++) pending.push(client.send(message()));
      await new Promise((resolve) => setTimeout(resolve, 500));
      globalThis.gc();
      const heapMB = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
      client.destroy();
      // Attached before the rejections (they come in later microtasks).
      await Promise.allSettled(pending);
      return { heapMB, inFlight: depth };
    }
    default:
      throw new Error(`unknown contender ${kind}`);
  }
}

function list() {
  return addresses;
}

const result = await run();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
