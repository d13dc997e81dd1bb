import { connect } from 'node:net';
import { expect, test } from 'vitest';
import { listenBlackhole } from '../../src/testing/index.js';

test('a connect to the blackhole neither completes nor fails', async () => {
  const hole = await listenBlackhole();
  try {
    expect(hole.host).toBe('127.0.0.1');
    expect(hole.address).toBe(`127.0.0.1:${hole.port}`);
    const socket = connect({ host: hole.host, port: hole.port });
    const outcome = await new Promise<string>((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('error', (error) => resolve(`error ${error.message}`));
      setTimeout(() => resolve('pending'), 1500);
    });
    socket.destroy();
    expect(outcome).toBe('pending');
  } finally {
    await hole.close();
  }
});

test('close() frees the port', async () => {
  const hole = await listenBlackhole();
  await hole.close();
  const socket = connect({ host: hole.host, port: hole.port });
  const code = await new Promise<string | undefined>((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
  });
  socket.destroy();
  expect(code).toBe('ECONNREFUSED');
});
