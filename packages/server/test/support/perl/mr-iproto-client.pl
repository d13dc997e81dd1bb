#!/usr/bin/env perl
# Talks to an iproto server with the reference Perl client, MR::IProto, and prints one line per reply
# for the Node test (src/perl-interop.test.ts) to compare with what it computes itself.
# Usage: mr-iproto-client.pl HOST:PORT
use strict;
use warnings;
use AnyEvent;
use Digest::MD5 qw(md5_hex);
use MR::IProto;

$| = 1;
my $servers = shift @ARGV or die "usage: $0 HOST:PORT\n";
my $client = MR::IProto->new(servers => $servers, timeout => 20, connect_timeout => 20);

# The same bytes the test builds: byte i is (i * 7 + 3) mod 256.
sub body { my ($n) = @_; return pack 'C*', map { ($_ * 7 + 3) % 256 } 0 .. $n - 1 }

sub raw { my ($msg, $payload) = @_; return { msg => $msg, payload => $payload, unpack => sub { $_[0] } } }

# MR::IProto hands an empty reply body to `unpack` as undef, not as ''; say which.
sub digest { my ($data) = @_; return defined $data ? join(' ', length $data, md5_hex($data)) : 'undef' }

sub line { my ($label, $msg, $data) = @_; print "$label $msg ", digest($data), "\n" }

my @sizes = (0, 1, 12, 1000, 65535, 65536, 1048576);

# Synchronous sends: echo (17) and reverse (18), every size.
for my $n (@sizes) {
    for my $msg (17, 18) {
        my $reply = $client->send(raw($msg, body($n)));
        line("sync", $msg, $reply->[0]);
    }
}

# A template-packed request and unpacked reply: msg 19 answers the sum of the request's words.
{
    my $reply = $client->send({ msg => 19, data => [ 1, 2, 3, 4000000000 ], pack => 'L*', unpack => 'L' });
    print "sum @$reply\n";
}

# Ping: msg 0xff00, empty body, empty reply.
{
    my $reply = $client->send(raw(0xff00, ''));
    line("ping", 0xff00, $reply->[0]);
}

# A message that expects no reply: the server records it; the client does not wait.
{
    my $reply = $client->send({ msg => 20, payload => 'fire and forget', no_reply => 1 });
    print "no_reply @$reply\n";
}

# Asynchronous sends, all in flight at once.
{
    my $cv = AnyEvent->condvar;
    my @lines;
    for my $n (@sizes) {
        for my $msg (17, 18) {
            $cv->begin;
            $client->send(raw($msg, body($n)), sub {
                my ($reply, $error) = @_;
                die "async msg $msg size $n: $error" if $error;
                push @lines, "async $msg " . digest($reply->[0]);
                $cv->end;
            });
        }
    }
    $cv->recv;
    print "$_\n" for sort @lines;
}

# send_bulk, synchronous then asynchronous: replies may come back in any order.
my @bulk = map { raw($_->[0], body($_->[1])) } [17, 12], [18, 12], [17, 1048576], [18, 65536];
{
    my $results = $client->send_bulk([ map { +{ %$_ } } @bulk ]);
    die "bulk: $_->{error}" for grep { $_->{error} } @$results;
    print "$_\n" for sort map { 'bulk ' . digest($_->{data}[0]) } @$results;
}
{
    my $cv = AnyEvent->condvar;
    $client->send_bulk([ map { +{ %$_ } } @bulk ], sub { $cv->send($_[0]) });
    my $results = $cv->recv;
    die "async bulk: $_->{error}" for grep { $_->{error} } @$results;
    print "$_\n" for sort map { 'async_bulk ' . digest($_->{data}[0]) } @$results;
}

print "done\n";
