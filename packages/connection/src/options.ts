import { IProtoError } from './errors.js';

/**
 * The largest delay a Node timer holds (2^31 - 1 ms, about 24.8 days): a longer one fires at once,
 * so no timeout may exceed it.
 */
export const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * The error of a constructor or call given an option it cannot use: `ERR_INVALID_OPTION`, naming
 * where, which option, what it accepts and what it got (`Connection: timeout must be a number of ms
 * from 0 to 2147483647, got -1`).
 */
export function invalidOption(where: string, name: string, accepted: string, got: unknown): IProtoError {
  return new IProtoError('ERR_INVALID_OPTION', `${where}: ${name} must be ${accepted}, got ${describe(got)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/** A timeout in ms: a finite number from 0 to `MAX_TIMEOUT`; `undefined` gives `fallback`. */
export function timeoutOption(where: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_TIMEOUT)) {
    throw invalidOption(where, name, `a number of ms from 0 to ${MAX_TIMEOUT}`, value);
  }
  return value;
}

/** An integer of at least `min`; `undefined` gives `fallback`. */
export function integerOption(
  where: string,
  name: string,
  value: unknown,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalidOption(where, name, `an integer >= ${min}`, value);
  }
  return value;
}

/** A boolean; `undefined` gives `fallback`. */
export function booleanOption(where: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(where, name, 'true or false', value);
  return value;
}

/** A function or undefined. */
export function functionOption<T>(where: string, name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function')
    throw invalidOption(where, name, 'a function', value);
  return value;
}
