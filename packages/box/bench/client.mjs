// Our Box under load, in a process of its own: `node client.mjs PORT select|insert DEPTH SECONDS`
// keeps DEPTH calls in flight for SECONDS (after a warm-up) and prints {"rps":..,"requests":..}.
import { Box } from '../dist/index.js';

const [port, op, depthArg, secondsArg] = process.argv.slice(2);
const depth = Number(depthArg);
const seconds = Number(secondsArg);
const USERS = 1000;
const box = new Box({
  servers: `127.0.0.1:${port}`,
  spaces: [
    {
      space: 0,
      name: 'users',
      format: 'L$L',
      fields: ['id', 'name', 'age'],
      indexes: [{ name: 'primary', keys: ['id'] }],
    },
  ],
  timeout: 10_000,
  clientOptions: { maxParallel: depth, clusterOptions: { maxParallel: depth } },
});

let done = 0;
let stop = false;
async function worker(start) {
  let key = start;
  while (!stop) {
    key = (key % USERS) + 1;
    if (op === 'select') {
      const rows = await box.select('users', key);
      if (rows.length !== 1 || typeof rows[0].name !== 'string')
        throw new Error(`bad select reply ${JSON.stringify(rows)}`);
    } else {
      const n = await box.insert('users', [key, `user ${key}`, key % 100]);
      if (n !== 1) throw new Error(`bad insert reply ${n}`);
    }
    done++;
  }
}

async function run(ms) {
  stop = false;
  done = 0;
  const workers = Array.from({ length: depth }, (_, i) => worker(i * 7));
  const t0 = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, ms));
  stop = true;
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const count = done;
  await Promise.all(workers);
  return count / elapsed;
}

await run(300); // warm-up: connect, compile, fill caches
global.gc?.();
const rps = await run(seconds * 1000);
await box.close();
console.log(JSON.stringify({ op, depth, rps }));
