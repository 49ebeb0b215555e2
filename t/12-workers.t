# worker_processes 2 without rtmp_auto_push: every publish gets its _low,
# whichever worker takes the publisher and whichever takes the output.
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;
use VKStream::Media qw(publish stop_publisher wait_segments);

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    workers => 2));
$n->start;
is(scalar(my @w = $n->worker_pids(2)), 2, 'two workers');

my $got = 0;
for my $i (1 .. 10) {
    my $pid = publish($n->rtmp_url("live/w$i"), size => '320x240', fps => 15,
                      gop => 15, duration => 20);
    my $ok = wait_segments($n->hls_dir . "/w${i}_low.m3u8", 1, 15);
    ok($ok, "publish $i got its _low");
    $got++ if $ok;
    stop_publisher($pid);
}
is($got, 10, 'all ten publishes transcoded');
unlike($n->log_text, qr/StreamNotFound|\[alert\]|\[crit\]/,
       'no stream-not-found, no alerts');

$n->stop;
done_testing;
