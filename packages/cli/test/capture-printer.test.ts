import { once } from 'node:events';
import { Writable } from 'node:stream';
import { dumpPacket, encodeFrame, type Frame } from '@iproto/framing';
import { describe, expect, it } from 'vitest';
import { CapturePrinter, DUMP_PIECE, decodeFrame } from '../src/capture-printer.js';
import { OutputBuffer } from '../src/output-buffer.js';

const frameOf = (msg: number, sync: number, size: number): Frame => {
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = (i * 131 + msg) & 0xff;
  return { msg, sync, body };
};

// Around the piece size and every length modulo 4 (the dump's integers are whole words only).
const SIZES = [
  0,
  1,
  3,
  4,
  5,
  100,
  DUMP_PIECE - 1,
  DUMP_PIECE,
  DUMP_PIECE + 1,
  DUMP_PIECE + 2,
  3 * DUMP_PIECE + 3,
];

describe('CapturePrinter', () => {
  it.each([true, false])('dumps every frame as dumpPacket of its packet (ints %s)', (ints) => {
    for (const size of SIZES) {
      const frame = frameOf(0xff00 + size, 0xfffffff0 + (size % 16), size);
      // The whole packet: the capture printer dumps every byte, where dumpPacket stops at its limit.
      const want = dumpPacket(encodeFrame(frame.msg, frame.sync, frame.body), {
        ints,
        limit: Number.POSITIVE_INFINITY,
      });
      expect(decodeFrame(0, frame, { ints }).dump, `size ${size}`).toBe(want);
    }
  });

  it.each([
    ['text', false, undefined],
    ['text, unpack', false, 'L a3'],
    ['JSON', true, undefined],
    ['JSON, unpack', true, 'C2'],
    ['JSON, an unpack error', true, '@40000 C'],
  ])('prints a frame in pieces exactly as in one piece (%s)', (_, json, unpack) => {
    for (const size of SIZES) {
      const frame = frameOf(7, size, size);
      const whole = new CapturePrinter({ json, unpack });
      const pieces = new CapturePrinter({ json, unpack });
      // As the second frame, so the JSON separator is there too.
      whole.frameText(0, frame);
      pieces.frameText(0, frame);
      const text = whole.frameText(99, frame);
      const joined = [...pieces.framePieces(99, frame)].join('');
      expect(joined, `size ${size}`).toBe(text);
      expect(pieces.failed).toBe(whole.failed);
      if (json) {
        const f = decodeFrame(99, frame, { unpack });
        expect(JSON.parse(`[0${text}]`)[1]).toEqual(JSON.parse(JSON.stringify(f)));
      }
    }
  });

  it('cuts a large dump into pieces of about DUMP_PIECE body bytes', () => {
    const frame = frameOf(1, 2, 1024 * 1024 + 3);
    const printer = new CapturePrinter({ json: false });
    const longest = Math.max(...[...printer.framePieces(0, frame)].map((p) => p.length));
    // 3 characters per hex byte; at most 11 per 4-byte word
    expect(longest).toBe(3 * DUMP_PIECE);
  });
});

describe('OutputBuffer', () => {
  it('waits for drain when the stream is full, and says so when the stream closes', async () => {
    const written: string[] = [];
    let release: (() => void) | undefined;
    const stream = new Writable({
      highWaterMark: 16,
      decodeStrings: false,
      write(chunk, _encoding, done) {
        written.push(String(chunk));
        release = done;
      },
    });
    const out = new OutputBuffer(stream);
    expect(out.add('x'.repeat(100))).toBe(false);
    let flushed: boolean | undefined;
    const flushing = out.flush().then((ok) => {
      flushed = ok;
    });
    await new Promise((r) => setImmediate(r));
    expect(written).toEqual(['x'.repeat(100)]);
    expect(flushed).toBeUndefined(); // the stream is over its high-water mark: wait
    release?.();
    await flushing;
    expect(flushed).toBe(true);

    out.add('y'.repeat(100));
    const second = out.flush();
    stream.destroy();
    await once(stream, 'close');
    expect(await second).toBe(false);
    expect(out.closed).toBe(true);
    expect(await out.flush()).toBe(false);
  });

  it('asks for a flush once 64 KiB are gathered', () => {
    const out = new OutputBuffer({ write: () => true });
    expect(out.add('a'.repeat(64 * 1024 - 1))).toBe(false);
    expect(out.add('a')).toBe(true);
  });
});
