import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from '@iproto/cluster';
import { dumpPacket, encodeFrame } from '@iproto/framing';
import { pack } from '@iproto/pack';
import type { IProtoServer } from '@iproto/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../src/commands/serve.js';
import { assertBuilt, CLI, type CliRun, runCli } from './support/test-support.js';

/**
 * These tests run the built command (`dist/cli.js`, as `npx iproto` would) as a child process
 * against real servers on 127.0.0.1.
 */

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const servers: IProtoServer[] = [];
async function start(echo: boolean): Promise<string> {
  const server = createServer({ echo });
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return `127.0.0.1:${port}`;
}

let dir: string;
beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(join(tmpdir(), 'iproto-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('help and usage errors', () => {
  it('prints the command list without arguments (exit 2) and with --help (exit 0)', async () => {
    const bare = await runCli([]);
    expect(bare.code, bare.stderr + bare.stdout).toBe(2);
    expect(bare.stdout).toContain('Commands:');
    const help = await runCli(['--help']);
    expect(help.code, help.stderr + help.stdout).toBe(0);
    for (const c of ['ping', 'send', 'decode', 'bench', 'serve', 'box'])
      expect(help.stdout).toContain(`  ${c} `);
  });

  it('prints a command help for "help <cmd>" and "<cmd> --help" alike', async () => {
    const a = await runCli(['help', 'send']);
    const b = await runCli(['send', '--help']);
    expect(a.code, a.stderr + a.stdout).toBe(0);
    expect(a.stdout).toContain('Usage: iproto send');
    expect(b.stdout).toBe(a.stdout);
  });

  it('reports a bad command line as one line on stderr with exit 2', async () => {
    const r = await runCli(['ping', '--bogus', '127.0.0.1:1']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^iproto ping: Unknown option '--bogus'.*\n$/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('iproto ping', () => {
  it('prints a round-trip time per server and exits 0 when all are up', async () => {
    const a = await start(true);
    const b = await start(false);
    const r = await runCli(['ping', `${a},${b}`, '--count', '3']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(`^${a}\\s+up\\s+min/avg/max [\\d.]+/[\\d.]+/[\\d.]+ ms \\(3 pings\\)$`),
    );
    expect(lines[1]).toMatch(new RegExp(`^${b}\\s+up\\s+min/avg/max `));
    const one = await runCli(['ping', b]);
    expect(one.stdout).toMatch(new RegExp(`^${b}  up    [\\d.]+ ms\n$`));
  });

  it('exits 1 when any server is down, naming it and the reason', async () => {
    const up = await start(true);
    const down = `127.0.0.1:${await closedPort()}`;
    const r = await runCli(['ping', up, down, '--timeout', '5000']);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`${up}\\s+up`));
    expect(r.stdout).toMatch(new RegExp(`${down}\\s+down\\s+.*ECONNREFUSED`));
    const json = await runCli(['ping', `${up},${down}`, '--json']);
    expect(json.code, json.stderr + json.stdout).toBe(1);
    const out = JSON.parse(json.stdout);
    expect(out.ok).toBe(false);
    expect(out.servers[0]).toMatchObject({ address: up, up: true });
    expect(out.servers[0].rtt).toHaveLength(1);
    expect(out.servers[1]).toMatchObject({ address: down, up: false, code: 'ECONNREFUSED' });
  });

  it('sends the message code given with --msg', async () => {
    const server = createServer({ echo: true });
    servers.push(server);
    const seen: number[] = [];
    server.on('request', (frame: { msg: number }) => seen.push(frame.msg));
    const { port } = await server.listen(0, '127.0.0.1');
    const r = await runCli(['ping', `127.0.0.1:${port}`, '--msg', '0x11', '--count', '2']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(seen).toEqual([17, 17]);
  });
});

describe('iproto send', () => {
  it('inserts and selects a tuple in the box with --pack and --unpack, and reads its errors', async () => {
    const box = await start(false);
    const insert = await runCli([
      'send',
      box,
      '--msg',
      '13',
      '--pack',
      'L L L C L w/a*',
      '0',
      '0',
      '2',
      '4',
      '7',
      'hello world',
      '--unpack',
      'L L',
    ]);
    expect(insert.stderr).toBe('');
    expect(insert.code, insert.stderr + insert.stdout).toBe(0);
    expect(insert.stdout).toMatch(/^reply msg=13 sync=\d+ len=8 time=[\d.]+ ms\n0 1\n$/);
    const selectKey = ['--pack', 'L L L L L L C L', '0', '0', '0', '10', '1', '1', '4', '7'];
    const select = await runCli(['send', box, '--msg', '17', ...selectKey, '--unpack', 'L L L L x L w/a*']);
    expect(select.code, select.stderr + select.stdout).toBe(0);
    expect(select.stdout.split('\n')[1]).toBe('0 1 17 2 7 "hello world"');
    // a key of 3 bytes where the index wants a NUM: the box's error code and NUL-terminated text
    const wrong = await runCli([
      'send',
      box,
      '--msg',
      '17',
      '--pack',
      'L L L L L L w/a*',
      '0',
      '0',
      '0',
      '10',
      '1',
      '1',
      'abc',
      '--unpack',
      'L Z*',
      '--json',
    ]);
    expect(JSON.parse(wrong.stdout)).toMatchObject({
      msg: 17,
      values: [0x2602, 'Supplied key field type does not match index type: expected u32'],
    });
  });

  it('prints the reply as a packet dump without --unpack, with --no-ints too', async () => {
    const echo = await start(true);
    const r = await runCli(['send', echo, '--msg', '7', '--pack', 'L Q', '5', '18446744073709551615']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const [head, dump] = r.stdout.trimEnd().split('\n');
    const sync = Number(/sync=(\d+)/.exec(head)![1]);
    const body = pack('L Q', 5, 18446744073709551615n);
    expect(dump).toBe(dumpPacket(encodeFrame(7, sync, body)));
    const hex = await runCli(['send', echo, '--msg', '7', '--payload-hex', '0102 03', '--no-ints']);
    expect(hex.stdout.trimEnd().split('\n')[1]).toBe(
      '07 00 00 00 03 00 00 00 ' + syncHex(hex.stdout) + ' 01 02 03',
    );
  });

  it('dumps a reply over the debug dump limit whole: the user asked for this one', async () => {
    const echo = await start(true);
    const payload = Buffer.alloc(6000, 0xab);
    const r = await runCli(['send', echo, '--msg', '7', '--payload-hex', payload.toString('hex')]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const [head, dump] = r.stdout.trimEnd().split('\n');
    const sync = Number(/sync=(\d+)/.exec(head)![1]);
    expect(dump).toBe(dumpPacket(encodeFrame(7, sync, payload), { limit: Number.POSITIVE_INFINITY }));
    expect(dump).not.toContain('bytes in all');
  });

  it('sends to the server Perl MR::IProto::Cluster picks for --key among several', async () => {
    const boxes = [createServer({ echo: true }), createServer({ echo: true }), createServer({ echo: true })];
    servers.push(...boxes);
    const received = boxes.map(() => 0);
    const addresses: string[] = [];
    for (const [i, box] of boxes.entries()) {
      box.on('request', () => received[i]++);
      addresses.push(`127.0.0.1:${(await box.listen(0, '127.0.0.1')).port}`);
    }
    const list = `${addresses[0]}:2,${addresses[1]},${addresses[2]}`; // a weight, as Perl allows
    for (const [balance, key] of [
      ['hash-crc32', 'user:7'],
      ['hash-crc32', '12345'],
      ['ketama', 'user:7'],
      ['ketama', 'session-99'],
    ]) {
      const reference = new Cluster({ servers: list, balance: balance as 'ketama', health: false });
      const expected = reference.server(key).address;
      await reference.close();
      const before = [...received];
      const r = await runCli([
        'send',
        list,
        '--key',
        key,
        '--balance',
        balance,
        '--msg',
        '5',
        '--payload-hex',
        '01',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ server: expected, msg: 5, body: '01' });
      const hit = addresses.indexOf(expected);
      expect(received.map((n, i) => n - before[i])).toEqual(addresses.map((_, i) => (i === hit ? 1 : 0)));
    }
    const human = await runCli(['send', list, '--key', 'user:7', '--msg', '5']);
    expect(human.stdout).toMatch(/^reply msg=5 sync=\d+ len=0 time=[\d.]+ ms from 127\.0\.0\.1:\d+\n/);
    // The short names `hash` and `rr`, as bench takes them too.
    const reference = new Cluster({ servers: list, balance: 'hash-crc32', health: false });
    const hashed = reference.server('user:7').address;
    await reference.close();
    const short = await runCli([
      'send',
      list,
      '--key',
      'user:7',
      '--balance',
      'hash',
      '--msg',
      '5',
      '--json',
    ]);
    expect(JSON.parse(short.stdout).server).toBe(hashed);
    const rr = await runCli(['send', list, '--balance', 'rr', '--msg', '5', '--json']);
    expect(rr.code, rr.stderr).toBe(0);
    const noKey = await runCli(['send', list, '--balance', 'ketama', '--msg', '5']);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toBe('iproto send: --balance ketama needs --key\n');
  });

  it('sends a no-reply message and returns once written', async () => {
    const box = await start(false);
    const r = await runCli([
      'send',
      box,
      '--msg',
      '13',
      '--pack',
      'L L L C L w/a*',
      '0',
      '0',
      '2',
      '4',
      '5',
      'v',
      '--no-reply',
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('no reply expected');
    // The box did store it: the message was really sent.
    const select = ['--pack', 'L L L L L L C L', '0', '0', '0', '10', '1', '1', '4', '5'];
    const get = await runCli([
      'send',
      box,
      '--msg',
      '17',
      ...select,
      '--unpack',
      'L L L L x L w/a*',
      '--json',
    ]);
    expect(JSON.parse(get.stdout).values).toEqual([0, 1, 7, 2, 5, 'v']);
  });

  it('fails with one line and exit 1 when the server is down or the reply does not unpack', async () => {
    const down = await runCli(['send', `127.0.0.1:${await closedPort()}`, '--msg', '1']);
    expect(down.code, down.stderr + down.stdout).toBe(1);
    expect(down.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(down.stderr).toContain('ECONNREFUSED');
    const echo = await start(true);
    // An unterminated BER integer: Perl's unpack dies on it, and so does ours.
    const bad = await runCli(['send', echo, '--msg', '1', '--payload-hex', '80', '--unpack', 'w']);
    expect(bad.code, bad.stderr + bad.stdout).toBe(1);
    expect(bad.stderr).toMatch(/^iproto send: cannot unpack the reply with "w": /);
    expect(bad.stdout).toMatch(/^reply msg=1 /);
  });
});

function syncHex(stdout: string): string {
  const sync = Number(/sync=(\d+)/.exec(stdout)![1]);
  return [...encodeFrame(0, sync).subarray(8, 12)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

describe('iproto decode', () => {
  const frames = [
    encodeFrame(1, 100, pack('L w/a*', 0, 'alpha')),
    encodeFrame(2, 101, pack('L w/a*', 1, '')),
    encodeFrame(0xff00, 102),
  ];
  const capture = Buffer.concat([...frames, encodeFrame(3, 103, pack('L', 9)).subarray(0, 14)]);

  it('lists the frames of a capture file with their dumps and decoded bodies', async () => {
    const file = join(dir, 'capture.bin');
    await writeFile(file, capture);
    const r = await runCli(['decode', file, '--unpack', 'L w/a*', '--msg', '1']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toBe(
      `#1 @0 msg=1 sync=100 len=10\n  ${dumpPacket(frames[0])}\n  = 0 "alpha"\n1 frame, ${capture.length} bytes\n`,
    );
    expect(r.stderr).toBe('iproto decode: the last 14 bytes are an incomplete frame\n');
  });

  it('reads stdin and prints JSON', async () => {
    const r = await runCli(['decode', '-', '--json', '--no-ints'], { input: Buffer.concat(frames) });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.rest).toBe(0);
    expect(out.frames.map((f: { msg: number; offset: number }) => [f.msg, f.offset])).toEqual([
      [1, 0],
      [2, frames[0].length],
      [0xff00, frames[0].length + frames[1].length],
    ]);
    expect(out.frames[2].dump).toBe(dumpPacket(frames[2], { ints: false }));
  });

  it('exits 0 quietly when the reader closes the pipe early (| head)', async () => {
    const file = join(dir, 'big.bin');
    await writeFile(
      file,
      Buffer.concat(Array.from({ length: 20_000 }, (_, i) => encodeFrame(1, i, pack('L', i)))),
    );
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'decode', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(result).toEqual({ code: 0, stderr: '' });
  });

  it('exits 1 with one line for a missing file', async () => {
    const r = await runCli(['decode', join(dir, 'nope.bin')]);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stderr).toMatch(/^iproto decode: cannot read .*nope\.bin: .*ENOENT/);
  });
});

describe('iproto bench', () => {
  it('runs the requested load and prints throughput and latency percentiles', async () => {
    const echo = await start(true);
    const r = await runCli([
      'bench',
      echo,
      '--requests',
      '3000',
      '--depth',
      '16',
      '--connections',
      '2',
      '--body',
      '32',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    // stdout is a pipe here, so no live progress line
    expect(r.stdout).not.toContain('\r');
    for (const row of [
      'requests',
      'errors',
      'throughput',
      'latency p50',
      'latency p90',
      'latency p99 ',
      'latency p99.9',
      'latency max',
    ]) {
      expect(r.stdout).toContain(row);
    }
    expect(r.stdout).toMatch(/requests\s+3,000\n/);
  });

  it('prints JSON with ordered percentiles', async () => {
    const echo = await start(true);
    const r = await runCli(['bench', echo, '--requests', '2000', '--depth', '8', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ requests: 2000, errors: 0, depth: 8, connections: 1, msg: 0xff00 });
    const l = out.latency;
    expect(l.min).toBeGreaterThan(0);
    expect(l.p50).toBeLessThanOrEqual(l.p90);
    expect(l.p90).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l.p999);
    expect(l.p999).toBeLessThanOrEqual(l.max);
    expect(out.throughput).toBeGreaterThan(0);
  });

  it('fails with one line when the server is down', async () => {
    const r = await runCli(['bench', `127.0.0.1:${await closedPort()}`, '--requests', '10']);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('ECONNREFUSED');
  });
});

describe('iproto serve', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  async function serve(
    args: string[],
  ): Promise<{ child: ChildProcess; firstLine: string; exit: Promise<CliRun> }> {
    const proc = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let stdout = '';
    let stderr = '';
    proc.stderr!.on('data', (c) => (stderr += c));
    const exit = new Promise<CliRun>((resolve) =>
      proc.on('close', (code) => resolve({ code, stdout, stderr })),
    );
    const firstLine = await new Promise<string>((resolve, reject) => {
      proc.stdout!.on('data', (c) => {
        stdout += c;
        if (stdout.includes('\n')) resolve(stdout.split('\n')[0]);
      });
      proc.on('close', () => reject(new Error(`serve exited early: ${stderr}`)));
    });
    return { child: proc, firstLine, exit };
  }

  it('runs the box with the spaces of --space until SIGTERM, then exits 0', async () => {
    const s = await serve(['--port', '0', '--json', '--space', '0', '--space', '1:str,NUM']);
    const { listening, kind, spaces } = JSON.parse(s.firstLine);
    expect(kind).toBe('box');
    expect(spaces).toEqual(['0', '1:str,NUM']);
    expect((await runCli(['ping', listening])).code).toBe(0);
    const send = async (
      msg: number,
      template: string,
      values: string[],
      unpack: string,
    ): Promise<unknown[]> => {
      const r = await runCli([
        'send',
        listening,
        '--msg',
        String(msg),
        '--pack',
        template,
        ...values,
        '--unpack',
        unpack,
        '--json',
      ]);
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout).values;
    };
    // space 1 is keyed by [STR, NUM]: insert two tuples, then select by the first part alone
    expect(await send(13, 'L L L w/a* C L', ['1', '0', '2', 'a', '4', '2'], 'L L')).toEqual([0, 1]);
    expect(await send(13, 'L L L w/a* C L', ['1', '0', '2', 'a', '4', '1'], 'L L')).toEqual([0, 1]);
    expect(
      await send(17, 'L L L L L L w/a*', ['1', '0', '0', '10', '1', '1', 'a'], 'L L (L L w/a* x L)2'),
    ).toEqual([0, 2, 7, 2, 'a', 1, 7, 2, 'a', 2]);
    // space 0 is keyed by a NUM; space 2 does not exist
    expect(await send(13, 'L L L C L', ['0', '0', '1', '4', '9'], 'L L')).toEqual([0, 1]);
    expect(await send(17, 'L L L L L L C L', ['2', '0', '0', '10', '1', '1', '4', '9'], 'L Z*')).toEqual([
      0x3902,
      'Space 2 does not exist',
    ]);
    s.child.kill('SIGTERM');
    const done = await s.exit;
    expect(done.code, done.stderr + done.stdout).toBe(0);
    expect(done.stderr).toBe('');
  });

  it('says what it runs, and refuses a bad --space with one line', async () => {
    const s = await serve([]);
    expect(s.firstLine).toMatch(
      /^iproto serve: Tarantool 1\.5 box \(space 0 NUM\) listening on 127\.0\.0\.1:\d+ \(Ctrl-C to stop\)$/,
    );
    s.child.kill('SIGTERM');
    expect((await s.exit).code).toBe(0);
    for (const [args, message] of [
      [
        ['--space', '0:INT'],
        'iproto serve: bad --space "0:INT": key types are NUM, NUM64 and STR, got "INT"\n',
      ],
      [['--space', '0:NUM:1'], 'iproto serve: bad --space "0:NUM:1": expected ID[:TYPE,...]\n'],
      [['--space', '0', '--space', '0:STR'], 'iproto serve: a space is given twice with --space\n'],
      [['--space', '0', '--echo'], 'iproto serve: --space and --echo exclude each other\n'],
    ] as const) {
      const r = await runCli(['serve', ...args]);
      expect(r.code, r.stdout).toBe(2);
      expect(r.stderr).toBe(message);
    }
  });

  it('echoes with --echo and says where it listens', async () => {
    const s = await serve(['--echo']);
    const match = /^iproto serve: echo listening on (127\.0\.0\.1:\d+) \(Ctrl-C to stop\)$/.exec(s.firstLine);
    expect(match).not.toBeNull();
    const r = await runCli(['send', match![1], '--msg', '5', '--pack', 'a*', 'ping-pong', '--unpack', 'a*']);
    expect(r.stdout.split('\n')[1]).toBe('"ping-pong"');
    s.child.kill('SIGINT');
    const done = await s.exit;
    expect(done.code, done.stderr + done.stdout).toBe(0);
    expect(done.stdout).toContain('iproto serve: stopped');
  });

  it('fails with one line when the port is taken', async () => {
    const taken = await start(true);
    const r = await runCli(['serve', '--port', taken.split(':')[1]]);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stderr).toMatch(/^iproto serve: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  });
});
