import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./perl-oracle.pl', import.meta.url));

/** A key as the Perl oracle reads it: see perl-oracle.pl. */
export type PerlKey = ['b' | 'u' | 'i' | 'f', string];

/** One long-lived `perl` running the real MR::IProto::Cluster; requests are JSON lines. */
export class PerlOracle {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting: ((line: string) => void)[] = [];
  #stderr = '';

  constructor() {
    this.#child = spawn('perl', [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    createInterface({ input: this.#child.stdout }).on('line', (line) => this.#waiting.shift()?.(line));
    this.#child.on('exit', () => {
      for (const waiter of this.#waiting.splice(0))
        waiter(JSON.stringify({ error: `perl exited: ${this.#stderr}` }));
    });
  }

  async request<T>(body: object): Promise<T> {
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
      if (this.#child.exitCode !== null) return resolve();
      this.#child.once('exit', () => resolve());
      this.#child.stdin.end();
    });
  }
}

/** Hex of some bytes, as the oracle takes them. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
