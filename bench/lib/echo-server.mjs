// The echo server the client benchmarks talk to: the native one (bench/native/echo.c, built with
// `cc` when present) or, without a C compiler, @iproto/server in a process of its own. Either way
// the server runs outside the benchmarking process, so client and server do not share a loop.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const NATIVE_DIR = fileURLToPath(new URL('../native/', import.meta.url));
const NATIVE_SOURCE = `${NATIVE_DIR}echo.c`;
export const NATIVE_BINARY = `${NATIVE_DIR}echo-server`;
const NODE_SERVER = fileURLToPath(new URL('./node-echo-server.mjs', import.meta.url));

/** Finds a C compiler on PATH, or returns undefined. */
export function findCompiler() {
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang']) {
    if (!cc) continue;
    try {
      execFileSync(cc, ['--version'], { stdio: 'ignore' });
      return cc;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/**
 * Builds bench/native/echo-server unless an up-to-date binary is there.
 * Returns { ok: true, compiler } or { ok: false, reason }.
 */
export function buildNative() {
  const fresh =
    existsSync(NATIVE_BINARY) && statSync(NATIVE_BINARY).mtimeMs >= statSync(NATIVE_SOURCE).mtimeMs;
  if (fresh) return { ok: true, compiler: 'prebuilt' };
  const cc = findCompiler();
  if (!cc) return { ok: false, reason: 'no C compiler (cc) on PATH' };
  try {
    execFileSync(cc, ['-O2', '-o', NATIVE_BINARY, NATIVE_SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { ok: true, compiler: cc };
  } catch (error) {
    return { ok: false, reason: `${cc} failed: ${String(error.stderr ?? error.message).trim()}` };
  }
}

/** Spawns a server that prints "listening HOST:PORT" and resolves once it has. */
function spawnListening(command, args, kind) {
  return new Promise((resolve, reject) => {
    // stdin stays open for the server's life: the Node server exits when it closes.
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${kind} echo server did not start within 15 s`));
    }, 15_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${kind} echo server could not start: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${kind} echo server exited before listening (code ${code}, signal ${signal})`));
    });
    lines.once('line', (line) => {
      clearTimeout(timer);
      const match = /^listening (\S+):(\d+)$/.exec(line.trim());
      if (!match) {
        child.kill('SIGKILL');
        reject(new Error(`${kind} echo server said "${line}" instead of "listening HOST:PORT"`));
        return;
      }
      child.removeAllListeners('exit');
      lines.close();
      const host = match[1];
      const port = Number(match[2]);
      resolve({
        kind,
        host,
        port,
        address: `${host}:${port}`,
        pid: child.pid,
        close: () =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/**
 * Starts an echo server. `prefer: 'native'` (the default) builds and uses the C server and falls
 * back to @iproto/server; `prefer: 'node'` uses @iproto/server. The result says which one runs and,
 * after a fallback, why (`fallbackReason`).
 */
export async function startEchoServer({ prefer = 'native' } = {}) {
  let fallbackReason;
  if (prefer === 'native') {
    const built = buildNative();
    if (built.ok) {
      try {
        return await spawnListening(NATIVE_BINARY, ['0', '127.0.0.1'], 'native');
      } catch (error) {
        fallbackReason = error.message;
      }
    } else {
      fallbackReason = built.reason;
    }
  }
  const server = await spawnListening(process.execPath, [NODE_SERVER], '@iproto/server');
  return { ...server, fallbackReason };
}
