#!/usr/bin/perl
# The oracle of unpack.fuzz.test.ts: reads "template<TAB>hex data" lines and prints, per line,
# "OK<TAB>" and each unpacked value's bytes in hex (comma-separated), or "ERR" where perl dies.
use strict;
use warnings FATAL => 'all';

while (my $line = <STDIN>) {
    chomp $line;
    my ($template, $hex) = split /\t/, $line, 2;
    my $data = pack('H*', $hex // '');
    my @values = eval { unpack $template, $data };
    if ($@) {
        print "ERR\n";
        next;
    }
    print "OK\t", join(',', map { defined $_ ? unpack('H*', "$_") : 'undef' } @values), "\n";
}
