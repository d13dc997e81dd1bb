import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A value on the wire to the Perl helper (see perl-pack-server.pl). */
export type WireValue = number | { f: string } | { s: string } | { i: string } | null;

export interface PerlReply {
  id: number;
  ok?: string | WireValue[];
  err?: string;
  /** The packed string had characters above 255 (sent as its UTF-8 encoding). */
  wide?: number;
}

const SCRIPT = fileURLToPath(new URL('./perl-pack-server.pl', import.meta.url));

/** One long-lived `perl` process answering pack/unpack requests over JSON lines. */
export class PerlChild {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending = new Map<number, (reply: PerlReply) => void>();
  #nextId = 1;
  #buffered = '';

  constructor() {
    // PERL_SIGNALS=unsafe lets the helper's alarm stop a runaway pack/unpack; ulimit keeps one
    // from eating the machine's memory first.
    this.#child = spawn('sh', ['-c', `ulimit -v 2000000; exec perl '${SCRIPT}'`], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PERL_SIGNALS: 'unsafe' },
    });
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (chunk: string) => {
      this.#buffered += chunk;
      let nl = this.#buffered.indexOf('\n');
      while (nl >= 0) {
        const line = this.#buffered.slice(0, nl);
        this.#buffered = this.#buffered.slice(nl + 1);
        const reply = JSON.parse(line) as PerlReply;
        this.#pending.get(reply.id)?.(reply);
        this.#pending.delete(reply.id);
        nl = this.#buffered.indexOf('\n');
      }
    });
    this.#child.stderr.setEncoding('utf8');
    this.#child.stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.#child.once('exit', (code) => {
      for (const [id, resolve] of this.#pending)
        resolve({ id, err: `perl exited (${code}): ${this.stderr}` });
      this.#pending.clear();
      this.exited = true;
    });
  }

  stderr = '';
  exited = false;

  request(req: Record<string, unknown>): Promise<PerlReply> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      if (this.exited) {
        resolve({ id, err: `perl exited: ${this.stderr}` });
        return;
      }
      this.#pending.set(id, resolve);
      this.#child.stdin.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  }

  pack(t: string, v: WireValue[]): Promise<PerlReply> {
    return this.request({ op: 'pack', t, v });
  }

  unpack(t: string, d: Uint8Array): Promise<PerlReply> {
    return this.request({ op: 'unpack', t, d: Buffer.from(d).toString('hex') });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.exited) return resolve();
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
