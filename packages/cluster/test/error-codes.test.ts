import { fileURLToPath } from 'node:url';
import { firstStringArguments } from '@iproto/test-kit/type-check';
import { expect, it } from 'vitest';
import { CLUSTER_ERROR_CODES, IPROTO_ERROR_CODES } from '../src/index.js';

const src = fileURLToPath(new URL('../src/', import.meta.url));

// The union cannot drift from the code: every IProtoError code the cluster raises is in its list,
// and every code of its list is raised somewhere.
it('CLUSTER_ERROR_CODES holds every code the sources raise, and nothing they do not', () => {
  const raised = firstStringArguments(src, ['IProtoError']);
  expect(raised.length).toBeGreaterThan(3);
  for (const { code, where } of raised) expect(CLUSTER_ERROR_CODES, where).toContain(code);
  expect(new Set(raised.map(({ code }) => code))).toEqual(new Set(CLUSTER_ERROR_CODES));
  for (const code of CLUSTER_ERROR_CODES) expect(IPROTO_ERROR_CODES).toContain(code);
});
