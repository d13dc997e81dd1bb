import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runChild } from '../lib/run-child.mjs';

const dir = mkdtempSync(join(tmpdir(), 'iproto-bench-'));
const script = (name, text) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe('runChild', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the JSON object from the last line of stdout', async () => {
    const file = script(
      'ok.mjs',
      `console.log('warming up'); console.log(JSON.stringify({ package: 'x', results: [{ name: 'a', value: typeof gc }] }));`,
    );
    const outcome = await runChild(file, { timeoutMs: 20_000 });
    assert.equal(outcome.status, 'ok');
    assert.deepEqual(outcome.json, { package: 'x', results: [{ name: 'a', value: 'function' }] });
  });

  it('reports a crash with its exit code and last error line', async () => {
    const file = script('crash.mjs', `process.stderr.write('it went wrong\\n'); process.exit(3);`);
    const outcome = await runChild(file, { timeoutMs: 20_000 });
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.reason, 'exit code 3 (it went wrong)');
  });

  it('reports a benchmark that prints no results object', async () => {
    const file = script('silent.mjs', `console.log('done');`);
    const outcome = await runChild(file, { timeoutMs: 20_000 });
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.reason, /not the JSON results object/);
  });

  it('kills a benchmark that runs past its time', async () => {
    const file = script('hang.mjs', 'setInterval(() => {}, 1000);');
    const outcome = await runChild(file, { timeoutMs: 500 });
    assert.equal(outcome.status, 'timeout');
    assert.equal(outcome.reason, 'killed after 0.5 s');
  });
});
