import { describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_LARGE_BODY_THRESHOLD,
  encodeFrame,
  FrameDecoder,
  FrameError,
  FrameWriter,
} from '../src/index.js';
import { hex, prng } from './support/test-support.js';

const frame = (msg: number, sync: number, body: Uint8Array): Buffer => encodeFrame(msg, sync, body);

describe('FrameWriter', () => {
  it('gathers frames back to back into one chunk', () => {
    const writer = new FrameWriter();
    writer.add(17, 42, Buffer.from('abc'));
    writer.add(0xff00, 0xffffffff);
    writer.add(1, 2, new Uint8Array(0));
    expect(writer.pendingBytes).toBe(15 + 12 + 12);
    const chunks = writer.take();
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toEqual(
      hex('11000000 03000000 2a000000 616263' + '00ff0000 00000000 ffffffff' + '01000000 00000000 02000000'),
    );
    expect(writer.pendingBytes).toBe(0);
    expect(writer.take()).toEqual([]);
  });

  it('never overwrites bytes handed out by take() while reusing its buffer', () => {
    const writer = new FrameWriter({ initialSize: 64 });
    writer.add(1, 1, Buffer.from('first'));
    const [first] = writer.take();
    const snapshot = Buffer.from(first);
    writer.add(2, 2, Buffer.from('second'));
    const [second] = writer.take();
    expect(first).toEqual(snapshot);
    // Reused: the second batch sits right after the first one in the same memory.
    expect(second.buffer).toBe(first.buffer);
    expect(second.byteOffset).toBe(first.byteOffset + first.length);
    for (let i = 0; i < 20; i++) writer.add(3, i, Buffer.from('x'.repeat(i)));
    writer.take();
    expect(first).toEqual(snapshot);
    expect(second).toEqual(Buffer.concat([hex('02000000 06000000 02000000'), Buffer.from('second')]));
  });

  it('grows geometrically when one batch outgrows the buffer and keeps the frames in order', () => {
    const writer = new FrameWriter({ initialSize: 32 });
    const expected: Buffer[] = [];
    for (let i = 0; i < 100; i++) {
      const body = Buffer.alloc(i % 17, i);
      writer.add(i, 1000 + i, body);
      const header = Buffer.alloc(12);
      header.writeUInt32LE(i, 0);
      header.writeUInt32LE(body.length, 4);
      header.writeUInt32LE(1000 + i, 8);
      expected.push(header, body);
    }
    const chunks = writer.take();
    expect(Buffer.concat(chunks)).toEqual(Buffer.concat(expected));
    // 32, 64, 128, ... bytes: far fewer chunks than frames.
    expect(chunks.length).toBeLessThanOrEqual(8);
  });

  it('keeps its buffer size under steady small batches and doubles it for a batch that outgrows it', () => {
    // 8 KiB and up are not taken from Buffer's shared pool, so chunk.buffer is the writer's own buffer.
    const writer = new FrameWriter({ initialSize: 8192 });
    const body = Buffer.alloc(88);
    const sizes = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      writer.add(1, i, body);
      for (const chunk of writer.take()) sizes.add(chunk.buffer.byteLength);
    }
    expect([...sizes]).toEqual([8192]);
    // 20,000 bytes in one batch: the batch outgrows 8 KiB, then 16 KiB; each time it moves to a
    // buffer twice the size, so it stays one chunk.
    for (let i = 0; i < 200; i++) writer.add(2, i, body);
    const grown = writer.take();
    expect(Buffer.concat(grown)).toEqual(
      Buffer.concat(Array.from({ length: 200 }, (_, i) => frame(2, i, body))),
    );
    expect(grown.map((c) => c.buffer.byteLength)).toEqual([32768]);
  });

  it('keeps a batch that reaches the end of a used buffer in one chunk, without touching bytes handed out', () => {
    const writer = new FrameWriter({ initialSize: 100 });
    const body = Buffer.alloc(8, 7);
    writer.add(1, 1, body);
    writer.add(1, 2, body);
    writer.add(1, 3, body);
    writer.add(1, 4, body);
    const first = writer.take();
    const firstCopy = Buffer.from(first[0]);
    // 80 of 100 bytes used: the second batch does not fit behind the first and moves as a whole.
    writer.add(2, 5, body);
    writer.add(2, 6, body);
    const second = writer.take();
    expect(second).toHaveLength(1);
    expect(second[0]).toEqual(Buffer.concat([frame(2, 5, body), frame(2, 6, body)]));
    expect(first[0]).toEqual(firstCopy);
  });

  it('sends a large body as its own chunk, without copying it', () => {
    const writer = new FrameWriter();
    const big = Buffer.alloc(DEFAULT_LARGE_BODY_THRESHOLD, 7);
    const bigArray = new Uint8Array(100_000).fill(9);
    writer.add(1, 1, Buffer.from('a'));
    writer.add(2, 2, big);
    writer.add(3, 3);
    writer.add(4, 4, bigArray);
    const chunks = writer.take();
    expect(chunks).toHaveLength(4);
    expect(chunks[0]).toEqual(hex('01000000 01000000 01000000 61' + '02000000 00000100 02000000'));
    expect(chunks[1]).toBe(big);
    expect(chunks[2]).toEqual(hex('03000000 00000000 03000000' + '04000000 a0860100 04000000'));
    expect(chunks[3].buffer).toBe(bigArray.buffer);
    expect(chunks[3].length).toBe(100_000);
    expect(writer.pendingBytes).toBe(0);
  });

  it('copies large bodies too when largeBodyThreshold is Infinity', () => {
    const writer = new FrameWriter({ largeBodyThreshold: Number.POSITIVE_INFINITY });
    writer.add(2, 2, Buffer.alloc(100_000, 1));
    const chunks = writer.take();
    expect(chunks).toHaveLength(1);
    expect(chunks[0].length).toBe(100_012);
  });

  it('counts pending bytes across copied and large chunks', () => {
    const writer = new FrameWriter({ largeBodyThreshold: 10 });
    writer.add(1, 1, Buffer.alloc(5));
    writer.add(1, 2, Buffer.alloc(10));
    writer.add(1, 3);
    expect(writer.pendingBytes).toBe(17 + 22 + 12);
    expect(Buffer.concat(writer.take()).length).toBe(17 + 22 + 12);
  });

  it('round-trips random batches through FrameDecoder (seeded)', () => {
    const rand = prng(11);
    const writer = new FrameWriter({ initialSize: 100, largeBodyThreshold: 3000 });
    const decoder = new FrameDecoder();
    for (let batch = 0; batch < 50; batch++) {
      const sent: [number, number, string][] = [];
      const n = 1 + Math.floor(rand() * 40);
      for (let i = 0; i < n; i++) {
        const msg = Math.floor(rand() * 2 ** 32);
        const sync = Math.floor(rand() * 2 ** 32);
        const len = rand() < 0.1 ? 3000 + Math.floor(rand() * 3000) : Math.floor(rand() * 60);
        const body = Buffer.alloc(len);
        for (let k = 0; k < len; k++) body[k] = Math.floor(rand() * 256);
        writer.add(msg, sync, body);
        sent.push([msg, sync, body.toString('hex')]);
      }
      const received: [number, number, string][] = [];
      for (const chunk of writer.take()) {
        for (const f of decoder.push(chunk))
          received.push([f.msg, f.sync, Buffer.from(f.body).toString('hex')]);
      }
      expect(received).toEqual(sent);
    }
  });

  it('writes string bodies as UTF-8, copied when small and as their own chunk when large', () => {
    const writer = new FrameWriter({ initialSize: 16, largeBodyThreshold: 8 });
    writer.add(1, 2, 'é!');
    writer.add(3, 4, '');
    writer.add(5, 6, 'ü'.repeat(4));
    const chunks = writer.take();
    // The small frames outgrow the 16-byte buffer and move on together: one chunk, then the large body.
    expect(chunks).toHaveLength(2);
    expect(Buffer.concat(chunks)).toEqual(
      hex(
        '01000000 03000000 02000000 c3a921' +
          '03000000 00000000 04000000' +
          '05000000 08000000 06000000' +
          'c3bc'.repeat(4),
      ),
    );
    expect(chunks[1]).toEqual(Buffer.from('üüüü'));
  });

  it('rejects out-of-range fields and bad options', () => {
    const writer = new FrameWriter();
    expect(() => writer.add(-1, 0)).toThrow(RangeError);
    expect(() => writer.add(0, 2 ** 32)).toThrow(/sync/);
    expect(writer.pendingBytes).toBe(0);
    expect(() => new FrameWriter({ initialSize: 4 })).toThrow(RangeError);
    expect(() => new FrameWriter({ largeBodyThreshold: -1 })).toThrow(RangeError);
  });

  // Regression: a body of 2^32 bytes or more wrapped the header's len, so the rest of the body was
  // read by the client as frames of its own. A fake length stands in for a 4 GiB buffer.
  it('refuses a body longer than a header can announce with ERR_FRAME_TOO_LARGE, adding nothing', () => {
    const writer = new FrameWriter();
    writer.add(1, 1, Buffer.from('ok'));
    const huge = Object.defineProperty(new Uint8Array(16), 'length', { value: 2 ** 32 });
    let thrown: unknown;
    try {
      writer.add(5, 77, huge);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FrameError);
    expect(thrown).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', msg: 5, sync: 77, len: 2 ** 32 });
    expect(writer.pendingBytes).toBe(14);
    // The string path: no string reaches 4 GiB of UTF-8 in V8, so its length is faked too.
    const spy = vi.spyOn(Buffer, 'byteLength').mockReturnValueOnce(2 ** 32);
    try {
      expect(() => writer.add(5, 78, 'x')).toThrow(
        expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE', len: 2 ** 32 }),
      );
    } finally {
      spy.mockRestore();
    }
    expect(writer.pendingBytes).toBe(14);
    // At the limit itself, the header announces it whole (a Buffer faking its length goes out as
    // its own chunk, uncopied).
    const largest = Object.defineProperty(Buffer.alloc(16), 'length', { value: 2 ** 32 - 1 });
    writer.add(6, 79, largest);
    const header = Buffer.concat(writer.take().slice(0, 1)).subarray(14, 26);
    expect([header.readUInt32LE(0), header.readUInt32LE(4), header.readUInt32LE(8)]).toEqual([
      6,
      2 ** 32 - 1,
      79,
    ]);
  });
});
