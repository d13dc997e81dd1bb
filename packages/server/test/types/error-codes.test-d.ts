import { expectTypeOf } from 'vitest';
import { SERVER_ERROR_CODES, ServerError, type ServerErrorCode } from '../../src/index.js';

declare const error: ServerError;

function closesConnection(code: ServerErrorCode): boolean {
  switch (code) {
    case 'ERR_FRAME_TOO_LARGE':
    case 'ERR_FRAME_TIMEOUT':
    case 'ERR_IDLE_TIMEOUT':
    case 'ERR_REPLY_BUFFER_FULL':
    case 'ERR_MAX_CONNECTIONS':
      return true;
    case 'ERR_HANDLER_FAILED':
    case 'ERR_NO_HANDLER':
    case 'ERR_HANDLER_TIMEOUT':
      return false;
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}
closesConnection(error.code);
expectTypeOf(SERVER_ERROR_CODES).toEqualTypeOf<
  readonly [
    'ERR_HANDLER_FAILED',
    'ERR_NO_HANDLER',
    'ERR_FRAME_TOO_LARGE',
    'ERR_FRAME_TIMEOUT',
    'ERR_IDLE_TIMEOUT',
    'ERR_REPLY_BUFFER_FULL',
    'ERR_HANDLER_TIMEOUT',
    'ERR_MAX_CONNECTIONS',
  ]
>();
// @ts-expect-error a misspelt code
new ServerError('ERR_NO_HANDLERS', 'x');
