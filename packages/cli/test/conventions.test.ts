import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { encodeFrame } from '@iproto/framing';
import type { IProtoServer } from '@iproto/server';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../src/commands/serve.js';
import { main } from '../src/main.js';
import { MAX_STDIN_VALUE } from '../src/read-input.js';
import { formatMsg } from '../src/values.js';
import { assertBuilt, CLI, fakeIO, runCli } from './support/test-support.js';

/** What a command line conventionally does: --version, JSON errors, negative values, stdin, hex codes. */

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const servers: IProtoServer[] = [];
async function echo(): Promise<string> {
  const server = createServer({ echo: true });
  servers.push(server);
  return `127.0.0.1:${(await server.listen(0, '127.0.0.1')).port}`;
}
beforeAll(assertBuilt);
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('iproto --version', () => {
  it('prints the package version with --version and -V, as JSON with --json', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
    const json = await runCli(['--version', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ version });
    const extra = await runCli(['--version', 'ping']);
    expect(extra.code).toBe(2);
  });
});

describe('errors under --json', () => {
  const usage: string[][] = [
    ['frobnicate', '--json'],
    ['ping', '--bogus', '--json'],
    ['ping', '--json'],
    ['send', '127.0.0.1:1', '--json'],
    ['send', '127.0.0.1:1', '--msg', '1', '--timeout', '-5', '--json'],
    ['decode', 'a', 'b', '--json'],
    ['bench', '127.0.0.1:1', '--rate', '0', '--json'],
    ['serve', '--port', '70000', '--json'],
    ['box', 'select', '127.0.0.1:1', '--json'],
    ['box', 'frobnicate', '--json'],
    ['help', 'frobnicate', '--json'],
  ];
  for (const argv of usage) {
    it(`${argv.join(' ')}: one JSON object on stderr, exit 2`, async () => {
      const t = fakeIO();
      expect(await main(argv, t.io)).toBe(2);
      expect(t.stdout()).toBe('');
      expect(t.stderr().endsWith('\n')).toBe(true);
      expect(t.stderr().trimEnd().split('\n')).toHaveLength(1);
      const { error } = JSON.parse(t.stderr());
      expect(error).toEqual({
        code: 'ERR_CLI_USAGE',
        message: expect.stringMatching(/^iproto/),
        exitCode: 2,
      });
    });
  }

  it('reports failures the same way, with the cause code, from the built command', async () => {
    const down = await runCli(['ping', '127.0.0.1:1', '--json']);
    expect(down.code).toBe(1);
    expect(JSON.parse(down.stdout).ok).toBe(false);
    expect(JSON.parse(down.stderr)).toEqual({
      error: { code: 'ECONNREFUSED', message: 'iproto ping: 1 of 1 server down: 127.0.0.1:1', exitCode: 1 },
    });
    const address = await echo();
    // The reply is printed; that it does not unpack is the error.
    const bad = await runCli([
      'send',
      address,
      '--msg',
      '1',
      '--payload-hex',
      '80',
      '--unpack',
      'w',
      '--json',
    ]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ msg: 1, body: '80' });
    const { error } = JSON.parse(bad.stderr);
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(/^iproto send: cannot unpack the reply with "w": /);
    const missing = await runCli(['decode', 'no-such-file.bin', '--json']);
    expect(missing.code).toBe(1);
    // ENOENT is Node's own code here (no @iproto error): a generic failure, the reason in the message.
    const missingError = JSON.parse(missing.stderr).error;
    expect(missingError.code).toBe('ERR_CLI_FAILURE');
    expect(missingError.message).toMatch(/no-such-file\.bin: .*ENOENT/);
  });

  it('keeps text errors one line without --json, and "--json" after "--" is a value', async () => {
    const t = fakeIO();
    expect(await main(['send', '127.0.0.1:1', '--', '--json'], t.io)).toBe(2);
    expect(t.stderr()).toBe('iproto send: --msg is required\n');
  });

  it('a decode whose frames do not unpack says so on stderr (exit 1)', async () => {
    const t = fakeIO({ stdin: [encodeFrame(1, 2, Uint8Array.of(0x80))] });
    expect(await main(['decode', '--unpack', 'w', '--json'], t.io)).toBe(1);
    expect(JSON.parse(t.stdout()).frames[0].error).toBeDefined();
    expect(JSON.parse(t.stderr()).error.message).toBe('iproto decode: 1 frame did not unpack with "w"');
  });
});

