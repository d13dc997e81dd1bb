import { readUint32 } from './frame.js';

/** Options of `dumpPacket`. */
export interface DumpPacketOptions {
  /**
   * Print the bytes as 32-bit integers first (default `true`). `false` is MR::IProto's `dump_no_ints`.
   */
  ints?: boolean;
  /** Text put before the dump, like the `'send header: '` label MR::IProto passes. Default empty. */
  prefix?: string;
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/**
 * The packet dump of MR::IProto's debug output (`MR::IProto::Role::Debuggable::_debug_dump`): the
 * bytes read as unsigned 32-bit little-endian integers (`unpack('L*')`, which ignores 1 to 3
 * trailing bytes that do not make a whole integer) joined by spaces, then `' > '`, then every byte as
 * two lowercase hex digits joined by spaces. With `ints: false` only the hex part is printed. An
 * empty packet dumps as `' > '` (or `''` without ints), as in Perl.
 */
export function dumpPacket(bytes: Uint8Array, options: DumpPacketOptions = {}): string {
  let out = options.prefix ?? '';
  if (options.ints !== false) {
    const words = bytes.length >>> 2;
    for (let i = 0; i < words; i++) {
      if (i !== 0) out += ' ';
      out += readUint32(bytes, i * 4);
    }
    out += ' > ';
  }
  for (let i = 0; i < bytes.length; i++) {
    if (i !== 0) out += ' ';
    out += HEX[bytes[i]];
  }
  return out;
}
