// The client's own events: their types, the forwarding of the cluster's server events, and how an
// event about a request reaches its listeners (in the caller's async context).
import type { EventEmitter } from 'node:events';
import type { Message } from './send-types.js';
import type { Task } from './task.js';
import type { ClusterLike, ServerLike } from './types.js';

/** A retry about to be made: the message, the try it starts, and the error or reply that caused it. */
export interface RetryEvent {
  message: Message;
  try: number;
  error: Error | undefined;
  reply: unknown;
}

/**
 * The client's events and their arguments: `client.on('serverDown', (server, reason) => ...)` is
 * typed, and a misspelt name is a compile error. `serverDown` / `serverUp` come from the cluster;
 * their Perl-style names `'server down'` / `'server up'` are deprecated aliases, emitted too (a
 * listener under either name runs once per event).
 */
export interface IProtoEvents {
  serverDown: [server: ServerLike, reason: unknown];
  serverUp: [server: ServerLike, reason: string];
  /** @deprecated The alias of `serverDown`; listen to `serverDown`. */
  'server down': [server: ServerLike, reason: unknown];
  /** @deprecated The alias of `serverUp`; listen to `serverUp`. */
  'server up': [server: ServerLike, reason: string];
  /** A request is tried again. */
  retry: [event: RetryEvent];
  /** Reply bytes a response class left unparsed (`trailingData: 'warn'`), as an `ERR_TRAILING_DATA` error. */
  warning: [error: Error];
  /** EventEmitter's own: a listener is about to be added. */
  newListener: [event: string | symbol, listener: (...args: any[]) => void];
  /** EventEmitter's own: a listener was removed. */
  removeListener: [event: string | symbol, listener: (...args: any[]) => void];
}
/**
 * Tells `onChange` whether a `retry` or `warning` listener is attached, kept up to date as listeners
 * come and go rather than asked per request (`listenerCount` twice cost 2.5% of a request at 1024
 * in flight).
 */
export function watchRequestListeners(client: EventEmitter, onChange: (heard: boolean) => void): void {
  client.on('newListener', (event: string | symbol) => {
    if (event === 'retry' || event === 'warning') onChange(true);
  });
  client.on('removeListener', (event: string | symbol) => {
    if (event === 'retry' || event === 'warning') {
      onChange(client.listenerCount('retry') !== 0 || client.listenerCount('warning') !== 0);
    }
  });
}

/**
 * Re-emits the cluster's `serverDown` / `serverUp` on the client, under the Node-style name and its
 * deprecated Perl-style alias. A cluster may emit either name or both (`@iproto/cluster` emits both,
 * one after the other; a user's cluster or an older copy may emit only `'server down'`): each event
 * reaches the client's listeners once under each name. Returns what stops it (once; later calls do
 * nothing).
 */
export function forwardClusterEvents(client: EventEmitter, cluster: ClusterLike): () => void {
  const forwarded: Array<[string, (...args: unknown[]) => void]> = [];
  // Events forwarded whose other name has not arrived yet: when it does, it is the same event. A
  // listener may cause further events in between (setting a server active), so each is kept until
  // matched; a cluster that emits one name only leaves them, and they go at the end of the tick.
  const awaited: Array<{ name: string; server: ServerLike; reason: unknown }> = [];
  let clearing = false;
  const forward = (event: 'serverDown' | 'serverUp', alias: 'server down' | 'server up') => {
    for (const [name, other] of [
      [event, alias],
      [alias, event],
    ]) {
      const listener = (server: ServerLike, reason: unknown) => {
        const i = awaited.findIndex((a) => a.name === name && a.server === server && a.reason === reason);
        if (i !== -1) {
          awaited.splice(i, 1);
          return;
        }
        awaited.push({ name: other, server, reason });
        if (!clearing) {
          clearing = true;
          queueMicrotask(() => {
            clearing = false;
            awaited.length = 0;
          });
        }
        client.emit(event, server, reason);
        client.emit(alias, server, reason);
      };
      cluster.on(name, listener);
      forwarded.push([name, listener as (...args: unknown[]) => void]);
    }
  };
  forward('serverDown', 'server down');
  forward('serverUp', 'server up');
  return () => {
    for (const [event, listener] of forwarded.splice(0)) cluster.off(event, listener);
  };
}

/** Emits an event about `task` in its caller's async context. */
export function emitFor(
  client: EventEmitter,
  task: Task,
  event: 'retry' | 'warning',
  payload: unknown,
): void {
  const scope = task.scope;
  const emit = client.emit as (event: string, payload: unknown) => boolean;
  if (scope === undefined) emit.call(client, event, payload);
  else scope.runInAsyncScope(emit, client, event, payload);
}
