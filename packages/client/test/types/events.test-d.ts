import { expectTypeOf } from 'vitest';
import type { IProto, RetryEvent, ServerLike } from '../../src/index.js';

declare const client: IProto;

client.on('serverDown', (server, reason) => {
  expectTypeOf(server).toEqualTypeOf<ServerLike>();
  expectTypeOf(reason).toEqualTypeOf<unknown>();
});
client.on('serverUp', (_server, reason) => expectTypeOf(reason).toEqualTypeOf<string>());
client.on('server down', (server) => expectTypeOf(server).toEqualTypeOf<ServerLike>());
client.on('retry', (event) => expectTypeOf(event).toEqualTypeOf<RetryEvent>());
client.on('warning', (error) => expectTypeOf(error).toEqualTypeOf<Error>());
// @ts-expect-error a misspelt event name
client.on('serverdown', () => {});
// @ts-expect-error the payload of `retry` is one object
client.on('retry', (_event: RetryEvent, _extra: number) => {});
