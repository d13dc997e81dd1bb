import { type Balance, HASH, KETAMA, parseServer, RR } from '@iproto/cluster';
import { compile } from '@iproto/pack';
import { CliError, ExitCode } from './cli-error.js';

/** An address the command talks to. */
export interface Address {
  host: string;
  port: number;
}

/**
 * Parses one `host:port[:weight]` (`[v6]:port[:weight]`) exactly as the cluster reads an entry of a
 * Perl servers string (`parseServer` of `@iproto/cluster`), so every command accepts the same
 * addresses; the weight is checked and then ignored. A bad address is a usage error.
 */
export function parseAddress(text: string): Address {
  try {
    const { host, port } = parseServer(text.trim());
    return { host, port };
  } catch (error) {
    // The cluster's message names the entry as part of a servers string; say it as an address.
    const why = (error as Error).message.replace(/^bad server "[\s\S]*?" in servers string: /, '');
    throw new CliError(`bad address "${text}": ${why}`, ExitCode.USAGE, { cause: error });
  }
}

/** Parses a comma-separated list of addresses, skipping blank entries as `parseServers` does. */
export function parseAddressList(text: string): Address[] {
  const list = text
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(parseAddress);
  if (list.length === 0) throw new CliError('no address given');
  return list;
}

export function formatAddress(address: Address): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * A message code for people: decimal below 0x100 (the request codes Tarantool 1.5 and MR::IProto
 * write in decimal: 13, 17, 22), `0x` hex from there up (codes with a group in their high byte, as
 * the 0xff00 ping). `--msg` reads both forms back.
 */
export function formatMsg(msg: number): string {
  return msg < 0x100 ? String(msg) : `0x${msg.toString(16)}`;
}

/** Parses an integer option: decimal or `0x` hex, within [min, max]. */
export function parseInteger(option: string, text: string, min = 0, max = 0xffffffff): number {
  const t = text.trim();
  const value = /^0x[0-9a-f]+$/i.test(t)
    ? Number.parseInt(t.slice(2), 16)
    : /^-?\d+$/.test(t)
      ? Number(t)
      : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new CliError(`bad value for ${option}: "${text}" (expected an integer in ${min}..${max})`);
  }
  return value;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration with its unit (`500ms`, `10s`, `1.5m`, `1h`; `0` alone for none) into
 * milliseconds within [min, max]. A bare number is refused: `--timeout` counts milliseconds and
 * `wrk` seconds, so `10` would be a guess either way.
 */
export function parseDuration(option: string, text: string, min: number, max: number): number {
  const t = text.trim();
  const match = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)$/.exec(t);
  const value = t === '0' ? 0 : match ? Number(match[1]) * DURATION_UNITS[match[2]] : NaN;
  if (!Number.isFinite(value)) {
    throw new CliError(
      `bad value for ${option}: "${text}" (expected a duration with its unit: 500ms, 10s, 1.5m, 1h)`,
    );
  }
  if (value < min || value > max) {
    throw new CliError(
      `bad value for ${option}: "${text}" (expected ${formatDuration(min)} to ${formatDuration(max)})`,
    );
  }
  return value;
}

/** Milliseconds as the shortest of `ms`, `s`, `m`, `h` that says them whole (`90000` -> `1.5m`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 6_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 100 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** `--balance` names: the cluster's, and short forms of the first two. */
const BALANCES: Readonly<Record<string, Balance>> = {
  [RR]: RR,
  rr: RR,
  [HASH]: HASH,
  hash: HASH,
  [KETAMA]: KETAMA,
};

/**
 * Reads `--balance` (`round-robin` or `rr`, `hash-crc32` or `hash`, `ketama`) the same way for every
 * command: by default `hash-crc32` when a key is given, else `round-robin`. Hash and ketama without
 * a key are refused, as MR::IProto::Cluster refuses them (`Cannot balance hash without key`).
 */
export function parseBalance(command: string, text: string | undefined, hasKey: boolean): Balance {
  if (text === undefined) return hasKey ? HASH : RR;
  const balance = Object.hasOwn(BALANCES, text) ? BALANCES[text] : undefined;
  if (balance === undefined) {
    throw new CliError(
      `iproto ${command}: bad --balance "${text}" (expected ${RR} or rr, ${HASH} or hash, or ${KETAMA})`,
    );
  }
  if (balance !== RR && !hasKey) throw new CliError(`iproto ${command}: --balance ${text} needs --key`);
  return balance;
}

