import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Frame, FrameDecoder, FrameError, frameBody, HEADER_SIZE, parseCapture } from '../src/index.js';
import { hex, prng } from './support/test-support.js';

/** Hand-built streams (header words written out in little-endian hex) and the frames they hold. */
const FIXTURES: { name: string; bytes: Buffer; frames: [number, number, string][] }[] = [
  {
    name: 'one frame with a body',
    bytes: hex('11000000 03000000 2a000000 616263'),
    frames: [[17, 42, '616263']],
  },
  {
    name: 'one header-only frame',
    bytes: hex('00ff0000 00000000 ffffffff'),
    frames: [[0xff00, 0xffffffff, '']],
  },
  {
    name: 'header-only frames around bodies',
    bytes: hex(
      '01000000 00000000 01000000' +
        '0d000000 05000000 02000000 0102030405' +
        '0d000000 00000000 03000000' +
        'ffffffff 0d000000 04000000 000102030405060708090a0b0c' +
        '00000000 01000000 00000000 ff',
    ),
    frames: [
      [1, 1, ''],
      [13, 2, '0102030405'],
      [13, 3, ''],
      [0xffffffff, 4, '000102030405060708090a0b0c'],
      [0, 0, 'ff'],
    ],
  },
];

function plain(frames: Frame[]): [number, number, string][] {
  return frames.map((f) => [
    f.msg,
    f.sync,
    Buffer.from(f.body.buffer, f.body.byteOffset, f.body.length).toString('hex'),
  ]);
}

type Mode = 'push' | 'parse' | 'scan';

function decodeChunks(
  chunks: Uint8Array[],
  decoder = new FrameDecoder(),
  mode: Mode = 'push',
  whole = true,
): Frame[] {
  const frames: Frame[] = [];
  const collect = (frame: Frame) => {
    frames.push(frame);
  };
  for (const chunk of chunks) {
    if (mode === 'push') for (const frame of decoder.push(chunk)) frames.push(frame);
    else if (mode === 'parse') decoder.parse(chunk, collect);
    else {
      decoder.scan(chunk, (msg, sync, bytes, start, end) => {
        frames.push({ msg, sync, body: frameBody(bytes, start, end) });
      });
    }
  }
  if (whole) expect(decoder.bufferedBytes).toBe(0);
  return frames;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(['push', 'parse', 'scan'] as const)('FrameDecoder.%s: chunk boundaries', (mode) => {
  const decode = (chunks: Uint8Array[]) => plain(decodeChunks(chunks, new FrameDecoder(), mode));

  for (const fixture of FIXTURES) {
    it(`${fixture.name}: whole, at every single split offset, every pair of splits, and byte by byte`, () => {
      const { bytes, frames } = fixture;
      expect(decode([bytes])).toEqual(frames);
      for (let i = 0; i <= bytes.length; i++) {
        expect(decode([bytes.subarray(0, i), bytes.subarray(i)])).toEqual(frames);
        for (let j = i; j <= bytes.length; j++) {
          expect(decode([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)])).toEqual(frames);
        }
      }
      const single = Array.from(bytes, (b) => Uint8Array.of(b));
      expect(decode(single)).toEqual(frames);
    });
  }

  it('reports the bytes it holds while a frame is incomplete', () => {
    const decoder = new FrameDecoder();
    const bytes = FIXTURES[0].bytes;
    for (let i = 0; i < bytes.length - 1; i++) {
      expect(decoder.push(bytes.subarray(i, i + 1))).toEqual([]);
      expect(decoder.bufferedBytes).toBe(i + 1);
    }
    expect(plain(decoder.push(bytes.subarray(bytes.length - 1)))).toEqual([[17, 42, '616263']]);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('decodes long random streams identically under random chunkings (seeded)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rand = prng(seed);
      const expected: [number, number, string][] = [];
      const parts: Buffer[] = [];
      for (let n = 0; n < 400; n++) {
        const msg = Math.floor(rand() * 2 ** 32);
        const sync = Math.floor(rand() * 2 ** 32);
        const r = rand();
        const len = r < 0.2 ? 0 : r < 0.9 ? Math.floor(rand() * 40) : Math.floor(rand() * 5000);
        const body = Buffer.alloc(len);
        for (let k = 0; k < len; k++) body[k] = Math.floor(rand() * 256);
        // The header is built with writeUInt32LE, independently of the code under test.
        const header = Buffer.alloc(HEADER_SIZE);
        header.writeUInt32LE(msg, 0);
        header.writeUInt32LE(len, 4);
        header.writeUInt32LE(sync, 8);
        parts.push(header, body);
        expected.push([msg, sync, body.toString('hex')]);
      }
      const stream = Buffer.concat(parts);
      for (let round = 0; round < 10; round++) {
        const maxChunk = [1, 7, 13, 100, 4096, 70000][round % 6];
        const chunks: Uint8Array[] = [];
        for (let pos = 0; pos < stream.length; ) {
          const size = Math.min(stream.length - pos, 1 + Math.floor(rand() * maxChunk));
          // Copy each chunk, as a socket would hand over fresh memory.
          chunks.push(Uint8Array.from(stream.subarray(pos, pos + size)));
          pos += size;
        }
        expect(decode(chunks), `seed ${seed} round ${round}`).toEqual(expected);
      }
    }
  });

  it('accepts empty chunks anywhere', () => {
    const bytes = FIXTURES[2].bytes;
    const empty = new Uint8Array(0);
    const chunks = [
      empty,
      bytes.subarray(0, 5),
      empty,
      bytes.subarray(5, 30),
      empty,
      bytes.subarray(30),
      empty,
    ];
    expect(decode(chunks)).toEqual(FIXTURES[2].frames);
  });
});

