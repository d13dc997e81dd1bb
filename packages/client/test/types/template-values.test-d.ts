import { expectTypeOf } from 'vitest';
import type { TemplateFields, TemplateValues } from '../../src/index.js';

expectTypeOf<TemplateValues<'L'>>().toEqualTypeOf<[number]>();
expectTypeOf<TemplateValues<'L w/a*'>>().toEqualTypeOf<[number, Buffer]>();
expectTypeOf<TemplateValues<'L3'>>().toEqualTypeOf<[number, number, number]>();
expectTypeOf<TemplateValues<'L*'>>().toEqualTypeOf<number[]>();
// An item that reads the rest of the body leaves no value for the numbers after it (as Perl).
expectTypeOf<TemplateValues<'L a*'>>().toEqualTypeOf<[number, Buffer]>();
expectTypeOf<TemplateValues<'a* C'>>().toEqualTypeOf<[Buffer]>();
expectTypeOf<TemplateValues<'H* n L2'>>().toEqualTypeOf<[string]>();
expectTypeOf<TemplateValues<'a* X2 C'>>().toEqualTypeOf<unknown[]>();
expectTypeOf<TemplateValues<'a* n a2 L'>>().toEqualTypeOf<[Buffer, Buffer]>();
expectTypeOf<TemplateValues<'a* (L)2'>>().toEqualTypeOf<unknown[]>();
expectTypeOf<TemplateValues<'L w/a* L'>>().toEqualTypeOf<[number, Buffer, number]>();
expectTypeOf<TemplateValues<'Q q j J'>>().toEqualTypeOf<[bigint, bigint, bigint, bigint]>();
expectTypeOf<TemplateValues<'w'>>().toEqualTypeOf<[number | bigint]>();
expectTypeOf<TemplateValues<'a* A10 Z*'>>().toEqualTypeOf<[Buffer, Buffer, Buffer]>();
expectTypeOf<TemplateValues<'H* b8'>>().toEqualTypeOf<[string, string]>();
expectTypeOf<TemplateValues<'L x4 S'>>().toEqualTypeOf<[number, number]>();
expectTypeOf<TemplateValues<'l< S> n!'>>().toEqualTypeOf<[number, number, number]>();
expectTypeOf<TemplateValues<'L (w/a*)*'>>().toEqualTypeOf<[number, ...Buffer[]]>();
expectTypeOf<TemplateValues<'(L C)2'>>().toEqualTypeOf<[number, number, number, number]>();
expectTypeOf<TemplateValues<'L C/L*'>>().toEqualTypeOf<[number, ...number[]]>();
expectTypeOf<TemplateValues<'L* a'>>().toEqualTypeOf<(number | Buffer)[]>();
expectTypeOf<TemplateValues<'L100'>>().toEqualTypeOf<number[]>();
expectTypeOf<TemplateValues<'L0'>>().toEqualTypeOf<[]>();
expectTypeOf<TemplateValues<''>>().toEqualTypeOf<[]>();
expectTypeOf<TemplateValues<'  L # the id\n w/a*'>>().toEqualTypeOf<[number, Buffer]>();
expectTypeOf<TemplateValues<'L[4]'>>().toEqualTypeOf<[number, number, number, number]>();
// What the reader does not follow, and templates that are not literals.
expectTypeOf<TemplateValues<'((L))'>>().toEqualTypeOf<unknown[]>();
expectTypeOf<TemplateValues<'L ?'>>().toEqualTypeOf<unknown[]>();
expectTypeOf<TemplateValues<'L[S]'>>().toEqualTypeOf<number[]>();
expectTypeOf<TemplateValues<string>>().toEqualTypeOf<unknown[]>();

expectTypeOf<TemplateFields<'L w/a*', readonly ['id', 'name']>>().toEqualTypeOf<{
  id: number;
  name: Buffer;
}>();
expectTypeOf<TemplateFields<'L w/a*', readonly ['id', 'name'], true>>().toEqualTypeOf<{
  id: number;
  name: Uint8Array | string;
}>();
expectTypeOf<TemplateFields<'L2', readonly ['a', 'b']>>().toEqualTypeOf<{ a: number; b: number }>();
expectTypeOf<TemplateFields<'L*', readonly ['a', 'b']>>().toEqualTypeOf<{ a: unknown; b: unknown }>();
