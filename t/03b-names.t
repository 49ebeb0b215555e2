# Every rendition is republished under its stream's exact name, whatever
# the name holds.  libavformat cuts an RTMP URL at a space and rewrites
# names ending in ".flv" or ".mp4"; a name put in the URL lost its tail,
# so two renditions of "a b" both published "a" and one was refused.
use strict;
use warnings;
use utf8;
use Test::More;
use VKStream::Nginx;
use VKStream::Media qw(stop_publisher wait_segments video_info);
use VKStream::API qw(publish_name);

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => 'vkstream on; vkstream_rendition _low; '
          . 'vkstream_rendition _tiny width=160;'));
$n->start;
my $hls = $n->hls_dir;

my @names = ('a b', 'clip.flv', 'clip.mp4', 'cam 1+ü');
my @pids = map { publish_name($n, 'live', $_, size => '320x240', fps => 15,
                              gop => 15, duration => 40) } @names;

for my $name (@names) {
    my $file = $name;
    utf8::encode($file);
    for my $r (['_low', 320], ['_tiny', 160]) {
        my $m3u8 = "$hls/$file$r->[0].m3u8";
        ok(wait_segments($m3u8, 2, 30), "\"$name\": $r->[0] is in HLS");
        my ($v) = video_info($m3u8);
        is($v && $v->{width}, $r->[1], "  $r->[1] wide");
    }
}

stop_publisher($_) for @pids;
unlike($n->log_text, qr/already publishing/,
       'no rendition was refused as a second publisher');
opendir my $d, $hls or die $!;
my @stray = grep { /^(a|clip|cam)[._]?(low|tiny)?\.m3u8$/ } readdir $d;
is_deeply(\@stray, [], 'no playlist under a cut name');
$n->stop;
done_testing;
