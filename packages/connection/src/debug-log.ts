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

/** Lines carry the server's `host:port`, as MR::IProto::Cluster::Server `_debug` writes them. */
export function debugLine(connection: Debuggable, text: string): void {
  const line = `${connection.address}: ${text}`;
  connection.debugCb(line);
  if (channels.debug.hasSubscribers) channels.debug.publish({ connection, line });
}

function dump(connection: Debuggable, prefix: string, bytes: Uint8Array): void {
  debugLine(connection, prefix + dumpPacket(bytes, { ints: !connection.dumpNoInts }));
}

function watchedConnection(message: unknown): Debuggable | undefined {
  const connection = (message as { connection: Debuggable }).connection;
  return watched.has(connection) ? connection : undefined;
}

function onConnecting(message: unknown): void {
  const connection = watchedConnection(message);
  if (connection !== undefined && connection.debug >= 4) debugLine(connection, 'connecting');
}

function onConnect(message: unknown): void {
  const connection = watchedConnection(message);
  if (connection !== undefined && connection.debug >= 1) debugLine(connection, 'connected');
}

function onClosing(message: unknown): void {
  const connection = watchedConnection(message);
  if (connection !== undefined && connection.debug >= 1) debugLine(connection, 'closing socket');
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
  const connection = watchedConnection(message);
  if (connection === undefined) return;
  if (connection.debug < 1 && connection.debugCb === defaultDebugCb) return;
  const { error } = message as { error: Error };
  const prefix = `${connection.address}: `;
  const text = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  // MR::IProto::Connection::Async `on_error` says "fatal error" for what AnyEvent::Handle calls
  // fatal: everything but its read timeout, which it raises as a plain error.
  const fatal = !(error instanceof IProtoError && error.code === 'ETIMEDOUT');
  debugLine(connection, `${fatal ? 'fatal ' : ''}error: ${text}`);
}
