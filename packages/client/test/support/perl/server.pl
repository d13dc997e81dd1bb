#!/usr/bin/perl
# An MR::IProto::Server for the interop tests: answers every message with pack('L', ID) . body,
# so the client can tell which server answered. Usage: server.pl PORT ID
use strict;
use warnings;
use AnyEvent;
use MR::IProto::Server;

my ($port, $id) = @ARGV;
die "usage: $0 PORT ID\n" unless defined $id;
my $server = MR::IProto::Server->new(
    host      => '127.0.0.1',
    port      => $port,
    # MR::IProto::Server hands these to every connection and its type checks refuse undef.
    on_accept => sub { return },
    on_close  => sub { return },
    on_error  => sub { return },
    debug_cb  => sub { return },
    handler   => sub {
        my ($connection, $msg, $data) = @_;
        return pack('L', $id) . $data;
    },
);
$server->run();
$| = 1;
print "ready $port\n";
AnyEvent->condvar->recv();
