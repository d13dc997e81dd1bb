#!/usr/bin/perl
# Answers pack/unpack requests with Perl's own pack/unpack, one JSON object per line on stdin and
# stdout, for the parity suite (test/parity.test.ts). Values on the wire:
#   number            an integer Perl holds as an IV
#   {"f": "<hex>"}    a double, as its 8 little-endian bytes
#   {"s": "<hex>"}    a byte string
#   null              undef
# Requests:  {"id":1,"op":"pack","t":"L3","v":[...]}   {"id":2,"op":"unpack","t":"L3","d":"<hex>"}
#            {"id":3,"op":"bench","t":"L3","v":[...],"n":100000}   (times pack and unpack inside Perl)
# Replies:   {"id":1,"ok":"<hex>"}  {"id":2,"ok":[values]}  {"id":n,"err":"message"}
use strict;
use warnings;
use JSON::PP;
use B ();
use Time::HiRes ();

my $json = JSON::PP->new->canonical->ascii;
$| = 1;

sub from_wire {
    my ($v) = @_;
    return undef unless defined $v;
    return $v + 0 unless ref $v;
    return unpack('d<', pack('H*', $v->{f})) if exists $v->{f};
    return pack('H*', $v->{s});
}

sub to_wire {
    my ($v) = @_;
    return undef unless defined $v;
    my $flags = B::svref_2object(\$v)->FLAGS;
    if ($flags & B::SVf_POK) {
        return { s => unpack('H*', $v) };
    }
    if ($flags & B::SVf_IOK) {
        return { i => "$v" };
    }
    return { f => unpack('H*', pack('d<', $v)) };
}

my $wide;
sub result_bytes {
    my ($s) = @_;
    $wide = 0;
    if (utf8::is_utf8($s)) {
        if ($s =~ /[^\x00-\xff]/) { utf8::encode($s); $wide = 1 }
        else { utf8::downgrade($s) }
    }
    return unpack('H*', $s);
}

# A request that runs away (a count read from data gone wrong) is cut short; the suite spawns
# perl with PERL_SIGNALS=unsafe so the alarm interrupts a long pack/unpack op.
$SIG{ALRM} = sub { die "TIMEOUT\n" };

while (my $line = <STDIN>) {
    my $req = $json->decode($line);
    my $reply = { id => $req->{id} };
    # Benchmark loops run as long as they need; single requests get 5 seconds.
    alarm($req->{op} eq 'bench' ? 0 : 5);
    my $ok = eval {
        use warnings FATAL => 'all';
        my $t = $req->{t};
        if ($req->{op} eq 'pack') {
            my @v = map { from_wire($_) } @{ $req->{v} };
            $reply->{ok} = result_bytes(pack($t, @v));
            $reply->{wide} = 1 if $wide;
        } elsif ($req->{op} eq 'unpack') {
            my $d = pack('H*', $req->{d});
            $reply->{ok} = [ map { to_wire($_) } unpack($t, $d) ];
        } elsif ($req->{op} eq 'bench') {
            my @v = map { from_wire($_) } @{ $req->{v} };
            my $n = $req->{n};
            my $bytes = pack($t, @v);
            # CPU time, as the Node side measures: on a shared machine wall time counts the neighbours.
            my $t0 = Time::HiRes::clock();
            for (1 .. $n) { my $x = pack($t, @v) }
            my $t1 = Time::HiRes::clock();
            for (1 .. $n) { my @x = unpack($t, $bytes) }
            my $t2 = Time::HiRes::clock();
            $reply->{ok} = { pack => $n / ($t1 - $t0), unpack => $n / ($t2 - $t1) };
        }
        1;
    };
    alarm 0;
    if (!$ok) {
        my $err = "$@";
        $err =~ s/ at \S+ line \d+(?:, <\w+> (?:line|chunk) \d+)?\.?\n?\z//;
        $reply->{err} = $err;
        delete $reply->{ok};
    }
    print $json->encode($reply), "\n";
}
