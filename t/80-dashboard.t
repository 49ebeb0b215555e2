# The dashboard in a real browser: nginx.conf.example (localized, plus a
# token and the test endpoints) serves it; t/dashboard/check.js drives
# headless Chromium through playwright-core, publishes with ffmpeg, and
# prints what it saw as JSON, judged here.  The screenshot is written to
# build/artifacts/dashboard.png.
use strict;
use warnings;
use utf8;
use Test::More;
use VKStream::HTTP qw(json_decode json_encode);
use VKStream::Nginx;
use VKStream::Media qw(publish_cmd);

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

my $token = 'dashboard-test-token';
my $n = VKStream::Nginx->new;
my $p = $n->prefix;
# the build under test (the ASan one with SANITIZE=1)
local $ENV{VKSTREAM_MODULE} = $VKStream::Nginx::MODULE;
system("$root/scripts/localize-conf.sh", "$root/nginx.conf.example",
       "$p/conf/nginx.conf", $p, $n->rtmp_port, $n->http_port) == 0
    or BAIL_OUT('localize-conf.sh failed');
my $conf = do { local (@ARGV, $/) = "$p/conf/nginx.conf"; <> };
$conf =~ s/# vkstream_api_token\s+"[^"]*";/vkstream_api_token "$token";\n            vkstream_api_test on;/
    or BAIL_OUT('no token line in nginx.conf.example');
{
    open my $f, '>', "$p/conf/nginx.conf" or die $!;
    print $f $conf;
}
$n->start;

my $name = 'dash1';
my $api = $n->http_url('/vkstream/');
my $auth = { 'Content-Type' => 'application/json',
             Authorization => "Bearer $token" };
# Markup in the text must show up as text.
my $text = 'котики <b>bold</b> <img src=x onerror="window.__xss=true"> '
           . 'dashboard match';
my %cfg = (
    url => $n->http_url('/vkstream/ui/'),
    api => $api,
    chromium => $chromium,
    token => $token,
    stream => { app => 'live', name => $name },
    # larger than _low's 480 px, so _low is not capped and the card's
    # rendition size (480x360) differs from the input's (640x480)
    publish => [publish_cmd($n->rtmp_url("live/$name?vk=%D0%BA%D0%BE%D1%82"),
                            size => '640x480', fps => 15, gop => 15,
                            duration => 90)],
    inject_vk => { method => 'POST', url => "${api}test/vk",
                   headers => $auth,
                   body => { state => 'connected',
                             endpoint => 'streaming.vk.com',
                             received => 1, stored => 1 } },
    # Through the API's test endpoint for now; with the VK client, POST
    # {"text": ...} to the emulator's /admin/event instead.
    inject_match => { method => 'POST', url => "${api}test/match",
                      headers => $auth,
                      body => { tag => '%TAG%', event_type => 'post',
                                action => 'new', text => $text,
                                url => 'https://vk.com/wall-1_2',
                                author_id => -1,
                                author_url => 'https://vk.com/club1',
                                created => time } },
    match_text => 'dashboard match',
    screenshot => "$root/build/artifacts/dashboard.png",
);
my $cfgfile = "$p/dashboard.json";
{
    open my $f, '>', $cfgfile or die $!;
    print $f json_encode(\%cfg);
}

my $t = time;
my $json = `timeout 150 node $root/t/dashboard/check.js $cfgfile`;
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

