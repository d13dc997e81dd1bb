import { debuglog } from 'node:util';
import { dumpPacket, encodeHeader, type Frame, frameBody } from '@iproto/framing';
import { channels } from './diagnostics.js';
import { IProtoError } from './errors.js';

/** What the debug subscriber needs of a connection (its public debug settings). */
export interface Debuggable {
  readonly address: string;
  readonly debug: number;
  readonly debugCb: (line: string) => void;
  readonly dumpNoInts: boolean;
}

/** The Perl hooks of one connection (MR::IProto::Connection `_send_started` / `_recv_finished`). */
export interface Hooks {
  sendStarted?(sync: number, msg: number, body: Uint8Array): void;
  recvFinished?(
    sync: number,
    msg: number | undefined,
    body: Uint8Array | undefined,
    error: Error | undefined,
  ): void;
}

export const defaultDebugCb = (line: string): void => {
  process.stderr.write(`MR::IProto: ${line}\n`);
};

/**
 * `NODE_DEBUG=iproto`: Node's own switch for a library's debug lines (util.debuglog). When set, every
 * connection's lines up to level 4 (connecting, connected, closing, errors; not the packet dumps of
 * levels 5 and 6) go to stderr as `IPROTO <pid>: 127.0.0.1:33013: connected`, whatever its `debug`.
 */
const nodeDebug = debuglog('iproto');
/** The level `NODE_DEBUG=iproto` logs every connection at; 0 when it is not set. */
const NODE_DEBUG_LEVEL = nodeDebug.enabled ? 4 : 0;

/** Connections that asked for debug lines or hooks, and their hooks. */
const watched = new WeakMap<object, Hooks>();
let subscribed = false;

/**
 * Has the debug subscriber serve `connection`: its Perl debug lines (MR::IProto::Role::Debuggable)
 * and hooks come from the diagnostics channels, so the request path carries no branch for them. The
 * subscriber is attached on the first call and stays (debugging is for a process being watched).
 */
export function observe(connection: Debuggable, hooks: Hooks): void {
  watched.set(connection, hooks);
  subscribe();
}

function subscribe(): void {
  if (subscribed) return;
  subscribed = true;
  channels.connecting.subscribe(onConnecting);
  channels.connect.subscribe(onConnect);
  channels.send.subscribe(onSend);
  channels.frame.subscribe(onFrame);
  channels.reply.subscribe(onReply);
  channels.error.subscribe(onError);
  channels.closing.subscribe(onClosing);
}

// Under NODE_DEBUG=iproto every connection is watched from the start.
if (NODE_DEBUG_LEVEL > 0) subscribe();

/** Lines carry the server's `host:port`, as MR::IProto::Cluster::Server `_debug` writes them. */
export function debugLine(connection: Debuggable, text: string): void {
  const line = `${connection.address}: ${text}`;
  connection.debugCb(line);
  if (channels.debug.hasSubscribers) channels.debug.publish({ connection, line });
}

/**
 * A line of `level`: to the connection's `debugCb` when it asked for that level, and to
 * `NODE_DEBUG=iproto` when that is set and logs the level.
 */
function log(connection: Debuggable, level: number, text: string): void {
  if (watched.has(connection) && connection.debug >= level) debugLine(connection, text);
  if (NODE_DEBUG_LEVEL >= level) nodeDebug('%s: %s', connection.address, text);
}

function dump(connection: Debuggable, prefix: string, bytes: Uint8Array): void {
  debugLine(connection, prefix + dumpPacket(bytes, { ints: !connection.dumpNoInts }));
}

function watchedConnection(message: unknown): Debuggable | undefined {
  const connection = (message as { connection: Debuggable }).connection;
  return watched.has(connection) ? connection : undefined;
}

function onConnecting(message: unknown): void {
  log((message as { connection: Debuggable }).connection, 4, 'connecting');
}

function onConnect(message: unknown): void {
  log((message as { connection: Debuggable }).connection, 1, 'connected');
}

function onClosing(message: unknown): void {
  log((message as { connection: Debuggable }).connection, 1, 'closing socket');
}

function onSend(message: unknown): void {
  const connection = watchedConnection(message);
  if (connection === undefined) return;
  const { msg, sync, body } = message as { msg: number; sync: number; body: Uint8Array };
  if (connection.debug >= 5) {
    dump(connection, 'send header: ', encodeHeader(msg, body.length, sync));
    dump(connection, 'send payload: ', body);
  }
  watched.get(connection)!.sendStarted?.(sync, msg, body);
}

function onFrame(message: unknown): void {
  const connection = watchedConnection(message);
  if (connection === undefined || connection.debug < 6) return;
  const { msg, sync, bytes, start, end } = message as {
    msg: number;
    sync: number;
    bytes: Uint8Array;
    start: number;
    end: number;
  };
  dump(connection, 'recv header: ', encodeHeader(msg, end - start, sync));
  dump(connection, 'recv payload: ', frameBody(bytes, start, end));
}

function onReply(message: unknown): void {
  const connection = watchedConnection(message);
  if (connection === undefined) return;
  const { sync, reply, error } = message as {
    sync: number;
    reply: Frame | undefined;
    error: Error | undefined;
  };
  // As Perl's `_recv_finished`: msg and body are those of the reply, undefined without one.
  watched.get(connection)!.recvFinished?.(sync, reply?.msg, reply?.body, error);
}

/** Perl logs every connection error whatever the level; we do so from level 1, or when `debugCb` is set. */
function onError(message: unknown): void {
  const { connection, error } = message as { connection: Debuggable; error: Error };
  const own = watched.has(connection) && (connection.debug >= 1 || connection.debugCb !== defaultDebugCb);
  if (!own && NODE_DEBUG_LEVEL === 0) return;
  const prefix = `${connection.address}: `;
  const text = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  // MR::IProto::Connection::Async `on_error` says "fatal error" for what AnyEvent::Handle calls
  // fatal: everything but its read timeout, which it raises as a plain error.
  const fatal = !(error instanceof IProtoError && error.code === 'ETIMEDOUT');
  const line = `${fatal ? 'fatal ' : ''}error: ${text}`;
  if (own) debugLine(connection, line);
  if (NODE_DEBUG_LEVEL > 0) nodeDebug('%s: %s', connection.address, line);
}
