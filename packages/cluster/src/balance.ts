import { invalidOption } from '@iproto/connection';

/** Balancing algorithm names: the strings MR::IProto::Cluster's `balance` coercion accepts. */
export const RR = 'round-robin';
/** Hash balancing: the server picked by crc32 of the request's key (MR::IProto::Cluster `HASH`). */
export const HASH = 'hash-crc32';
/** Consistent hashing over a ring of points per server (MR::IProto::Cluster `KETAMA`). */
export const KETAMA = 'ketama';

/** A balancing algorithm name: {@link RR}, {@link HASH} or {@link KETAMA}. */
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
