# The ladder fits the source (issue 14): a 176x144 source gets a 176x144
# _low, not an upscaled 480x392; a _mid asked for 640 wide is capped to the
# same picture and reported as a duplicate of _low; upscale=on still makes
# the configured 480 px.  Checked with ffprobe on the HLS output and in
# GET /vkstream/streams.
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;
use VKStream::Media qw(publish stop_publisher wait_segments video_info
                       bitrate_kbps);
use VKStream::API qw(api wait_until);

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => 'vkstream on;
             vkstream_rendition _low;
             vkstream_rendition _mid width=640 maxrate=600k;
             vkstream_rendition _up width=480 upscale=on;'));
$n->start;
my $hls = $n->hls_dir;

my $pid = publish($n->rtmp_url('live/qcif'), size => '176x144', fps => 15,
                  gop => 30, duration => 40);

for my $s (qw(_low _mid _up)) {
    ok(wait_segments("$hls/qcif$s.m3u8", 3, 40), "$s playlist has segments");
}

my %want = (_low => '176x144', _mid => '176x144', _up => '480x392');
for my $s (sort keys %want) {
    my ($v, $a) = video_info("$hls/qcif$s.m3u8");
    is($v && "$v->{width}x$v->{height}", $want{$s},
       "$s is $want{$s} (ffprobe)");
    is($a && $a->{codec_name}, 'aac', "$s has AAC audio");
}

my $vk = bitrate_kbps("$hls/qcif_low.m3u8", 'v:0');
ok($vk > 5 && $vk < 256,
   "capped _low: video $vk kbit/s, below its 256k maxrate");

my $j;
ok(wait_until(20, sub {
    (undef, $j) = api($n, 'GET', '/vkstream/streams?app=live&name=qcif');
    my $st = $j && $j->{streams} && $j->{streams}[0];
    $st && @{ $st->{renditions} || [] } == 3
        && !grep { !$_->{width} } @{ $st->{renditions} };
}), 'GET /vkstream/streams reports the three renditions with their sizes');
my $st = $j->{streams}[0] || {};
my %r = map { $_->{suffix} => $_ } @{ $st->{renditions} || [] };
is_deeply([@{ $st->{input} || {} }{qw(width height)}], [176, 144],
          'input 176x144');
is_deeply([map { $r{_low}{$_} } qw(width height duplicate_of)],
          [176, 144, undef], '_low: 176 wide, no duplicate');
is_deeply([map { $r{_mid}{$_} } qw(width height duplicate_of)],
          [176, 144, '_low'], '_mid: capped to 176, a duplicate of _low');
is_deeply([map { $r{_up}{$_} } qw(width height duplicate_of)],
          [480, 392, undef], '_up: upscale=on keeps 480, no duplicate');
ok(exists $r{_low}{duplicate_of}, 'duplicate_of is always present');

# a stopped _low no longer stands for the picture: _mid is offered again
my ($res) = api($n, 'POST',
                '/vkstream/streams/live/qcif/renditions/_low/stop');
ok($res->{status} >= 200 && $res->{status} < 300, 'stop _low')
    or diag("status $res->{status}");
ok(wait_until(10, sub {
    (undef, $j) = api($n, 'GET', '/vkstream/streams/live/qcif');
    my ($m) = grep { $_->{suffix} eq '_mid' } @{ $j->{renditions} || [] };
    $m && !defined $m->{duplicate_of};
}), '_low stopped: _mid is no duplicate any more');

stop_publisher($pid);
$n->stop;
done_testing;
