import { IProto, type IProtoOptions } from '@iproto/client';
import { describe, expect, it } from 'vitest';
// The same harness as `pnpm soak` (bench/soak/), run short: servers in child processes, real kills.
import { runSoak } from '../../../../bench/soak/harness.mjs';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

type Callback = (reply: unknown, error: Error | undefined) => void;
type PlainSend = (
  message: { msg: number; retry?: boolean },
  callback?: Callback | object,
  options?: object,
) => unknown;

describe('soak (short, seeded)', () => {
  it('keeps every invariant through kill -9, SIGSTOP, late replies, cut frames, wrong syncs, disconnectAll', async () => {
    const result = await runSoak({
      requests: 30_000,
      seed: 7,
      inFlight: 1000,
      timeout: 400,
      warmup: 2000,
      faults: ['kill', 'pause', 'delay', 'truncate', 'wrongSync', 'disconnectAll'],
    });
    const violated = result.checks.filter((check: Check) => !check.ok);
    expect(violated).toEqual([]);
    // The faults really happened and really hurt: without them there would be no failures to retry.
    expect(result.chaos.filter((event: { kind: string }) => event.kind !== 'mark')).toHaveLength(6);
    const codes = new Map<string, number>(result.outcomes);
    expect(codes.get('ok')).toBeGreaterThan(10_000);
    expect(codes.get('ERR_UNKNOWN_SYNC')).toBeGreaterThan(0);
    expect(codes.get('ETIMEDOUT')).toBeGreaterThan(0);
    expect(codes.get('ABORT_ERR')).toBeGreaterThan(0);
    expect(codes.get('ERR_DESTROYED')).toBeGreaterThan(0);
    // Every fault struck while requests were in flight.
    for (const event of result.chaos.filter((e: { kind: string }) => e.kind !== 'mark')) {
      expect(event.inFlight).toBeGreaterThan(0);
    }
    expect(result.stats.retries).toBeGreaterThan(0);
    expect(result.stats.serverDown).toBeGreaterThan(0);
  }, 90_000);

  it('the harness itself catches a client that settles twice, sends twice, answers wrongly, leaks', async () => {
    const hoard: number[][] = [];
    let forgotten: NodeJS.Timeout | undefined;
    const broken = (options: IProtoOptions) => {
      const client = new IProto(options);
      forgotten = setInterval(() => {}, 60_000); // a timer close() leaves behind
      const send = client.send.bind(client) as unknown as PlainSend;
      const patched: PlainSend = (message, callback, sendOptions) => {
        if (typeof callback !== 'function') {
          return new Promise((resolve, reject) => {
            patched(message, (reply, error) => (error ? reject(error) : resolve(reply)), callback);
          });
        }
        const id = message.msg & 0x0fffffff;
        hoard.push(new Array(2048).fill(id)); // 16 KiB of heap per request, never freed
        if (id % 97 === 1 && message.retry === false) send(message, () => {}, sendOptions); // sent twice
        send(
          message,
          (reply, error) => {
            if (id % 89 === 2 && !error)
              callback([Buffer.from('not yours')], undefined); // a wrong reply
            else callback(reply, error);
            if (id % 83 === 3) callback(reply, error); // settled twice
          },
          sendOptions,
        );
      };
      (client as unknown as { send: PlainSend }).send = patched;
      return client;
    };
    const result = await runSoak({
      requests: 3000,
      seed: 3,
      inFlight: 200,
      timeout: 1000,
      warmup: 300,
      faults: [],
      createClient: broken,
    }).finally(() => clearInterval(forgotten));
    hoard.length = 0;
    const verdict = Object.fromEntries(result.checks.map((check: Check) => [check.name, check.ok]));
    expect(verdict['every request settled exactly once']).toBe(false);
    expect(verdict['every resolved reply is the echo of its request']).toBe(false);
    expect(verdict['no non-retryable request sent twice']).toBe(false);
    expect(verdict['heap after the run within warm-up + 16 MiB']).toBe(false);
    expect(verdict['no handles left open after close()']).toBe(false);
    expect(verdict['only documented errors']).toBe(true);
    expect(result.ok).toBe(false);
  }, 60_000);
});
