/**
 * Interop with the Perl reference: three MR::IProto::Server processes as a cluster, and a Perl
 * MR::IProto client asked where it balances keys. These tests fail (never skip) when perl or the
 * MR::IProto / AnyEvent modules are missing: they are the proof of compatibility.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pack } from '@iproto/pack';
import { startTestServer, type TestServer } from '@iproto/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineMessage } from '../src/define-message.js';
import { ErrorReply } from '../src/error-reply.js';
import { IProto } from '../src/iproto.js';

const perlDir = fileURLToPath(new URL('./support/perl/', import.meta.url));

interface PerlServer {
  id: number;
  address: string;
  child: ChildProcess;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Starts `server.pl` on a free port; tries another port if that one was taken meanwhile. */
async function startPerlServer(id: number): Promise<PerlServer> {
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn('perl', [`${perlDir}server.pl`, String(port), String(id)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
    });
    const ready = await new Promise<boolean>((resolve) => {
      child.stdout!.on('data', (chunk) => {
        if (String(chunk).includes('ready')) resolve(true);
      });
      child.once('exit', () => resolve(false));
      child.once('error', () => resolve(false));
    });
    if (ready) return { id, address: `127.0.0.1:${port}`, child };
    lastError = stderr;
  }
  throw new Error(`could not start MR::IProto::Server (perl test/support/perl/server.pl): ${lastError}`);
}

/** The host:port a Perl MR::IProto client picks for each key. */
function perlPicks(servers: string, balance: string, keys: readonly string[], inactive = ''): string[] {
  const out = execFileSync('perl', [`${perlDir}pick.pl`, servers, balance, inactive], {
    input: keys.map((k) => `${k}\n`).join(''),
    encoding: 'utf8',
  });
  return out.trim().split('\n');
}

const ECHO = 21;
const Echo = defineMessage({
  msg: ECHO,
  name: 'Echo',
  request: { template: 'L w/a*', fields: ['value', 'text'] as const, key: 'text', retry: true },
  response: { template: 'L L w/a*', fields: ['server', 'value', 'text'] as const },
});

describe('interop with Perl MR::IProto::Server and MR::IProto', () => {
  let perl: PerlServer[] = [];
  let servers = '';
  const clients: IProto[] = [];
  const client = (options: ConstructorParameters<typeof IProto>[0]) => {
    const created = new IProto(options);
    clients.push(created);
    return created;
  };

  beforeAll(async () => {
    // Fails the suite with perl's own message when a module is missing.
    execFileSync('perl', ['-MMR::IProto', '-MMR::IProto::Server', '-MAnyEvent', '-e', '1'], {
      stdio: 'pipe',
    });
    perl = await Promise.all([1, 2, 3].map(startPerlServer));
    servers = perl.map((p) => p.address).join(',');
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const p of perl) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await once(p.child, 'exit');
      }
    }
  });

  it('talks to every server of the cluster with plain messages', async () => {
    const iproto = client({ servers });
    const seen = new Set<number>();
    for (let i = 0; i < 30; i++) {
      const [server, value] = (await iproto.send({
        msg: 7,
        data: [i],
        pack: 'L',
        unpack: 'L L',
      })) as number[];
      expect(value).toBe(i);
      seen.add(server);
    }
    expect([...seen].sort()).toEqual([1, 2, 3]);
  });

  it('talks to them with message objects and sendBulk, results in request order', async () => {
    const iproto = client({ servers, messages: [Echo] });
    const one = await iproto.send(new Echo.Request({ value: 5, text: 'hello' }));
    expect(one).toBeInstanceOf(Echo.Response);
    expect(one.value).toBe(5);
    expect(String(one.text)).toBe('hello');

    const messages = Array.from({ length: 24 }, (_, i) =>
      i % 2 ? new Echo.Request({ value: i, text: `t${i}` }) : { msg: 7, data: [i], unpack: 'L L' },
    );
    const results = await iproto.sendBulk(messages);
    results.forEach((result, i) => {
      if (i % 2) {
        expect((result as InstanceType<typeof Echo.Response>).value).toBe(i);
      } else {
        expect((result as { data: number[] }).data[1]).toBe(i);
        expect((result as { error: unknown }).error).toBeUndefined();
      }
    });
  });

  it('with hash-crc32, sends each key to the server a Perl MR::IProto client picks', async () => {
    const keys = [
      ...Array.from({ length: 40 }, (_, i) => `user:${i}`),
      ...Array.from({ length: 20 }, (_, i) => String(i * 7919)),
      'ключ',
      '',
    ];
    const expected = perlPicks(servers, 'hash-crc32', keys);
    const iproto = client({ servers, balance: 'hash-crc32', messages: [Echo] });
    const byId = new Map(perl.map((p) => [p.id, p.address]));
    const answered: string[] = [];
    for (const key of keys) {
      expect(iproto.cluster.server(key).address).toBe(expected[answered.length]);
      const reply = await iproto.send(new Echo.Request({ value: 0, text: key }));
      answered.push(byId.get(reply.server as number)!);
    }
    expect(answered).toEqual(expected);
    expect(new Set(answered).size).toBe(3);
  });

  it('with ketama, picks the server a Perl MR::IProto client picks', () => {
    const keys = Array.from({ length: 50 }, (_, i) => `k${i * 31}`);
    const iproto = client({ servers, balance: 'ketama' });
    expect(keys.map((key) => iproto.cluster.server(key).address)).toEqual(perlPicks(servers, 'ketama', keys));
  });

  it('retries on the other servers when one is killed mid-run', async () => {
    const iproto = client({ servers, messages: [Echo], timeout: 2000 });
    const victim = perl[1];
    const replies: unknown[] = [];
    let killed = false;
    const run = async (n: number) => {
      const reply = await iproto.send(new Echo.Request({ value: n, text: `x${n}` }));
      replies.push(reply);
      if (replies.length === 15 && !killed) {
        killed = true;
        victim.child.kill('SIGKILL');
        await once(victim.child, 'exit');
      }
    };
    const batches: Array<Promise<void>> = [];
    for (let n = 0; n < 60; n++) {
      batches.push(run(n));
      if (n % 5 === 4) await Promise.all(batches.splice(0));
    }
    await Promise.all(batches);
    expect(killed).toBe(true);
    expect(replies).toHaveLength(60);
    const after = (replies.slice(20) as Array<{ server: number }>).map((r) => r.server);
    expect(after).not.toContain(victim.id);

    // Without retry, the dead server's failure reaches the caller (as an error object in bulk).
    const noRetry = client({ servers: victim.address, maxRequestRetries: 1 });
    const [failed] = await noRetry.sendBulk([new Echo.Request({ value: 1, text: 'gone' })]);
    expect(failed).toBeInstanceOf(ErrorReply);
    expect((failed as ErrorReply).errno).toBeGreaterThan(0);
  });

  it('with hash-crc32 and a server down, a retry goes where a Perl client sends the key', async () => {
    const victim = perl[1];
    if (victim.child.exitCode === null && victim.child.signalCode === null) {
      victim.child.kill('SIGKILL');
      await once(victim.child, 'exit');
    }
    const keys = Array.from({ length: 40 }, (_, i) => `user:${i}`);
    // Where Perl sends each key once the dead server is marked inactive (by its failed connection).
    const expected = perlPicks(servers, 'hash-crc32', keys, victim.address);
    const before = perlPicks(servers, 'hash-crc32', keys);
    expect(before).toContain(victim.address);
    const iproto = client({ servers, balance: 'hash-crc32', messages: [Echo] });
    const byId = new Map(perl.map((p) => [p.id, p.address]));
    const answered: string[] = [];
    for (const key of keys) {
      const reply = await iproto.send(new Echo.Request({ value: 1, text: key }));
      answered.push(byId.get(reply.server as number)!);
    }
    expect(answered).toEqual(expected);
    expect(iproto.cluster.servers.find((s) => s.address === victim.address)?.active).toBe(false);
  });
});

