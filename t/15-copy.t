# A copy rendition passes the source's video through bit for bit, next to
# an encoded rendition of the same source.  A ladder of only a copy (no
# decoding at all: the size comes from the source's SPS) republishes over
# RTMP and writes classic HLS and LL-HLS: the LL-HLS playlists pass the
# checker, init segment and parts decode as the source's H.264 and AAC at
# its size, every segment starts with a keyframe; when the source changes
# size, the copy and its LL-HLS start again at the new size.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use VKStream::Nginx;
use VKStream::HTTP qw(http);
use VKStream::FLV qw(make_flv rtmp_publish);
use VKStream::LLHLS qw(parse_media check_media check_reload);
use VKStream::Media qw(publish stop_publisher wait_segments
                       ffprobe_packets video_info wait_for_file ffprobe);

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => 'vkstream on;
             vkstream_rendition _low;
             vkstream_rendition _src video=copy audio=copy;
             hls on; hls_path %%PREFIX%%/src; hls_fragment 2s;
             hls_playlist_length 60s;',
));
mkdir $n->prefix . '/src';
system('chown', 'nobody:nogroup', $n->prefix . '/src') if $> == 0;
$n->start;

my $pid = publish($n->rtmp_url('live/c'), size => '640x360', fps => 25,
                  gop => 50, duration => 30);
my $copy = $n->hls_dir . '/c_src.m3u8';
my $src = $n->prefix . '/src/c.m3u8';
ok(wait_segments($copy, 3, 30) && wait_segments($src, 3, 10),
   'source and copy rendition have segments');
stop_publisher($pid);
sleep 1;

my %src = map { $_->{data_hash} => 1 }
          @{ ffprobe_packets($src, 'v:0', 1) };
my $cp = ffprobe_packets($copy, 'v:0', 1);
my @missing = grep { !$src{ $_->{data_hash} } } @$cp;
ok(@$cp > 50, scalar(@$cp) . ' video packets in the copy');
is(scalar @missing, 0, 'every copied video packet is identical to one of '
   . 'the source');
ok($cp->[0]{flags} =~ /K/, 'the copy starts at a keyframe');

my $ca = ffprobe_packets($copy, 'a:0', 1);
my %sa = map { $_->{data_hash} => 1 } @{ ffprobe_packets($src, 'a:0', 1) };
ok(@$ca > 50 && !grep({ !$sa{ $_->{data_hash} } } @$ca),
   'audio copied bit for bit too');

$n->stop;

# a ladder of only a copy, with LL-HLS
my $m = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => 'vkstream on; vkstream_rendition _src video=copy audio=copy;
             vkstream_llhls on; vkstream_llhls_path %%PREFIX%%/ll;',
    http => 'location /ll/ { alias %%PREFIX%%/ll/; }'));
$m->start;
my $dir = $m->prefix . '/ll/k_src';
$pid = publish($m->rtmp_url('live/k'), size => '640x360', fps => 25,
               gop => 50, duration => 14);
ok(wait_segments($m->hls_dir . '/k_src.m3u8', 2, 30),
   'copy only: RTMP republish has classic HLS segments');
my ($cv) = video_info($m->hls_dir . '/k_src.m3u8');
is($cv && "$cv->{codec_name} $cv->{width}x$cv->{height}", 'h264 640x360',
   'copy only: classic HLS is the source\'s H.264 at 640x360');
like($m->log_text, qr/"_src": publishing 640x360/,
     'copy only: the size from the SPS is logged');

