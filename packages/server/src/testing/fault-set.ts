import type { Frame } from '@iproto/framing';
import type { ServerConnection } from '../server-connection.js';

/**
 * A misbehaviour of the server towards one request. Faults marked "replaces the reply" are applied
 * after the handler ran; `close` and `stopReading` act on arrival, and the handler is not called.
 */
export type Fault =
  /** Hold the reply back `ms` milliseconds; combines with the next matching fault. */
  | { type: 'delay'; ms: number }
  /** Run the handler, send nothing. */
  | { type: 'drop' }
  /** Send the reply twice. */
  | { type: 'duplicate' }
  /** Reply with another sync (default: the request's with its top bit flipped, `sync ^ 0x80000000`). */
  | { type: 'wrongSync'; sync?: number }
  /** Reply with another msg code (default: the request's plus one). */
  | { type: 'wrongMsg'; msg?: number }
  /** Write the first `bytes` of the reply frame (default half of it, at least 1), then close the socket. */
  | { type: 'truncate'; bytes?: number }
  /** Write these bytes instead of the reply (default {@link DEFAULT_GARBAGE}). */
  | { type: 'garbage'; bytes?: Uint8Array }
  /** Write a header with the request's msg and sync announcing `len` body bytes (default 0xffffffff), and no body. */
  | { type: 'hugeLength'; len?: number }
  /** Close the connection on arrival: replies already queued are sent, then FIN; later requests are ignored. */
  | { type: 'close' }
  /** Stop reading on arrival: this and later requests go unanswered, and the client's writes back up. */
  | { type: 'stopReading' };

/** The kinds of {@link Fault}, by their `type`. */
export type FaultType = Fault['type'];

/** Which requests a fault applies to. Every given condition must hold. */
export interface FaultMatch {
  /** Only requests with this msg code. */
  msg?: number;
  /** Only requests on this connection. */
  connection?: ServerConnection;
  /** Any other condition, e.g. on the body or on which connection (per-connection scripting). */
  when?: (request: Frame, connection: ServerConnection) => boolean;
  /** Fire this many times, then remove itself. Default: until removed. */
  times?: number;
}

/** The bytes the `garbage` fault writes by default: read as a header, they announce ~744 MB. */
export const DEFAULT_GARBAGE: Uint8Array = Buffer.from('garbage, not iproto\n', 'latin1');

interface Entry {
  fault: Fault;
  match: FaultMatch;
  left: number;
}

/** What to do with one request: the total delay and the fault to apply after it, if any. */
export interface FaultPlan {
  delay: number;
  fault: Exclude<Fault, { type: 'delay' }> | undefined;
}

/**
 * The scripted faults of a `TestServer`, checked in the order they were added. For each request the
 * matching `delay` faults add up, and the first matching fault of another type is applied after the
 * delay; every fault used counts one of its `times`.
 */
export class FaultSet {
  private entries: Entry[] = [];

  /** Number of faults in force. */
  get size(): number {
    return this.entries.length;
  }

  /** Adds a fault; the returned function removes it. */
  add(fault: Fault, match: FaultMatch = {}): () => void {
    checkFault(fault);
    const times = match.times ?? Number.POSITIVE_INFINITY;
    if (!(times > 0) || (times !== Number.POSITIVE_INFINITY && !Number.isInteger(times))) {
      throw new RangeError(`faults.add: times must be a positive integer, got ${match.times}`);
    }
    const entry: Entry = { fault, match, left: times };
    this.entries.push(entry);
    return () => this.remove(entry);
  }

  /** Removes every fault. */
  clear(): void {
    this.entries = [];
  }

  /** The plan for `request`, or undefined when no fault matches. Counts the faults used. */
  take(request: Frame, connection: ServerConnection): FaultPlan | undefined {
    let plan: FaultPlan | undefined;
    for (const entry of [...this.entries]) {
      const { fault, match } = entry;
      if (match.msg !== undefined && match.msg !== request.msg) continue;
      if (match.connection !== undefined && match.connection !== connection) continue;
      if (match.when !== undefined && !match.when(request, connection)) continue;
      plan ??= { delay: 0, fault: undefined };
      if (--entry.left === 0) this.remove(entry);
      if (fault.type === 'delay') {
        plan.delay += fault.ms;
        continue;
      }
      plan.fault = fault;
      break;
    }
    return plan;
  }

  private remove(entry: Entry): void {
    const index = this.entries.indexOf(entry);
    if (index !== -1) this.entries.splice(index, 1);
  }
}

function checkFault(fault: Fault): void {
  const uint32 = (value: number | undefined, field: string): void => {
    if (value !== undefined && value >>> 0 !== value) {
      throw new RangeError(
        `faults.add: ${fault.type}.${field} must be an integer from 0 to 4294967295, got ${value}`,
      );
    }
  };
  switch (fault.type) {
    case 'delay':
      if (!(fault.ms >= 0 && Number.isFinite(fault.ms))) {
        throw new RangeError(`faults.add: delay.ms must be a non-negative number, got ${fault.ms}`);
      }
      return;
    case 'wrongSync':
      uint32(fault.sync, 'sync');
      return;
    case 'wrongMsg':
      uint32(fault.msg, 'msg');
      return;
    case 'hugeLength':
      uint32(fault.len, 'len');
      return;
    case 'truncate':
      if (fault.bytes !== undefined && !(Number.isInteger(fault.bytes) && fault.bytes >= 0)) {
        throw new RangeError(`faults.add: truncate.bytes must be a non-negative integer, got ${fault.bytes}`);
      }
      return;
    case 'drop':
    case 'duplicate':
    case 'garbage':
    case 'close':
    case 'stopReading':
      return;
    default:
      throw new TypeError(`faults.add: unknown fault type ${(fault as { type: unknown }).type}`);
  }
}
