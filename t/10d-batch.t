# vkstream_batch (issue 15): a context lets its input collect for the
# batch before it decodes, then transcodes all of it back to back, so its
# thread sleeps about once a batch instead of at every message, and what
# it made of the batch is republished in one send() rather than one per
# message; control and the end of the publish do not wait for a batch,
# and nothing is lost.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use VKStream::Nginx;
use VKStream::FLV qw(make_flv rtmp_publish_bg);
use VKStream::API qw(api stream_json wait_until);
use VKStream::Proc qw(thread_ids thread_waits tcp_segments_out);

# the directive's bounds, at "nginx -t"
for my $c (['vkstream_batch 2s;', qr/"vkstream_batch" must be at most 1s/],
           ['vkstream_batch soon;', qr/invalid value.*"vkstream_batch"|"vkstream_batch" directive invalid value/]) {
    my $t = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
        live => "vkstream on; $c->[0]"));
    my ($ok, $out) = $t->check;
    ok(!$ok, "rejected: $c->[0]");
    like($out, $c->[1], 'the message names the directive') or diag($out);
}

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => 'vkstream on; vkstream_batch 1s;',
    apps => 'application now { live on; vkstream on; vkstream_batch 0; }'));
my ($ok, $out) = $n->check;
ok($ok, 'vkstream_batch 1s and 0 pass') or diag($out);
$n->start;
my ($worker) = $n->worker_pids;
my %idle = map { $_ => 1 } thread_ids($worker);
my $tmp = tempdir(CLEANUP => 1);

sub low {
    my ($app, $name) = @_;
    my $j = stream_json($n, $name, $app) or return {};
    return $j->{renditions}[0] || {};
}

sub out { low(@_)->{frames_out} // 0 }

# the context's threads: those the worker gained with the publish
sub new_threads {
    my @t = grep { !$idle{$_} } thread_ids($worker);
    $idle{$_} = 1 for @t;
    return @t;
}

# its republish: the connection the worker opened to its own RTMP port
my %known;
sub new_republish {
    my @c = grep { !$known{$_} }
            keys %{ tcp_segments_out($worker, $n->rtmp_port) };
    $known{$_} = 1 for @c;
    return @c;
}

sub sends {
    my $segs = tcp_segments_out($worker, $n->rtmp_port);
    my $s = 0;
    $s += $segs->{$_} // 0 for @_;
    return $s;
}

sub waits {
    my $s = 0;
    $s += thread_waits($worker, $_) // 0 for @_;
    return $s;
}

# 10 fps with audio, real time, as a camera sends it
my @t = make_flv("$tmp/s.flv", size => '320x240', fps => 10, gop => 10,
                 duration => 16);

my $p1 = rtmp_publish_bg($n->rtmp_port, 'live', 'batched', \@t, speed => 1);
ok(wait_until(20, sub { out('live', 'batched') >= 10 }),
   'the batched stream encodes');
my @batched = new_threads();
my @batched_out = new_republish();

my $p2 = rtmp_publish_bg($n->rtmp_port, 'now', 'direct', \@t, speed => 1);
ok(wait_until(20, sub { out('now', 'direct') >= 10 }),
   'the unbatched stream encodes');
my @direct = new_threads();
my @direct_out = new_republish();
ok(@batched && @direct, 'threads of each context found ('
   . scalar(@batched) . ' and ' . scalar(@direct) . ')');
ok(@batched_out == 1 && @direct_out == 1,
   'the republish connection of each found ('
   . scalar(@batched_out) . ' and ' . scalar(@direct_out) . ')');

# a window of at least 5 s of media of each stream, read as frames
my ($b0, $d0) = (out('live', 'batched'), out('now', 'direct'));
my ($wb0, $wd0) = (waits(@batched), waits(@direct));
my ($ob0, $od0) = (sends(@batched_out), sends(@direct_out));
ok(wait_until(30, sub {
    out('live', 'batched') >= $b0 + 50 && out('now', 'direct') >= $d0 + 50
}), 'both encode on');
my $sb = (out('live', 'batched') - $b0) / 10;
my $sd = (out('now', 'direct') - $d0) / 10;
my $rb = (waits(@batched) - $wb0) / $sb;
my $rd = (waits(@direct) - $wd0) / $sd;
my $ob = (sends(@batched_out) - $ob0) / $sb;
my $od = (sends(@direct_out) - $od0) / $sd;
note(sprintf('sleeps per second of media: batched %.1f, direct %.1f',
             $rb, $rd));
note(sprintf('republish sends per second of media: batched %.1f, '
             . 'direct %.1f', $ob, $od));

# a 1 s batch: the thread sleeps on the empty queue and for the batch,
# about twice a second; unbatched it sleeps at nearly each of the ~53
# messages a second (10 video, 43 AAC frames of 44.1 kHz)
ok($rb <= 5, sprintf('batched: %.1f sleeps per second of media', $rb));
ok($rd >= 8, sprintf('unbatched: %.1f sleeps per second of media', $rd));

# a 1 s batch republishes its ~53 messages a second in one send (more
# when the thread takes longer than the batch to encode one); unbatched,
# each message is a send of its own
ok($ob <= 5, sprintf('batched: %.1f republish sends per second of media',
                     $ob));
ok($od >= 20, sprintf('unbatched: %.1f republish sends per second of media',
                      $od));

# the end of the publish flushes what the batch held: every frame is
# encoded, as without a batch
my $frames = grep { $_->[0] == 9 && ord(substr($_->[2], 1, 1)) == 1 } @t;
waitpid($p1, 0);
ok($? == 0, 'batched publisher sent everything');
waitpid($p2, 0);
ok($? == 0, 'unbatched publisher sent everything');
for my $s (['live', 'batched'], ['now', 'direct']) {
    ok(wait_until(15, sub {
        my $j = stream_json($n, $s->[1], $s->[0]);
        $j && ($j->{state} // '') eq 'ended';
    }), "$s->[1] ends");
    my $r = low(@$s);
    is($r->{frames_out}, $frames, "$s->[1]: all $frames frames encoded");
    is($r->{frames_dropped}, 0, "$s->[1]: none dropped");
}

# a control is applied at once, not at the end of a batch (the unit test
# times it): stop and restart while the media flows
my $p3 = rtmp_publish_bg($n->rtmp_port, 'live', 'ctl', \@t, speed => 1);
ok(wait_until(20, sub { (low('live', 'ctl')->{state} // '') eq 'running' }),
   'a third stream runs');
my ($r) = api($n, 'POST', '/vkstream/streams/live/ctl/renditions/_low/stop');
ok($r->{status} >= 200 && $r->{status} < 300, 'stop accepted');
ok(wait_until(10, sub { (low('live', 'ctl')->{state} // '') eq 'stopped' }),
   'stopped (state ' . (low('live', 'ctl')->{state} // '') . ')');
($r) = api($n, 'POST', '/vkstream/streams/live/ctl/renditions/_low/restart');
ok($r->{status} >= 200 && $r->{status} < 300, 'restart accepted');
ok(wait_until(20, sub { (low('live', 'ctl')->{state} // '') eq 'running' }),
   'running again');
kill 'TERM', $p3;
waitpid($p3, 0);

$n->stop;
done_testing;
