// The cluster's error codes are listed in @iproto/connection, beside the connection's, because
// IProtoError is one class for every network layer and its `code` is their closed union.
export {
  CLUSTER_ERROR_CODES,
  type ClusterErrorCode,
  IPROTO_ERROR_CODES,
  IProtoError,
  type IProtoErrorCode,
  isIProtoError,
  isIProtoErrorCode,
} from '@iproto/connection';
