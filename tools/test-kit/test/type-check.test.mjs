import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { declaredTypes, firstStringArguments, typeErrors } from '../type-check.mjs';

function scratch(files) {
  const dir = mkdtempSync(join(tmpdir(), 'test-kit-types-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

test('firstStringArguments finds calls, new, methods and calls spread over lines, in nested folders', (t) => {
  const dir = scratch({
    'a.ts': "fail('ERR_ONE', 'x');\nnew Oops(\n  'ERR_TWO',\n  'y',\n);\nthis.limit('ERR_THREE');\n",
    'deep/b.ts': "fail(code, 'x'); other('ERR_NOT'); fail(`ERR_FOUR`);\n",
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const found = firstStringArguments(dir, ['fail', 'Oops', 'limit']);
  assert.deepEqual(found.map(({ callee, code }) => `${callee} ${code}`).sort(), [
    'Oops ERR_TWO',
    'fail ERR_FOUR',
    'fail ERR_ONE',
    'limit ERR_THREE',
  ]);
  assert.match(found.find(({ code }) => code === 'ERR_TWO').where, /a\.ts:3$/);
});

test('typeErrors reports a type error with its place; declaredTypes prints a hover', (t) => {
  const dir = scratch({
    'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, noEmit: true, types: [] } }),
    'bad.ts': "const n: number = 'x';\nexport {};\n",
    'good.ts': 'type Pair<A> = { a: A } & { b: A };\nexport const p: Pair<number> = { a: 1, b: 2 };\n',
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'tsconfig.json');
  const [error, ...rest] = typeErrors([join(dir, 'bad.ts')], config);
  assert.deepEqual(rest, []);
  assert.match(error, /bad\.ts:1:7: Type 'string' is not assignable to type 'number'/);
  assert.deepEqual(typeErrors([join(dir, 'good.ts')], config), []);
  assert.deepEqual(declaredTypes(join(dir, 'good.ts'), config, ['p']), { p: 'Pair<number>' });
});
