import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CliIO } from '../../src/io.js';

/** The built command, as `npx iproto` runs it. `pnpm test` builds first (turbo's test depends on build). */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "pnpm --filter @iproto/cli build" first`);
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `iproto <args>` as a child process and collects its output. A command still running after
 * `killAfterMs` is killed, so a hang fails the test on its exit code instead of outliving it.
 */
export function runCli(
  args: string[],
  options: { input?: Uint8Array; cwd?: string; killAfterMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input);
  });
}

/** `main` in-process with captured output: the command-line handling without a child process. */
export function fakeIO(options: { tty?: boolean; signal?: AbortSignal; stdin?: Uint8Array[] } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: { write: (t: string) => out.push(t), isTTY: options.tty },
    stderr: { write: (t: string) => err.push(t) },
    stdin: (async function* () {
      yield* options.stdin ?? [];
    })(),
    signal: options.signal,
  };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}
