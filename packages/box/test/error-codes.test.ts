import { fileURLToPath } from 'node:url';
import { IPROTO_ERROR_CODES, IProtoError } from '@iproto/client';
import { firstStringArguments } from '@iproto/test-kit/type-check';
import { describe, expect, it } from 'vitest';
import { asBoxError } from '../src/box-request.js';
import {
  BOX_ERROR_CODES,
  BOX_ERRORS,
  BOX_OWN_ERROR_CODES,
  BoxError,
  errorName,
  TARANTOOL_ERROR_CODES,
} from '../src/index.js';

const src = fileURLToPath(new URL('../src/', import.meta.url));

describe('the list of BoxError codes', () => {
  // The union cannot drift from the code: every code the sources raise is in the package's own list,
  // and every code of that list is raised somewhere.
  it('BOX_OWN_ERROR_CODES holds every code the sources raise, and nothing they do not', () => {
    const raised = firstStringArguments(src, ['BoxError', 'boxError']);
    expect(raised.length).toBeGreaterThan(20);
    for (const { code, where } of raised) expect(BOX_OWN_ERROR_CODES, where).toContain(code);
    const own = new Set(raised.map(({ code }) => code));
    // asBoxError picks ERR_BOX_FAILED for a foreign error (a test below reaches it).
    own.add('ERR_BOX_FAILED');
    expect(own).toEqual(new Set(BOX_OWN_ERROR_CODES));
  });

  it('BOX_ERROR_CODES is the own codes, the server names and the IProtoError codes, once each', () => {
    const all = new Set<string>([...BOX_OWN_ERROR_CODES, ...TARANTOOL_ERROR_CODES, ...IPROTO_ERROR_CODES]);
    expect(new Set(BOX_ERROR_CODES)).toEqual(all);
    expect(BOX_ERROR_CODES.length).toBe(all.size);
    expect(TARANTOOL_ERROR_CODES).toEqual([
      ...[...BOX_ERRORS.values()].map(({ name }) => name),
      'ER_UNKNOWN',
    ]);
  });
});

describe('codes of server errors and of failures below', () => {
  it('a server error number not in BOX_ERRORS is ER_UNKNOWN, its number in errcode', () => {
    expect(errorName(0x3702)).toBe('ER_TUPLE_FOUND');
    expect(errorName(0x4a02)).toBe('ER_UNKNOWN');
    const error = new BoxError(errorName(0x4a02), 'x', { returnCode: 0x4a02 });
    expect(error).toMatchObject({ code: 'ER_UNKNOWN', errcode: 0x4a, severity: 2 });
  });

  it('an IProtoError keeps its code; an error of any other code is ERR_BOX_FAILED with it as cause', () => {
    const timeout = new IProtoError('ETIMEDOUT', 'late', { errno: 110 });
    expect(asBoxError(timeout, 'box.select')).toMatchObject({
      code: 'ETIMEDOUT',
      errno: 110,
      cause: timeout,
    });
    const foreign = Object.assign(new TypeError('bad'), { code: 'ERR_INVALID_ARG_TYPE' });
    expect(asBoxError(foreign, 'box.select')).toMatchObject({ code: 'ERR_BOX_FAILED', cause: foreign });
    expect(asBoxError('boom', 'box.select')).toMatchObject({ code: 'ERR_BOX_FAILED', cause: 'boom' });
  });
});
