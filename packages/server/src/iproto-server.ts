import { EventEmitter } from 'node:events';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { dumpPacket, encodeHeader, type Frame, type FrameError } from '@iproto/framing';
import { channels } from './diagnostics.js';
import { ServerConnection } from './server-connection.js';
import { ServerError } from './server-error.js';
import type { IProtoServerEvents } from './server-events.js';
import {
  type IProtoServerOptions,
  type ResolvedServerOptions,
  resolveServerOptions,
  type ServerLimits,
} from './server-options.js';

export type { IProtoServerOptions } from './server-options.js';

/** A reply body. A string is sent as its UTF-8 bytes. */
export type Body = Uint8Array | string;

/** `undefined` answers nothing (for messages the client sends without waiting for a reply). */
// biome-ignore lint/suspicious/noConfusingVoidType: lets a handler with no return statement type-check
export type HandlerResult = Body | undefined | void;

/**
 * Answers one request. The returned body (or the value of the returned promise) is sent back with the
 * request's msg and sync. `request.body` is a view of the received bytes, which are never reused, so a
 * handler may keep it (or return it, to echo) without copying.
 */
export type Handler = (
  request: Frame,
  connection: ServerConnection,
) => HandlerResult | PromiseLike<HandlerResult>;

const defaultDebugCb = (line: string): void => {
  process.stderr.write(`MR::IProto::Server: ${line}\n`);
};

/** Where a server listens, as `listen()` resolves it (the real port when 0 was asked for). */
export interface ServerAddress {
  host: string;
  port: number;
}

/** Sends `body` as the reply to `request`; `undefined` when the handler answered nothing. */
export type Responder = (request: Frame, connection: ServerConnection, body: Uint8Array | undefined) => void;

const reply: Responder = (request, connection, body) => {
  if (body !== undefined) connection.send(request.msg, request.sync, body);
};

/** Taken once: a handler's promise is followed by this `then`, not by whatever `then` it carries. */
const promiseThen = Promise.prototype.then;

/** A body: a real `Uint8Array` (`isView` first: it never throws, and refuses a Proxy of one). */
function isBytes(value: unknown): value is Uint8Array {
  return ArrayBuffer.isView(value) && value instanceof Uint8Array;
}

/** What a handler threw, for a message: whatever it is (a revoked Proxy, a throwing `toString`...). */
function reasonOf(cause: unknown): string {
  try {
    return cause instanceof Error ? String(cause.message) : String(cause);
  } catch {
    return 'a value that cannot be printed';
  }
}

/**
 * An iproto server: the counterpart of MR::IProto::Server. Each request frame goes to the handler
 * routed for its msg code (`server.on(msg, handler)`), else to the default `handler`; what the handler
 * returns is sent back with the request's msg and sync. Replies to one connection may complete out of
 * order.
 *
 * Events ({@link IProtoServerEvents}): `accept` (connection), `disconnect` (connection, error?),
 * `error` (error, connection?), `request` (frame, connection), `drop` (error), `close`. Like MR::IProto::Server::Connection's
 * `_recv_header`, a handler that throws answers nothing; the failure is emitted as `error` when
 * someone listens. Nothing a handler returns or throws, and nothing a client sends, is let through
 * to crash the process.
 */
export class IProtoServer extends EventEmitter<IProtoServerEvents> {
  /** The live connections. */
  readonly connections: ReadonlySet<ServerConnection> = new Set<ServerConnection>();
  /** Connections closed on arrival because `maxConnections` were open. */
  droppedConnections = 0;
  /** The limits in force (the options given, checked, with the defaults for the rest). */
  readonly limits: Readonly<ServerLimits>;

  private readonly defaultHandler: Handler | undefined;
  private readonly routes = new Map<number, Handler>();
  private readonly options: ResolvedServerOptions;
  private readonly netServer: NetServer;
  private readonly debug: number;
  private readonly debugCb: (line: string) => void;
  private bindAddress: ServerAddress | undefined;
  private closing: Promise<void> | undefined;
  /** Settles once the last listen() has bound its address or failed. */
  private binding: Promise<void> | undefined;
  /** Whether anyone listens to 'request': checked per frame, so kept as a field, not asked of EventEmitter. */
  private requestListened = false;

