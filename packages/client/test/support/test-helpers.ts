import { startTestServer, type TestServer } from '@iproto/server/testing';
import { IProto, type IProtoOptions } from '../../src/iproto.js';
import type { ClusterLike, ServerLike } from '../../src/types.js';

/** Test servers and clients started by a test, closed by `cleanup()` in `afterEach`. */
export class Fixture {
  readonly servers: TestServer[] = [];
  readonly clients: IProto[] = [];

  async startServers(count: number, options?: Parameters<typeof startTestServer>[0]): Promise<TestServer[]> {
    const started = await Promise.all(Array.from({ length: count }, () => startTestServer(options)));
    this.servers.push(...started);
    return started;
  }

  client(servers: readonly TestServer[], options: Omit<IProtoOptions, 'servers'> = {}): IProto {
    const client = new IProto({ servers: servers.map((s) => s.address).join(','), ...options });
    this.clients.push(client);
    return client;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close()));
    await Promise.all(this.servers.splice(0).map((s) => s.close()));
  }
}

/** A promise and its resolver, for handlers that answer when the test says so. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * A cluster of one server object of the test's own (the part of `@iproto/cluster` the client uses):
 * every pick is `server`; its events are never emitted.
 */
export function oneServerCluster(server: ServerLike, timeout?: number): ClusterLike {
  const cluster = {
    servers: [server],
    timeout,
    server: () => server,
    close: async () => undefined,
    on: () => cluster,
    off: () => cluster,
  };
  return cluster as unknown as ClusterLike;
}
