# Keyframes are aligned: _low's HLS segments end where the source's do,
# and every rung of a ladder has the same segment durations.
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;
use VKStream::API;
use VKStream::Media qw(publish stop_publisher wait_segments
                       playlist_durations ffprobe_packets video_info);

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => 'vkstream on;
             vkstream_rendition _low;
             vkstream_rendition _mid width=640 crf=26 maxrate=600k;
             hls on; hls_path %%PREFIX%%/src; hls_fragment 2s;
             hls_playlist_length 60s;',
    hls => 'hls_variant _low BANDWIDTH=300000;
            hls_variant _mid BANDWIDTH=700000;',
));
mkdir $n->prefix . '/src';
system('chown', 'nobody:nogroup', $n->prefix . '/src') if $> == 0;
$n->start;

# 2 s GOP at 30 fps
my $pid = publish($n->rtmp_url('live/k'), size => '1280x720', fps => 30,
                  gop => 60, duration => 40);
my $low = $n->hls_dir . '/k_low.m3u8';
my $mid = $n->hls_dir . '/k_mid.m3u8';
my $src = $n->prefix . '/src/k.m3u8';

ok(wait_segments($low, 5, 40) && wait_segments($mid, 5, 10)
   && wait_segments($src, 5, 10), 'source, _low and _mid have 5 segments');
stop_publisher($pid);
sleep 1;

my @s = playlist_durations($src);
my @l = playlist_durations($low);
my @m = playlist_durations($mid);
note("source: @s\n_low: @l\n_mid: @m");

# the last segment of each is cut by the end of the publish
pop @s; pop @l; pop @m;
# A rendition that falls behind (a busy machine) skips to the next
# keyframe: its segment then spans whole GOPs, and its cuts stay a subset
# of the source's.  Without drops every segment is one 2 s GOP.
my $dropped = 0;
$dropped += $_->{frames_dropped} // 0
    for @{(VKStream::API::stream_json($n, 'k') // {})->{renditions} // []};
sub cuts { my $t = 0; map { sprintf '%.1f', $t += $_ } @_ }
my @whole = grep { my $g = $_ / 2.0; abs($g - int($g + 0.5)) < 0.025 } @l;
ok(@l >= 4 && @whole == @l, '_low segments are whole 2 s GOPs')
    or diag("@l");
my %low_cut = map { $_ => 1 } cuts(@l);
ok(@m >= 2 && !grep({ !$low_cut{$_} } cuts(@m)),
   '_mid is cut where _low is (keyframes aligned)')
    or diag("_low: @l\n_mid: @m");
if ($dropped == 0) {
    my @full = grep { abs($_ - 2.0) < 0.05 } @l;
    ok(@full == @l, '_low segments are 2 s like the source GOP')
        or diag("@l");
    is_deeply([ map { sprintf '%.3f', $_ } @m ],
              [ map { sprintf '%.3f', $_ } @l ],
              '_mid has the same segment durations as _low');
    my $k = @s < @l ? @s : @l;
    is_deeply([ map { sprintf '%.1f', $_ } @l[0 .. $k - 1] ],
              [ map { sprintf '%.1f', $_ } @s[0 .. $k - 1] ],
              '_low durations equal the source\'s');
} else {
    note("$dropped frames dropped by renditions that fell behind");
    my %src_cut = map { $_ => 1 } cuts(@s);
    my @c = grep { $_ <= (cuts(@s))[-1] } cuts(@l);
    ok(!grep({ !$src_cut{$_} } @c), '_low is cut where the source is');
}

# inside _low, keyframes fall every 2 s exactly, none in between
my $p = ffprobe_packets($low, 'v:0');
my @keys = map { $_->{pts_time} } grep { $_->{flags} =~ /K/ } @$p;
my @gaps = map { sprintf '%.2f', $keys[$_] - $keys[$_ - 1] } 1 .. $#keys;
# (a GOP skipped by a rendition that fell behind makes a 4.00 s gap)
ok(@gaps >= 3 && !grep({ $dropped ? $_ !~ /^(2|4|6|8)\.00$/ : $_ ne '2.00' }
                       @gaps),
   'IDR every 2.00 s in _low') or diag("gaps: @gaps");

# nginx-rtmp's hls_variant treats the renditions like any stream
my $master = $n->hls_dir . '/k.m3u8';
open my $mf, '<', $master;
my $mtext = $mf ? do { local $/; <$mf> } : '';
like($mtext, qr/BANDWIDTH=300000\s+k_low\.m3u8/, 'master lists _low');
like($mtext, qr/BANDWIDTH=700000\s+k_mid\.m3u8/, 'master lists _mid');

my ($v) = video_info($mid);
is($v && $v->{width}, 640, '_mid is 640 wide');

$n->stop;
done_testing;
