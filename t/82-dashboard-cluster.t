# The dashboard in cluster mode: three nginx nodes (nginx.conf.example,
# localized, plus the cluster directives) on one real redis-server, 10
# cheap streams on each, the dashboard opened on node c.  Every card names
# its node, the Nodes panel lists a, b and c with their live streams, a
# stream of node a plays from a's HLS (every playlist and segment request
# goes to the node that has the stream), the lazy players still hold (at
# most 4), and stopping Redis shows "cluster: disconnected" until it is
# started again.  t/dashboard/cluster.js drives headless Chromium and
# prints what it saw as JSON, judged here; the screenshots are
# build/artifacts/dashboard-cluster.png and
# dashboard-cluster-disconnected.png.
#
# The streams are as cheap as in t/81-dashboard-many.t: one 160x90, 10 fps
# clip without audio, encoded once and published 30 times with -c copy,
# and one rendition as small.  VK is not configured (VK is optional here):
# the panel's VK badge and "VK held by" follow the lease holder that
# /cluster names.  Without a VK client no node takes the lease, so there
# is none.
use strict;
use warnings;
use utf8;
use Test::More;
use IPC::Open2 qw(open2);
use IO::Handle;
use Time::HiRes qw(time);
use VKStream::HTTP qw(json_decode json_encode);
use VKStream::Nginx;
use VKStream::Redis;
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
system('redis-server --version >/dev/null 2>&1') == 0
    or BAIL_OUT('missing redis-server (make deps)');

my @NODES = qw(a b c);
my $SELF = 'c';             # the node whose dashboard is opened
my $REMOTE = 'a';           # a stream of this node is played on ${SELF}'s page
my $PER_NODE = 10;
my $N = $PER_NODE * @NODES;
my $MAX_AUTO = 4;
my $TTL = 2;                # vkstream_cluster_ttl, seconds
my $STATS = 5;              # the dashboard's refresh period, seconds

my $redis = VKStream::Redis->new;
my $rurl = 'redis://127.0.0.1:' . $redis->port . '/0';

# nginx.conf.example as t/81 runs it (one tiny rendition, 1 s fragments),
# one worker, plus the cluster directives.
# nginx-rtmp's HLS cleanup runs in the cache manager process and can list
# a playlist's temporary copy just before the worker renames it; it logs
# that at crit (its own code, seen here on a very busy machine).
my $hls_cleanup_race = qr/\[crit\] .*hls: cleanup stat\(\) "[^"]*\.m3u8\.bak" failed \(2: No such file or directory\)/;
my %n;
for my $name (@NODES) {
    my $n = $n{$name} = VKStream::Nginx->new(allow_log => [$hls_cleanup_race]);
    my $p = $n->prefix;
    local $ENV{VKSTREAM_MODULE} = $VKStream::Nginx::MODULE;
    system("$root/scripts/localize-conf.sh", "$root/nginx.conf.example",
           "$p/conf/nginx.conf", $p, $n->rtmp_port, $n->http_port) == 0
        or BAIL_OUT('localize-conf.sh failed');
    my $conf = do { local (@ARGV, $/) = "$p/conf/nginx.conf"; <> };
    $conf =~ s/(vkstream on;)/$1\n            vkstream_rendition _tiny width=160 fps=10 preset=ultrafast threads=1 audio=none;/
        or BAIL_OUT('no "vkstream on" in nginx.conf.example');
    # (the classic master comes from vkstream_hls_master: the real ladder)
    $conf =~ s/vkstream_api_hls_variant _low;/vkstream_api_hls_variant _tiny;/
        or BAIL_OUT('no vkstream_api_hls_variant in nginx.conf.example');
    $conf =~ s/hls_fragment 2s;/hls_fragment 1s;/
        or BAIL_OUT('no hls_fragment in nginx.conf.example');
    $conf =~ s/^worker_processes\s+\d+;/worker_processes 1;/m
        or BAIL_OUT('no worker_processes in nginx.conf.example');
    my $url = 'http://127.0.0.1:' . $n->http_port;
    $conf =~ s/^(vkstream_matches .*)$/$1\n
# cluster mode (t\/82-dashboard-cluster.t)
vkstream_cluster         $rurl;
vkstream_cluster_node    $name;
vkstream_cluster_url     $url;
vkstream_cluster_prefix  t82:;
vkstream_cluster_ttl     ${TTL}s;/m
        or BAIL_OUT('no vkstream_matches in nginx.conf.example');
    open my $f, '>', "$p/conf/nginx.conf" or die $!;
    print $f $conf;
    close $f;
    $n->start;
}
my %url = map { $_ => 'http://127.0.0.1:' . $n{$_}->http_port } @NODES;

