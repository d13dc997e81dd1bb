// What a client's users need from the layers below, so that `npm install @iproto/client` alone is
// enough: under pnpm (or any strict layout) an app cannot import a package it does not depend on.
export {
  type Balance,
  Cluster,
  type ClusterOptions,
  HASH,
  KETAMA,
  RR,
  type Server,
  type ServerOptions,
} from '@iproto/cluster';
export type { ConnectionOptions, IProtoErrorOptions } from '@iproto/connection';
export {
  AbortError,
  CLIENT_ERROR_CODES,
  CLUSTER_ERROR_CODES,
  type ClientErrorCode,
  type ClusterErrorCode,
  CONNECTION_ERROR_CODES,
  type ConnectionErrorCode,
  IPROTO_ERROR_CODES,
  IProtoError,
  type IProtoErrorCode,
  isIProtoError,
  isIProtoErrorCode,
  OS_ERROR_CODES,
  type OsErrorCode,
} from '@iproto/connection';
export {
  type CompiledTemplate,
  compile,
  PackError,
  PackErrorCode,
  type PackErrorCodeValue,
  pack,
  type UnpackOptions,
  unpack,
} from '@iproto/pack';
export type { IProtoEvents, RetryEvent } from './client-events.js';
export type {
  BuiltClusterOptions,
  ClusterBuildOptions,
  IProtoOptions,
  TrailingDataMode,
} from './client-options.js';
export type {
  CheckedFields,
  DefinedRequest,
  DefinedRequestClass,
  DefinedResponse,
  DefinedResponseClass,
  DefineMessageSpec,
  FieldValues,
  MessagePair,
  NoReplyMessagePair,
  NoReplyRequest,
  NoReplyRequestClass,
  NoReplyResponse,
  NoReplyResponseClass,
  RequestSpec,
  ReservedRequestField,
  ReservedResponseField,
  ResponseSpec,
} from './define-message.js';
export { defineMessage } from './define-message.js';
export type { RequestTraceContext } from './diagnostics.js';
export { channels, requestTracing } from './diagnostics.js';
export { ErrorReply } from './error-reply.js';
export { IProto } from './iproto.js';
export type { MessagesOption } from './message-registry.js';
export { MessageRegistry } from './message-registry.js';
export { NoResponse } from './no-response.js';
export type { PlainMessage, PlainResult } from './plain-message.js';
export type { RequestClass } from './request.js';
export { Request } from './request.js';
export type { ResponseClass } from './response.js';
export { Response } from './response.js';
export type {
  BulkResult,
  Message,
  PlainReply,
  ReplyOf,
  SendCallback,
  SendOptions,
} from './send-types.js';
export type {
  InputOf,
  ItemInput,
  ItemValue,
  TemplateFields,
  TemplateItems,
  TemplateValues,
} from './template-types.js';
export type { ClusterLike, MessageKey, ReplyFrame, ServerLike, ServerSendOptions } from './types.js';
