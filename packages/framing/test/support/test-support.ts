// Helpers shared by this package's tests (not exported by the package).
import { spawnSync } from 'node:child_process';

/** The one seeded PRNG of the workspace's tests (tools/test-kit), so a failing random test replays from its seed. */
export { createRng as prng } from '@iproto/test-kit';

export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** Runs one Perl script, feeding it `input` on stdin; returns stdout. Fails loudly if Perl fails. */
export function runPerl(script: string, input: string): string {
  const result = spawnSync('perl', ['-e', script], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`perl exited with ${result.status}: ${result.stderr}`);
  return result.stdout;
}
