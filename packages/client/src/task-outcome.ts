// What a try's outcome means for its request (MR::IProto::_server_callback): reading a reply (the
// msg check, the decode by response class or unpack template, the bytes left unparsed), and the
// message's say on whether a reply or an error is worth another try. Pure decisions: acting on
// them (retrying, settling, warning) is the runner's.
import { frameBody } from '@iproto/framing';
import { clientError } from './errors.js';
import { asBuffer, type PlainMessage } from './plain-message.js';
import type { Response } from './response.js';
import type { Task } from './task.js';

/**
 * The reply a try brought, the body being `bytes[start..end)`: a response object for a request
 * object, the unpacked array for a plain message (`[0]` for a noReply one). Throws `ERR_MSG_MISMATCH`
 * for another message's reply and `ERR_REPLY_DECODE` when decoding throws.
 */
export function readReply(
  task: Task,
  msg: number,
  sync: number,
  bytes: Uint8Array,
  start: number,
  end: number,
): unknown {
  if (!task.noReply && msg !== task.msg) {
    throw clientError(
      'ERR_MSG_MISMATCH',
      `Request and reply message code is different: ${msg} != ${task.msg}`,
      {
        msg,
        sync,
        address: task.server?.address,
      },
    );
  }
  const request = task.request;
  if (request) {
    const body = task.noReply ? undefined : asBuffer(frameBody(bytes, start, end));
    try {
      return new task.responseClass!(body, request);
    } catch (error) {
      throw decodeError(task, msg, sync, error);
    }
  }
  try {
    return task.noReply ? [0] : task.decode!.unpackRange(bytes, start, end);
  } catch (error) {
    throw decodeError(task, msg, sync, error);
  }
}

/**
 * A reply that could not be decoded (its `unpack` template or function, or its response class,
 * threw): `ERR_REPLY_DECODE` saying which server, msg and sync, the decoder's error (a `PackError`
 * for a template) as `cause`.
 */
function decodeError(task: Task, msg: number, sync: number, error: unknown): Error {
  const address = task.server?.address;
  const detail = error instanceof Error ? error.message : String(error);
  return clientError(
    'ERR_REPLY_DECODE',
    `${address === undefined ? '' : `${address}: `}cannot decode the reply, msg ${msg} sync ${sync}: ${detail}`,
    { address, msg, sync, cause: error },
  );
}
/**
 * MR::IProto::Response::BUILDARGS warns "Not all data was parsed": the `ERR_TRAILING_DATA` error
 * for a response that left `left` bytes of its reply unparsed (the client warns with it, throws it
 * or ignores it, as `trailingData` says).
 */
export function trailingDataError(task: Task, response: Response<any>, left: number, sync: number): Error {
  const address = task.server?.address;
  return clientError(
    'ERR_TRAILING_DATA',
    `Not all data was parsed: ${left} of ${response.data?.length ?? 0} bytes left by ${
      Object.getPrototypeOf(response).constructor.name
    } (${address === undefined ? '' : `${address}, `}msg ${task.msg} sync ${sync})`,
    { msg: task.msg, sync, address },
  );
}

/** Whether a reply asks to be tried again: its response's `retry()`, or a plain message's `isRetry(reply)`. */
export function replyAsksRetry(task: Task, reply: unknown): boolean {
  if (task.request) return (reply as Response<any>).retry() === true;
  const message = task.message as PlainMessage<any>;
  const isRetry = message.isRetry;
  return typeof isRetry === 'function' && Boolean(isRetry.call(message, reply as unknown[]));
}

/** Whether a failed try may be retried: the request's `retry()`, or a plain message's `retry`. */
export function errorAllowsRetry(task: Task): boolean {
  if (task.request) return task.request.retry() === true;
  const message = task.message as PlainMessage<any>;
  const retry = message.retry;
  // The message is `this`, so a caller can keep a retry budget on it rather than in closures.
  return typeof retry === 'function' ? Boolean(retry.call(message)) : Boolean(retry);
}
