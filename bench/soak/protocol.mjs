/**
 * How soak requests are laid out, shared by the client side (harness.mjs) and the server child
 * (server.mjs). The request id travels in the msg code, so that even a 0-byte body is counted and
 * matched: msg = DATA | (NO_REPLY when no reply is expected) | id. Bodies of 8 bytes or more also
 * start with the id (u32le) and the body length (u32le), and the server echoes them unchanged.
 */
export const DATA = 0x10000000;
export const NO_REPLY = 0x20000000;
export const ID_MASK = 0x0fffffff;
export const MAX_REQUESTS = ID_MASK;

export function requestMsg(id, noReply) {
  return (DATA | (noReply ? NO_REPLY : 0) | id) >>> 0;
}

export function isData(msg) {
  return (msg & DATA) !== 0;
}

export function idOf(msg) {
  return msg & ID_MASK;
}

export function isNoReply(msg) {
  return (msg & NO_REPLY) !== 0;
}
