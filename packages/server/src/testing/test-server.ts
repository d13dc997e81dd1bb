import { encodeFrame, encodeHeader, type Frame } from '@iproto/framing';
import { type Handler, IProtoServer, type IProtoServerOptions } from '../iproto-server.js';
import type { ServerConnection } from '../server-connection.js';
import { DEFAULT_GARBAGE, type FaultPlan, FaultSet } from './fault-set.js';

export interface TestServerOptions extends IProtoServerOptions {
  /** Port for `startTestServer` to listen on. Default 0 (a free port). */
  port?: number;
  /** Host for `startTestServer` to listen on. Default `127.0.0.1`. */
  host?: string;
}

/** The default handler of a test server: the reply is the request's body. */
export const echo: Handler = (request) => request.body;

/**
 * An `IProtoServer` for tests: echoes by default, counts requests, and applies scripted `faults`.
 * Faults live only here, not on every `IProtoServer`, so a production server carries no test hooks;
 * with no fault added the cost is one size check per request.
 */
export class TestServer extends IProtoServer {
  /** Scripted misbehaviour; see `Fault`. */
  readonly faults = new FaultSet();
  /** Requests handled so far, faulted ones included (not those held back by `stopReading`). */
  requests = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(options: IProtoServerOptions = {}) {
    super({ ...options, handler: options.handler ?? echo });
  }

  /** The listening IP address (throws before `listen`). */
  get host(): string {
    return this.bound().host;
  }

  /** The listening port (throws before `listen`). */
  get port(): number {
    return this.bound().port;
  }

  /** `host:port`, as `servers` strings spell it (throws before `listen`). */
  get address(): string {
    const { host, port } = this.bound();
    return `${host}:${port}`;
  }

  override close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    return super.close();
  }

  protected override dispatch(request: Frame, connection: ServerConnection): void {
    this.requests++;
    const plan = this.faults.size === 0 ? undefined : this.faults.take(request, connection);
    if (plan === undefined) {
      super.dispatch(request, connection);
      return;
    }
    const fault = plan.fault;
    if (fault?.type === 'close') {
      connection.close();
      return;
    }
    if (fault?.type === 'stopReading') {
      connection.stopReading();
      return;
    }
    this.handle(request, connection, (req, conn, body) => {
      if (plan.delay > 0) this.later(plan.delay, () => this.misbehave(plan, req, conn, body));
      else this.misbehave(plan, req, conn, body);
    });
  }

  private misbehave(
    plan: FaultPlan,
    request: Frame,
    connection: ServerConnection,
    body: Uint8Array | undefined,
  ): void {
    const { msg, sync } = request;
    const fault = plan.fault;
    switch (fault?.type) {
      case undefined:
        if (body !== undefined) connection.send(msg, sync, body);
        return;
      case 'drop':
        return;
      case 'duplicate':
        if (body === undefined) return;
        connection.send(msg, sync, body);
        connection.send(msg, sync, body);
        return;
      case 'wrongSync':
        connection.send(msg, fault.sync ?? (sync ^ 0x80000000) >>> 0, body);
        return;
      case 'wrongMsg':
        connection.send(fault.msg ?? (msg + 1) >>> 0, sync, body);
        return;
      case 'truncate': {
        const frame = encodeFrame(msg, sync, body);
        const cut = Math.min(fault.bytes ?? Math.max(1, frame.length >>> 1), frame.length - 1);
        connection.write(frame.subarray(0, cut));
        connection.close();
        return;
      }
      case 'garbage':
        connection.write(fault.bytes ?? DEFAULT_GARBAGE);
        return;
      case 'hugeLength':
        connection.write(encodeHeader(msg, fault.len ?? 0xffffffff, sync));
        return;
      default:
        // 'close' and 'stopReading' act on arrival, in dispatch().
        return;
    }
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    // A forgotten delay must not keep a test process alive.
    timer.unref();
    this.timers.add(timer);
  }

  private bound(): { host: string; port: number } {
    const address = this.boundAddress;
    if (address === undefined)
      throw new Error('TestServer: not listening yet (await listen() or use startTestServer())');
    return address;
  }
}

/**
 * Starts a `TestServer` on `options.host` (default `127.0.0.1`) and `options.port` (default 0, a free
 * port). Without a handler it echoes every request's body.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { port = 0, host = '127.0.0.1', ...serverOptions } = options;
  const server = new TestServer(serverOptions);
  await server.listen(port, host);
  return server;
}
