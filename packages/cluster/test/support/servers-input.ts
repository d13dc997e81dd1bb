import type { Rng } from '@iproto/test-kit';
import { MAX_WEIGHT } from '../../src/weight.js';

/** The one seeded PRNG of the workspace's fuzzers (tools/test-kit): the same seed gives the same inputs. */
export { createRng, type Rng } from '@iproto/test-kit';

/** What parsing one generated entry must give: the server, or the code of the error. */
export type Expected =
  | { host: string; port: number; weight?: number }
  | 'ERR_BAD_SERVER'
  | 'ERR_WEIGHT_LIMIT';

export interface Entry {
  text: string;
  expected: Expected;
}

const HOSTS = ['10.0.0.1', 'db1.example.com', 'localhost', 'a', 'xn--80ak6aa92e.com', 'ключ', '☺'];
const V6 = ['::1', 'fe80::1%eth0', '2001:db8::42'];

function digits(rng: Rng, n: number): string {
  let s = String(1 + rng.below(9));
  while (s.length < n) s += String(rng.below(10));
  return s;
}

/** A weight, as text, and whether it is in range: limits +/- 1, huge numbers, leading zeros, junk. */
function weightField(rng: Rng): {
  text: string;
  value?: number;
  code?: 'ERR_BAD_SERVER' | 'ERR_WEIGHT_LIMIT';
} {
  switch (rng.below(8)) {
    case 0: {
      const value = rng.pick([0, 1, 2, 3, 100, 65535, 65536, MAX_WEIGHT - 1, MAX_WEIGHT]);
      return { text: String(value), value };
    }
    case 1:
      return { text: String(MAX_WEIGHT + 1 + rng.below(3)), code: 'ERR_WEIGHT_LIMIT' };
    case 2: {
      // 10^9, 2^32, 2^53 + 1 and numbers of up to 100,000 digits: refused without being expanded.
      const text = rng.pick([
        '1000000000',
        '4294967296',
        '9007199254740993',
        digits(rng, 7 + rng.below(100_000)),
      ]);
      return { text, code: 'ERR_WEIGHT_LIMIT' };
    }
    case 3: {
      const value = rng.below(MAX_WEIGHT + 1);
      return { text: '0'.repeat(1 + rng.below(rng() < 0.1 ? 10_000 : 5)) + value, value };
    }
    case 4:
      return {
        text: rng.pick(['-1', '1e6', '0x10', ' 5', '5 5', '+3', '1.5', 'x', '', 'Infinity', 'NaN', '１']),
        code: 'ERR_BAD_SERVER',
      };
    default: {
      const value = rng.below(10);
      return { text: String(value), value };
    }
  }
}

/** A port, as text: valid ports, 0 and 65536, junk, and numbers too long to be one. */
function portField(rng: Rng): { text: string; value?: number } {
  switch (rng.below(6)) {
    case 0: {
      const text = rng.pick([
        '0',
        '65536',
        '99999',
        '-1',
        'x',
        '',
        '33013x',
        digits(rng, 11 + rng.below(1000)),
      ]);
      return { text };
    }
    case 1: {
      const value = rng.pick([1, 65535]);
      return { text: String(value), value };
    }
    default: {
      const value = 1 + rng.below(65535);
      return { text: String(value), value };
    }
  }
}

/** One entry of a servers string, with what parsing it must give. */
export function randomEntry(rng: Rng): Entry {
  const v6 = rng() < 0.15;
  let host = v6 ? rng.pick(V6) : rng.pick(HOSTS);
  if (rng() < 0.05) host = 'h'.repeat(1 + rng.below(50_000));
  const port = portField(rng);
  const withWeight = rng() < 0.6;
  const weight = weightField(rng);
  let text = `${v6 ? `[${host}]` : host}:${port.text}${withWeight ? `:${weight.text}` : ''}`;
  let expected: Expected =
    port.value === undefined
      ? 'ERR_BAD_SERVER'
      : !withWeight
        ? { host, port: port.value }
        : (weight.code ?? { host, port: port.value, weight: weight.value });
  // Shapes no weight can save: no port, one field too many, an empty host, a broken bracket.
  switch (rng.below(20)) {
    case 0:
      text = v6 ? `[${host}` : host;
      expected = 'ERR_BAD_SERVER';
      break;
    case 1:
      text += withWeight ? ':1' : ':1:1';
      expected = 'ERR_BAD_SERVER';
      break;
    case 2:
      text = text.slice(text.indexOf(':'));
      expected = 'ERR_BAD_SERVER';
      break;
    case 3:
      text = `[${host}]${port.text}`;
      expected = 'ERR_BAD_SERVER';
      break;
  }
  return { text, expected };
}

/** Bytes of anything, read as a string: commas, colons, brackets, digits and junk. */
export function junk(rng: Rng): string {
  const alphabet = ',:[]0123456789 .-aZ\u0000\u00e9☺\ud83d';
  let s = '';
  for (let i = rng.below(rng() < 0.1 ? 5000 : 60); i > 0; i--) s += alphabet[rng.below(alphabet.length)];
  return s;
}
