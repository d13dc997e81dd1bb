/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320): the one zlib and Digest::CRC compute. */
const TABLE = /* @__PURE__ */ (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/**
 * CRC-32 of `data`; a string is hashed as its UTF-8 bytes (a lone surrogate as U+FFFD, as
 * `TextEncoder` encodes it).
 *
 * `init` continues a previous CRC, as zlib's `crc32(init, data)` does and as Digest::CRC's
 * `crc32($data, $init)` does in MR::IProto::Cluster::_balance_hash (which feeds it a 16-bit value):
 * `crc32(a + b) === crc32(b, crc32(a))`, and `crc32('1', 12345) === 3705235343`.
 */
export function crc32(data: Uint8Array | string, init = 0): number {
  let crc = ~init;
  if (typeof data !== 'string') {
    for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
    return ~crc >>> 0;
  }
  // UTF-8 encode on the fly: no allocation on the hot path of `cluster.server(key)`.
  const n = data.length;
  for (let i = 0; i < n; i++) {
    let c = data.charCodeAt(i);
    if (c < 0x80) {
      crc = TABLE[(crc ^ c) & 0xff] ^ (crc >>> 8);
      continue;
    }
    if (c < 0x800) {
      crc = TABLE[(crc ^ (0xc0 | (c >> 6))) & 0xff] ^ (crc >>> 8);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < n ? data.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          crc = TABLE[(crc ^ (0xf0 | (c >> 18))) & 0xff] ^ (crc >>> 8);
          crc = TABLE[(crc ^ (0x80 | ((c >> 12) & 0x3f))) & 0xff] ^ (crc >>> 8);
          crc = TABLE[(crc ^ (0x80 | ((c >> 6) & 0x3f))) & 0xff] ^ (crc >>> 8);
          crc = TABLE[(crc ^ (0x80 | (c & 0x3f))) & 0xff] ^ (crc >>> 8);
          continue;
        }
        c = 0xfffd;
      }
      crc = TABLE[(crc ^ (0xe0 | (c >> 12))) & 0xff] ^ (crc >>> 8);
      crc = TABLE[(crc ^ (0x80 | ((c >> 6) & 0x3f))) & 0xff] ^ (crc >>> 8);
    }
    crc = TABLE[(crc ^ (0x80 | (c & 0x3f))) & 0xff] ^ (crc >>> 8);
  }
  return ~crc >>> 0;
}
