import { isIProtoError } from '@iproto/client';
import { DOCUMENTED_CODES as SEND_ERROR_CODES } from '../../../../bench/soak/codes.mjs';

// One seeded PRNG for the soak and the fuzzers (tools/test-kit), so a failing case replays from its seed.
export { createRng } from '@iproto/test-kit';
/** The codes a failed send may carry (docs/architecture.md, "Errors"); one list with the soak's. */
export { SEND_ERROR_CODES };

/**
 * Throws unless `error` is an IProtoError with a documented code, or an abort (the signal's reason
 * or an `AbortError`, both named `AbortError`), counted as `ABORT_ERR`.
 */
export function expectDocumented(error: unknown): string {
  if ((error as { name?: unknown } | null)?.name === 'AbortError') return 'ABORT_ERR';
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
