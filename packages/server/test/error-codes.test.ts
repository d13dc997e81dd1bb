import { fileURLToPath } from 'node:url';
import { firstStringArguments } from '@iproto/test-kit/type-check';
import { expect, it } from 'vitest';
import { SERVER_ERROR_CODES } from '../src/index.js';

// The list (and the ServerErrorCode union made from it) cannot drift from the code: it is exactly
// the codes the sources raise, directly or through the limit helpers.
it('SERVER_ERROR_CODES is exactly the codes the sources raise', () => {
  const src = fileURLToPath(new URL('../src/', import.meta.url));
  const raised = firstStringArguments(src, ['ServerError', 'limit', 'expire']);
  expect(raised.length).toBeGreaterThanOrEqual(8);
  for (const { code, where } of raised) expect(SERVER_ERROR_CODES, where).toContain(code);
  expect(new Set(raised.map(({ code }) => code))).toEqual(new Set(SERVER_ERROR_CODES));
});
