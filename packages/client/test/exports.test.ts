import * as cluster from '@iproto/cluster';
import * as connection from '@iproto/connection';
import * as packModule from '@iproto/pack';
import { expect, it } from 'vitest';
import * as client from '../src/index.js';

// `npm install @iproto/client` alone is enough: what a user imports from the layers below is here,
// the very same objects (an error thrown below is `instanceof` the class re-exported here).
it('re-exports pack, unpack, compile, PackError, the connection errors and Cluster with its constants', () => {
  expect([client.pack, client.unpack, client.compile, client.PackError, client.PackErrorCode]).toEqual([
    packModule.pack,
    packModule.unpack,
    packModule.compile,
    packModule.PackError,
    packModule.PackErrorCode,
  ]);
  expect(client.pack).toBe(packModule.pack);
  expect(client.PackError).toBe(packModule.PackError);
  expect(client.IProtoError).toBe(connection.IProtoError);
  expect(client.isIProtoError).toBe(connection.isIProtoError);
  expect(client.AbortError).toBe(connection.AbortError);
  expect(client.IPROTO_ERROR_CODES).toBe(connection.IPROTO_ERROR_CODES);
  expect(client.CLIENT_ERROR_CODES).toBe(connection.CLIENT_ERROR_CODES);
  expect(client.IPROTO_ERROR_CODES).toBe(cluster.IPROTO_ERROR_CODES);
  expect(client.Cluster).toBe(cluster.Cluster);
  expect([client.RR, client.HASH, client.KETAMA]).toEqual([cluster.RR, cluster.HASH, cluster.KETAMA]);
  const thrown = (() => {
    try {
      client.unpack('w', Buffer.from([0x80]));
    } catch (error) {
      return error;
    }
  })();
  expect(thrown).toBeInstanceOf(client.PackError);
  expect(client.isIProtoError(thrown)).toBe(true);
  expect(client.unpack('N', client.pack('N', 42))).toEqual([42]);
});
