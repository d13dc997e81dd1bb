/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320): the one zlib and Digest::CRC compute. */
const TABLE = /* @__PURE__ */ (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

const encoder = new TextEncoder();

/**
 * CRC-32 of `data` (a string is hashed as its UTF-8 bytes).
 *
 * `init` continues a previous CRC, as zlib's `crc32(init, data)` does and as Digest::CRC's
 * `crc32($data, $init)` does in MR::IProto::Cluster::_balance_hash (which feeds it a 16-bit value):
 * `crc32(a + b) === crc32(b, crc32(a))`, and `crc32('1', 12345) === 3705235343`.
 */
export function crc32(data: Uint8Array | string, init = 0): number {
  const bytes = typeof data === 'string' ? encodeAscii(data) : data;
  let crc = ~init;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

// Most keys and ketama point names are short ASCII: hash them without allocating when we can.
const scratch = new Uint8Array(64);

function encodeAscii(text: string): Uint8Array {
  const n = text.length;
  if (n > scratch.length) return encoder.encode(text);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return encoder.encode(text);
    scratch[i] = c;
  }
  return scratch.subarray(0, n);
}
