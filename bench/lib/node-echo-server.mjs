// @iproto/server as an echo server in a process of its own (the fallback when the native echo
// server cannot be built). Prints "listening HOST:PORT" once listening; exits on SIGTERM/SIGINT
// and when the benchmark that started it goes away.
import { IProtoServer } from '@iproto/server';

const server = new IProtoServer({ handler: (request) => request.body });
const { host, port } = await server.listen(0, '127.0.0.1');
process.stdout.write(`listening ${host}:${port}\n`);

const stop = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// stdin is a pipe from the benchmark: its end means the benchmark is gone, killed or not.
process.stdin.on('end', stop);
process.stdin.resume();
