import { DEFAULT_DUMP_LIMIT } from './constants.js';
import { readUint32 } from './frame.js';

/** Options of `dumpPacket`. */
export interface DumpPacketOptions {
  /**
   * Print the bytes as 32-bit integers first (default `true`). `false` is MR::IProto's `dump_no_ints`.
   */
  ints?: boolean;
  /** Text put before the dump, like the `'send header: '` label MR::IProto passes. Default empty. */
  prefix?: string;
  /**
   * Dump at most this many bytes (rounded down to whole integers), then `' … (N bytes in all)'`.
   * Default {@link DEFAULT_DUMP_LIMIT}; `Infinity` dumps everything, as Perl does.
   */
  limit?: number;
}

/** ASCII codes of the hex digits, for writing the hex part into one buffer. */
const DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * The packet dump of MR::IProto's debug output (`MR::IProto::Role::Debuggable::_debug_dump`): the
 * bytes read as unsigned 32-bit little-endian integers (`unpack('L*')`, which ignores 1 to 3
 * trailing bytes that do not make a whole integer) joined by spaces, then `' > '`, then every byte as
 * two lowercase hex digits joined by spaces. With `ints: false` only the hex part is printed. An
 * empty packet dumps as `' > '` (or `''` without ints), as in Perl. A packet over `limit` bytes is
 * cut there (Perl dumps it all) and ends with `' … (N bytes in all)'`.
 */
export function dumpPacket(bytes: Uint8Array, options: DumpPacketOptions = {}): string {
  const limit = options.limit ?? DEFAULT_DUMP_LIMIT;
  if (!(limit >= 0)) throw new RangeError(`dumpPacket: limit must be a non-negative number, got ${limit}`);
  // A cut on a 4-byte boundary keeps the integers and the hex bytes shown the same bytes.
  const shown = bytes.length <= limit ? bytes.length : Math.floor(limit / 4) * 4;
  let out = options.prefix ?? '';
  if (options.ints !== false) {
    const words: number[] = new Array(shown >>> 2);
    for (let i = 0; i < words.length; i++) words[i] = readUint32(bytes, i * 4);
    out += `${words.join(' ')} > `;
  }
  out += hexBytes(bytes, shown);
  if (shown < bytes.length) out += ` … (${bytes.length} bytes in all)`;
  return out;
}

/** `bytes[0..n]` as two hex digits each, separated by spaces, written into one buffer. */
function hexBytes(bytes: Uint8Array, n: number): string {
  if (n === 0) return '';
  const text = Buffer.allocUnsafe(n * 3 - 1);
  for (let i = 0, at = 0; i < n; i++, at += 3) {
    const byte = bytes[i]!;
    text[at] = DIGITS[byte >>> 4]!;
    text[at + 1] = DIGITS[byte & 15]!;
    if (i + 1 < n) text[at + 2] = 0x20;
  }
  return text.toString('latin1');
}
