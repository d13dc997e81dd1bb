import { pack } from '@iproto/pack';
import { frame, RawClient, waitFor } from './test-support.js';

/**
 * Helpers for the box double's tests: request bodies packed with @iproto/pack in the layouts
 * MR::Tarantool::Box sends, and replies read by hand from the raw bytes a socket received.
 */

/** A 4-byte NUM field. */
export const num = (n: number): Buffer => pack('L', n);
/** An 8-byte NUM64 field. */
export const num64 = (n: bigint): Buffer => pack('Q', n);

/** `L cardinality, (w/a*)*`: a tuple or a key. */
export const tuple = (...fields: (Uint8Array | string)[]): Buffer =>
  pack('L (w/a*)*', fields.length, ...fields);

export const insertBody = (space: number, flags: number, ...fields: (Uint8Array | string)[]): Buffer =>
  Buffer.concat([pack('L L', space, flags), tuple(...fields)]);

export const selectBody = (
  space: number,
  index: number,
  offset: number,
  limit: number,
  ...keys: Buffer[]
): Buffer => Buffer.concat([pack('L L L L L', space, index, offset, limit, keys.length), ...keys]);

/** `[field_no, op, argument]` ops as `L C w/a*`. */
export const updateBody = (
  space: number,
  flags: number,
  key: Buffer,
  ...ops: [number, number, Uint8Array | string][]
): Buffer =>
  Buffer.concat([
    pack('L L', space, flags),
    key,
    pack('L', ops.length),
    ...ops.map(([field, op, argument]) => pack('L C w/a*', field, op, argument)),
  ]);

export const deleteBody = (space: number, flags: number, key: Buffer): Buffer =>
  Buffer.concat([pack('L L', space, flags), key]);

export const callBody = (flags: number, name: string, ...args: (Uint8Array | string)[]): Buffer =>
  Buffer.concat([pack('L w/a*', flags, name), tuple(...args)]);

/** A splice argument as MR::Tarantool::Box packs it: `(w/a*)*` of `l` offset, `l` length or '', bytes. */
export const spliceArg = (offset: number, length: number | undefined, paste: string): Buffer =>
  pack('(w/a*)*', pack('l', offset), length === undefined ? '' : pack('l', length), paste);

export interface ReplyFrame {
  msg: number;
  sync: number;
  body: Buffer;
}

/** A box reply, decoded by hand: a return code, then the error text or the tuples. */
export interface BoxReply {
  code: number;
  /** The error text without its NUL (errors only). */
  text?: string;
  /** Whether the error text ended with a NUL byte. */
  nul?: boolean;
  /** The count word of a success (alone, for a write without WANT_RESULT or an empty result). */
  count?: number;
  /** Each tuple's fields (successes with tuples). */
  tuples?: Buffer[][];
}

/** Reads `L code`, then the NUL-terminated text or `L count` and `count` tuples, checking each size word. */
export function decodeReply(body: Buffer): BoxReply {
  const code = body.readUInt32LE(0);
  if (code !== 0) {
    const nul = body[body.length - 1] === 0;
    return { code, text: body.subarray(4, nul ? -1 : undefined).toString('utf8'), nul };
  }
  const count = body.readUInt32LE(4);
  // A write without WANT_RESULT answers the count alone.
  if (body.length === 8) return { code, count };
  const tuples: Buffer[][] = [];
  let at = 8;
  while (at < body.length) {
    const size = body.readUInt32LE(at);
    const cardinality = body.readUInt32LE(at + 4);
    const end = at + 8 + size;
    const fields: Buffer[] = [];
    at += 8;
    while (at < end) {
      let length = 0;
      let byte: number;
      do {
        byte = body[at++];
        length = length * 128 + (byte & 0x7f);
      } while (byte & 0x80);
      fields.push(body.subarray(at, at + length));
      at += length;
    }
    if (at !== end || fields.length !== cardinality)
      throw new Error(`tuple size ${size} / cardinality ${cardinality} do not match its fields`);
    tuples.push(fields);
  }
  if (tuples.length !== count) throw new Error(`count ${count}, but ${tuples.length} tuples follow`);
  return { code, count, tuples };
}

/** A raw TCP client that sends frames and reads reply frames. */
export class BoxTestClient {
  private read = 0;
  private constructor(readonly raw: RawClient) {}

  static async connect(port: number): Promise<BoxTestClient> {
    return new BoxTestClient(await RawClient.connect(port));
  }

  send(...frames: [number, number, Uint8Array][]): void {
    this.raw.write(...frames.map(([msg, sync, body]) => frame(msg, sync, body)));
  }

  /** The next `n` reply frames, in the order they arrived. */
  async frames(n: number): Promise<ReplyFrame[]> {
    const out: ReplyFrame[] = [];
    for (let i = 0; i < n; i++) {
      await this.raw.bytes(this.read + 12);
      const len = this.raw.received.readUInt32LE(this.read + 4);
      const all = await this.raw.bytes(this.read + 12 + len);
      out.push({
        msg: all.readUInt32LE(this.read),
        sync: all.readUInt32LE(this.read + 8),
        body: Buffer.from(all.subarray(this.read + 12, this.read + 12 + len)),
      });
      this.read += 12 + len;
    }
    return out;
  }

  /** Sends one request and decodes its reply (checking msg and sync are echoed). */
  async request(msg: number, body: Uint8Array, sync = 7): Promise<BoxReply> {
    this.send([msg, sync, body]);
    const [reply] = await this.frames(1);
    if (reply.msg !== msg || reply.sync !== sync)
      throw new Error(`reply msg ${reply.msg} sync ${reply.sync} to msg ${msg} sync ${sync}`);
    return decodeReply(reply.body);
  }

  /** Bytes received that no `frames` call has read. */
  get unread(): number {
    return this.raw.received.length - this.read;
  }

  waitClosed(): Promise<void> {
    return this.raw.waitClosed();
  }

  destroy(): void {
    this.raw.destroy();
  }
}

export { frame, waitFor };
