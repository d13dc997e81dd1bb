import { expectTypeOf } from 'vitest';
import {
  type Cluster,
  type ClusterErrorCode,
  IProtoError,
  type IProtoErrorCode,
  isIProtoError,
} from '../../src/index.js';

declare const cluster: Cluster;

// What the cluster itself refuses: a switch over its codes is exhaustive.
function picked(): string {
  try {
    return cluster.server('key').address;
  } catch (error) {
    if (!(error instanceof IProtoError)) throw error;
    const code = error.code as ClusterErrorCode;
    switch (code) {
      case 'ERR_NO_SERVERS':
        return 'none';
      case 'ERR_CLUSTER_CLOSED':
        return 'closed';
      case 'ERR_NO_KEY':
        return 'no key';
      default: {
        const unreachable: never = code;
        return unreachable;
      }
    }
  }
}
picked();

declare const unknownError: unknown;
if (isIProtoError(unknownError)) expectTypeOf(unknownError.code).toEqualTypeOf<IProtoErrorCode>();
expectTypeOf<ClusterErrorCode>().toExtend<IProtoErrorCode>();
expectTypeOf<ClusterErrorCode>().toEqualTypeOf<'ERR_NO_SERVERS' | 'ERR_CLUSTER_CLOSED' | 'ERR_NO_KEY'>();

// @ts-expect-error a misspelt cluster code
new IProtoError('ERR_NO_SERVER', 'cluster: no servers given');
declare const error: IProtoError;
// @ts-expect-error no IProtoError has this code
if (error.code === 'ERR_CLUSTER_CLOSE') throw error;
