import { IProto } from '@iproto/client';
import { type BoxDouble, startBoxDouble } from '@iproto/server/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Box } from '../src/index.js';

const USERS = {
  space: 0,
  name: 'users',
  format: 'L$L',
  fields: ['id', 'name', 'age'],
  indexes: [{ name: 'primary', keys: ['id'] }],
} as const;

let double: BoxDouble | undefined;
afterEach(async () => {
  await double?.close();
  double = undefined;
});

describe('await using', () => {
  it('closes the client a Box built when the scope ends', async () => {
    double = await startBoxDouble({
      spaces: [{ space: 0, indexes: [{ parts: [{ field: 0, type: 'NUM' }] }] }],
    });
    let box: Box<readonly [typeof USERS]> | undefined;
    {
      await using scoped = new Box({ servers: double.address, spaces: [USERS] });
      box = scoped;
      await scoped.insert('users', { id: 1, name: 'ann', age: 30 });
      expect(await scoped.select('users', [1])).toEqual([{ id: 1, name: 'ann', age: 30 }]);
    }
    await expect(box.ping()).rejects.toMatchObject({ code: 'ERR_BOX_CLOSED' });
    await expect(box.client.send({ msg: 0xff00 })).rejects.toMatchObject({ code: 'ERR_CLIENT_CLOSED' });
  });

  it('leaves a client it was given open, also when the scope throws', async () => {
    double = await startBoxDouble({
      spaces: [{ space: 0, indexes: [{ parts: [{ field: 0, type: 'NUM' }] }] }],
    });
    await using client = new IProto({ servers: double.address });
    const scope = async (): Promise<void> => {
      await using box = new Box({ client, spaces: [USERS] });
      expect(await box.ping()).toBe(true);
      throw new Error('scope failed');
    };
    await expect(scope()).rejects.toThrow('scope failed');
    const box = new Box({ client, spaces: [USERS] });
    expect(await box.ping()).toBe(true);
  });
});
