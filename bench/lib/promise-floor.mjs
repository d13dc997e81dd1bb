// The least a Promise client can cost: the bare loop's wire work (bare-loop.mjs) behind the same
// `send(message)` the clients offer, driven by the same harness (client-loop.mjs). Per request it
// does only what any Promise API must: make a promise, keep its settler until the reply comes
// (a FIFO: the echo server answers in order, so no sync table), write the frame into the batch
// being gathered (values stored straight in, no pack step), and resolve the promise with the reply
// array read from the frame. No options, checks, deadlines, retries or events.
//
// It is a floor, not a client: what it reaches against the bare loop bounds what any client with a
// Promise per request can reach in this harness.
import net from 'node:net';

const HEADER_SIZE = 12;
const FRAME_SIZE = HEADER_SIZE + 12;

export class PromiseFloor {
  #socket;
  #sync = 0;
  /** Settlers of the requests in flight, oldest first (a ring that doubles when full). */
  #settlers = new Array(1024);
  #head = 0;
  #count = 0;
  #batch = Buffer.allocUnsafe(64 * 1024);
  #at = 0;
  #scheduled = false;
  #carry = undefined;
  #flush = () => this.#write();

  static async connect({ host, port }) {
    const socket = net.connect({ host, port, noDelay: true });
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new PromiseFloor(socket);
  }

  constructor(socket) {
    this.#socket = socket;
    socket.on('data', (chunk) => this.#read(chunk));
  }

  send(message) {
    const data = message.data;
    let settle;
    const promise = new Promise((resolve) => {
      settle = resolve;
    });
    this.#push(settle);
    if (this.#batch.length - this.#at < FRAME_SIZE) this.#write();
    const b = this.#batch;
    const at = this.#at;
    b.writeUInt32LE(message.msg, at);
    b.writeUInt32LE(12, at + 4);
    b.writeUInt32LE(this.#sync, at + 8);
    b.writeUInt32LE(data[0], at + 12);
    b.writeUInt32LE(data[1], at + 16);
    b.writeUInt32LE(data[2], at + 20);
    this.#sync = (this.#sync + 1) >>> 0;
    this.#at = at + FRAME_SIZE;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
    return promise;
  }

  close() {
    this.#socket.destroy();
  }

  #push(settle) {
    if (this.#count === this.#settlers.length) {
      const old = this.#settlers;
      const grown = new Array(old.length * 2);
      for (let i = 0; i < this.#count; i++) grown[i] = old[(this.#head + i) % old.length];
      this.#settlers = grown;
      this.#head = 0;
    }
    this.#settlers[(this.#head + this.#count) % this.#settlers.length] = settle;
    this.#count++;
  }

  #write() {
    this.#scheduled = false;
    if (this.#at === 0) return;
    // The written part is handed to the socket as it is; later frames go to a fresh buffer.
    this.#socket.write(this.#batch.subarray(0, this.#at));
    this.#batch = Buffer.allocUnsafe(64 * 1024);
    this.#at = 0;
  }

  #read(chunk) {
    if (this.#carry !== undefined) {
      chunk = Buffer.concat([this.#carry, chunk]);
      this.#carry = undefined;
    }
    let at = 0;
    while (chunk.length - at >= HEADER_SIZE) {
      const end = at + HEADER_SIZE + chunk.readUInt32LE(at + 4);
      if (end > chunk.length) break;
      const reply = [chunk.readUInt32LE(at + 12), chunk.readUInt32LE(at + 16), chunk.readUInt32LE(at + 20)];
      const settle = this.#settlers[this.#head];
      this.#settlers[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.#settlers.length;
      this.#count--;
      settle(reply);
      at = end;
    }
    if (at < chunk.length) this.#carry = chunk.subarray(at);
  }
}
