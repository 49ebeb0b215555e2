# Only accepted publishes are transcoded; own outputs never are; limits
# apply; rendition directives are checked by nginx -t.
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;
use VKStream::Media qw(publish stop_publisher wait_segments);
use VKStream::Proc qw(thread_ids thread_sched can_realtime);

sub check_conf {
    my (%o) = @_;
    my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(%o));
    return $n->check;
}

my @bad = (
    [ 'vkstream_rendition _x width=481;', qr/"vkstream_rendition": invalid value "481" for "width"/ ],
    [ 'vkstream_rendition _x preset=turbo;', qr/invalid value "turbo" for "preset"/ ],
    [ 'vkstream_rendition _x colour=red;', qr/"vkstream_rendition": unknown parameter "colour"/ ],
    [ 'vkstream_rendition _x crf;', qr/invalid parameter "crf", expected key=value/ ],
    [ 'vkstream_rendition _x; vkstream_rendition _x;', qr/duplicate suffix "_x"/ ],
    [ 'vkstream_rendition a/b;', qr/invalid suffix "a\/b"/ ],
    [ 'vkstream_rendition _c video=copy width=320;', qr/video=copy cannot scale/ ],
    [ 'vkstream_rendition _x upscale=yes;', qr/"vkstream_rendition": invalid value "yes" for "upscale"/ ],
    [ 'vkstream_rendition _c video=copy upscale=on;', qr/video=copy cannot scale/ ],
    [ 'vkstream_max_gop 100ms;', qr/"vkstream_max_gop" must be at least 1s/ ],
    [ 'vkstream_nice 40;', qr/vkstream_nice.*40|value must be between/ ],
    [ 'vkstream_sched fifo;', qr/"vkstream_sched": invalid value "fifo", expected normal or idle/ ],
    [ 'vkstream_sched idle; vkstream_sched normal;', qr/"vkstream_sched" directive is duplicate/ ],
    [ 'vkstream_output nowhere;', qr/"vkstream_output": invalid address "nowhere"/ ],
    [ 'vkstream_queue_size 1k;', qr/"vkstream_queue_size" must be at least/ ],
);
for my $b (@bad) {
    my ($ok, $out) = check_conf(live => "vkstream on; $b->[0]");
    ok(!$ok, "rejected: $b->[0]");
    like($out, $b->[1], 'message names directive and value');
}
my ($ok, $out) = check_conf(live => 'vkstream on;
    vkstream_rendition _low; vkstream_rendition _720 height=720
    bitrate=1500k maxrate=2m bufsize=3m preset=faster profile=main
    level=3.1 threads=2 fps=30 audio_bitrate=96k audio_rate=48000
    audio_channels=2 app=hls host=127.0.0.1:1935 upscale=on;
    vkstream_rendition _src video=copy audio=copy;
    vkstream_max_gop 4s; vkstream_nice 10; vkstream_sched idle;
    vkstream_max_transcodes 4;
    vkstream_queue_size 8m; vkstream_output 127.0.0.1:1935;');
ok($ok, 'a full ladder configuration passes') or diag($out);

# A publisher refused by "deny publish" never starts a context; the
# rendition app has vkstream on too, and still nothing transcodes _low.
my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => 'vkstream on; vkstream_max_transcodes 1;',
    hls => 'vkstream on;',
    apps => 'application closed { live on; vkstream on;
                                  deny publish all; }',
));
$n->start;

my $pid = publish($n->rtmp_url('closed/x'), size => '320x240', fps => 15,
                  duration => 10);
# the refusal closes the session: nothing of it reaches the module after
ok($n->wait_log(qr/access forbidden by rule/, 15), 'publish denied');
stop_publisher($pid);
unlike($n->log_text, qr/vkstream: publish "closed\/x"/,
       'denied publish not transcoded');

my $p1 = publish($n->rtmp_url('live/one'), size => '320x240', fps => 15,
                 gop => 15, duration => 30);
ok(wait_segments($n->hls_dir . '/one_low.m3u8', 2, 30), 'first stream');
ok(!-e $n->hls_dir . '/one_low_low.m3u8',
   'own output not transcoded although the hls app has vkstream on');

my $p2 = publish($n->rtmp_url('live/two'), size => '320x240', fps => 15,
                 gop => 15, duration => 30);
ok($n->wait_log(qr/limit of 1 transcodes per worker reached, "live\/two"/,
                15), 'second stream over the limit is refused with a warn');
ok(wait_segments($n->hls_dir . '/one_low.m3u8', 3, 15),
   'first stream undisturbed');
stop_publisher($p1);
stop_publisher($p2);

$n->stop;

# Server-wide limit, counted in shared memory across two workers.
$n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    workers => 2, live => 'vkstream on; vkstream_max_transcodes_total 1;'));
$n->start;
$p1 = publish($n->rtmp_url('live/a1'), size => '320x240', fps => 15,
              gop => 15, duration => 30);
ok(wait_segments($n->hls_dir . '/a1_low.m3u8', 1, 30), 'first stream');
$p2 = publish($n->rtmp_url('live/a2'), size => '320x240', fps => 15,
              gop => 15, duration => 30);
ok($n->wait_log(qr/limit of 1 transcodes per server reached, "live\/a2"/,
                15), 'second stream refused, whichever worker has it');
stop_publisher($p1);
# the slot is given back when the context ends, not when the publisher goes
ok($n->wait_log(qr/vkstream: close "live\/a1"/, 15), 'first stream closed');
my $p3 = publish($n->rtmp_url('live/a3'), size => '320x240', fps => 15,
                 gop => 15, duration => 30);
ok(wait_segments($n->hls_dir . '/a3_low.m3u8', 1, 30),
   'the slot is free again once the first stream ended');
stop_publisher($_) for $p2, $p3;
$n->stop;

# vkstream_sched idle: the context's threads (and the codecs' threads they
# start) are SCHED_IDLE, the event loop is not (SCHED_RR by
# vkstream_loop_sched, where root may take it; else SCHED_OTHER).
$n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => 'vkstream on; vkstream_sched idle;'));
$n->start;
my ($w) = $n->worker_pids;
$p1 = publish($n->rtmp_url('live/idle'), size => '320x240', fps => 15,
              gop => 15, duration => 30);
ok(wait_segments($n->hls_dir . '/idle_low.m3u8', 1, 30),
   'sched idle: transcodes');
my %pol = map { $_ => thread_sched($w, $_)->{policy} } thread_ids($w);
my $loop = can_realtime() ? 'SCHED_RR' : 'SCHED_OTHER';
is($pol{$w}, $loop, "sched idle: the event loop is not idle ($loop)");
my $idle = grep { $_ eq 'SCHED_IDLE' } values %pol;
cmp_ok($idle, '>=', 2, "sched idle: $idle threads are SCHED_IDLE");
stop_publisher($p1);
$n->stop;

done_testing;
