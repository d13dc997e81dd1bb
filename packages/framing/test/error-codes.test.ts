import { fileURLToPath } from 'node:url';
import { firstStringArguments } from '@iproto/test-kit/type-check';
import { expect, it } from 'vitest';
import { FRAME_ERROR_CODES } from '../src/index.js';

// The list (and the FrameErrorCode union made from it) cannot drift from the code: it is exactly
// the codes the sources raise.
it('FRAME_ERROR_CODES is exactly the codes the sources raise', () => {
  const raised = firstStringArguments(fileURLToPath(new URL('../src/', import.meta.url)), ['FrameError']);
  expect(raised.length).toBeGreaterThanOrEqual(3);
  for (const { code, where } of raised) expect(FRAME_ERROR_CODES, where).toContain(code);
  expect(new Set(raised.map(({ code }) => code))).toEqual(new Set(FRAME_ERROR_CODES));
});
