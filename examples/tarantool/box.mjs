#!/usr/bin/env node
// A Tarantool 1.5 style box over iproto: an @iproto/server plays a small box (one space of
// [id, name, score] tuples, a primary index on id), and an @iproto/client talks to it with
// INSERT (msg 13) and SELECT (msg 17) request/response classes whose bodies follow the layouts
// MR::Tarantool::Box uses:
//
//   INSERT body   L L L (w/a*)*         space, flags, cardinality, fields
//   SELECT body   L L L L a* L a*       space, index, offset, limit, field format (empty), key count, keys
//     each key    L (w/a*)*             cardinality, fields
//   every reply   LX[L]CSC ...          return code, read whole and as severity (0 ok, 1 transient,
//                                       2 permanent), description, project; then:
//     INSERT      L                     tuples affected
//     SELECT / INSERT with WANT_RESULT  L (L L a*)*   tuple count, then per tuple: size, cardinality, fields
//   an error      L a*                  return code, message
//
// Run it after a build: `node examples/tarantool/box.mjs`.
import { IProto, Request, Response } from '@iproto/client';
import { pack, unpack } from '@iproto/pack';
import { IProtoServer } from '@iproto/server';

/** Message codes of Tarantool 1.5 (MR::Tarantool::Box). */
const Msg = {
  /** Insert or replace a tuple. */
  INSERT: 13,
  /** Select tuples by keys of an index. */
  SELECT: 17,
  /** Ping: an empty body, an empty reply. */
  PING: 0xff00,
};

/** INSERT flags (MR::Tarantool::Box's constants). */
const Flags = { WANT_RESULT: 1, INSERT_ADD: 2, INSERT_REPLACE: 4 };

/** Error codes the box answers with (their low byte is the severity: 1 transient, 2 permanent). */
const Errors = new Map([
  [0x00000601, 'Tuple is locked'],
  [0x00003102, "Tuple doesn't exist"],
  [0x00003702, 'Tuple already exists'],
  [0x00003902, 'Space does not exists'],
  [0x00000a02, 'Unsupported command'],
]);

/** Space 0: `id` (a number, packed as L), `name` (a string), `score` (L): Box's format 'L$L'. */
const SPACE = 0;
const FIELDS = ['L', 'a*', 'L'];

// ---- Encoding tuples, shared by both sides ------------------------------------------------------

/** Each field packed with its format, as MR::Tarantool::Box::Insert does before `w/a*`. */
function packFields(tuple) {
  return tuple.map((value, i) => pack(FIELDS[i], value));
}

/** The fields of one stored tuple, decoded with the space's formats. */
function decodeFields(fields) {
  return fields.map((field, i) =>
    FIELDS[i] === 'L' ? unpack('L', field)[0] : Buffer.from(field).toString(),
  );
}

/** `L L a*` per tuple: its size, its cardinality, its `(w/a*)*` fields. */
function packTuple(fields) {
  const bytes = pack('(w/a*)*', ...fields);
  return pack('L L a*', bytes.length, fields.length, bytes);
}

// ---- The client's messages ---------------------------------------------------------------------

class InsertRequest extends Request {
  static msg = Msg.INSERT;

  constructor(tuple, { flags = 0 } = {}) {
    super();
    this.tuple = tuple;
    this.flags = flags;
  }

  key() {
    return this.tuple[0];
  }

  encode() {
    return pack('L L L (w/a*)*', SPACE, this.flags, this.tuple.length, ...packFields(this.tuple));
  }
}

class SelectRequest extends Request {
  static msg = Msg.SELECT;

  constructor(keys, { index = 0, offset = 0, limit = 0x7fffffff } = {}) {
    super();
    this.keys = keys;
    this.index = index;
    this.offset = offset;
    this.limit = limit;
  }

  retry() {
    return true; // a select is safe to repeat
  }

  encode() {
    const keys = this.keys.map((key) => pack('L (w/a*)*', 1, pack(FIELDS[0], key)));
    return pack(
      'L L L L a* L a*',
      SPACE,
      this.index,
      this.offset,
      this.limit,
      '',
      keys.length,
      Buffer.concat(keys),
    );
  }
}

/** Box replies: a return code, then either an error message or the body of the answer. */
class BoxResponse extends Response {
  constructor(data, request) {
    super(data, request);
    // MR::Tarantool::Box reads the code twice: whole (L), then, after backing up (X[L]), as its
    // severity byte (0 ok, 1 transient, 2 permanent), a 16-bit description and a project byte.
    [this.code, this.severity] = this.unpack('LX[L]CSC');
    if (this.code !== 0) {
      this.error = `Error ${this.code.toString(16).toUpperCase().padStart(8, '0')}: ${this.rest.toString()}`;
      this.consume();
    }
  }