ok(wait_for_file("$dir/index.m3u8", 20, qr/#EXT-X-PRELOAD-HINT/),
   'copy only: LL-HLS playlist written');

# live reloads: each passes the checker and continues the one before
my (@bad, $prev, $text);
my ($reloads, $end) = (0, time + 6);
while (time < $end) {
    my $t = slurp("$dir/index.m3u8");
    if ($t ne ($text // '')) {
        $text = $t;
        my $pl = parse_media($t);
        last if $pl->{endlist};
        $reloads++;
        push @bad, check_media($pl);
        push @bad, check_reload($prev, $pl) if $prev;
        $prev = $pl;
    }
    sleep 0.2;
}
ok($reloads >= 3, "copy only: $reloads live LL-HLS playlists read");
is_deeply(\@bad, [], 'copy only: every live playlist passes the checker')
    or diag(explain(\@bad), $text);

# the init segment and a part decode as the source
my $tmp = tempdir(CLEANUP => 1);
my ($part) = map { $_->{uri} } map { @{$_->{parts}} } @{$prev->{segments}};
ok(defined $part, 'copy only: a listed part') or $part = 'p0.m4s';
system("cat '$dir/init.mp4' '$dir/$part' > '$tmp/part.mp4'");
my $pr = ffprobe("$tmp/part.mp4");
my %st = map { $_->{codec_type} => $_ } @{ $pr ? $pr->{streams} : [] };
is($st{video} && $st{video}{codec_name}, 'h264', 'copy only: part is H.264');
is($st{video} && "$st{video}{width}x$st{video}{height}", '640x360',
   'copy only: at the source\'s size');
is($st{audio} && $st{audio}{codec_name}, 'aac', 'copy only: and AAC');

stop_publisher($pid) if waitpid($pid, 0) <= 0;
ok(wait_for_file("$dir/index.m3u8", 20, qr/#EXT-X-ENDLIST/),
   'copy only: ENDLIST after the publish');
my $ended = parse_media(slurp("$dir/index.m3u8"));
is_deeply([check_media($ended)], [], 'copy only: the ended playlist passes');
my (@notkey, $nsegs);
for my $s (@{$ended->{segments}}) {
    $nsegs++;
    system("cat '$dir/init.mp4' '$dir/$s->{uri}' > '$tmp/seg.mp4'");
    my $pk = ffprobe_packets("$tmp/seg.mp4", 'v:0');
    push @notkey, $s->{uri} unless @$pk && $pk->[0]{flags} =~ /K/;
}
ok($nsegs >= 4, "copy only: $nsegs segments");
is_deeply(\@notkey, [], 'copy only: every segment starts with a keyframe');

# the whole ended playlist through the HTTP location, as plain HLS
my $url = $m->http_url('/ll/k_src/index.m3u8');
my $probe = `timeout 20 ffprobe -v error -show_streams -of flat '$url' 2>&1`;
like($probe, qr/codec_name="h264"/, 'ffprobe reads the LL-HLS playlist');
like($probe, qr/codec_name="aac"/, 'with the AAC track');

# the source changes size: the copy restarts at the new SPS's size, and
# its LL-HLS stream ends and starts again with a new init segment
{
    my (@t, $shift);
    $shift = 0;
    for my $size (qw(320x240 160x120)) {
        my @p = make_flv("$tmp/$size.flv", size => $size, fps => 10,
                         gop => 10, duration => 4);
        my $max = 0;
        for (@p) {
            push @t, [ $_->[0], $_->[1] + $shift, $_->[2] ];
            $max = $_->[1] if $_->[1] > $max;
        }
        $shift += $max + 100;
    }
    ok(rtmp_publish($m->rtmp_port, 'live', 'z', \@t), 'resize: published');
    my $zdir = $m->prefix . '/ll/z_src';
    ok($m->wait_log(qr/"_src": publishing 160x120/, 10),
       'resize: the copy republishes at the new size');
    ok(wait_for_file("$zdir/index.m3u8", 20, qr/#EXT-X-ENDLIST/),
       'resize: the LL-HLS stream after the change ends');
    my $zpl = parse_media(slurp("$zdir/index.m3u8"));
    is_deeply([check_media($zpl)], [], 'resize: its playlist passes');
    my ($seg) = map { $_->{uri} } @{$zpl->{segments}};
    system("cat '$zdir/init.mp4' '$zdir/" . ($seg // 's0.m4s')
           . "' > '$tmp/z.mp4'");
    my ($zv) = video_info("$tmp/z.mp4");
    is($zv && "$zv->{width}x$zv->{height}", '160x120',
       'resize: the new init segment and segments are 160x120');
}

$m->stop;
done_testing;

sub slurp {
    open(my $f, '<', $_[0]) or return '';
    binmode $f;
    local $/;
    return scalar <$f>;
}
