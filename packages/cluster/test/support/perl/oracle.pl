#!/usr/bin/perl
# The real MR::IProto::Cluster, driven over stdin/stdout with one JSON object per line, so the
# parity tests ask Perl which server it picks. Requests:
#   {"op":"setup","servers":[{"host","port","weight"}...],"balance":2|3}  -> {"ok":1}
#   {"op":"active","active":[1,0,...]}                                    -> {"ok":1}
#   {"op":"pick","keys":[[type,value]...]}   -> {"picks":[[index,fellBack]...]}
#   {"op":"rate","keys":[...],"seconds":s}   -> {"rate":picks per second}
#   {"op":"str","keys":[...]}                -> {"strs":["$key" as hex...]}
#   {"op":"crc","items":[[hex,init|null]...]} -> {"crcs":[Digest::CRC crc32($data, $init)...]}
# Key types: "b" hex bytes (a byte string), "u" hex UTF-8 decoded to a character string,
# "i" a decimal integer (an IV/UV), "f" a big-endian double in hex (an NV).
use strict;
use warnings;
use Digest::CRC ();
use JSON::PP ();
use Time::HiRes ();

# Record whether MR::IProto::Cluster fell back to its random pick; must be in place before the
# module is compiled.
our $rand_called;
BEGIN { *CORE::GLOBAL::rand = sub (;$) { $rand_called = 1; return CORE::rand(@_ ? $_[0] : 1) } }

use MR::IProto::Cluster;
use MR::IProto::Cluster::Server;

$| = 1;
my $json = JSON::PP->new->canonical;
my ($cluster, @servers, %index);

sub key_of {
    my ($type, $value) = @{ $_[0] };
    return pack 'H*', $value if $type eq 'b';
    if ($type eq 'u') { my $s = pack 'H*', $value; utf8::decode($s); return $s }
    return 0 + $value if $type eq 'i';
    return unpack 'd>', pack 'H*', $value if $type eq 'f';
    die "unknown key type $type\n";
}

while (my $line = <STDIN>) {
    my $req = $json->decode($line);
    my $res = eval {
        my $op = $req->{op};
        if ($op eq 'setup') {
            @servers = map {
                MR::IProto::Cluster::Server->new(host => $_->{host}, port => $_->{port}, weight => $_->{weight})
            } @{ $req->{servers} };
            %index = map { (0 + $servers[$_]) => $_ } 0 .. $#servers;
            $cluster = MR::IProto::Cluster->new(servers => [@servers], balance => $req->{balance});
            { ok => 1 };
        }
        elsif ($op eq 'active') {
            $servers[$_]->active($req->{active}[$_]) for 0 .. $#servers;
            { ok => 1 };
        }
        elsif ($op eq 'pick') {
            my @picks;
            for my $k (@{ $req->{keys} }) {
                my $key = key_of($k);
                local $rand_called = 0;
                my $server = $cluster->server($key);
                push @picks, [ $index{ 0 + $server }, $rand_called ? 1 : 0 ];
            }
            { picks => \@picks };
        }
        elsif ($op eq 'rate') {
            my @keys = map { key_of($_) } @{ $req->{keys} };
            my ($n, $t0) = (0, Time::HiRes::time());
            my $until = $t0 + $req->{seconds};
            while (Time::HiRes::time() < $until) {
                $cluster->server($_) for @keys;
                $n += @keys;
            }
            { rate => $n / (Time::HiRes::time() - $t0) };
        }
        elsif ($op eq 'str') {
            { strs => [ map { my $s = '' . key_of($_); utf8::encode($s); unpack 'H*', $s } @{ $req->{keys} } ] };
        }
        elsif ($op eq 'crc') {
            { crcs => [ map { 0 + Digest::CRC::crc32(pack('H*', $_->[0]), $_->[1]) } @{ $req->{items} } ] };
        }
        else { die "unknown op $op\n" }
    };
    $res = { error => "$@" } unless $res;
    print $json->encode($res), "\n";
}
