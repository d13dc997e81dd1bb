/**
 * Test support: a recording server, the Perl MR::Tarantool::Box driver as a child process, reply
 * builders (with @iproto/pack, independent of the package's own encoder) and a canonical form of
 * results both drivers can be compared in.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pack } from '@iproto/pack';
import { IProtoServer } from '@iproto/server';
import { BoxError } from '../../src/index.js';
import type { SpaceSpec } from '../../src/types.js';

export interface Frame {
  msg: number;
  body: string;
}

/** An @iproto/server that records every request and answers `replies[try]` (the last one repeated). */
export class RecordingServer {
  readonly server: IProtoServer;
  frames: Frame[] = [];
  replies: Uint8Array[] = [];
  port = 0;

  constructor() {
    this.server = new IProtoServer({
      handler: (request) => {
        const n = this.frames.length;
        this.frames.push({ msg: request.msg, body: Buffer.from(request.body).toString('hex') });
        if (this.replies.length === 0) return Buffer.alloc(0);
        return this.replies[Math.min(n, this.replies.length - 1)];
      },
    });
  }

  async listen(): Promise<string> {
    const { port } = await this.server.listen(0, '127.0.0.1');
    this.port = port;
    return `127.0.0.1:${port}`;
  }

  take(): Frame[] {
    const frames = this.frames;
    this.frames = [];
    return frames;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

export interface PerlAnswer {
  value?: unknown;
  error?: number | string;
  errstr?: string;
  died?: string;
}

/** The Perl MR::Tarantool::Box, driven by test/support/perl/box-driver.pl, one command at a time. */
export class PerlBox {
  readonly child: ChildProcess;
  readonly #pending: ((answer: PerlAnswer) => void)[] = [];
  #stderr = '';

  constructor() {
    const script = fileURLToPath(new URL('./perl/box-driver.pl', import.meta.url));
    this.child = spawn('perl', [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (chunk) => {
      this.#stderr += chunk;
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.#pending.shift()?.(JSON.parse(line) as PerlAnswer);
    });
    this.child.on('exit', (code) => {
      for (const settle of this.#pending.splice(0)) settle({ died: `perl exited ${code}: ${this.#stderr}` });
    });
  }

  send(command: unknown): Promise<PerlAnswer> {
    return new Promise((resolve) => {
      this.#pending.push(resolve);
      this.child.stdin!.write(`${JSON.stringify(command)}\n`);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin!.end();
    });
  }
}

/** A space declaration in MR::Tarantool::Box's terms (index keys by number, Perl's option names). */
export function perlSpace(spec: SpaceSpec): Record<string, unknown> {
  const fieldNo = (key: string | number) => (typeof key === 'number' ? key : spec.fields!.indexOf(key));
  return {
    space: spec.space,
    ...(spec.name === undefined ? {} : { name: spec.name }),
    format: spec.format,
    ...(spec.fields ? { fields: spec.fields } : {}),
    ...(spec.longFields ? { long_fields: spec.longFields } : {}),
    indexes: spec.indexes.map((index) => ({ index_name: index.name, keys: index.keys.map(fieldNo) })),
    ...(spec.indexes.length > 1 ? { default_index: spec.defaultIndex ?? spec.indexes[0]!.name } : {}),
  };
}

/** Perl-side argument encodings: bytes as `{hex}`, text as a JSON string, numbers as numbers. */
export const hex = (bytes: Uint8Array | string | readonly number[]) => ({
  hex: Buffer.from(bytes as Uint8Array).toString('hex'),
});

/** The canonical form of a result: every scalar as the hex of the bytes Perl would print for it. */
export function canon(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.map(canon);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, canon(v)]),
    );
  }
  return Buffer.from(String(value), 'utf8').toString('hex');
}

// ---- Replies, built with @iproto/pack ---------------------------------------------------------

/** `L 0, L count`: a write without WANT_RESULT. */
export const okCount = (count: number) => pack('L L', 0, count);

/** `L 0, L count`, then each tuple `L size, L cardinality, (w/a*)*`. */
export function okTuples(tuples: readonly (readonly Uint8Array[])[]): Buffer {
  const parts = tuples.map((fields) => {
    const bytes = fields.length === 0 ? Buffer.alloc(0) : pack('(w/a*)*', ...fields);
    return pack('L L a*', bytes.length, fields.length, bytes);
  });
  return Buffer.concat([pack('L L', 0, tuples.length), ...parts]);
}

/** The tuple sets of a multi-space select, after `L 0`. */
export function okSets(sets: readonly (readonly (readonly Uint8Array[])[])[]): Buffer {
  return Buffer.concat([pack('L', 0), ...sets.map((set) => okTuples(set).subarray(4))]);
}

/** An error as a 1.5 server sends it: `L code`, the text, a NUL. */
export const errorReply = (code: number, text: string) => pack('L a* x', code, text);

/** Field bytes, packed with a Perl letter. */
export const f = (letter: string, value: unknown) => pack(letter, value);
export const s = (text: string) => Buffer.from(text, 'utf8');

export function isBoxError(value: unknown): value is BoxError {
  return value instanceof BoxError;
}
