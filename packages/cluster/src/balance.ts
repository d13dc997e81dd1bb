import { invalidOption } from '@iproto/connection';

/** Balancing algorithm names: the strings MR::IProto::Cluster's `balance` coercion accepts. */
export const RR = 'round-robin';
export const HASH = 'hash-crc32';
export const KETAMA = 'ketama';

export type Balance = typeof RR | typeof HASH | typeof KETAMA;

/**
 * Accepts our names and Perl's numeric constants (RR = 1, HASH = 2, KETAMA = 3), nothing else.
 * Perl's coercion (MR::IProto::Cluster) turns any other string into round-robin, which sends keys to
 * the wrong shard on a typo; we refuse it instead.
 */
export function normalizeBalance(balance: unknown, where = 'Cluster'): Balance {
  if (balance === undefined || balance === RR || balance === 1) return RR;
  if (balance === HASH || balance === 2) return HASH;
  if (balance === KETAMA || balance === 3) return KETAMA;
  throw invalidOption(where, 'balance', `'${RR}', '${HASH}', '${KETAMA}' or 1, 2, 3`, balance);
}