describe('retries: the tries a Perl MR::IProto client makes, made the same way', () => {
  const run = promisify(execFile);
  let server: TestServer | undefined;
  afterAll(async () => {
    await server?.close();
  });

  /** Runs one message through the Perl client, then through ours, counting what the server sees. */
  async function both(mode: 'retry' | 'noretry' | 'isretry', max: number) {
    server = await startTestServer();
    let counter = 0;
    if (mode === 'isretry') server.on(7, () => pack('L', ++counter));
    else server.faults.add({ type: 'close' });

    // Async: the server answering the Perl child lives in this process.
    const { stdout } = await run('perl', [`${perlDir}retries.pl`, server.address, String(max), mode]);
    const perlTries = server.requests;

    server.requests = 0;
    counter = 0;
    const iproto = new IProto({ servers: server.address, maxRequestRetries: max });
    const ours = await iproto
      .send({
        msg: 7,
        data: [1],
        unpack: 'L',
        retry: mode === 'retry',
        isRetry: mode === 'isretry' ? (data) => (data[0] as number) < 100 : undefined,
      })
      .then(
        (reply) => `reply ${reply.join(' ')}`,
        () => 'error',
      );
    const ourTries = server.requests;
    await iproto.close();
    await server.close();
    server = undefined;
    return { perl: { tries: perlTries, outcome: stdout.trim() }, ours: { tries: ourTries, outcome: ours } };
  }

  it('retries a communication error up to max_request_retries tries when retry is allowed', async () => {
    const { perl, ours } = await both('retry', 3);
    expect(perl).toEqual({ tries: 3, outcome: 'error' });
    expect(ours).toEqual(perl);
  });

  it('does not retry a communication error when retry is not allowed', async () => {
    const { perl, ours } = await both('noretry', 3);
    expect(perl).toEqual({ tries: 1, outcome: 'error' });
    expect(ours).toEqual(perl);
  });

  it('retries while is_retry says so, and returns the last reply when the tries are spent', async () => {
    const { perl, ours } = await both('isretry', 4);
    expect(perl).toEqual({ tries: 4, outcome: 'reply 4' });
    expect(ours).toEqual(perl);
  });
});
