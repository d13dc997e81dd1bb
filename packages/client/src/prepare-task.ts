// MR::IProto::_send_now: a message made ready to send, checked once for all its tries: its code,
// its body (packed once), its key, how its reply is read (response class or unpack template), and
// its per-request timeout, signal and number of tries.
import { AsyncResource } from 'node:async_hooks';
import { invalidOption, MAX_TIMEOUT } from '@iproto/connection';
import type { CallbackOutcome } from './callback-outcome.js';
import { positiveInteger } from './client-options.js';
import { clientError } from './errors.js';
import { type PlainMessage, plainBody, plainDecoder, type ReplyDecoder } from './plain-message.js';
import { Request, type RequestClass } from './request.js';
import { Response, type ResponseClass } from './response.js';
import type { Message, SendOptions } from './send-types.js';
import { Task } from './task.js';
import type { TaskRunner } from './task-runner.js';
import type { MessageKey } from './types.js';

/** A request object (else a plain message). */
export function isRequestObject(message: unknown): message is Request<any> {
  return message instanceof Request;
}

/** The response class a request class names as its pair (`defineMessage` sets it). */
function pairedResponse(request: Request<any>): ResponseClass | undefined {
  const paired = (Object.getPrototypeOf(request).constructor as RequestClass).Response;
  return typeof paired === 'function' && paired.prototype instanceof Response
    ? (paired as ResponseClass)
    : undefined;
}

/**
 * The task of `message` on `runner`'s client, its outcome going to `settle` (a callback) or else to
 * `resolve` / `reject`. Throws `ERR_BAD_MESSAGE`, `ERR_UNKNOWN_RESPONSE` or `ERR_INVALID_OPTION`
 * for a message that cannot be sent.
 */
export function prepareTask(
  runner: TaskRunner,
  message: Message,
  options: SendOptions | undefined,
  settle: CallbackOutcome | undefined,
  resolve: (reply: unknown) => void,
  reject: (error: Error) => void,
): Task {
  const client = runner.client;
  if (message === null || typeof message !== 'object') {
    throw clientError('ERR_BAD_MESSAGE', 'message must be a Request object or a plain message object');
  }
  let responseClass: ResponseClass | undefined;
  let decode: ReplyDecoder | undefined;
  let msg: number;
  let key: MessageKey | undefined;
  let body: Uint8Array;
  let noReply: boolean;
  let maxTries = client.maxRequestRetries;
  let timeout = options?.timeout;
  let signal = options?.signal;
  if (isRequestObject(message)) {
    msg = message.msg;
    if (!Number.isInteger(msg)) {
      throw clientError(
        'ERR_BAD_MESSAGE',
        `${Object.getPrototypeOf(message).constructor.name}: request class has no numeric static msg`,
      );
    }
    responseClass = client.messages.get(msg) ?? pairedResponse(message);
    if (!responseClass) {
      throw clientError('ERR_UNKNOWN_RESPONSE', `Cannot find response class for message code ${msg}`, {
        msg,
      });
    }
    key = message.key();
    body = message.data;
    noReply = responseClass.noReply === true;
  } else {
    const plain = message as PlainMessage<any>;
    msg = plain.msg;
    if (!Number.isInteger(msg) || msg < 0 || msg > 0xffffffff) {
      throw clientError(
        'ERR_BAD_MESSAGE',
        `message code must be an unsigned 32-bit integer, got ${String(msg)}`,
      );
    }
    noReply = plain.noReply === true;
    // MR::IProto::_send_now dies "unpack or no_reply must be specified".
    if (!plain.unpack && !noReply) {
      throw clientError('ERR_BAD_MESSAGE', `message ${msg}: unpack or noReply must be specified`, { msg });
    }
    if (!noReply) decode = plainDecoder(plain);
    key = plain.key;
    body = plainBody(plain);
    // MR::IProto::_send_try: `$args->{max_request_retries} ||= $self->max_request_retries`.
    if (plain.maxRequestRetries) {
      maxTries = positiveInteger(plain.maxRequestRetries, maxTries, 'maxRequestRetries');
    }
    timeout ??= plain.timeout;
    signal ??= plain.signal;
  }
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0 && timeout <= MAX_TIMEOUT))) {
    throw invalidOption(`message ${msg}`, 'timeout', `a number of ms from 0 to ${MAX_TIMEOUT}`, timeout);
  }
  if (signal != null && typeof signal.addEventListener !== 'function') {
    throw invalidOption(`message ${msg}`, 'signal', 'an AbortSignal', signal);
  }
  return new Task(
    runner,
    message,
    msg,
    key,
    body,
    noReply,
    responseClass,
    decode,
    maxTries,
    timeout,
    signal,
    settle ?? (runner.eventsHeard ? new AsyncResource('IPROTO_REQUEST') : undefined),
    resolve,
    reject,
  );
}
