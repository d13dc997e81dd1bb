export { Box } from './box.js';
export type { BoxErrorOptions } from './box-error.js';
export { BoxError } from './box-error.js';
export type {
  BoxOptions,
  CallOptions,
  CallProcOptions,
  InsertOptions,
  Outcome,
  SelectOptions,
  UnionRequest,
  WriteOptions,
} from './box-options.js';
export { BOX_DEFAULTS } from './box-options.js';
export { BoxSpace } from './box-space.js';
export {
  BOX_ERROR_CODES,
  BOX_ERRORS,
  BOX_OWN_ERROR_CODES,
  type BoxErrorCode,
  type BoxOwnErrorCode,
  errorName,
  isIProtoErrorCode,
  TARANTOOL_ERROR_CODES,
  type TarantoolErrorCode,
} from './error-codes.js';
export type { FieldLetter, ParsedFormat } from './format.js';
export { parseFormat } from './format.js';
export { BoxMsg, InsertFlags } from './messages.js';
export type { DecodedReply, ReplyPlan } from './reply.js';
export { decodeReply } from './reply.js';
export type { ResolvedIndex } from './space.js';
export { Space } from './space.js';
export type { TupleShape } from './tuple-decoder.js';
export { TupleDecoder } from './tuple-decoder.js';
export type {
  ArrayTuple,
  FieldInput,
  FieldOp,
  FieldOutput,
  IndexKey,
  IndexRef,
  IndexSpec,
  KeyOf,
  NumericOp,
  ObjectTuple,
  ParseFormat,
  PrimaryKeyOf,
  SpaceOf,
  SpaceRef,
  SpaceSpec,
  StringOp,
  Tuple,
  TupleInput,
  UpdateOp,
} from './types.js';
export { MAX_UPDATE_OPS, UpdateOpCode } from './update-ops.js';
