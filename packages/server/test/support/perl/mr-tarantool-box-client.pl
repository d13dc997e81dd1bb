#!/usr/bin/env perl
# Drives the box double with the reference Perl driver, MR::Tarantool::Box, and prints one line per
# call for the Node test (src/testing/box-double-perl.test.ts) to compare.
# Usage: mr-tarantool-box-client.pl HOST:PORT
use strict;
use warnings;
use Encode ();
use MR::Tarantool::Box;

$| = 1;
binmode STDOUT, ':encoding(UTF-8)';
my $servers = shift @ARGV or die "usage: $0 HOST:PORT\n";
my $box = MR::Tarantool::Box->new({
    servers => $servers,
    timeout => 10,
    raise   => 0,
    spaces  => [ {
        space         => 0,
        name          => 'users',
        format        => 'L$L',
        fields        => [qw/id name age/],
        indexes       => [ { index_name => 'primary', keys => [0] }, { index_name => 'age', keys => [2] } ],
        default_index => 'primary',
    } ],
});

sub row { my ($t) = @_; return $t ? join(',', map { "$_=$t->{$_}" } qw/id name age/) : 'none' }
sub err { my $e = $box->ErrorStr; $e =~ s/\0//g; return $e }

print 'insert ', ($box->Insert(1, 'alice', 30) ? 'ok' : err()), "\n";
print 'insert ', ($box->Insert(2, 'bob', 25) ? 'ok' : err()), "\n";
# Insert packs what it is given ('$' is 'a*'), so text goes in as UTF-8 bytes; a '$' field comes back
# as characters.
my $zoe = Encode::encode_utf8("Zo\x{eb} \x{2713}");
print 'want ', row($box->Insert(3, $zoe, 30, { want_inserted_tuple => 1 })), "\n";
print 'add ', ($box->Add(1, 'mallory', 1) ? 'ok' : err()), "\n";
print 'replace ', ($box->Replace(9, 'nobody', 1) ? 'ok' : err()), "\n";
print 'select ', row(scalar $box->Select(1)), "\n";
print 'select many ', join(' ', map { $_->{id} } $box->Select(3, 9, 1)), "\n";
print 'select age ', join(' ', map { $_->{id} } $box->Select(30, { use_index => 'age' })), "\n";
print 'select limit ', join(' ', map { $_->{id} } $box->Select(30, { use_index => 'age', limit => 1 })), "\n";
print 'update ', row($box->UpdateMulti(1, [ age => add => 1 ], [ name => append => '!' ], { want_updated_tuple => 1 })), "\n";
print 'num ', ($box->Num(2, 'age', num_sub => 5) ? 'ok' : err()), ' ', row(scalar $box->Select(2)), "\n";
print 'cutbeg ', row($box->UpdateMulti(2, [ name => cutbeg => 1 ], { want_updated_tuple => 1 })), "\n";
print 'update missing ', ($box->UpdateMulti(42, [ age => set => 1 ]) + 0), "\n";
print 'delete ', row($box->Delete(2, { want_deleted_tuple => 1 })), "\n";
print 'delete missing ', ($box->Delete(2) + 0), "\n";
my $called = $box->Call('users.older', [ pack('L', 30) ], { unpack_format => 'L$L' });
# Call returns its '$' fields as bytes (it does not _PostSelect): decode them to print.
print 'call ', join(' ', map { join(',', map { Encode::decode_utf8($_) } @$_) } @$called), "\n";
print 'call missing ', ($box->Call('nope', [], { unpack_format => 'L' }) ? 'ok' : err()), "\n";
print 'call lua error ', ($box->Call('users.fail', [], { unpack_format => 'L' }) ? 'ok' : err()), "\n";
my $box9 = MR::Tarantool::Box->new({
    servers => $servers, timeout => 10, raise => 0,
    spaces  => [ { space => 9, format => 'L', indexes => [ { index_name => 'primary', keys => [0] } ] } ],
});
print 'no space ', (defined $box9->Select(1) ? 'found' : $box9->ErrorStr =~ s/\0//gr), "\n";
print 'ping ', ($box->{server}->send({ msg => 0xff00, payload => '', unpack => sub { 'pong' } })->[0] // 'none'), "\n";
