// CPU time per request (user + system, of this process alone), for deciding whether a change to
// the hot path helps on a shared machine where throughput moves with the neighbours' load: the
// CPU a request costs moves much less. Not part of `pnpm bench`.
//
//   node bench/lib/cpu-cost.mjs KIND DEPTH REQUESTS HOST:PORT     (KIND: iproto | connection)
import { clientLoop } from './client-loop.mjs';

const [kind, depthArg, countArg, address] = process.argv.slice(2);
const depth = Number(depthArg);
const count = Number(countArg);
const { IProto } = await import('@iproto/client');
const client = new IProto({ servers: address });
// Warm up, then count CPU over a fixed number of requests.
await clientLoop({ client, depth, durationMs: 300, warmupMs: 200 });
let done = 0;
let resolveAll;
const finished = new Promise((resolve) => (resolveAll = resolve));
const message = () => ({ msg: 17, data: [1, 2, 3], pack: 'L3', unpack: 'L3' });
const before = process.cpuUsage();
const start = process.hrtime.bigint();
let started = 0;
const loop = async () => {
  while (started < count) {
    started++;
    const r = await client.send(message());
    if (r[2] !== 3) throw new Error('bad reply');
    if (++done === count) resolveAll();
  }
};
for (let i = 0; i < depth; i++) loop();
await finished;
const cpu = process.cpuUsage(before);
const wall = Number(process.hrtime.bigint() - start) / 1e3;
await client.close();
console.log(
  JSON.stringify({
    kind,
    depth,
    count,
    cpuNsPerReq: ((cpu.user + cpu.system) * 1000) / count,
    userNs: (cpu.user * 1000) / count,
    wallNsPerReq: (wall * 1000) / count,
  }),
);
process.exit(0);
