# "maxrate=off bufsize=off" lifts _low's 256k cap: the rendition is then
# the pure crf encode that ffmpeg's own "-crf 23 -b:v 256k" makes.  A
# noisy source needs far more than 256 kbit/s at crf 23, so next to a
# capped copy of the same rendition the uncapped one must spend several
# times its bits; "off" is refused where it means nothing (audio_bitrate).
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;
use VKStream::Media qw(publish stop_publisher wait_segments video_info
                       bitrate_kbps);

my $bad = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => 'vkstream on; vkstream_rendition _low audio_bitrate=off;'));
my ($ok, $out) = $bad->check;
ok(!$ok, 'audio_bitrate=off fails nginx -t');
like($out, qr/"vkstream_rendition": invalid value "off" for "audio_bitrate"/,
     'the message names the directive, the value and the key');

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => 'vkstream on;
             vkstream_rendition _low maxrate=off bufsize=off;
             vkstream_rendition _cap width=480 maxrate=256k bufsize=512k;'));
($ok, $out) = $n->check;
ok($ok, '_low maxrate=off bufsize=off passes nginx -t') or diag($out);
$n->start;
my $hls = $n->hls_dir;

# detail that does not compress: x264 at crf 23 wants megabits for it
my $dur = 30;
my $pid = publish($n->rtmp_url('live/noisy'), input => [
    '-f', 'lavfi', '-i', "testsrc=size=480x270:rate=15:duration=$dur,"
        . 'noise=alls=40:allf=t+u',
    '-f', 'lavfi', '-i', "sine=frequency=440:duration=$dur"],
    gop => 30);

for my $s (qw(_low _cap)) {
    ok(wait_segments("$hls/noisy$s.m3u8", 4, 60), "$s playlist has segments");
}
stop_publisher($pid);

my %kbps;
for my $s (qw(_low _cap)) {
    my ($v) = video_info("$hls/noisy$s.m3u8");
    is($v && "$v->{width}x$v->{height}", '480x270', "$s is 480x270");
    $kbps{$s} = bitrate_kbps("$hls/noisy$s.m3u8", 'v:0');
}
# x264's one-pass VBV without lookahead overshoots a little on noise
ok($kbps{_cap} > 50 && $kbps{_cap} < 256 * 1.5,
   "capped: video $kbps{_cap} kbit/s, held near its 256k maxrate");
ok($kbps{_low} > 2.5 * $kbps{_cap},
   "maxrate=off: video $kbps{_low} kbit/s, more than 2.5x the capped one");

$n->stop;
done_testing;
