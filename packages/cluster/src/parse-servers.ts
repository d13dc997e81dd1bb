/** One entry of a servers string. */
export interface ServerAddress {
  host: string;
  port: number;
  weight?: number;
}

/**
 * Parses Perl's servers string, `"host:port[:weight],..."` (MR::IProto::Cluster's coercion to
 * Servers, then MR::IProto::Cluster::Server's from Str). An IPv6 host goes in brackets,
 * `"[::1]:33013:2"`, and comes out without them (`host: '::1'`); Perl, which splits on every colon,
 * cannot parse such a string at all. Blank entries are ignored, as Perl's `split /,/` drops trailing
 * empty fields.
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

/** Parses one `"host:port[:weight]"` (or `"[v6]:port[:weight]"`). */
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
  const port = parseDecimal(fields[0]);
  if (port === undefined || port < 1 || port > 65535) throw bad(entry, `bad port "${fields[0]}"`);
  if (fields.length === 1) return { host, port };
  const weight = parseDecimal(fields[1]);
  if (weight === undefined) throw bad(entry, `bad weight "${fields[1]}"`);
  return { host, port, weight };
}

function parseDecimal(text: string): number | undefined {
  return /^\d{1,10}$/.test(text) ? Number(text) : undefined;
}

function bad(entry: string, why: string): TypeError {
  return new TypeError(`bad server "${entry}" in servers string: ${why}`);
}
