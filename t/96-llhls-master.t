# The master playlists from the real ladder (issue 14): with LL-HLS on and
# vkstream_hls_master set to the hls application's hls_path, a 3-rendition
# ladder gets an LL-HLS master (ll/NAME.m3u8) and a classic one
# (hls/NAME.m3u8) whose CODECS, RESOLUTION and FRAME-RATE are those of the
# renditions' actual streams (the SPS in init.mp4's avcC, ffprobe) and
# whose BANDWIDTH covers the measured segments (Apple's 125% rule); each
# media playlist reports its siblings; ffmpeg and ffprobe read both
# masters as plain HLS.  A smaller, video-only source: duplicates left
# out, no mp4a.  A long window gets delta updates (index_skip.m3u8), the
# default one none.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use VKStream::Nginx;
use VKStream::HTTP qw(http);
use VKStream::LLHLS qw(parse_media parse_master check_media check_master
                       check_report);
use VKStream::Media qw(publish stop_publisher wait_for_file video_info
                       ffprobe);

my $http = <<'HTTP';
        location /ll/ {
            alias %%PREFIX%%/ll/;
            vkstream_llhls_serve;
        }
HTTP

my $ladder = 'vkstream_rendition _low preset=ultrafast; '
           . 'vkstream_rendition _mid width=320 maxrate=300k '
           . 'preset=ultrafast; '
           . 'vkstream_rendition _hi width=1280 maxrate=1500k bufsize=3m '
           . 'preset=ultrafast;';
my $live = "vkstream on; vkstream_llhls on; vkstream_llhls_path "
         . "%%PREFIX%%/ll; vkstream_hls_master %%HLS%%; $ladder";

# a bad value fails nginx -t with the directive's name
for my $c (['vkstream_hls_master "";', 'vkstream_hls_master'],
           ['vkstream_hls_master a b;', 'vkstream_hls_master'])
{
    my $b = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
        live => "vkstream on; $c->[0]"));
    my ($ok, $out) = $b->check;
    ok(!$ok && $out =~ /\Q$c->[1]\E/, "nginx -t refuses '$c->[0]'")
        or diag($out);
}

# "long": a 40-segment window, delta updates; and a copy rendition
my $apps = <<'APPS';
        application long {
            live on;
            vkstream on;
            vkstream_llhls on;
            vkstream_llhls_path %%PREFIX%%/ll;
            vkstream_llhls_window 40;
            vkstream_rendition _low preset=ultrafast;
            vkstream_rendition _src video=copy audio=copy;
        }
APPS

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => $live, http => $http, apps => $apps));
my $ll = $n->prefix . '/ll';
my $hls = $n->hls_dir;
$n->start;

my $pid = publish($n->rtmp_url('live/s'), size => '640x360', fps => 30,
                  gop => 60, duration => 40);
my $kpid = publish($n->rtmp_url('long/k'), size => '640x360', fps => 30,
                   gop => 15, duration => 40, audio => 'none');

