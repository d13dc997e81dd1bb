import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';

/** A port that accepts no connection (from `listenBlackhole`): connects to it hang until they time out. */
export interface Blackhole {
  host: string;
  port: number;
  /** `host:port`. */
  address: string;
  /** Frees the port: ends the listener process and the sockets that fill its queue. */
  close(): Promise<void>;
}

/**
 * A listener that never accepts, with the backlog it is given (1) and its accept queue already full.
 * Linux drops a SYN to a listener whose accept queue is full, so a connect to it neither succeeds nor
 * fails: it hangs until the client gives up. Node accepts every connection it is offered, so the
 * listener is a small `perl` process (IO::Socket::INET) that exits when our end of its stdin closes.
 */
const LISTENER = `
use strict; use warnings; use IO::Socket::INET;
my $s = IO::Socket::INET->new(LocalAddr => $ARGV[0], LocalPort => 0, Proto => 'tcp', Listen => 1)
  or die "cannot listen on $ARGV[0]: $!\\n";
$| = 1;
print $s->sockport, "\\n";
1 while sysread(STDIN, my $buf, 1);
`;

/** Linux queues backlog + 1 connections; a filler that does not connect by then means the queue is full. */
const FILLERS = 2;
const FILL_TIMEOUT = 5000;

/**
 * Returns an address whose TCP connects never complete (for connect-timeout tests): a never-accepting
 * listener on 127.0.0.1 whose accept queue is filled first. Needs `perl` on the PATH. Neither the
 * listener nor its fillers keep the process alive; call `close()` when done.
 */
export async function listenBlackhole(host = '127.0.0.1'): Promise<Blackhole> {
  const child = spawn('perl', ['-e', LISTENER, host], { stdio: ['pipe', 'pipe', 'pipe'] });
  const fillers: Socket[] = [];
  const close = async (): Promise<void> => {
    for (const socket of fillers) socket.destroy();
    await stopChild(child);
  };
  try {
    const port = await readPort(child);
    for (let i = 0; i < FILLERS; i++) {
      const socket = connect({ host, port });
      socket.on('error', () => {});
      fillers.push(socket);
      if (!(await connected(socket, FILL_TIMEOUT))) break;
      socket.unref();
    }
    for (const socket of fillers) socket.unref();
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr])
      (stream as unknown as Socket | null)?.unref?.();
    return { host, port, address: `${host}:${port}`, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function readPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const onExit = (code: number | null): void =>
      reject(new Error(`listenBlackhole: perl exited (${code}) before listening: ${err.trim()}`));
    child.once('error', (error) =>
      reject(new Error(`listenBlackhole: cannot run perl: ${error.message}`, { cause: error })),
    );
    child.once('exit', onExit);
    child.stderr!.on('data', (chunk) => {
      err += chunk;
    });
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const newline = out.indexOf('\n');
      if (newline === -1) return;
      child.off('exit', onExit);
      resolve(Number(out.slice(0, newline)));
    });
  });
}

function connected(socket: Socket, timeout: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeout);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.stdin?.end();
    child.kill();
  });
}
