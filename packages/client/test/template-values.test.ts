import { unpack } from '@iproto/pack';
import { describe, expect, it } from 'vitest';

// The run-time side of test/types/template-values.test-d.ts: after an item that reads the whole
// body, numbers read no value and strings an empty one, as the inferred tuples say.
describe('what unpack returns after an item that reads the rest of the body', () => {
  const body = Buffer.from('0102030405', 'hex');
  it.each([
    ['a* C', 1],
    ['L a*', 2],
    ['H* n L2', 1],
    ['a* n a2 L', 2],
  ])('%s gives %i value(s)', (template, count) => {
    expect(unpack(template, body)).toHaveLength(count);
  });
});
