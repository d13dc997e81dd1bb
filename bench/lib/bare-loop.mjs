// The bare Node baseline: one socket, `depth` requests in flight, written and read by hand with
// the least work a correct client must do: per request, write its header (with a fresh sync) and
// its three integers into the batch being gathered; per reply, read its header and its three
// integers and check them. No sync table, no promise or object per request, one write per burst of
// replies. What the client under test does beyond this is its overhead.
import net from 'node:net';

const HEADER_SIZE = 12;
const MSG = 17;
// The request the clients send: msg 17, body pack('L3', 1, 2, 3).
const BODY_SIZE = 12;
const FRAME_SIZE = HEADER_SIZE + BODY_SIZE;

/**
 * Runs the loop for `warmupMs` untimed then `durationMs` timed; resolves to
 * { requests, seconds, rps } for the timed part.
 */
export async function bareLoop({ host, port, depth, durationMs, warmupMs = 200 }) {
  const socket = net.connect({ host, port, noDelay: true });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let sync = 0;
  // A fresh buffer per batch: a buffer handed to socket.write must not change until it is flushed.
  const batch = (count) => {
    const frames = Buffer.allocUnsafe(count * FRAME_SIZE);
    for (let at = 0; at < frames.length; at += FRAME_SIZE) {
      frames.writeUInt32LE(MSG, at);
      frames.writeUInt32LE(BODY_SIZE, at + 4);
      frames.writeUInt32LE(sync, at + 8);
      frames.writeUInt32LE(1, at + 12);
      frames.writeUInt32LE(2, at + 16);
      frames.writeUInt32LE(3, at + 20);
      sync = (sync + 1) >>> 0;
    }
    return frames;
  };
  let refill = true;
  let inFlight = depth;
  let done = 0;
  let carry;

  const finished = new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      if (carry !== undefined) {
        chunk = Buffer.concat([carry, chunk]);
        carry = undefined;
      }
      let at = 0;
      let replies = 0;
      while (chunk.length - at >= HEADER_SIZE) {
        const len = chunk.readUInt32LE(at + 4);
        const end = at + HEADER_SIZE + len;
        if (end > chunk.length) break;
        if (
          chunk.readUInt32LE(at) !== MSG ||
          len !== BODY_SIZE ||
          chunk.readUInt32LE(at + 12) !== 1 ||
          chunk.readUInt32LE(at + 16) !== 2 ||
          chunk.readUInt32LE(at + 20) !== 3
        ) {
          reject(new Error(`bare loop: unexpected reply frame ${chunk.subarray(at, end).toString('hex')}`));
          socket.destroy();
          return;
        }
        at = end;
        replies++;
      }
      if (at < chunk.length) carry = chunk.subarray(at);
      done += replies;
      inFlight -= replies;
      if (refill) {
        if (replies > 0) socket.write(batch(replies));
        inFlight += replies;
      } else if (inFlight === 0) {
        resolve();
      }
    });
  });

  socket.write(batch(depth));
  await sleep(warmupMs);
  const startCount = done;
  const start = process.hrtime.bigint();
  await sleep(durationMs);
  const endCount = done;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  refill = false;
  if (inFlight > 0) await finished;
  socket.destroy();
  const requests = endCount - startCount;
  return { requests, seconds, rps: requests / seconds };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
