#!/usr/bin/perl
# The Perl MR::Tarantool::Box under the same load as our Box in client.mjs:
#   perl perl-box.pl PORT select|insert sync SECONDS
#   perl perl-box.pl PORT select|insert async SECONDS DEPTH
# async uses the driver's `callback` option (AnyEvent); its MR::IProto gets max_parallel DEPTH so
# DEPTH requests are on the wire at once. Timing happens here, after one untimed request.
# Prints one JSON line: {"rps":..,"requests":..}.
use strict;
use warnings;
use Time::HiRes qw(time);
use MR::IProto;
use MR::IProto::Cluster;
use MR::IProto::Cluster::Server;
use MR::Tarantool::Box;

my ($port, $op, $mode, $seconds, $depth) = @ARGV;
die "usage: $0 PORT select|insert sync|async SECONDS [DEPTH]\n" unless $port && $op && $mode && $seconds;
$depth ||= 1;
my $USERS = 1000;

{
    # MR::Tarantool::Box builds its MR::IProto through `iprotoclass`; this one raises max_parallel.
    package BenchIProto;
    sub new {
        my ($class, $args) = @_;
        my ($host, $p) = split /:/, $args->{servers};
        return MR::IProto->new(
            max_parallel        => $depth,
            max_request_retries => 1,
            cluster             => MR::IProto::Cluster->new(
                servers => [ MR::IProto::Cluster::Server->new(host => $host, port => $p, timeout => 10, max_parallel => $depth) ],
            ),
        );
    }
}

my $box = MR::Tarantool::Box->new({
    servers     => "127.0.0.1:$port",
    iprotoclass => 'BenchIProto',
    raise       => $mode eq 'async' ? 0 : 1,
    timeout     => 10,
    spaces      => [ {
        space   => 0, name => 'users', format => 'L$L', fields => [qw/id name age/],
        indexes => [ { index_name => 'primary', keys => [0] } ],
    } ],
});

sub check {
    my ($r) = @_;
    if ($op eq 'select') { die "bad select reply\n" unless ref $r eq 'HASH' && defined $r->{name} }
    else { die "bad insert reply\n" unless $r }
}
my $key = 0;
sub next_key { $key = ($key % $USERS) + 1; return $key }

if ($op eq 'select') { check(scalar $box->Select(1, { raise => 1 })) } else { check($box->Insert(1, 'user 1', 1)) }

my ($done, $t0, $elapsed) = (0, 0, 0);
if ($mode eq 'sync') {
    $t0 = time;
    my $until = $t0 + $seconds;
    while (1) {
        for (1 .. 64) {
            my $k = next_key();
            check($op eq 'select' ? scalar $box->Select($k) : $box->Insert($k, "user $k", $k % 100));
        }
        $done += 64;
        last if time >= $until;
    }
    $elapsed = time - $t0;
} else {
    require AnyEvent;
    my $cv = AnyEvent->condvar;
    my ($in_flight, $stopping, $fail) = (0, 0, undef);
    my $next;
    my $cb = sub {
        my ($r, $error) = @_;
        $in_flight--;
        if ($error || !$r) { $fail = $error || 'no result'; $stopping = 1 }
        else { eval { check($op eq 'select' ? $r->[0] : $r); 1 } or do { $fail = $@; $stopping = 1 }; $done++ }
        if (!$stopping) { $next->() } elsif ($in_flight == 0) { $cv->send }
        return;
    };
    $next = sub {
        $in_flight++;
        my $k = next_key();
        if ($op eq 'select') { my $ok = $box->Select($k, { callback => $cb }) }
        else { $box->Insert($k, "user $k", $k % 100, { callback => $cb }) }
        return;
    };
    $t0 = time;
    my $timer = AnyEvent->timer(after => $seconds, cb => sub { $stopping = 1; $cv->send if $in_flight == 0 });
    $next->() for 1 .. $depth;
    $cv->recv;
    $elapsed = time - $t0;
    die "async run failed: $fail\n" if $fail;
}
printf "{\"rps\":%.1f,\"requests\":%d}\n", $done / $elapsed, $done;
