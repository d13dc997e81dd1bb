import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runScript } from '../run-script.js';

/**
 * Runs the Tarantool-style example as a user would (`node examples/tarantool/box.mjs`, against the
 * built packages) and checks every answer it prints, and that it exits by itself.
 */
it('runs the Tarantool 1.5 style box example to a clean exit', async () => {
  const script = fileURLToPath(new URL('./box.mjs', import.meta.url));
  const { code, signal, stdout, stderr } = await runScript(script, [], 20_000);
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
