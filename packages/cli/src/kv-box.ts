import { PING_MSG } from '@iproto/cluster';
import { pack, unpack } from '@iproto/pack';

/**
 * Message codes of the tiny key-value box that `iproto serve` runs. The codes and body templates are
 * part of the command's documented interface (see the README), so `iproto send` and Perl clients
 * can talk to it.
 */
export const KvMsg = {
  /** Body `w/a* w/a*` (key, value). Reply `L`: status. Stores value under key. */
  SET: 1,
  /** Body `w/a*` (key). Reply `L w/a*`: status (0 found, 1 not found), value (empty when absent). */
  GET: 2,
  /** Body `w/a*` (key). Reply `L`: status (0 deleted, 1 not found). */
  DELETE: 3,
  /** Empty body. Reply `L L`: status, number of keys stored. */
  COUNT: 4,
  /** Tarantool 1.5 / Octopus ping: empty body, empty reply. */
  PING: PING_MSG,
} as const;

/** Request and reply body templates, by message code name (for `pack` / `unpack`). */
export const KvTemplates = {
  SET: { request: 'w/a* w/a*', reply: 'L' },
  GET: { request: 'w/a*', reply: 'L w/a*' },
  DELETE: { request: 'w/a*', reply: 'L' },
  COUNT: { request: '', reply: 'L L' },
} as const;

/** The status every key-value reply starts with, as Tarantool replies start with a return code. */
export const KvStatus = {
  OK: 0,
  NOT_FOUND: 1,
  /** The body did not match the message's template, or the message code is unknown. */
  BAD_REQUEST: 2,
} as const;

const EMPTY = new Uint8Array(0);

/**
 * Answers one key-value request against `store`; returns the reply body. Keys and values are bytes,
 * held as Latin-1 strings so any byte sequence is a valid key.
 */
export function handleKvRequest(store: Map<string, Uint8Array>, msg: number, body: Uint8Array): Uint8Array {
  if (msg === KvMsg.PING) return EMPTY;
  try {
    switch (msg) {
      case KvMsg.SET: {
        const [key, value] = unpack(KvTemplates.SET.request, body) as [Uint8Array, Uint8Array];
        store.set(latin1(key), Uint8Array.from(value));
        return pack('L', KvStatus.OK);
      }
      case KvMsg.GET: {
        const [key] = unpack(KvTemplates.GET.request, body) as [Uint8Array];
        const value = store.get(latin1(key));
        return value === undefined
          ? pack(KvTemplates.GET.reply, KvStatus.NOT_FOUND, EMPTY)
          : pack(KvTemplates.GET.reply, KvStatus.OK, value);
      }
      case KvMsg.DELETE: {
        const [key] = unpack(KvTemplates.DELETE.request, body) as [Uint8Array];
        return pack('L', store.delete(latin1(key)) ? KvStatus.OK : KvStatus.NOT_FOUND);
      }
      case KvMsg.COUNT:
        return pack(KvTemplates.COUNT.reply, KvStatus.OK, store.size);
    }
  } catch {
    // A body that does not unpack is the client's mistake: say so rather than stay silent.
  }
  return pack('L', KvStatus.BAD_REQUEST);
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
