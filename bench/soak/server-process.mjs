import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./server.mjs', import.meta.url));

/**
 * One soak server in a child process, across its incarnations: `start()` forks it (again on the same
 * port after a kill), `kill9()`, `pause()` / `resume()` send real signals, `command()` talks to it
 * over IPC. Each incarnation logs the ids it receives to a file of its own.
 */
export class ServerProcess {
  constructor(index, dir) {
    this.index = index;
    this.dir = dir;
    this.port = 0;
    this.child = undefined;
    /** One entry per start: its log file; `marks` is filled by `stats()`. */
    this.incarnations = [];
    this.paused = false;
  }

  get name() {
    return `server ${this.index + 1}`;
  }

  async start() {
    // A kill -9 leaves the port free at once (listen sockets use SO_REUSEADDR); retry in case the
    // kernel has not finished tearing it down (or a rebuild of the server's dist is under way).
    let lastError;
    for (let attempt = 0; attempt < 100; attempt++) {
      const log = `${this.dir}/server-${this.index + 1}-${this.incarnations.length + 1}.log`;
      try {
        const { child, port } = await spawn(this.port, log);
        this.child = child;
        this.port = port;
        this.incarnations.push({ log, started: Date.now(), received: undefined, marks: [] });
        return;
      } catch (error) {
        lastError = error;
        await sleep(100);
      }
    }
    throw new Error(`${this.name}: could not start on port ${this.port}: ${lastError?.message}`);
  }

  /** Sends an IPC command and waits for the answer event. */
  command(message, answer, timeoutMs = 10_000) {
    const child = this.child;
    if (!child?.connected) return Promise.reject(new Error(`${this.name}: not running`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        reject(new Error(`${this.name}: no '${answer}' answer to ${message.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (reply) => {
        if (reply?.event !== answer) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(reply);
      };
      child.on('message', onMessage);
      child.send(message);
    });
  }

  fault(fault, { every = 1, times } = {}) {
    return this.command({ cmd: 'fault', fault, every, times }, 'fault added');
  }

  /** Removes the faults; resolves to how many requests they were applied to. */
  async clearFaults() {
    const { fired } = await this.command({ cmd: 'clear' }, 'cleared');
    return fired;
  }

  mark() {
    return this.command({ cmd: 'mark' }, 'marked');
  }

  /** Fills the current incarnation's `received` and `marks`. */
  async stats() {
    const { received, marks } = await this.command({ cmd: 'stats' }, 'stats');
    const current = this.incarnations.at(-1);
    current.received = received;
    current.marks = marks;
    return current;
  }

  async kill9() {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  pause() {
    this.paused = true;
    this.child.kill('SIGSTOP');
  }

  resume() {
    this.paused = false;
    this.child.kill('SIGCONT');
  }

  /** Stops the current incarnation gracefully (flushing its log); kills it if it does not exit. */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    if (this.paused) this.resume();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.send({ cmd: 'stop' });
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }
}

function spawn(port, log) {
  return new Promise((resolve, reject) => {
    const child = fork(script, [String(port), log], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const onExit = (code, signal) =>
      reject(new Error(`server child exited (${code ?? signal}) before ready`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.on('message', function onReady(message) {
      if (message?.event !== 'ready') return;
      child.off('message', onReady);
      child.off('exit', onExit);
      child.off('error', reject);
      // An IPC write to a child that was just killed fails; the exit is what the soak watches.
      child.on('error', () => {});
      resolve({ child, port: message.port });
    });
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
