import { BOX_DEFAULTS } from './box-options.js';
import { badReply, type Cursor, readU32, type TupleDecoder, type TupleShape } from './tuple-decoder.js';

/** How to read the success body of one request. */
export type ReplyPlan =
  /** `L count`: INSERT / UPDATE / DELETE without WANT_RESULT. */
  | { readonly kind: 'count'; readonly where: string }
  /** `L count` and tuples: SELECT, CALL, writes with WANT_RESULT. */
  | {
      readonly kind: 'tuples';
      readonly where: string;
      readonly decoder: TupleDecoder;
      readonly shape: TupleShape | undefined;
      /** Most fields the reply may hold (the Box's `maxReplyFields` default when not given). */
      readonly maxFields?: number;
    }
  /** One tuple set per request of a multi-space SELECT (msg 18), each in its own space's format. */
  | {
      readonly kind: 'multi';
      readonly where: string;
      readonly parts: readonly { readonly decoder: TupleDecoder; readonly shape: TupleShape | undefined }[];
      /** Most fields the reply may hold, all its parts together. */
      readonly maxFields?: number;
    }
  /** Ping: the body, if any, is not read. */
  | { readonly kind: 'ping'; readonly where: string };

/** Fields a reply may hold when its plan does not say (the Box's `maxReplyFields` default). */
export const DEFAULT_MAX_REPLY_FIELDS: number = BOX_DEFAULTS.maxReplyFields;

/** A decoded reply: the value on success, the return code and text on error. */
export interface DecodedReply {
  /** 0 on success; otherwise the server's return code, `(error number << 8) | severity`. */
  readonly returnCode: number;
  readonly value: unknown;
  /** The server's error text, its NUL terminator removed. */
  readonly text: string;
}

/**
 * Reads a reply body as MR::Tarantool::Box::_chat does: `L return_code`, then the answer, or the
 * error text. A body shorter than its return code, or bytes left after the answer, is a bad reply.
 */
export function decodeReply(plan: ReplyPlan, bytes: Buffer, start = 0, end = bytes.length): DecodedReply {
  if (plan.kind === 'ping') return { returnCode: 0, value: true, text: '' };
  const maxFields = plan.kind === 'count' ? 0 : (plan.maxFields ?? DEFAULT_MAX_REPLY_FIELDS);
  const cursor: Cursor = { bytes, pos: start, end, where: plan.where, maxFields, fieldsLeft: maxFields };
  const returnCode = readU32(cursor, 'the return code');
  if (returnCode !== 0) {
    // A 1.5 server ends its text with a NUL byte; Perl keeps it, we remove it (and anything after it).
    let textEnd = bytes.indexOf(0, cursor.pos);
    if (textEnd < 0 || textEnd > end) textEnd = end;
    return { returnCode, value: undefined, text: bytes.toString('utf8', cursor.pos, textEnd) };
  }
  let value: unknown;
  switch (plan.kind) {
    case 'count':
      value = readU32(cursor, 'the count of tuples affected');
      break;
    case 'tuples':
      value = plan.decoder.readTuples(cursor, plan.shape);
      break;
    case 'multi': {
      const sets: unknown[][] = [];
      for (const part of plan.parts) sets.push(part.decoder.readTuples(cursor, part.shape));
      value = sets;
      break;
    }
  }
  if (cursor.pos !== end) badReply(cursor, `${end - cursor.pos} bytes left after the answer`);
  return { returnCode: 0, value, text: '' };
}
