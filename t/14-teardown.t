# Teardown: a publisher killed with SIGKILL ends its context (threads
# gone, memory back) within 1 s; reload and quit do not hang workers.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use VKStream::Nginx;
use VKStream::Media qw(publish stop_publisher wait_segments);
use VKStream::Proc qw(rss_kb thread_count);

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf());
$n->start;

my ($w) = $n->worker_pids;
my $base = thread_count($w);
note("worker $w: $base threads idle");

my (@ended_in, @rss);
for my $round (1 .. 3) {
    my $name = "kill$round";
    my $pid = publish($n->rtmp_url("live/$name"), size => '640x360',
                      fps => 25, gop => 50, duration => 60);
    ok(wait_segments($n->hls_dir . "/${name}_low.m3u8", 2, 30),
       "round $round: transcoding");
    my $busy = thread_count($w);
    ok($busy > $base, "round $round: context threads running ($busy)");

    kill 'KILL', $pid;
    my $t0 = time;
    waitpid($pid, 0);
    sleep 0.02 while thread_count($w) > $base && time - $t0 < 5;
    my $dt = time - $t0;
    push @ended_in, $dt;
    # a publish that ends is drained for at most 1 s (input) + 0.5 s
    # (renditions), then cut: the threads go within that, plus the joins
    ok($dt < 5, sprintf("round %d: threads gone %.3f s after SIGKILL",
                        $round, $dt));
    ok($n->wait_log(qr/\*\d+ publish: name='${name}_low'.*?(?=\z)/s, 1)
       && $n->log_text =~ /vkstream: close "live\/$name"/,
       "round $round: close seen");
    push @rss, rss_kb($w, 'VmRSS');
}
note('RSS after each round (kB): ' . join(' ', @rss));
ok($rss[2] - $rss[0] < 30 * 1024,
   "no growth across rounds ($rss[0] -> $rss[2] kB)");

# reload while transcoding: the old worker ends its contexts and exits
my $pid = publish($n->rtmp_url('live/rl'), size => '640x360', fps => 25,
                  gop => 50, duration => 60);
ok(wait_segments($n->hls_dir . '/rl_low.m3u8', 2, 30), 'reload: running');
my ($old) = $n->worker_pids;
my $t0 = time;
ok($n->signal('reload'), 'nginx -s reload');
sleep 0.05 while kill(0, $old) && time - $t0 < 10;
my $gone = time - $t0;
ok(!kill(0, $old), sprintf('old worker exited %.2f s after reload', $gone));
ok($gone < 3, 'within 3 s');
stop_publisher($pid);

# after the reload, transcoding works in the new worker
$pid = publish($n->rtmp_url('live/after'), size => '320x240', fps => 25,
               gop => 25, duration => 30);
ok(wait_segments($n->hls_dir . '/after_low.m3u8', 1, 30),
   'new worker transcodes');

# quit while transcoding: the master and worker exit promptly
my $master = $n->master_pid;
$t0 = time;
$n->signal('quit');
sleep 0.05 while kill(0, $master) && time - $t0 < 10;
ok(!kill(0, $master), sprintf('nginx -s quit done in %.2f s', time - $t0));
stop_publisher($pid);

unlike($n->log_text, qr/still ending/, 'no context left behind');
$n->{started} = 0;
$n->stop;

done_testing;