# Initial GETs, then one request per event (and per save), plus the list
# and status every 5 s: a few per second at most, however the run went.
my $nreq = 0;
$nreq += $_ for values %{ $o->{api_requests} // {} };
my $secs = sprintf '%.1f', ($o->{total_ms} // 1) / 1000;
ok($nreq > 0 && $nreq / $secs < 3,
   "no polling storm: $nreq API requests in $secs s")
    or diag(explain($o->{api_requests}));

# Page load, empty state
# Chromium logs every HTTP error as a console error.  Two kinds are
# expected: a live playlist exists only from its first segment on (about
# 2 s after the rendition starts) and the player retries it every 2 s; and
# the keywords save this test makes without a token is answered 401.
# Without cluster mode ("cluster": null in /status) the page never asks
# GET /cluster.
my $hls404 = qr{status of 404 .* \@ http://[^/]+/hls/[^/]+\.m3u8$};
my $kw401 = qr{status of 401 .* \@ http://[^/]+/vkstream/streams/live/$name/keywords$};
my @hls404 = grep { /$hls404/ } @{ $o->{console_errors} };
my @kw401 = grep { /$kw401/ } @{ $o->{console_errors} };
my @errors = grep { !/$hls404/ && !/$kw401/ } @{ $o->{console_errors} };
is(scalar @kw401, 1, 'the one 401 the test provokes');
is($o->{api_requests}{'GET cluster'} // 0, 0,
   'no GET /cluster without cluster mode')
    or diag(explain($o->{api_requests}));
is_deeply(\@errors, [], 'no console errors')
    or diag(explain($o->{console_errors}));
ok(@hls404 <= 3, 'at most 3 playlist 404s while the first segment is made ('
   . scalar(@hls404) . ')') or diag(explain(\@hls404));
is_deeply($o->{load_console_errors} // ['none recorded'], [],
          'no console error on page load');
is_deeply($o->{page_errors}, [], 'no page errors');
is_deeply($o->{foreign_requests}, [], 'the page loads nothing from outside');
like($o->{empty_text} // '', qr/No streams yet/, 'empty state before a publish');
ok($o->{vk_off_shown}, 'VK off is shown');

# The stream appears within 2 s
ok(defined $o->{appear_ms_after_api} && $o->{appear_ms_after_api} <= 2000,
   'the stream appears within 2 s of being listed by the API ('
   . ($o->{appear_ms_after_api} // 'never') . ' ms, '
   . ($o->{appear_ms_after_spawn} // 'never') . ' ms after ffmpeg started)');
like($o->{card_text} // '', qr{live/$name.*live.*from 127\.0\.0\.1}s,
     'card: name, state, publisher');
like($o->{facts_text} // '', qr/uptime.*h264 640×480 15\.0 fps, aac/s,
     'card: uptime and input format');
like($o->{renditions_text} // '', qr/_low.*running.*480×360/s,
     'card: the rendition, its state and size');
is_deeply($o->{sources}, ['master (auto)', '_low'],
          'player: master playlist and each rendition');

# The video plays
ok(($o->{video_time} // 0) >= 3, "video currentTime past 3 s ("
   . ($o->{video_time} // 'none') . ", first seen at "
   . ($o->{video_first_time} // 'none') . ")");
is($o->{video_info} && $o->{video_info}{width}, 480, 'decoded 480 px wide');
ok($o->{video_info} && $o->{video_info}{frames} > 0, 'frames decoded');
like($o->{player_state} // '', qr/^playing master/, 'plays the master playlist');
is($o->{switched_to}, '_low', 'switched to the _low playlist');
like($o->{switched_state} // '', qr/^playing _low/, 'and it plays');

# Keywords
like($o->{kw_msg_no_token} // '', qr/token is needed/,
     'keywords: a write without the token asks for it');
is($o->{api_keywords}, 'dashboard test', 'keywords saved with the token');
like($o->{rule_badge} // '', qr/^rule (pending|active)$/, 'rule state shown');
is($o->{token_in_storage}, $token, 'token kept in sessionStorage');

# VK
like($o->{vk_text} // '', qr/connected.*streaming\.vk\.com/s, 'VK state');
ok(!$o->{vk_off_after}, 'VK off notice gone');
ok(defined $o->{match_ms} && $o->{match_ms} <= 2000,
   'the match appears within 2 s (' . ($o->{match_ms} // 'never') . ' ms)');
is($o->{match_item} && $o->{match_item}{text}, $text,
   'match text shown as text');
is($o->{match_html_elements}, 0, 'no markup from the match in the page');
ok(!$o->{xss_fired}, 'no script from the match ran');
like($o->{match_item} && $o->{match_item}{head} // '',
     qr/post.*club1/s, 'match type and author');
is($o->{match_item} && $o->{match_item}{link}, 'https://vk.com/wall-1_2',
   'match link');

# Screenshot, end, error state
ok(($o->{screenshot_bytes} // 0) > 10000,
   "screenshot written to build/artifacts/dashboard.png");
like($o->{ended_player_state} // '', qr/stream ended/,
     'an ended stream is shown as ended');
like($o->{unreachable_banner} // '', qr/API unreachable/,
     'API unreachable is shown');

$n->stop;
done_testing;
