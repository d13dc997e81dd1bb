import { IProtoServer } from '@iproto/server';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../src/commands/serve.js';
import { COMMAND_HELP } from '../src/help.js';
import { main } from '../src/main.js';
import { fakeIO } from './support/test-support.js';

const servers: IProtoServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('main: help', () => {
  it('has help for every command, as "help <cmd>" and "<cmd> --help" / "-h"', async () => {
    for (const c of Object.keys(COMMAND_HELP)) {
      for (const argv of [
        ['help', c],
        [c, '--help'],
        [c, '-h', 'whatever'],
      ]) {
        const t = fakeIO();
        expect(await main(argv, t.io)).toBe(0);
        expect(t.stdout()).toBe(`${COMMAND_HELP[c as keyof typeof COMMAND_HELP]}\n`);
        expect(t.stdout()).toMatch(new RegExp(`^Usage: iproto ${c}`));
      }
    }
  });
});

describe('main: values after "--"', () => {
  it('sends "-h" as a value rather than printing help', async () => {
    const server = createServer({ echo: true });
    servers.push(server);
    const { port } = await server.listen(0, '127.0.0.1');
    const t = fakeIO();
    const argv = ['send', `127.0.0.1:${port}`, '--msg', '5', '--pack', 'a*', '--unpack', 'a*', '--', '-h'];
    expect(await main(argv, t.io)).toBe(0);
    expect(t.stdout().split('\n')[1]).toBe('"-h"');
  });
});

describe('main: usage errors are one line with exit 2', () => {
  const cases: [string[], RegExp][] = [
    [
      ['frobnicate'],
      /^iproto: unknown command "frobnicate" \(commands: ping, send, decode, bench, serve, box\)$/,
    ],
    [['help', 'frobnicate'], /^iproto help: unknown command "frobnicate"/],
    [['ping', '--bogus', '127.0.0.1:1'], /^iproto ping: Unknown option '--bogus'/],
    [['ping'], /^iproto ping: no server given/],
    [['ping', 'nohost'], /^iproto ping: bad address "nohost"/],
    [['send', '127.0.0.1:1'], /^iproto send: --msg is required$/],
    [['send', '127.0.0.1:1', '--msg', 'x'], /^iproto send: bad value for --msg: "x"/],
    [['send', '127.0.0.1:1', '--msg', '1', 'v'], /^iproto send: values given without --pack: v$/],
    [
      ['send', '127.0.0.1:1', '--msg', '1', '--pack', 'L', '--payload-hex', '00'],
      /either --pack or --payload-hex/,
    ],
    [['send', '127.0.0.1:1', '--msg', '1', '--payload-hex', 'abc'], /bad value for --payload-hex/],
    [
      ['send', '127.0.0.1:1', '--msg', '1', '--pack', 'L', 'str:oops'],
      /^iproto send: cannot pack the body: /,
    ],
    [['send', '127.0.0.1:1', '--msg', '1', '--pack', 'L'], /^iproto send: cannot pack the body: /],
    [['send', '127.0.0.1:1', '--msg', '1', '--unpack', 'L Y'], /^iproto send: bad --unpack template: /],
    [
      ['send', '127.0.0.1:1,127.0.0.1:2:x', '--msg', '1'],
      /^iproto send: bad address "127\.0\.0\.1:2:x": bad weight "x": expected 0\.\.1000000$/,
    ],
    // One address parser, the cluster's (issue 13): what a servers string may not hold, one address
    // may not either.
    [['send', ':1,:2', '--msg', '1'], /^iproto send: bad address ":1": empty host$/],
    [['ping', ':1'], /^iproto ping: bad address ":1": empty host$/],
    [['ping', '127.0.0.1:1,:1'], /^iproto ping: bad address ":1": empty host$/],
    [['ping', '33013'], /^iproto ping: bad address "33013": missing ":port"$/],
    [['bench', ':1'], /^iproto bench: bad address ":1": empty host$/],
    [
      ['ping', '127.0.0.1:1:1000001'],
      /^iproto ping: bad address "127\.0\.0\.1:1:1000001": weight 1000001 is above the maximum 1000000 \(MAX_WEIGHT\)$/,
    ],
    [['send', '127.0.0.1:1', '--balance', 'random', '--msg', '1'], /^iproto send: bad --balance "random"/],
    [['decode', 'a', 'b'], /^iproto decode: give one file/],
    // checked before the file is read: a usage error, not "cannot read"
    [['decode', 'missing.bin', '--unpack', 'L Y'], /^iproto decode: bad --unpack template: /],
    [['decode', 'missing.bin', '--msg', 'x'], /^iproto decode: bad value for --msg: "x"/],
    [['bench'], /^iproto bench: give the servers/],
    [['bench', '127.0.0.1:1', '--depth', '0'], /^iproto bench: bad value for --depth: "0"/],
    [['serve', 'extra'], /^iproto serve: unexpected argument "extra"$/],
    [['serve', '--port', '70000'], /^iproto serve: bad value for --port/],
  ];
  for (const [argv, pattern] of cases) {
    it(argv.join(' '), async () => {
      const t = fakeIO();
      expect(await main(argv, t.io)).toBe(2);
      expect(t.stdout()).toBe('');
      const lines = t.stderr().split('\n');
      expect(lines).toHaveLength(2); // one line and its newline
      expect(lines[0]).toMatch(pattern);
    });
  }

  it('prints the general help and exits 2 without a command, 0 with --help', async () => {
    const bare = fakeIO();
    expect(await main([], bare.io)).toBe(2);
    expect(bare.stdout()).toContain('Commands:');
    const help = fakeIO();
    expect(await main(['--help'], help.io)).toBe(0);
    expect(help.stdout()).toBe(bare.stdout());
  });
});

