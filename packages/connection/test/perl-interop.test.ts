// Interop with the reference: a Connection talks to the real Perl MR::IProto::Server (libmr-tarantool-perl).
// This test fails, rather than skips, when perl, AnyEvent or MR::IProto are missing.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { expectNoLeaks, Ledger, resources, until, watchTimers } from './support/test-support.js';

// MR::IProto::Server takes a fixed port; to listen on a free one we pass a prepare callback to
// AnyEvent::Socket::tcp_server (through the name MR::IProto::Server imported), then print the port
// once run() has made it listen.
const SERVER = String.raw`
use strict; use warnings;
use AnyEvent; use AnyEvent::Socket ();
use MR::IProto::Server;
our $bound;
{
  no warnings qw(redefine prototype);
  my $orig = \&AnyEvent::Socket::tcp_server;
  *MR::IProto::Server::tcp_server = sub ($$$;$) {
    my ($host, $port, $accept) = @_;
    return $orig->($host, $port, $accept, sub { $bound = $_[2]; return 128 });
  };
}
my $server = MR::IProto::Server->new(
  host => '127.0.0.1', port => 0, debug => 6,
  debug_cb => sub { my ($line) = @_; chomp $line; print "debug $line\n" },
  on_accept => sub {}, on_close => sub {}, on_error => sub {},
  handler => sub { my ($connection, $msg, $data) = @_; return pack('L', $msg) . reverse($data) },
);
$server->run;
$| = 1;
print "port $bound\n";
AnyEvent->condvar->recv;
`;

let child: ChildProcess;
let port: number;
let lines: string[];
let before: Record<string, number>;
let timers: ReturnType<typeof watchTimers>;

beforeEach(async () => {
  before = resources();
  timers = watchTimers();
  lines = [];
  child = spawn('perl', ['-e', SERVER], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.once('error', (error) => reject(new Error(`cannot run perl: ${error.message}`)));
    child.once('exit', (code) =>
      reject(
        new Error(
          `the Perl MR::IProto::Server exited (${code}) before listening (it needs perl with AnyEvent and ` +
            `MR::IProto: apt-get install libmr-tarantool-perl):\n${stderr}`,
        ),
      ),
    );
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      let newline = out.indexOf('\n');
      while (newline !== -1) {
        const line = out.slice(0, newline);
        out = out.slice(newline + 1);
        if (line.startsWith('port ')) resolve(Number(line.slice(5)));
        else if (line.startsWith('debug ')) lines.push(line.slice(6));
        newline = out.indexOf('\n');
      }
    });
  });
});

afterEach(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  }
  await expectNoLeaks(before, timers);
});

it('talks to the Perl MR::IProto::Server: pipelined requests, replies matched by sync', async () => {
  const ledger = new Ledger();
  const connection = ledger.connection({ host: '127.0.0.1', port }, { maxParallel: 10 });
  const bodies = Array.from({ length: 50 }, (_, i) => Buffer.from(`request number ${i} `.repeat(i % 7)));
  const replies = await Promise.all(bodies.map((body, i) => ledger.track(connection.send(100 + i, body))));
  replies.forEach((reply, i) => {
    expect(reply.msg).toBe(100 + i);
    const body = Buffer.from(reply.body);
    expect(body.readUInt32LE(0)).toBe(100 + i);
    expect(body.subarray(4).toString()).toBe([...bodies[i].toString()].reverse().join(''));
  });
  await ledger.check();
  await connection.close();
});

it('dumps packets exactly as MR::IProto::Role::Debuggable does', async () => {
  const ours: string[] = [];
  const ledger = new Ledger();
  const connection = ledger.connection(
    { host: '127.0.0.1', port },
    { debug: 6, debugCb: (line) => ours.push(line) },
  );
  const reply = await ledger.track(connection.send(0x10203, Buffer.from('hello, perl!\x00\xff', 'latin1')));
  await connection.close();
  await ledger.check();
  // The Perl server logs what it received and sent with the same role; strip its "host(ip:port): "
  // prefix and ours ("127.0.0.1:port: "), then compare: its recv is our send and its send our recv.
  const strip = (line: string): string => line.replace(/^.*?: (?=(send|recv) )/, '');
  const dumps = (): string[] => lines.filter((l) => / (send|recv) (header|payload): /.test(l));
  await until(() => dumps().length === 4, 'the Perl server to log its four dumps');
  const perl = lines.filter((l) => / (send|recv) (header|payload): /.test(l)).map(strip);
  const node = ours.filter((l) => / (send|recv) (header|payload): /.test(l)).map(strip);
  const swap = (line: string): string =>
    line.replace(/^(send|recv)/, (w) => (w === 'send' ? 'recv' : 'send'));
  expect(perl.map(swap)).toEqual(node);
  const le = (n: number): string =>
    [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join(' ');
  expect(node[0]).toBe(`send header: 66051 14 ${reply.sync} > 03 02 01 00 0e 00 00 00 ${le(reply.sync)}`);
  expect(node).toHaveLength(4);
});
