// Deadlines passing on a connection (the one timer of `Deadlines` fired): a queued request fails, a
// sent one is abandoned (its sync kept for one more timeout, see `abandon`), an abandoned one's grace ends, and
// a socket silent for `timeout` while a request waited is retired (Perl kills it).

import { maybeFinishClose } from './closing.js';
import type { ConnectionState } from './connection-state.js';
import { channels } from './diagnostics.js';
import { ABANDONED, type DispatchEntry, QUEUED } from './entry.js';
import { errnoOf, IProtoError } from './errors.js';
import { abandon, reject, release } from './settling.js';
import { dropTransport, retire } from './sockets.js';
import { OPEN, RETIRED, type Transport } from './transport.js';

/** The deadline timer fired: every request past its deadline expires, earliest first. */
export function onTimer(c: ConnectionState, now: number): void {
  c.now = now;
  if (c.deadlines.sweep(now)) {
    const victims: DispatchEntry[] = [];
    for (const entry of c.table.queuedEntries()) if (entry.bucket?.expired) victims.push(entry);
    for (const entry of c.table.values()) if (entry.bucket?.expired) victims.push(entry);
    victims.sort((a, b) => a.bucket!.deadline - b.bucket!.deadline);
    for (const entry of victims) {
      // An earlier expiry may have failed the connection and settled the rest.
      if (entry.bucket?.expired) expire(c, entry, now);
    }
  }
  c.deadlines.rearm();
}

function expire(c: ConnectionState, entry: DispatchEntry, now: number): void {
  if (entry.state === ABANDONED) {
    // Its grace is over: forget the sync; a reply arriving later is an unknown sync.
    const transport = entry.transport!;
    release(c, entry);
    if (transport.state === RETIRED && transport.live === 0) dropTransport(c, transport);
    if (c.closing) maybeFinishClose(c);
    return;
  }
  const queued = entry.state === QUEUED;
  const sync = queued ? undefined : entry.sync;
  const timeout = entry.bucket!.timeout;
  const error = new IProtoError(
    'ETIMEDOUT',
    `${c.address}: request timed out after ${timeout} ms ${queued ? 'waiting in the queue' : 'waiting for the reply'}, msg ${entry.msg}` +
      (queued ? '' : ` sync ${sync}`),
    { address: c.address, errno: errnoOf('ETIMEDOUT'), msg: entry.msg, sync },
  );
  if (queued) {
    reject(c, entry, error);
    c.table.forgetQueued(entry);
    // It waited behind requests on a socket that has said nothing for as long: a silent peer
    // holding every slot must not keep the queue (a health probe, say) waiting for good.
    const transport = c.current;
    if (transport !== null && transport.held > 0) {
      retireIfSilent(
        c,
        transport,
        now,
        timeout,
        (silence) =>
          `${c.address}: read timed out: nothing received for ${silence} ms while msg ${entry.msg} waited in the queue; socket retired`,
      );
    }
  } else {
    const transport = entry.transport!;
    abandon(c, entry, error, now);
    if (transport === c.current) {
      retireIfSilent(
        c,
        transport,
        now,
        timeout,
        (silence) =>
          `${c.address}: read timed out: nothing received for ${silence} ms while msg ${entry.msg} sync ${sync} waited; socket retired`,
      );
    } else if (transport.state === RETIRED && transport.live === 0) dropTransport(c, transport);
  }
  if (c.connection.listenerCount('timeout') !== 0) c.connection.emit('timeout', { msg: entry.msg, sync });
  if (channels.timeout.hasSubscribers)
    channels.timeout.publish({ connection: c.connection, msg: entry.msg, sync });
  if (c.closing) maybeFinishClose(c);
}

/**
 * Perl (MR::IProto::Connection::Async, `on_timeout`) kills a handle silent for `timeout` while
 * callbacks wait. We retire it instead: new requests go to a fresh socket, and those still within
 * their own deadlines keep waiting on this one. The silence is the connection's `timeout`, else the
 * timeout of the request that expired.
 */
function retireIfSilent(
  c: ConnectionState,
  transport: Transport,
  now: number,
  timeout: number,
  message: (silence: number) => string,
): void {
  const silence = c.timeout > 0 ? c.timeout : timeout;
  if (transport.state !== OPEN || now - transport.lastActivity < silence) return;
  retire(
    c,
    transport,
    new IProtoError('ETIMEDOUT', message(silence), { address: c.address, errno: errnoOf('ETIMEDOUT') }),
  );
}
