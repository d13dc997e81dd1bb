/**
 * A request body under construction: one scratch buffer that grows geometrically and is reused
 * for every request of a Box; `finish()` copies the bytes out (the client keeps a body until its
 * last try is answered, so the scratch buffer cannot be handed over).
 */
export class Writer {
  #buf: Buffer = Buffer.allocUnsafe(4096);
  #pos = 0;

  reset(): this {
    this.#pos = 0;
    return this;
  }

  get length(): number {
    return this.#pos;
  }

  #ensure(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  u8(value: number): void {
    this.#ensure(1);
    this.#buf[this.#pos++] = value;
  }

  u16(value: number): void {
    this.#ensure(2);
    this.#buf.writeUInt16LE(value, this.#pos);
    this.#pos += 2;
  }

  u32(value: number): void {
    this.#ensure(4);
    this.#buf.writeUInt32LE(value, this.#pos);
    this.#pos += 4;
  }

  /** Overwrites the 32-bit value at `at` (a count known only after its items were written). */
  u32At(at: number, value: number): void {
    this.#buf.writeUInt32LE(value, at);
  }

  u64(value: bigint): void {
    this.#ensure(8);
    this.#buf.writeBigUInt64LE(value, this.#pos);
    this.#pos += 8;
  }

  /** Perl's `w`: BER, 7 bits a byte, most significant first, the high bit on all but the last. */
  ber(value: number): void {
    this.#ensure(5);
    const buf = this.#buf;
    if (value < 0x80) {
      buf[this.#pos++] = value;
      return;
    }
    let bytes = 1;
    for (let v = value >>> 7; v > 0; v >>>= 7) bytes++;
    let pos = this.#pos + bytes - 1;
    buf[pos] = value & 0x7f;
    for (let v = value >>> 7; v > 0; v >>>= 7) buf[--pos] = (v & 0x7f) | 0x80;
    this.#pos += bytes;
  }

  bytes(value: Uint8Array): void {
    this.#ensure(value.length);
    this.#buf.set(value, this.#pos);
    this.#pos += value.length;
  }

  /** Perl's `w/a*` of bytes. */
  berBytes(value: Uint8Array): void {
    this.ber(value.length);
    this.bytes(value);
  }

  /** Perl's `w/a*` of a string's UTF-8 bytes. */
  berString(value: string): void {
    // An ASCII string has as many bytes as characters: no need to measure it first.
    const length = value.length < 64 && isAscii(value) ? value.length : Buffer.byteLength(value, 'utf8');
    this.ber(length);
    this.#ensure(length);
    this.#pos += this.#buf.write(value, this.#pos, length, 'utf8');
  }

  /** Perl's `w/a*` of what this writer wrote from `start` on: moves those bytes right of their length. */
  wrapBer(start: number): void {
    const length = this.#pos - start;
    let prefix = 1;
    for (let v = length >>> 7; v > 0; v >>>= 7) prefix++;
    this.#ensure(prefix);
    this.#buf.copy(this.#buf, start + prefix, start, this.#pos);
    const end = this.#pos;
    this.#pos = start;
    this.ber(length);
    this.#pos = end + prefix;
  }

  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.#pos);
    this.#buf.copy(out, 0, 0, this.#pos);
    return out;
  }
}

function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return false;
  return true;
}
