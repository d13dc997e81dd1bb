import { compile } from '@iproto/pack';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineMessage } from '../src/define-message.js';
import { MessageRegistry } from '../src/message-registry.js';
import { NoResponse } from '../src/no-response.js';
import { Request } from '../src/request.js';
import { Response } from '../src/response.js';

describe('defineMessage', () => {
  const Get = defineMessage({
    msg: 17,
    name: 'Get',
    request: { template: 'L w/a*', fields: ['id', 'name'] as const, key: 'name', retry: true },
    response: { template: 'L w/a*', fields: ['id', 'name'] as const },
  });

  it('builds a request class that packs its fields in order', () => {
    const request = new Get.Request({ id: 0x01020304, name: 'ab' });
    expect(request).toBeInstanceOf(Request);
    expect(request.msg).toBe(17);
    expect(Get.Request.name).toBe('GetRequest');
    // L little-endian, then BER length 2, then the bytes: built by hand.
    expect(Buffer.from(request.data)).toEqual(Buffer.from([4, 3, 2, 1, 2, 0x61, 0x62]));
    expect(request.key()).toBe('ab');
    expect(request.retry()).toBe(true);
    expect(request.id).toBe(0x01020304);
  });

  it('builds a response class that unpacks into named fields and tracks unparsed bytes', () => {
    const request = new Get.Request({ id: 1, name: '' });
    const body = Buffer.from([7, 0, 0, 0, 3, 0x78, 0x79, 0x7a]);
    const response = new Get.Response(body, request);
    expect(response).toBeInstanceOf(Response);
    expect(response.msg).toBe(17);
    expect(response.id).toBe(7);
    expect(Buffer.from(response.name as Uint8Array).toString()).toBe('xyz');
    expect(response.unparsed).toBe(0);
    expect(response.request).toBe(request);
    const longer = new Get.Response(Buffer.concat([body, Buffer.from([9, 9])]), request);
    expect(longer.unparsed).toBe(2);
  });

  it('decodes fixed-width number templates as the general way does, for bodies of every length', () => {
    // Fixed-size templates skip the `a*` tail (a faster unpack plus the known size); the result must
    // be what unpack with the tail gives, including short bodies (Perl reads what it can) and
    // trailing bytes.
    const Fixed = defineMessage({
      msg: 18,
      request: { template: 'L', fields: ['id'] as const },
      response: { template: 'S< l2 n C', fields: ['a', 'b', 'c', 'd', 'e'] as const },
    });
    const general = compile('S< l2 n C a*');
    const request = new Fixed.Request({ id: 1 });
    const full = Buffer.from([1, 2, 0xff, 0xff, 0xff, 0xff, 5, 0, 0, 0, 0x12, 0x34, 9, 0xaa, 0xbb]);
    for (let length = 0; length <= full.length; length++) {
      const body = full.subarray(0, length);
      const response = new Fixed.Response(body, request);
      const values = general.unpack(body);
      const tail = values.pop() as Uint8Array;
      expect([response.a, response.b, response.c, response.d, response.e]).toEqual(
        [0, 1, 2, 3, 4].map((i) => values[i]),
      );
      expect(response.unparsed).toBe(tail.length);
    }
    const exact = new Fixed.Response(full.subarray(0, 13), request);
    expect([exact.a, exact.b, exact.c, exact.d, exact.e]).toEqual([0x0201, -1, 5, 0x1234, 9]);
    expect(exact.unparsed).toBe(0);
    expect(new Fixed.Response(full, request).unparsed).toBe(2);
  });

  it('types fields from a template with one item per field, and falls back to unknown', () => {
    const request = new Get.Request({ id: 1, name: 'x' });
    expectTypeOf(request.id).toEqualTypeOf<number>();
    expectTypeOf(request.name).toEqualTypeOf<Uint8Array | string>();
    const response = new Get.Response(Buffer.from([1, 0, 0, 0, 0]), request);
    expectTypeOf(response.id).toEqualTypeOf<number>();
    expectTypeOf(response.name).toEqualTypeOf<Buffer>();
    expect(Buffer.isBuffer(response.name)).toBe(true);
    const Packed = defineMessage({
      msg: 2,
      request: { template: 'LQ', fields: ['a', 'b'] as const },
      response: { template: 'q w', fields: ['big', 'ber'] as const },
    });
    expectTypeOf(new Packed.Request({ a: 1, b: 2 }).a).toEqualTypeOf<number>();
    const packed = new Packed.Response(
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 5]),
      new Packed.Request({ a: 1, b: 2 }),
    );
    expectTypeOf(packed.big).toEqualTypeOf<bigint>();
    expectTypeOf(packed.ber).toEqualTypeOf<number | bigint>();
    expect(packed.big).toBe(0n);
    expect(packed.ber).toBe(5);
  });

  it('spreads a rest field into the template, and collects the rest of a reply', () => {
    const Insert = defineMessage({
      msg: 13,
      request: { template: 'L L (w/a*)*', fields: ['space', 'count', 'tuple'] as const, rest: true },
      response: { template: 'L L*', fields: ['code', 'values'] as const, rest: true },
    });
    const request = new Insert.Request({ space: 0, count: 2, tuple: ['a', 'bc'] });
    expect(Buffer.from(request.data)).toEqual(Buffer.from([0, 0, 0, 0, 2, 0, 0, 0, 1, 0x61, 2, 0x62, 0x63]));
    const response = new Insert.Response(Buffer.from([0, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0]), request);
    expect(response.code).toBe(0);
    expect(response.values).toEqual([5, 6]);
    expect(() => new Insert.Request({ space: 0, count: 1, tuple: 'x' }).data).toThrow(/must be an array/);
  });

  it('defines a message without reply', () => {
    const Notify = defineMessage({
      msg: 3,
      request: { template: 'L', fields: ['id'] as const },
      response: { noReply: true },
    });
    const response = new Notify.Response(Buffer.from([1]), new Notify.Request({ id: 1 }));
    expect(response).toBeInstanceOf(NoResponse);
    expect(Notify.Response.noReply).toBe(true);
    expect(response.data).toBeUndefined();
  });

  it('keeps __proto__ and constructor fields as plain own fields', () => {
    const Odd = defineMessage({
      msg: 4,
      request: { template: 'L L', fields: ['__proto__', 'constructor'] as const },
      response: { template: 'L L', fields: ['constructor', '__proto__'] as const },
    });
    const request = new Odd.Request(JSON.parse('{"__proto__": 1, "constructor": 2}'));
    expect(Object.getPrototypeOf(request)).toBe(Odd.Request.prototype);
    expect(request.msg).toBe(4);
    expect(Buffer.from(request.data)).toEqual(Buffer.from([1, 0, 0, 0, 2, 0, 0, 0]));
    // A missing field is not taken from Object.prototype.
    expect(() => new Odd.Request({} as never).data).toThrow();
    const response = new Odd.Response(Buffer.from([5, 0, 0, 0, 6, 0, 0, 0]), request);
    expect(Object.getOwnPropertyDescriptor(response, '__proto__')?.value).toBe(6);
    expect(Object.getOwnPropertyDescriptor(response, 'constructor')?.value).toBe(5);
    expect(response.msg).toBe(4);
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });

  it('rejects field names that would hide a member, duplicates, and a key that is no field', () => {
    // Type errors too (test/types/refused.test-d.ts); refused at run time for JavaScript callers.
    expect(() =>
      // @ts-expect-error `data` is reserved
      defineMessage({ msg: 1, request: { template: 'L', fields: ['data'] }, response: { noReply: true } }),
    ).toThrow(/hide/);
    expect(() =>
      // @ts-expect-error `retry` is reserved
      defineMessage({
        msg: 1,
        request: { template: 'L', fields: ['a'] },
        response: { template: 'L', fields: ['retry'] },
      }),
    ).toThrow(/hide/);
    expect(() =>
      defineMessage({ msg: 1, request: { template: 'LL', fields: ['a', 'a'] }, response: { noReply: true } }),
    ).toThrow(/twice/);
    expect(() =>
      defineMessage({
        msg: 1,
        request: { template: 'L', fields: ['a'], key: 'b' as 'a' },
        response: { noReply: true },
      }),
    ).toThrow(/key "b"/);
    expect(() =>
      defineMessage({ msg: -1, request: { template: '', fields: [] }, response: { noReply: true } }),
    ).toThrow(/unsigned/);
  });
});

