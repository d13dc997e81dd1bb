import type { IProto, PlainMessage } from '@iproto/client';
import { BoxError, serverError } from './box-error.js';
import type { CallOptions } from './box-options.js';
import { ER_MEMORY_ISSUE, isIProtoErrorCode } from './error-codes.js';
import { type DecodedReply, decodeReply, type ReplyPlan } from './reply.js';

/** A reply plan with the function the client unpacks replies with, made once per plan. */
export type PlanWithUnpack = ReplyPlan & { readonly unpack: (body: Buffer) => DecodedReply };

export function withUnpack<P extends ReplyPlan>(
  plan: P,
): P & { readonly unpack: (body: Buffer) => DecodedReply } {
  return Object.assign(plan, { unpack: (body: Buffer) => decodeReply(plan, body) });
}

/** How many tries one request may take. */
export interface Tries {
  /** After a communication error (Perl's `retry` or `select_retry`). */
  readonly retry: number;
  /** After a transient server error (Perl's `soft_retry`). */
  readonly softRetry: number;
  /** Per-try timeout, ms, unless the call gives its own. */
  readonly timeout: number;
}

/**
 * Sends one request through the client, with MR::Tarantool::Box::_chat's retry accounting: a
 * communication error is tried again while `retry` lasts; a transient server error (severity 1)
 * while `softRetry` lasts (then while `retry` does), except a tuple too big for the allocator
 * (0x0701), which no retry can help. A permanent error (severity 2) is final. Resolves to the
 * decoded value (through `pick`); rejects with a BoxError.
 */
export function boxRequest(
  client: IProto,
  msg: number,
  payload: Buffer,
  plan: PlanWithUnpack,
  options: CallOptions,
  tries: Tries,
  pick?: (value: unknown) => unknown,
): Promise<unknown> {
  let left = tries.retry;
  let soft = tries.softRetry;
  const message: PlainMessage<[DecodedReply]> = {
    msg,
    payload,
    key: options.key,
    unpack: plan.unpack,
    retry: () => --left > 0,
    isRetry: ([reply]) => {
      const code = reply.returnCode;
      if (code === 0 || (code & 0xff) !== 1 || code === ER_MEMORY_ISSUE) return false;
      if (--soft > 0) {
        if (left > 1) left--;
        return true;
      }
      return --left > 0;
    },
    // The client counts tries up to this; the two functions above decide within it.
    maxRequestRetries: tries.retry + tries.softRetry,
    timeout: options.timeout ?? tries.timeout,
    signal: options.signal,
  };
  return client.send(message).then(
    ([reply]) => {
      if (reply.returnCode !== 0) throw serverError(reply.returnCode, reply.text, plan.where);
      return pick ? pick(reply.value) : reply.value;
    },
    (error: unknown) => {
      // An abort rejects with the signal's reason (or the client's AbortError), as everywhere else.
      if (options.signal?.aborted && (error as { name?: unknown })?.name === 'AbortError') throw error;
      if (options.signal?.aborted && error === options.signal.reason) throw error;
      throw asBoxError(error, plan.where);
    },
  );
}

/** A failure of the layers below as a BoxError with the same `code` and `errno`, the original as `cause`. */
export function asBoxError(error: unknown, where: string): BoxError {
  if (error instanceof BoxError) return error;
  const e = error as
    | {
        code?: unknown;
        errno?: unknown;
        message?: unknown;
        cause?: unknown;
        address?: string;
        msg?: number;
        sync?: number;
      }
    | undefined;
  // The client could not decode a reply: our own decoder's BoxError (ERR_BOX_REPLY), told where
  // the reply came from (server, msg, sync), the client's error (with ours as its cause) as cause.
  if (e?.code === 'ERR_REPLY_DECODE' && e.cause instanceof BoxError) {
    const { address, msg, sync } = e;
    return new BoxError(
      e.cause.code,
      `${e.cause.message} (reply from ${address ?? 'an unknown server'}, msg ${msg} sync ${sync})`,
      { address, msg, sync, cause: error },
    );
  }
  // The code of an IProtoError is kept; any other error (no code, or a code of no layer of ours)
  // is ERR_BOX_FAILED, itself the cause.
  return new BoxError(
    isIProtoErrorCode(e?.code) ? e.code : 'ERR_BOX_FAILED',
    `${where}: ${typeof e?.message === 'string' ? e.message : String(error)}`,
    { cause: error, errno: typeof e?.errno === 'number' ? e.errno : undefined },
  );
}
