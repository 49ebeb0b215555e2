# LL-HLS output of a rendition (issue 14): with vkstream_llhls on, the
# rendition thread writes init.mp4, parts, segments and a media playlist
# that a plain nginx location serves.  Checked while live, on several
# reloads (t/lib/VKStream/LLHLS.pm), and after the publish ends; the
# classic nginx-rtmp HLS of the same rendition goes on beside it.  Bad
# directive values fail "nginx -t" naming the directive.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use VKStream::Nginx;
use VKStream::HTTP qw(http);
use VKStream::LLHLS qw(parse_media check_media check_reload);
use VKStream::Media qw(publish stop_publisher wait_segments video_info
                       wait_for_file);

my $PART = 500;

# the LL-HLS location: plain static files with their MIME types
my $http = <<'HTTP';
        location /ll/ {
            alias %%PREFIX%%/ll/;
            types {
                application/vnd.apple.mpegurl m3u8;
                video/iso.segment m4s;
                video/mp4 mp4;
            }
            add_header Cache-Control no-cache;
        }
HTTP

my $live = "vkstream on; vkstream_llhls on; vkstream_llhls_path "
         . "%%PREFIX%%/ll; vkstream_llhls_part_target ${PART}ms; "
         . "vkstream_llhls_window 4;";

# bad values fail nginx -t with the directive's name
for my $c (['vkstream_llhls_part_target 50ms;', 'vkstream_llhls_part_target'],
           ['vkstream_llhls_part_target 3s;', 'vkstream_llhls_part_target'],
           ['vkstream_llhls_window 0;', 'vkstream_llhls_window'],
           ['vkstream_llhls_window 1000;', 'vkstream_llhls_window'],
           ['vkstream_llhls maybe;', 'vkstream_llhls'],
           ['vkstream_llhls on;', 'vkstream_llhls_path'])
{
    my $b = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
        live => "vkstream on; $c->[0]"));
    my ($ok, $out) = $b->check;
    ok(!$ok && $out =~ /\Q$c->[1]\E/, "nginx -t refuses '$c->[0]'")
        or diag($out);
}

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => $live, http => $http));
my $ll = $n->prefix . '/ll';
$n->start;

my $pid = publish($n->rtmp_url('live/s'), size => '640x360', fps => 30,
                  gop => 60, duration => 16);
my $dir = "$ll/s_low";
my $pl_url = $n->http_url('/ll/s_low/index.m3u8');

ok(wait_for_file("$dir/index.m3u8", 30), 'media playlist written')
    or BAIL_OUT('no LL-HLS playlist');
ok(-s "$dir/init.mp4", 'init.mp4 exists');

my $r = http('GET', $n->http_url('/ll/s_low/init.mp4'));
is($r->{status}, 200, 'init.mp4 served');
is($r->{headers}{'content-type'}, 'video/mp4', 'init.mp4 as video/mp4');

# reloads while live: each passes the checker, each continues the last
my (@bad, @badreload, $prev, %parts, %seen, $live_pl);
my $prev_text = '';
my $reloads = 0;
my $end = time + 8;
while (time < $end) {
    $r = http('GET', $pl_url);
    if ($r->{status} == 200 && $r->{content} ne $prev_text) {
        $prev_text = $r->{content};
        my $pl = parse_media($r->{content});
        last if $pl->{endlist};
        $reloads++;
        is($r->{headers}{'content-type'}, 'application/vnd.apple.mpegurl',
           'playlist MIME type') if $reloads == 1;
        push @bad, map { "reload $reloads: $_" } check_media($pl);
        push @badreload, map { "reload $reloads: $_" }
            check_reload($prev, $pl) if $prev;
        for my $s (@{$pl->{segments}}, { parts => $pl->{open} }) {
            $parts{$_->{uri}} = $_->{duration} for @{$s->{parts}};
        }
        $seen{$_->{uri}} = 1 for @{$pl->{segments}};
        $prev = $live_pl = $pl;
    }
    sleep 0.25;
}
ok($reloads >= 5, "$reloads different live playlists read");
is_deeply(\@bad, [], 'every live playlist passes the LL-HLS checker')
    or diag(explain(\@bad), $prev_text);
is_deeply(\@badreload, [], 'every reload continues the one before')
    or diag(explain(\@badreload));
