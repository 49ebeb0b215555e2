# A context with one rendition (the default _low) encodes on its decoder
# thread (issue 15): the worker gains the context thread and the H.264
# decoder's slice thread, no rendition thread; the rendition's stop and
# restart still apply while the publisher sends nothing (the API wakes the
# context thread), and the end flushes and counts as before.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use VKStream::Nginx;
use VKStream::FLV qw(make_flv rtmp_publish);
use VKStream::API qw(api stream_json wait_until);
use VKStream::Proc qw(thread_count);

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf());
$n->start;
my ($worker) = $n->worker_pids;
my $idle = thread_count($worker);
my $tmp = tempdir(CLEANUP => 1);

sub low {
    my $j = stream_json($n, 'still') or return {};
    return $j->{renditions}[0] || {};
}

# 4 s of media, then the publisher stays connected and sends nothing
my @t = make_flv("$tmp/s.flv", size => '320x240', fps => 10, gop => 10,
                 duration => 4);
my $s = rtmp_publish($n->rtmp_port, 'live', 'still', \@t, speed => 1,
                     close => 0);
ok($s, 'published, connection held open');

ok(wait_until(20, sub { (low()->{frames_out} // 0) >= 30 }),
   'the rendition encodes (' . (low()->{frames_out} // 0) . ' frames)');
is(low()->{state}, 'running', 'running');
is(thread_count($worker) - $idle, 2,
   'one context thread and the decoder\'s slice thread, no rendition '
   . 'thread');

# nothing arrives any more: only the API's wake-up can apply the stop
my ($r) = api($n, 'POST', '/vkstream/streams/live/still/renditions/_low/stop');
ok($r->{status} >= 200 && $r->{status} < 300, 'stop accepted')
    or diag("status $r->{status}");
ok(wait_until(10, sub { (low()->{state} // '') eq 'stopped' }),
   'stopped while the publisher is silent (state ' . (low()->{state} // '')
   . ')');
ok($n->wait_log(qr/rendition "_low": stopped on request/, 5),
   'stop logged');

($r) = api($n, 'POST', '/vkstream/streams/live/still/renditions/_low/restart');
ok($r->{status} >= 200 && $r->{status} < 300, 'restart accepted');
ok(wait_until(10, sub { (low()->{state} // '') eq 'starting' }),
   'restarting: waits for a keyframe (state ' . (low()->{state} // '')
   . ')');

my $out = low()->{frames_out};
my $dropped = low()->{frames_dropped};
close $s;
ok($n->wait_log(qr/vkstream: close "live\/still"/, 5), 'close logged');
ok(wait_until(10, sub {
    my $j = stream_json($n, 'still');
    !$j || ($j->{state} // '') eq 'ended';
}), 'the stream ends');
ok(wait_until(10, sub { thread_count($worker) == $idle }),
   'its threads are gone (' . thread_count($worker) . " of $idle)");
is($dropped, 0, 'no frame dropped');
ok($out >= 30, "frames out $out");

$n->stop;
done_testing;
