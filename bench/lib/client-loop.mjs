// The client under test, driven like an application drives it: `depth` loops, each awaiting one
// `send` at a time, so `depth` requests are always in flight. Every reply is checked.
const MSG = 17;

export function message() {
  return { msg: MSG, data: [1, 2, 3], pack: 'L3', unpack: 'L3' };
}

function check(reply) {
  if (!Array.isArray(reply) || reply[0] !== 1 || reply[1] !== 2 || reply[2] !== 3) {
    throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
  }
}

/**
 * Runs `warmupMs` untimed then `durationMs` timed with `depth` requests in flight on `client` (which
 * the caller owns: one client serves every run, as one serves an application for its whole life);
 * resolves to { requests, seconds, rps } for the timed part.
 */
export async function clientLoop({ client, depth, durationMs, warmupMs = 200 }) {
  // One untimed round trip first: the connection is open before the timing starts.
  check(await client.send(message()));
  let running = true;
  let done = 0;
  const loop = async () => {
    while (running) {
      check(await client.send(message()));
      done++;
    }
  };
  // A failed request rejects `all`, which ends the run at once rather than after the timers.
  const all = Promise.all(Array.from({ length: depth }, loop));
  try {
    await Promise.race([sleep(warmupMs), all]);
    const startCount = done;
    const start = process.hrtime.bigint();
    await Promise.race([sleep(durationMs), all]);
    const endCount = done;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    running = false;
    await all;
    const requests = endCount - startCount;
    return { requests, seconds, rps: requests / seconds };
  } finally {
    running = false;
    await all.catch(() => {});
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
