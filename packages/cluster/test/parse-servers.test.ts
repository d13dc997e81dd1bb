import { describe, expect, it } from 'vitest';
import { parseServer, parseServers } from '../src/parse-servers.js';
import { MAX_WEIGHT } from '../src/weight.js';

describe('parseServers', () => {
  it('reads Perl servers strings, with and without weights', () => {
    expect(parseServers('10.0.0.1:33013,10.0.0.2:33014:3')).toEqual([
      { host: '10.0.0.1', port: 33013 },
      { host: '10.0.0.2', port: 33014, weight: 3 },
    ]);
  });

  it('reads IPv6 hosts in brackets', () => {
    expect(parseServers('[::1]:33013:2,[fe80::1%eth0]:1')).toEqual([
      { host: '::1', port: 33013, weight: 2 },
      { host: 'fe80::1%eth0', port: 1 },
    ]);
  });

  it('skips blank entries and spaces', () => {
    expect(parseServers(' a:1 , ,b:2,')).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
    ]);
  });

  it.each([
    ['nohost', /missing ":port"/],
    ['a:', /bad port/],
    ['a:0', /bad port/],
    ['a:70000', /bad port/],
    ['a:1:x', /bad weight/],
    ['a:1:2:3', /host:port\[:weight\]/],
    ['[::1]33013', /IPv6/],
    [':1', /empty host/],
  ])('rejects %s', (entry, message) => {
    expect(() => parseServer(entry)).toThrow(message);
    expect(() => parseServer(entry)).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_BAD_SERVER' }),
    );
  });

  it('reads weights 0 to MAX_WEIGHT, leading zeros included (Perl numifies them)', () => {
    expect(parseServer('a:1:0')).toEqual({ host: 'a', port: 1, weight: 0 });
    expect(parseServer(`a:1:${MAX_WEIGHT - 1}`).weight).toBe(MAX_WEIGHT - 1);
    expect(parseServer(`a:1:${MAX_WEIGHT}`).weight).toBe(MAX_WEIGHT);
    expect(parseServer(`a:1:${'0'.repeat(50)}${MAX_WEIGHT}`).weight).toBe(MAX_WEIGHT);
    expect(parseServer('a:1:000').weight).toBe(0);
  });

  it.each([
    [`${MAX_WEIGHT + 1}`, `${MAX_WEIGHT + 1}`],
    ['1000000000', '1000000000'],
    ['99999999999999999999', '99999999999999999999'],
    [`000${MAX_WEIGHT + 1}`, `${MAX_WEIGHT + 1}`],
  ])('refuses weight %s with ERR_WEIGHT_LIMIT, naming the entry and the maximum', (weight, shown) => {
    expect(() => parseServers(`ok:1,b:2:${weight}`)).toThrow(
      expect.objectContaining({
        name: 'RangeError',
        code: 'ERR_WEIGHT_LIMIT',
        message: `bad server "b:2:${weight}" in servers string: weight ${shown} is above the maximum 1000000 (MAX_WEIGHT)`,
      }),
    );
  });

  it('keeps messages short for huge entries, and parses them in linear time', () => {
    const digits = '7'.repeat(1_000_000);
    let error: Error | undefined;
    try {
      parseServer(`host:33013:${digits}`);
    } catch (e) {
      error = e as Error;
    }
    expect(error).toMatchObject({ code: 'ERR_WEIGHT_LIMIT' });
    expect(error!.message.length).toBeLessThan(300);
    expect(error!.message).toContain('(1000011 characters)');
    expect(() => parseServer(`${'h'.repeat(1_000_000)}:x`)).toThrow(
      /^bad server "h{64}\.\.\. \(1000002 characters\)"/,
    );
  });
});
