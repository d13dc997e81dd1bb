/**
 * Every example of the seed (MR::IProto's SYNOPSIS), translated, against real test servers.
 */
import { Cluster } from '@iproto/cluster';
import { pack, unpack } from '@iproto/pack';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorReply } from '../src/error-reply.js';
import { IProto } from '../src/iproto.js';
import { Request } from '../src/request.js';
import { Response } from '../src/response.js';
import { Fixture } from './support/test-helpers.js';

// MyProject::Message::MyOperation::{Request,Response}: "both message classes must be implemented by user".
const MY_OPERATION = 42;

class MyOperationRequest extends Request<MyOperationResponse> {
  static override readonly msg = MY_OPERATION;
  constructor(
    readonly arg1: number,
    readonly arg2: number,
  ) {
    super();
  }
  protected override encode(): Uint8Array {
    return pack('L L', this.arg1, this.arg2);
  }
}

class MyOperationResponse extends Response<MyOperationRequest> {
  static override readonly msg = MY_OPERATION;
  readonly sum: number;
  constructor(data: Buffer | undefined, request: MyOperationRequest) {
    super(data, request);
    [this.sum] = this.unpack('L') as [number];
  }
}

const MyProjectMessages = { MyOperationRequest, MyOperationResponse };

describe('the seed, translated', () => {
  const fixture = new Fixture();
  afterEach(() => fixture.cleanup());

  async function sumServers(count: number) {
    const servers = await fixture.startServers(count);
    for (const server of servers) {
      server.on(MY_OPERATION, (request) => {
        const [a, b] = unpack('L L', request.body) as number[];
        return pack('L', a + b);
      });
    }
    return servers;
  }

  it('creates a client with full control: cluster => MR::IProto::Cluster->new(servers => [...])', async () => {
    const [server] = await sumServers(1);
    const cluster = new Cluster({ servers: [{ host: server.host, port: server.port }] });
    const client = new IProto({ cluster, messages: MyProjectMessages });
    fixture.clients.push(client);
    const response = await client.send(new MyOperationRequest(1, 2));
    expect(response).toBeInstanceOf(MyOperationResponse);
    expect(response.sum).toBe(3);
    await client.close();
    await cluster.close(); // the client leaves a cluster it was given open
  });

  it("creates a client without it: servers => 'host:port,host:port'", async () => {
    const servers = await sumServers(2);
    const client = new IProto({
      servers: servers.map((s) => s.address).join(','),
      messages: MyProjectMessages,
    });
    fixture.clients.push(client);
    expect(client.cluster.servers.map((s) => s.address)).toEqual(servers.map((s) => s.address));
    const response = await client.send(new MyOperationRequest(20, 22));
    expect(response.sum).toBe(42);
  });

  it('prepares messages as objects: the response isa MyOperation::Response', async () => {
    const servers = await sumServers(1);
    const client = fixture.client(servers, { messages: [MyOperationResponse] });
    const request = new MyOperationRequest(1, 2);
    const response = await client.send(request);
    expect(response).toBeInstanceOf(MyOperationResponse);
    expect(response.request).toBe(request);
    expect(response.msg).toBe(MY_OPERATION);
    expect(response.isError()).toBe(false);
  });

  it('sends messages without objects: { msg, data, pack, unpack: sub {...} }', async () => {
    const servers = await sumServers(1);
    const client = fixture.client(servers);
    const response = await client.send({
      msg: MY_OPERATION,
      data: [5, 6],
      pack: 'L2',
      unpack: (data: Buffer) => unpack('L', data),
    });
    expect(response).toEqual([11]);
  });

  it("sends synchronously: an error is raised, and errno (the seed's $!) says why", async () => {
    const [server] = await fixture.startServers(1);
    const address = server.address;
    await server.close();
    fixture.servers.length = 0;
    const client = new IProto({ servers: address, connectTimeout: 2000 });
    fixture.clients.push(client);
    const failure = await client.send({ msg: MY_OPERATION, data: [1], unpack: 'L' }).then(
      () => undefined,
      (error: unknown) => error as { code: string; errno: number },
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure?.code).toBe('ECONNREFUSED');
    expect(failure?.errno).toBeGreaterThan(0);
  });

  it('sends asynchronously: callback(reply, error) is called when the reply arrives or an error occurs', async () => {
    const servers = await sumServers(1);
    const client = fixture.client(servers, { messages: MyProjectMessages });
    const ok = await new Promise<[unknown, unknown]>((resolve) => {
      client.send(new MyOperationRequest(2, 3), (reply, error) => resolve([reply, error]));
    });
    expect(ok[0]).toBeInstanceOf(MyOperationResponse);
    expect((ok[0] as MyOperationResponse).sum).toBe(5);
    expect(ok[1]).toBeUndefined();

    servers[0].faults.add({ type: 'close' }, { times: 1 });
    const failed = await new Promise<[unknown, unknown]>((resolve) => {
      client.send(new MyOperationRequest(2, 3), (reply, error) => resolve([reply, error]));
    });
    expect(failed[0]).toBeInstanceOf(ErrorReply);
    expect((failed[0] as ErrorReply).isError()).toBe(true);
    expect((failed[0] as ErrorReply).error).toBe(failed[1]);
  });

  it('disconnects all connections after fork: MR::IProto->disconnect_all()', async () => {
    const servers = await sumServers(1);
    const client = fixture.client(servers);
    await client.send({ msg: MY_OPERATION, data: [1, 1], unpack: 'L' });
    expect(servers[0].connections.size).toBe(1);
    const gone = new Promise((resolve) => servers[0].once('disconnect', resolve));
    IProto.disconnectAll();
    await gone;
    // The client connects afresh on the next message.
    expect(await client.send({ msg: MY_OPERATION, data: [1, 1], unpack: 'L' })).toEqual([2]);
  });
});
