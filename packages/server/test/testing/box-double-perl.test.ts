import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { type BoxDouble, startBoxDouble } from '../../src/testing/index.js';

/**
 * The reference driver, MR::Tarantool::Box (Debian libmr-tarantool-perl), against the box double.
 * When Perl or the module is missing the script dies and this test fails; it does not skip.
 */
const SCRIPT = fileURLToPath(new URL('../support/perl/mr-tarantool-box-client.pl', import.meta.url));

let box: BoxDouble | undefined;
afterEach(async () => {
  await box?.close();
});

function runPerl(address: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('perl', [SCRIPT, address], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('MR::Tarantool::Box talks to the box double: insert, add, replace, select, update, delete, call, errors', async () => {
  box = await startBoxDouble({
    spaces: [
      {
        space: 0,
        indexes: [
          { parts: [{ field: 0, type: 'NUM' }], type: 'HASH' },
          { parts: [{ field: 2, type: 'NUM' }], unique: false },
        ],
      },
    ],
    procedures: {
      // every user at least as old as the argument, oldest first
      'users.older': ([age]) =>
        box!
          .space(0)
          .tuples()
          .filter((t) => t[2].readUInt32LE(0) >= age.readUInt32LE(0))
          .sort((a, b) => b[2].readUInt32LE(0) - a[2].readUInt32LE(0)),
      'users.fail': () => {
        throw new Error('[string "users.fail"]:1: attempt to index a nil value');
      },
    },
  });
  const { code, stdout, stderr } = await runPerl(box.address);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(stdout.split('\n')).toEqual([
    'insert ok',
    'insert ok',
    'want id=3,name=Zoë ✓,age=30',
    'add Error 00003702: Duplicate key exists in unique index 0',
    "replace Error 00003102: Tuple doesn't exist in index 0",
    'select id=1,name=alice,age=30',
    'select many 3 1',
    'select age 1 3',
    'select limit 1',
    'update id=1,name=alice!,age=31',
    'num ok id=2,name=bob,age=20',
    'cutbeg id=2,name=ob,age=20',
    'update missing 0',
    'delete id=2,name=ob,age=20',
    'delete missing 0',
    'call 1,alice!,31 3,Zoë ✓,30',
    "call missing Error 00003202: Procedure 'nope' is not defined",
    'call lua error Error 00003302: [string "users.fail"]:1: attempt to index a nil value',
    'no space Error 00003902: Space 9 does not exist',
    'ping pong',
    '',
  ]);
  expect(box.space(0).size).toBe(2);
  const zoe = box
    .space(0)
    .tuples()
    .find((t) => t[0].readUInt32LE(0) === 3);
  expect(zoe?.[1]).toEqual(Buffer.from('Zoë ✓'));
});
