import { afterEach, expect, test } from 'vitest';
import { frame, RawClient } from './test-support.js';
import { startTestServer, type TestServer } from './testing/index.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
});

test('smoke', async () => {
  server = await startTestServer();
  const client = await RawClient.connect(server.port);
  client.write(frame(17, 1, 'abc'), frame(18, 2, ''));
  expect(await client.bytes(27)).toEqual(Buffer.concat([frame(17, 1, 'abc'), frame(18, 2)]));
  client.destroy();
});
