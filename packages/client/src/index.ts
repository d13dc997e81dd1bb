export { IProtoError, isIProtoError } from '@iproto/connection';
export type {
  CheckedFields,
  DefinedRequest,
  DefinedResponse,
  DefineMessageSpec,
  FieldValues,
  MessagePair,
  RequestSpec,
  ReservedRequestField,
  ReservedResponseField,
  ResponseSpec,
} from './define-message.js';
export { defineMessage } from './define-message.js';
export { channels } from './diagnostics.js';
export { ErrorReply } from './error-reply.js';
export type { ClientErrorCode } from './errors.js';
export type {
  BuiltClusterOptions,
  BulkResult,
  ClusterBuildOptions,
  IProtoEvents,
  IProtoOptions,
  Message,
  PlainReply,
  ReplyOf,
  RetryEvent,
  SendCallback,
  SendOptions,
  TrailingDataMode,
} from './iproto.js';
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
  InputOf,
  ItemInput,
  ItemValue,
  TemplateFields,
  TemplateItems,
  TemplateValues,
} from './template-types.js';
export type { ClusterLike, MessageKey, ReplyFrame, ServerLike, ServerSendOptions } from './types.js';
