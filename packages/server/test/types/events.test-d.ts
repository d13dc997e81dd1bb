import type { Frame } from '@iproto/framing';
import { expectTypeOf } from 'vitest';
import type { IProtoServer, IProtoServerEvents, ServerConnection, ServerError } from '../../src/index.js';

declare const server: IProtoServer;

server.on('accept', (connection) => expectTypeOf(connection).toEqualTypeOf<ServerConnection>());
server.on('disconnect', (connection, error) => {
  expectTypeOf(connection).toEqualTypeOf<ServerConnection>();
  expectTypeOf(error).toEqualTypeOf<Error | undefined>();
});
server.on('error', (error, connection) => {
  expectTypeOf(error).toEqualTypeOf<Error>();
  expectTypeOf(connection).toEqualTypeOf<ServerConnection | undefined>();
});
server.on('request', (request) => expectTypeOf(request).toEqualTypeOf<Frame>());
server.on('drop', (error) => expectTypeOf(error).toEqualTypeOf<ServerError>());
server.on('close', (...args) => expectTypeOf(args).toEqualTypeOf<[]>());
server.once('drop', (error) => expectTypeOf(error.code).toEqualTypeOf<ServerError['code']>());
server.off('accept', (_connection: ServerConnection) => {});
// A number routes requests with that msg code: the handler gets the frame and the connection.
server.on(17, (request, connection) => {
  expectTypeOf(request).toEqualTypeOf<Frame>();
  expectTypeOf(connection).toEqualTypeOf<ServerConnection>();
  return request.body;
});
server.on('newListener', (event) => expectTypeOf(event).toEqualTypeOf<string | symbol>());
expectTypeOf<keyof IProtoServerEvents>().toEqualTypeOf<
  'accept' | 'disconnect' | 'error' | 'request' | 'drop' | 'close'
>();

// @ts-expect-error a misspelt event name
server.on('acept', () => {});
// @ts-expect-error a misspelt event name, with once
server.once('dissconnect', () => {});
// @ts-expect-error `drop` carries a ServerError, not a connection
server.on('drop', (_connection: ServerConnection) => {});
// @ts-expect-error `accept` is emitted with the connection
server.emit('accept');
