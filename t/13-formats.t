# Any input gives playable output: 4:4:4 -> yuv420p, MP3 -> AAC,
# audio-only -> audio-only, video-only -> video-only, and a resolution
# change mid-stream keeps the rendition going.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use VKStream::Nginx;
use VKStream::FLV qw(read_tags write_tags);
use VKStream::Media qw(publish stop_publisher wait_segments video_info
                       playlist_durations ffprobe_packets);

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf());
$n->start;
my $hls = $n->hls_dir;

sub run_case {
    my ($name, %o) = @_;
    my $pid = publish($n->rtmp_url("live/$name"), size => '640x360',
                      fps => 25, gop => 50, duration => 30, %o);
    my $ok = wait_segments("$hls/${name}_low.m3u8", 2, 30);
    my @info = video_info("$hls/${name}_low.m3u8");
    stop_publisher($pid);
    return ($ok, @info);
}

my ($ok, $v, $a) = run_case('yuv444', pix_fmt => 'yuv444p',
                            vextra => [ '-profile:v', 'high444' ]);
ok($ok, '4:4:4 source transcoded');
is($v && $v->{pix_fmt}, 'yuv420p', '4:4:4 source gives yuv420p');
like($v && $v->{profile}, qr/^(High|Main|Constrained Baseline)$/,
     'a profile browsers play');

($ok, $v, $a) = run_case('mp3', audio => 'mp3');
ok($ok, 'MP3 source transcoded');
is($a && $a->{codec_name}, 'aac', 'MP3 audio becomes AAC');
ok($v, 'video still there');

($ok, $v, $a) = run_case('aonly', video => 'none');
ok($ok, 'audio-only source transcoded');
# nginx-rtmp's HLS always declares both PIDs: count packets instead
is(scalar @{ ffprobe_packets("$hls/aonly_low.m3u8", 'v:0') }, 0,
   'audio-only output has no video');
ok($a && $a->{codec_name} eq 'aac', 'audio-only output has AAC');

($ok, $v, $a) = run_case('vonly', audio => 'none');
ok($ok, 'video-only source transcoded');
is(scalar @{ ffprobe_packets("$hls/vonly_low.m3u8", 'a:0') }, 0,
   'video-only output has no audio');
ok($v && $v->{codec_name} eq 'h264', 'video-only output has H.264');

# Resolution change: two FLV files of different sizes joined tag by tag
# (timestamps of the second shifted) carry a new AVC sequence header
# mid-stream, as an encoder restarting with a new size sends.
my $tmp = tempdir(CLEANUP => 1);
for my $part ([ 'a', '640x360' ], [ 'b', '320x240' ]) {
    system('ffmpeg', '-v', 'error', '-f', 'lavfi', '-i',
           "testsrc=size=$part->[1]:rate=25:duration=6", '-f', 'lavfi',
           '-i', 'sine=duration=6', '-c:v', 'libx264', '-preset',
           'ultrafast', '-g', '50', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
           "$tmp/$part->[0].flv") == 0 or die "ffmpeg failed";
}
join_flv("$tmp/ab.flv", "$tmp/a.flv", "$tmp/b.flv");
my $pid = publish($n->rtmp_url('live/resize'),
                  input => [ '-i', "$tmp/ab.flv" ],
                  video => 'copy-input', audio => 'copy');
ok(wait_segments("$hls/resize_low.m3u8", 5, 30),
   'rendition keeps going across the resolution change');
# the whole 12 s file is sent; what it ends with is cut once the
# rendition's publish ends after it
my $total = 0;
my $end = time + 60;
while (time < $end) {
    $total = 0;
    $total += $_ for playlist_durations("$hls/resize_low.m3u8");
    last if $total > 10;
    sleep 0.2;
}
stop_publisher($pid);
ok($total > 10, "about 12 s of output across both sizes ($total s)");
like($n->log_text, qr/new AVC sequence header/,
     'the new sequence header was seen');

# A video codec we do not transcode (Sorenson H.263, FLV codec id 2): one
# warn naming it, video skipped, audio still transcoded.
$pid = publish($n->rtmp_url('live/h263'), size => '320x240', fps => 25,
               video => 'flv1', duration => 20);
ok(wait_segments("$hls/h263_low.m3u8", 2, 30), 'H.263 source: audio goes on');
stop_publisher($pid);
my @warns = $n->log_text =~ /\[warn\].*"h263": video codec "h263"/g;
is(scalar @warns, 1, 'one warn naming the codec');
is(scalar @{ ffprobe_packets("$hls/h263_low.m3u8", 'v:0') }, 0,
   'no video from the H.263 source');

$n->stop;
done_testing;

sub join_flv {
    my ($out, $a, $b) = @_;
    my ($head, @ta) = read_tags($a);
    my (undef, @tb) = read_tags($b);
    my $shift = 0;
    $shift = $_->[1] > $shift ? $_->[1] : $shift for @ta;
    $shift += 40;
    write_tags($out, $head, @ta, map { [ $_->[0], $_->[1] + $shift, $_->[2] ] }
                                 grep { $_->[0] != 18 } @tb);
}
