# The renditions' own publishes carry a marker that keeps them from being
# transcoded again.  It is made once and kept in the shared zone, so that
# after a reload the new workers recognise the old workers' outputs (which
# reach them during the reload) and the old workers theirs.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use VKStream::Nginx;
use VKStream::Media qw(publish stop_publisher);

# vkstream on in hls too: an output not recognised would be transcoded
my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    hls => 'vkstream on;'));
$n->start;

# nginx-rtmp logs every publish with its arguments
sub marker_of {
    my ($name) = @_;
    return $n->wait_log(qr/publish: name='${name}_low' args='[^']*?vkstream_src=([0-9a-f]{16})/, 30);
}

my $p1 = publish($n->rtmp_url('live/before'), size => '320x240', fps => 15,
                 gop => 15, duration => 30);
my $m1 = marker_of('before');
ok($m1, 'the rendition publish carries a marker');
stop_publisher($p1);

my @old = $n->worker_pids;
ok($n->signal('reload'), 'reload');
my $end = time + 20;
my @new;
while (time < $end) {
    @new = grep { my $p = $_; !grep { $_ == $p } @old } $n->worker_pids;
    last if @new && !grep { kill 0, $_ } @old;
    sleep 0.1;
}
ok(@new, 'a new worker');

my $p2 = publish($n->rtmp_url('live/after'), size => '320x240', fps => 15,
                 gop => 15, duration => 30);
my $m2 = marker_of('after');
is($m2, $m1, 'the new cycle marks its outputs as the old one did');
stop_publisher($p2);
unlike($n->log_text, qr/vkstream: publish "hls\/\w+_low"/,
       'no output is taken for a source');
$n->stop;
done_testing;
