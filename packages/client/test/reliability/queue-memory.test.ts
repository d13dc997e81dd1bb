import v8 from 'node:v8';
import vm from 'node:vm';
import { IProto } from '@iproto/client';
import { Connection } from '@iproto/connection';
import { startTestServer } from '@iproto/server/testing';
import { afterEach, describe, expect, it } from 'vitest';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Bodies that are still reachable after a full GC (WeakRef targets live to the end of the job). */
async function survivors(refs: WeakRef<object>[]): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return refs.filter((ref) => ref.deref() !== undefined).length;
}

/** Bodies a healthy connection may keep for a while: the last write's. */
const KEPT = 2;
/** Dead entries a queue may keep until its next compaction: a small constant, not one per request. */
const DEAD_SLACK = 100;

let cleanup: (() => Promise<unknown> | undefined)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

/**
 * A connection whose 10 slots are taken by requests a stuck server never answers; the connection's
 * own read-idle limit is off (`timeout: 0`), so only per-request deadlines and signals act.
 */
async function stuckConnection() {
  const held: (() => void)[] = [];
  const server = await startTestServer({
    handler: (request) => new Promise<Uint8Array>((resolve) => held.push(() => resolve(request.body))),
  });
  const connection = new Connection({ host: server.host, port: server.port }, { timeout: 0 });
  cleanup.push(() => server.close());
  cleanup.push(() => {
    connection.destroy();
    return undefined;
  });
  const busy = Array.from({ length: 10 }, () => connection.send(1, Buffer.alloc(1)).catch(() => {}));
  while (held.length < 10) await new Promise((resolve) => setTimeout(resolve, 5));
  return { connection, busy };
}

/*
 * Regression: @iproto/connection used to drop expired and aborted requests from its queue only in
 * #pump, which runs on a reply or a finished write; a stuck server left them, bodies included, in the
 * queue. Connection#dropDead now runs on every such death.
 */
describe('requests that die in a connection queue release what they hold', () => {
  it('(the method) bodies of answered requests are found unreachable', async () => {
    const server = await startTestServer({ handler: () => Buffer.alloc(0) });
    cleanup.push(() => server.close());
    const connection = new Connection({ host: server.host, port: server.port });
    cleanup.push(() => connection.close());
    const refs: WeakRef<object>[] = [];
    const sends = [];
    for (let i = 0; i < 1000; i++) {
      const body = Buffer.alloc(16 * 1024);
      refs.push(new WeakRef(body));
      sends.push(connection.send(1, body));
    }
    await Promise.all(sends);
    // At most the last write's body may still be referenced by the socket or the writer.
    expect(await survivors(refs)).toBeLessThanOrEqual(KEPT);
  });

  it('expired while queued (slots busy, server stuck): their bodies are freed', async () => {
    const { connection } = await stuckConnection();
    const refs: WeakRef<object>[] = [];
    for (let round = 0; round < 5; round++) {
      const sends = [];
      for (let i = 0; i < 200; i++) {
        const body = Buffer.alloc(16 * 1024);
        refs.push(new WeakRef(body));
        sends.push(
          connection.send(1, body, { timeout: 1 }).then(
            () => 'ok',
            (error: { code?: string }) => error.code,
          ),
        );
      }
      expect(new Set(await Promise.all(sends))).toEqual(new Set(['ETIMEDOUT']));
    }
    expect(connection.queued).toBe(0);
    // 1000 settled requests: their 16 KiB bodies may not pile up.
    expect(await survivors(refs)).toBeLessThanOrEqual(DEAD_SLACK);
  });

  it('aborted while queued (slots busy, server stuck): their bodies are freed', async () => {
    const { connection } = await stuckConnection();
    const refs: WeakRef<object>[] = [];
    const sends = [];
    for (let i = 0; i < 1000; i++) {
      const body = Buffer.alloc(16 * 1024);
      refs.push(new WeakRef(body));
      const controller = new AbortController();
      sends.push(
        connection.send(1, body, { signal: controller.signal }).then(
          () => 'ok',
          (error: { name?: string }) => error.name,
        ),
      );
      controller.abort();
    }
    expect(new Set(await Promise.all(sends))).toEqual(new Set(['AbortError']));
    expect(connection.queued).toBe(0);
    expect(await survivors(refs)).toBeLessThanOrEqual(DEAD_SLACK);
  });
});

describe("requests that die in the client's queue release what they hold", () => {
  it('aborted while waiting behind maxParallel, from the middle of the queue: freed, and the rest still run', async () => {
    const held: (() => void)[] = [];
    const server = await startTestServer({
      handler: (request) => new Promise<Uint8Array>((resolve) => held.push(() => resolve(request.body))),
    });
    cleanup.push(() => server.close());
    const client = new IProto({ servers: server.address, maxParallel: 10, timeout: 0 });
    cleanup.push(() => client.close());
    const refs: WeakRef<object>[] = [];
    const controllers: AbortController[] = [];
    const sends: Promise<string>[] = [];
    for (let i = 0; i < 1010; i++) {
      const payload = Buffer.alloc(16 * 1024);
      if (i > 10) refs.push(new WeakRef(payload));
      const controller = new AbortController();
      controllers.push(controller);
      sends.push(
        client
          .send({ msg: 1, payload, unpack: (data: Buffer) => data.length }, { signal: controller.signal })
          .then(
            () => 'ok',
            (error: { name?: string }) => error.name ?? 'error',
          ),
      );
    }
    expect(client.queued).toBe(1000);
    // Every queued request but the first, newest first then the rest: the living front keeps them
    // from leaving the queue at its head, so only its compaction frees them.
    for (let i = 1009; i > 10; i -= 2) controllers[i]!.abort();
    for (let i = 1008; i > 10; i -= 2) controllers[i]!.abort();
    expect(client.queued).toBe(1);
    expect(await survivors(refs)).toBeLessThanOrEqual(DEAD_SLACK);
    // The running ten are answered; the first queued request still runs.
    while (held.length < 10) await new Promise((resolve) => setTimeout(resolve, 5));
    for (const release of held.splice(0)) release();
    while (held.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    held.splice(0)[0]!();
    const outcomes = await Promise.all(sends);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(11);
    expect(outcomes.filter((o) => o === 'AbortError')).toHaveLength(999);
    expect(client.queued).toBe(0);
  });
});
