import { describe, expect, it } from 'vitest';
import { parseServer, parseServers } from './parse-servers.js';

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
  });
});
