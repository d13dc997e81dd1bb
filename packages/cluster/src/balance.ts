/** Balancing algorithm names: the strings MR::IProto::Cluster's `balance` coercion accepts. */
export const RR = 'round-robin';
export const HASH = 'hash-crc32';
export const KETAMA = 'ketama';

export type Balance = typeof RR | typeof HASH | typeof KETAMA;

/**
 * Accepts our names and Perl's numeric constants (RR = 1, HASH = 2, KETAMA = 3). Like Perl's
 * coercion, an unknown string means round-robin; anything else is a mistake worth an error.
 */
export function normalizeBalance(balance: unknown): Balance {
  if (balance === undefined || balance === RR || balance === 1) return RR;
  if (balance === HASH || balance === 2) return HASH;
  if (balance === KETAMA || balance === 3) return KETAMA;
  // MR::IProto::Cluster's coercion from Str: anything but 'hash-crc32' and 'ketama' is RR.
  if (typeof balance === 'string') return RR;
  throw new TypeError(`unknown balance ${String(balance)}: use 'round-robin', 'hash-crc32' or 'ketama'`);
}
