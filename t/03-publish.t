# A publish to "live" is observed by the module, and so is its close.
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;
use VKStream::Media qw(publish stop_publisher http_json);

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf());
$n->start;

my $pid = publish($n->rtmp_url('live/cam1'), size => '320x240', fps => 15,
                  duration => 30);
ok($n->wait_log(qr{vkstream: publish "live/cam1"}, 15), 'publish logged');

stop_publisher($pid);
ok($n->wait_log(qr{vkstream: close "live/cam1"}, 10), 'close logged');

# A publish to an application without vkstream is not taken.
$pid = publish($n->rtmp_url('hls/plain'), size => '320x240', fps => 15,
               duration => 30);
sleep 3;
stop_publisher($pid);
unlike($n->log_text, qr{vkstream: publish "hls/plain"},
       'application without vkstream is left alone');

my (undef, $j) = http_json('GET', $n->http_url('/vkstream/'));
ok($j && $j->{publishes} >= 1, 'API counts the publish');

$n->stop;
done_testing;
