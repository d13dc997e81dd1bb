import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Runs a snippet against the built package in a child `node` with a small heap, for the cases that
 * used to abort the process out of memory or run for minutes: if one comes back, it fails this test
 * (the child dies or times out) instead of taking the vitest worker down with it.
 */

const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** `pnpm test` builds first (turbo's test depends on build); a bare `vitest run` after an edit may not. */
function assertFreshBuild(): void {
  let built: number;
  try {
    built = statSync(DIST).mtimeMs;
  } catch {
    throw new Error(`${DIST} is missing: run "pnpm --filter @iproto/pack build" first`);
  }
  for (const name of readdirSync(SRC)) {
    if (name.endsWith('.ts') && !name.endsWith('.test.ts') && statSync(SRC + name).mtimeMs > built) {
      throw new Error(`${DIST} is older than src/${name}: run "pnpm --filter @iproto/pack build" first`);
    }
  }
}

export interface ChildResult {
  /** What the snippet returned (JSON), when the child finished. */
  value?: unknown;
  /** How it ended, for the failure message: exit status or signal, and the end of its stderr. */
  how: string;
  /** Peak resident memory of the child above what it had before the snippet ran, in MiB. */
  peakMiB?: number;
}

/**
 * Runs `body` (the body of an async function that may use `pack` - the package's exports - and
 * returns a JSON value) in a fresh process with `maxOldSpaceMiB` of heap, for at most `timeoutMs`.
 */
export function inChild(
  body: string,
  options: { maxOldSpaceMiB?: number; timeoutMs?: number } = {},
): ChildResult {
  assertFreshBuild();
  const script = `
    const pack = await import(${JSON.stringify(DIST)});
    const before = process.resourceUsage().maxRSS;
    const value = await (async () => { ${body} })();
    const peakMiB = (process.resourceUsage().maxRSS - before) / 1024;
    process.stdout.write(JSON.stringify({ value, peakMiB }));
  `;
  const run = spawnSync(
    process.execPath,
    [`--max-old-space-size=${options.maxOldSpaceMiB ?? 128}`, '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: options.timeoutMs ?? 20_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const how = `exit ${run.status ?? run.signal}${run.error ? ` (${run.error.message})` : ''}: ${run.stderr.slice(-600)}`;
  if (run.status !== 0) return { how };
  const { value, peakMiB } = JSON.parse(run.stdout) as { value: unknown; peakMiB: number };
  return { value, how, peakMiB };
}

/** The outcome of `f` as plain data a child can send back: values, or the error's name and code. */
export const OUTCOME = `
  const outcome = (f) => {
    try {
      const v = f();
      return { ok: Array.isArray(v) ? v.length : Buffer.isBuffer(v) ? v.length : typeof v };
    } catch (e) {
      return { name: e.name, code: e.code, message: String(e.message).slice(0, 200) };
    }
  };
`;
