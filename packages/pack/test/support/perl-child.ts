import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A value on the wire to the Perl helper (see perl/pack-server.pl). */
export type WireValue = number | { f: string } | { s: string } | { i: string } | null;

export interface PerlReply {
  id: number;
  ok?: string | WireValue[];
  err?: string;
  /** The packed string had characters above 255 (sent as its UTF-8 encoding). */
  wide?: number;
}

const SCRIPT = fileURLToPath(new URL('./perl/pack-server.pl', import.meta.url));

/** The reply given for a request whose perl died under it (see PerlChild). */
export const PERL_DIED = 'perl died on this request';

/**
 * One long-lived `perl` process answering pack/unpack requests over JSON lines. Should that perl
 * die (a request that exhausts its memory limit), the request it was on is answered with
 * PERL_DIED and a fresh perl takes the rest, so one bad case cannot sink a whole run.
 */
export class PerlChild {
  #child!: ChildProcessWithoutNullStreams;
  /** Requests written and not yet answered, in the order perl reads them. */
  readonly #pending = new Map<
    number,
    { line: string; resolve: (reply: PerlReply) => void; reject: (error: Error) => void }
  >();
  /** Set when perl cannot be (re)started: every request fails with it rather than respawning forever. */
  #broken: Error | undefined;
  #nextId = 1;
  #buffered = '';
  #closing = false;
  stderr = '';
  restarts = 0;

  constructor() {
    this.#spawn();
  }

  #spawn(): void {
    // PERL_SIGNALS=unsafe lets the helper's alarm stop a runaway pack/unpack; ulimit keeps one
    // from eating the machine's memory first.
    const child = spawn('sh', ['-c', `ulimit -v 2000000; exec perl '${SCRIPT}'`], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PERL_SIGNALS: 'unsafe' },
    });
    this.#child = child;
    this.#buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.#buffered += chunk;
      let nl = this.#buffered.indexOf('\n');
      while (nl >= 0) {
        const line = this.#buffered.slice(0, nl);
        this.#buffered = this.#buffered.slice(nl + 1);
        const reply = JSON.parse(line) as PerlReply;
        this.#pending.get(reply.id)?.resolve(reply);
        this.#pending.delete(reply.id);
        nl = this.#buffered.indexOf('\n');
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    child.stdin.on('error', () => {});
    child.once('exit', (code) => {
      if (this.#closing) return;
      const first = this.#pending.keys().next();
      // No request to blame (perl died idle or at start), or sh found no perl: restarting cannot help.
      if (first.done || code === 127) {
        this.#broken = new Error(`perl pack helper exited (code ${code}): ${this.stderr.trim()}`);
        for (const { reject } of this.#pending.values()) reject(this.#broken);
        this.#pending.clear();
        return;
      }
      const id = first.value;
      this.#pending.get(id)?.resolve({ id, err: PERL_DIED });
      this.#pending.delete(id);
      this.restarts++;
      this.#spawn();
      for (const { line } of this.#pending.values()) this.#child.stdin.write(line);
    });
  }

  request(req: Record<string, unknown>): Promise<PerlReply> {
    const id = this.#nextId++;
    const line = `${JSON.stringify({ ...req, id })}\n`;
    if (this.#broken) return Promise.reject(this.#broken);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { line, resolve, reject });
      this.#child.stdin.write(line);
    });
  }

  pack(t: string, v: WireValue[]): Promise<PerlReply> {
    return this.request({ op: 'pack', t, v });
  }

  unpack(t: string, d: Uint8Array): Promise<PerlReply> {
    return this.request({ op: 'unpack', t, d: Buffer.from(d).toString('hex') });
  }

  close(): Promise<void> {
    this.#closing = true;
    return new Promise((resolve) => {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) return resolve();
      this.#child.once('exit', () => resolve());
      this.#child.stdin.end();
    });
  }
}

/** Encodes a JS value for the Perl side, so that Perl sees the value our `pack` sees. */
export function toWire(v: unknown): WireValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) return v;
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    return { f: b.toString('hex') };
  }
  if (typeof v === 'bigint') return { s: Buffer.from(String(v)).toString('hex') };
  if (typeof v === 'string') return { s: Buffer.from(v, 'utf8').toString('hex') };
  if (v instanceof Uint8Array) return { s: Buffer.from(v).toString('hex') };
  throw new Error(`cannot send ${typeof v} to perl`);
}

/** Compares one value of our unpack with Perl's; returns a reason when they differ. */
export function sameValue(ours: unknown, perl: WireValue): string | undefined {
  const show = () =>
    `ours ${typeof ours === 'bigint' ? `${ours}n` : JSON.stringify(ours instanceof Uint8Array ? Buffer.from(ours).toString('hex') : ours)} perl ${JSON.stringify(perl)}`;
  if (perl === null) return ours === undefined || ours === null ? undefined : show();
  if (typeof perl === 'number') return undefined;
  if ('s' in perl) {
    const bytes = Buffer.from(perl.s, 'hex');
    if (ours instanceof Uint8Array)
      return Buffer.compare(Buffer.from(ours), bytes) === 0 ? undefined : show();
    if (typeof ours === 'string') return ours === bytes.toString('latin1') ? undefined : show();
    // 'w' beyond 64 bits: Perl gives a decimal string ("" for a long zero).
    if ((typeof ours === 'number' || typeof ours === 'bigint') && /^\d*$/.test(bytes.toString('latin1'))) {
      return BigInt(ours) === BigInt(bytes.toString('latin1') || '0') ? undefined : show();
    }
    return show();
  }
  if ('i' in perl) {
    if (typeof ours === 'bigint') return ours === BigInt(perl.i) ? undefined : show();
    if (typeof ours === 'number' && Number.isInteger(ours))
      return BigInt(ours) === BigInt(perl.i) ? undefined : show();
    return show();
  }
  const nv = Buffer.from(perl.f, 'hex').readDoubleLE(0);
  if (typeof ours === 'number') return Object.is(ours, nv) ? undefined : show();
  if (typeof ours === 'bigint') return Number(ours) === nv ? undefined : show();
  return show();
}
