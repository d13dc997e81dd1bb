import { describe, expect, it } from 'vitest';
import { cacheStats } from '../src/compile.js';
import { fixedImplementations, MAX_GENERATED_FIELDS } from '../src/fixed-layout.js';
import { compile, PackError, PackLimits, pack, unpack } from '../src/index.js';
import { withLimits } from '../src/limits.js';
import { parseTemplate } from '../src/template.js';
import { tupleImplementations } from '../src/tuple-layout.js';
import { inChild, OUTCOME } from './support/child.js';

/**
 * Issue 13: every cost of pack and unpack is bounded by the template and data given. Each reported
 * case is a named test; the ones that used to abort the process (out of memory) or run for a minute
 * run in a child process with a small heap and a deadline, so a regression fails here instead of
 * killing the test worker. Each limit is held at its value and one past it.
 */

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (error) {
    if (!(error instanceof PackError)) throw error;
    return error.code;
  }
}

const MiB = 1024 * 1024;

describe('issue 13, pack: the reported cases', () => {
  it("unpack('C4294967295', 32 bytes) gives the 32 bytes instead of aborting out of memory", () => {
    const run = inChild(`
      const data = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7));
      return pack.unpack('C4294967295', data);
    `);
    expect(run.value, run.how).toEqual(Array.from({ length: 32 }, (_, i) => i * 7));
  });

  it("compile('C9999999') costs its template, not its count (it aborted out of memory)", () => {
    const run = inChild(`
      const c = pack.compile('C9999999');
      return [c.unpack(Buffer.from([1, 2, 3])), c.template];
    `);
    expect(run.value, run.how).toEqual([[1, 2, 3], 'C9999999']);
  });

  it("pack('S4294967295', 1, 2) says a value is missing instead of aborting out of memory", () => {
    const run = inChild(`${OUTCOME} return outcome(() => pack.pack('S4294967295', 1, 2));`);
    expect(run.value, run.how).toMatchObject({ name: 'PackError', code: 'ERR_PACK_VALUE' });
    expect((run.value as { message: string }).message).toMatch(/^Not enough values for 'S'/);
  });

  it("compile('C3000000') is cheap: no code generated per count, the long layout runs as a loop", () => {
    // It took 1.8 s and 461 MB, generating code for 3,000,000 fields.
    const run = inChild(`
      global.gc?.();
      const heap = process.memoryUsage().heapUsed;
      const c = pack.compile('C3000000');
      const grew = process.memoryUsage().heapUsed - heap;
      const data = Buffer.alloc(3000000, 5);
      data[2999999] = 9;
      const out = c.unpack(data);
      const back = c.packArray(out);
      return { grewMiB: grew / 1048576, n: out.length, last: out[2999999], same: back.equals(data) };
    `);
    expect(run.value, run.how).toMatchObject({ n: 3_000_000, last: 9, same: true });
    expect((run.value as { grewMiB: number }).grewMiB).toBeLessThan(4);
  });

  it("unpack('((a0)65535)65535', empty) stops with ERR_PACK_LIMIT: one budget across nested groups", () => {
    // 4.3 billion values from no data: it aborted out of memory after 7.5 s.
    const run = inChild(`${OUTCOME} return outcome(() => pack.unpack('((a0)65535)65535', Buffer.alloc(0)));`);
    expect(run.value, run.how).toMatchObject({ name: 'PackError', code: 'ERR_PACK_LIMIT' });
    expect(run.peakMiB).toBeLessThan(64);
  });

  it('100,000 nested groups or [] give a PackError with a code, not a RangeError', () => {
    const groups = `${'('.repeat(100_000)}C${')'.repeat(100_000)}`;
    const brackets = `${'x['.repeat(100_000)}C${']'.repeat(100_000)}`;
    // By default such a template is refused for its length alone...
    for (const t of [groups, brackets]) {
      expect(codeOf(() => unpack(t, Buffer.alloc(4)))).toBe('ERR_PACK_LIMIT');
      expect(codeOf(() => pack(t, 1))).toBe('ERR_PACK_LIMIT');
    }
    // ...and past that limit the nesting limits hold: nothing recurses once per level unchecked.
    withLimits({ maxTemplateLength: 1_000_000 }, () => {
      expect(codeOf(() => unpack(groups, Buffer.alloc(4)))).toBe('ERR_PACK_TEMPLATE');
      expect(codeOf(() => pack(groups, 1))).toBe('ERR_PACK_TEMPLATE');
      expect(codeOf(() => unpack(brackets, Buffer.alloc(4)))).toBe('ERR_PACK_LIMIT');
      expect(codeOf(() => pack(brackets, 1))).toBe('ERR_PACK_LIMIT');
      const mixed = `${'(x['.repeat(50_000)}C${'])'.repeat(50_000)}`;
      expect(codeOf(() => unpack(mixed, Buffer.alloc(4)))).toMatch(/^ERR_PACK_(TEMPLATE|LIMIT)$/);
      // An unclosed nest names the innermost missing ender, as Perl's group_end does.
      expect(() => unpack(`C ${'('.repeat(100_000)}[`, Buffer.alloc(4))).toThrow(
        "No group ending character ']' found in template",
      );
    });
  });

  it("unpack('L w/a*') of a 4-byte L and 200,000 BER continuation bytes stops at once", () => {
    // The BER decoder was quadratic: this one 200 KB reply froze a client for 71-84 s.
    const run = inChild(
      `${OUTCOME}
      const data = Buffer.alloc(4 + 200000 + 1, 0xff);
      data.writeUInt32LE(1, 0);
      data[data.length - 1] = 0x01;
      const unterminated = Buffer.alloc(4 + 200000, 0xff);
      return [outcome(() => pack.unpack('L w/a*', data)), outcome(() => pack.unpack('L w/a*', unterminated))];
    `,
      { timeoutMs: 20_000 },
    );
    expect(run.value, run.how).toMatchObject([{ code: 'ERR_PACK_LIMIT' }, { code: 'ERR_PACK_LIMIT' }]);
  });

  it('a 1 MB template is refused before it is parsed; the cache is bounded in characters', () => {
    // It compiled in 2.7-9.3 s using 284-426 MB; 1024 such templates filled a 2 GB heap.
    const run = inChild(`${OUTCOME}
      return [outcome(() => pack.compile('C'.repeat(1 << 20))), outcome(() => pack.pack('x'.repeat(1 << 20)))];
    `);
    expect(run.value, run.how).toMatchObject([{ code: 'ERR_PACK_LIMIT' }, { code: 'ERR_PACK_LIMIT' }]);
    for (let i = 0; i < 40; i++) compile(`${' '.repeat(8000)}C${i}`);
    expect(cacheStats().chars).toBeLessThanOrEqual(PackLimits.cacheChars);
  });

  it('a pack result over the 256 MiB cap is refused before its memory is taken (peak near the cap)', () => {
    // It peaked at 384-480 MB: the writer doubled from 128 to 256 MiB and copied before the check.
    const run = inChild(
      `${OUTCOME}
      const mib = Buffer.alloc(1 << 20, 1);
      return outcome(() => pack.pack('(a*)*', ...Array.from({ length: 257 }, () => mib)));
    `,
      { maxOldSpaceMiB: 64 },
    );
    expect(run.value, run.how).toMatchObject({ code: 'ERR_PACK_LIMIT' });
    expect(run.peakMiB).toBeLessThan(300);
  });
});

