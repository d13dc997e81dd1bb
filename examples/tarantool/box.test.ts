import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/**
 * Runs the Tarantool-style example as a user would (`node examples/tarantool/box.mjs`, against the
 * built packages) and checks every answer it prints, and that it exits by itself.
 */
it('runs the Tarantool 1.5 style box example to a clean exit', async () => {
  const script = fileURLToPath(new URL('./box.mjs', import.meta.url));
  const { code, signal, stdout, stderr } = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    const child = spawn(process.execPath, [script], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  expect(signal, `box.mjs was killed (hung?)\n${stdout}\n${stderr}`).toBeNull();
  expect(code, `${stdout}\n${stderr}`).toBe(0);
  expect(stderr).toBe('');
  expect(stdout.trim().split('\n')).toEqual([
    'inserted 3 tuples',
    'replaced: [2,"bob",101]',
    'add of an existing id: Error 00003702: Tuple already exists',
    'select retried 1 time(s) after a transient error',
    'select: 3 carol 133',
    'select: 1 alice 120',
    'select: 2 bob 101',
    'ping: 0 bytes',
  ]);
});
