import { expectTypeOf } from 'vitest';
import type { Connection, ConnectionEvents } from '../../src/index.js';

declare const connection: Connection;

connection.on('connect', (...args) => expectTypeOf(args).toEqualTypeOf<[]>());
connection.on('close', (error) => expectTypeOf(error).toEqualTypeOf<Error | undefined>());
connection.on('error', (error) => expectTypeOf(error).toEqualTypeOf<Error>());
connection.on('timeout', (info) => {
  expectTypeOf(info.msg).toEqualTypeOf<number>();
  expectTypeOf(info.sync).toEqualTypeOf<number | undefined>();
});
expectTypeOf<keyof ConnectionEvents>().toEqualTypeOf<'connect' | 'close' | 'error' | 'timeout'>();
// @ts-expect-error a misspelt event name
connection.on('conect', () => {});
// @ts-expect-error `timeout`'s payload is one object, not a number
connection.on('timeout', (_info: number) => {});
// @ts-expect-error `connect` has no payload to emit
connection.emit('connect', 1);
