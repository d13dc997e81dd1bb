#!/usr/bin/perl
# Sends one plain message with a Perl MR::IProto client (async mode, AnyEvent) and prints how it
# ended, so the tests can compare the tries the Perl client makes with ours. Usage:
#   retries.pl SERVERS MAX_REQUEST_RETRIES MODE
# MODE: retry (communication errors may be retried), noretry, isretry (retry while the reply < 100).
#
# Async mode is the reference: in sync mode MR::IProto::Connection::Sync::_handle_error runs the
# callbacks (which send the retry on the same connection) and then empties its table of requests
# sent, losing the retry, so a sync send with one server returns neither a reply nor an error.
use strict;
use warnings;
use AnyEvent;
use MR::IProto;

my ($servers, $max, $mode) = @ARGV;
my $client = MR::IProto->new(servers => $servers, max_request_retries => $max, timeout => 2);
my %message = (msg => 7, data => [1], unpack => sub { unpack 'L', $_[0] });
$message{retry} = 1 if $mode eq 'retry';
$message{is_retry} = sub { $_[0][0] < 100 } if $mode eq 'isretry';
my $done = AnyEvent->condvar;
$client->send(\%message, sub { $done->send(@_) });
my ($reply, $error) = $done->recv;
$| = 1;
if ($error) {
    print "error\n";
} else {
    print "reply @$reply\n";
}