  constructor(options: IProtoServerOptions = {}) {
    super();
    const resolved = resolveServerOptions(options);
    this.options = resolved;
    this.limits = Object.freeze({
      maxFrameSize: resolved.maxFrameSize,
      maxConnections: resolved.maxConnections,
      maxInFlight: resolved.maxInFlight,
      maxReplyBuffer: resolved.maxReplyBuffer,
      frameTimeout: resolved.frameTimeout,
      idleTimeout: resolved.idleTimeout,
      handlerTimeout: resolved.handlerTimeout,
      highWaterMark: resolved.highWaterMark,
    });
    this.defaultHandler = options.handler;
    this.debug = resolved.debug;
    this.debugCb = resolved.debugCb ?? defaultDebugCb;
    this.netServer = createServer(
      resolved.highWaterMark === undefined ? {} : { highWaterMark: resolved.highWaterMark },
      this.onConnection,
    );
    // Node closes a connection over the limit as it accepts it, before any object is made for it.
    if (resolved.maxConnections !== Number.POSITIVE_INFINITY) {
      this.netServer.maxConnections = resolved.maxConnections;
      this.netServer.on('drop', this.onDrop);
    }
    // A failed listen() rejects its promise; only errors of a listening server are reported.
    this.netServer.on('error', (error) => {
      if (this.netServer.listening) this.report(error);
    });
    this.on('newListener', (event: string | symbol) => {
      if (event === 'request') this.requestListened = true;
    });
    this.on('removeListener', (event: string | symbol) => {
      if (event === 'request') this.requestListened = this.listenerCount('request') > 0;
    });
  }

  /** Routes requests with this msg code to `handler`. */
  override on(msg: number, handler: Handler): this;
  /** Listens to one of {@link IProtoServerEvents}. */
  override on<K extends keyof IProtoServerEvents>(
    event: K,
    listener: (...args: IProtoServerEvents[K]) => void,
  ): this;
  /** EventEmitter's own: a listener is added or removed. */
  override on(
    event: 'newListener' | 'removeListener',
    listener: (event: string | symbol, listener: (...args: any[]) => void) => void,
  ): this;
  override on(
    event: number | keyof IProtoServerEvents | 'newListener' | 'removeListener',
    listener: (...args: any[]) => void,
  ): this {
    if (typeof event === 'number') return this.route(event, listener as Handler);
    return super.on(event, listener as never);
  }

  /** Same as `on`: a msg code routes, an event name listens. */
  override addListener(event: any, listener: (...args: any[]) => void): this {
    return this.on(event, listener);
  }

  /**
   * Listens once to one of {@link IProtoServerEvents}. A msg code is refused with a `TypeError`: a
   * route serves every request with its code, so use `on(msg, handler)` or `route(msg, handler)`.
   */
  override once<K extends keyof IProtoServerEvents>(
    event: K,
    listener: (...args: IProtoServerEvents[K]) => void,
  ): this;
  override once(event: any, listener: (...args: any[]) => void): this {
    if (typeof event === 'number')
      throw new TypeError(
        `IProtoServer: once(${event}, ...) cannot route msg ${event} for one request; use on(msg, handler) or route(msg, handler)`,
      );
    return super.once(event, listener as never);
  }

  /** Removes a listener; with a msg code, the route when `handler` is the one routed there. */
  override off(msg: number, handler: Handler): this;
  override off<K extends keyof IProtoServerEvents>(
    event: K,
    listener: (...args: IProtoServerEvents[K]) => void,
  ): this;
  override off(event: any, listener: (...args: any[]) => void): this {
    if (typeof event === 'number') {
      if (this.routes.get(event) === listener) this.routes.delete(event);
      return this;
    }
    return super.off(event, listener as never);
  }

  /** Same as `off`. */
  override removeListener(event: any, listener: (...args: any[]) => void): this {
    return this.off(event, listener);
  }

