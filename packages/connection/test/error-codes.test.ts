import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstStringArguments } from '@iproto/test-kit/type-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../src/connection.js';
import {
  CLIENT_ERROR_CODES,
  CLUSTER_ERROR_CODES,
  CONNECTION_ERROR_CODES,
  IPROTO_ERROR_CODES,
  isIProtoErrorCode,
  OS_ERROR_CODES,
} from '../src/index.js';
import { rejection } from './support/test-support.js';

const src = fileURLToPath(new URL('../src/', import.meta.url));
const open: Connection[] = [];
afterEach(() => {
  for (const connection of open.splice(0)) connection.destroy();
});

function connection(...args: ConstructorParameters<typeof Connection>): Connection {
  const made = new Connection(...args);
  open.push(made);
  return made;
}

describe('the list of IProtoError codes', () => {
  // The union cannot drift from the code: every code the sources raise is listed, and every listed
  // code (but the OS ones, which come from the socket) is raised somewhere.
  it('holds every code the sources raise, and nothing they do not', () => {
    const raised = firstStringArguments(src, ['IProtoError']);
    expect(raised.length).toBeGreaterThan(5);
    for (const { code, where } of raised) expect(CONNECTION_ERROR_CODES, where).toContain(code);
    const own = new Set(raised.map(({ code }) => code));
    // fromSocketError picks these two (not a literal argument); the tests below reach them.
    own.add('ECONNRESET').add('ERR_SOCKET');
    const unused = CONNECTION_ERROR_CODES.filter(
      (code) => !own.has(code) && !(OS_ERROR_CODES as readonly string[]).includes(code),
    );
    expect(unused).toEqual([]);
  });

  it('IPROTO_ERROR_CODES is every layer list, once each', () => {
    const all = new Set<string>([...CONNECTION_ERROR_CODES, ...CLUSTER_ERROR_CODES, ...CLIENT_ERROR_CODES]);
    expect(new Set(IPROTO_ERROR_CODES)).toEqual(all);
    expect(IPROTO_ERROR_CODES.length).toBe(all.size);
    expect(IPROTO_ERROR_CODES).not.toContain('ABORT_ERR');
  });

  it('isIProtoErrorCode tells the codes of the list from any other value', () => {
    for (const code of IPROTO_ERROR_CODES) expect(isIProtoErrorCode(code)).toBe(true);
    for (const other of ['ABORT_ERR', 'EMFILE', 'ERR_BOX_REPLY', '', undefined, 110, null]) {
      expect(isIProtoErrorCode(other)).toBe(false);
    }
  });
});

describe('OS error codes', () => {
  it('a refused connection keeps ECONNREFUSED with its errno', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const error = await rejection(connection({ host: '127.0.0.1', port }).send(1));
    expect(error).toMatchObject({ name: 'IProtoError', code: 'ECONNREFUSED', errno: 111 });
  });

  it('a unix socket path that does not exist is ENOENT', async () => {
    const path = join(tmpdir(), `iproto-missing-${process.pid}-${Date.now()}.sock`);
    const error = await rejection(connection({ path }).send(1));
    expect(error).toMatchObject({ code: 'ENOENT', errno: 2, address: path });
  });

  it('an OS code outside the list becomes ERR_SOCKET, keeping errno and the cause', async () => {
    const emfile = Object.assign(new Error('too many open files'), { code: 'EMFILE', errno: -24 });
    const error = await rejection(
      connection({
        connect: () => {
          throw emfile;
        },
      }).send(1),
    );
    expect(error).toMatchObject({ code: 'ERR_SOCKET', errno: 24, address: 'stream' });
    expect(error.cause).toBe(emfile);
    expect(error.message).toContain('too many open files');
  });

  it('a DNS failure for now keeps EAI_AGAIN', async () => {
    const dns = Object.assign(new Error('getaddrinfo EAI_AGAIN db'), { code: 'EAI_AGAIN' });
    const error = await rejection(
      connection({
        connect: () => {
          throw dns;
        },
      }).send(1),
    );
    expect(error).toMatchObject({ code: 'EAI_AGAIN', cause: dns });
  });

  it('a stream error without an OS code is ECONNRESET', async () => {
    const premature = Object.assign(new Error('premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    const error = await rejection(
      connection({
        connect: () => {
          throw premature;
        },
      }).send(1),
    );
    expect(error).toMatchObject({ code: 'ECONNRESET', cause: premature });
  });
});
