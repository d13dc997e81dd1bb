import { IProtoError } from '@iproto/client';
import { parseServers } from '@iproto/cluster';
import { describe, expect, it } from 'vitest';
import { CliError, ExitCode } from '../src/cli-error.js';
import {
  describeError,
  formatValue,
  parseAddress,
  parseAddressList,
  parseHex,
  parseInteger,
  parseValue,
  toJsonValue,
} from '../src/values.js';

describe('parseAddress', () => {
  it('reads host:port, [v6]:port and a Perl weight', () => {
    expect(parseAddress('10.0.0.1:33013')).toEqual({ host: '10.0.0.1', port: 33013 });
    expect(parseAddress('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseAddress('box:33013:3')).toEqual({ host: 'box', port: 33013 });
    expect(parseAddress(' box:33013:1000000 ')).toEqual({ host: 'box', port: 33013 });
    expect(parseAddressList('a:1, b:2,')).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
    ]);
  });

  it('rejects bad ports, weights and shapes with a usage error naming the input', () => {
    for (const bad of ['host', 'host:0', 'host:70000', 'host:x', '[::1', 'a:b:c:d', 'a:1:x', '[::1]:1:-2']) {
      expect(() => parseAddress(bad)).toThrow(CliError);
      expect(() => parseAddress(bad)).toThrow(bad);
    }
    expect(() => parseAddressList(',')).toThrow('no address');
  });

  // One parser for every command and the cluster: what `new Cluster({ servers })` refuses, `ping`
  // and `bench` refuse too, with the cluster's reason.
  it.each([
    [':1', 'bad address ":1": empty host'],
    ['1234', 'bad address "1234": missing ":port"'],
    ['a:1:1000001', 'bad address "a:1:1000001": weight 1000001 is above the maximum 1000000 (MAX_WEIGHT)'],
    ['a:1:x', 'bad address "a:1:x": bad weight "x": expected 0..1000000'],
  ])('issue 13: %s is a usage error, as the cluster parser says', (text, message) => {
    expect(() => parseAddress(text)).toThrow(
      expect.objectContaining({ name: 'CliError', code: 'ERR_CLI_USAGE', exitCode: 2, message }),
    );
    expect(() => parseServers(text)).toThrow();
  });
});

describe('CliError', () => {
  it('carries a stable code: usage, the cause code of a failure, or a generic failure', () => {
    expect(() => parseAddress('host:0')).toThrow(
      expect.objectContaining({ code: 'ERR_CLI_USAGE', exitCode: 2 }),
    );
    const refused = new IProtoError('ECONNREFUSED', 'connect ECONNREFUSED');
    expect(new CliError('down', ExitCode.FAILURE, { cause: refused })).toMatchObject({
      code: 'ECONNREFUSED',
      exitCode: 1,
    });
    // The same code on an error of Node's own is not one of ours.
    const plain = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(new CliError('down', ExitCode.FAILURE, { cause: plain }).code).toBe('ERR_CLI_FAILURE');
    expect(new CliError('cannot read', ExitCode.FAILURE, { cause: new Error('plain') }).code).toBe(
      'ERR_CLI_FAILURE',
    );
    expect(new CliError('cannot read', ExitCode.FAILURE).code).toBe('ERR_CLI_FAILURE');
  });
});

describe('parseInteger and parseHex', () => {
  it('reads decimal and hex within bounds', () => {
    expect(parseInteger('--msg', '0xff00')).toBe(65280);
    expect(parseInteger('--msg', '17')).toBe(17);
    expect(() => parseInteger('--depth', '0', 1)).toThrow('bad value for --depth: "0"');
    expect(() => parseInteger('--msg', '1.5')).toThrow(CliError);
    expect(() => parseInteger('--msg', '4294967296')).toThrow(CliError);
  });

  it('reads hex bytes with spaces and refuses odd or non-hex input', () => {
    expect([...parseHex('x', '01 0a ff')]).toEqual([1, 10, 255]);
    expect(() => parseHex('--payload-hex', 'abc')).toThrow('--payload-hex');
    expect(() => parseHex('--payload-hex', 'zz')).toThrow(CliError);
  });
});

describe('parseValue', () => {
  it('turns words into pack values', () => {
    expect(parseValue('42')).toBe(42);
    expect(parseValue('-7')).toBe(-7);
    expect(parseValue('18446744073709551615')).toBe(18446744073709551615n);
    expect(parseValue('5n')).toBe(5n);
    expect(parseValue('0x10')).toBe(16);
    expect(parseValue('0xffffffffffffffff')).toBe(0xffffffffffffffffn);
    expect(parseValue('1.5')).toBe(1.5);
    expect(parseValue('1e3')).toBe(1000);
    expect(parseValue('hello')).toBe('hello');
    expect(parseValue('str:42')).toBe('42');
    expect([...(parseValue('hex:00ff') as Uint8Array)]).toEqual([0, 255]);
  });
});

describe('formatting unpacked values', () => {
  it('prints text, bytes, numbers and bigints', () => {
    expect(formatValue(Buffer.from('hi'))).toBe('"hi"');
    expect(formatValue(Buffer.from([0, 255]))).toBe('hex:00ff');
    expect(formatValue(5)).toBe('5');
    expect(formatValue(5n)).toBe('5n');
    expect(formatValue('s')).toBe('"s"');
    expect(toJsonValue([1, 2n, Buffer.from('ok'), Buffer.from([1])])).toEqual([1, '2', 'ok', 'hex:01']);
  });

  it('describes errors on one line with their code', () => {
    const e = Object.assign(new Error('connect refused\nmore'), { code: 'ECONNREFUSED' });
    expect(describeError(e)).toBe('ECONNREFUSED: connect refused');
    expect(describeError(Object.assign(new Error('ETIMEDOUT: x'), { code: 'ETIMEDOUT' }))).toBe(
      'ETIMEDOUT: x',
    );
    expect(describeError('plain')).toBe('plain');
  });
});