describe('negative numbers as values', () => {
  it('takes -5, -0x10, -1.5 and -5n as values without "--"', async () => {
    const address = await echo();
    const r = await runCli([
      'send',
      address,
      '--msg',
      '5',
      '--pack',
      'l l d q',
      '-5',
      '-0x10',
      '-1.5',
      '-9007199254740993n',
      '--unpack',
      'l l d q',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[1]).toBe('-5 -16 -1.5 -9007199254740993n');
  });

  it('takes them as box fields and keys too', async () => {
    const server = createServer({
      spaces: [{ space: 0, indexes: [{ parts: [{ field: 0, type: 'NUM' }] }] }],
    });
    servers.push(server);
    const address = `127.0.0.1:${(await server.listen(0, '127.0.0.1')).port}`;
    const insert = await runCli(['box', 'insert', address, '--format', 'Ll', '1', '-5']);
    expect(insert.code, insert.stderr).toBe(0);
    const select = await runCli(['box', 'select', address, '--format', 'Ll', '--json', '1']);
    expect(JSON.parse(select.stdout)).toEqual({ count: 1, tuples: [[1, -5]] });
  });

  it('still reads options around them, and refuses a negative option value with its own message', async () => {
    const address = await echo();
    const r = await runCli(['send', address, '--pack', 'l', '-7', '--msg', '5', '--unpack', 'l', '--json']);
    expect(JSON.parse(r.stdout).values).toEqual([-7]);
    const t = fakeIO();
    expect(await main(['ping', '127.0.0.1:1', '--count', '-3'], t.io)).toBe(2);
    expect(t.stderr()).toMatch(
      /^iproto ping: bad value for --count: "-3" \(expected an integer in 1\.\.1000000\)\n$/,
    );
    const unknown = fakeIO();
    expect(await main(['ping', '127.0.0.1:1', '-x'], unknown.io)).toBe(2);
    expect(unknown.stderr()).toMatch(/^iproto ping: Unknown option '-x'/);
  });
});

describe('send: a value from stdin with "-"', () => {
  it('packs every byte of stdin as they are', async () => {
    const address = await echo();
    const bytes = Buffer.from([0, 1, 0x0a, 0xff, 0x2d]);
    const r = await runCli(
      ['send', address, '--msg', '5', '--pack', 'L w/a*', '7', '-', '--unpack', 'L w/a*', '--json'],
      {
        input: bytes,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).values).toEqual([7, 'hex:00010aff2d']);
    // "str:-" is the one-character string
    const dash = await runCli([
      'send',
      address,
      '--msg',
      '5',
      '--pack',
      'a*',
      'str:-',
      '--unpack',
      'a*',
      '--json',
    ]);
    expect(JSON.parse(dash.stdout).values).toEqual(['-']);
  });

  it('stops reading a stdin that never ends when its signal aborts (SIGINT, SIGTERM)', async () => {
    const controller = new AbortController();
    const t = fakeIO({ signal: controller.signal });
    t.io.stdin = (async function* () {
      yield Buffer.from('start');
      await new Promise(() => {});
    })();
    const run = main(['send', '127.0.0.1:1', '--msg', '5', '--pack', 'a*', '-'], t.io);
    setTimeout(() => controller.abort(), 50);
    expect(await run).toBe(1);
    expect(t.stderr()).toBe('iproto send: interrupted while reading stdin\n');
  });

  it('exits on one SIGTERM while stdin stays open (the built command)', async () => {
    assertBuilt();
    const child = spawn(process.execPath, [CLI, 'send', '127.0.0.1:1', '--msg', '5', '--pack', 'a*', '-'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdin.write('partial');
    // Once the command reads stdin (its first chunk is in), one signal must end it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 5000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    child.stdin.destroy();
    expect(code, stderr).toBe(1);
    expect(stderr).toBe('iproto send: interrupted while reading stdin\n');
  });

  it('refuses two "-" and a stdin over the limit (16 MiB)', async () => {
    const two = fakeIO();
    expect(await main(['send', '127.0.0.1:1', '--msg', '5', '--pack', 'a* a*', '-', '-'], two.io)).toBe(2);
    expect(two.stderr()).toBe('iproto send: stdin can give one value; "-" is there 2 times\n');
    const chunk = Buffer.alloc(1024 * 1024);
    const over = fakeIO({ stdin: [...Array.from({ length: 16 }, () => chunk), Buffer.alloc(1)] });
    expect(await main(['send', '127.0.0.1:1', '--msg', '5', '--pack', 'a*', '-'], over.io)).toBe(2);
    expect(over.stderr()).toBe(
      `iproto send: stdin holds more than ${MAX_STDIN_VALUE} bytes (the limit of a body)\n`,
    );
  });
});

describe('message codes in hex where they are conventionally hex', () => {
  it('formats codes from 0x100 up in hex, smaller ones in decimal', () => {
    expect([0, 13, 255, 256, 0xff00, 0xffffffff].map(formatMsg)).toEqual([
      '0',
      '13',
      '255',
      '0x100',
      '0xff00',
      '0xffffffff',
    ]);
  });

  it('prints them so in send and decode, and reads them back', async () => {
    const address = await echo();
    const ping = await runCli(['send', address, '--msg', '0xff00']);
    expect(ping.stdout).toMatch(/^reply msg=0xff00 sync=\d+ len=0 /);
    const select = await runCli(['send', address, '--msg', '17', '--no-reply']);
    expect(select.stdout).toBe(`sent msg=17 len=0 to ${address} (no reply expected)\n`);
    const t = fakeIO({ stdin: [encodeFrame(0xff00, 3)] });
    expect(await main(['decode', '--msg', '0xFF00'], t.io)).toBe(0);
    expect(t.stdout()).toMatch(/^#1 @0 msg=0xff00 sync=3 len=0\n/);
  });
});
