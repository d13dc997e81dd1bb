/**
 * Cheap `Buffer` views and result buffers.
 *
 * `buf.subarray()` on a Buffer goes through the species constructor and Node's argument checks, and
 * `Buffer.allocUnsafe()` through its own checks: together they were most of the time of a small
 * pack or a field-by-field unpack. Node exposes the class its buffers are made of (`FastBuffer`, a
 * plain `Uint8Array` subclass whose prototype is `Buffer.prototype`) as `Buffer[Symbol.species]`;
 * constructing it directly over an `ArrayBuffer` makes a real `Buffer` at the cost of a typed array.
 */

type BufferClass = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer;

function bufferClass(): BufferClass {
  const species: unknown = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species];
  if (typeof species === 'function') {
    try {
      const probe = new (species as BufferClass)(new ArrayBuffer(4), 1, 2);
      if (Object.getPrototypeOf(probe) === Buffer.prototype && probe.byteOffset === 1 && probe.length === 2) {
        return species as BufferClass;
      }
    } catch {
      // Not the constructor we expect: fall through to our own.
    }
  }
  // Another runtime: a Uint8Array subclass that inherits every Buffer method.
  class Bytes extends Uint8Array {}
  Object.setPrototypeOf(Bytes.prototype, Buffer.prototype);
  Object.defineProperty(Bytes.prototype, 'constructor', {
    value: Buffer,
    writable: true,
    configurable: true,
  });
  return Bytes as unknown as BufferClass;
}

const FastBuffer = bufferClass();

/** A `Buffer` over `length` bytes of `buffer` from `byteOffset`, sharing the memory (no copy). */
export function bufferView(buffer: ArrayBufferLike, byteOffset: number, length: number): Buffer {
  return new FastBuffer(buffer, byteOffset, length);
}

/** Small results are cut from shared slabs, as Node's own Buffer pool does; larger ones get their own memory. */
const SLAB_SIZE = 64 * 1024;
const MAX_POOLED = 4096;

let slab: ArrayBuffer = newSlab();
let slabOffset = 0;

function newSlab(): ArrayBuffer {
  // allocUnsafeSlow: no zero-fill; every byte handed out is written before the caller sees it.
  const b = Buffer.allocUnsafeSlow(SLAB_SIZE);
  return b.byteOffset === 0 && b.byteLength === SLAB_SIZE
    ? (b.buffer as ArrayBuffer)
    : new ArrayBuffer(SLAB_SIZE);
}

/**
 * A fresh `Buffer` of `size` bytes whose contents the caller must overwrite completely. Bytes handed
 * out are never handed out again: a slab is only ever cut forward, and a full one is left to the
 * buffers that still point into it.
 */
export function allocResult(size: number): Buffer {
  if (size > MAX_POOLED) return Buffer.allocUnsafe(size);
  if (slabOffset + size > SLAB_SIZE) {
    slab = newSlab();
    slabOffset = 0;
  }
  const b = new FastBuffer(slab, slabOffset, size);
  // 8-byte alignment, like Node's pool, so a result can back a Float64Array or BigInt64Array view.
  slabOffset = (slabOffset + size + 7) & ~7;
  return b;
}
