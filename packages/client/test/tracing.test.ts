import { tracingChannel } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { type RequestTraceContext, requestTracing } from '../src/diagnostics.js';
import { Fixture } from './support/test-helpers.js';

const fixture = new Fixture();

type Event = [string, RequestTraceContext];

/** Subscribes to every channel of `tracing:iproto:client:request` (by name, as an APM would). */
function record(): { events: Event[]; stop: () => void } {
  const events: Event[] = [];
  const tracing = tracingChannel('iproto:client:request');
  const handlers = {
    start: (m: unknown) => events.push(['start', m as RequestTraceContext]),
    end: (m: unknown) => events.push(['end', m as RequestTraceContext]),
    asyncStart: (m: unknown) => events.push(['asyncStart', m as RequestTraceContext]),
    asyncEnd: (m: unknown) => events.push(['asyncEnd', m as RequestTraceContext]),
    error: (m: unknown) => events.push(['error', m as RequestTraceContext]),
  };
  tracing.subscribe(handlers);
  return { events, stop: () => tracing.unsubscribe(handlers) };
}

let stop: (() => void) | undefined;
afterEach(async () => {
  stop?.();
  stop = undefined;
  await fixture.cleanup();
});

describe('the request TracingChannel (tracing:iproto:client:request:*)', () => {
  it('a reply: start, end, asyncStart, asyncEnd on one context carrying the result', async () => {
    const [server] = await fixture.startServers(1);
    const client = fixture.client([server]);
    const recorder = record();
    stop = recorder.stop;
    const message = { msg: 7, data: [42], unpack: 'L' };
    const pending = client.send(message);
    // start and end come within the send call.
    expect(recorder.events.map(([name]) => name)).toEqual(['start', 'end']);
    expect(await pending).toEqual([42]);
    expect(recorder.events.map(([name]) => name)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    const contexts = new Set(recorder.events.map(([, context]) => context));
    expect(contexts.size).toBe(1);
    const [context] = contexts;
    expect(context).toMatchObject({ client, message, result: [42] });
    expect(context.error).toBeUndefined();
  });

  it('a failure after a retry: error then asyncStart, asyncEnd, once, after the last try', async () => {
    const servers = await fixture.startServers(2);
    for (const server of servers) server.faults.add({ type: 'close' }, { times: 1 });
    const client = fixture.client(servers);
    const recorder = record();
    stop = recorder.stop;
    const tries: number[] = [];
    client.on('retry', (event) => tries.push(event.try));
    const error = await client.send({ msg: 7, data: [1], unpack: 'L', retry: true }).catch((e: Error) => e);
    expect(tries).toEqual([2]);
    expect(recorder.events.map(([name]) => name)).toEqual([
      'start',
      'end',
      'error',
      'asyncStart',
      'asyncEnd',
    ]);
    expect(recorder.events[2][1].error).toBe(error);
  });

  it('a message refused before sending, in a callback send and in sendBulk: each traced', async () => {
    const [server] = await fixture.startServers(1);
    const client = fixture.client([server]);
    const recorder = record();
    stop = recorder.stop;
    const failure = await new Promise<Error | undefined>((resolve) =>
      client.send({ msg: -1, unpack: 'L' }, (_reply, error) => resolve(error)),
    );
    expect(failure).toMatchObject({ code: 'ERR_BAD_MESSAGE' });
    expect(recorder.events.map(([name]) => name)).toEqual([
      'start',
      'end',
      'error',
      'asyncStart',
      'asyncEnd',
    ]);
    recorder.events.length = 0;
    await client.sendBulk([
      { msg: 7, data: [1], unpack: 'L' },
      { msg: 7, data: [2], unpack: 'L' },
    ]);
    expect(recorder.events.filter(([name]) => name === 'asyncEnd')).toHaveLength(2);
    expect(recorder.events.filter(([name]) => name === 'start').map(([, c]) => c.result)).toEqual([[1], [2]]);
  });

  it('is the exported requestTracing, and has no subscribers unless someone traces', () => {
    expect(requestTracing.hasSubscribers).toBe(false);
    const recorder = record();
    expect(requestTracing.hasSubscribers).toBe(true);
    recorder.stop();
    expect(requestTracing.hasSubscribers).toBe(false);
  });

  it('a signal aborted before send: end before the outcome, and a callback never runs inside send()', async () => {
    const [server] = await fixture.startServers(1);
    const client = fixture.client([server]);
    const recorder = record();
    stop = recorder.stop;
    const reason = new Error('gone');
    const pending = client.send({ msg: 7, data: [1], unpack: 'L' }, { signal: AbortSignal.abort(reason) });
    expect(recorder.events.map(([name]) => name)).toEqual(['start', 'end']);
    expect(await pending.catch((error: unknown) => error)).toBe(reason);
    expect(recorder.events.map(([name]) => name)).toEqual([
      'start',
      'end',
      'error',
      'asyncStart',
      'asyncEnd',
    ]);
    let called = false;
    const settled = new Promise<unknown>((resolve) => {
      client.send(
        { msg: 7, data: [1], unpack: 'L' },
        (_reply, error) => {
          called = true;
          resolve(error);
        },
        { signal: AbortSignal.abort(reason) },
      );
    });
    expect(called).toBe(false);
    expect(await settled).toBe(reason);
  });
});
