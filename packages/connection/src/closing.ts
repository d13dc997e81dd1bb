// Closing a connection: `close()` stops new requests and lets those in flight and queued settle
// (at most `closeTimeout` ms) before ending the sockets gracefully; `destroy()` fails everything
// and closes at once.

import { DEFAULT_TIMEOUT } from './connection-options.js';
import type { ConnectionState } from './connection-state.js';
import { channels } from './diagnostics.js';
import { SENT } from './entry.js';
import { IProtoError } from './errors.js';
import { entomb, reject } from './settling.js';
import { dropTransport, forgetIfIdle, teardown } from './sockets.js';
import { CLOSED } from './transport.js';

/** Stops taking requests; lets those in flight and queued settle (at most `closeTimeout` ms), then closes. */
export function close(c: ConnectionState): Promise<void> {
  if (c.destroyed && c.current === null && c.ending.size === 0) return Promise.resolve();
  c.closing = true;
  const done = new Promise<void>((resolve) => c.closeWaiters.push(resolve));
  if (c.unsettled !== 0 && c.closeTimer === null) {
    if (c.closeTimeout === 0) closeExpired(c);
    else {
      c.closeTimer = setTimeout(() => {
        c.closeTimer = null;
        closeExpired(c);
      }, c.closeTimeout);
      c.closeTimer.unref();
    }
  }
  maybeFinishClose(c);
  return done;
}

/** Closes at once: every request rejects (with `error`, or `ERR_DESTROYED`); the connection is done. */
export function destroy(c: ConnectionState, error?: Error): void {
  if (c.destroyed) return;
  c.destroyed = true;
  c.closing = true;
  const reason =
    error ?? new IProtoError('ERR_DESTROYED', `${c.address}: connection destroyed`, { address: c.address });
  teardown(c, reason, error);
  for (const transport of c.ending) transport.destroy();
  c.ending.clear();
  resolveClose(c);
}

/** `closeTimeout` passed: the requests still waiting fail, and the close goes on. */
function closeExpired(c: ConnectionState): void {
  const pending = c.unsettled;
  if (pending === 0) return;
  const error = new IProtoError(
    'ERR_CONNECTION_CLOSED',
    `${c.address}: connection closed: ${pending} request(s) still in flight after closeTimeout ${c.closeTimeout} ms`,
    { address: c.address },
  );
  for (const entry of c.table.drainQueue()) reject(c, entry, error);
  for (const entry of c.table.values()) {
    // Its sync stays (with a stand-in) until the socket goes, so a late reply is not taken for another's.
    if (entry.state === SENT) entomb(c, entry, error);
  }
  maybeFinishClose(c);
}

/**
 * Finishes a close once nothing is left unsettled: retired sockets go, the open one is ended
 * gracefully (FIN), and `close()` resolves when the last has gone.
 */
export function maybeFinishClose(c: ConnectionState): void {
  if (c.unsettled !== 0 || c.destroyed) return;
  if (c.closeTimer !== null) {
    clearTimeout(c.closeTimer);
    c.closeTimer = null;
  }
  for (const retired of [...c.retired]) dropTransport(c, retired);
  const transport = c.current;
  c.current = null;
  c.writer.transport = null;
  // Frames of requests that settled without being written (aborted, timed out) stay unsent.
  c.writer.discard();
  c.table.clear();
  c.deadlines.stop();
  const waiters = c.connectWaiters;
  c.connectWaiters = [];
  for (const waiter of waiters) waiter.reject(closedError(c));
  forgetIfIdle(c);
  if (transport !== null && transport.state !== CLOSED) {
    if (channels.closing.hasSubscribers)
      channels.closing.publish({ connection: c.connection, address: c.address });
    c.ending.add(transport);
    // Make sure it goes even if the peer never reads our FIN.
    transport.end(c.timeout || DEFAULT_TIMEOUT);
    return;
  }
  if (c.ending.size === 0) resolveClose(c);
}

/** Resolves the `close()` promises once every ended socket has gone (at once after `destroy`). */
export function resolveClose(c: ConnectionState): void {
  if (c.ending.size !== 0 && !c.destroyed) return;
  if (c.closeTimer !== null) {
    clearTimeout(c.closeTimer);
    c.closeTimer = null;
  }
  const waiters = c.closeWaiters;
  c.closeWaiters = [];
  for (const resolve of waiters) resolve();
}

/** The error of a request made after `close()` or `destroy()`. */
export function closedError(c: ConnectionState): IProtoError {
  return new IProtoError(
    'ERR_CONNECTION_CLOSED',
    `${c.address}: connection ${c.destroyed ? 'destroyed' : 'closed'}, no new requests`,
    { address: c.address },
  );
}