  /** MR::Tarantool::Box retries a transient error (severity 1). */
  retry() {
    return this.severity === 1;
  }

  /** Reads `L (L L a*)*`: the tuple count, then each tuple. */
  readTuples() {
    const [count] = this.unpack('L');
    const tuples = [];
    for (let i = 0; i < count; i++) {
      const [size, cardinality] = this.unpack('L L');
      const [bytes] = this.unpack(`a${size}`);
      const fields = unpack('(w/a*)*', bytes);
      if (fields.length !== cardinality)
        throw new Error(`tuple ${i}: ${fields.length} fields, expected ${cardinality}`);
      tuples.push(decodeFields(fields));
    }
    return tuples;
  }
}

class InsertResponse extends BoxResponse {
  static msg = Msg.INSERT;

  constructor(data, request) {
    super(data, request);
    if (this.code !== 0) return;
    if (request.flags & Flags.WANT_RESULT) {
      this.tuples = this.readTuples();
      this.affected = this.tuples.length;
    } else {
      [this.affected] = this.unpack('L');
    }
  }
}

class SelectResponse extends BoxResponse {
  static msg = Msg.SELECT;

  constructor(data, request) {
    super(data, request);
    if (this.code === 0) this.tuples = this.readTuples();
  }
}

// ---- The box -----------------------------------------------------------------------------------

/** A one-space box: tuples by primary key, kept as their packed fields. */
function startBox() {
  const tuples = new Map();
  let locked = true; // the first select meets a locked tuple: a transient error, worth a retry
  const error = (code) => pack('L a*', code, Errors.get(code));
  const server = new IProtoServer();

  server.on(Msg.INSERT, (request) => {
    const [space, flags, cardinality, ...fields] = unpack('L L L (w/a*)*', request.body);
    if (space !== SPACE) return error(0x00003902);
    if (fields.length !== cardinality) return error(0x00000a02);
    const id = unpack('L', fields[0])[0];
    if (flags & Flags.INSERT_ADD && tuples.has(id)) return error(0x00003702);
    if (flags & Flags.INSERT_REPLACE && !tuples.has(id)) return error(0x00003102);
    tuples.set(id, fields);
    return flags & Flags.WANT_RESULT
      ? Buffer.concat([pack('L L', 0, 1), packTuple(fields)])
      : pack('L L', 0, 1);
  });

  server.on(Msg.SELECT, (request) => {
    const [space, , offset, limit, keyCount, keyBytes] = unpack('L L L L L a*', request.body);
    if (space !== SPACE) return error(0x00003902);
    if (locked) {
      locked = false;
      return error(0x00000601);
    }
    const found = [];
    let rest = keyBytes;
    for (let i = 0; i < keyCount; i++) {
      const [, key, tail] = unpack('L w/a* a*', rest); // one-field keys: cardinality 1, then the field
      rest = tail;
      const tuple = tuples.get(unpack('L', key)[0]);
      if (tuple) found.push(tuple);
    }
    const page = found.slice(offset, offset + limit);
    return Buffer.concat([pack('L L', 0, page.length), ...page.map(packTuple)]);
  });

  server.on(Msg.PING, () => new Uint8Array(0));
  return server;
}

// ---- The run -----------------------------------------------------------------------------------

const box = startBox();
const { host, port } = await box.listen(0, '127.0.0.1');
const client = new IProto({ servers: `${host}:${port}`, messages: [InsertResponse, SelectResponse] });

try {
  const players = [
    [1, 'alice', 120],
    [2, 'bob', 95],
    [3, 'carol', 133],
  ];
  const inserted = await client.sendBulk(players.map((tuple) => new InsertRequest(tuple)));
  console.log(`inserted ${inserted.reduce((n, r) => n + r.affected, 0)} tuples`);

  const replaced = await client.send(
    new InsertRequest([2, 'bob', 101], { flags: Flags.INSERT_REPLACE | Flags.WANT_RESULT }),
  );
  console.log(`replaced: ${JSON.stringify(replaced.tuples[0])}`);

  const duplicate = await client.send(new InsertRequest([1, 'mallory', 0], { flags: Flags.INSERT_ADD }));
  console.log(`add of an existing id: ${duplicate.error}`);

  let retries = 0;
  client.on('retry', () => retries++);
  const selected = await client.send(new SelectRequest([3, 1, 2, 42]));
  console.log(`select retried ${retries} time(s) after a transient error`);
  for (const [id, name, score] of selected.tuples) console.log(`select: ${id} ${name} ${score}`);

  const ping = await client.send({ msg: Msg.PING, unpack: 'a*' });
  console.log(`ping: ${ping[0].length} bytes`);
} finally {
  await client.close();
  await box.close();
}
