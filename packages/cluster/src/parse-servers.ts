import { MAX_WEIGHT, weightLimitError } from './weight.js';

/** One entry of a servers string. */
export interface ServerAddress {
  host: string;
  port: number;
  weight?: number;
}

/** Thrown for a malformed entry of a servers string: a `TypeError` with code `ERR_BAD_SERVER`. */
export interface BadServerError extends TypeError {
  readonly code: 'ERR_BAD_SERVER';
}

/** Longest piece of an entry quoted in an error message; a longer one is cut, with its length said. */
const QUOTE_MAX = 64;

/**
 * Parses Perl's servers string, `"host:port[:weight],..."` (MR::IProto::Cluster's coercion to
 * Servers, then MR::IProto::Cluster::Server's from Str). An IPv6 host goes in brackets,
 * `"[::1]:33013:2"`, and comes out without them (`host: '::1'`); Perl, which splits on every colon,
 * cannot parse such a string at all. Blank entries are ignored, as Perl's `split /,/` drops trailing
 * empty fields.
 *
 * A malformed entry throws `TypeError` `ERR_BAD_SERVER`; a weight above {@link MAX_WEIGHT} throws
 * `RangeError` `ERR_WEIGHT_LIMIT`. Work is linear in the length of the string.
 */
export function parseServers(servers: string): ServerAddress[] {
  const result: ServerAddress[] = [];
  for (const raw of servers.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    result.push(parseServer(entry));
  }
  return result;
}

/** Parses one `"host:port[:weight]"` (or `"[v6]:port[:weight]"`); errors as {@link parseServers}. */
export function parseServer(entry: string): ServerAddress {
  let host: string;
  let rest: string;
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0 || entry[close + 1] !== ':') throw bad(entry, 'an IPv6 host is written "[addr]:port"');
    host = entry.slice(1, close);
    rest = entry.slice(close + 2);
  } else {
    const colon = entry.indexOf(':');
    if (colon < 0) throw bad(entry, 'missing ":port"');
    host = entry.slice(0, colon);
    rest = entry.slice(colon + 1);
  }
  const fields = rest.split(':');
  if (host === '') throw bad(entry, 'empty host');
  if (fields.length > 2) throw bad(entry, 'expected host:port[:weight]');
  const port = /^\d{1,10}$/.test(fields[0]) ? Number(fields[0]) : 0;
  if (port < 1 || port > 65535) throw bad(entry, `bad port "${quote(fields[0])}": expected 1..65535`);
  if (fields.length === 1) return { host, port };
  const text = fields[1];
  if (!/^\d+$/.test(text)) throw bad(entry, `bad weight "${quote(text)}": expected 0..${MAX_WEIGHT}`);
  // Any number of digits is a number; only its size is wrong. Leading zeros do not count.
  const digits = text.replace(/^0+(?=\d)/, '');
  if (digits.length > String(MAX_WEIGHT).length || Number(digits) > MAX_WEIGHT) {
    throw weightLimitError(`bad server "${quote(entry)}" in servers string`, quote(digits));
  }
  return { host, port, weight: Number(digits) };
}

/** `text`, cut to QUOTE_MAX characters (saying how long it was) so a message stays one short line. */
function quote(text: string): string {
  return text.length <= QUOTE_MAX ? text : `${text.slice(0, QUOTE_MAX)}... (${text.length} characters)`;
}

function bad(entry: string, why: string): BadServerError {
  const error = new TypeError(`bad server "${quote(entry)}" in servers string: ${why}`);
  return Object.assign(error, { code: 'ERR_BAD_SERVER' as const });
}
