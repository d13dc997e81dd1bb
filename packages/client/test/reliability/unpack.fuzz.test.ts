import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compile, PackError, unpack } from '@iproto/pack';
import { describe, expect, it } from 'vitest';
import { createRng } from '../support/reliability.js';

/** Templates a client decodes replies with; every count that comes from the data is hostile. */
const TEMPLATES = [
  'L',
  'L*',
  'L L w/a*',
  'L/(w/a*)',
  'V/(V/a*)',
  'S/(L)',
  'N/a*',
  'n/a*',
  'C/a',
  'w',
  'w*',
  'w/a*',
  'Q<',
  'q> j J',
  'Z*',
  'A*',
  'a*',
  'a4 Z8 A3',
  'l> s< c',
  'U0C*',
  'C0U*',
  'U*',
  'H*',
  'h3 b8 B*',
  'x4 L',
  'L @2 S',
  'L X2 S',
  'f d',
  'F*',
  '(L S)*',
  '(w/a*)3',
  'L!2 i I',
  '%32C*',
];

function hostileData(rng: ReturnType<typeof createRng>): Buffer {
  const data = Buffer.alloc(rng.int(0, 48));
  for (let i = 0; i < data.length; i++) data[i] = rng.int(0, 255);
  const roll = rng();
  // Counts and lengths at the edges: 0xffffffff, 0x80000000, BER integers that never end.
  if (roll < 0.25 && data.length >= 4)
    data.writeUInt32LE(rng.pick([0xffffffff, 0x80000000, 0x7fffffff, 1000]), 0);
  else if (roll < 0.4) data.fill(0xff);
  else if (roll < 0.5) data.fill(0x80);
  return data;
}

describe('unpack under hostile data (seeded fuzz)', () => {
  it('returns values or throws PackError; never another error, never more values than the data allows', () => {
    const rng = createRng(0x0ac4);
    const seenCodes = new Set<string>();
    for (let round = 0; round < 6000; round++) {
      const template = rng.pick(TEMPLATES);
      const data = hostileData(rng);
      let values: unknown[];
      try {
        values = rng() < 0.5 ? unpack(template, data) : compile(template).unpack(data);
      } catch (error) {
        if (!(error instanceof PackError) || !String(error.code).startsWith('ERR_PACK_')) {
          throw new Error(
            `round ${round}: unpack('${template}', ${data.toString('hex')}) threw ${String(error)}`,
            {
              cause: error,
            },
          );
        }
        seenCodes.add(error.code);
        continue;
      }
      // No template here can make more than a handful of values per byte, whatever the data
      // announces: a hostile count cannot blow the result up.
      if (values.length > data.length * 8 + 16) {
        throw new Error(
          `round ${round}: unpack('${template}') made ${values.length} values of ${data.length} B`,
        );
      }
    }
    // The fuzz reached the failure paths, not only the happy ones.
    expect(seenCodes.has('ERR_PACK_DATA')).toBe(true);
  });

  it('a group repeated by a count from the data repeats that often even past the data (a hazard Perl shares)', () => {
    // Perl 5.36 gives 10000 empty strings here too (and hangs on a count of 2**31): templates whose
    // group items can match nothing must not read counts from untrusted replies.
    const data = Buffer.from([0x10, 0x27, 0, 0]); // 10000
    expect(unpack('V/(a)', data)).toHaveLength(10_000);
    // Items that need bytes stop at the end of the data, whatever the count says.
    expect(unpack('V/(w/a*)', data)).toEqual([]);
    expect(unpack('V/(L)', data)).toEqual([]);
  });

  it('a data-controlled length beyond the data is clamped, not allocated (as Perl does)', () => {
    const data = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    const before = process.memoryUsage().arrayBuffers;
    const [bytes] = unpack('V/a*', data) as [Buffer];
    expect(bytes).toEqual(Buffer.from([1, 2, 3]));
    expect(unpack('V/(V/a*)', data)).toEqual([]);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });

  it('iproto tuple bodies, true and mutated, unpack exactly as perl 5.36 unpacks them', () => {
    // The shapes the pack layer decodes on its fast path, and their neighbours (which it must not).
    const templates = [
      'L w/a* L(w/a*)*',
      'LLL (w/a*)*',
      '(w/a*)*',
      'S w/a*',
      'l> w/a* (w/a*)*',
      'L w/a*',
      'w/a* w/a*',
      'n N v V (w/a*)*',
      's l w/a*',
    ];
    const ber = (n: number) => {
      const out = [n & 0x7f];
      for (let rest = Math.floor(n / 128); rest > 0; rest = Math.floor(rest / 128))
        out.unshift((rest & 0x7f) | 0x80);
      return out;
    };
    const rng = createRng(0x7e1);
    const cases: [string, Buffer][] = [];
    for (let i = 0; i < 4000; i++) {
      const bytes: number[] = [];
      for (let k = rng.int(0, 6); k > 0; k--) {
        if (rng() < 0.5) for (let j = 0; j < 4; j++) bytes.push(rng.int(0, 255));
        else {
          const len = rng() < 0.1 ? rng.int(0, 300) : rng.int(0, 10);
          bytes.push(...ber(len));
          for (let j = 0; j < len; j++) bytes.push(rng() < 0.3 ? rng.int(0x80, 0xff) : rng.int(0x20, 0x7e));
        }
      }
      const roll = rng();
      if (roll < 0.2 && bytes.length > 0) bytes.length = rng.int(0, bytes.length - 1);
      else if (roll < 0.3 && bytes.length > 0) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
      else if (roll < 0.35) bytes.push(0xff, 0xff, 0xff, 0xff, 0x0f);
      cases.push([rng.pick(templates), Buffer.from(bytes)]);
    }
    const oracle = fileURLToPath(new URL('../support/perl/unpack.pl', import.meta.url));
    const perl = spawnSync('perl', [oracle], {
      input: `${cases.map(([t, data]) => `${t}\t${data.toString('hex')}`).join('\n')}\n`,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    });
    if (perl.status !== 0) throw new Error(`perl failed: ${perl.error ?? perl.stderr.toString()}`);
    const expected = perl.stdout.toString().split('\n');
    const hex = (value: unknown) =>
      (Buffer.isBuffer(value) ? value : Buffer.from(String(value))).toString('hex');
    const wrong: string[] = [];
    cases.forEach(([template, data], i) => {
      let got: string;
      try {
        got = `OK\t${unpack(template, data).map(hex).join(',')}`;
      } catch (error) {
        if (!(error instanceof PackError)) throw error;
        got = 'ERR';
      }
      if (got !== expected[i])
        wrong.push(`unpack('${template}', ${data.toString('hex')}): perl ${expected[i]}, ours ${got}`);
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    // Both of perl's answers were exercised: values and deaths.
    expect(expected.filter((line) => line.startsWith('OK\t')).length).toBeGreaterThan(1000);
    expect(expected.filter((line) => line === 'ERR').length).toBeGreaterThan(50);
  });
});