/** The most `--rate` may ask for: beyond what one Node process can send. */
export const MAX_RATE = 10_000_000;

/** Parses a request rate, `N` or `N/s` (decimals allowed: `0.5/s`), above 0 and up to MAX_RATE. */
export function parseRate(option: string, text: string): number {
  const t = text.trim();
  const match = /^(\d+(?:\.\d+)?|\.\d+)(?:\/s)?$/.exec(t);
  const value = match ? Number(match[1]) : NaN;
  if (!(value > 0) || value > MAX_RATE) {
    throw new CliError(
      `bad value for ${option}: "${text}" (expected requests per second above 0 and up to ${formatCount(MAX_RATE)}, as 1000 or 1000/s)`,
    );
  }
  return value;
}

/**
 * Rejects a bad `--unpack` template as a command-line mistake, before anything is sent or read.
 * Unpacking zeros parses the whole template; running out of data is not a template error.
 */
export function checkUnpackTemplate(option: string, template: string): void {
  try {
    compile(template).unpack(new Uint8Array(4096));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_PACK_TEMPLATE' || code === 'ERR_PACK_UNSUPPORTED') {
      throw new CliError(`bad ${option} template: ${describeError(error)}`);
    }
  }
}

/** Parses a hex string (spaces allowed) into bytes. */
export function parseHex(option: string, text: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(clean)) {
    throw new CliError(`bad value for ${option}: expected an even number of hex digits`);
  }
  return Buffer.from(clean, 'hex');
}

export type PackValue = number | bigint | string | Uint8Array;

/**
 * Turns one command-line word into a value for `pack`: integers become numbers (bigints beyond
 * 2^53, or with an `n` suffix), decimals become numbers, `hex:0a0b` becomes bytes, `str:...` is
 * always a string, and anything else is a string.
 */
export function parseValue(word: string): PackValue {
  if (word.startsWith('str:')) return word.slice(4);
  if (word.startsWith('hex:')) return parseHex('value', word.slice(4));
  if (/^[+-]?\d+n$/.test(word)) return BigInt(word.slice(0, -1));
  if (/^[+-]?\d+$/.test(word)) {
    const n = Number(word);
    return Number.isSafeInteger(n) ? n : BigInt(word);
  }
  if (/^[+-]?0x[0-9a-f]+$/i.test(word)) {
    const negative = word.startsWith('-');
    const big = BigInt(word.replace(/^[+-]/, ''));
    const signed = negative ? -big : big;
    return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(signed)
      : signed;
  }
  if (/^[+-]?(\d+\.\d*|\.\d+|\d+)(e[+-]?\d+)?$/i.test(word)) return Number(word);
  return word;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Bytes as text when they are printable UTF-8, else `hex:...` (the form `parseValue` reads back). */
export function bytesToText(bytes: Uint8Array): { text: string; printable: boolean } {
  try {
    const text = decoder.decode(bytes);
    if (!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) return { text, printable: true };
  } catch {
    // not UTF-8: fall through to hex
  }
  return {
    text: `hex:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`,
    printable: false,
  };
}

/** A value from `unpack` as plain JSON: bigints as decimal strings, bytes as text or `hex:...`. */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return bytesToText(value).text;
  if (Array.isArray(value)) return value.map(toJsonValue);
  return value;
}

/** A value from `unpack` for people: numbers bare, text quoted, other bytes as `hex:...`. */
export function formatValue(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Uint8Array) {
    const { text, printable } = bytesToText(value);
    return printable ? JSON.stringify(text) : text;
  }
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  return String(value);
}

/** Groups thousands for tables: 1234567 -> "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/**
 * A one-line message for any error, with its code when it has one. `address`, when given, is left
 * out of the message's start: the caller prints it already.
 */
export function describeError(error: unknown, address?: string): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    let message = error.message.split('\n')[0];
    if (address !== undefined && message.startsWith(`${address}: `))
      message = message.slice(address.length + 2);
    return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(error);
}
