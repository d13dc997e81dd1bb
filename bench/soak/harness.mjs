import { createHook } from 'node:async_hooks';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { IProto, isIProtoError } from '@iproto/client';
import { DOCUMENTED_CODES } from './codes.mjs';
import { idOf, isData, MAX_REQUESTS, requestMsg } from './protocol.mjs';
import { createRng, hash32 } from './rng.mjs';
import { ServerProcess, sleep } from './server-process.mjs';

export { DOCUMENTED_CODES } from './codes.mjs';

const MiB = 1024 * 1024;

/** Defaults of the full run (`pnpm soak`); the CI test passes smaller numbers. */
export const FULL = {
  requests: 1_000_000,
  seed: 1,
  inFlight: 10_000,
  /** The client's maxParallel (default: half of inFlight, so its FIFO queue is used too). */
  maxParallel: undefined,
  /** Per-try timeout of the client's servers, ms; the chaos durations are scaled from it. */
  timeout: 2000,
  maxRequestRetries: 3,
  /** Requests run (and settled) before the memory baseline is taken; no fault before it ends. */
  warmup: 50_000,
  /** Share of the requests held back until the last fault is over and every server is back. */
  tail: 0.1,
  faults: ['kill', 'pause', 'delay', 'truncate', 'wrongSync', 'kill'],
  /** Heap after the run may exceed the warm-up heap by this much (bytes) ... */
  heapSlack: 16 * MiB,
  /** ... and RSS the warm-up RSS by this factor plus this many bytes. */
  rssFactor: 1.5,
  rssSlack: 64 * MiB,
};

/** The shape of one request, drawn from (seed, id) so any id can be regenerated. */
export function requestSpec(seed, id, timeout) {
  const rng = createRng(hash32(seed, id));
  const kind = rng();
  const retryable = rng() < 0.5;
  const sizeRoll = rng();
  let size;
  if (sizeRoll < 0.05) size = 0;
  else if (sizeRoll < 0.7) size = rng.int(8, 256);
  else if (sizeRoll < 0.95) size = rng.int(257, 4096);
  else size = rng.int(4097, 65536);
  const spec = { id, retryable, size, noReply: false, abortAfter: -1, timeout: undefined };
  if (kind < 0.03) spec.noReply = true;
  else if (kind < 0.06) spec.abortAfter = rng() < 0.25 ? 0 : rng.int(1, Math.max(2, timeout >> 2));
  else if (kind < 0.1) spec.timeout = rng.int(1, 20);
  return spec;
}

function requestBody(id, size) {
  const body = Buffer.allocUnsafe(size);
  if (size >= 8) {
    body.writeUInt32LE(id, 0);
    body.writeUInt32LE(size, 4);
  }
  if (size >= 12) body.writeUInt32LE((id ^ 0xa5a5a5a5) >>> 0, size - 4);
  return body;
}

const identity = (body) => body;

/** A gc() that works without --expose-gc. */
function collector() {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc');
}