  /** Routes requests with this msg code to `handler`; `undefined` removes the route. */
  route(msg: number, handler: Handler | undefined): this {
    if (msg >>> 0 !== msg)
      throw new RangeError(`IProtoServer: msg must be an integer from 0 to 4294967295, got ${msg}`);
    if (handler !== undefined && typeof handler !== 'function')
      throw new TypeError(
        `IProtoServer: the handler for msg ${msg} must be a function, got ${typeof handler}`,
      );
    if (handler === undefined) this.routes.delete(msg);
    else this.routes.set(msg, handler);
    return this;
  }

  /** The bound address once listening. */
  get boundAddress(): ServerAddress | undefined {
    return this.bindAddress;
  }

  get listening(): boolean {
    return this.netServer.listening;
  }

  /**
   * Starts accepting connections. Port 0 picks a free port; the result says which. Rejects when
   * `close()` is called before the address is bound: the server then does not listen.
   */
  listen(port = 0, host = '127.0.0.1'): Promise<ServerAddress> {
    if (this.closing !== undefined) return Promise.reject(new Error('IProtoServer: listen() after close()'));
    const listening = new Promise<ServerAddress>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.netServer.once('error', onError);
      // A bad port or host throws here instead of emitting 'error': do not leave onError behind.
      try {
        this.netServer.listen(port, host, () => {
          this.netServer.off('error', onError);
          if (this.closing !== undefined) {
            // shutdown() waits for this bind and then closes the listener.
            reject(new Error(`IProtoServer: closed while starting to listen on ${host}:${port}`));
            return;
          }
          const address = this.netServer.address();
          this.bindAddress =
            address !== null && typeof address === 'object'
              ? { host: address.address, port: address.port }
              : { host, port };
          resolve(this.bindAddress);
        });
      } catch (error) {
        this.netServer.off('error', onError);
        reject(error);
      }
    });
    this.binding = listening.then(
      () => {},
      () => {},
    );
    return listening;
  }

  /**
   * Stops accepting, closes every connection at once (replies not yet written are dropped), and
   * resolves when all of them are gone.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // A listen() still binding (an address lookup is asynchronous) would start listening after this.
    if (this.binding !== undefined) await this.binding;
    const stopped = this.netServer.listening
      ? new Promise<void>((resolve) => this.netServer.close(() => resolve()))
      : undefined;
    const gone = new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.connections.size > 0) return;
        this.off('disconnect', check);
        resolve();
      };
      this.on('disconnect', check);
      check();
    });
    for (const connection of this.connections) connection.destroy();
    await Promise.all([stopped, gone]);
    this.emit('close');
  }

  /**
   * Called for every request frame; `TestServer` overrides it to inject faults. The default runs the
   * routed handler and replies.
   */
  protected dispatch(request: Frame, connection: ServerConnection): void {
    this.handle(request, connection, reply);
  }

  /**
   * Runs the handler for `request` and passes its body to `respond` (`undefined` when it answers
   * nothing); a handler that fails is reported and `respond` is not called.
   */
  protected handle(request: Frame, connection: ServerConnection, respond: Responder): void {
    const handler =
      (this.routes.size === 0 ? undefined : this.routes.get(request.msg)) ?? this.defaultHandler;
    if (handler === undefined) {
      this.report(
        new ServerError(
          'ERR_NO_HANDLER',
          `no handler for msg ${request.msg} (sync ${request.sync}) from ${connection.address}`,
          { address: connection.address, msg: request.msg, sync: request.sync },
        ),
        connection,
      );
      return;
    }
    let result: unknown;
    try {
      result = handler(request, connection);
      // The common answer first: bytes (an echo returns the request's own body view).
      if (isBytes(result)) {
        respond(request, connection, result);
        return;
      }
      if (result === undefined || result === null) {
        respond(request, connection, undefined);
        return;
      }
      if (typeof result === 'string') {
        respond(request, connection, Buffer.from(result, 'utf8'));
        return;
      }
    } catch (error) {
      this.handlerFailed(request, connection, error);
      return;
    }
    this.awaitAnswer(request, connection, result, respond);
  }

  /** Emits `error` when someone listens: a server must not crash because one request failed. */
  protected report(error: Error, connection?: ServerConnection): void {
    if (channels.error.hasSubscribers) channels.error.publish({ server: this, connection, error });
    if (this.listenerCount('error') > 0) this.emit('error', error, connection);
  }

  /**
   * A handler returned a promise, or something else that is not a body: its answer comes later, and
   * the request counts towards `maxInFlight` until it does.
   */
  private awaitAnswer(
    request: Frame,
    connection: ServerConnection,
    result: unknown,
    respond: Responder,
  ): void {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      connection.endRequest(timer);
      return true;
    };
    const onValue = (value: unknown): void => {
      if (!settle()) return;
      // Nothing may escape from here: it would reject the promise `then` returns, unhandled.
      try {
        this.answer(request, connection, value, respond);
      } catch (error) {
        this.handlerFailed(request, connection, error);
      }
    };
    const onError = (error: unknown): void => {
      if (settle()) this.handlerFailed(request, connection, error);
    };
    timer = connection.beginRequest(
      this.options.handlerTimeout === 0
        ? undefined
        : () => {
            if (settle()) this.handlerTimedOut(request, connection);
          },
    );
    try {
      // Promise.resolve adopts a thenable as the language does: a `then` getter or a `then` that
      // throws rejects it rather than throwing here, and anything that is not a thenable (a number, a
      // symbol, a revoked Proxy...) fulfils it and is refused by answer(). Only the `constructor`
      // getter of a native promise can throw here.
      promiseThen.call(Promise.resolve(result), onValue, onError);
    } catch (error) {
      onError(error);
    }
  }

  private answer(request: Frame, connection: ServerConnection, body: unknown, respond: Responder): void {
    if (isBytes(body)) respond(request, connection, body);
    else if (body === undefined || body === null) respond(request, connection, undefined);
    else if (typeof body === 'string') respond(request, connection, Buffer.from(body, 'utf8'));
    else {
      this.handlerFailed(
        request,
        connection,
        new TypeError(`handler returned ${typeof body}, expected a Uint8Array, a string or undefined`),
      );
    }
  }

  private handlerTimedOut(request: Frame, connection: ServerConnection): void {
    const ms = this.options.handlerTimeout;
    if (this.debug >= 1) this.debugLine(connection, `Timed out handling cmd=${request.msg} after ${ms} ms`);
    this.report(
      new ServerError(
        'ERR_HANDLER_TIMEOUT',
        `handler for msg ${request.msg} sync ${request.sync} from ${connection.address} did not answer within ${ms} ms; no reply sent`,
        { address: connection.address, msg: request.msg, sync: request.sync },
      ),
      connection,
    );
  }

  private handlerFailed(request: Frame, connection: ServerConnection, cause: unknown): void {
    const reason = reasonOf(cause);
    // Perl (MR::IProto::Server::Connection::_build__recv_header) warns this whatever the level.
    if (this.debug >= 1) this.debugLine(connection, `Failed to handle cmd=${request.msg}: ${reason}`);
    this.report(
      new ServerError(
        'ERR_HANDLER_FAILED',
        `handler for msg ${request.msg} sync ${request.sync} from ${connection.address} failed: ${reason}`,
        { cause, address: connection.address, msg: request.msg, sync: request.sync },
      ),
      connection,
    );
  }

  private readonly onConnection = (socket: Socket): void => {
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    const options = this.options;
    socket.setNoDelay(options.noDelay);
    const connection = new ServerConnection(socket, {
      maxFrameSize: options.maxFrameSize,
      maxInFlight: options.maxInFlight,
      maxReplyBuffer: options.maxReplyBuffer,
      frameTimeout: options.frameTimeout,
      idleTimeout: options.idleTimeout,
      handlerTimeout: options.handlerTimeout,
      onFrame: this.onFrame,
      onFrameError: this.onFrameError,
      onLimit: this.onLimit,
      onError: this.onSocketError,
      onClose: this.onClose,
      onSend: this.debug >= 6 ? this.dumpSent : undefined,
    });
    (this.connections as Set<ServerConnection>).add(connection);
    if (this.debug >= 1) {
      this.debugLine(connection, 'Connection accepted');
      socket.once('end', () => this.debugLine(connection, 'Connection closed by foreign host'));
    }
    if (channels.accept.hasSubscribers) channels.accept.publish({ server: this, connection });
    this.emit('accept', connection);
  };

  private readonly onFrame = (frame: Frame, connection: ServerConnection): void => {
    if (this.debug >= 5) {
      this.dump(connection, 'recv header: ', encodeHeader(frame.msg, frame.body.length, frame.sync));
      this.dump(connection, 'recv payload: ', frame.body);
    }
    if (channels.request.hasSubscribers)
      channels.request.publish({ server: this, connection, request: frame });
    if (this.requestListened) this.emit('request', frame, connection);
    this.dispatch(frame, connection);
  };

  private readonly onFrameError = (error: FrameError, connection: ServerConnection): Error => {
    const failure = new ServerError(
      'ERR_FRAME_TOO_LARGE',
      `${connection.address}: ${error.message}; connection closed`,
      { cause: error, address: connection.address, msg: error.msg, sync: error.sync },
    );
    if (this.debug >= 1) this.debugLine(connection, `error: ${error.message}`);
    this.report(failure, connection);
    return failure;
  };

  /** A limit closed a connection: idleness is routine (the `disconnect` event says it), the rest is reported. */
  private readonly onLimit = (error: ServerError, connection: ServerConnection): void => {
    if (this.debug >= 1) this.debugLine(connection, `error: ${error.message}`);
    if (error.code !== 'ERR_IDLE_TIMEOUT') this.report(error, connection);
  };

  private readonly onDrop = (data: { remoteAddress?: string; remotePort?: number }): void => {
    this.droppedConnections++;
    const address = `${data.remoteAddress ?? ''}:${data.remotePort ?? 0}`;
    const error = new ServerError(
      'ERR_MAX_CONNECTIONS',
      `${address}: connection closed on arrival, maxConnections (${this.options.maxConnections}) are open`,
      { address },
    );
    if (this.debug >= 1) this.debugCb(`${data.remoteAddress ?? ''}(${address}): ${error.message}`);
    if (channels.drop.hasSubscribers) channels.drop.publish({ server: this, error });
    this.emit('drop', error);
  };

  private readonly onSocketError = (error: Error, connection: ServerConnection): void => {
    if (this.debug >= 1) this.debugLine(connection, `error: ${error.message}`);
    this.report(error, connection);
  };

  private readonly onClose = (connection: ServerConnection, error?: Error): void => {
    (this.connections as Set<ServerConnection>).delete(connection);
    if (channels.disconnect.hasSubscribers) channels.disconnect.publish({ server: this, connection, error });
    this.emit('disconnect', connection, error);
  };

  // ---- debug (MR::IProto::Role::Debuggable) ---------------------------------------------------

  /** Lines name the client as MR::IProto::Server::Connection `_debug` does: `hostname(host:port)`. */
  private debugLine(connection: ServerConnection, text: string): void {
    const line = `${connection.host}(${connection.address}): ${text}`;
    this.debugCb(line);
    if (channels.debug.hasSubscribers) channels.debug.publish({ server: this, connection, line });
  }

  private dump(connection: ServerConnection, prefix: string, bytes: Uint8Array): void {
    this.debugLine(connection, prefix + dumpPacket(bytes, { ints: this.options.dumpNoInts !== true }));
  }

  private readonly dumpSent = (
    msg: number,
    sync: number,
    body: Uint8Array | undefined,
    connection: ServerConnection,
  ): void => {
    this.dump(connection, 'send header: ', encodeHeader(msg, body === undefined ? 0 : body.length, sync));
    this.dump(connection, 'send payload: ', body ?? new Uint8Array(0));
  };

  /** `await using server = new IProtoServer(...)` closes it (as `close()`) when the scope ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
