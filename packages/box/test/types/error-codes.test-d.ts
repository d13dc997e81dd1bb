import type { IProtoErrorCode } from '@iproto/client';
import { expectTypeOf } from 'vitest';
import { boxError } from '../../src/box-error.js';
import {
  BoxError,
  type BoxErrorCode,
  type BoxOwnErrorCode,
  errorName,
  isIProtoErrorCode,
  type TarantoolErrorCode,
} from '../../src/index.js';

declare const error: BoxError;

// A BoxError's code is a closed union: the package's own codes, the server's names, the transport's.
function handle(code: BoxErrorCode): string {
  if (isIProtoErrorCode(code)) return 'transport';
  switch (code) {
    case 'ERR_BOX_SPEC':
    case 'ERR_BOX_ARGUMENT':
    case 'ERR_BOX_REPLY':
    case 'ERR_BOX_CLOSED':
    case 'ERR_BOX_FAILED':
      return 'box';
    case 'ER_TUPLE_FOUND':
    case 'ER_INDEX_VIOLATION':
      return 'duplicate';
    case 'ER_OK':
    case 'ER_NONMASTER':
    case 'ER_ILLEGAL_PARAMS':
    case 'ER_SECONDARY':
    case 'ER_TUPLE_IS_RO':
    case 'ER_INJECTION':
    case 'ER_TUPLE_IS_LOCKED':
    case 'ER_MEMORY_ISSUE':
    case 'ER_BAD_INTEGRITY':
    case 'ER_UNSUPPORTED':
    case 'ER_UNSUPPORTED_COMMAND':
    case 'ER_CANT_DO_SELECT':
    case 'ER_FIBER_STACK':
    case 'ER_KEY_FIELD_TYPE':
    case 'ER_WAL_IO':
    case 'ER_FIELD_TYPE':
    case 'ER_ARG_TYPE':
    case 'ER_SPLICE':
    case 'ER_TUPLE_IS_TOO_LONG':
    case 'ER_UNKNOWN_UPDATE_OP':
    case 'ER_EXACT_MATCH':
    case 'ER_KEY_PART_COUNT':
    case 'ER_PROC_RET':
    case 'ER_TUPLE_NOT_FOUND':
    case 'ER_NO_SUCH_PROC':
    case 'ER_PROC_LUA':
    case 'ER_SPACE_DISABLED':
    case 'ER_NO_SUCH_INDEX':
    case 'ER_NO_SUCH_FIELD':
    case 'ER_NO_SUCH_SPACE':
    case 'ER_UNKNOWN':
      return 'server';
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}
handle(error.code);

expectTypeOf(error.code).toEqualTypeOf<BoxErrorCode>();
expectTypeOf<BoxErrorCode>().toEqualTypeOf<BoxOwnErrorCode | TarantoolErrorCode | IProtoErrorCode>();
expectTypeOf(errorName(0x3702)).toEqualTypeOf<TarantoolErrorCode>();

// @ts-expect-error a misspelt code
new BoxError('ERR_BOX_ARGUMNET', 'x');
// @ts-expect-error the old name of an unknown server error is no code any more
new BoxError('ER_UNKNOWN_0x4a', 'x');
// @ts-expect-error boxError takes only the package's own codes
boxError('ER_TUPLE_FOUND', 'x');
// @ts-expect-error no BoxError has this code
if (error.code === 'ER_DUPLICATE') throw error;