describe('main: bench on a terminal', () => {
  it('clears its live progress line before printing the table', async () => {
    const server = createServer({ echo: true });
    servers.push(server);
    const { port } = await server.listen(0, '127.0.0.1');
    const t = fakeIO({ tty: true });
    expect(await main(['bench', `127.0.0.1:${port}`, '--requests', '500', '--depth', '4'], t.io)).toBe(0);
    const out = t.stdout();
    expect(out).toMatch(/\r\x1b\[Kiproto bench 127\.0\.0\.1:\d+ {2}msg=0xff00/);
    expect(out).toMatch(/requests +500\n/);
  });

  it('shows a live progress line while the run lasts', async () => {
    // Six requests one at a time, each answered after 60 ms: the run outlasts the 200 ms refresh.
    const server = new IProtoServer({
      handler: () => new Promise<Uint8Array>((resolve) => setTimeout(() => resolve(new Uint8Array(0)), 60)),
    });
    servers.push(server);
    const { port } = await server.listen(0, '127.0.0.1');
    const t = fakeIO({ tty: true });
    expect(await main(['bench', `127.0.0.1:${port}`, '--requests', '6', '--depth', '1'], t.io)).toBe(0);
    expect(t.stdout()).toMatch(/\r\x1b\[K[1-6] \/ 6 \(\d+%\) {2}[\d,]+ req\/s {2}p99 [\d.]+ ms/);
  });

  it('stops early when its signal aborts and reports what completed', async () => {
    const server = createServer({ echo: true });
    servers.push(server);
    const { port } = await server.listen(0, '127.0.0.1');
    const controller = new AbortController();
    let seen = 0;
    server.on('request', () => {
      if (++seen === 100) controller.abort();
    });
    const t = fakeIO({ signal: controller.signal });
    const code = await main(
      ['bench', `127.0.0.1:${port}`, '--requests', '1000000', '--depth', '4', '--json'],
      t.io,
    );
    expect(code).toBe(0);
    const result = JSON.parse(t.stdout());
    expect(result.requests).toBeGreaterThanOrEqual(100);
    expect(result.requests).toBeLessThan(1_000_000);
    expect(result.errors).toBe(0);
  });
});

describe('main: serve in-process', () => {
  it('listens, answers, and closes when its signal aborts', async () => {
    const controller = new AbortController();
    const t = fakeIO({ signal: controller.signal });
    const running = main(['serve', '--json'], t.io);
    while (!t.stdout().includes('\n')) await new Promise((r) => setTimeout(r, 10));
    const { port, kind } = JSON.parse(t.stdout());
    expect(kind).toBe('box');
    const ping = fakeIO();
    expect(await main(['ping', `127.0.0.1:${port}`], ping.io)).toBe(0);
    controller.abort();
    expect(await running).toBe(0);
    // closed: the port answers no more
    const after = fakeIO();
    expect(await main(['ping', `127.0.0.1:${port}`, '--timeout', '2000'], after.io)).toBe(1);
  });
});

describe('main: decode from stdin', () => {
  it('reads "-" (and no file at all) from stdin', async () => {
    const frame = Buffer.from('0100000001000000090000002a', 'hex');
    for (const argv of [['decode', '-'], ['decode']]) {
      const t = fakeIO({ stdin: [frame.subarray(0, 5), frame.subarray(5)] });
      expect(await main([...argv, '--unpack', 'C'], t.io)).toBe(0);
      expect(t.stdout()).toBe(
        '#1 @0 msg=1 sync=9 len=1\n  1 1 9 > 01 00 00 00 01 00 00 00 09 00 00 00 2a\n  = 42\n1 frame, 13 bytes\n',
      );
    }
  });

  it('streams: frames before a header over the limit are printed, then one error line (exit 1)', async () => {
    const frame = Buffer.from('0100000001000000090000002a', 'hex');
    const t = fakeIO({
      stdin: [frame, Buffer.concat([frame, Buffer.from('02000000ffffffff00000000', 'hex')])],
    });
    expect(await main(['decode'], t.io)).toBe(1);
    expect(t.stdout()).toBe(
      '#1 @0 msg=1 sync=9 len=1\n  1 1 9 > 01 00 00 00 01 00 00 00 09 00 00 00 2a\n' +
        '#2 @13 msg=1 sync=9 len=1\n  1 1 9 > 01 00 00 00 01 00 00 00 09 00 00 00 2a\n',
    );
    expect(t.stderr()).toMatch(/^iproto decode: -: ERR_FRAME_TOO_LARGE: .* at stream offset 26: msg 2 .*\n$/);
  });

  it('reads a frame of exactly 16 MiB; one byte more is ERR_FRAME_TOO_LARGE', async () => {
    const limit = 16 * 1024 * 1024;
    const header = (len: number) => {
      const h = Buffer.alloc(12);
      h.writeUInt32LE(5, 0);
      h.writeUInt32LE(len, 4);
      return h;
    };
    const at = fakeIO({ stdin: [header(limit), Buffer.alloc(limit)] });
    expect(await main(['decode', '--msg', '6'], at.io)).toBe(0);
    expect(at.stdout()).toBe(`0 frames, ${12 + limit} bytes\n`);
    const over = fakeIO({ stdin: [header(limit + 1), Buffer.alloc(100)] });
    expect(await main(['decode', '--msg', '6'], over.io)).toBe(1);
    expect(over.stderr()).toMatch(/^iproto decode: -: ERR_FRAME_TOO_LARGE: .*announces 16777217 body bytes/);
  });

  it('fails with one line on a frame larger than the limit', async () => {
    const t = fakeIO({ stdin: [Buffer.from('01000000ffffffff00000000', 'hex')] });
    expect(await main(['decode'], t.io)).toBe(1);
    expect(t.stderr()).toMatch(/^iproto decode: -: .*ERR_FRAME_TOO_LARGE.*\n$/);
  });
});
