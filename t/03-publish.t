# A publish to "live" is observed by the module, and so is its close.
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;
use VKStream::HTTP qw(http_json);
use VKStream::Media qw(publish stop_publisher wait_segments);

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf());
$n->start;

my $pid = publish($n->rtmp_url('live/cam1'), size => '320x240', fps => 15,
                  duration => 30);
ok($n->wait_log(qr{vkstream: publish "live/cam1"}, 15), 'publish logged');

stop_publisher($pid);
ok($n->wait_log(qr{vkstream: close "live/cam1"}, 10), 'close logged');

# A publish to an application without vkstream is not taken: once
# nginx-rtmp's own HLS has cut a segment of it, its media has flowed past
# the module's hooks.
$pid = publish($n->rtmp_url('hls/plain'), size => '320x240', fps => 15,
               gop => 15, duration => 30);
ok(wait_segments($n->hls_dir . '/plain.m3u8', 1, 30),
   'the plain publish reached HLS');
stop_publisher($pid);
unlike($n->log_text, qr{vkstream: publish "hls/plain"},
       'application without vkstream is left alone');

my (undef, $j) = http_json('GET', $n->http_url('/vkstream/'));
ok($j && $j->{publishes} >= 1, 'API counts the publish');

$n->stop;
done_testing;
