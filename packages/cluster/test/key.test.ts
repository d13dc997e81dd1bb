import { describe, expect, it } from 'vitest';
import { keyBytes, perlNumberString } from '../src/key.js';

describe('perlNumberString', () => {
  // Expected strings printed by perl 5.36 (`print $n`) for the same values.
  it.each([
    [0, '0'],
    [-0, '0'],
    [42, '42'],
    [-7, '-7'],
    [1e15, '1000000000000000'],
    [2 ** 53, '9007199254740992'],
    [2 ** 63, '9223372036854775808'],
    [2 ** 64, '1.84467440737096e+19'],
    [-(2 ** 63), '-9223372036854775808'],
    [2 ** 62, '4611686018427387904'],
    [1e21, '1e+21'],
    [0.1 + 0.2, '0.3'],
    [1.5, '1.5'],
    [1 / 3, '0.333333333333333'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [123456789012345680000, '1.23456789012346e+20'],
    [100000000000000.5, '100000000000000'],
    [100000000000001.5, '100000000000002'],
    [5e-324, '4.94065645841247e-324'],
    [Number.POSITIVE_INFINITY, 'Inf'],
    [Number.NEGATIVE_INFINITY, '-Inf'],
    [Number.NaN, 'NaN'],
  ])('%s prints as %s', (value, text) => {
    expect(perlNumberString(value)).toBe(text);
  });

  it('prints a bigint with every digit', () => {
    expect(perlNumberString(18446744073709551615n)).toBe('18446744073709551615');
  });
});

describe('keyBytes', () => {
  it('keeps strings and bytes, stringifies numbers', () => {
    const bytes = new Uint8Array([1, 2]);
    expect(keyBytes('abc')).toBe('abc');
    expect(keyBytes(bytes)).toBe(bytes);
    expect(keyBytes(12)).toBe('12');
    expect(keyBytes(12n)).toBe('12');
  });

  it('rejects other types', () => {
    expect(() => keyBytes({} as never)).toThrow(TypeError);
  });
});
