/**
 * Every `code` an `IProtoError` can carry, layer by layer. The cluster's and the client's codes are
 * listed here too, beside the connection's, because `IProtoError` is one class shared by the three
 * layers and dependencies point down only: this is the one place that can name them all, so that
 * `IProtoError['code']` is a closed union a `switch` can be exhaustive over. `@iproto/cluster` and
 * `@iproto/client` re-export their lists. A test scans each package's sources for the codes it
 * raises and checks they are listed.
 */

/**
 * The OS error codes a socket (or a user's stream) failure keeps as its `code`, with the OS `errno`.
 * Any other OS code becomes `ERR_SOCKET` (its own code stays on `cause`, its number in `errno`).
 */
export const OS_ERROR_CODES = [
  /** Nothing listens on the port. */
  'ECONNREFUSED',
  /** The peer reset the connection; also an error of a user's stream that has no OS code. */
  'ECONNRESET',
  /** The connection was aborted on this side (a network stack timeout, say). */
  'ECONNABORTED',
  /** Writing to a connection the peer has closed. */
  'EPIPE',
  /** The OS gave up connecting (its own timeout, not `connectTimeout`). */
  'ETIMEDOUT',
  /** No route to the host. */
  'EHOSTUNREACH',
  /** The host is down. */
  'EHOSTDOWN',
  /** No route to the network. */
  'ENETUNREACH',
  /** The network is down. */
  'ENETDOWN',
  /** The network dropped the connection on reset. */
  'ENETRESET',
  /** The address cannot be used from this host. */
  'EADDRNOTAVAIL',
  /** The host name does not resolve (DNS). */
  'ENOTFOUND',
  /** DNS failed for now (the resolver could not be reached). */
  'EAI_AGAIN',
  /** The unix socket path does not exist. */
  'ENOENT',
  /** No permission on the unix socket path. */
  'EACCES',
  /** The OS refused the operation (a firewall rule, say). */
  'EPERM',
  /** The socket is not connected. */
  'ENOTCONN',
] as const;

/** One of {@link OS_ERROR_CODES}: an OS error an `IProtoError` keeps as its code. */
export type OsErrorCode = (typeof OS_ERROR_CODES)[number];

/** Every code of an `IProtoError` raised by `@iproto/connection`, the OS ones included. */
export const CONNECTION_ERROR_CODES = [
  ...OS_ERROR_CODES,
  /** A socket or stream failed with an OS code not in {@link OS_ERROR_CODES}: see `cause` and `errno`. */
  'ERR_SOCKET',
  /** The server closed the connection (mid-frame or not); `errno` is `EPIPE`'s, as AnyEvent::Handle sets `$!`. */
  'ECONNCLOSED',
  /** No connection within `connectTimeout`. */
  'ERR_CONNECT_TIMEOUT',
  /** A reply for a sync not in flight ("Reply sync N not found"). */
  'ERR_UNKNOWN_SYNC',
  /** A reply header announcing more than `maxFrameSize`. */
  'ERR_FRAME_TOO_LARGE',
  /** `send` with `maxQueue` requests already waiting. */
  'ERR_QUEUE_FULL',
  /** `send` after `close()` or `destroy()`; a request still in flight when `closeTimeout` ends. */
  'ERR_CONNECTION_CLOSED',
  /** `destroy()` or `Connection.disconnectAll()`. */
  'ERR_DESTROYED',
  /** A bad option, in a constructor or for one request (every layer checks options this way). */
  'ERR_INVALID_OPTION',
] as const;

/** Stable codes of an `IProtoError` raised by `@iproto/connection`: one of {@link CONNECTION_ERROR_CODES}. */
export type ConnectionErrorCode = (typeof CONNECTION_ERROR_CODES)[number];

/** The codes `@iproto/cluster` adds to `IProtoError`'s (re-exported there). */
export const CLUSTER_ERROR_CODES = [
  /** No servers were given, none is active, or every one has weight 0 for hash balancing. */
  'ERR_NO_SERVERS',
  /** The cluster was closed. */
  'ERR_CLUSTER_CLOSED',
  /** Hash or ketama balancing without a key. */
  'ERR_NO_KEY',
] as const;

/** Stable codes of an `IProtoError` raised by `@iproto/cluster`: one of {@link CLUSTER_ERROR_CODES}. */
export type ClusterErrorCode = (typeof CLUSTER_ERROR_CODES)[number];

/** The codes `@iproto/client` adds to `IProtoError`'s (re-exported there). */
export const CLIENT_ERROR_CODES = [
  /** The reply's msg code is not the request's. */
  'ERR_MSG_MISMATCH',
  /** No response class is registered for the request's msg code. */
  'ERR_UNKNOWN_RESPONSE',
  /** A message the client cannot send: no numeric msg, no `unpack` nor `noReply`. */
  'ERR_BAD_MESSAGE',
  /** The response class left bytes of the reply unparsed (`trailingData: 'error'`). */
  'ERR_TRAILING_DATA',
  /** A reply's `unpack` (or its response class) threw: `address`, `msg`, `sync` say which; the error is `cause`. */
  'ERR_REPLY_DECODE',
  /** `send` after `close()`, or a request still waiting when the client closed. */
  'ERR_CLIENT_CLOSED',
  /** `destroy()` of the client. */
  'ERR_CLIENT_DESTROYED',
  /** A request timed out waiting in the client's own queue (`maxParallel`). */
  'ETIMEDOUT',
] as const;

/** Stable codes of an `IProtoError` raised by `@iproto/client`: one of {@link CLIENT_ERROR_CODES}. */
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/**
 * Every `code` an `IProtoError` can have, whichever layer raised it: a closed list, so
 * `switch (error.code)` can be exhaustive.
 */
export const IPROTO_ERROR_CODES: readonly IProtoErrorCode[] = [
  ...new Set([...CONNECTION_ERROR_CODES, ...CLUSTER_ERROR_CODES, ...CLIENT_ERROR_CODES]),
];

/** The `code` of an `IProtoError`: one of {@link IPROTO_ERROR_CODES}. */
export type IProtoErrorCode = ConnectionErrorCode | ClusterErrorCode | ClientErrorCode;

const OS_CODES: ReadonlySet<string> = new Set(OS_ERROR_CODES);

/** True when `code` is one of {@link OS_ERROR_CODES}. */
export function isOsErrorCode(code: string): code is OsErrorCode {
  return OS_CODES.has(code);
}

const IPROTO_CODES: ReadonlySet<string> = new Set(IPROTO_ERROR_CODES);

/**
 * True when `code` is one of `IPROTO_ERROR_CODES`: narrows a wider code (a `BoxError`'s, an unknown
 * error's) to `IProtoErrorCode`. (Plain names, not links: `@iproto/box` re-exports this function.)
 */
export function isIProtoErrorCode(code: unknown): code is IProtoErrorCode {
  return typeof code === 'string' && IPROTO_CODES.has(code);
}
