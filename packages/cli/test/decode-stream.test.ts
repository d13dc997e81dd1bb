import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { encodeFrame } from '@iproto/framing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI } from './support/test-support.js';

/**
 * `iproto decode` on captures too large to hold (issue 13: 200 MB died out of memory, 20 MB took
 * 11 s and 1.7 GB), run as a child process with a capped heap; its peak RSS is read at exit through
 * an extra pipe, fd 3.
 */

const MiB = 1024 * 1024;
// Preloaded into the child: reports its peak RSS (KiB) on fd 3 as it exits.
const REPORT_RSS =
  'data:text/javascript,import { writeSync } from "node:fs"; process.on("exit", () => writeSync(3, String(process.resourceUsage().maxRSS)));';

interface Decoded {
  code: number | null;
  stdoutBytes: number;
  /** The last line of stdout (the summary). */
  last: string;
  stderr: string;
  maxRssMiB: number;
}

/**
 * Runs `iproto decode <args>` with a 64 MB heap. `feed` writes its stdin; `pauseMs` leaves stdout
 * unread that long first (a slow reader).
 */
async function decode(
  args: string[],
  options: { feed?: (stdin: Writable, stdout: Readable) => Promise<void>; pauseMs?: number } = {},
): Promise<Decoded> {
  const child = spawn(
    process.execPath,
    ['--max-old-space-size=64', '--import', REPORT_RSS, CLI, 'decode', ...args],
    {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    },
  );
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let stdoutBytes = 0;
  let tail = '';
  let stderr = '';
  let rss = '';
  const stdout = child.stdout;
  stdout.pause();
  stdout.on('data', (chunk: Buffer) => {
    stdoutBytes += chunk.length;
    tail = (tail + chunk.toString('latin1')).slice(-200);
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdio[3]?.on('data', (chunk) => (rss += chunk));
  const closed = once(child, 'close');
  setTimeout(() => stdout.resume(), options.pauseMs ?? 0);
  if (options.feed) await options.feed(child.stdin, stdout);
  else child.stdin.end();
  const [code] = (await closed) as [number | null];
  clearTimeout(timer);
  const lines = tail.split('\n');
  return { code, stdoutBytes, last: lines[lines.length - 2] ?? '', stderr, maxRssMiB: Number(rss) / 1024 };
}

/** Writes `size` bytes of capture to `file`: blocks of `frame` repeated, each block led by `marker`. */
async function writeCapture(file: string, size: number, block: Buffer): Promise<number> {
  const out = createWriteStream(file);
  let written = 0;
  while (written + block.length <= size) {
    if (!out.write(block)) await once(out, 'drain');
    written += block.length;
  }
  out.end();
  await once(out, 'close');
  return written;
}

let dir: string;
beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(join(tmpdir(), 'iproto-decode-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// 1 MiB blocks: one small msg-1 frame, then 32 KiB msg-2 frames (each split across the 64 KiB reads).
const body = Buffer.alloc(32 * 1024 - 12, 0x5a);
const marker = encodeFrame(1, 7, Buffer.from('mark'));
const big = encodeFrame(2, 8, body);
const block = Buffer.concat([marker, ...Array.from({ length: 31 }, () => big)]);

describe('iproto decode streams (issue 13)', () => {
  it('issue 13: a 96 MB capture decodes in the memory of an 8 MB one (with a 64 MB heap)', async () => {
    const small = join(dir, 'small.bin');
    const large = join(dir, 'large.bin');
    const smallSize = await writeCapture(small, 8 * MiB, block);
    const largeSize = await writeCapture(large, 96 * MiB, block);
    const a = await decode([small, '--msg', '1']);
    const b = await decode([large, '--msg', '1']);
    for (const [run, size] of [
      [a, smallSize],
      [b, largeSize],
    ] as const) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.last).toBe(`${size / block.length} frames, ${size} bytes`);
    }
    // Holding the capture (as before) would add its 96 MB at least; streaming adds nothing.
    expect(
      b.maxRssMiB - a.maxRssMiB,
      `RSS ${a.maxRssMiB} MiB for 8 MB, ${b.maxRssMiB} MiB for 96 MB`,
    ).toBeLessThan(32);
  });

  it('issue 13: prints the first frames while the rest of the input has not arrived', async () => {
    let firstSeen = false;
    const run = await decode(['-'], {
      feed: async (stdin, stdout) => {
        stdin.write(Buffer.concat([marker, marker, big.subarray(0, 100)]));
        // stdin stays open: output must come now, not at the end of the input.
        const first = await new Promise<string>((resolve, reject) => {
          let text = '';
          const timer = setTimeout(() => reject(new Error(`no output while stdin is open: ${text}`)), 10_000);
          stdout.on('data', (chunk) => {
            text += chunk;
            if (text.includes('#2 @')) {
              clearTimeout(timer);
              resolve(text);
            }
          });
        });
        firstSeen = first.startsWith('#1 @0 msg=1 sync=7 len=4\n');
        stdin.end(Buffer.concat([big.subarray(100), marker]));
      },
    });
    expect(firstSeen).toBe(true);
    expect(run.code, run.stderr).toBe(0);
    expect(run.last).toBe(`4 frames, ${3 * marker.length + big.length} bytes`);
  });

  it('waits for a slow reader instead of holding the output (stdout backpressure)', async () => {
    // 8 MB of 20-byte frames print about 55 MB of text.
    const frames = Buffer.concat(
      Array.from({ length: 4096 }, (_, i) => encodeFrame(3, i, Buffer.alloc(8, i))),
    );
    const file = join(dir, 'many.bin');
    const size = await writeCapture(file, 8 * MiB, frames);
    const eager = await decode([file]);
    const slow = await decode([file], { pauseMs: 1500 });
    for (const run of [eager, slow]) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.last).toBe(`${size / 20} frames, ${size} bytes`);
      expect(run.stdoutBytes).toBeGreaterThan(50 * MiB);
    }
    // Output the reader has not taken waits in the 64 KiB buffer and the pipe, not in memory: a
    // reader that pauses costs no more than one that keeps up.
    expect(
      slow.maxRssMiB - eager.maxRssMiB,
      `RSS ${slow.maxRssMiB} MiB with a paused reader, ${eager.maxRssMiB} MiB with an eager one`,
    ).toBeLessThan(24);
  });
});
