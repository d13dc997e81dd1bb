export type { Capture, CaptureFrame, CaptureOptions } from './capture.js';
export { iterateCapture, parseCapture, readCapture } from './capture.js';
export {
  DEFAULT_DUMP_LIMIT,
  DEFAULT_LARGE_BODY_THRESHOLD,
  DEFAULT_MAX_FRAME_SIZE,
  HEADER_SIZE,
} from './constants.js';
export type { DumpPacketOptions } from './dump-packet.js';
export { dumpPacket } from './dump-packet.js';
export type { Frame, Header } from './frame.js';
export { decodeHeader, encodeFrame, encodeHeader } from './frame.js';
export type { FrameDecoderOptions, FrameSink } from './frame-decoder.js';
export { FrameDecoder, frameBody } from './frame-decoder.js';
export type { FrameErrorCode, FrameErrorOptions } from './frame-error.js';
export { FRAME_ERROR_CODES, FrameError } from './frame-error.js';
export type { FrameWriterOptions } from './frame-writer.js';
export { FrameWriter } from './frame-writer.js';
