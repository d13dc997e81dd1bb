import { describe, expect, it } from 'vitest';
import { pack, unpack } from '../src/index.js';
import { parseTemplate } from '../src/template.js';
import { tupleImplementations } from '../src/tuple-layout.js';
import { seededRandom } from './support/test-random.js';

const INTS = ['L', 'l', 'S', 's', 'n', 'N', 'v', 'V', 'i', 'I', 'L>', 's<', 'I!', 'S!'];
const FIELD_LENGTHS = [0, 1, 5, 31, 32, 33, 127, 128, 300, 16383, 16384];

function randomTemplate(r: () => number): string {
  const parts: string[] = [];
  let fields = 0;
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    if (r() < 0.6) {
      const count = r() < 0.3 ? 2 : 1;
      parts.push(`${INTS[Math.floor(r() * INTS.length)]}${count > 1 ? count : ''}`);
    } else {
      parts.push('w/a*');
      fields++;
    }
  }
  const list = r() < 0.6;
  if (list) parts.push(r() < 0.5 ? '(w/a*)*' : 'L(w/a*)*');
  if (!fields && !list) {
    parts.push('w/a*');
    fields++;
  }
  return parts.join(' ');
}

function randomField(r: () => number): unknown {
  const x = r();
  const len = FIELD_LENGTHS[Math.floor(r() * FIELD_LENGTHS.length)];
  if (x < 0.45) return Buffer.alloc(len, Math.floor(r() * 256));
  if (x < 0.8) return 'é'.repeat(len >> 1) + 'x'.repeat(len & 1);
  if (x < 0.9) return new Uint8Array(len).fill(7);
  return r() < 0.5 ? 42 : undefined;
}

function randomInt(r: () => number): unknown {
  const x = r();
  if (x < 0.05) return '12';
  if (x < 0.1) return 2.5;
  if (x < 0.2) return -Math.floor(r() * 100000);
  return Math.floor(r() * 2 ** 32);
}

/** Bytes as hex text: deep equality over 16 KiB Buffers, byte by byte, would be slow. */
function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return `${v.constructor.name}:${Buffer.from(v).toString('hex')}`;
  return Array.isArray(v) ? v.map(norm) : v;
}

function outcome(fn: () => unknown): unknown {
  try {
    return norm(fn());
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

describe('tuple layouts (generated code and its loop fallback)', () => {
  it('generates code for the MR::Tarantool::Box tuple template', () => {
    const impl = tupleImplementations(parseTemplate('L w/a* L(w/a*)*', 'pack'));
    expect(impl.generatedPack).toBeTypeOf('function');
    expect(impl.generatedUnpack).toBeTypeOf('function');
    const bytes = impl.generatedPack?.([1, 'abc', 2, 'x', Buffer.from('yy')]);
    expect(bytes?.toString('hex')).toBe('0100000003616263020000000178027979');
    expect(impl.generatedUnpack?.(bytes as Buffer, true)).toEqual([1, 'abc', 2, 'x', 'yy']);
  });

  it('give the general engine`s bytes and values, or hand the case over to it', () => {
    const r = seededRandom(1125);
    let fastPack = 0;
    let fastUnpack = 0;
    for (let c = 0; c < 600; c++) {
      const template = randomTemplate(r);
      const impl = tupleImplementations(parseTemplate(template, 'pack'));
      const values: unknown[] = [];
      for (const part of template.split(' ')) {
        if (part === 'w/a*') values.push(randomField(r));
        else if (part.includes('(')) {
          if (part.startsWith('L')) values.push(randomInt(r));
          const k = Math.floor(r() * 5);
          for (let i = 0; i < k; i++) values.push(randomField(r));
        } else {
          const count = /\d$/.test(part) ? Number(part.slice(-1)) : 1;
          for (let i = 0; i < count; i++) values.push(randomInt(r));
        }
      }
      if (r() < 0.1) values.length = Math.max(0, values.length - 1);
      // A trailing `x0` adds nothing but keeps the template off the fast path: the general engine.
      const expected = outcome(() => pack(`${template} x0`, ...values));
      const label = `pack('${template}') #${c}`;
      expect(
        outcome(() => pack(template, ...values)),
        label,
      ).toEqual(expected);
      const generated = impl.generatedPack?.(values);
      expect(norm(generated), label).toEqual(norm(impl.loopPack?.(values)));
      if (generated) {
        fastPack++;
        expect(norm(generated), label).toEqual(expected);
      }
      // Unpack the packed bytes, cut short, and mangled.
      if (typeof expected !== 'string') continue;
      const bytes = Buffer.from(expected.slice(expected.indexOf(':') + 1), 'hex');
      const cut = bytes.subarray(0, Math.floor(r() * (bytes.length + 1)));
      const mangled = Buffer.from(bytes);
      if (mangled.length) mangled[Math.floor(r() * mangled.length)] = Math.floor(r() * 256);
      for (const data of [bytes, cut, mangled]) {
        for (const text of [false, true]) {
          const options = { strings: text ? ('utf8' as const) : ('buffer' as const) };
          const want = outcome(() => unpack(`${template} x0`, data, options));
          const where = `unpack('${template}', ${data.toString('hex').slice(0, 80)}) #${c}`;
          const got = impl.generatedUnpack?.(data, text);
          expect(norm(got), where).toEqual(norm(impl.loopUnpack?.(data, text)));
          // Where the fast path declines, `x0` is not neutral (Perl's `/` quirks at the end of the
          // data reach the next symbol), so only its answers are compared.
          if (got) {
            fastUnpack++;
            expect(norm(got), where).toEqual(want);
            expect(norm(unpack(template, data, options)), where).toEqual(norm(got));
          }
        }
      }
    }
    // The fast paths really ran, not just the hand-over.
    expect(fastPack).toBeGreaterThan(100);
    expect(fastUnpack).toBeGreaterThan(200);
  });
});
