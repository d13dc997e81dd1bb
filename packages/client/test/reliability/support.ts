import { isIProtoError } from '@iproto/client';

// One seeded PRNG for the soak and the fuzzers, so a failing case can be replayed from its seed.
export { createRng } from '../../../../bench/soak/rng.mjs';

/** The codes a failed send may carry (docs/architecture.md, "Errors"). */
export const SEND_ERROR_CODES = new Set([
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ECONNCLOSED',
  'ERR_CONNECT_TIMEOUT',
  'ERR_UNKNOWN_SYNC',
  'ERR_FRAME_TOO_LARGE',
  'ERR_QUEUE_FULL',
  'ERR_CONNECTION_CLOSED',
  'ABORT_ERR',
  'ERR_DESTROYED',
  'ERR_NO_SERVERS',
  'ERR_MSG_MISMATCH',
  'ERR_CLIENT_CLOSED',
]);

/** Throws unless `error` is an IProtoError with a documented code. */
export function expectDocumented(error: unknown): string {
  if (!isIProtoError(error)) throw new Error(`undocumented error class: ${String(error)}`, { cause: error });
  const code = (error as { code: string }).code;
  if (!SEND_ERROR_CODES.has(code))
    throw new Error(`undocumented error code ${code}: ${(error as Error).message}`);
  return code;
}

/** Resolves with `promise`, or rejects when it has not settled within `ms` (a hang). */
export function settlesWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer));
}
