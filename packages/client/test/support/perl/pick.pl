#!/usr/bin/perl
# Prints, one line per key read from stdin, the host:port a Perl MR::IProto client balances that key
# to. Servers listed in INACTIVE (host:port,...) are marked inactive first, as a failed connection
# marks them. Usage: pick.pl SERVERS BALANCE [INACTIVE] < keys
use strict;
use warnings;
use MR::IProto;

my ($servers, $balance, $inactive) = @ARGV;
my $client = MR::IProto->new(servers => $servers, balance => $balance);
my %down = map { $_ => 1 } split /,/, $inactive // '';
for my $server (@{ $client->cluster->servers }) {
    $server->active(0) if $down{ $server->host . ':' . $server->port };
}
$| = 1;
while (my $key = <STDIN>) {
    chomp $key;
    my $server = $client->cluster->server($key);
    print $server->host, ':', $server->port, "\n";
}
