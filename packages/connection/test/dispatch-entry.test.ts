// Issue 12, "one object per request": a request that is a free `DispatchEntry` and its own handler
// is the connection's entry, and is handed back as soon as the connection settles it, so its
// dispatcher may send the same object again (a retry) while the connection still waits out the
// first try's late reply.
import { queryObjects } from 'node:v8';
import type { Frame } from '@iproto/framing';
import { startTestServer, type TestServer } from '@iproto/server/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DispatchEntry, ENTRY_IDLE, ENTRY_QUEUED, ENTRY_SENT } from '../src/index.js';
import { expectNoLeaks, Ledger, resources, until } from './support/test-support.js';

let before: Record<string, number>;
let ledger: Ledger;
let server: TestServer;

beforeEach(async () => {
  before = resources();
  ledger = new Ledger();
  server = await startTestServer();
});

afterEach(async () => {
  await ledger.closeAll();
  await server.close();
  await expectNoLeaks(before);
});

/** A request that is its own handler, recording every outcome it is told of. */
class Probe extends DispatchEntry {
  override readonly body: Uint8Array;
  override readonly noReply: boolean;
  override readonly signal: AbortSignal | undefined;
  readonly outcomes: (Frame | Error | undefined)[] = [];
  #waiters: (() => void)[] = [];

  constructor(
    override readonly msg: number,
    text: string,
    public timeout?: number,
    options: { noReply?: boolean; signal?: AbortSignal } = {},
  ) {
    super();
    this.body = Buffer.from(text);
    this.noReply = options.noReply === true;
    this.signal = options.signal;
  }

  onReply(frame: Frame | undefined): void {
    this.outcomes.push(frame);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  onError(error: Error): void {
    this.outcomes.push(error);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once it has been told of `count` outcomes in all. */
  told(count: number): Promise<void> {
    if (this.outcomes.length >= count) return Promise.resolve();
    return new Promise<void>((resolve) => this.#waiters.push(resolve)).then(() => this.told(count));
  }
}

const text = (outcome: Frame | Error | undefined): string =>
  outcome instanceof Error
    ? `error ${(outcome as { code?: string }).code}`
    : Buffer.from(outcome!.body).toString();

describe('a request that is its own connection entry (issue 12: one object per request)', () => {
  it('is held by the connection itself: no other entry exists while it is in flight', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port });
    server.faults.add({ type: 'delay', ms: 300 }, { times: 1 });
    const probe = new Probe(7, 'one object');
    // Every entry of a connection is a DispatchEntry (so are the prototypes of its subclasses).
    const entries = queryObjects(DispatchEntry, { format: 'count' });
    connection.dispatch(probe, probe);
    expect(probe.state).toBe(ENTRY_SENT);
    expect(connection.inFlight).toBe(1);
    expect(queryObjects(DispatchEntry, { format: 'count' })).toBe(entries);
    await probe.told(1);
    expect(text(probe.outcomes[0])).toBe('one object');
    expect(probe.state).toBe(ENTRY_IDLE);
  });

  it('a request that is not its own handler gets an entry of the connection', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port });
    const probe = new Probe(7, 'routed');
    const handler = new Probe(0, '');
    connection.dispatch(probe, handler);
    expect(probe.state).toBe(ENTRY_IDLE);
    await handler.told(1);
    expect(text(handler.outcomes[0])).toBe('routed');
    expect(probe.outcomes).toEqual([]);
  });

  it('timed out, it is handed back at once: sent again, it gets its own reply and the late one is dropped', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { timeout: 2000 });
    const errors: Error[] = [];
    connection.on('error', (error) => errors.push(error));
    server.faults.add({ type: 'delay', ms: 400 }, { times: 1 });
    const probe = new Probe(7, 'retried', 100);
    connection.dispatch(probe, probe);
    const firstSync = probe.sync;
    await probe.told(1);
    expect(text(probe.outcomes[0])).toBe('error ETIMEDOUT');
    expect(probe.state).toBe(ENTRY_IDLE);
    // The first try's sync is still held (by a stand-in) for its late reply.
    expect(connection.inFlight).toBe(1);
    connection.dispatch(probe, probe);
    expect(probe.state).toBe(ENTRY_SENT);
    expect(probe.sync).not.toBe(firstSync);
    await probe.told(2);
    expect(text(probe.outcomes[1])).toBe('retried');
    // The late reply to the first try arrives and is dropped quietly: no unknown sync, no error.
    await until(() => connection.inFlight === 0, 'the late reply to free its sync');
    expect(errors).toEqual([]);
    expect(connection.connected).toBe(true);
    expect(probe.outcomes).toHaveLength(2);
  });

  it('expired in the queue and sent again at once, it joins the queue at the back', async () => {
    const order: number[] = [];
    const connection = ledger.connection(
      { host: server.host, port: server.port },
      { maxParallel: 1, sendStarted: (_sync, msg) => order.push(msg) },
    );
    server.faults.add({ type: 'delay', ms: 300 }, { times: 1, msg: 1 });
    const holder = new Probe(1, 'holds the slot');
    const ahead = new Probe(2, 'ahead', 5000);
    const probe = new Probe(3, 'expires', 50);
    const behind = new Probe(4, 'behind', 5000);
    for (const request of [holder, ahead, probe, behind]) connection.dispatch(request, request);
    expect(probe.state).toBe(ENTRY_QUEUED);
    await probe.told(1);
    expect(text(probe.outcomes[0])).toBe('error ETIMEDOUT');
    // Its old place in the queue is forgotten lazily (it is not at the front); sent again, it must
    // not take that place, nor start twice.
    probe.timeout = 5000;
    connection.dispatch(probe, probe);
    await Promise.all([holder.told(1), ahead.told(1), probe.told(2), behind.told(1)]);
    expect(order).toEqual([1, 2, 4, 3]);
    expect(text(probe.outcomes[1])).toBe('expires');
    expect(probe.outcomes).toHaveLength(2);
    expect(connection.inFlight).toBe(0);
    expect(connection.queued).toBe(0);
  });

  it('a noReply request aborted before its frame is written frees its sync once the write is done', async () => {
    const connection = ledger.connection({ host: server.host, port: server.port }, { timeout: 10_000 });
    // The test server answers every frame; a noReply message must get no answer.
    server.faults.add({ type: 'drop' }, { msg: 7 });
    await connection.connect();
    const controller = new AbortController();
    const probe = new Probe(7, 'never mind', undefined, { noReply: true, signal: controller.signal });
    connection.dispatch(probe, probe);
    // The frame waits for the end of this turn of the loop; the abort comes first.
    controller.abort();
    await probe.told(1);
    expect((probe.outcomes[0] as Error).name).toBe('AbortError');
    // Without waiting out the 10 s grace: the write is done, so the sync is free.
    await until(() => connection.inFlight === 0, 'the written frame to free its sync', 2000);
    expect(probe.outcomes).toHaveLength(1);
    expect(connection.connected).toBe(true);
  });
});
