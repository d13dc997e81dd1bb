import { expectTypeOf } from 'vitest';
import {
  defineMessage,
  type ErrorReply,
  type IProto,
  type PlainMessage,
  type PlainResult,
} from '../../src/index.js';

declare const client: IProto;

// Plain messages: the reply is the tuple a literal `unpack` template reads.
expectTypeOf(client.send({ msg: 17, data: [1], pack: 'L', unpack: 'L w/a*' })).resolves.toEqualTypeOf<
  [number, Buffer]
>();
expectTypeOf(client.send({ msg: 17, unpack: 'L*' })).resolves.toEqualTypeOf<number[]>();
expectTypeOf(client.send({ msg: 17, unpack: 'Q' })).resolves.toEqualTypeOf<[bigint]>();
expectTypeOf(client.send({ msg: 17, noReply: true })).resolves.toEqualTypeOf<[0]>();
expectTypeOf(client.send({ msg: 17, unpack: (body: Buffer) => body.length })).resolves.toEqualTypeOf<
  [number]
>();
expectTypeOf(
  client.send({ msg: 17, unpack: (body: Buffer) => [body, 1] as [Buffer, number] }),
).resolves.toEqualTypeOf<[Buffer, number]>();
declare const template: string;
expectTypeOf(client.send({ msg: 17, unpack: template })).resolves.toEqualTypeOf<unknown[]>();
declare const message: PlainMessage;
expectTypeOf(client.send(message)).resolves.toEqualTypeOf<unknown[]>();

// Request objects: the response; sendBulk: the response or an ErrorReply, told apart by isError().
const Get = defineMessage({
  msg: 17,
  request: { template: 'L', fields: ['id'], key: 'id' },
  response: { template: 'L w/a*', fields: ['id', 'name'] },
});
const request = new Get.Request({ id: 1 });
expectTypeOf(request.id).toEqualTypeOf<number>();
const reply = await client.send(request);
expectTypeOf(reply.id).toEqualTypeOf<number>();
expectTypeOf(reply.name).toEqualTypeOf<Buffer>();

const [first, plain] = await client.sendBulk([request, { msg: 17, unpack: 'L' }]);
if (first.isError()) {
  expectTypeOf(first).toExtend<ErrorReply>();
  expectTypeOf(first.errorMessage).toEqualTypeOf<string>();
} else {
  expectTypeOf(first.name).toEqualTypeOf<Buffer>();
}
expectTypeOf(plain).toEqualTypeOf<PlainResult<[number]>>();

client.send({ msg: 17, unpack: 'L' }, (data, error) => {
  expectTypeOf(data).toEqualTypeOf<[number] | undefined>();
  expectTypeOf(error).toEqualTypeOf<Error | undefined>();
});

// A message declared as PlainMessage<T> (a function decoder typed by its author) resolves to T.
declare const typed: PlainMessage<[{ code: number }]>;
expectTypeOf(client.send(typed)).resolves.toEqualTypeOf<[{ code: number }]>();