describe('FrameDecoder: views and copies', () => {
  it('scan hands over ranges of the chunk itself, and of one copy for a frame split across chunks', () => {
    const bytes = hex('01000000 03000000 07000000 616263 02000000 02000000 08000000 6465');
    const decoder = new FrameDecoder();
    const seen: [number, number, Uint8Array, number, number][] = [];
    decoder.scan(bytes.subarray(0, 28), (...args) => seen.push(args));
    expect(seen).toHaveLength(1);
    const [msg, sync, where, start, end] = seen[0];
    expect([msg, sync, start, end]).toEqual([1, 7, 12, 15]);
    expect(where.buffer).toBe(bytes.buffer);
    expect(where.byteOffset).toBe(bytes.byteOffset);
    decoder.scan(bytes.subarray(28), (...args) => seen.push(args));
    expect(seen).toHaveLength(2);
    const [msg2, sync2, copy, start2, end2] = seen[1];
    expect([msg2, sync2, start2, end2]).toEqual([2, 8, 0, 2]);
    expect(Buffer.from(copy).toString()).toBe('de');
    // A copy: the chunks may be reused once handed over.
    bytes.fill(0);
    expect(Buffer.from(copy).toString()).toBe('de');
  });

  it('gives Buffer bodies for a Buffer chunk and plain Uint8Array bodies for a Uint8Array chunk, both ways in', () => {
    const bytes = hex('01000000 03000000 07000000 616263 02000000 00000000 08000000');
    const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    for (const way of ['push', 'parse'] as const) {
      const run = (chunk: Uint8Array): Frame[] => {
        const decoder = new FrameDecoder();
        if (way === 'push') return decoder.push(chunk);
        const frames: Frame[] = [];
        decoder.parse(chunk, (frame) => frames.push(frame));
        return frames;
      };
      const fromBuffer = run(bytes);
      expect(fromBuffer.map((f) => Buffer.isBuffer(f.body))).toEqual([true, true]);
      expect(Object.getPrototypeOf(fromBuffer[0].body)).toBe(Buffer.prototype);
      expect(fromBuffer[0].body.toString()).toBe('abc');
      expect(fromBuffer[0].body.subarray(1)).toEqual(Buffer.from('bc'));
      expect(fromBuffer[1].body.length).toBe(0);
      const fromPlain = run(plain);
      expect(fromPlain.map((f) => Buffer.isBuffer(f.body))).toEqual([false, false]);
      expect(fromPlain[0].body.buffer).toBe(bytes.buffer);
      expect([...fromPlain[0].body]).toEqual([0x61, 0x62, 0x63]);
    }
  });

  it('returns bodies as views of the chunk when a frame lies within it', () => {
    const chunk = hex('01000000 03000000 07000000 616263 02000000 02000000 08000000 6465');
    const [a, b] = new FrameDecoder().push(chunk);
    expect(a.body.buffer).toBe(chunk.buffer);
    expect(a.body.byteOffset).toBe(chunk.byteOffset + 12);
    expect(b.body.byteOffset).toBe(chunk.byteOffset + 27);
    chunk[12] = 0x7a;
    expect(Buffer.from(a.body).toString()).toBe('zbc');
  });

  it('views the body in the later chunk when only the header was split', () => {
    const bytes = hex('01000000 03000000 07000000 616263');
    const decoder = new FrameDecoder();
    expect(decoder.push(bytes.subarray(0, 5))).toEqual([]);
    const rest = Buffer.from(bytes.subarray(5));
    const [frame] = decoder.push(rest);
    expect(frame.body.buffer).toBe(rest.buffer);
    expect(frame.body.byteOffset).toBe(rest.byteOffset + 7);
  });

  it('copies a frame whose body straddles chunks, exactly once, into a buffer of its size', () => {
    const bytes = hex('01000000 06000000 07000000 616263646566');
    const first = Buffer.from(bytes.subarray(0, 14));
    const second = Buffer.from(bytes.subarray(14));
    const decoder = new FrameDecoder();
    expect(decoder.push(first)).toEqual([]);
    first.fill(0); // the decoder must have copied what it kept
    const [frame] = decoder.push(second);
    expect(Buffer.from(frame.body).toString()).toBe('abcdef');
    expect(frame.body.length).toBe(6);
    second.fill(0);
    expect(Buffer.from(frame.body).toString()).toBe('abcdef');
  });

  it('accepts plain Uint8Array chunks', () => {
    const chunk = new Uint8Array(hex('05000000 01000000 06000000 ff'));
    expect(plain(new FrameDecoder().push(chunk))).toEqual([[5, 6, 'ff']]);
  });
});

