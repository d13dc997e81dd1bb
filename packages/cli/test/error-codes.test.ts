import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOX_ERROR_CODES } from '@iproto/box';
import { FRAME_ERROR_CODES } from '@iproto/framing';
import { PackErrorCode } from '@iproto/pack';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_OWN_ERROR_CODES } from '../src/cli-error.js';
import { CLI_ERROR_CODES, CliError, ExitCode, main } from '../src/index.js';
import { fakeIO } from './support/test-support.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the list of CliError codes', () => {
  it('is the CLI own codes and every code of the layers below, once each', () => {
    const all = new Set<string>([
      ...CLI_OWN_ERROR_CODES,
      ...BOX_ERROR_CODES,
      ...Object.values(PackErrorCode),
      ...FRAME_ERROR_CODES,
    ]);
    expect(new Set(CLI_ERROR_CODES)).toEqual(all);
    expect(CLI_ERROR_CODES.length).toBe(all.size);
  });
});

describe('codes of failures', () => {
  it('a cause with a code of no @iproto layer is ERR_CLI_FAILURE, the cause kept', () => {
    const foreign = Object.assign(new Error('illegal operation on a directory'), { code: 'EISDIR' });
    const error = new CliError('cannot read', ExitCode.FAILURE, { cause: foreign });
    expect(error).toMatchObject({ code: 'ERR_CLI_FAILURE', cause: foreign });
  });

  it('decode of a directory reports ERR_CLI_FAILURE under --json (EISDIR is no code of ours)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iproto-cli-codes-'));
    dirs.push(dir);
    const t = fakeIO();
    expect(await main(['decode', dir, '--json'], t.io)).toBe(1);
    expect(JSON.parse(t.stderr()).error.code).toBe('ERR_CLI_FAILURE');
  });

  it('decode of a missing file reports ERR_CLI_FAILURE, as any code of Node own (ENOENT is one of ours only on an IProtoError)', async () => {
    const t = fakeIO();
    expect(await main(['decode', join(tmpdir(), 'iproto-no-such-capture.bin'), '--json'], t.io)).toBe(1);
    expect(JSON.parse(t.stderr()).error.code).toBe('ERR_CLI_FAILURE');
  });

  it('ping of a closed port reports the connection code ECONNREFUSED under --json', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const t = fakeIO();
    expect(await main(['ping', `127.0.0.1:${port}`, '--json'], t.io)).toBe(1);
    expect(JSON.parse(t.stderr().trim().split('\n').at(-1) ?? '').error.code).toBe('ECONNREFUSED');
  });
});
