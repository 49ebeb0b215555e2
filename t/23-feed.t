# What the transcoder and the VK client put into the table shows up in the
# API, the events and the metrics, with two workers: statistics and
# rendition actions from real transcoding; VK matches, rule state and VK
# state from the real VK client, fed by the emulator.
use strict;
use warnings;
use utf8;
use Test::More;
binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);
use HTTP::Tiny;
use VKStream::HTTP qw(json_encode);
use VKStream::Nginx;
use VKStream::Emulator;
use VKStream::Media qw(stop_publisher);
use VKStream::API qw(api api_on publish_name wait_until sse_open sse_read);

my $e = VKStream::Emulator->new;
my $conf = VKStream::Nginx::standard_conf(
    workers => 2, main => "vkstream_matches 5;
        vkstream_vk_token ${\ $e->token };
        vkstream_vk_api ${\ $e->api_url };
        vkstream_vk_ca ${\ $e->ca };",
    live => 'vkstream on; vkstream_rendition _low;
             vkstream_rendition _mid width=240;',
    http => 'location /feed/ { vkstream_api; vkstream_api_test on; }');
$conf =~ s/(listen 127\.0\.0\.1:%%HTTP_PORT%%)/$1 reuseport/;
my $n = VKStream::Nginx->new(conf => $conf);
$n->start;

my ($r, $j) = api($n, 'POST', '/vkstream/test/vk', '{"state":"connected"}');
is($r->{status}, 404, 'test endpoints are off by default');

my $pid = publish_name($n, 'live', 'cam1?vk=%D0%BA%D0%BE%D1%82',
                       size => '320x240', fps => 15, gop => 15);
ok(wait_until(15, sub {
    ($r, $j) = api($n, 'GET', '/feed/streams/live/cam1');
    $r->{status} == 200;
}), 'stream published');
my $tag = $j->{vk}{tag};
my $owner = $j->{worker_pid};
my $c = sse_open($n, '/feed/events');

# --- statistics from the transcoder ---------------------------------------

ok(wait_until(20, sub {
    ($r, $j) = api($n, 'GET', '/feed/streams/live/cam1');
    my @run = grep { $_->{state} eq 'running' } @{ $j->{renditions} || [] };
    @run == 2 && !grep { !$_->{frames_out} } @run;
}), 'both renditions running and encoding');
is_deeply([@{ $j->{input} }{qw(video_codec audio_codec width height)}],
          ['h264', 'aac', 320, 240], 'input codec and size');
ok(abs($j->{input}{fps} - 15) < 1, "input fps ($j->{input}{fps})");
my ($rl) = grep { $_->{suffix} eq '_low' } @{ $j->{renditions} };
my ($rm) = grep { $_->{suffix} eq '_mid' } @{ $j->{renditions} };
# _low asks for 480 wide but is capped at the 320x240 source's size
is_deeply([@$rl{qw(suffix app width height)}], ['_low', 'hls', 320, 240],
          '_low stats: capped at the source size');
is($rm && $rm->{width}, 240, '_mid stats');
ok(exists $rl->{duplicate_of} && !defined $rl->{duplicate_of}
   && $rm && exists $rm->{duplicate_of} && !defined $rm->{duplicate_of},
   'different sizes: no duplicate_of');
ok($rl->{frames_in} >= $rl->{frames_out}, 'frames in >= frames out');
my $port = $n->http_port;
is($rl->{hls}, "http://127.0.0.1:$port/hls/cam1_low.m3u8", 'rendition URL');
is_deeply([sort keys %{ $j->{hls}{playlists} }], ['_low', '_mid'],
          'playlists of the reported renditions');

my @ev = grep { $_->{event} eq 'rendition' } sse_read($c, 3, 10);
is_deeply([sort map { "$_->{json}{suffix} $_->{json}{state}" }
           grep { $_->{json}{state} eq 'running' } @ev],
          ['_low running', '_mid running'],
          'rendition state changes are events');

ok(wait_until(5, sub {
    ($r) = api($n, 'GET', '/feed/metrics');
    $r->{content} =~ /^vkstream_rendition_encode_speed_ratio\{app="live",name="cam1",suffix="_low"\} 0*[1-9]/m
        || $r->{content} =~ /^vkstream_rendition_encode_speed_ratio\{app="live",name="cam1",suffix="_low"\} 0\.[5-9]/m;
}), 'encode speed per rendition');
like($r->{content}, qr/^vkstream_renditions\{state="running"\} 2$/m,
     'renditions by state');
like($r->{content},
     qr/^vkstream_rendition_frames_encoded_total\{app="live",name="cam1",suffix="_low"\} [1-9]\d*$/m,
     'frames encoded per rendition');

# --- rendition actions, routed to the owning worker -------------------------

sub act_via {
    my ($path, $want_owner) = @_;
    for (1 .. 50) {
        my $ht = HTTP::Tiny->new(timeout => 10, keep_alive => 1);
        my ($r2) = api_on($ht, $n, 'GET', '/feed/status');
        next unless ($r2->{headers}{'x-vkstream-worker'} == $owner)
                    == $want_owner;
        return api_on($ht, $n, 'POST', $path);
    }
    return;
}
($r, $j) = act_via('/feed/streams/live/cam1/renditions/_low/restart', 0);
is($r->{status}, 202, 'restart from another worker: 202');
is($j->{result}, 'requested', 'requested');
ok($n->wait_log(qr/vkstream: restart rendition "_low" of "live\/cam1" requested/,
                3), 'the owning worker restarted it');
