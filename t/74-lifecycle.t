# Ten "nginx -s reload" while streams transcode (two workers) and the VK
# emulator sends 50 matching events a second: no crash, the old workers
# exit within 10 s each time, every new publish transcodes in the new
# workers, never more than one VK connection, matches still stored after
# the last reload; then "-s quit" during transcoding ends within 5 s.
#
# With VKSTREAM_TEST_LLHLS=1 (t/74b-lifecycle-llhls.t), LL-HLS is on in the
# live application: every stream transcoded across a reload ends (the old
# worker ends its transcodes and closes the publishers) with an ENDLIST
# playlist and, 3 target durations later, no stale part, segment or
# temporary file; a name published again after a reload starts a fresh
# window (MSN 0, a new init.mp4, none of the old publish's files).
use strict;
use warnings;
use utf8;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use VKStream::Nginx;
use VKStream::Emulator;
use VKStream::API qw(api wait_until);
use VKStream::HTTP qw(http_json);
use VKStream::FLV qw(make_flv rtmp_publish_bg);
use VKStream::LLHLS qw(parse_media check_media);
use VKStream::LLFiles qw(ended_clean live_clean slurp);

my $LL = $ENV{VKSTREAM_TEST_LLHLS};

my $e = VKStream::Emulator->new;
my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    workers => 2, main => join "\n",
    "vkstream_vk_token ${\ $e->token };",
    "vkstream_vk_api ${\ $e->api_url };",
    "vkstream_vk_ca ${\ $e->ca };"));
$n->start;

sub vk { my (undef, $j) = api($n, 'GET', '/vkstream/status'); $j->{vk} }
sub matches_total {
    my (undef, $j) = api($n, 'GET', '/vkstream/matches?limit=1');
    return $j ? $j->{total} // 0 : 0;
}