describe('MessageRegistry', () => {
  class A extends Response {
    static override readonly msg = 1;
  }
  class B extends Response {
    static override readonly msg = 2;
  }
  class NoCode extends Response {}

  it('takes a list, a namespace, and defineMessage pairs, and skips classes without a code', () => {
    const pair = defineMessage({
      msg: 3,
      request: { template: '', fields: [] },
      response: { noReply: true },
    });
    const registry = new MessageRegistry([A, NoCode, pair]);
    expect(registry.get(1)).toBe(A);
    expect(registry.get(3)).toBe(pair.Response);
    expect(registry.size).toBe(2);
    const fromNamespace = new MessageRegistry({ A, B, pair, other: 42, fn: () => 1 });
    expect(fromNamespace.get(2)).toBe(B);
    expect(fromNamespace.get(3)).toBe(pair.Response);
  });

  it('is not fooled by __proto__, constructor or inherited names', () => {
    const namespace = JSON.parse('{"__proto__": {"Response": 1}, "constructor": 2}');
    Object.defineProperty(namespace, 'B', { value: B, enumerable: true });
    const registry = new MessageRegistry(namespace);
    expect(registry.size).toBe(1);
    expect(registry.get(2)).toBe(B);
    const inherited = Object.create({ A });
    expect(new MessageRegistry(inherited).size).toBe(0);
    expect(new MessageRegistry().get(Number('__proto__'))).toBeUndefined();
  });
});
