# The default _low rendition: 480 wide, even height, H.264 yuv420p + AAC,
# about 256 kbit/s at most, published into the hls application.
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;
use VKStream::Media qw(publish stop_publisher wait_segments video_info
                       bitrate_kbps);

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf());
$n->start;

my @cases = (
    [ '1280x720', 480, 270 ],
    [ '640x480',  480, 360 ],
    [ '1000x562', 480, 268 ],     # 270.7 rounds down to even
);

for my $c (@cases) {
    my ($size, $w, $h) = @$c;
    my $name = "s$size";
    my $pid = publish($n->rtmp_url("live/$name"), size => $size, fps => 30,
                      duration => 30);
    my $pl = $n->hls_dir . "/${name}_low.m3u8";

    ok(wait_segments($pl, 3, 30), "$size: _low playlist has segments");

    my ($v, $a) = video_info($pl);
    is($v && $v->{codec_name}, 'h264', "$size: H.264 video");
    is($v && "$v->{width}x$v->{height}", "${w}x$h", "$size: ${w}x$h");
    is($v && $v->{pix_fmt}, 'yuv420p', "$size: yuv420p");
    is($a && $a->{codec_name}, 'aac', "$size: AAC audio");

    if ($size eq '1280x720') {
        my $vk = bitrate_kbps($pl, 'v:0');
        my $ak = bitrate_kbps($pl, 'a:0');
        ok($vk > 20 && $vk < 320, "video bitrate $vk kbit/s in 20..320");
        ok($ak > 20 && $ak < 48, "audio bitrate $ak kbit/s near 32");
        ok(!-e $n->hls_dir . "/${name}_low_low.m3u8",
           'own output is not transcoded again');
    }

    stop_publisher($pid);
}

$n->stop;
done_testing;
