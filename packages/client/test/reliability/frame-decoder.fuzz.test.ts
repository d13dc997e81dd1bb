import {
  DEFAULT_MAX_FRAME_SIZE,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameError,
  HEADER_SIZE,
} from '@iproto/framing';
import { describe, expect, it } from 'vitest';
import { createRng } from '../support/reliability.js';

interface Expected {
  frames: Frame[];
  tooLarge: boolean;
  /** Bytes of an unfinished frame at the end (when not too large). */
  rest: number;
}

/** The obvious decoder, over the whole stream at once: what the real one must agree with. */
function reference(stream: Buffer, max: number): Expected {
  const frames: Frame[] = [];
  let pos = 0;
  while (stream.length - pos >= HEADER_SIZE) {
    const len = stream.readUInt32LE(pos + 4);
    if (len > max) return { frames, tooLarge: true, rest: 0 };
    if (pos + HEADER_SIZE + len > stream.length) break;
    frames.push({
      msg: stream.readUInt32LE(pos),
      sync: stream.readUInt32LE(pos + 8),
      body: stream.subarray(pos + HEADER_SIZE, pos + HEADER_SIZE + len),
    });
    pos += HEADER_SIZE + len;
  }
  return { frames, tooLarge: false, rest: stream.length - pos };
}

/** A random stream: valid frames, then mutated (flipped bytes, huge lengths, truncation, garbage). */
function hostileStream(rng: ReturnType<typeof createRng>, max: number): Buffer {
  const parts: Buffer[] = [];
  const count = rng.int(0, 6);
  for (let i = 0; i < count; i++) {
    const size = rng() < 0.1 ? rng.int(0, Math.min(max, 5000)) : rng.int(0, Math.min(max, 300));
    const body = Buffer.alloc(size, rng.int(0, 255));
    parts.push(encodeFrame(rng.int(0, 0xffffffff), rng.int(0, 0xffffffff), body));
  }
  let stream = Buffer.concat(parts);
  const mutation = rng();
  if (mutation < 0.2 && stream.length > 0) {
    for (let i = rng.int(1, 4); i > 0; i--) stream[rng.int(0, stream.length - 1)] = rng.int(0, 255);
  } else if (mutation < 0.4) {
    const header = Buffer.alloc(HEADER_SIZE);
    header.writeUInt32LE(rng.int(0, 0xffffffff), 0);
    header.writeUInt32LE(rng.pick([0xffffffff, 0x80000000, max + 1, DEFAULT_MAX_FRAME_SIZE + 1]) >>> 0, 4);
    stream = Buffer.concat([stream, header, Buffer.alloc(rng.int(0, 20))]);
  } else if (mutation < 0.6 && stream.length > 0) {
    stream = stream.subarray(0, rng.int(0, stream.length - 1));
  } else if (mutation < 0.8) {
    const garbage = Buffer.alloc(rng.int(1, 40));
    for (let i = 0; i < garbage.length; i++) garbage[i] = rng.int(0, 255);
    stream = Buffer.concat([stream, garbage]);
  }
  return stream;
}

function chunks(rng: ReturnType<typeof createRng>, stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  const style = rng();
  while (pos < stream.length) {
    const size =
      style < 0.2 && stream.length < 2000 ? 1 : style < 0.6 ? rng.int(1, 16) : rng.int(1, stream.length);
    // Each chunk in a buffer of its own, as sockets deliver them (the decoder borrows chunks).
    out.push(Buffer.from(stream.subarray(pos, pos + size)));
    pos += size;
  }
  return out;
}

function same(got: Frame[], want: Frame[]): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(got[i].msg).toBe(want[i].msg);
    expect(got[i].sync).toBe(want[i].sync);
    expect(Buffer.compare(Buffer.from(got[i].body), Buffer.from(want[i].body))).toBe(0);
  }
}

describe('FrameDecoder under hostile streams (seeded fuzz)', () => {
  for (const mode of ['push', 'parse'] as const) {
    it(`${mode}: agrees with a reference decoder, fails only with FrameError, holds at most one frame`, () => {
      const rng = createRng(mode === 'push' ? 0xdec0de : 0xdec0df);
      for (let round = 0; round < 1000; round++) {
        const max = rng.pick([0, 16, 300, 4096, DEFAULT_MAX_FRAME_SIZE]);
        const stream = hostileStream(rng, max);
        const want = reference(stream, max);
        const decoder = new FrameDecoder({ maxFrameSize: max });
        const got: Frame[] = [];
        let failure: unknown;
        for (const chunk of chunks(rng, stream)) {
          try {
            if (mode === 'push') got.push(...decoder.push(chunk));
            else decoder.parse(chunk, (frame) => got.push(frame));
          } catch (error) {
            failure = error;
            if (mode === 'push') got.push(...(error as FrameError).frames);
            break;
          }
          // Never more than one unfinished frame (its header and at most maxFrameSize of body).
          if (decoder.bufferedBytes > HEADER_SIZE + max)
            throw new Error(`round ${round}: holds ${decoder.bufferedBytes} B`);
        }
        same(got, want.frames);
        if (want.tooLarge) {
          expect(failure).toBeInstanceOf(FrameError);
          expect((failure as FrameError).code).toBe('ERR_FRAME_TOO_LARGE');
          // The stream cannot be resynchronised: the decoder stays failed.
          expect(() => decoder.push(Buffer.alloc(HEADER_SIZE))).toThrow(FrameError);
          continue;
        }
        expect(failure).toBeUndefined();
        expect(decoder.bufferedBytes).toBe(want.rest);
        if (want.rest > 0) {
          expect(() => decoder.end()).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TRUNCATED' }));
        } else {
          expect(() => decoder.end()).not.toThrow();
        }
      }
    });
  }

  it('refuses a huge announced length before allocating anything for it', () => {
    const decoder = new FrameDecoder();
    expect(decoder.maxFrameSize).toBe(16 * 1024 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    const header = Buffer.alloc(HEADER_SIZE);
    header.writeUInt32LE(0xffffffff, 4);
    // Split inside the header: the length is read from the decoder's own header buffer.
    decoder.push(header.subarray(0, 7));
    expect(() => decoder.push(header.subarray(7))).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE', len: 0xffffffff }),
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });
});