($r, $j) = act_via('/feed/streams/live/cam1/renditions/_mid/stop', 1);
is($r->{status}, 200, 'stop from the owning worker: 200');
is($j->{result}, 'done', 'done');
ok(wait_until(5, sub {
    (undef, $j) = api($n, 'GET', '/feed/streams/live/cam1');
    my ($m) = grep { $_->{suffix} eq '_mid' } @{ $j->{renditions} };
    $m && $m->{state} eq 'stopped';
}), '_mid is stopped');
ok(wait_until(5, sub {
    (undef, $j) = api($n, 'GET', '/feed/streams/live/cam1');
    my ($l) = grep { $_->{suffix} eq '_low' } @{ $j->{renditions} };
    $l && $l->{state} eq 'running';
}), '_low runs again after its restart');
($r) = api($n, 'POST', '/feed/streams/live/cam1/renditions/_hi/stop');
is($r->{status}, 404, 'unknown suffix: 404');

# --- VK matches, through emulator -> client -> table -> API ------------------

ok(wait_until(10, sub {
    (undef, $j) = api($n, 'GET', '/feed/streams/live/cam1');
    $j->{vk}{rule_state} eq 'active';
}), 'stream rule active at VK');
is($e->admin(GET => '/admin/rules')->{rules}[0]{tag}, $tag,
   'the stream tag is the rule tag at VK');
for my $i (1 .. 8) {
    $r = $e->admin(POST => '/admin/event', {
        text => "кот \"№$i\"\n<b>", author_id => -$i,
        event_url => "https://vk.com/wall-1_$i",
        creation_time => 1700000000 + $i });
}
is($r->{delivered}, 1, 'events delivered');
ok(wait_until(2, sub {
    ($r, $j) = api($n, 'GET', '/feed/streams/live/cam1/matches');
    ($j->{total} // 0) == 8;
}), 'matches stored');
is_deeply([map { $_->{id} } @{ $j->{matches} }], [4 .. 8],
          'the ring keeps the last vkstream_matches (5)');
is($j->{total}, 8, 'total counts all');
is($j->{matches}[-1]{text}, "кот \"№8\"\n<b>", 'text intact');
is($j->{matches}[-1]{url}, 'https://vk.com/wall-1_8', 'url');
is($j->{matches}[-1]{author_id}, -8, 'author id');
is($j->{matches}[-1]{author_url}, 'https://vk.com/club8', 'author url');
is($j->{matches}[-1]{created}, 1700000008, 'creation time');
ok($j->{matches}[-1]{received_ms} > 1700000000000, 'time received');
($r, $j) = api($n, 'GET', '/feed/streams/live/cam1/matches?after=5&limit=2');
is_deeply([map { $_->{id} } @{ $j->{matches} }], [6, 7], 'after and limit');
($r, $j) = api($n, 'GET', '/feed/streams/live/cam1');
is($j->{vk}{matches_total}, 8, 'stream counts matches');
is(scalar @{ $j->{matches} }, 5, 'and shows the recent ones');
# (rendition events of the actions above come first)
@ev = ();
for (1 .. 10) {
    push @ev, grep { $_->{event} eq 'match' } sse_read($c, 0.5, 1000);
    last if @ev >= 8;
}
is(scalar @ev, 8, 'a match event each');
is($ev[0]{json}{tag}, $tag, 'with the tag');
is($ev[7]{json}{match_id}, 8, 'and the match id');

$e->admin(POST => '/admin/event', {text => 'x', tags => ['nobody'],
                                   always => 1});
api($n, 'POST', '/feed/rules', '{"tag":"news","value":"новости"}');
ok(wait_until(2, sub {
    (undef, $j) = api($n, 'GET', '/feed/rules/news');
    $j->{state} eq 'active';
}), 'global rule state active');
$e->admin(POST => '/admin/event', {text => 'новости дня'});
ok(wait_until(2, sub {
    ($r, $j) = api($n, 'GET', '/feed/matches');
    ($j->{total} // 0) == 1;
}), 'a global rule match');
is($j->{matches}[0]{text}, 'новости дня', 'in the global ring');

# --- rule state and VK state --------------------------------------------------

api($n, 'PUT', '/feed/streams/live/cam1/keywords',
    json_encode({keywords => join ' ', map { "w$_" } 1 .. 101}));
ok(wait_until(2, sub {
    ($r, $j) = api($n, 'GET', '/feed/streams/live/cam1');
    $j->{vk}{rule_state} eq 'failed';
}), 'a rule of 101 keywords fails');
is($j->{vk}{rule_code}, 2004, 'with code 2004');
ok(wait_until(2, sub {
    !grep { $_->{tag} eq $tag } @{ $e->admin(GET => '/admin/rules')->{rules} };
}), 'and the old rule of the stream is gone from VK');

$e->admin(POST => '/admin/fault/service', {service_code => 3001, close => 0});
ok(wait_until(2, sub {
    ($r, $j) = api($n, 'GET', '/feed/status');
    $j->{vk}{service_code} == 3001;
}), 'service message in /status');
is_deeply([@{ $j->{vk} }{qw(state endpoint received stored dropped malformed
                              service_code service_message)}],
          ['connected', $e->stream_host, 11, 9, 1, 0, 3001,
           'Pong wait timeout'],
          'VK state in /status');
($r) = api($n, 'GET', '/feed/metrics');
like($r->{content}, qr/^vkstream_vk_connection_state\{state="connected"\} 1$/m,
     'VK state in metrics');
like($r->{content}, qr/^vkstream_vk_events_total\{outcome="received"\} 11$/m,
     'events received in metrics');

stop_publisher($pid);
$n->stop;
done_testing;
