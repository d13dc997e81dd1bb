#!/usr/bin/perl
# Drives the Perl MR::Tarantool::Box for the parity tests: one JSON command per stdin line, one JSON
# answer per stdout line.
#
#   {"op":"new","args":{...}}                          MR::Tarantool::Box->new(args); servers as given
#   {"op":"call","method":"Insert","args":[...],"opts":{...}}
#   {"op":"union","reqs":[[space,[keys],{opts}],...],"opts":{...}}
#
# Values in args: a JSON string is text (sent as its UTF-8 bytes), {"hex":"..."} bytes, a number a
# number. Answers: {"value":V,"error":CODE,"errstr":TEXT} or {"died":MESSAGE}. Every scalar of V is
# the hex of its bytes (UTF-8 text encoded), so numbers and strings compare as Perl prints them.
#
# `union` runs the body MR::Tarantool::Box::SelectUnion has after its `confess "not supported yet"`,
# through the driver's own _validate_param / _PackSelect / _chat / _unpack_select_multi /
# _PostSelect, handing _PackSelect each request's keys (SelectUnion hands it the request itself).
use strict;
use warnings;
use JSON::PP;
use MR::Tarantool::Box;

$| = 1;
my $json = JSON::PP->new->utf8->canonical->allow_nonref;
my $box;

sub arg_in {
    my ($v) = @_;
    return $v unless ref $v;
    return pack('H*', $v->{hex}) if ref $v eq 'HASH' && exists $v->{hex};
    return [ map { arg_in($_) } @$v ] if ref $v eq 'ARRAY';
    return { map { $_ => arg_in($v->{$_}) } keys %$v } if ref $v eq 'HASH';
    return $v;
}

sub canon {
    my ($v) = @_;
    return undef unless defined $v;
    return [ map { canon($_) } @$v ] if ref $v eq 'ARRAY';
    return { map { $_ => canon($v->{$_}) } keys %$v } if ref $v eq 'HASH';
    my $s = "$v";
    utf8::encode($s) if utf8::is_utf8($s);
    return unpack('H*', $s);
}

while (my $line = <STDIN>) {
    my $cmd = $json->decode($line);
    my $out;
    eval {
        if ($cmd->{op} eq 'new') {
            $box = MR::Tarantool::Box->new(arg_in($cmd->{args}));
            $out = { value => undef };
        } elsif ($cmd->{op} eq 'call') {
            my $method = $cmd->{method};
            my @args = map { arg_in($_) } @{ $cmd->{args} };
            my $opts = arg_in($cmd->{opts} || {});
            my @r;
            if ($method eq 'Select') {
                @r = $box->Select(@args, { %$opts, want => 'arrayref' });
            } else {
                @r = scalar $box->$method(@args, $opts);
            }
            my $r = $r[0];
            # MR::Tarantool::Box answers a count of 0 as the true zero '0E0'.
            $r = 0 if defined $r && !ref $r && $r eq '0E0';
            $out = { value => canon($r), error => $box->Error, errstr => $box->ErrorStr };
        } elsif ($cmd->{op} eq 'union') {
            my $self = $box;
            my @reqs;
            for my $req (@{ arg_in($cmd->{reqs}) }) {
                my ($space, $keys, $o) = @$req;
                my ($param, $ns) = $self->_validate_param([ { %{ $o || {} }, space => $space } ],
                    qw/use_index raw limit offset/);
                push @reqs, {
                    payload   => $self->_PackSelect($param, $ns, @$keys),
                    param     => $param,
                    namespace => $ns,
                };
            }
            my $r = $self->_chat(
                msg     => 18,
                payload => pack('L (a*)*', scalar(@reqs), map { $_->{payload} } @reqs),
                unpack  => sub { $self->_unpack_select_multi([ map { $_->{namespace} } @reqs ], 'SMULTI', @_) },
                retry   => $self->{select_retry},
                timeout => $self->{timeout},
            );
            if ($r) {
                $self->_PostSelect($r->[$_], $reqs[$_]{param}, $reqs[$_]{namespace}) for 0 .. $#$r;
            }
            $out = { value => canon($r || undef), error => $box->Error, errstr => $box->ErrorStr };
        } else {
            die "unknown op $cmd->{op}\n";
        }
        1;
    } or do {
        my $err = $@ || 'unknown error';
        $err =~ s/\s+at \S+ line \d+.*//s;
        $out = { died => "$err" };
    };
    print $json->encode($out), "\n";
}
