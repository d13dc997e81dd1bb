// A box for the benchmark, in a process of its own: `node server.mjs double` runs the box double
// (@iproto/server/testing, an in-memory Tarantool 1.5 with its write-ahead log on), `canned` an
// @iproto/server that answers every SELECT with the same stored tuple and every INSERT with
// `L 0, L 1`, so that the client's own cost shows. Seeds users 1..1000, prints the port, exits
// when stdin closes.
import { IProtoServer } from '@iproto/server';
import { startBoxDouble } from '@iproto/server/testing';

export const USERS = 1000;
const kind = process.argv[2];
let port;
let close;
if (kind === 'double' || kind === 'double-nowal') {
  const box = await startBoxDouble({ spaces: [{ space: 0 }], port: 0, wal: kind === 'double' });
  for (let id = 1; id <= USERS; id++) box.space(0).put([id, `user ${id}`, id % 100]);
  ({ port } = new URL(`iproto://${box.address}`));
  close = () => box.close();
} else if (kind === 'canned') {
  const name = Buffer.from('user 1');
  const tuple = Buffer.concat([
    Buffer.from([4, 1, 0, 0, 0, name.length]),
    name,
    Buffer.from([4, 1, 0, 0, 0]),
  ]);
  const head = Buffer.alloc(16);
  head.writeUInt32LE(0, 0);
  head.writeUInt32LE(1, 4);
  head.writeUInt32LE(tuple.length, 8);
  head.writeUInt32LE(3, 12);
  const selectReply = Buffer.concat([head, tuple]);
  const insertReply = Buffer.from([0, 0, 0, 0, 1, 0, 0, 0]);
  const server = new IProtoServer();
  server.on(17, () => selectReply);
  server.on(13, () => insertReply);
  ({ port } = await server.listen(0, '127.0.0.1'));
  close = () => server.close();
} else {
  throw new Error(`usage: node server.mjs double|canned (got ${kind})`);
}
process.stdout.write(`${port}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await close();
  process.exit(0);
});
