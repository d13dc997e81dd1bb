import { defineMessage, type IProto } from '../../src/index.js';

declare const client: IProto;

export const Get = defineMessage({
  msg: 17,
  request: { template: 'L', fields: ['id'], key: 'id' },
  response: { template: 'L w/a*', fields: ['id', 'name'] },
});
export const Fire = defineMessage({
  msg: 18,
  request: { template: 'L', fields: ['id'] },
  response: { noReply: true },
});

export const request = new Get.Request({ id: 1 });
export const reply = await client.send(request);
export const replyRequest = reply.request;
export const GetRequest = Get.Request;
export const GetResponse = Get.Response;
export const fired = await client.send(new Fire.Request({ id: 1 }));
export const plain = await client.send({ msg: 1, data: [1], pack: 'L', unpack: 'L L' });
