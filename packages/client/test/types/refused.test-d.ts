import { defineMessage } from '../../src/index.js';

// Field names that would hide a member of Request / Response are refused at run time
// (define-message.test.ts) and are type errors too.
defineMessage({
  msg: 1,
  // @ts-expect-error a request field named `key` hides Request#key
  request: { template: 'L', fields: ['key'] },
  response: { template: 'L', fields: ['id'] },
});
// @ts-expect-error a response field named `request` hides Response#request
defineMessage({
  msg: 1,
  request: { template: 'L', fields: ['id'] },
  response: { template: 'L', fields: ['request'] },
});
defineMessage({
  msg: 1,
  // @ts-expect-error `data` is reserved in a no-reply message too
  request: { template: 'L', fields: ['data'] },
  response: { noReply: true },
});
// A request key that is not one of the fields is refused at run time, and here.
defineMessage({
  msg: 1,
  // @ts-expect-error `nope` is not a request field
  request: { template: 'L', fields: ['id'], key: 'nope' },
  response: { template: 'L', fields: ['id'] },
});
// Fine: no reserved name.
defineMessage({
  msg: 1,
  request: { template: 'L', fields: ['id'], key: 'id' },
  response: { template: 'L', fields: ['id'] },
});
