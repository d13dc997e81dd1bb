import { fileURLToPath } from 'node:url';
import { declaredTypes, typeErrors } from '@iproto/test-kit/type-check';
import { expect, it } from 'vitest';

/**
 * What an editor shows on hover, as the checker prints it (`checker.typeToString`): the types
 * `defineMessage` makes are named (`DefinedResponse<Q, S>`), not spelt out as the intersections
 * they are (`Response<Request<any> & {...}> & {...} & Response<Request<any>>`).
 */
it('the types of defined messages, their requests and replies hover as short named types', () => {
  const file = fileURLToPath(new URL('./support/hover-messages.ts', import.meta.url));
  const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
  expect(typeErrors([file], tsconfig)).toEqual([]);
  const Q = '{ id: number; }';
  const S = '{ id: number; name: Buffer<ArrayBufferLike>; }';
  expect(
    declaredTypes(file, tsconfig, [
      'Get',
      'Fire',
      'request',
      'reply',
      'replyRequest',
      'GetRequest',
      'GetResponse',
      'fired',
      'plain',
    ]),
  ).toEqual({
    Get: `MessagePair<${Q}, ${S}>`,
    Fire: `NoReplyMessagePair<${Q}>`,
    request: `DefinedRequest<${Q}, ${S}>`,
    reply: `DefinedResponse<${Q}, ${S}>`,
    replyRequest: `DefinedRequest<${Q}, ${S}>`,
    GetRequest: `DefinedRequestClass<${Q}, ${S}>`,
    GetResponse: `DefinedResponseClass<${Q}, ${S}>`,
    fired: `NoReplyResponse<${Q}>`,
    plain: '[number, number]',
  });
}, 60_000);
