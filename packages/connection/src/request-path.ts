// A request's way in on a connection: checking what was dispatched, its deadline and abort
// listener, a slot and room in the write buffer (else the queue), its sync and its frame handed to
// the batch writer; the queue pumped as slots and bytes free; noReply requests done once written.

import { closedError, maybeFinishClose } from './closing.js';
import type { ConnectionState } from './connection-state.js';
import { channels } from './diagnostics.js';
import type { DispatchHandler, DispatchRequest } from './dispatch.js';
import { ABANDONED, type DispatchEntry, DONE, Entry, isFreeEntry, QUEUED, SENT } from './entry.js';
import { IProtoError } from './errors.js';
import { invalidOption, MAX_TIMEOUT } from './options.js';
import { abortError, settle } from './settling.js';
import { dropTransport, open } from './sockets.js';
import { tickNow } from './tick-clock.js';
import { CLOSED, RETIRED, type Transport } from './transport.js';

const EMPTY = new Uint8Array(0);

/** `Connection#dispatch`: the entry of a valid request is launched; an invalid one fails in a microtask. */
export function dispatch(c: ConnectionState, request: DispatchRequest, handler: DispatchHandler): void {
  const error = refusal(c, request);
  if (error !== undefined) {
    queueMicrotask(() => handler.onError(error));
    return;
  }
  // The request is its own entry when it can be (one object per request); else one is made.
  const entry = isFreeEntry(request, handler)
    ? request
    : new Entry(
        request.msg,
        request.body ?? EMPTY,
        request.noReply === true,
        request.signal ?? null,
        handler,
      );
  launch(c, entry, request.timeout ?? c.timeout);
}

/** Checks a request: the error to fail it with, or undefined when it may go. */
function refusal(c: ConnectionState, request: DispatchRequest): Error | undefined {
  const msg = request.msg;
  if (c.closing) return closedError(c);
  if (msg >>> 0 !== msg) {
    return new RangeError(`Connection.send: msg must be an integer from 0 to 4294967295, got ${msg}`);
  }
  const body = request.body;
  // Everything is checked before any state changes: a bad body or signal fails this request
  // alone, through its handler, and never leaves a half-started entry behind.
  if (body !== undefined && !(ArrayBuffer.isView(body) && (body as Uint8Array).BYTES_PER_ELEMENT === 1)) {
    return new TypeError(`Connection.send: body must be a Uint8Array or Buffer, msg ${msg}`);
  }
  const timeout = request.timeout;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0 && timeout <= MAX_TIMEOUT))) {
    return invalidOption(
      `${c.address}: msg ${msg}`,
      'timeout',
      `a number of ms from 0 to ${MAX_TIMEOUT}`,
      timeout,
    );
  }
  const signal = request.signal ?? null;
  if (signal !== null && typeof signal.addEventListener !== 'function') {
    return invalidOption(`${c.address}: msg ${msg}`, 'signal', 'an AbortSignal', signal);
  }
  if (signal?.aborted) return abortError(c, msg, undefined, signal);
  if (c.table.queued >= c.maxQueue && !canStartNow(c, body)) {
    return new IProtoError(
      'ERR_QUEUE_FULL',
      `${c.address}: request queue full (${c.table.queued} queued, maxQueue ${c.maxQueue}), msg ${msg}`,
      { address: c.address, msg },
    );
  }
  return undefined;
}

/** Whether a request with this body would start at once (a slot and room), were it sent now. */
function canStartNow(c: ConnectionState, body: Uint8Array | undefined): boolean {
  const transport = c.current;
  if (c.table.queued !== 0) return false;
  if (transport === null) return true;
  return fits(c, transport, 12 + (body?.length ?? 0));
}

/** A request of `size` bytes may start on `transport`: a free slot, and room in the write buffer. */
function fits(c: ConnectionState, transport: Transport, size: number): boolean {
  if (transport.held >= c.maxParallel) return false;
  const buffered = c.writer.pendingBytes + transport.writableLength;
  return buffered === 0 || buffered + size <= c.maxWriteBuffer;
}

/** Tracks a new request's deadline and signal, then starts it or queues it. */
function launch(c: ConnectionState, entry: DispatchEntry, timeout: number): void {
  c.unsettled++;
  const now = readClock(c);
  if (timeout > 0) c.deadlines.track(entry, now, timeout);
  const transport = c.current ?? open(c);
  // While queued, a socket of this connection: its owner is where the entry's abort goes.
  entry.transport = transport;
  entry.state = QUEUED;
  const signal = entry.signal;
  if (signal != null) signal.addEventListener('abort', entry);
  if (c.table.queued === 0 && fits(c, transport, entry.size)) start(c, transport, entry, now);
  else c.table.enqueue(entry);
}

/** The clock of this tick of sends (read once per tick, see tick-clock.ts). */
function readClock(c: ConnectionState): number {
  c.now = tickNow();
  return c.now;
}

/** Gives an entry a sync on `transport` and hands its frame to the writer (Perl: `_send`). */
function start(c: ConnectionState, transport: Transport, entry: DispatchEntry, now: number): void {
  // The silence clock starts when we begin to wait for something.
  if (transport.held === 0) transport.lastActivity = now;
  c.table.add(entry);
  entry.state = SENT;
  entry.transport = transport;
  transport.held++;
  transport.live++;
  if (channels.send.hasSubscribers) {
    channels.send.publish({ connection: c.connection, msg: entry.msg, sync: entry.sync, body: entry.body });
  }
  c.writer.add(entry);
}

/** Moves queued requests into free slots, oldest first, while they fit. */
export function pump(c: ConnectionState): void {
  const table = c.table;
  const now = readClock(c);
  while (table.queued !== 0) {
    const entry = table.peek();
    if (entry === undefined) break;
    const transport = c.current ?? open(c);
    if (!fits(c, transport, entry.size)) break;
    table.dequeue();
    start(c, transport, entry, now);
  }
}

/** NoReply requests are done once their bytes are written (Perl: on drain). */
export function written(
  c: ConnectionState,
  batch: DispatchEntry[],
  transport: Transport,
  error: Error | null | undefined,
): void {
  if (error || transport.state === CLOSED) return; // the failure path settles them
  for (const entry of batch) {
    if (entry.state === SENT && entry.transport === transport) {
      c.table.remove(entry);
      transport.held--;
      transport.live--;
      settle(c, entry);
      if (channels.reply.hasSubscribers) {
        channels.reply.publish({
          connection: c.connection,
          msg: entry.msg,
          sync: entry.sync,
          reply: undefined,
          error: undefined,
        });
      }
      queueMicrotask(() => entry.onReply(undefined));
    } else {
      // Settled before it was written (deadline, abort): the stand-in keeping its sync goes now.
      const stand = c.table.get(entry.sync);
      if (stand !== undefined && stand.state === ABANDONED && stand.transport === transport) {
        c.table.remove(stand);
        transport.held--;
        stand.state = DONE;
        c.deadlines.untrack(stand);
      }
    }
  }
  if (transport.state === RETIRED && transport.live === 0) dropTransport(c, transport);
  if (c.table.queued !== 0) pump(c);
  if (c.closing) maybeFinishClose(c);
}