function memory(gc) {
  gc();
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

/** Resource types a client could leave open: timers and TCP handles (the servers' IPC pipes are not ours). */
const TRACKED = new Set(['Timeout', 'Immediate', 'TCPWRAP', 'TCPSERVERWRAP']);

/**
 * Records every timer and TCP handle created from now on, and forgets each when it is destroyed
 * (cleared, fired, closed). `stop()` lists those still alive and keeping the process up, leaving out
 * the harness's own (`ignore`). Counting `getActiveResourcesInfo()` by type before and after would
 * miss a leak whenever an unrelated timer of the same type ended meanwhile.
 */
function trackResources(ignore) {
  const live = new Map();
  const hook = createHook({
    init(asyncId, type, _triggerId, resource) {
      if (TRACKED.has(type)) live.set(asyncId, { type, resource });
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  }).enable();
  return {
    stop() {
      hook.disable();
      const open = new Map();
      for (const { type, resource } of live.values()) {
        if (ignore(resource)) continue;
        // A timer that has just fired or been cleared has its destroy hook still queued; Node marks it.
        if (resource._destroyed === true) continue;
        if (typeof resource.hasRef === 'function' && !resource.hasRef()) continue;
        open.set(type, (open.get(type) ?? 0) + 1);
      }
      return [...open].map(([type, count]) => `${type} x${count}`);
    },
  };
}

/** The seeded chaos schedule: which fault, on which server, at which point of the run. */
export function chaosSchedule(seed, faults, warmupShare, tail) {
  const rng = createRng(hash32(seed, 0xc4a05));
  const start = warmupShare + 0.05;
  const end = 1 - tail - 0.05;
  const step = faults.length > 0 ? (end - start) / faults.length : 0;
  let servers = [];
  return faults.map((kind, i) => {
    if (servers.length === 0) servers = rng.shuffle([0, 1, 2]);
    return { kind, server: servers.pop(), at: start + step * (i + rng() * 0.5) };
  });
}

/**
 * Runs the soak: three echo servers in child processes, one IProto client (hash-crc32,
 * maxRequestRetries 3), a seeded stream of requests and a seeded chaos schedule, then checks the
 * invariants. Resolves to `{ checks, stats, chaos, outcomes }`; `checks` is a list of
 * `{ name, ok, detail }`.
 */
export async function runSoak(options = {}) {
  const o = { ...FULL, ...options };
  const onProgress = o.onProgress ?? (() => {});
  const log = o.log ?? (() => {});
  if (!(o.requests >= 1 && o.requests <= MAX_REQUESTS)) throw new RangeError(`requests out of range`);
  const warmup = Math.min(o.warmup, Math.floor(o.requests / 4));
  const tailStart = Math.floor(o.requests * (1 - o.tail));
  const gc = collector();
  const dir = mkdtempSync(join(tmpdir(), 'iproto-soak-'));

  const settled = new Uint8Array(o.requests);
  const wire = new Uint8Array(o.requests);
  const outcomes = new Map();
  const mismatches = [];
  const undocumented = [];
  let retries = 0;
  let downs = 0;
  let ups = 0;

  const servers = [0, 1, 2].map((i) => new ServerProcess(i, dir));
  const chaosLog = [];
  let client;
  const timers = new Set();
  try {
    await Promise.all(servers.map((server) => server.start()));
    log(`servers: ${servers.map((s) => `127.0.0.1:${s.port}`).join(', ')}`);
    const resources = trackResources((resource) => timers.has(resource));

    // `createClient` lets the harness's own test hand in a deliberately broken client.
    const createClient = o.createClient ?? ((clientOptions) => new IProto(clientOptions));
    client = createClient({
      servers: servers.map((s) => `127.0.0.1:${s.port}`).join(','),
      balance: o.balance ?? 'hash-crc32',
      maxRequestRetries: o.maxRequestRetries,
      retryDelay: o.retryDelay ?? 0,
      // Below the in-flight count, so that requests also wait (and get aborted) in the client's queue.
      maxParallel: o.maxParallel ?? Math.max(1, Math.floor(o.inFlight / 2)),
      timeout: o.timeout,
      connectTimeout: o.timeout,
      clusterOptions: {
        // Enough per connection for the client-wide in-flight limit to be the one that binds.
        maxParallel: Math.max(10, Math.ceil(o.inFlight / 2)),
        maxQueue: o.inFlight + 1,
        health: { minDelay: 50, maxDelay: 500, probeTimeout: Math.min(1000, o.timeout) },
        sendStarted(_sync, msg) {
          if (isData(msg)) {
            const id = idOf(msg);
            if (wire[id] < 255) wire[id]++;
          }
        },
      },
    });
    client.on('retry', () => retries++);
    client.on('server down', () => downs++);
    client.on('server up', () => ups++);

    // ---- load ---------------------------------------------------------------------------------
    let launched = 0;
    let done = 0;
    let outstanding = 0;
    let limit = warmup;
    let pumpScheduled = false;
    let wake;
    const started = Date.now();

    const onSettle = (spec, body, timer, reply, error) => {
      if (timer !== undefined) {
        clearTimeout(timer);
        timers.delete(timer);
      }
      const id = spec.id;
      if (settled[id] < 255) settled[id]++;
      if (settled[id] > 1) return; // counted by the check; do not count its slot twice
      outstanding--;
      done++;
      if (error) {
        // An abort rejects with the signal's reason: controller.abort()'s DOMException AbortError.
        const aborted = error.name === 'AbortError';
        const code = aborted
          ? 'ABORT_ERR'
          : isIProtoError(error)
            ? error.code
            : `${error.name}: ${error.message}`;
        outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
        if (!aborted && (!isIProtoError(error) || !DOCUMENTED_CODES.has(error.code))) {
          if (undocumented.length < 10) undocumented.push(`#${id}: ${code} ${error.message}`);
        }
      } else {
        outcomes.set('ok', (outcomes.get('ok') ?? 0) + 1);
        const got = reply?.[0];
        const ok = spec.noReply
          ? reply?.length === 1 && reply[0] === 0
          : Buffer.isBuffer(got) && got.length === spec.size && got.equals(body);
        if (!ok && mismatches.length < 10) {
          mismatches.push(`#${id}: expected ${spec.size} B echo, got ${describe(reply)}`);
        } else if (!ok) mismatches.push(null);
      }
      schedulePump();
      wake?.();
    };

    /** One request: its spec, body and plain message (timeout and signal inside the message). */
    const prepare = (id) => {
      const spec = requestSpec(o.seed, id, o.timeout);
      const body = requestBody(id, spec.size);
      const message = {
        msg: requestMsg(id, spec.noReply),
        key: id,
        payload: body,
        unpack: identity,
        noReply: spec.noReply,
        retry: spec.retryable,
      };
      if (spec.timeout !== undefined) message.timeout = spec.timeout;
      let timer;
      if (spec.abortAfter >= 0) {
        const controller = new AbortController();
        message.signal = controller.signal;
        if (spec.abortAfter === 0) controller.abort();
        else {
          timer = setTimeout(() => {
            timers.delete(timer);
            controller.abort();
          }, spec.abortAfter);
          timers.add(timer);
        }
      }
      return { spec, body, message, timer };
    };

    // Every way in: the callback form (most), the promise form (3 in 10), sendBulk (groups of 4).
    const launch = (id) => {
      const { spec, body, message, timer } = prepare(id);
      outstanding++;
      const settle = (reply, error) => onSettle(spec, body, timer, reply, error);
      if (id % 10 < 3) {
        client.send(message).then(
          (reply) => settle(reply, undefined),
          (error) => settle(undefined, error),
        );
      } else {
        client.send(message, settle);
      }
    };
    const launchBulk = (first, count) => {
      const batch = [];
      for (let k = 0; k < count; k++) batch.push(prepare(first + k));
      outstanding += count;
      client.sendBulk(
        batch.map((p) => p.message),
        (results) => {
          for (let k = 0; k < count; k++) {
            const p = batch[k];
            onSettle(p.spec, p.body, p.timer, results[k].data, results[k].error);
          }
        },
      );
    };

    function pump() {
      pumpScheduled = false;
      while (launched < limit && outstanding < o.inFlight) {
        if (launched % 50 === 7 && launched + 4 <= limit && outstanding + 4 <= o.inFlight) {
          launchBulk(launched, 4);
          launched += 4;
        } else launch(launched++);
      }
    }
    function schedulePump() {
      if (pumpScheduled) return;
      pumpScheduled = true;
      setImmediate(pump);
    }

    let peakQueued = 0;
    let peakInProgress = 0;
    const progress = setInterval(() => {
      peakQueued = Math.max(peakQueued, client.queued);
      peakInProgress = Math.max(peakInProgress, client.inProgress);
      onProgress({ done, launched, outstanding, requests: o.requests, elapsed: Date.now() - started });
    }, 250);
    timers.add(progress);

    /** Waits until `predicate()` holds, or no request settled for `stallMs`. */
    const stallMs = Math.max(15_000, o.timeout * (o.maxRequestRetries + 2) * 2);
    const until = async (predicate) => {
      let lastDone = -1;
      let lastChange = Date.now();
      while (!predicate()) {
        if (done !== lastDone) {
          lastDone = done;
          lastChange = Date.now();
        } else if (Date.now() - lastChange > stallMs) return false;
        await new Promise((resolve) => {
          wake = resolve;
          const t = setTimeout(resolve, 100);
          t.unref();
        });
        wake = undefined;
      }
      return true;
    };

    // Warm-up, then the memory baseline with nothing in flight.
    schedulePump();
    await until(() => done >= warmup);
    const warm = memory(gc);
    log(`warm-up: ${warmup} requests, heap ${mb(warm.heapUsed)}, rss ${mb(warm.rss)}`);

    // The main load, with the chaos schedule running beside it.
    const schedule = chaosSchedule(o.seed, o.faults, warmup / o.requests, o.tail);
    // Each fault strikes at its point of the run with up to `inFlight` requests launched past that
    // point still in flight, and the load runs on to the next fault's point meanwhile: every fault
    // meets live traffic, even when the load outpaces the schedule.
    for (const [i, event] of schedule.entries()) {
      const at = Math.floor(event.at * o.requests);
      limit = Math.max(limit, Math.min(at + o.inFlight, tailStart));
      schedulePump();
      await until(() => done >= at && launched >= limit);
      const next = i + 1 < schedule.length ? Math.floor(schedule[i + 1].at * o.requests) : tailStart;
      limit = Math.max(limit, next);
      schedulePump();
      const server = servers[event.server];
      const entry = {
        kind: event.kind,
        server: server.name,
        at: done,
        inFlight: outstanding,
        time: Date.now() - started,
      };
      chaosLog.push(entry);
      log(`chaos: ${event.kind} ${server.name} at request ${done}`);
      await applyFault(event.kind, server, o, entry);
    }
    limit = Math.max(limit, tailStart);
    schedulePump();
    await until(() => done >= tailStart);
    // Every server back in the cluster before the tail is released: it must take traffic again.
    const back = await waitFor(() => client.cluster.servers.every((s) => s.active), stallMs);
    for (const server of servers) {
      const m = await server.mark();
      chaosLog.push({ kind: 'mark', server: server.name, at: done, received: m.received });
    }
    limit = o.requests;
    schedulePump();
    const allSettled = await until(() => done >= o.requests && outstanding === 0);
    const elapsed = Date.now() - started;
    clearInterval(progress);
    timers.delete(progress);
    onProgress({ done, launched, outstanding, requests: o.requests, elapsed });

    // ---- after the run ------------------------------------------------------------------------
    for (const server of servers) await server.stats();
    const closed = await within(client.close(), 10_000);
    client.removeAllListeners();
    client = undefined;
    await new Promise((resolve) => setImmediate(resolve));
    await sleep(50);
    const after = memory(gc);
    const leaked = resources.stop();
    for (const server of servers) await server.stop();

    // Ids each server saw, over all incarnations (a kill -9 loses at most its last turn's ids).
    const serverCount = new Uint8Array(o.requests);
    let serverTotal = 0;
    for (const server of servers) {
      for (const incarnation of server.incarnations) {
        let bytes;
        try {
          bytes = readFileSync(incarnation.log);
        } catch {
          continue;
        }
        const ids = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
        serverTotal += ids.length;
        for (const id of ids) if (id < o.requests && serverCount[id] < 255) serverCount[id]++;
      }
    }

    // ---- invariants ---------------------------------------------------------------------------
    let unsettled = 0;
    let doubled = 0;
    let nonRetryTwice = 0;
    let retryOver = 0;
    let wireTotal = 0;
    const samples = { unsettled: [], doubled: [], nonRetry: [], retry: [] };
    for (let id = 0; id < o.requests; id++) {
      wireTotal += wire[id];
      if (settled[id] === 0 && unsettled++ < 5) samples.unsettled.push(id);
      if (settled[id] > 1 && doubled++ < 5) samples.doubled.push(id);
      const sent = Math.max(wire[id], serverCount[id]);
      if (sent <= 1) continue;
      const spec = requestSpec(o.seed, id, o.timeout);
      if (!spec.retryable) {
        if (nonRetryTwice++ < 5) samples.nonRetry.push(`#${id} wire ${wire[id]} server ${serverCount[id]}`);
      } else if (sent > o.maxRequestRetries && retryOver++ < 5) {
        samples.retry.push(`#${id} wire ${wire[id]} server ${serverCount[id]}`);
      }
    }
    const reuse = servers.map((server) => {
      const last = server.incarnations.at(-1);
      const afterMark = (last.received ?? 0) - (last.marks.at(-1) ?? 0);
      return { server: server.name, incarnations: server.incarnations.length, afterMark };
    });
    const heapBound = warm.heapUsed + o.heapSlack;
    const rssBound = warm.rss * o.rssFactor + o.rssSlack;
    const list = (xs) => (xs.length ? ` (e.g. ${xs.join(', ')})` : '');
    const checks = [
      {
        name: 'every request settled exactly once',
        ok: allSettled && unsettled === 0 && doubled === 0,
        detail: `${o.requests - unsettled - doubled} once, ${unsettled} never${list(samples.unsettled)}, ${doubled} twice or more${list(samples.doubled)}`,
      },
      {
        name: 'every resolved reply is the echo of its request',
        ok: mismatches.length === 0,
        detail: `${outcomes.get('ok') ?? 0} replies checked byte for byte, ${mismatches.length} wrong${list(mismatches.filter(Boolean))}`,
      },
      {
        name: 'only documented errors',
        ok: undocumented.length === 0,
        detail:
          undocumented.length === 0
            ? 'every failure an IProtoError with a listed code'
            : undocumented.join('; '),
      },
      {
        name: 'no non-retryable request sent twice',
        ok: nonRetryTwice === 0,
        detail: `${nonRetryTwice} sent more than once${list(samples.nonRetry)}`,
      },
      {
        name: `retryable requests sent at most ${o.maxRequestRetries} times`,
        ok: retryOver === 0,
        detail: `${retryOver} over the limit${list(samples.retry)}; ${retries} retries in all`,
      },
      {
        name: 'servers used again after the faults',
        ok: back && reuse.every((r) => r.afterMark > 0),
        detail: `${back ? 'all active again' : 'NOT all active again'}; requests after the last fault: ${reuse
          .map((r) => `${r.server} ${r.afterMark} (${r.incarnations} start${r.incarnations > 1 ? 's' : ''})`)
          .join(', ')}`,
      },
      {
        name: 'heap after the run within warm-up + 16 MiB',
        ok: after.heapUsed <= heapBound,
        detail: `warm-up ${mb(warm.heapUsed)}, after ${mb(after.heapUsed)}, bound ${mb(heapBound)}`,
      },
      {
        name: `RSS after the run within warm-up x ${o.rssFactor} + ${mb(o.rssSlack)}`,
        ok: after.rss <= rssBound,
        detail: `warm-up ${mb(warm.rss)}, after ${mb(after.rss)}, bound ${mb(rssBound)}`,
      },
      {
        name: 'no handles left open after close()',
        ok: closed && leaked.length === 0,
        detail: closed
          ? leaked.length === 0
            ? 'no socket, timer or other resource beyond those before the client'
            : `left open: ${leaked.join(', ')}`
          : 'close() did not resolve within 10 s',
      },
    ];
    const stats = {
      requests: o.requests,
      seed: o.seed,
      inFlight: o.inFlight,
      elapsedMs: elapsed,
      rate: Math.round((o.requests / elapsed) * 1000),
      wireSends: wireTotal,
      serverReceived: serverTotal,
      retries,
      peakInProgress,
      peakQueued,
      serverDown: downs,
      serverUp: ups,
      warm,
      after,
    };
    return { ok: checks.every((c) => c.ok), checks, stats, chaos: chaosLog, outcomes: [...outcomes] };
  } finally {
    for (const timer of timers) clearTimeout(timer);
    if (client) await within(client.close(), 5000);
    await Promise.all(servers.map((server) => server.stop().catch(() => server.kill9())));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One fault of the schedule; resolves when it is over (the server answering normally again). */
async function applyFault(kind, server, o, entry) {
  const t = o.timeout;
  switch (kind) {
    case 'kill':
      // kill -9, then the same port again: the client must notice, fail over and come back.
      await server.kill9();
      await sleep(Math.min(500, t / 2));
      await server.start();
      entry.detail = `killed, restarted on port ${server.port}`;
      return;
    case 'pause':
      server.pause();
      await sleep(Math.round(t * 1.5));
      server.resume();
      entry.detail = `SIGSTOP for ${Math.round(t * 1.5)} ms (timeout ${t} ms), then SIGCONT`;
      return;
    case 'delay': {
      // Each fault is cleared when its time is up, so the tail of the run meets healthy servers.
      const ms = Math.round(t * 1.25);
      await server.fault({ type: 'delay', ms }, { every: 3, times: 300 });
      await sleep(ms * 2);
      const fired = await server.clearFaults();
      entry.detail = `every 3rd reply held ${ms} ms (timeout ${t} ms), up to 300 times: ${fired} held`;
      return;
    }
    case 'truncate': {
      await server.fault({ type: 'truncate' }, { every: 50, times: 20 });
      await sleep(t);
      const fired = await server.clearFaults();
      entry.detail = `every 50th reply cut mid-frame and the connection closed, up to 20 times: ${fired} cut`;
      return;
    }
    case 'wrongSync': {
      await server.fault({ type: 'wrongSync' }, { every: 50, times: 20 });
      await sleep(t);
      const fired = await server.clearFaults();
      entry.detail = `every 50th reply with a wrong sync, up to 20 times: ${fired} sent`;
      return;
    }
    case 'disconnectAll':
      // The seed's advice after fork(): every connection of the process dropped under load.
      IProto.disconnectAll();
      await sleep(t / 2);
      entry.detail = 'IProto.disconnectAll() under load';
      return;
    default: {
      if (!OTHER_FAULTS.has(kind)) throw new Error(`unknown fault ${kind}`);
      await server.fault({ type: kind }, { every: 50, times: 20 });
      await sleep(t);
      const fired = await server.clearFaults();
      entry.detail = `${kind} on every 50th reply, up to 20 times: ${fired} done`;
      return;
    }
  }
}

/** Further @iproto/server/testing faults a schedule may name (`--faults`), every 50th reply. */
const OTHER_FAULTS = new Set([
  'duplicate',
  'wrongMsg',
  'garbage',
  'hugeLength',
  'close',
  'stopReading',
  'drop',
]);

/** Resolves true when `promise` settles within `ms`, false otherwise; leaves no timer behind. */
function within(promise, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

async function waitFor(predicate, ms) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

function describe(reply) {
  if (!Array.isArray(reply)) return String(reply);
  const first = reply[0];
  if (Buffer.isBuffer(first)) {
    const id = first.length >= 4 ? first.readUInt32LE(0) : 'none';
    return `${first.length} B (id ${id})`;
  }
  return JSON.stringify(reply);
}

export function mb(bytes) {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
