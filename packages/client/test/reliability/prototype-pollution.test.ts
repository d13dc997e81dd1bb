import { defineMessage, IProto, MessageRegistry, Response } from '@iproto/client';
import { Cluster, parseServers } from '@iproto/cluster';
import { Connection } from '@iproto/connection';
import { startTestServer, type TestServer } from '@iproto/server/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// JSON.parse makes `__proto__` an own property (unlike an object literal): the shape of options and
// messages that arrive from configuration files or the network.
const hostile = (json: string) => JSON.parse(json) as Record<string, unknown>;

function expectPrototypesClean(): void {
  for (const name of ['polluted', 'maxParallel', 'timeout', 'noReply', 'msg', 'Response', 'retry']) {
    expect(Object.hasOwn(Object.prototype, name)).toBe(false);
    expect(Object.hasOwn(Function.prototype, name)).toBe(false);
  }
  expect(({} as Record<string, unknown>).constructor).toBe(Object);
}

let server: TestServer;
let closeLater: { close(): Promise<unknown> }[] = [];
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  for (const thing of closeLater) await thing.close();
  closeLater = [];
  await server.close();
  expectPrototypesClean();
});

describe('prototype pollution', () => {
  it('client options with __proto__ and constructor keys: ignored, defaults kept, nothing polluted', async () => {
    const options = hostile(
      `{"servers": "${server.address}", "__proto__": {"maxParallel": 1, "polluted": true, "timeout": 1},
        "constructor": {"prototype": {"polluted": true}},
        "clusterOptions": {"__proto__": {"timeout": 1, "polluted": true}, "constructor": 5}}`,
    );
    const client = new IProto(options as never);
    closeLater.push(client);
    expect(client.maxParallel).toBe(1000);
    expect((client as unknown as Record<string, unknown>).polluted).toBeUndefined();
    // Had the hidden timeout of 1 ms been taken, this delayed reply would time out.
    server.faults.add({ type: 'delay', ms: 50 }, { times: 1 });
    await expect(client.send({ msg: 1, data: [7], unpack: 'L' })).resolves.toEqual([7]);
    for (const s of client.cluster.servers as unknown as { options: Record<string, unknown> }[]) {
      expect(s.options.timeout).toBeUndefined();
      expect(s.options.polluted).toBeUndefined();
    }
  });

  it('connection and cluster options with __proto__ keys keep their defaults', async () => {
    const connection = new Connection(
      { host: server.host, port: server.port },
      hostile('{"__proto__": {"maxParallel": 1, "maxQueue": 0, "timeout": 1}}'),
    );
    closeLater.push(connection);
    expect(connection.maxParallel).toBe(10);
    expect(connection.maxQueue).toBe(10_000);
    expect(connection.timeout).toBe(2000);
    const cluster = new Cluster({
      ...hostile('{"__proto__": {"balance": "ketama"}, "constructor": 1}'),
      servers: server.address,
    } as never);
    closeLater.push(cluster);
    expect(cluster.balance).toBe('round-robin');
    // A servers string naming such a host is a host name, nothing more.
    expect(parseServers('__proto__:1,constructor:2')).toEqual([
      expect.objectContaining({ host: '__proto__', port: 1 }),
      expect.objectContaining({ host: 'constructor', port: 2 }),
    ]);
  });

  it('a plain message with __proto__ keys is sent as its own keys say', async () => {
    const client = new IProto({ servers: server.address });
    closeLater.push(client);
    const message = hostile(
      '{"msg": 17, "data": [1, 2], "pack": "L2", "unpack": "L2", "__proto__": {"noReply": true, "msg": 99}, "constructor": 3}',
    );
    await expect(client.send(message as never)).resolves.toEqual([1, 2]);
    expect(server.requests).toBe(1);
  });

  it('message registries: __proto__ and constructor exports are plain names, never a code lookup path', async () => {
    const Pair = defineMessage({
      msg: 21,
      name: '__proto__',
      request: { template: 'L L', fields: ['__proto__', 'constructor'] as const },
      response: { template: 'L L', fields: ['constructor', '__proto__'] as const },
    });
    // A namespace whose own __proto__ export is the pair and whose constructor export is junk.
    const namespace = hostile('{"constructor": {"Response": 1}, "toString": 2}');
    Object.defineProperty(namespace, '__proto__', { value: Pair, enumerable: true });
    const registry = new MessageRegistry(namespace);
    expect(registry.size).toBe(1);
    expect(registry.get(21)).toBe(Pair.Response);
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(registry.get(key as unknown as number)).toBeUndefined();
    }
    const client = new IProto({ servers: server.address, messages: namespace });
    closeLater.push(client);
    const reply = await client.send(new Pair.Request(hostile('{"__proto__": 5, "constructor": 6}') as never));
    expect(reply).toBeInstanceOf(Response);
    expect(Object.getOwnPropertyDescriptor(reply, 'constructor')?.value).toBe(5);
    expect(Object.getOwnPropertyDescriptor(reply, '__proto__')?.value).toBe(6);
    expect(Object.getPrototypeOf(reply)).toBe(Pair.Response.prototype);
  });

  it('a response class whose msg is inherited or not a number is not registered', () => {
    class Base extends Response {}
    const fake = Object.create(Base, { msg: { value: '17' } });
    const registry = new MessageRegistry([Base, fake, hostile('{"__proto__": {"msg": 17}}')]);
    expect(registry.size).toBe(0);
  });
});