# both masters list three renditions once each has measured segments
my %sfx = map { $_ => 1 } qw(_low _mid _hi);
sub variants {
    my ($path) = @_;
    open(my $f, '<', $path) or return ();
    local $/;
    my $m = parse_master(scalar <$f>);
    return @{$m->{variants}};
}
my $three = qr/(?:STREAM-INF[^\n]*\n[^\n]*\n(?:#EXT-X-)?){3}/;
ok(wait_for_file("$ll/s.m3u8", 40, $three),
   'LL master lists three renditions') or diag(slurp("$ll/s.m3u8"));
ok(wait_for_file("$hls/s.m3u8", 20, $three),
   'classic master lists three renditions') or diag(slurp("$hls/s.m3u8"));

# measured values (from 3 segments on): each playlist lists 5
my $end = time + 40;
my $ready;
while (!$ready && time < $end) {
    $ready = !grep { @{parse_media(slurp("$ll/s$_/index.m3u8"))->{segments}}
                     < 5 } qw(_low _mid _hi);
    sleep 0.2 unless $ready;
}
ok($ready, 'each LL playlist lists 5 segments');

my $lltext = slurp("$ll/s.m3u8");
my $tstext = slurp("$hls/s.m3u8");
note("LL master:\n$lltext\nclassic master:\n$tstext");
my $llm = parse_master($lltext);
my $tsm = parse_master($tstext);
is_deeply([check_master($llm)], [], 'LL master passes the checker');
is_deeply([check_master($tsm)], [], 'classic master passes the checker');
is_deeply([sort map { $_->{uri} } @{$llm->{variants}}],
          [map { "s$_/index.m3u8" } qw(_hi _low _mid)],
          'LL master: NAMESUFFIX/index.m3u8 of each');
is_deeply([sort map { $_->{uri} } @{$tsm->{variants}}],
          [map { "s$_.m3u8" } qw(_hi _low _mid)],
          'classic master: NAMESUFFIX.m3u8 of each');

my %size = (_low => '480x270', _mid => '320x180', _hi => '640x360');
for my $v (@{$llm->{variants}}) {
    my ($s) = $v->{uri} =~ m{^s(_\w+)/};
    my $dir = "$ll/s$s";
    my $pl = parse_media(slurp("$dir/index.m3u8"));

    # CODECS: the SPS in init.mp4's avcC, AAC-LC
    my $init = slurp("$dir/init.mp4");
    my $at = index($init, 'avcC');
    my $sps = $at < 0 ? '' : substr($init, $at + 4 + 8 + 1, 3);
    my $want = 'avc1.' . unpack('H*', $sps) . ',mp4a.40.2';
    is($v->{CODECS}, $want, "LL $s: CODECS $want from init.mp4's SPS");

    # RESOLUTION and FRAME-RATE: what ffprobe finds in a segment
    my @segs = @{$pl->{segments}};
    my $f = $n->prefix . "/probe$s.mp4";
    system("cat '$dir/init.mp4' '$dir/$segs[-1]{uri}' > '$f'");
    my $j = ffprobe($f) || {};
    my ($vs) = grep { $_->{codec_type} eq 'video' } @{$j->{streams} || []};
    my ($as) = grep { $_->{codec_type} eq 'audio' } @{$j->{streams} || []};
    is($v->{RESOLUTION}, $vs && "$vs->{width}x$vs->{height}",
       "LL $s: RESOLUTION as ffprobe reads it");
    is($v->{RESOLUTION}, $size{$s}, "LL $s: $size{$s}");
    is($v->{'FRAME-RATE'}, '30.000', "LL $s: FRAME-RATE 30.000");
    is($vs && $vs->{r_frame_rate}, '30/1', "LL $s: ffprobe says 30/1");
    ok($vs && profile_level($vs) eq substr($want, 5, 2) . substr($want, 9, 2),
       "LL $s: ffprobe's profile/level match CODECS")
        or diag($vs && "$vs->{profile} $vs->{level}");
    is($as && $as->{profile}, 'LC', "LL $s: AAC-LC as ffprobe reads it");

    # BANDWIDTH covers the measured segments; the average is near theirs
    my ($peak, $bytes, $ms) = (0, 0, 0);
    for my $sg (@segs) {
        my $b = -s "$dir/$sg->{uri}" or next;
        my $r = $b * 8000 / $sg->{duration};
        $peak = $r if $r > $peak;
        $bytes += $b;
        $ms += $sg->{duration};
    }
    my $mean = $ms ? $bytes * 8000 / $ms : 0;
    note(sprintf("LL %s: BANDWIDTH %d AVERAGE %d; segments: peak %d mean "
                 . "%d", $s, $v->{BANDWIDTH}, $v->{'AVERAGE-BANDWIDTH'},
                 $peak, $mean));
    ok($v->{BANDWIDTH} * 1.25 >= $peak,
       "LL $s: measured peak $peak within 125% of BANDWIDTH");
    ok($mean && $v->{'AVERAGE-BANDWIDTH'} > $mean / 2
       && $v->{'AVERAGE-BANDWIDTH'} < $mean * 2,
       "LL $s: AVERAGE-BANDWIDTH near the measured mean $mean");
}

# the classic master: the same pictures, TS segments within 125%
my %ll = map { (($_->{uri} =~ m{^(s_\w+)/})[0] => $_) } @{$llm->{variants}};
for my $v (@{$tsm->{variants}}) {
    my ($name) = $v->{uri} =~ /^(s_\w+)\.m3u8$/;
    my $l = $ll{$name} || {};
    is(join(' ', @$v{qw(CODECS RESOLUTION FRAME-RATE)}),
       join(' ', @$l{qw(CODECS RESOLUTION FRAME-RATE)}),
       "classic $name: CODECS, RESOLUTION, FRAME-RATE as in LL-HLS");
    my ($vs) = video_info("$hls/$name.m3u8");
    is($v->{RESOLUTION}, $vs && "$vs->{width}x$vs->{height}",
       "classic $name: RESOLUTION as ffprobe reads it");
    my ($peak, $segs) = (0, 0);
    open(my $f, '<', "$hls/$name.m3u8");
    my $d;
    while (<$f>) {
        $d = $1 * 1000 if /^#EXTINF:([\d.]+)/;
        if (/^([^#\s]\S*)$/ && $d) {
            my $b = -s "$hls/$1" or next;
            my $r = $b * 8000 / $d;
            $peak = $r if $r > $peak;
            $segs++;
        }
    }
    note("classic $name: BANDWIDTH $v->{BANDWIDTH}, $segs TS segments, "
         . "peak $peak");
    ok($segs && $v->{BANDWIDTH} * 1.25 >= $peak,
       "classic $name: TS segment peak $peak within 125% of BANDWIDTH");
}

# rendition reports: each listed sibling, not itself, not ahead of the
# sibling's own playlist (read after), close behind it
my @names = map { "s$_" } qw(_low _mid _hi);
for my $me (@names) {
    my $pl = parse_media(slurp("$ll/$me/index.m3u8"));
    my @sib = map { "../$_/index.m3u8" } grep { $_ ne $me } @names;
    is_deeply([check_media($pl, siblings => \@sib,
                           self => "../$me/index.m3u8")], [],
              "$me: playlist passes, reports both siblings, not itself");
    for my $r (@{$pl->{reports}}) {
        my ($sn) = $r->{uri} =~ m{^\.\./(s_\w+)/};
        my $spl = parse_media(slurp("$ll/$sn/index.m3u8"));
        is_deeply([check_report($r, $spl, max_lag => 8)], [],
                  "$me: report of $sn not ahead, at most 8 parts behind");
    }
}

# ffprobe and ffmpeg read both masters over HTTP as plain HLS
for my $m (['LL', $n->http_url('/ll/s.m3u8')],
           ['classic', $n->http_url('/hls/s.m3u8')])
{
    my $probe = 'timeout 30 ffprobe -v error -show_entries '
              . "stream=codec_name -of csv=p=0 '$m->[1]' 2>&1";
    my $out = `$probe`;
    ok($? == 0 && $out =~ /^h264$/m && $out =~ /^aac$/m,
       "ffprobe reads the $m->[0] master") or diag($out);
    my $play = "timeout 40 ffmpeg -v error -nostdin -i '$m->[1]' -t 3 "
             . '-f null - 2>&1';
    $out = `$play`;
    is($?, 0, "ffmpeg plays 3 s of the $m->[0] master") or diag($out);
}

# delta updates: the long window has them, the default one not
my $kdir = "$ll/k_low";
ok(wait_for_file("$kdir/index_skip.m3u8", 30, qr/#EXT-X-SKIP:/),
   'long window: index_skip.m3u8 skips segments');
my $skip_text = slurp("$kdir/index_skip.m3u8");
my $full = parse_media(slurp("$kdir/index.m3u8"));
my $skip = parse_media($skip_text);
my $until = $full->{sc}{'CAN-SKIP-UNTIL'};
is($until, sprintf('%d.000', 6 * $full->{td}),
   'full playlist: CAN-SKIP-UNTIL 6 x TARGETDURATION');
is($skip->{version}, 9, 'delta update: EXT-X-VERSION 9');
is_deeply([check_media($skip)], [], 'delta update passes the checker');
is_deeply([check_media($full)], [], 'the full one too');
ok($skip->{skipped} > 0, "$skip->{skipped} segments skipped");
my %fuller = map { $_->{msn} => $_->{uri} } @{$full->{segments}};
my $first = $skip->{segments}[0];
is($first && $fuller{$first->{msn}}, $first && $first->{uri},
   'first segment after the skip: MEDIA-SEQUENCE + SKIPPED-SEGMENTS is '
   . 'the same segment in the full playlist');
my $kept = 0;
$kept += $_->{duration} for @{$skip->{segments}};
ok($kept >= $until * 1000,
   "segments not skipped span $kept ms, at least CAN-SKIP-UNTIL");
ok($kept - $first->{duration} < $until * 1000,
   'and no more segments are listed than that needs');

# the copy rendition: CODECS from the source's avcC, the source's size
my ($src) = grep { $_->{uri} eq 'k_src/index.m3u8' } variants("$ll/k.m3u8");
my $kinit = slurp("$ll/k_src/init.mp4");
my $kat = index($kinit, 'avcC');
my $ksps = $kat < 0 ? '' : unpack('H*', substr($kinit, $kat + 4 + 8 + 1, 3));
is($src && $src->{CODECS}, "avc1.$ksps",
   "copy rendition: CODECS avc1.$ksps from the source's SPS, no audio");
is($src && $src->{RESOLUTION}, '640x360', 'copy rendition: 640x360');
is($src && $src->{'FRAME-RATE'}, '30.000', 'copy rendition: 30.000');
my $kfull = parse_media(slurp("$ll/k_src/index.m3u8"));
my ($kpeak) = sort { $b <=> $a } map { (-s "$ll/k_src/$_->{uri}" || 0) * 8000
                                       / $_->{duration} }
              @{$kfull->{segments}};
ok($src && $kpeak && $src->{BANDWIDTH} * 1.25 >= $kpeak,
   "copy rendition: measured peak within 125% of BANDWIDTH")
    or diag($src && "$src->{BANDWIDTH} $kpeak");

ok(!-e "$ll/s_low/index_skip.m3u8", 'default window: no index_skip.m3u8');
ok(slurp("$ll/s_low/index.m3u8") !~ /CAN-SKIP-UNTIL/,
   'default window: no CAN-SKIP-UNTIL');

stop_publisher($kpid);
stop_publisher($pid);

# the stream ended: its master stays
ok(wait_for_file("$ll/s_low/index.m3u8", 20, qr/#EXT-X-ENDLIST/),
   'ended: ENDLIST');
ok(slurp("$ll/s.m3u8") =~ m{\ns_low/index\.m3u8\n},
   'ended: the LL master stays');
ok(-s "$hls/s.m3u8", 'ended: classic master still there');

# a small video-only source: every rung is 176x144, duplicates left out
$pid = publish($n->rtmp_url('live/q'), size => '176x144', fps => 15,
               gop => 30, duration => 30, audio => 'none');
ok(wait_for_file("$ll/q.m3u8", 40, qr/STREAM-INF/), 'q: LL master');
ok(wait_for_file("$hls/q.m3u8", 20, qr/STREAM-INF/), 'q: classic master');
ok(wait_for_file("$ll/q_mid/index.m3u8", 20, qr/RENDITION-REPORT/),
   'q: _mid playlist with its report');
for my $m (["$ll/q.m3u8", 'q_low/index.m3u8'], ["$hls/q.m3u8", 'q_low.m3u8'])
{
    my @v = variants($m->[0]);
    is_deeply([map { $_->{uri} } @v], [$m->[1]],
              "q: only $m->[1] listed, the duplicates are left out");
    ok(@v && $v[0]{CODECS} =~ /^avc1\.[0-9a-f]{6}$/,
       "q: CODECS \"$v[0]{CODECS}\" has no mp4a") if @v;
    is(@v && $v[0]{RESOLUTION}, '176x144', 'q: 176x144');
}
my $q = parse_media(slurp("$ll/q_low/index.m3u8"));
is(scalar @{$q->{reports}}, 0, 'q_low reports no sibling: none listed');
my $qm = parse_media(slurp("$ll/q_mid/index.m3u8"));
is_deeply([map { $_->{uri} } @{$qm->{reports}}], ['../q_low/index.m3u8'],
          'the duplicate q_mid reports q_low only');
stop_publisher($pid);

$n->stop;
done_testing;

# ffprobe's profile and level as avc1's PP and LL hex digits
sub profile_level {
    my ($s) = @_;
    my %p = ('Baseline' => 66, 'Constrained Baseline' => 66, 'Main' => 77,
             'High' => 100, 'High 10' => 110, 'High 4:2:2' => 122,
             'High 4:4:4 Predictive' => 244);
    return '' unless defined $p{$s->{profile} // ''};
    return sprintf('%02x%02x', $p{$s->{profile}}, $s->{level});
}

sub slurp {
    open(my $f, '<', $_[0]) or return '';
    binmode $f;
    local $/;
    return scalar <$f>;
}
