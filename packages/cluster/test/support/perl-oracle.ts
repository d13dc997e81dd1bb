import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./perl/oracle.pl', import.meta.url));

/** A key as the Perl oracle reads it: see perl/oracle.pl. */
export type PerlKey = ['b' | 'u' | 'i' | 'f', string];

/** One long-lived `perl` running the real MR::IProto::Cluster; requests are JSON lines. */
export class PerlOracle {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting: ((line: string) => void)[] = [];
  #stderr = '';
  /** Why the oracle can answer no more (perl missing, or exited): later requests fail at once. */
  #failure: string | undefined;

  constructor() {
    this.#child = spawn('perl', [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    createInterface({ input: this.#child.stdout }).on('line', (line) => this.#waiting.shift()?.(line));
    // Without these, a missing perl or a write after it died would crash the test run instead of
    // failing the test that asked.
    this.#child.on('error', (error) => this.#fail(`cannot run perl: ${error.message}`));
    this.#child.stdin.on('error', () => {});
    this.#child.on('exit', (code) => this.#fail(`perl exited (${code}): ${this.#stderr}`));
  }

  async request<T>(body: object): Promise<T> {
    if (this.#failure !== undefined) throw new Error(`perl oracle: ${this.#failure}`);
    const line = await new Promise<string>((resolve) => {
      this.#waiting.push(resolve);
      this.#child.stdin.write(`${JSON.stringify(body)}\n`);
    });
    const reply = JSON.parse(line);
    if (reply.error) throw new Error(`perl oracle: ${reply.error}`);
    return reply as T;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#failure !== undefined || this.#child.exitCode !== null) return resolve();
      this.#child.once('exit', () => resolve());
      this.#child.stdin.end();
    });
  }

  #fail(why: string): void {
    this.#failure ??= why;
    for (const waiter of this.#waiting.splice(0)) waiter(JSON.stringify({ error: this.#failure }));
  }
}

/** Hex of some bytes, as the oracle takes them. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
