# LL-HLS in a real browser (issue 14): headless Chromium (playwright-core)
# with hls.js' lowLatencyMode plays a rendition's LL-HLS media playlist,
# the LL-HLS master with its renditions (switching between them), and a
# video=copy audio=copy rendition; the dashboard chooses the stream's
# LL-HLS by default and shows its latency.  t/dashboard/llhls.js drives
# the browser and prints what it saw as JSON, judged here.  Latencies are
# recorded (notes), not judged: timing is make bench's.  Screenshot:
# build/artifacts/dashboard-llhls.png.
use strict;
use warnings;
use Test::More;
use VKStream::HTTP qw(json_decode json_encode);
use VKStream::Nginx;
use VKStream::Media qw(publish stop_publisher);

my $root = $VKStream::Nginx::ROOT;
my $chromium = $ENV{VKSTREAM_CHROMIUM} // '/usr/bin/chromium';
for ([$chromium, 'chromium (make deps)'],
     ["$root/node_modules/playwright-core", 'playwright-core (make ui)'],
     ["$root/build/ui/hls.min.js", 'the built dashboard (make ui)']) {
    -e $_->[0] or BAIL_OUT("missing $_->[1]: $_->[0]");
}
system('node --version >/dev/null 2>&1') == 0 or BAIL_OUT('missing node');

my $PART = 500;
my $n = VKStream::Nginx->new;
my $p = $n->prefix;

# The workers (nobody, when run as root) must read the dashboard's files.
my $ui = "$root/build/ui";
if ($> == 0 && system("runuser -u nobody -- test -r $ui/index.html "
                      . '2>/dev/null') != 0) {
    system('cp', '-r', $ui, "$p/ui") == 0 or die "cp: $?";
    system('chmod', '-R', 'a+rX', "$p/ui");
    $ui = "$p/ui";
}

# _low 480x270 and _mid 320x180 encoded, _src the 640x360 source copied
$n->write_conf(VKStream::Nginx::standard_conf(
    workers => 2,
    live => "vkstream on; vkstream_llhls on; vkstream_llhls_path "
          . "%%PREFIX%%/ll; vkstream_llhls_part_target ${PART}ms;
             vkstream_rendition _low;
             vkstream_rendition _mid width=320 preset=ultrafast;
             vkstream_rendition _src video=copy audio=copy;",
    http => <<"HTTP"));
        location /ll/ {
            alias %%PREFIX%%/ll/;
            vkstream_llhls_serve;
        }
        location /vkstream/ui/ {
            alias $ui/;
            include /etc/nginx/mime.types;
        }
HTTP
$n->start;

my $name = 'll1';
my $pub = publish($n->rtmp_url("live/$name"), size => '640x360', fps => 25,
                  gop => 50, duration => 240);

my $origin = $n->http_url('');
my %cfg = (
    origin => $origin,
    ui => "$origin/vkstream/ui/",
    api => "$origin/vkstream/",
    hls_js => "$origin/vkstream/ui/hls.min.js",
    chromium => $chromium,
    stream => { app => 'live', name => $name },
    media => '_low',
    copy => '_src',
    screenshot => "$root/build/artifacts/dashboard-llhls.png",
);
my $cfgfile = "$p/llhls.json";
{
    open my $f, '>', $cfgfile or die $!;
    print $f json_encode(\%cfg);
}
my $json = `timeout 240 node $root/t/dashboard/llhls.js $cfgfile`;
stop_publisher($pub);
my $o = eval { json_decode($json) }
    or BAIL_OUT("no JSON from the browser driver: $json");
diag("browser driver: $o->{total_ms} ms; "
     . join(', ', map { "$_ $o->{steps}{$_}{ms} ms" }
                  sort { $o->{steps}{$a}{ms} <=> $o->{steps}{$b}{ms} }
                  keys %{ $o->{steps} }));

if (defined $o->{mse} && !$o->{mse}) {
    plan skip_all => 'this Chromium cannot play H.264/AAC through Media '
        . 'Source Extensions (MediaSource.isTypeSupported(\'video/mp4; '
        . 'codecs="avc1.64001f,mp4a.40.2"\') is false)';
}
ok($o->{mse}, 'MSE plays avc1.64001f,mp4a.40.2');
ok($o->{hls_supported}, "hls.js $o->{hls_version} is supported");
is($o->{error}, undef, 'the browser driver went through its steps')
    or diag(explain($o));
