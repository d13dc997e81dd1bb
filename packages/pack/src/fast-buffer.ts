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
