import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FrameError, iterateCapture, parseCapture, readCapture } from '../src/index.js';
import { hex, runPerl } from './support/test-support.js';

// Built by Perl's pack('L3', ...) (MR::IProto's own header layout), independently of our encoder.
const CAPTURE = hex(
  runPerl(
    'print unpack("H*", pack("L3", 17, 3, 1) . "abc" . pack("L3", 65280, 0, 2) . pack("L3", 13, 5, 3) . "hello")',
    '',
  ),
);

const dir = mkdtempSync(join(tmpdir(), 'iproto-framing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function plain(frames: { msg: number; sync: number; body: Uint8Array; offset: number }[]) {
  return frames.map((f) => [f.offset, f.msg, f.sync, Buffer.from(f.body).toString()]);
}

describe('parseCapture', () => {
  it('lists the frames with their offsets; bodies are views of the capture', () => {
    const { frames, rest, restOffset } = parseCapture(CAPTURE);
    expect(plain(frames)).toEqual([
      [0, 17, 1, 'abc'],
      [15, 65280, 2, ''],
      [27, 13, 3, 'hello'],
    ]);
    expect(rest).toBe(0);
    expect(restOffset).toBe(CAPTURE.length);
    expect(frames[0].body.buffer).toBe(CAPTURE.buffer);
  });

  it('reports trailing bytes of an unfinished frame as rest, at every cut', () => {
    const ends = [0, 15, 27, 44];
    for (let cut = 0; cut <= CAPTURE.length; cut++) {
      const { frames, rest, restOffset } = parseCapture(CAPTURE.subarray(0, cut));
      const complete = ends.filter((e) => e !== 0 && e <= cut).length;
      expect(frames).toHaveLength(complete);
      expect(restOffset).toBe(ends[complete]);
      expect(rest).toBe(cut - ends[complete]);
    }
  });

  it('throws ERR_FRAME_TRUNCATED with strict: true', () => {
    expect(() => parseCapture(CAPTURE.subarray(0, 40), { strict: true })).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_TRUNCATED', offset: 27, msg: 13, sync: 3, len: 5 }),
    );
    expect(() => parseCapture(CAPTURE.subarray(0, 20), { strict: true })).toThrow(
      /inside a header at offset 15: 5 of 12/,
    );
    expect(parseCapture(CAPTURE, { strict: true }).frames).toHaveLength(3);
  });

  it('refuses a maxFrameSize that is not a non-negative integer or Infinity', () => {
    expect(() => parseCapture(CAPTURE, { maxFrameSize: -1 })).toThrow(
      /^iproto capture: maxFrameSize must be a non-negative integer or Infinity, got -1$/,
    );
    expect(() => parseCapture(CAPTURE, { maxFrameSize: Number.NaN })).toThrow(RangeError);
    expect(parseCapture(CAPTURE, { maxFrameSize: Number.POSITIVE_INFINITY }).frames.length).toBeGreaterThan(
      0,
    );
  });

  it('throws ERR_FRAME_TOO_LARGE for a header over maxFrameSize', () => {
    let error: unknown;
    try {
      parseCapture(CAPTURE, { maxFrameSize: 4 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FrameError);
    expect(error).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', offset: 27, len: 5, maxFrameSize: 4 });
  });

  it('iterates lazily and returns the rest count', () => {
    const it = iterateCapture(CAPTURE.subarray(0, 30));
    expect(it.next().value).toMatchObject({ msg: 17, offset: 0 });
    expect(it.next().value).toMatchObject({ msg: 65280, offset: 15 });
    expect(it.next()).toEqual({ done: true, value: 3 });
  });

  it('reads a capture file', async () => {
    const file = join(dir, 'capture.bin');
    writeFileSync(file, CAPTURE.subarray(0, 41));
    const { frames, rest } = await readCapture(file);
    expect(plain(frames)).toEqual([
      [0, 17, 1, 'abc'],
      [15, 65280, 2, ''],
    ]);
    expect(rest).toBe(14);
  });
});
