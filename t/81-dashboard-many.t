# The dashboard with 30 live streams on one nginx stays light: players
# start only for shown cards (at most 4) or on a click, a card scrolled
# away stops its player, playlists are fetched only for the playing
# cards, and the API sees a few requests a second whatever the number of
# streams.  t/dashboard/many.js drives headless Chromium and prints what
# it saw as JSON, judged here; the screenshot is
# build/artifacts/dashboard-many.png.
#
# Cheap on a 2-core machine: one 160x90, 10 fps clip without audio is
# encoded once and published 30 times with -c copy, and the only rendition
# is as small (160x90, ultrafast, no audio).  A copy rendition would cost
# less still, but alone (no encoded rendition beside it) it fails: the
# copy takes its size from decoded frames ("dimensions not set").
use strict;
use warnings;
use utf8;
use Test::More;
use Time::HiRes qw(time);
use VKStream::HTTP qw(json_decode json_encode);
use VKStream::Nginx;
use VKStream::API qw(api wait_until);
use VKStream::Media qw(publish stop_publisher);

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

my $root = $VKStream::Nginx::ROOT;
my $chromium = $ENV{VKSTREAM_CHROMIUM} // '/usr/bin/chromium';
for ([$chromium, 'chromium (make deps)'],
     ["$root/node_modules/playwright-core", 'playwright-core (make ui)'],
     ["$root/build/ui/hls.min.js", 'the built dashboard (make ui)']) {
    -e $_->[0] or BAIL_OUT("missing $_->[1]: $_->[0]");
}
system('node --version >/dev/null 2>&1') == 0 or BAIL_OUT('missing node');

my $N = 30;
my $MAX_AUTO = 4;

my $n = VKStream::Nginx->new;
my $p = $n->prefix;
local $ENV{VKSTREAM_MODULE} = $VKStream::Nginx::MODULE;
system("$root/scripts/localize-conf.sh", "$root/nginx.conf.example",
       "$p/conf/nginx.conf", $p, $n->rtmp_port, $n->http_port) == 0
    or BAIL_OUT('localize-conf.sh failed');
my $conf = do { local (@ARGV, $/) = "$p/conf/nginx.conf"; <> };
# One tiny rendition instead of _low, 1 s fragments.
$conf =~ s/(vkstream on;)/$1\n            vkstream_rendition _tiny width=160 fps=10 preset=ultrafast threads=1 audio=none;/
    or BAIL_OUT('no "vkstream on" in nginx.conf.example');
# (the classic master comes from vkstream_hls_master: the real ladder)
$conf =~ s/vkstream_api_hls_variant _low;/vkstream_api_hls_variant _tiny;/
    or BAIL_OUT('no vkstream_api_hls_variant in nginx.conf.example');
$conf =~ s/hls_fragment 2s;/hls_fragment 1s;/
    or BAIL_OUT('no hls_fragment in nginx.conf.example');
{
    open my $f, '>', "$p/conf/nginx.conf" or die $!;
    print $f $conf;
}
$n->start;

# The clip: 160x90 at 10 fps, a keyframe every second.
my $clip = "$p/clip.flv";
system('ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin',
       '-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=10:duration=300',
       '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
       '-g', 10, '-keyint_min', 10, '-sc_threshold', 0,
       '-an', '-f', 'flv', $clip) == 0
    or BAIL_OUT('cannot encode the clip');

my @names = map { sprintf 'many%02d', $_ } 0 .. $N - 1;
my @pids = map {
    publish($n->rtmp_url("live/$_"), input => ['-i', $clip],
            video => 'copy-input', audio => 'none')
} @names;

