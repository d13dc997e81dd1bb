#!/usr/bin/perl
# Prints, one line per key read from stdin, the host:port a Perl MR::IProto client balances that key
# to. Usage: pick.pl SERVERS BALANCE < keys
use strict;
use warnings;
use MR::IProto;

my ($servers, $balance) = @ARGV;
my $client = MR::IProto->new(servers => $servers, balance => $balance);
$| = 1;
while (my $key = <STDIN>) {
    chomp $key;
    my $server = $client->cluster->server($key);
    print $server->host, ':', $server->port, "\n";
}