# VK traffic through all the reloads: a global rule, and events for it
api($n, 'POST', '/vkstream/rules', '{"tag":"cats","value":"кот"}');
ok(wait_until(10, sub { (vk() // {})->{state} eq 'connected'
                        && grep { $_->{tag} eq 'vks:g:cats' }
                           @{ $e->admin(GET => '/admin/rules')->{rules} } }),
   'VK client connected, rule on the server');
$e->admin(POST => '/admin/generator', {rate => 50, match => 1});
ok(wait_until(10, sub { matches_total() > 0 }), 'matches stored');
my $max_open = 0;
my $tmp = tempdir(CLEANUP => 1);
my @tags = make_flv("$tmp/a.flv", size => '320x240', fps => 10, gop => 10,
                    duration => 20);

sub frames_out {
    my (undef, $j) = http_json('GET',
                               $n->http_url("/vkstream/streams/live/$_[0]"));
    return ($j && ($j->{state} // '') eq 'live' && $j->{renditions}[0])
           ? $j->{renditions}[0]{frames_out} // 0 : 0;
}

sub transcodes {
    my ($name) = @_;
    my $end = time + 15;
    sleep 0.2 while frames_out($name) < 5 && time < $end;
    return frames_out($name) >= 5;
}

my (@pids, @gone);
for my $round (1 .. 10) {
    push @pids, map { rtmp_publish_bg($n->rtmp_port, 'live', "r${round}_$_",
                                      \@tags) } 1 .. 2;
    ok(transcodes("r${round}_1") && transcodes("r${round}_2"),
       "round $round: new publishes transcode");
    my @old = $n->worker_pids;
    my $t0 = time;
    ok($n->signal('reload'), "round $round: reload");
    sleep 0.05 while grep({ kill 0, $_ } @old) && time - $t0 < 10;
    my $dt = time - $t0;
    ok(!grep({ kill 0, $_ } @old),
       sprintf('round %d: old workers exited in %.2f s', $round, $dt));
    push @gone, sprintf('%.2f', $dt);
    my $open = $e->stats->{open};
    $max_open = $open if $open > $max_open;
    sleep 0.3;
}
diag("old workers gone after (s): @gone");

# LL-HLS: every stream of the rounds lived across a reload and ended there
if ($LL) {
    my (@noend, @stale);
    for my $name (map { ("r${_}_1", "r${_}_2") } 1 .. 10) {
        my $dir = $n->prefix . "/ll/${name}_low";
        my ($pl, @s) = ended_clean($dir);
        push @noend, $name unless $pl;
        push @stale, map { "$name/$_" } @s;
    }
    is_deeply(\@noend, [], 'LL-HLS: every stream ended by a reload has '
              . 'ENDLIST');
    is_deeply([grep { /\.tmp$/ } @stale], [],
              'LL-HLS: no temporary file left');
    is_deeply([grep { !/\.tmp$/ } @stale], [],
              'LL-HLS: no stale file 3 target durations later');
}

cmp_ok($max_open, '<=', 1, 'never more than one VK connection');
ok(wait_until(10, sub { (vk() // {})->{state} eq 'connected'
                        && $e->stats->{open} == 1 }),
   'after ten reloads: one VK connection, connected');
my $m0 = matches_total();
ok(wait_until(10, sub { matches_total() > $m0 }),
   "after ten reloads: matches still stored ($m0 -> ${\ matches_total() })");
$e->admin(POST => '/admin/generator', {rate => 0});

# LL-HLS: a name published again after a reload starts afresh
if ($LL) {
    my $dir = $n->prefix . '/ll/again_low';
    my $pl;
    my $p1 = rtmp_publish_bg($n->rtmp_port, 'live', 'again', \@tags);
    ok(wait_until(20, sub {
        $pl = parse_media(slurp("$dir/index.m3u8"));
        defined $pl->{hint} && $pl->{open_msn} >= 2 }),
       'LL-HLS: a stream with segments 0-1 before the reload');
    my @old = $n->worker_pids;
    $n->signal('reload');
    ok(wait_until(10, sub { !grep { kill 0, $_ } @old }),
       'LL-HLS: reloaded, the old workers exited');
    my ($ended, @stale) = ended_clean($dir);
    ok($ended, 'LL-HLS: the old worker ended the playlist with ENDLIST');
    is_deeply([$ended ? check_media($ended) : 'none'], [],
              'LL-HLS: the ended playlist passes the checker');
    is_deeply([grep { /\.tmp$/ } @stale], [],
              'LL-HLS: no temporary file left');
    {
            is_deeply([grep { !/\.tmp$/ } @stale], [],
                  'LL-HLS: no stale file after 3 target durations');
    }
    waitpid($p1, 0);
    my $t1 = time;
    push @pids, rtmp_publish_bg($n->rtmp_port, 'live', 'again', \@tags);
    ok(wait_until(20, sub {
        my $t = slurp("$dir/index.m3u8");
        $t =~ /#EXT-X-PRELOAD-HINT/ && $t !~ /#EXT-X-ENDLIST/ }),
       'LL-HLS: published again: a live playlist');
    $pl = parse_media(slurp("$dir/index.m3u8"));
    is($pl->{msn}, 0, 'LL-HLS: published again: MSN starts at 0');
    is_deeply([check_media($pl)], [], 'LL-HLS: and passes the checker');
    # (an inode number can be reused: the time it was written says more)
    cmp_ok((Time::HiRes::stat("$dir/init.mp4"))[9], '>=', $t1,
           'LL-HLS: a new init.mp4');
    my @left = live_clean($dir);
    is_deeply(\@left, [], 'LL-HLS: no file of the old publish left');
}

push @pids, rtmp_publish_bg($n->rtmp_port, 'live', 'last', \@tags);
ok(transcodes('last'), 'after ten reloads: a publish transcodes');
$n->no_alerts('no crash, no alert');

my $master = $n->master_pid;
my $t0 = time;
$n->signal('quit');
sleep 0.05 while kill(0, $master) && time - $t0 < 10;
my $dt = time - $t0;
# an exiting worker drops what is queued at once: no drain to wait for
ok(!kill(0, $master), sprintf('-s quit while transcoding: done in %.2f s',
                              $dt));
$n->{started} = 0 unless kill 0, $master;
kill 'KILL', $_ for @pids;
waitpid($_, 0) for @pids;
$n->stop;
done_testing;