describe('FrameDecoder: maxFrameSize', () => {
  it('throws ERR_FRAME_TOO_LARGE before allocating, with the header fields and the earlier frames', () => {
    const good = hex('01000000 01000000 09000000 aa');
    const huge = hex('02000000 ffffffff 0a000000');
    const chunk = Buffer.concat([good, huge]);
    const decoder = new FrameDecoder();
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    const allocSlow = vi.spyOn(Buffer, 'allocUnsafeSlow');
    let error: unknown;
    try {
      decoder.push(chunk);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FrameError);
    const fe = error as FrameError;
    expect(fe.code).toBe('ERR_FRAME_TOO_LARGE');
    expect(fe.name).toBe('FrameError');
    expect(fe.msg).toBe(2);
    expect(fe.sync).toBe(10);
    expect(fe.len).toBe(0xffffffff);
    expect(fe.maxFrameSize).toBe(16 * 1024 * 1024);
    expect(fe.offset).toBe(13);
    expect(fe.message).toMatch(
      /offset 13.*msg 2 sync 10 announces 4294967295 body bytes, maxFrameSize is 16777216/,
    );
    expect(plain(fe.frames)).toEqual([[1, 9, 'aa']]);
    expect(alloc).not.toHaveBeenCalled();
    expect(allocSlow).not.toHaveBeenCalled();
    expect((fe as unknown as Record<symbol, unknown>)[Symbol.for('iproto.error')]).toBe(true);
  });

  it('checks a header split across chunks before allocating its body', () => {
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    const decoder = new FrameDecoder({ maxFrameSize: 100 });
    const header = hex('03000000 65000000 04000000');
    for (let i = 0; i < 11; i++) expect(decoder.push(header.subarray(i, i + 1))).toEqual([]);
    expect(() => decoder.push(header.subarray(11))).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE', len: 101, maxFrameSize: 100, offset: 0 }),
    );
    expect(alloc).not.toHaveBeenCalled();
  });

  it('accepts a body of exactly maxFrameSize, also when it straddles chunks', () => {
    const bytes = hex('03000000 04000000 04000000 01020304');
    expect(plain(decodeChunks([bytes], new FrameDecoder({ maxFrameSize: 4 })))).toEqual([[3, 4, '01020304']]);
    const split = [bytes.subarray(0, 13), bytes.subarray(13)];
    expect(plain(decodeChunks(split, new FrameDecoder({ maxFrameSize: 4 })))).toEqual([[3, 4, '01020304']]);
    expect(() => new FrameDecoder({ maxFrameSize: 3 }).push(bytes)).toThrow(FrameError);
    expect(() => new FrameDecoder({ maxFrameSize: 3 }).push(bytes.subarray(0, 12))).toThrow(FrameError);
  });

  it('stays failed after an error', () => {
    const decoder = new FrameDecoder({ maxFrameSize: 0 });
    let first: unknown;
    try {
      decoder.push(hex('01000000 01000000 01000000 00'));
    } catch (e) {
      first = e;
    }
    expect(decoder.error).toBe(first);
    expect(() => decoder.push(hex('01000000 00000000 01000000'))).toThrow(first as Error);
    expect(() => decoder.end()).toThrow(first as Error);
  });

  it('validates the option', () => {
    expect(() => new FrameDecoder({ maxFrameSize: -1 })).toThrow(RangeError);
    expect(() => new FrameDecoder({ maxFrameSize: 1.5 })).toThrow(RangeError);
    expect(new FrameDecoder({ maxFrameSize: Number.POSITIVE_INFINITY }).maxFrameSize).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(new FrameDecoder().maxFrameSize).toBe(16 * 1024 * 1024);
  });
});

