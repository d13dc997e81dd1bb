import { describe, expect, it } from 'vitest';
import { DEFAULT_DUMP_LIMIT, dumpPacket, encodeFrame } from '../src/index.js';
import { hex, prng, runPerl } from './support/test-support.js';

// Feeds every case to MR::IProto::Role::Debuggable::_debug_dump itself (a Mouse class consuming the
// role, as MR::IProto's connections do), once with and once without dump_no_ints, in one Perl process.
const PERL_DUMP = `
  package DumpProbe; use Mouse; with 'MR::IProto::Role::Debuggable';
  package main;
  my @out;
  my $ints = DumpProbe->new(debug_cb => sub { push @out, $_[0] });
  my $noints = DumpProbe->new(dump_no_ints => 1, debug_cb => sub { push @out, $_[0] });
  while (my $line = <STDIN>) {
    chomp $line;
    my ($label, $hex) = split /\\|/, $line, 2;
    my $bytes = pack('H*', $hex // '');
    $ints->_debug_dump($label, $bytes);
    $noints->_debug_dump($label, $bytes);
  }
  print join("\\n", @out), "\\n";
`;

describe('dumpPacket', () => {
  it('prints integers, " > ", then hex bytes', () => {
    expect(dumpPacket(hex('11000000 03000000 2a000000'))).toBe(
      '17 3 42 > 11 00 00 00 03 00 00 00 2a 00 00 00',
    );
    expect(dumpPacket(hex('ffffffff'), { ints: false })).toBe('ff ff ff ff');
    expect(dumpPacket(hex('01000000 02'), { prefix: 'send header: ' })).toBe(
      'send header: 1 > 01 00 00 00 02',
    );
  });

  it('ignores 1 to 3 trailing bytes in the integers, like unpack("L*")', () => {
    expect(dumpPacket(hex('01'))).toBe(' > 01');
    expect(dumpPacket(hex('01000000 0203'))).toBe('1 > 01 00 00 00 02 03');
    expect(dumpPacket(new Uint8Array(0))).toBe(' > ');
    expect(dumpPacket(new Uint8Array(0), { ints: false })).toBe('');
  });

  it('matches MR::IProto::Role::Debuggable::_debug_dump byte for byte (runs Perl)', () => {
    const rand = prng(99);
    const cases: { label: string; bytes: Uint8Array }[] = [];
    for (let len = 0; len <= 17; len++) {
      cases.push({
        label: 'recv payload: ',
        bytes: Uint8Array.from({ length: len }, () => Math.floor(rand() * 256)),
      });
    }
    cases.push({ label: 'send header: ', bytes: encodeFrame(0xffffffff, 0x80000000).subarray(0, 12) });
    cases.push({ label: '', bytes: new Uint8Array(256).map((_, i) => i) });
    for (let i = 0; i < 30; i++) {
      const len = Math.floor(rand() * 300);
      cases.push({ label: 'x: ', bytes: Uint8Array.from({ length: len }, () => Math.floor(rand() * 256)) });
    }
    const input = cases.map((c) => `${c.label}|${Buffer.from(c.bytes).toString('hex')}`).join('\n') + '\n';
    const lines = runPerl(PERL_DUMP, input).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(cases.length * 2);
    cases.forEach((c, i) => {
      expect(dumpPacket(c.bytes, { prefix: c.label })).toBe(lines[2 * i]);
      expect(dumpPacket(c.bytes, { prefix: c.label, ints: false })).toBe(lines[2 * i + 1]);
    });
  });

  it('cuts a packet over the limit at a whole integer and says how long it was', () => {
    const bytes = hex('01000000 02000000 03');
    expect(dumpPacket(bytes, { limit: 9 })).toBe('1 2 > 01 00 00 00 02 00 00 00 03');
    expect(dumpPacket(bytes, { limit: 8 })).toBe('1 2 > 01 00 00 00 02 00 00 00 … (9 bytes in all)');
    expect(dumpPacket(bytes, { limit: 7 })).toBe('1 > 01 00 00 00 … (9 bytes in all)');
    expect(dumpPacket(bytes, { limit: 4, ints: false, prefix: 'p: ' })).toBe(
      'p: 01 00 00 00 … (9 bytes in all)',
    );
    expect(dumpPacket(bytes, { limit: Number.POSITIVE_INFINITY })).toBe(dumpPacket(bytes));
    expect(() => dumpPacket(bytes, { limit: -1 })).toThrow(RangeError);
  });

  // Regression: the dump was built with `+=` per byte, so a 16 MiB frame at debug 5 blocked for
  // seconds and took GiBs (a 64 MiB one ran out of heap). Now it costs the limit, not the packet.
  it('dumps a 16 MiB packet as its first DEFAULT_DUMP_LIMIT bytes', () => {
    const big = new Uint8Array(16 * 1024 * 1024 - 1).fill(0xab);
    const dump = dumpPacket(big, { prefix: 'recv payload: ' });
    const head = big.subarray(0, DEFAULT_DUMP_LIMIT);
    expect(dump).toBe(
      `recv payload: ${dumpPacket(head, { limit: Number.POSITIVE_INFINITY })} … (${big.length} bytes in all)`,
    );
    // Its size, and so the work of making it, is bounded by the limit, not by the packet.
    expect(dump.length).toBeLessThan(DEFAULT_DUMP_LIMIT * 6);
  });
});
