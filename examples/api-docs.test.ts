import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const committed = join(root, 'docs', 'api');
let fresh = '';

afterAll(async () => {
  if (fresh) await rm(fresh, { recursive: true, force: true });
});

async function files(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(relative(dir, path), await readFile(path, 'utf8'));
  }
  return out;
}

// docs/api is what `pnpm docs:api` writes from the sources' TSDoc (scripts/api-docs.mjs). Regenerated
// here into a temporary directory: any difference means the committed reference is stale, and any
// TypeDoc warning (an export without TSDoc, a broken {@link}) fails the script.
test('docs/api is the API reference the sources generate (run `pnpm docs:api` after changing an export)', async () => {
  fresh = await mkdtemp(join(tmpdir(), 'iproto-api-docs-'));
  try {
    await run(process.execPath, ['scripts/api-docs.mjs', fresh], { cwd: root, timeout: 110_000 });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string };
    expect.fail(`scripts/api-docs.mjs failed:\n${failure.stdout ?? ''}\n${failure.stderr ?? error}`);
  }
  const [want, have] = await Promise.all([files(fresh), files(committed)]);
  expect([...have.keys()].sort(), 'the files under docs/api').toEqual([...want.keys()].sort());
  const stale = [...want].filter(([path, text]) => have.get(path) !== text).map(([path]) => path);
  expect(stale, 'pages of docs/api that differ from what `pnpm docs:api` writes').toEqual([]);
}, 120_000);
