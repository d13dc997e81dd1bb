/** What `cluster.server(key)` accepts: Perl hashes the key's string form, so do we. */
export type BalanceKey = string | number | bigint | Uint8Array;

const IV_MIN = -(2 ** 63);
const UV_LIMIT = 2 ** 64;

/**
 * The decimal form Perl gives a number when it is used as a string (`"$key"`), which is what
 * Digest::CRC hashes in MR::IProto::Cluster::_balance_hash / _balance_ketama.
 *
 * - An integral value in Perl's integer range (IV/UV: -2^63 .. 2^64-1) prints as every digit, as a
 *   Perl integer does (`123456789012345678`). A `bigint` always does.
 * - Anything else prints as a Perl NV does: C's `%.15g` (`0.3`, `1e+21`, `1e-05`,
 *   `9.22337203685478e+18`), with `Inf`, `-Inf`, `NaN`, and `-0` as `0`.
 */
export function perlNumberString(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString();
  if (Number.isSafeInteger(value)) return value === 0 ? '0' : String(value);
  if (Number.isInteger(value) && value >= IV_MIN && value < UV_LIMIT) return BigInt(value).toString();
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return formatG15(value);
}

const PRECISION = 15;

/**
 * `sprintf('%.15g', value)` as glibc prints it: from the exact binary value, rounding half to even
 * (JavaScript's `toPrecision` rounds exact ties up, so it cannot be used as is).
 */
function formatG15(value: number): string {
  const negative = value < 0;
  const { digits, pointAt } = exactDecimal(Math.abs(value));
  // digits: the exact decimal digits, no leading zeros; value = 0.digits * 10^pointAt
  let kept = digits.slice(0, PRECISION);
  let exponent = pointAt - 1;
  if (digits.length > PRECISION) {
    const next = digits.charCodeAt(PRECISION) - 48;
    const restNonZero = /[1-9]/.test(digits.slice(PRECISION + 1));
    const lastOdd = (kept.charCodeAt(PRECISION - 1) - 48) % 2 === 1;
    if (next > 5 || (next === 5 && (restNonZero || lastOdd))) {
      const rounded = (BigInt(kept) + 1n).toString();
      if (rounded.length > PRECISION) {
        kept = rounded.slice(0, PRECISION);
        exponent += 1;
      } else {
        kept = rounded;
      }
    }
  }
  kept = kept.padEnd(PRECISION, '0');
  let text: string;
  if (exponent < -4 || exponent >= PRECISION) {
    const mantissa = stripZeros(`${kept[0]}.${kept.slice(1)}`);
    const exp = Math.abs(exponent).toString().padStart(2, '0');
    text = `${mantissa}e${exponent < 0 ? '-' : '+'}${exp}`;
  } else if (exponent < 0) {
    text = stripZeros(`0.${'0'.repeat(-exponent - 1)}${kept}`);
  } else {
    text = stripZeros(`${kept.slice(0, exponent + 1)}.${kept.slice(exponent + 1)}`);
  }
  return negative ? `-${text}` : text;
}

function stripZeros(text: string): string {
  if (!text.includes('.')) return text;
  return text.replace(/0+$/, '').replace(/\.$/, '');
}

const view = new DataView(new ArrayBuffer(8));

/** The exact decimal expansion of a finite positive double (every double is a finite decimal). */
function exactDecimal(value: number): { digits: string; pointAt: number } {
  view.setFloat64(0, value);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  let mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  let exponent: number;
  if (biased === 0) {
    exponent = -1074;
  } else {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  let integer: string;
  let scale: number; // value = integer * 10^-scale
  if (exponent >= 0) {
    integer = (mantissa << BigInt(exponent)).toString();
    scale = 0;
  } else {
    // m / 2^k = m * 5^k / 10^k
    integer = (mantissa * 5n ** BigInt(-exponent)).toString();
    scale = -exponent;
  }
  const stripped = integer.replace(/^0+/, '');
  return { digits: stripped, pointAt: stripped.length - scale };
}

/**
 * The bytes MR::IProto::Cluster hashes for a key: a string's UTF-8 bytes (what Perl hashes for a byte
 * string holding UTF-8, and for a character string with the UTF-8 flag on, since Digest::CRC's XS
 * reads a string's internal bytes), a number's Perl decimal form, or the bytes themselves.
 */
export function keyBytes(key: BalanceKey): Uint8Array | string {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'bigint') return perlNumberString(key);
  if (key instanceof Uint8Array) return key;
  throw new TypeError(`balancing key must be a string, number, bigint or Uint8Array, got ${typeof key}`);
}
