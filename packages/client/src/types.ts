import type { EventEmitter } from 'node:events';
import type { DispatchHandler, DispatchRequest } from '@iproto/connection';

/** What balancing hashes: a string, a number (its Perl decimal form), a bigint or raw bytes. */
export type MessageKey = string | number | bigint | Uint8Array;

/** One reply frame as the connection layer hands it over. */
export interface ReplyFrame {
  msg: number;
  sync: number;
  body: Uint8Array;
}

/** Per-try options handed to `server.send`. */
export interface ServerSendOptions {
  noReply?: boolean;
  timeout?: number;
  signal?: AbortSignal;
}

/** The part of `@iproto/cluster`'s `Server` the client uses. */
export interface ServerLike {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly active: boolean;
  /** Its per-request timeout in ms; undefined for the connection's default (2000). */
  readonly timeout?: number | undefined;
  /** The request path's contract (`@iproto/cluster`'s `Server` has it); preferred when present. */
  dispatch?(request: DispatchRequest, handler: DispatchHandler): void;
  /** Used for a server object that has no `dispatch`. */
  send(msg: number, body: Uint8Array, options?: ServerSendOptions): Promise<ReplyFrame>;
}

/** The part of `@iproto/cluster`'s `Cluster` the client uses (what a `factory` must return). */
export interface ClusterLike extends Pick<EventEmitter, 'on' | 'off'> {
  readonly servers: readonly ServerLike[];
  readonly balance?: string;
  timeout: number | undefined;
  /** Picks the server for a request with `key`, avoiding `exclude` where it can. */
  server(key?: MessageKey, options?: { exclude?: Iterable<ServerLike> }): ServerLike;
  /** Closes every connection once what is in flight has settled. */
  close(): Promise<void>;
  /** Fails what is in flight with `error` and closes every connection at once (`IProto#destroy`). */
  destroy?(error?: Error): void;
}