for my $s (sort keys %{ $o->{steps} }) {
    ok($o->{steps}{$s}{ok}, "step $s") or diag($o->{steps}{$s}{error});
}
is_deeply($o->{page_errors}, [], 'no page errors');
# Chromium logs every HTTP error as a console error: a playlist asked for
# before its first part is written (a player retries it) is expected
my $ll404 = qr{status of 404 .* \@ http://[^/]+/ll/[^/]+(?:/index)?\.m3u8$};
my @ll404 = grep { /$ll404/ } @{ $o->{console_errors} // [] };
is_deeply([grep { !/$ll404/ } @{ $o->{console_errors} // [] }], [],
          'no console errors');
ok(@ll404 <= 3, 'at most 3 playlist 404s (' . scalar(@ll404) . ')')
    or diag(explain(\@ll404));

sub stats {
    my @v = sort { $a <=> $b } @_;
    return 'none' unless @v;
    return sprintf('median %d ms, min %d, max %d (%d samples)',
                   $v[$#v / 2], $v[0], $v[-1], scalar @v);
}

# --- a media playlist with lowLatencyMode ------------------------------
my $m = $o->{media};
my ($f, $l) = ($m->{first} // {}, $m->{last} // {});
cmp_ok($l->{frames} // 0, '>', $f->{frames} // 0,
       "media playlist: frames decoded ($f->{frames} -> $l->{frames})");
cmp_ok(($l->{time} // 0) - ($f->{time} // 0), '>=', 3,
       'media playlist: currentTime 3 s further');
is($l->{width}, 480, 'media playlist: _low is 480 wide');
ok($l->{low_latency_mode}, 'hls.js in lowLatencyMode');
cmp_ok($l->{parts} // 0, '>', 0, "hls.js parsed parts ($l->{parts})");
is($l->{part_target}, $PART / 1000, 'and PART-TARGET');
ok(defined $l->{playing_date}, 'hls.playingDate is set (PROGRAM-DATE-TIME)');
my @lat = grep { defined } @{ $m->{latencies_ms} // [] };
# a sanity check (a wrong clock or time zone is hours off), not a bound
ok(@lat && !grep({ $_ <= 0 || $_ > 300_000 } @lat),
   'latency Date.now() - playingDate is positive and sane');
note("LL-HLS _low: Date.now() - playingDate " . stats(@lat)
     . sprintf('; hls.latency %.2f s, target %.2f s; requests: %s',
               $l->{hls_latency} // -1, $l->{target_latency} // -1,
               join(' ', map { "$_ $m->{requests}{$_}" }
                         sort keys %{ $m->{requests} // {} })));
note('player errors: ' . join(', ', @{ $m->{errors} // [] }))
    if @{ $m->{errors} // [] };

# --- the master: renditions and switches ---------------------------------
{
    my $ms = $o->{master};
    my @levels = @{ $ms->{levels} // [] };
    cmp_ok(scalar @levels, '>=', 2,
           'master: hls.js sees ' . scalar(@levels) . ' renditions')
        or diag('master: ' . ($ms->{text} // 'none'));
    my %w = map { ($_->{width} // 0) => 1 } @levels;
    cmp_ok(scalar keys %w, '>=', 2, 'of different sizes: '
           . join(' ', map { "$_->{width}x$_->{height}" } @levels));
    my @sw = @{ $ms->{switches} // [] };
    is(scalar @sw, 2, 'two switches') or diag(explain($ms->{stuck}));
    for my $s (@sw) {
        my $what = "switch to level $s->{level} ($s->{want_width}x"
                 . "$s->{want_height})";
        ok($s->{at}{width} == $s->{want_width}
           && $s->{at}{height} == $s->{want_height},
           "$what: LEVEL_SWITCHED, video $s->{at}{width}x$s->{at}{height}");
        cmp_ok($s->{after}{frames}, '>', $s->{at}{frames},
               "$what: frames decoded after it");
        cmp_ok($s->{after}{time} - $s->{at}{time}, '>=', 1,
               "$what: plays on");
        is($s->{after}{level}, $s->{level}, "$what: still on it");
        note("$what took $s->{switched_ms} ms");
}
isnt($sw[0]{want_width}, $sw[1]{want_width}, 'the two are different sizes')
    if @sw == 2;
}

# --- a copy rendition ---------------------------------------------------
my $c = $o->{copy};
cmp_ok($c->{last}{frames} // 0, '>', $c->{first}{frames} // 0,
       'copy rendition: frames decoded');
cmp_ok(($c->{last}{time} // 0) - ($c->{first}{time} // 0), '>=', 2,
       'copy rendition: currentTime 2 s further');
is(($c->{last}{width} // 0) . 'x' . ($c->{last}{height} // 0), '640x360',
   'copy rendition: the source\'s 640x360');

# --- the dashboard -------------------------------------------------------
{
    my $D = $o->{dashboard};
    like($D->{selected} // '', qr/^LL-HLS master/,
         'dashboard: the LL-HLS master is chosen by default');
    my %src = map { $_ => 1 } @{ $D->{sources} // [] };
    ok($src{'LL-HLS _low'} && $src{'LL-HLS _src'} && $src{_low},
       'dashboard: LL-HLS playlists next to the classic ones: '
       . join(', ', @{ $D->{sources} // [] }));
    like($D->{player_state} // '', qr/^playing LL-HLS master/,
         'dashboard: it plays');
    ok(@{ $D->{configs} // [] } && $D->{configs}[-1]{lowLatencyMode}
       && $D->{configs}[-1]{liveDurationInfinity},
       'dashboard: hls.js with lowLatencyMode and liveDurationInfinity');
    is($D->{latency}{kind}, 'pdt', 'dashboard: latency from PROGRAM-DATE-TIME');
    like($D->{latency}{text} // '', qr/^latency \d+\.\d+ s \(PDT\)$/,
         "dashboard: latency shown ("
         . ($D->{latency}{text} // "none") . ")");
    ok(($D->{latency}{ms} // 0) > 0, 'dashboard: a positive latency');
    isnt($D->{latency_later}{ms}, $D->{latency}{ms},
         'dashboard: updated live (' . ($D->{latency}{ms} // 'none')
         . ' ms, then ' . ($D->{latency_later}{ms} // 'none') . ' ms)');
    ok(($D->{screenshot_bytes} // 0) > 10000,
       'screenshot written to build/artifacts/dashboard-llhls.png');
}

$n->stop;
done_testing;
