import { expectTypeOf } from 'vitest';
import { clientError } from '../../src/errors.js';
import {
  type ClientErrorCode,
  type ClusterErrorCode,
  type ConnectionErrorCode,
  type IProto,
  IProtoError,
  type IProtoErrorCode,
} from '../../src/index.js';

declare const client: IProto;

// Every code a send can fail with, whichever layer raised it: the switch is exhaustive.
function retryable(error: IProtoError): boolean {
  switch (error.code) {
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
    case 'ECONNCLOSED':
    case 'ERR_CONNECT_TIMEOUT':
    case 'ERR_UNKNOWN_SYNC':
    case 'ERR_FRAME_TOO_LARGE':
    case 'ERR_QUEUE_FULL':
    case 'ERR_NO_SERVERS':
      return true;
    case 'ERR_CONNECTION_CLOSED':
    case 'ERR_DESTROYED':
    case 'ERR_INVALID_OPTION':
    case 'ERR_CLUSTER_CLOSED':
    case 'ERR_NO_KEY':
    case 'ERR_MSG_MISMATCH':
    case 'ERR_UNKNOWN_RESPONSE':
    case 'ERR_BAD_MESSAGE':
    case 'ERR_TRAILING_DATA':
    case 'ERR_REPLY_DECODE':
    case 'ERR_CLIENT_CLOSED':
    case 'ERR_CLIENT_DESTROYED':
      return false;
    default: {
      const unreachable: never = error.code;
      return unreachable;
    }
  }
}
client.send({ msg: 1, unpack: 'L' }).catch((error: unknown) => {
  if (error instanceof IProtoError) retryable(error);
});

expectTypeOf<IProtoErrorCode>().toEqualTypeOf<ConnectionErrorCode | ClusterErrorCode | ClientErrorCode>();
expectTypeOf<'ERR_CLIENT_CLOSED'>().toExtend<ClientErrorCode>();
// @ts-expect-error a misspelt client code is refused by the helper
clientError('ERR_CLIENT_CLOSE', 'x');
// @ts-expect-error a cluster code is not the client's own
clientError('ERR_NO_KEY', 'x');
// @ts-expect-error an abort is an AbortError (code ABORT_ERR), never an IProtoError
new IProtoError('ABORT_ERR', 'x');
