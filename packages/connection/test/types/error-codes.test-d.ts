import { expectTypeOf } from 'vitest';
import {
  AbortError,
  type ClientErrorCode,
  type ClusterErrorCode,
  type ConnectionErrorCode,
  IPROTO_ERROR_CODES,
  IProtoError,
  type IProtoErrorCode,
  type OsErrorCode,
} from '../../src/index.js';

declare const error: IProtoError;

// `code` is a closed union: a switch over it is exhaustive, and `never` is left in default.
function describe(code: IProtoErrorCode): string {
  switch (code) {
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'ECONNABORTED':
    case 'EPIPE':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'EHOSTDOWN':
    case 'ENETUNREACH':
    case 'ENETDOWN':
    case 'ENETRESET':
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ENOENT':
    case 'EACCES':
    case 'EPERM':
    case 'ENOTCONN':
    case 'ERR_SOCKET':
      return 'socket';
    case 'ECONNCLOSED':
    case 'ERR_CONNECT_TIMEOUT':
    case 'ERR_UNKNOWN_SYNC':
    case 'ERR_FRAME_TOO_LARGE':
    case 'ERR_QUEUE_FULL':
    case 'ERR_CONNECTION_CLOSED':
    case 'ERR_DESTROYED':
    case 'ERR_INVALID_OPTION':
      return 'connection';
    case 'ERR_NO_SERVERS':
    case 'ERR_CLUSTER_CLOSED':
    case 'ERR_NO_KEY':
      return 'cluster';
    case 'ERR_MSG_MISMATCH':
    case 'ERR_UNKNOWN_RESPONSE':
    case 'ERR_BAD_MESSAGE':
    case 'ERR_TRAILING_DATA':
    case 'ERR_REPLY_DECODE':
    case 'ERR_CLIENT_CLOSED':
    case 'ERR_CLIENT_DESTROYED':
      return 'client';
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}
describe(error.code);

expectTypeOf(error.code).toEqualTypeOf<IProtoErrorCode>();
expectTypeOf<IProtoErrorCode>().toEqualTypeOf<ConnectionErrorCode | ClusterErrorCode | ClientErrorCode>();
expectTypeOf<OsErrorCode>().toExtend<ConnectionErrorCode>();
expectTypeOf(IPROTO_ERROR_CODES).toEqualTypeOf<readonly IProtoErrorCode[]>();

// A misspelt or unknown code is a compile error, in the constructor and in a comparison.
// @ts-expect-error 'ECONNREFUSE' is not a code
new IProtoError('ECONNREFUSE', 'x');
// @ts-expect-error an abort is an AbortError, never an IProtoError
new IProtoError('ABORT_ERR', 'x');
// @ts-expect-error no IProtoError has this code, so the comparison is always false
if (error.code === 'ERR_NOPE') throw error;
// A string from elsewhere must be checked first.
declare const text: string;
// @ts-expect-error a plain string is not a code
new IProtoError(text, 'x');

// AbortError keeps its own literal code.
expectTypeOf(new AbortError('x').code).toEqualTypeOf<'ABORT_ERR'>();
