// Reply dispatch on a connection: a reply matched to its request by sync during a read and handed
// over after it (ReplyBatch), requests settled once (replied, failed, aborted, or abandoned by their
// deadline with their sync kept for the late reply), and their slots freed.
import { frameBody } from '@iproto/framing';
import { maybeFinishClose } from './closing.js';
import type { ConnectionState } from './connection-state.js';
import { channels } from './diagnostics.js';
import {
  ABANDONED,
  type DispatchEntry,
  DONE,
  handlerOf,
  IDLE,
  PINNED,
  placeholder,
  QUEUED,
  SENT,
} from './entry.js';
import { abortReason, IProtoError } from './errors.js';
import { pump } from './request-path.js';
import { dropTransport, failed } from './sockets.js';
import { RETIRED, type Transport } from './transport.js';

/**
 * Marks a request settled and frees what it holds but its slot; the caller tells its handler. The
 * request is handed back (IDLE): a dispatcher above may send the same object again.
 */
export function settle(c: ConnectionState, entry: DispatchEntry): void {
  entry.state = IDLE;
  c.deadlines.untrack(entry);
  const signal = entry.signal;
  if (signal != null) signal.removeEventListener('abort', entry);
  c.unsettled--;
}

/** Settles a request as failed (it leaves the table or queue on its caller's side). */
export function reject(c: ConnectionState, entry: DispatchEntry, error: Error): void {
  const wasSent = entry.state === SENT;
  settle(c, entry);
  if (wasSent && channels.reply.hasSubscribers) {
    channels.reply.publish({
      connection: c.connection,
      msg: entry.msg,
      sync: entry.sync,
      reply: undefined,
      error,
    });
  }
  queueMicrotask(() => entry.onError(error));
}

/**
 * Settles a sent request early (deadline or abort) but keeps its sync and slot until its reply comes,
 * so the late reply is dropped quietly rather than taken for an unknown sync (which fails the
 * socket). A stand-in keeps them, the request itself is handed back at once. The stand-in waits
 * until the request's own deadline would have passed (an aborted request's reply may come until
 * then), and at least one more timeout (the connection's, else the request's); a request with no
 * deadline anywhere keeps its stand-in until the reply or the socket's end.
 */
export function abandon(c: ConnectionState, entry: DispatchEntry, error: Error, now: number): void {
  const bucket = entry.bucket;
  const stand = entomb(c, entry, error);
  const grace = c.timeout > 0 ? c.timeout : (bucket?.timeout ?? 0);
  if (grace === 0) return;
  const until = Math.max(bucket === null ? 0 : bucket.deadline, now + grace);
  c.deadlines.track(stand, now, Math.ceil(until - now));
}

/**
 * Fails a sent request and files a stand-in (ABANDONED) under its sync, which keeps its slot; the
 * stand-in is returned.
 */
export function entomb(c: ConnectionState, entry: DispatchEntry, error: Error): DispatchEntry {
  const stand = placeholder(entry);
  c.table.replace(entry, stand);
  entry.transport!.live--;
  // A noReply request is still in its write batch, which forgets it only once written.
  if (entry.noReply) entry.transport = PINNED;
  reject(c, entry, error);
  return stand;
}

/** Frees an abandoned request's slot (held by its stand-in). */
export function release(c: ConnectionState, entry: DispatchEntry): void {
  c.table.remove(entry);
  entry.transport!.held--;
  entry.state = DONE;
  c.deadlines.untrack(entry);
  if (c.table.queued !== 0) pump(c);
}

/** A request's signal was aborted. */
export function abort(c: ConnectionState, entry: DispatchEntry): void {
  const sent = entry.state === SENT;
  const error = abortError(c, entry.msg, sent ? entry.sync : undefined, entry.signal!);
  if (entry.state === QUEUED) {
    reject(c, entry, error);
    c.table.forgetQueued(entry);
  } else if (sent) {
    const transport = entry.transport!;
    abandon(c, entry, error, (c.now = performance.now()));
    if (transport.state === RETIRED && transport.live === 0) dropTransport(c, transport);
  }
  if (c.closing) maybeFinishClose(c);
}

/** The error of a request whose signal aborted: the signal's reason, or an `AbortError` naming where. */
export function abortError(
  c: ConnectionState,
  msg: number,
  sync: number | undefined,
  signal: AbortSignal,
): Error {
  return abortReason(
    signal,
    `${c.address}: request aborted, msg ${msg}${sync === undefined ? '' : ` sync ${sync}`}`,
    { address: c.address, msg, sync },
  );
}

/** Matches a reply (its body is `bytes[start..end)`) to its request, during a read. */
export function replyFrame(
  c: ConnectionState,
  transport: Transport,
  msg: number,
  sync: number,
  bytes: Uint8Array,
  start: number,
  end: number,
): void {
  if (channels.frame.hasSubscribers) {
    channels.frame.publish({ connection: c.connection, msg, sync, bytes, start, end });
  }
  const entry = c.table.get(sync);
  if (entry === undefined || entry.noReply || entry.transport !== transport) {
    // Perl (MR::IProto::Connection::Sync, `recv_all`): "Reply sync N not found" is a connection error.
    failed(
      c,
      transport,
      new IProtoError('ERR_UNKNOWN_SYNC', `${c.address}: reply sync ${sync} not found (msg ${msg})`, {
        address: c.address,
        msg,
        sync,
      }),
    );
    return;
  }
  c.table.remove(entry);
  transport.held--;
  if (entry.state === ABANDONED) {
    entry.state = DONE;
    c.deadlines.untrack(entry);
    return;
  }
  transport.live--;
  settle(c, entry);
  if (channels.reply.hasSubscribers) {
    const reply = { msg, sync, body: frameBody(bytes, start, end) };
    channels.reply.publish({ connection: c.connection, msg: entry.msg, sync, reply, error: undefined });
  }
  c.replies.push(handlerOf(entry), msg, sync, bytes, start, end);
}

/** A read was decoded: hand its replies over, then let waiting requests in. */
export function replyRead(c: ConnectionState, transport: Transport): void {
  c.now = transport.lastActivity;
  c.replies.deliver();
  if (transport.state === RETIRED && transport.live === 0) dropTransport(c, transport);
  if (c.table.queued !== 0 && !c.destroyed) pump(c);
  if (c.closing) maybeFinishClose(c);
}
