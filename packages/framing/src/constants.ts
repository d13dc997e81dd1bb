/** Size of the iproto header: `msg`, `len`, `sync`, each an unsigned 32-bit little-endian integer. */
export const HEADER_SIZE = 12;

/**
 * Default largest body (in bytes, header not counted) a decoder accepts: 16 MiB. A header announcing
 * more is rejected before anything is allocated, so a corrupt or hostile peer cannot make us reserve
 * up to 4 GiB.
 */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

/** `maxFrameSize` as given, or the default; throws a `RangeError` naming `where` unless it is usable. */
export function resolveMaxFrameSize(value: number | undefined, where: string): number {
  const max = value ?? DEFAULT_MAX_FRAME_SIZE;
  if (!(max >= 0) || (max !== Number.POSITIVE_INFINITY && !Number.isInteger(max))) {
    throw new RangeError(`${where}: maxFrameSize must be a non-negative integer or Infinity, got ${max}`);
  }
  return max;
}

/**
 * Bodies of at least this many bytes (64 KiB) are not copied into a `FrameWriter`'s buffer but handed
 * out as their own chunk: copying them would cost more than one more `write` entry.
 */
export const DEFAULT_LARGE_BODY_THRESHOLD = 64 * 1024;

/**
 * Bytes of a packet `dumpPacket` shows by default (4 KiB): the dump of a 16 MiB frame would take
 * seconds and GiBs to build, and a debug log is read by people, who stop long before that.
 */
export const DEFAULT_DUMP_LIMIT = 4096;
