export { type CompiledTemplate, compile, pack, type UnpackOptions, unpack } from './compile.js';
export { PackError, PackErrorCode, type PackErrorCodeValue } from './pack-error.js';
