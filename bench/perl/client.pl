#!/usr/bin/perl
# The Perl MR::IProto client under the same load as the Node clients in bench/client.mjs:
# plain messages { msg, data => [1, 2, 3], pack => 'L3', unpack => 'L3' } against one echo server.
#
#   perl client.pl HOST:PORT sync  SECONDS
#   perl client.pl HOST:PORT async SECONDS DEPTH
#
# Timing happens here, inside Perl, so process start-up and module loading are not counted.
# Prints one JSON line: {"mode":..,"depth":..,"requests":..,"seconds":..,"rps":..}.
use strict;
use warnings;
use Time::HiRes qw(time);
use MR::IProto;
use MR::IProto::Cluster;
use MR::IProto::Cluster::Server;

my ($servers, $mode, $seconds, $depth) = @ARGV;
die "usage: $0 HOST:PORT sync|async SECONDS [DEPTH]\n" unless $servers && $mode && $seconds;
$depth ||= 1;

my $MSG = 17;
# MR::IProto::_send_now takes data and pack out of the hash it is given, so each request needs a
# fresh one.
sub message { return { msg => $MSG, data => [ 1, 2, 3 ], pack => 'L3', unpack => sub { unpack 'L3', $_[0] } } }

sub check {
    my ($reply) = @_;
    die "unexpected reply: @{[ defined $reply ? join(',', @$reply) : 'undef' ]}\n"
        unless ref $reply eq 'ARRAY' && @$reply == 3 && $reply->[0] == 1 && $reply->[1] == 2 && $reply->[2] == 3;
}

my ($host, $port) = split /:/, $servers;
# The cluster is built by hand to raise the server's max_parallel (10 by default in
# MR::IProto::Cluster::Server) to the depth asked for, so that in async mode DEPTH requests are
# on the wire at once, as they are for the Node clients.
my $client = MR::IProto->new(
    max_parallel => $depth,
    cluster      => MR::IProto::Cluster->new(
        servers => [
            MR::IProto::Cluster::Server->new(host => $host, port => $port, timeout => 10, max_parallel => $depth),
        ],
    ),
);
# One untimed round trip first: it opens the connection, as the Node clients do before timing.
check($client->send(message()));

my ($done, $t0, $elapsed) = (0, 0, 0);
if ($mode eq 'sync') {
    $t0 = time;
    my $until = $t0 + $seconds;
    # Check the clock every 64 requests: time() is cheap but not free.
    while (1) {
        for (1 .. 64) { check($client->send(message())); }
        $done += 64;
        last if time >= $until;
    }
    $elapsed = time - $t0;
}
elsif ($mode eq 'async') {
    require AnyEvent;
    my $cv = AnyEvent->condvar;
    my $in_flight = 0;
    my $stopping = 0;
    my $fail;
    my $next;
    $next = sub {
        $in_flight++;
        $client->send(message(), sub {
            my ($reply, $error) = @_;
            $in_flight--;
            if ($error) { $fail = $error; $stopping = 1; }
            else { eval { check($reply); 1 } or do { $fail = $@; $stopping = 1; }; $done++; }
            if (!$stopping) { $next->(); }
            elsif ($in_flight == 0) { $cv->send; }
            return;
        });
        return;
    };
    $t0 = time;
    my $timer = AnyEvent->timer(after => $seconds, cb => sub { $stopping = 1; $cv->send if $in_flight == 0; });
    $next->() for 1 .. $depth;
    $cv->recv;
    $elapsed = time - $t0;
    die "async run failed: $fail" if $fail;
}
else {
    die "unknown mode $mode\n";
}

printf "{\"mode\":\"%s\",\"depth\":%d,\"requests\":%d,\"seconds\":%.6f,\"rps\":%.1f}\n",
    $mode, $mode eq 'sync' ? 1 : $depth, $done, $elapsed, $done / $elapsed;