describe('limits at their value and one past it', () => {
  it(`template length: ${PackLimits.maxTemplateLength} characters, then ERR_PACK_LIMIT`, () => {
    const at = `${' '.repeat(PackLimits.maxTemplateLength - 1)}C`;
    expect(pack(at, 7)).toEqual(Buffer.from([7]));
    expect(codeOf(() => pack(` ${at}`, 7))).toBe('ERR_PACK_LIMIT');
    expect(codeOf(() => compile(` ${at}`))).toBe('ERR_PACK_LIMIT');
  });

  it('group nesting: 100 levels (Perl), then ERR_PACK_TEMPLATE', () => {
    const nest = (n: number) => `${'('.repeat(n)}C${')'.repeat(n)}`;
    expect(pack(nest(100), 7)).toEqual(Buffer.from([7]));
    expect(unpack(nest(100), Buffer.from([7]))).toEqual([7]);
    expect(() => pack(nest(101), 7)).toThrow('Too deeply nested ()-groups in pack');
    expect(codeOf(() => unpack(nest(101), Buffer.from([7])))).toBe('ERR_PACK_TEMPLATE');
  });

  it('[]-count nesting: 100 levels, then ERR_PACK_LIMIT', () => {
    const nest = (n: number) => `${'x['.repeat(n)}C${']'.repeat(n)} C`;
    expect(pack(nest(100), 7)).toEqual(Buffer.from([0, 7]));
    expect(unpack(nest(100), Buffer.from([1, 2]))).toEqual([2]);
    expect(() => pack(nest(101), 7)).toThrow('Too deeply nested []-counts in pack: more than 100 levels');
    expect(codeOf(() => unpack(nest(101), Buffer.from([1, 2])))).toBe('ERR_PACK_LIMIT');
  });

  it('template cache: 1024 templates and 65,536 characters; the oldest go first', () => {
    compile('L3');
    const before = cacheStats();
    expect(compile('L3')).toBe(compile('L3'));
    // Fill the cache to exactly its character budget with fresh templates, then one character more.
    const unit = PackLimits.cacheChars / 8;
    const fill = Array.from({ length: 8 }, (_, i) => `${' '.repeat(unit - 2)}C${i}`);
    const first = fill.map((t) => compile(t));
    expect(cacheStats()).toEqual({ templates: 8, chars: PackLimits.cacheChars });
    expect(compile(fill[0])).toBe(first[0]);
    compile('C');
    expect(cacheStats()).toEqual({ templates: 8, chars: unit * 7 + 1 });
    expect(compile(fill[0])).not.toBe(first[0]);
    // By count: 1024 short templates, then the oldest leaves for each new one.
    for (let i = 0; i < PackLimits.cacheTemplates + 1; i++) compile(`C${i}`);
    expect(cacheStats().templates).toBe(PackLimits.cacheTemplates);
    expect(before.templates).toBeGreaterThan(0);
  });

  it(`unpack work budget: ${PackLimits.freeWork} + ${PackLimits.workPerByte} per byte of data, then ERR_PACK_LIMIT`, () => {
    // (a0) makes one value and one repetition each time round: 2 units. A repetition is refused when
    // repetitions + values would pass the budget, so n repetitions fit while 2n - 1 <= budget.
    for (const bytes of [0, 10]) {
      const budget = PackLimits.freeWork + PackLimits.workPerByte * bytes;
      const most = Math.floor((budget + 1) / 2);
      const data = Buffer.alloc(bytes);
      expect(unpack(`(a0)${most}`, data)).toHaveLength(most);
      expect(() => unpack(`(a0)${most + 1}`, data)).toThrow(
        /^unpack stopped: \d+ values and \d+ group repetitions from \d+ bytes of data, over the budget/,
      );
    }
    // A count read from hostile data (V/ of 2^32 - 1) meets the same budget: the hazard Perl has.
    expect(codeOf(() => unpack('V/(a)', Buffer.from([0xff, 0xff, 0xff, 0xff])))).toBe('ERR_PACK_LIMIT');
    expect(unpack('V/(a)', Buffer.from([0x10, 0x27, 0, 0]))).toHaveLength(10_000);
    // Reading the same data again and again, without groups, spends it too.
    const data = Buffer.alloc(20_000);
    expect(unpack(`${'C* @0 '.repeat(4)}`, data)).toHaveLength(80_000);
    expect(codeOf(() => unpack(`${'C* @0 '.repeat(8)}`, data))).toBe('ERR_PACK_LIMIT');
  });

  it('pack work budget: repetitions up to 65,536 + 4 per value and byte written, then ERR_PACK_LIMIT', () => {
    // (X) takes one byte back each time round, so the budget shrinks as it goes: from 70,000 bytes,
    // repetition k is allowed while k <= 65,536 + 4 x (70,000 - k + 1), that is k <= 69,108.
    expect(pack('x70000 (X)69108')).toHaveLength(70_000 - 69_108);
    expect(() => pack('x70000 (X)69109')).toThrow(/^pack stopped: 69109 group repetitions for 0 values/);
    // Work that a count multiplies without writing more: it used to run for hours.
    expect(codeOf(() => pack('((x)1000 X999)4294967295'))).toBe('ERR_PACK_LIMIT');
    expect(codeOf(() => unpack('((x)1000 X999)*', Buffer.alloc(100_000)))).toBe('ERR_PACK_LIMIT');
  });

  it('pack output: 256 MiB exactly is packed, one byte more is refused before allocating', () => {
    const run = inChild(
      `${OUTCOME}
      return [outcome(() => pack.pack('x268435456')), outcome(() => pack.pack('x268435457')),
        outcome(() => pack.pack('a268435457', 'x'))];
    `,
      { maxOldSpaceMiB: 64 },
    );
    expect(run.value, run.how).toMatchObject([
      { ok: 256 * MiB },
      { code: 'ERR_PACK_LIMIT' },
      { code: 'ERR_PACK_LIMIT' },
    ]);
  });

  it('pack output cap holds on every path: uuencoding is measured first, tuples check their size', () => {
    withLimits({ maxOutput: 1000 }, () => {
      // 700 bytes: 15 lines of 45 (62 characters each) and one of 25 (38): 968 bytes.
      expect(pack('u', Buffer.alloc(700))).toHaveLength(968);
      expect(codeOf(() => pack('u', Buffer.alloc(740)))).toBe('ERR_PACK_LIMIT');
      expect(pack('w/a*', Buffer.alloc(997))).toHaveLength(999);
      expect(codeOf(() => pack('w/a*', Buffer.alloc(999)))).toBe('ERR_PACK_LIMIT');
      expect(codeOf(() => pack('L (w/a*)*', 1, Buffer.alloc(500), Buffer.alloc(500)))).toBe('ERR_PACK_LIMIT');
    });
  });

  it(`BER integers: ${PackLimits.maxBerLength} bytes in either direction, then ERR_PACK_LIMIT`, () => {
    const max = PackLimits.maxBerLength;
    const ber = (bytes: number) => Buffer.concat([Buffer.alloc(bytes - 1, 0xff), Buffer.from([0x7f])]);
    expect(unpack('w', ber(max))).toEqual([2n ** BigInt(7 * max) - 1n]);
    expect(() => unpack('w', ber(max + 1))).toThrow(
      `BER compressed integer longer than ${max} bytes in unpack (PackLimits.maxBerLength)`,
    );
    expect(pack('w', 2n ** BigInt(7 * max) - 1n)).toEqual(ber(max));
    expect(codeOf(() => pack('w', 2n ** BigInt(7 * max)))).toBe('ERR_PACK_LIMIT');
    // A decimal string that long is refused by its number of digits, before it is converted.
    expect(pack('w', (2n ** BigInt(7 * max) - 1n).toString())).toEqual(ber(max));
    expect(codeOf(() => pack('w', '9'.repeat(1_000_000)))).toBe('ERR_PACK_LIMIT');
    // Below the limit, every length round-trips.
    for (const bytes of [1, 2, 7, 8, 9, 10, 100, max]) {
      const v = 2n ** BigInt(7 * bytes - 1);
      expect(pack('w', v)).toHaveLength(bytes);
      expect(unpack('w', pack('w', v))).toEqual([v <= Number.MAX_SAFE_INTEGER ? Number(v) : v]);
    }
  });

  it(`fixed layouts: generated code up to ${MAX_GENERATED_FIELDS} fields, a loop over runs beyond`, () => {
    const at = fixedImplementations(parseTemplate(`C${MAX_GENERATED_FIELDS}`, 'pack'), () => Buffer.alloc(0));
    expect(at.generatedPack).toBeTypeOf('function');
    expect(at.generatedUnpack).toBeTypeOf('function');
    const past = fixedImplementations(parseTemplate(`C${MAX_GENERATED_FIELDS + 1}`, 'pack'), () =>
      Buffer.alloc(0),
    );
    expect(past.generatedPack).toBeUndefined();
    expect(past.generatedUnpack).toBeUndefined();
    const values = Array.from({ length: MAX_GENERATED_FIELDS + 1 }, (_, i) => i);
    expect(past.loopPack?.(values)).toEqual(Buffer.from(values));
    expect(past.loopUnpack?.(Buffer.from(values), 0, values.length)).toEqual(values);
    // Two runs, mixed sizes and byte orders, through the loop.
    const t = 'n40 V30 c';
    const vals = [
      ...Array.from({ length: 40 }, (_, i) => i * 999),
      ...Array.from({ length: 30 }, (_, i) => i * 1e8),
      -5,
    ];
    expect(compile(t).pack(...vals)).toEqual(pack(`${t} x0`, ...vals));
    expect(unpack(t, pack(t, ...vals))).toEqual(vals);
  });

  it('tuple layouts: generated code up to 64 items, the general engine beyond', () => {
    expect(tupleImplementations(parseTemplate('L63 w/a*', 'pack')).generatedPack).toBeTypeOf('function');
    expect(tupleImplementations(parseTemplate('L64 w/a*', 'pack')).generatedPack).toBeUndefined();
    expect(tupleImplementations(parseTemplate('L4294967295 w/a*', 'pack')).generatedPack).toBeUndefined();
    const values = [...Array.from({ length: 64 }, (_, i) => i), Buffer.from('abc')];
    expect(unpack('L64 w/a*', pack('L64 w/a*', ...values))).toEqual(values);
  });

  it('a checksum of 2^32 - 1 bits ends at once (Perl widens its modulus 2^28 times)', () => {
    expect(unpack('%4294967295d', Buffer.from('000000000000f83f', 'hex'))).toEqual([Number.NaN]);
    expect(unpack('%4294967295C*', Buffer.from([1, 2]))).toEqual([Number.NaN]);
  });

  it("a repetition that changes nothing ends early with Perl's result; odd value types are PackErrors", () => {
    expect(unpack('(x0)99999999999 C', Buffer.from([7]))).toEqual([7]);
    expect(pack('(x X)99999999999 C', 7)).toEqual(Buffer.from([7]));
    expect(codeOf(() => unpack('(a0)99999999999', Buffer.from('ab')))).toBe('ERR_PACK_LIMIT');
    withLimits({ maxOutput: MiB }, () => {
      expect(codeOf(() => pack('(x4096)99999999999'))).toBe('ERR_PACK_LIMIT');
    });
    expect(() => pack('L', {})).toThrow(PackError);
    expect(() => pack('a', Symbol('x'))).toThrow(PackError);
    expect(() => pack('L', true)).toThrow(PackError);
    expect(() => pack('a*', [1, 2])).toThrow(PackError);
    expect(() => pack('w', { valueOf: () => 1 })).toThrow(PackError);
  });

  it('character mode: x! and .* count on from where they last counted (linear, was quadratic)', () => {
    // A template that aligns once per character: counting from the start each time made 256 KiB of
    // data take 40 s. The counts stay Perl's: the parity corpus has these templates over mixed text.
    const run = inChild(`
      const big = Buffer.alloc(1 << 20, 0x41);
      return [pack.unpack('(C x!2)* U0', big).length, pack.unpack('(C .*)* U0', big).length,
        pack.pack('U0 C0 (C x!2)*', ...Array(5000).fill(0xe9)).length];
    `);
    expect(run.value, run.how).toEqual([1 << 19, 1 << 21, 10_000]);
  });
});
