// CPU time per request (user + system, of this process alone) for each layer of the path, for
// deciding whether a change to the hot path helps on a shared machine where throughput moves with
// the neighbours' load: the CPU a request costs moves much less. Not part of `pnpm bench`.
//
//   node bench/lib/cpu-cost.mjs KIND DEPTH REQUESTS HOST:PORT
//
// KIND: bare (bench/lib/bare-loop.mjs) | dispatch (Connection#dispatch with one handler object per
// loop, no promise) | connection (Connection#send, a promise per request, replies checked by hand)
// | floor (bench/lib/promise-floor.mjs: a Promise per request and nothing else) | iproto
// (IProto#send with its defaults).
import { bareLoop } from './bare-loop.mjs';

const [kind, depthArg, countArg, address] = process.argv.slice(2);
const depth = Number(depthArg);
const count = Number(countArg);
const at = address.lastIndexOf(':');
const target = { host: address.slice(0, at), port: Number(address.slice(at + 1)) };

function report(cpu, wallNs) {
  const ns = (us) => Math.round((us * 1000) / count);
  console.log(
    JSON.stringify({
      kind,
      depth,
      count,
      cpuNsPerReq: ns(cpu.user + cpu.system),
      userNsPerReq: ns(cpu.user),
      wallNsPerReq: Math.round(wallNs / count),
    }),
  );
}

/** Runs `depth` loops of `once()` (a promise per request) until `count` requests are done. */
async function measureLoops(once) {
  for (let i = 0; i < 2000; i++) await once(); // warm up
  let started = 0;
  const loop = async () => {
    while (started < count) {
      started++;
      await once();
    }
  };
  const before = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: depth }, loop));
  report(process.cpuUsage(before), Number(process.hrtime.bigint() - start));
}

const body = Buffer.from([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
const check = (b) => {
  if (b.length !== 12 || b[0] !== 1 || b[4] !== 2 || b[8] !== 3) throw new Error('bad reply');
};

switch (kind) {
  case 'bare': {
    // Time-bound, so CPU is divided by the requests it made.
    const before = process.cpuUsage();
    const start = process.hrtime.bigint();
    const result = await bareLoop({ ...target, depth, durationMs: 2000, warmupMs: 0 });
    const cpu = process.cpuUsage(before);
    const wall = Number(process.hrtime.bigint() - start);
    const ns = (us) => Math.round((us * 1000) / result.requests);
    console.log(
      JSON.stringify({
        kind,
        depth,
        count: result.requests,
        cpuNsPerReq: ns(cpu.user + cpu.system),
        userNsPerReq: ns(cpu.user),
        wallNsPerReq: Math.round(wall / result.requests),
      }),
    );
    break;
  }
  case 'dispatch': {
    const { Connection } = await import('@iproto/connection');
    const connection = new Connection(target, { maxParallel: depth });
    await connection.connect();
    let done = 0;
    let finish;
    const finished = new Promise((resolve) => (finish = resolve));
    const request = { msg: 17, body };
    const handler = {
      onReply() {},
      onReplyBytes(_msg, _sync, bytes, start, end) {
        // Checked in place, as the bare loop does: no view made.
        if (end - start !== 12 || bytes[start] !== 1 || bytes[start + 4] !== 2 || bytes[start + 8] !== 3) {
          throw new Error('bad reply');
        }
        if (++done === count) finish();
        else if (done <= count - depth) connection.dispatch(request, handler);
      },
      onError(error) {
        throw error;
      },
    };
    const before = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < depth; i++) connection.dispatch(request, handler);
    await finished;
    report(process.cpuUsage(before), Number(process.hrtime.bigint() - start));
    await connection.close();
    break;
  }
  case 'connection': {
    const { Connection } = await import('@iproto/connection');
    const connection = new Connection(target, { maxParallel: depth });
    await measureLoops(async () => check((await connection.send(17, body)).body));
    await connection.close();
    break;
  }
  case 'floor': {
    const { PromiseFloor } = await import('./promise-floor.mjs');
    const floor = await PromiseFloor.connect(target);
    const message = () => ({ msg: 17, data: [1, 2, 3] });
    await measureLoops(async () => {
      const r = await floor.send(message());
      if (r[2] !== 3) throw new Error('bad reply');
    });
    floor.close();
    break;
  }
  case 'iproto': {
    const { IProto } = await import('@iproto/client');
    const client = new IProto({ servers: address });
    const message = () => ({ msg: 17, data: [1, 2, 3], pack: 'L3', unpack: 'L3' });
    await measureLoops(async () => {
      const r = await client.send(message());
      if (r[2] !== 3) throw new Error('bad reply');
    });
    await client.close();
    break;
  }
  default:
    throw new Error(`unknown kind ${kind}`);
}
process.exit(0);