ok($live_pl && defined $live_pl->{hint}, 'live playlist has a preload hint');
ok($live_pl && !$live_pl->{endlist}, 'and no ENDLIST');

my @d = sort { $a <=> $b } values %parts;
ok(@d > 8, scalar(@d) . ' parts seen');
ok(!grep({ $_ > $PART } @d), "no part above PART-TARGET ${PART} ms");
note("part durations (ms): min $d[0], max $d[-1], "
     . join(' ', map { "$_" } @d[0 .. ($#d < 9 ? $#d : 9)]));

# a listed part and a segment served with their MIME type
my ($first_part) = map { $_->{uri} } @{$live_pl->{open}},
                   map { @{$_->{parts}} } @{$live_pl->{segments}};
$r = http('GET', $n->http_url("/ll/s_low/$first_part"));
is($r->{status}, 200, "part $first_part served");
is($r->{headers}{'content-type'}, 'video/iso.segment',
   'part as video/iso.segment');

# ffprobe reads the media playlist as plain HLS
my $probe = `timeout 20 ffprobe -v error -show_streams '$pl_url' 2>&1`;
like($probe, qr/codec_name=h264/, 'ffprobe reads the playlist: H.264');
like($probe, qr/^width=480$/m, 'at the rendition\'s width');
like($probe, qr/codec_name=aac/, 'with its AAC track');

# the publish ends: ENDLIST, no hint
stop_publisher($pid) if waitpid($pid, 0) <= 0;
ok(wait_for_file("$dir/index.m3u8", 20, qr/#EXT-X-ENDLIST/),
   'ENDLIST after the publish');
$r = http('GET', $pl_url);
my $ended = parse_media($r->{content});
ok($ended->{endlist}, 'served playlist has ENDLIST');
ok(!defined $ended->{hint}, 'and no preload hint');
is_deeply([check_media($ended)], [], 'ended playlist passes the checker')
    or diag($r->{content});
is_deeply([check_reload($prev, $ended)], [],
          'and continues the last live one');

# every segment begins with a keyframe, and is its parts concatenated
my $tmp = tempdir(CLEANUP => 1);
my @segs = @{$ended->{segments}};
ok(@segs >= 3, scalar(@segs) . ' segments in the ended playlist');
my (@notkey, @notconcat);
for my $s (@segs) {
    my $f = "$tmp/$s->{uri}.mp4";
    system("cat '$dir/init.mp4' '$dir/$s->{uri}' > '$f'");
    my $cmd = 'ffprobe -v error -select_streams v:0 -show_entries '
            . "packet=flags -of csv=p=0 '$f' 2>&1";
    my $out = `$cmd`;
    my ($flags) = split /\n/, $out;
    $flags //= 'nothing';
    push @notkey, "$s->{uri}: $flags" unless $flags =~ /^K/;
    next unless @{$s->{parts}};
    my $cat = join '', map { slurp("$dir/$_->{uri}") } @{$s->{parts}};
    push @notconcat, $s->{uri} unless $cat eq slurp("$dir/$s->{uri}");
}
is_deeply(\@notkey, [], 'every segment begins with a keyframe');
is_deeply(\@notconcat, [], 'every segment is its parts concatenated');

# the classic HLS of the same rendition still works
ok(wait_segments($n->hls_dir . '/s_low.m3u8', 3, 10),
   'classic HLS playlist of _low has segments');
my ($v) = video_info($n->hls_dir . '/s_low.m3u8');
is($v && $v->{codec_name}, 'h264', 'classic HLS: H.264');
is($v && $v->{width}, 480, 'classic HLS: 480 wide');

# a new publish of the same name starts afresh
$pid = publish($n->rtmp_url('live/s'), size => '640x360', fps => 30,
               gop => 60, duration => 30);
ok(wait_for_file("$dir/index.m3u8", 30, qr/#EXT-X-PRELOAD-HINT/),
   'republish: live playlist again');
my $again = parse_media(slurp("$dir/index.m3u8"));
is($again->{msn}, 0, 'republish: media sequence starts at 0');
my @stale = grep { -e "$dir/$_" } map { $_->{uri} } @segs[3 .. $#segs];
is_deeply(\@stale, [], 'republish: old segments are gone');
stop_publisher($pid);

$n->stop;
done_testing;

sub slurp {
    open(my $f, '<', $_[0]) or return '';
    binmode $f;
    local $/;
    return scalar <$f>;
}