describe('FrameDecoder: memory follows the bytes received', () => {
  const MiB16 = 16 * 1024 * 1024;
  const header16M = (sync: number): Buffer => {
    const h = Buffer.alloc(12);
    h.writeUInt32LE(1, 0);
    h.writeUInt32LE(MiB16, 4);
    h.writeUInt32LE(sync, 8);
    return h;
  };

  it('a 12-byte header announcing 16 MiB reserves 64 KiB, not 16 MiB (100 such streams do not reserve 1.6 GB)', () => {
    const streams = Array.from({ length: 100 }, (_, i) => Buffer.concat([header16M(i), Buffer.from([7])]));
    for (const mode of ['push', 'parse', 'scan'] as Mode[]) {
      const alloc = vi.spyOn(Buffer, 'allocUnsafe');
      const decoders: FrameDecoder[] = [];
      for (let i = 0; i < 100; i++) {
        const decoder = new FrameDecoder();
        // Half get the header whole, half in two pieces (the other allocation path), plus a body byte.
        const bytes = streams[i];
        const chunks = i % 2 === 0 ? [bytes] : [bytes.subarray(0, 5), bytes.subarray(5)];
        expect(decodeChunks(chunks, decoder, mode, false)).toEqual([]);
        expect(decoder.bufferedBytes).toBe(13);
        decoders.push(decoder);
      }
      const sizes = alloc.mock.calls.map(([size]) => size as number);
      alloc.mockRestore();
      expect(sizes).toHaveLength(100);
      expect(Math.max(...sizes), mode).toBe(64 * 1024);
    }
  });

  it('the body buffer doubles as bytes arrive, ends at the exact size, and the frame is whole', () => {
    const rng = prng(0x16);
    const body = Buffer.alloc(MiB16 + 3);
    for (let i = 0; i < body.length; i += 4096) body[i] = rng() * 256;
    const stream = Buffer.concat([header16M(9), body, hex('02000000 00000000 0a000000')]);
    stream.writeUInt32LE(body.length, 4);
    for (const size of [64 * 1024, 1000]) {
      const alloc = vi.spyOn(Buffer, 'allocUnsafe');
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length; at += size) chunks.push(stream.subarray(at, at + size));
      const frames = decodeChunks(chunks, new FrameDecoder({ maxFrameSize: body.length }));
      const sizes = alloc.mock.calls.map(([n]) => n as number);
      alloc.mockRestore();
      expect(frames.map((f) => [f.msg, f.sync, f.body.length])).toEqual([
        [1, 9, body.length],
        [2, 10, 0],
      ]);
      expect(Buffer.compare(frames[0].body, body)).toBe(0);
      // 64 KiB, 128 KiB, ... up to 4 MiB, then the exact size: under twice the body in all.
      expect(sizes[0]).toBe(64 * 1024);
      expect(sizes[sizes.length - 1]).toBe(body.length);
      expect(sizes[sizes.length - 2]).toBeLessThan(body.length / 2);
      expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThan(2 * body.length);
      for (let i = 1; i < sizes.length - 1; i++) expect(sizes[i]).toBe(2 * sizes[i - 1]);
    }
  });

  it('frames over 64 KiB cut at random places come out equal in every mode', () => {
    const rng = prng(0x64);
    for (let trial = 0; trial < 20; trial++) {
      const parts: Buffer[] = [];
      const expected: [number, number, string][] = [];
      for (let i = 0; i < 4; i++) {
        const body = Buffer.alloc(Math.floor(rng() * 300_000));
        for (let j = 0; j < body.length; j += 97) body[j] = (j + i) & 0xff;
        const h = Buffer.alloc(12);
        h.writeUInt32LE(i, 0);
        h.writeUInt32LE(body.length, 4);
        h.writeUInt32LE(trial, 8);
        parts.push(h, body);
        expected.push([i, trial, body.toString('hex')]);
      }
      const stream = Buffer.concat(parts);
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length; ) {
        const size = 1 + Math.floor(rng() * (rng() < 0.3 ? 20 : 150_000));
        chunks.push(stream.subarray(at, at + size));
        at += size;
      }
      for (const mode of ['push', 'parse', 'scan'] as Mode[]) {
        expect(plain(decodeChunks(chunks, new FrameDecoder(), mode)), `trial ${trial} ${mode}`).toEqual(
          expected,
        );
      }
    }
  });
});