# All live, each with its copy running and a segment in its playlist.
my $t0 = time;
my $ready = wait_until(120, sub {
    my (undef, $j) = api($n, 'GET', '/vkstream/streams');
    return 0 unless $j;
    my @ok = grep { $_->{state} eq 'live'
                    && grep({ $_->{state} eq 'running' }
                            @{ $_->{renditions} // [] }) }
             @{ $j->{streams} };
    return 0 unless @ok == $N;
    return !grep { my $f = $n->hls_dir . "/${_}_tiny.m3u8";
                   !(-s $f && do { local (@ARGV, $/) = $f; <> } =~ /EXTINF/) }
           @names;
});
ok($ready, "$N streams live with their rendition running and a segment ("
   . sprintf('%.1f', time - $t0) . ' s)')
    or BAIL_OUT('the streams did not start');

my %cfg = (
    url => $n->http_url('/vkstream/ui/'),
    api => $n->http_url('/vkstream/'),
    chromium => $chromium,
    streams => $N,
    max_auto => $MAX_AUTO,
    viewport => { width => 1360, height => 2400 },
    screenshot => "$root/build/artifacts/dashboard-many.png",
);
my $cfgfile = "$p/dashboard-many.json";
{
    open my $f, '>', $cfgfile or die $!;
    print $f json_encode(\%cfg);
}

my $json = `timeout 240 node $root/t/dashboard/many.js $cfgfile`;
my $o = eval { json_decode($json) }
    or BAIL_OUT("no JSON from the browser driver: $json");
diag("browser driver: $o->{total_ms} ms; "
     . join(', ', map { "$_ $o->{steps}{$_}{ms} ms" }
                  sort { $o->{steps}{$a}{ms} <=> $o->{steps}{$b}{ms} }
                  keys %{ $o->{steps} }));
is($o->{error}, undef, 'the browser driver went through every step')
    or diag(explain($o));
for my $s (sort keys %{ $o->{steps} }) {
    ok($o->{steps}{$s}{ok}, "step $s") or diag($o->{steps}{$s}{error});
}

# Every card, and enough of them shown to test the limit.
is($o->{cards}, $N, "all $N cards listed");
is($o->{count_text}, "($N live, 0 ended)", 'the count says so');
ok(($o->{shown_at_start} // 0) > $MAX_AUTO,
   "more cards shown than players start ($o->{shown_at_start})");

# At most 4 players at once, the whole run long (sampled every 50 ms in
# the page, and counted at each hls.js constructor).
ok(($o->{max_hls_alive} // 99) <= $MAX_AUTO,
   "at most $MAX_AUTO hls.js instances alive at once ("
   . ($o->{max_hls_alive} // 'none') . ')');
ok(($o->{max_videos_attached} // 99) <= $MAX_AUTO,
   "at most $MAX_AUTO video elements with media at once ("
   . ($o->{max_videos_attached} // 'none') . ')');
ok(($o->{max_videos_playing} // 99) <= $MAX_AUTO,
   "at most $MAX_AUTO videos playing at once ("
   . ($o->{max_videos_playing} // 'none') . ')');
# A player that stops destroys its hls.js instance (and so its
# MediaSource): as many alive as cards with a running player, each time.
ok(@{ $o->{alive_checks} // [] } == 3
   && !grep({ $_->{alive} != $_->{running} } @{ $o->{alive_checks} }),
   'hls.js instances alive = running players, at each step ('
   . join(', ', map { "$_->{when}: $_->{alive}/$_->{running}" }
                @{ $o->{alive_checks} // [] })
   . "; $o->{hls_created} made, $o->{hls_destroyed} destroyed)");

# At the start: the first shown cards play, the other shown ones show play.
is(scalar @{ $o->{initial_playing} // [] }, $MAX_AUTO,
   "$MAX_AUTO players started by being shown: @{ $o->{initial_playing} // [] }");
is_deeply($o->{initial_playing}, $o->{initial_expected},
          'they are the top shown cards');
ok(($o->{initial_advance} // 0) >= 1,
   "their videos advance (currentTime +$o->{initial_advance} s at least)");
like($o->{idle_button_text} // '', qr/play.*live · _tiny 160×90/s,
     "a shown card without a player shows play and its state "
     . "('$o->{idle_button_text}')");
is_deeply($o->{requested_initial}, $o->{initial_playing},
          'playlists requested only for the playing cards');

# Scrolling: the cards scrolled away stop, the ones scrolled in play.
is_deeply($o->{scrolled_out_stopped}, $o->{initial_playing},
          'the cards scrolled out of view stopped their players');
is($o->{scrolled_out_media}, 0, 'and hold no media (no src, no hls.js)');
ok(defined $o->{scrolled_in} && ($o->{scrolled_in_advance} // 0) >= 1,
   "a card scrolled into view plays ($o->{scrolled_in}: currentTime +"
   . ($o->{scrolled_in_advance} // 'none') . ' s)');
ok(($o->{after_scroll_playing} // 0) >= 1
   && $o->{after_scroll_playing} <= $MAX_AUTO,
   "$o->{after_scroll_playing} players after the scroll");

# A click plays an idle card and stops the oldest auto-started one.
ok(($o->{clicked_advance} // 0) >= 1,
   "a clicked card plays ($o->{clicked}: currentTime +"
   . ($o->{clicked_advance} // 'none') . ' s)');
is($o->{clicked_mode}, 'click', 'started by the click');
is($o->{click_stopped}, $o->{click_oldest_auto},
   "the click stopped the oldest auto-started player ($o->{click_stopped})");
is($o->{after_click_playing}, $MAX_AUTO, "still $MAX_AUTO players");

# Network: no request for a card whose player was not running then.
is_deeply($o->{requests_outside_players} // ['none seen'], [],
          'every playlist and segment request falls in its card\'s player '
          . "run ($o->{hls_requests} requests)")
    or diag(explain($o->{requests_outside_players}));
ok(@{ $o->{never_started} // [] } >= $N - 3 * $MAX_AUTO - 1
   && !grep({ $o->{requests_by_stream}{$_} } @{ $o->{never_started} }),
   scalar(@{ $o->{never_started} // [] }) . ' cards never played and '
   . 'nothing of theirs was requested')
    or diag(explain($o->{requests_by_stream}));

# The API: a few requests a second, whatever the number of streams (the
# list, the status, the feed; no request per stream).
# The page's load asks each endpoint once; the rate is that of what came
# after (refreshes every 5 s and on events): the load's burst would weigh
# more in a short run, that is on a fast machine.
my $nreq = 0;
$nreq += $_ for values %{ $o->{api_requests} // {} };
my $after = $nreq - keys %{ $o->{api_requests} // {} };
my $secs = ($o->{api_window_ms} // 1) / 1000;
ok($nreq > 0 && $after / $secs < 1.5,
   sprintf('no polling storm: %d API requests after the page\'s load in '
           . '%.1f s (%d in all)', $after, $secs, $nreq))
    or diag(explain($o->{api_requests}));
ok(!grep({ m{^GET streams/} } keys %{ $o->{api_requests} // {} }),
   'no request per stream') or diag(explain($o->{api_requests}));

# Console: nothing; without cluster mode ("cluster": null in /status) the
# page never asks GET /cluster, and a playlist 404 is not expected (every
# playlist had a segment before the page opened).
is($o->{api_requests}{'GET cluster'} // 0, 0,
   'no GET /cluster without cluster mode')
    or diag(explain($o->{api_requests}));
is_deeply($o->{console_errors}, [], 'no console errors')
    or diag(explain($o->{console_errors}));
is_deeply($o->{page_errors}, [], 'no page errors');
ok($o->{nodes_hidden}, 'no Nodes panel without cluster mode');
ok(($o->{screenshot_bytes} // 0) > 10000,
   'screenshot written to build/artifacts/dashboard-many.png');

stop_publisher($_) for @pids;
$n->stop;
done_testing;
