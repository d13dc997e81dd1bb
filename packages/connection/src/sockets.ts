// A connection's sockets: opening one (lazily, on the first request), what each reports (open,
// failed, ended), retiring a silent one while its last replies come, and tearing them down with
// their requests (a failure, `disconnectAll`). One `Transport` per socket (transport.ts).

import { closedError, maybeFinishClose, resolveClose } from './closing.js';
import type { ConnectionState } from './connection-state.js';
import { channels } from './diagnostics.js';
import { ABANDONED, DONE } from './entry.js';
import { IProtoError } from './errors.js';
import { rethrowLater } from './reply-batch.js';
import { pump } from './request-path.js';
import { reject } from './settling.js';
import { CLOSED, OPEN, RETIRED, Transport } from './transport.js';

/** Live connections (those with a socket), for `Connection.disconnectAll()`. */
const live = new Set<ConnectionState>();

/** Closes every live connection of the process (Perl's `disconnect_all`); each reconnects on its next request. */
export function disconnectAll(): void {
  for (const c of [...live]) disconnect(c);
}

/** Opens the connection now rather than on the first request (`Connection#connect`). */
export function connect(c: ConnectionState): Promise<void> {
  if (c.closing) return Promise.reject(closedError(c));
  if (c.current !== null && c.current.state === OPEN) return Promise.resolve();
  return new Promise((resolve, fail) => {
    c.connectWaiters.push({ resolve, reject: fail });
    if (c.current === null) open(c);
  });
}

/** Opens a socket: the one new requests go to. */
export function open(c: ConnectionState): Transport {
  if (channels.connecting.hasSubscribers)
    channels.connecting.publish({ connection: c.connection, address: c.address });
  const transport = new Transport(c, c.target, c.connection);
  c.current = transport;
  live.add(c);
  return transport;
}

/** A socket opened: `connect()` resolves, and what gathered while it connected goes out. */
export function opened(c: ConnectionState, transport: Transport): void {
  if (transport !== c.current) {
    transport.destroy();
    return;
  }
  c.writer.transport = transport;
  if (channels.connect.hasSubscribers)
    channels.connect.publish({ connection: c.connection, address: c.address });
  const waiters = c.connectWaiters;
  c.connectWaiters = [];
  for (const waiter of waiters) waiter.resolve();
  if (c.connection.listenerCount('connect') !== 0) c.connection.emit('connect');
  if (c.current === transport) {
    c.writer.flush(false);
    if (c.table.queued !== 0) pump(c);
  }
}

/** A socket failed: its requests reject; when it was the open one, the queued ones too. */
export function failed(c: ConnectionState, transport: Transport, error: IProtoError): void {
  if (transport.state === CLOSED) return;
  if (transport === c.current) {
    teardown(c, error, error, false);
    if (c.closing) maybeFinishClose(c);
    return;
  }
  // A retired socket: only the requests still waiting on it.
  c.retired.delete(transport);
  transport.destroy();
  failOn(c, transport, error);
  forgetIfIdle(c);
  if (c.closing) maybeFinishClose(c);
}

/** A socket `close()` ended has gone; `close()` resolves after the last. */
export function ended(c: ConnectionState, transport: Transport): void {
  if (!c.ending.delete(transport)) return;
  emitClose(c, undefined);
  if (c.ending.size === 0) resolveClose(c);
}

/** Takes a silent socket out of use: it keeps only the requests it has, the next ones go to a new one. */
export function retire(c: ConnectionState, transport: Transport, error: IProtoError): void {
  // Frames gathered for it go with it.
  c.writer.flush(true);
  c.writer.transport = null;
  c.current = null;
  transport.state = RETIRED;
  c.retired.add(transport);
  reportFailure(c, error);
  emitClose(c, error);
  if (transport.live === 0) dropTransport(c, transport);
  if (c.table.queued !== 0) pump(c);
}

/** Closes a retired socket whose last live request settled; its abandoned syncs go with it. */
export function dropTransport(c: ConnectionState, transport: Transport): void {
  c.retired.delete(transport);
  if (channels.closing.hasSubscribers)
    channels.closing.publish({ connection: c.connection, address: c.address });
  transport.destroy();
  failOn(c, transport, undefined);
  forgetIfIdle(c);
}

/** Takes every request on `transport` out of the table, rejecting the live ones with `error`. */
function failOn(c: ConnectionState, transport: Transport, error: Error | undefined): void {
  if (transport.held === 0) return;
  for (const entry of c.table.values()) {
    if (entry.transport !== transport) continue;
    c.table.remove(entry);
    if (entry.state === ABANDONED) {
      entry.state = DONE;
      c.deadlines.untrack(entry);
    } else if (error !== undefined) reject(c, entry, error);
  }
  transport.held = 0;
  transport.live = 0;
}

/** Perl's `disconnect_all`: drop every socket now; the connection stays usable. */
function disconnect(c: ConnectionState): void {
  const error = new IProtoError('ERR_DESTROYED', `${c.address}: disconnected by Connection.disconnectAll()`, {
    address: c.address,
  });
  teardown(c, error, undefined);
}

/**
 * Closes every socket and rejects every request with `error`. `reported` is the error passed to
 * the `error` and `close` events (undefined for a deliberate close). `all` (the default) takes the
 * retired sockets too; a failure of the open socket leaves them their own requests.
 */
export function teardown(c: ConnectionState, error: Error, reported: Error | undefined, all = true): void {
  const transport = c.current;
  c.current = null;
  c.writer.transport = null;
  c.writer.discard();
  if (reported !== undefined) reportFailure(c, reported, transport === null);
  if (transport !== null) {
    if (transport.socket !== null && channels.closing.hasSubscribers) {
      channels.closing.publish({ connection: c.connection, address: c.address });
    }
    transport.destroy();
    failOn(c, transport, error);
  }
  if (all) {
    for (const retired of c.retired) {
      retired.destroy();
      failOn(c, retired, error);
    }
    c.retired.clear();
  }
  for (const entry of c.table.drainQueue()) reject(c, entry, error);
  const waiters = c.connectWaiters;
  c.connectWaiters = [];
  for (const waiter of waiters) waiter.reject(error);
  if (c.table.size === 0) c.deadlines.stop();
  forgetIfIdle(c);
  if (transport !== null) emitClose(c, reported);
}

/** Tells the debug log, the `error` event and channel of a socket's failure or retirement. */
function reportFailure(c: ConnectionState, error: Error, quiet = false): void {
  if (quiet) return;
  if (channels.error.hasSubscribers) channels.error.publish({ connection: c.connection, error });
  // A listener that throws must not stop the teardown it is told about halfway: its error is
  // surfaced as an uncaught exception once the requests are settled and the socket closed.
  if (c.connection.listenerCount('error') !== 0) {
    try {
      c.connection.emit('error', error);
    } catch (thrown) {
      rethrowLater(thrown);
    }
  }
}

/** A connection with no socket left is no longer live (`Connection.disconnectAll` skips it). */
export function forgetIfIdle(c: ConnectionState): void {
  if (c.current === null && c.retired.size === 0) live.delete(c);
}

/** The `close` event and channel: a socket went (`error` says why; undefined after a clean close). */
function emitClose(c: ConnectionState, error: Error | undefined): void {
  if (c.connection.listenerCount('close') !== 0) {
    try {
      c.connection.emit('close', error);
    } catch (thrown) {
      rethrowLater(thrown);
    }
  }
  if (channels.close.hasSubscribers) channels.close.publish({ connection: c.connection, error });
}
