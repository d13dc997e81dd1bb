/**
 * The largest server weight: 1,000,000. Perl's MR::IProto::Cluster::_build__hash_servers stands a
 * server in HASH's list once per unit of weight, so a Perl client with a larger weight spends memory
 * and seconds building the list (10^8 takes 13 s and 1.9 GB); a fleet shared with Perl clients cannot
 * use such weights. Ours costs nothing per unit of weight, and the bound keeps every sum of weights
 * an exact integer.
 */
export const MAX_WEIGHT = 1_000_000;

/** Thrown for a weight above {@link MAX_WEIGHT}: a `RangeError` with code `ERR_WEIGHT_LIMIT`. */
export interface WeightLimitError extends RangeError {
  readonly code: 'ERR_WEIGHT_LIMIT';
}

/** Throws `ERR_WEIGHT_LIMIT`, naming the server (`where`), when `weight` is above {@link MAX_WEIGHT}. */
export function checkWeight(where: string, weight: number): void {
  if (weight > MAX_WEIGHT) throw weightLimitError(where, String(weight));
}

export function weightLimitError(where: string, weight: string): WeightLimitError {
  const error = new RangeError(`${where}: weight ${weight} is above the maximum ${MAX_WEIGHT} (MAX_WEIGHT)`);
  return Object.assign(error, { code: 'ERR_WEIGHT_LIMIT' as const });
}
