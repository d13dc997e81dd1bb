export { type CompiledTemplate, compile, pack, type UnpackOptions, unpack } from './compile.js';
export { PackLimits } from './limits.js';
export { PackError, PackErrorCode, type PackErrorCodeValue } from './pack-error.js';