describe('FrameDecoder: end()', () => {
  it('does nothing on a frame boundary', () => {
    const decoder = new FrameDecoder();
    decoder.push(FIXTURES[0].bytes);
    expect(() => decoder.end()).not.toThrow();
  });

  it('throws ERR_FRAME_TRUNCATED inside a header or a body, with the frame offset', () => {
    const bytes = Buffer.concat([FIXTURES[0].bytes, hex('02000000 05000000 03000000 6162')]);
    const inBody = new FrameDecoder();
    inBody.push(bytes);
    expect(inBody.bufferedBytes).toBe(14);
    expect(() => inBody.end()).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_TRUNCATED', msg: 2, sync: 3, len: 5, offset: 15 }),
    );
    const inHeader = new FrameDecoder();
    inHeader.push(bytes.subarray(0, 20));
    expect(() => inHeader.end()).toThrow(
      expect.objectContaining({
        code: 'ERR_FRAME_TRUNCATED',
        offset: 15,
        message: expect.stringMatching(/5 of 12/),
      }),
    );
  });
});

describe('FrameDecoder.parse', () => {
  it('hands frames to the callback in order, bodies as views', () => {
    const chunk = hex('01000000 03000000 07000000 616263 02000000 00000000 08000000 0300');
    const seen: Frame[] = [];
    const decoder = new FrameDecoder();
    decoder.parse(chunk, (f) => seen.push(f));
    expect(plain(seen)).toEqual([
      [1, 7, '616263'],
      [2, 8, ''],
    ]);
    expect(seen[0].body.buffer).toBe(chunk.buffer);
    expect(decoder.bufferedBytes).toBe(2);
  });

  it('delivers the frames before an oversized header, then throws and stays failed', () => {
    const seen: Frame[] = [];
    const decoder = new FrameDecoder({ maxFrameSize: 8 });
    const chunk = hex('01000000 01000000 09000000 aa' + '02000000 09000000 0a000000');
    expect(() => decoder.parse(chunk, (f) => seen.push(f))).toThrow(
      expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE', offset: 13, len: 9, frames: [] }),
    );
    expect(plain(seen)).toEqual([[1, 9, 'aa']]);
    expect(() => decoder.parse(hex('01000000 00000000 01000000'), (f) => seen.push(f))).toThrow(FrameError);
    expect(seen).toHaveLength(1);
  });

  it('lets a callback error through, then refuses to go on with a lost stream position', () => {
    const decoder = new FrameDecoder();
    const boom = new Error('boom');
    expect(() =>
      decoder.parse(hex('01000000 00000000 01000000'), () => {
        throw boom;
      }),
    ).toThrow(boom);
    expect(() => decoder.push(hex('01000000 00000000 01000000'))).toThrow(/onFrame callback threw/);
    expect(decoder.error?.message).toMatch(/position in the stream is lost/);
    expect(() => decoder.parse(hex('01000000 00000000 01000000'), () => {})).toThrow(decoder.error!);
  });

  it('refuses to be called again from inside a callback', () => {
    const decoder = new FrameDecoder();
    let inner: unknown;
    decoder.parse(hex('01000000 00000000 01000000'), () => {
      try {
        decoder.push(new Uint8Array(0));
      } catch (e) {
        inner = e;
      }
    });
    expect((inner as Error).message).toMatch(/called the decoder again/);
  });
});

