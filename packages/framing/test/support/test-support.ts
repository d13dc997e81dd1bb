// Helpers shared by this package's tests (not exported by the package).
import { spawnSync } from 'node:child_process';

/** mulberry32: a small seeded PRNG, so a failing random test can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
