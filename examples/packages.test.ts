import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');

// The published packages as a user gets them: packed, installed from the tarballs with no registry,
// loaded from ESM and CJS, the bin run, the types checked under node16, each tarball linted by publint
// and Are The Types Wrong (scripts/check-packages.mjs).
test('every package packs, installs alone and loads from ESM, CJS and TypeScript', async () => {
  let stdout = '';
  let code = 0;
  try {
    ({ stdout } = await run(process.execPath, ['scripts/check-packages.mjs'], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 170_000,
    }));
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    code = failure.code ?? 1;
    stdout = `${failure.stdout ?? ''}\n${failure.stderr ?? ''}`;
  }
  const failed = stdout.split('\n').filter((line) => / FAIL /.test(line));
  expect(failed, stdout).toEqual([]);
  expect(code, stdout).toBe(0);
  for (const pkg of ['pack', 'framing', 'server', 'connection', 'cluster', 'client', 'cli', 'box']) {
    expect(stdout).toMatch(new RegExp(`@iproto/${pkg} +alone: install with only its deps.* ok `));
    expect(stdout).toMatch(new RegExp(`@iproto/${pkg} +publint: no error, warning or suggestion +ok `));
    expect(stdout).toMatch(new RegExp(`@iproto/${pkg} +Are The Types Wrong: no problem +ok `));
    expect(stdout).toMatch(
      new RegExp(`@iproto/${pkg} +released version with a readable CHANGELOG entry +ok `),
    );
  }
  expect(stdout).toMatch(/@iproto\/cli +npx iproto --help exits 0 +ok /);
  // An app that installs @iproto/client alone (its dependencies hidden from the app, as pnpm lays
  // them out) uses pack, unpack, PackError, Cluster and IProto all from '@iproto/client'.
  expect(stdout).toMatch(/@iproto\/client +client-only app: @iproto\/pack itself not importable.* ok /);
  for (const kind of ['ESM', 'CJS']) {
    expect(stdout).toMatch(new RegExp(`@iproto/client +client-only app \\(${kind}\\): pack, unpack, .* ok `));
  }
  expect(stdout).toMatch(/all +tsc node16: consumer\.mts \+ consumer\.cts +ok /);
  expect(stdout).toMatch(/(\d+)\/\1 checks passed/);
}, 180_000);