describe('FrameDecoder against parseCapture (seeded fuzz)', () => {
  it('agrees on frames, leftover bytes and errors for arbitrary bytes in arbitrary chunks', () => {
    const rand = prng(2024);
    let errors = 0;
    let leftovers = 0;
    for (let trial = 0; trial < 300; trial++) {
      // Mostly small announced lengths so that frames complete, sometimes a length over the limit.
      const parts: number[] = [];
      const frames = 1 + Math.floor(rand() * 8);
      for (let f = 0; f < frames; f++) {
        const len = rand() < 0.1 ? 30 + Math.floor(rand() * 100) : Math.floor(rand() * 20);
        const header = [0, 0, 0, 0, len & 0xff, 0, 0, 0, 0, 0, 0, 0].map((b, i) =>
          i >= 4 && i < 8 ? b : Math.floor(rand() * 256),
        );
        parts.push(...header);
        for (let k = 0; k < len; k++) parts.push(Math.floor(rand() * 256));
      }
      const bytes = Buffer.from(parts.slice(0, Math.floor(rand() * (parts.length + 1))));
      const options = { maxFrameSize: 40 };

      let expected: { frames: [number, number, string][]; rest: number; error?: string };
      try {
        const capture = parseCapture(bytes, options);
        expected = { frames: plain(capture.frames), rest: capture.rest };
      } catch (e) {
        const error = e as FrameError;
        const before = parseCapture(bytes.subarray(0, error.offset), options);
        expected = { frames: plain(before.frames), rest: 0, error: `${error.code}@${error.offset}` };
      }

      const decoder = new FrameDecoder(options);
      const got: Frame[] = [];
      let error: string | undefined;
      for (let pos = 0; pos < bytes.length && error === undefined; ) {
        const size = 1 + Math.floor(rand() * 25);
        try {
          decoder.parse(bytes.subarray(pos, pos + size), (f) => got.push(f));
        } catch (e) {
          error = `${(e as FrameError).code}@${(e as FrameError).offset}`;
        }
        pos += size;
      }
      expect(plain(got), `trial ${trial}`).toEqual(expected.frames);
      expect(error, `trial ${trial}`).toBe(expected.error);
      if (error === undefined) expect(decoder.bufferedBytes, `trial ${trial}`).toBe(expected.rest);
      if (error !== undefined) errors++;
      else if (expected.rest > 0) leftovers++;
    }
    // The fuzz must exercise both failure paths, not only clean streams.
    expect(errors).toBeGreaterThan(20);
    expect(leftovers).toBeGreaterThan(20);
  });
});

describe('FrameError', () => {
  it('instanceof recognises a FrameError of another loaded copy, and nothing else branded', () => {
    // What the CommonJS build beside this ESM one makes: same brand and name, another class.
    class OtherCopy extends Error {
      override readonly name = 'FrameError';
    }
    Object.defineProperty(OtherCopy.prototype, Symbol.for('iproto.error'), { value: true });
    expect(new OtherCopy('x')).toBeInstanceOf(FrameError);
    class Branded extends Error {}
    Object.defineProperty(Branded.prototype, Symbol.for('iproto.error'), { value: true });
    expect(new Branded('x') instanceof FrameError).toBe(false);
    expect(new Error('x') instanceof FrameError).toBe(false);
    class Narrow extends FrameError {}
    expect(new FrameError('ERR_FRAME_TRUNCATED', 'x') instanceof Narrow).toBe(false);
    expect(new Narrow('ERR_FRAME_TRUNCATED', 'x')).toBeInstanceOf(FrameError);
  });
});