sub j {
    my ($node, $path) = @_;
    return (api($n{$node}, 'GET', "/vkstream$path"))[1];
}

ok(wait_until(30, sub {
    my $c = j($SELF, '/cluster') // {};
    ($c->{state} // '') eq 'connected' && @{ $c->{nodes} // [] } == @NODES;
}), "the three nodes are in the cluster, seen from $SELF")
    or BAIL_OUT('no cluster: ' . explain(j($SELF, '/cluster')));
my $st = j($SELF, '/status');
is($st->{cluster}{state}, 'connected', '/status: cluster connected');
is($st->{cluster}{node}, $SELF, '/status: cluster node');

# The clip: 160x90 at 10 fps, a keyframe every second.
my $clip = $n{$SELF}->prefix . '/clip.flv';
system('ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin',
       '-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=10:duration=300',
       '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
       '-g', 10, '-keyint_min', 10, '-sc_threshold', 0,
       '-an', '-f', 'flv', $clip) == 0
    or BAIL_OUT('cannot encode the clip');

# 10 streams per node, named after it: a00..a09, b00..b09, c00..c09;
# a's last, so that its streams are the newest, at the top of the page.
my %node_of;
my @pids;
for my $node (reverse @NODES) {
    for my $i (0 .. $PER_NODE - 1) {
        my $name = sprintf '%s%02d', $node, $i;
        $node_of{$name} = $node;
        push @pids, publish($n{$node}->rtmp_url("live/$name"),
                            input => ['-i', $clip], video => 'copy-input',
                            audio => 'none');
    }
}

# All live in c's view, each with its rendition running, and a segment in
# each playlist on its node; the Nodes panel's source says 10 each.
my $t0 = time;
my $ready = wait_until(240, sub {
    my $l = j($SELF, '/streams') or return 0;
    my @ok = grep { $_->{state} eq 'live'
                    && ($_->{node} // '') eq ($node_of{$_->{name}} // '-')
                    && grep({ $_->{state} eq 'running' }
                            @{ $_->{renditions} // [] }) }
             @{ $l->{streams} };
    return 0 unless @ok == $N;
    return 0 if grep {
        my $f = $n{$node_of{$_}}->hls_dir . "/${_}_tiny.m3u8";
        !(-s $f && do { local (@ARGV, $/) = $f; <> } =~ /EXTINF/)
    } keys %node_of;
    my $c = j($SELF, '/cluster') or return 0;
    return @{ $c->{nodes} } == @NODES
        && !grep { $_->{live} != $PER_NODE } @{ $c->{nodes} };
});
ok($ready, "$N streams live on 3 nodes, listed by $SELF with their nodes, "
   . 'renditions running, segments written ('
   . sprintf('%.1f', time - $t0) . ' s)')
    or BAIL_OUT('the streams did not start: '
                . explain([j($SELF, '/cluster'), j($SELF, '/status')]));
my $cl = j($SELF, '/cluster');
my $holder = $cl->{vk}{holder};
is(scalar(grep { $_->{vk} } @{ $cl->{nodes} }), defined $holder ? 1 : 0,
   '/cluster marks the VK holder\'s node, if any ('
   . ($holder // 'none') . ')');
is($holder, undef, 'without VK configured no node holds VK');

my %cfg = (
    url => $n{$SELF}->http_url('/vkstream/ui/'),
    api => $n{$SELF}->http_url('/vkstream/'),
    chromium => $chromium,
    streams => $N,
    max_auto => $MAX_AUTO,
    viewport => { width => 1360, height => 2400 },
    screenshot => "$root/build/artifacts/dashboard-cluster.png",
    screenshot_down => "$root/build/artifacts/dashboard-cluster-disconnected.png",
    nodes => \%url,
    self => $SELF,
    remote => $REMOTE,
    live_per_node => $PER_NODE,
    node_of => \%node_of,
);
my $cfgfile = $n{$SELF}->prefix . '/dashboard-cluster.json';
{
    open my $f, '>', $cfgfile or die $!;
    print $f json_encode(\%cfg);
}

# The driver asks for Redis to be stopped and started ("@@ stop-redis"),
# and is answered on its standard input once it is done.
my %redis_at;
my $pid = open2(my $from, my $to, 'timeout', 480, 'node',
                "$root/t/dashboard/cluster.js", $cfgfile);
$to->autoflush(1);
my $json;
while (my $line = <$from>) {
    if ($line =~ /^\@\@ (stop|start)-redis$/) {
        if ($1 eq 'stop') { $redis->stop } else { $redis->start }
        $redis_at{$1} = time;
        print $to "done\n";
    } else {
        $json = $line;
    }
}
waitpid $pid, 0;
my $o = eval { json_decode($json // '') }
    or BAIL_OUT('no JSON from the browser driver: ' . ($json // 'nothing'));
diag("browser driver: $o->{total_ms} ms; "
     . join(', ', map { "$_ $o->{steps}{$_}{ms} ms" }
                  sort { $o->{steps}{$a}{ms} <=> $o->{steps}{$b}{ms} }
                  keys %{ $o->{steps} }));
is($o->{error}, undef, 'the browser driver went through every step')
    or diag(explain($o));
for my $s (sort keys %{ $o->{steps} }) {
    ok($o->{steps}{$s}{ok}, "step $s") or diag($o->{steps}{$s}{error});
}

# --- every stream of every node, on c's page -----------------------------
is($o->{cards}, $N, "all $N cards listed on ${SELF}'s page");
is($o->{count_text}, "($N live, 0 ended)", 'the count says so');
is_deeply($o->{card_nodes},
          { map { $_ => "node $node_of{$_}" } keys %node_of },
          'each card names the node its stream was published to');
is_deeply($o->{card_node_urls},
          { map { $_ => $url{$node_of{$_}} } keys %node_of },
          'with that node\'s URL as its tooltip');
my @bad_meta = grep { $o->{card_metas}{$_} !~
    /^from 127\.0\.0\.1( · worker \d+)? · started \S/ } sort keys %node_of;
is_deeply(\@bad_meta, [], 'each card: publisher and start, a worker only '
          . "for ${SELF}'s own (e.g. '$o->{card_metas}{a00}')")
    or diag(explain($o->{card_metas}));
like($o->{card_metas}{c00} // '', qr/ · worker \d+ · /,
     "a stream of $SELF names its worker");
unlike($o->{card_metas}{a00} // '', qr/worker/,
       'a stream of another node names none (no worker here)');

# --- the Nodes panel ------------------------------------------------------
my $panel = $o->{panel} // {};
ok(!$panel->{hidden}, 'the Nodes panel is shown');
is($panel->{state_badge}, 'connected', 'its state: connected');
is($panel->{header_badge}, undef, 'no cluster badge in the header');
is($panel->{down_text}, undef, 'no cluster alert in the panel');
is_deeply([map { $_->{node} } @{ $panel->{rows} // [] }], \@NODES,
          'it lists a, b and c');
my %row = map { $_->{node} => $_ } @{ $panel->{rows} // [] };
is_deeply({ map { $_ => $row{$_}{live} } @NODES },
          { map { $_ => $PER_NODE } @NODES },
          "live streams $PER_NODE / $PER_NODE / $PER_NODE");
is_deeply({ map { $_ => $row{$_}{href} } @NODES },
          { map { $_ => "$url{$_}/" } @NODES },
          'each node\'s name links to its URL');
is_deeply({ map { $_ => $row{$_}{transcodes} } @NODES },
          { map { $_ => "$PER_NODE / ∞" } @NODES },
          'transcodes: 10 each, no maximum');
ok(!grep({ ($row{$_}{cpu} // '') !~ /^\d+ %$/ } @NODES),
   'CPU busy in % (' . join(', ', map { $row{$_}{cpu} // '?' } @NODES) . ')');
ok(!grep({ ($row{$_}{age} // '') !~ /^\d+(\.\d)? s ago$/ } @NODES),
   'heartbeat ages in seconds ('
   . join(', ', map { $row{$_}{age} // '?' } @NODES) . ')');
is_deeply({ map { $_ => $row{$_}{badges} } @NODES },
          { map { $_ => [(defined $holder && $_ eq $holder ? 'VK' : ()),
                         ($_ eq $SELF ? 'this node' : ())] } @NODES },
          "\"this node\" on $SELF only, and a VK badge on the holder only ("
          . ($holder // 'none') . ')');
ok($row{$SELF}{self} && !grep({ $row{$_}{self} } grep { $_ ne $SELF } @NODES),
   "${SELF}'s row marked as self");
like($panel->{meta} // '', defined $holder
     ? qr/^this node: $SELF · redis: \Q$rurl\E · VK held by $holder( \(token \d+\))?$/
     : qr/^this node: $SELF · redis: \Q$rurl\E · VK: no holder$/,
     'below: this node, Redis and the VK holder (' . ($panel->{meta} // '')
     . ')');

# --- players: a stream of node a plays from node a --------------------------
ok(($o->{shown_at_start} // 0) > $MAX_AUTO,
   "more cards shown than players start ($o->{shown_at_start})");
is(scalar @{ $o->{initial_playing} // [] }, $MAX_AUTO,
   "$MAX_AUTO players started by being shown: @{ $o->{initial_playing} // [] }");
is_deeply($o->{initial_playing}, $o->{initial_expected},
          'they are the top shown cards');
my $rs = $o->{remote_stream} // '';
is($node_of{$rs}, $REMOTE, "a stream of node $REMOTE played on ${SELF}'s page "
   . "($rs, $o->{remote_how})");
ok(($o->{remote_advance} // 0) >= 1,
   'its video advances (currentTime +' . ($o->{remote_advance} // 'none')
   . ' s)');
is_deeply($o->{remote_sources} // [],
          ["$url{$REMOTE}/hls/$rs.m3u8", "$url{$REMOTE}/hls/${rs}_tiny.m3u8"],
          "its playlists are absolute on node $REMOTE");
ok(@{ $o->{remote_hls_sources} // [] }
   && !grep({ index($_, "$url{$REMOTE}/hls/$rs") != 0 }
            @{ $o->{remote_hls_sources} }),
   "hls.js loaded it from node $REMOTE: @{ $o->{remote_hls_sources} // [] }");
my @res = @{ $o->{remote_resources} // [] };
ok((grep { /\.m3u8$/ } @res) && (grep { /\.ts$/ } @res)
   && !grep({ index($_, "$url{$REMOTE}/hls/") != 0 } @res),
   'its playlist and segment requests went to node '
   . "${REMOTE}'s port (" . scalar(@res) . ' requests, e.g. '
   . join(' ', (grep { /\.m3u8$/ } @res)[0] // '-', (grep { /\.ts$/ } @res)[0]
               // '-') . ')') or diag(explain(\@res));
is_deeply($o->{hls_wrong_node} // ['none seen'], [],
          'every playlist and segment request of the run went to the node '
          . 'that has the stream ('
          . join(', ', map { "$_: $o->{hls_origins}{$_}" }
                       sort keys %{ $o->{hls_origins} // {} }) . ')');
is_deeply($o->{requests_outside_players} // ['none seen'], [],
          'and was made while its card\'s player ran');

# The lazy limits, the whole run long.
ok(($o->{max_hls_alive} // 99) <= $MAX_AUTO,
   "at most $MAX_AUTO hls.js instances alive at once ("
   . ($o->{max_hls_alive} // 'none') . ')');
ok(($o->{max_videos_attached} // 99) <= $MAX_AUTO,
   "at most $MAX_AUTO video elements with media at once ("
   . ($o->{max_videos_attached} // 'none') . ')');
ok(($o->{max_videos_playing} // 99) <= $MAX_AUTO,
   "at most $MAX_AUTO videos playing at once ("
   . ($o->{max_videos_playing} // 'none') . ')');
ok(@{ $o->{alive_checks} // [] } == 2
   && !grep({ $_->{alive} != $_->{running} } @{ $o->{alive_checks} }),
   'hls.js instances alive = running players ('
   . join(', ', map { "$_->{when}: $_->{alive}/$_->{running}" }
                @{ $o->{alive_checks} // [] }) . ')');
# 4 shown, and one clicked (or a few more after a scroll to find one),
# until Redis stops.  (When it is back, the cards of each node come back
# as its records do, so others may be shown, and play, for a moment: the
# limits at once above hold for that too.)
my @before = @{ $o->{played_before_outage} // [] };
ok(@before && @before
   <= (($o->{remote_how} // '') eq 'scroll' ? 2 * $MAX_AUTO : $MAX_AUTO + 1),
   'players ran for ' . scalar(@before) . " of $N streams only: @before "
   . '(' . scalar(@{ $o->{played} // [] }) . ' by the end of the run)')
    or diag(explain({ how => $o->{remote_how}, remote => $rs,
                      initial => $o->{initial_playing},
                      runs => $o->{play_runs} }));

# --- Redis stopped, then started ------------------------------------------------
my $pd = $o->{panel_down} // {};
my $limit = ($TTL + $STATS) * 1000 + 8000;    # + 8 s for a busy machine
ok(defined $o->{down_ms} && $o->{down_ms} <= $limit,
   'Redis stopped: "cluster: disconnected" shown within the TTL plus a '
   . 'refresh (' . ($o->{down_ms} // 'never') . " ms; at most $limit)");
is($pd->{header_badge}, 'cluster: disconnected', 'in the page\'s header');
is($pd->{header_badge_state}, 'disconnected', 'as a "disconnected" badge');
is($o->{header_badge_color}, 'rgb(192, 57, 43)', 'in red');
is($pd->{state_badge}, 'disconnected', 'the panel\'s state too');
like($pd->{down_text} // '', qr/^cluster: disconnected \(this node serves/,
     'and its alert');
is($o->{count_text_down}, "($PER_NODE live, " . ($N - $PER_NODE) . ' ended)',
   "then the other nodes' streams are shown ended, ${SELF}'s own stay "
   . 'live');
is_deeply([map { $_->{node} } @{ ($o->{panel_down_ended} // {})->{rows} // [] }],
          [$SELF], "and the panel lists $SELF only ("
          . ($o->{ended_ms} // 'never') . ' ms after Redis stopped)');
ok(($o->{screenshot_down_bytes} // 0) > 10000,
   'screenshot build/artifacts/dashboard-cluster-disconnected.png');
ok(defined $o->{up_ms},
   'Redis started again: connected again (' . ($o->{up_ms} // 'never')
   . ' ms)');
ok(defined $o->{converged_ms},
   'and the panel lists a, b and c with 10 live each again ('
   . ($o->{converged_ms} // 'never') . ' ms)');
is_deeply($o->{card_nodes_up} // {},
          { map { $_ => "node $node_of{$_}" } keys %node_of },
          'all 30 cards with their nodes again');
is($o->{count_text_up}, "($N live, 0 ended)", 'all live again');
is(($o->{panel_up} // {})->{header_badge}, undef,
   'no cluster badge in the header any more');
is($o->{cards_down}, $N, 'the ended streams kept their cards meanwhile');

# --- API requests and console ------------------------------------------------------
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
ok(($o->{api_requests}{'GET cluster'} // 0) >= 1
   && $o->{api_requests}{'GET cluster'}
      <= ($o->{api_requests}{'GET status'} // 0),
   "GET /cluster asked with the status ($o->{api_requests}{'GET cluster'} "
   . "of $o->{api_requests}{'GET status'})")
    or diag(explain($o->{api_requests}));
is_deeply($o->{console_errors}, [], 'no console errors')
    or diag(explain($o->{console_errors}));
is_deeply($o->{page_errors}, [], 'no page errors');
ok(($o->{screenshot_bytes} // 0) > 10000,
   'screenshot written to build/artifacts/dashboard-cluster.png');

stop_publisher($_) for @pids;
$n{$_}->stop for @NODES;
$redis->stop;
done_testing;
