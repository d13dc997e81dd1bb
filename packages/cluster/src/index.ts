export { type Balance, HASH, KETAMA, RR } from './balance.js';
export {
  Cluster,
  type ClusterEvents,
  type ClusterOptions,
  type ClusterRequest,
  type PickOptions,
  type ServerDefaults,
} from './cluster.js';
export { crc32 } from './crc32.js';
export { channels } from './diagnostics.js';
export {
  CLUSTER_ERROR_CODES,
  type ClusterErrorCode,
  IPROTO_ERROR_CODES,
  IProtoError,
  type IProtoErrorCode,
  isIProtoError,
  isIProtoErrorCode,
} from './errors.js';
export { HealthChecker, type HealthOptions, PING_MSG } from './health-checker.js';
export { type BalanceKey, keyBytes, perlNumberString } from './key.js';
export { type BadServerError, parseServer, parseServers, type ServerAddress } from './parse-servers.js';
export {
  type ConnectionFactory,
  type Reply,
  SET_INACTIVE,
  Server,
  type ServerEvents,
  type ServerOptions,
} from './server.js';
export { MAX_WEIGHT, type WeightLimitError } from './weight.js';
