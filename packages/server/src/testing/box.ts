// The box double's public names, re-exported by `@iproto/server/testing`.

export { type BoxFieldValue, BoxFlag, BoxMsg, fieldBytes } from './box-codec.js';
export {
  BOX_MAX_FRAME_SIZE,
  BoxDouble,
  type BoxDoubleOptions,
  type BoxErrorMatch,
  DEFAULT_MAX_REPLY_SIZE,
  startBoxDouble,
} from './box-double.js';
export { BoxCode, BoxDoubleError } from './box-double-error.js';
export { type BoxFieldType, BoxIndex, type BoxIndexOptions, type BoxKeyPart } from './box-index.js';
export type { BoxProcedure, BoxProcedureResult } from './box-requests.js';
export { BoxSpace, type BoxSpaceOptions, DEFAULT_MAX_TUPLE_SIZE } from './box-space.js';
export { BoxUpdateOp } from './box-update.js';
