# What the transcoder and the VK client put into the table shows up in the
# API, the events and the metrics: fed here through the test endpoints
# (vkstream_api_test), with two workers.
use strict;
use warnings;
use utf8;
use Test::More;
binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);
use HTTP::Tiny;
use JSON::PP;
use VKStream::Nginx;
use VKStream::Media qw(stop_publisher);
use VKStream::API qw(api api_on publish_name wait_until sse_open sse_read);

my $conf = VKStream::Nginx::standard_conf(
    workers => 2, main => 'vkstream_matches 5;',
    http => 'location /feed/ { vkstream_api; vkstream_api_test on; }');
$conf =~ s/(listen 127\.0\.0\.1:%%HTTP_PORT%%)/$1 reuseport/;
my $n = VKStream::Nginx->new(conf => $conf);
$n->start;

my $J = JSON::PP->new->utf8->canonical;
sub feed { my ($path, $data) = @_;
           api($n, 'POST', "/feed/test/$path", $J->encode($data)) }

my ($r, $j) = api($n, 'POST', '/vkstream/test/vk', '{"state":"connected"}');
is($r->{status}, 404, 'test endpoints are off by default');

my $pid = publish_name($n, 'live', 'cam1?vk=%D0%BA%D0%BE%D1%82');
ok(wait_until(15, sub {
    ($r, $j) = api($n, 'GET', '/feed/streams/live/cam1');
    $r->{status} == 200;
}), 'stream published');
my $tag = $j->{vk}{tag};
my $owner = $j->{worker_pid};
my $c = sse_open($n, '/feed/events');

# --- statistics from the transcoder ---------------------------------------

my %low = (suffix => '_low', app => 'hls', state => 'running', width => 480,
           height => 270, frames_in => 300, frames_out => 298,
           frames_dropped => 2, encode_fps => 29.5, speed => 0.98,
           bitrate_kbps => 250.5);
my %mid = (%low, suffix => '_mid', state => 'starting', width => 640,
           height => 360);
($r) = feed('stats/live/cam1', { video_codec => 'h264', audio_codec => 'aac',
                                 width => 1280, height => 720, fps => 30,
                                 bitrate_kbps => 2500,
                                 renditions => [\%low, \%mid] });
is($r->{status}, 200, 'stats stored');
($r, $j) = api($n, 'GET', '/feed/streams/live/cam1');
is_deeply([@{ $j->{input} }{qw(video_codec audio_codec width height)}],
          ['h264', 'aac', 1280, 720], 'input codec and size');
is($j->{input}{fps}, 30, 'input fps');
is(scalar @{ $j->{renditions} }, 2, 'two renditions');
my $rl = $j->{renditions}[0];
is_deeply([@$rl{qw(suffix app state width height frames_out frames_dropped)}],
          ['_low', 'hls', 'running', 480, 270, 298, 2], 'rendition stats');
is($rl->{speed}, 0.98, 'encode speed');
my $port = $n->http_port;
is($rl->{hls}, "http://127.0.0.1:$port/hls/cam1_low.m3u8", 'rendition URL');
is_deeply([sort keys %{ $j->{hls}{playlists} }], ['_low', '_mid'],
          'playlists of the reported renditions');

$mid{state} = 'running';
feed('stats/live/cam1', { renditions => [\%low, \%mid] });
my @ev = sse_read($c, 3, 4);
is_deeply([map { "$_->{event} $_->{json}{suffix} $_->{json}{state}" } @ev[0 .. 2]],
          ['rendition _low running', 'rendition _mid starting',
           'rendition _mid running'],
          'rendition state changes are events, unchanged states are not');

($r) = api($n, 'GET', '/feed/metrics');
like($r->{content}, qr/^vkstream_renditions\{state="running"\} 2$/m,
     'renditions by state');
like($r->{content},
     qr/^vkstream_rendition_frames_encoded_total\{app="live",name="cam1",suffix="_low"\} 298$/m,
     'frames encoded per rendition');
like($r->{content},
     qr/^vkstream_rendition_encode_speed\{app="live",name="cam1",suffix="_mid"\} 0\.980$/m,
     'encode speed per rendition');

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
ok($n->wait_log(qr/vkstream: rendition "_low" action 2/, 3),
   'the owning worker got the restart');
($r, $j) = act_via('/feed/streams/live/cam1/renditions/_mid/stop', 1);
is($r->{status}, 200, 'stop from the owning worker: 200');
is($j->{result}, 'done', 'done');
ok($n->wait_log(qr/vkstream: rendition "_mid" action 3/, 3),
   'the owning worker got the stop');
($r) = api($n, 'POST', '/feed/streams/live/cam1/renditions/_hi/stop');
is($r->{status}, 404, 'unknown suffix: 404');

# --- VK matches -------------------------------------------------------------

for my $i (1 .. 8) {
    ($r) = feed('match', { tag => $tag, event_type => 'post',
                           action => 'new',
                           url => "https://vk.com/wall-1_$i",
                           text => "кот \"№$i\"\n<b>", author_id => -$i,
                           author_url => 'https://vk.com/club1',
                           created => 1700000000 + $i });
}
is($r->{status}, 201, 'matches stored');
($r, $j) = api($n, 'GET', '/feed/streams/live/cam1/matches');
is_deeply([map { $_->{id} } @{ $j->{matches} }], [4 .. 8],
          'the ring keeps the last vkstream_matches (5)');
is($j->{total}, 8, 'total counts all');
is($j->{matches}[-1]{text}, "кот \"№8\"\n<b>", 'text intact');
is($j->{matches}[-1]{author_id}, -8, 'author id');
is($j->{matches}[-1]{created}, 1700000008, 'creation time');
ok($j->{matches}[-1]{received_ms} > 1700000000000, 'time received');
($r, $j) = api($n, 'GET', '/feed/streams/live/cam1/matches?after=5&limit=2');
is_deeply([map { $_->{id} } @{ $j->{matches} }], [6, 7], 'after and limit');
($r, $j) = api($n, 'GET', '/feed/streams/live/cam1');
is($j->{vk}{matches_total}, 8, 'stream counts matches');
is(scalar @{ $j->{matches} }, 5, 'and shows the recent ones');
@ev = grep { $_->{event} eq 'match' } sse_read($c, 3, 8);
is(scalar @ev, 8, 'a match event each');
is($ev[0]{json}{tag}, $tag, 'with the tag');
is($ev[7]{json}{match_id}, 8, 'and the match id');

($r) = feed('match', { tag => 'nobody', text => 'x' });
is($r->{status}, 404, 'a tag nobody has: 404');
api($n, 'POST', '/feed/rules', '{"tag":"news","value":"новости"}');
($r) = feed('match', { tag => 'news', text => 'новости дня' });
is($r->{status}, 201, 'a global rule match');
($r, $j) = api($n, 'GET', '/feed/matches');
is($j->{matches}[0]{text}, 'новости дня', 'in the global ring');

# --- rule state and VK state --------------------------------------------------

feed('rule_state', { tag => $tag, state => 'failed', code => 2004,
                     error => 'too many words' });
($r, $j) = api($n, 'GET', '/feed/streams/live/cam1');
is_deeply([@{ $j->{vk} }{qw(rule_state rule_code rule_error)}],
          ['failed', 2004, 'too many words'], 'stream rule state');
feed('rule_state', { tag => 'news', state => 'active' });
($r, $j) = api($n, 'GET', '/feed/rules/news');
is($j->{state}, 'active', 'global rule state');

feed('vk', { state => 'connected', endpoint => 'streaming.vk.com',
             received => 10, stored => 7, dropped => 1, malformed => 2,
             service_code => 3001, service_message => 'reconnect' });
($r, $j) = api($n, 'GET', '/feed/status');
is_deeply([@{ $j->{vk} }{qw(state endpoint received stored dropped malformed
                              service_code service_message)}],
          ['connected', 'streaming.vk.com', 10, 7, 1, 2, 3001, 'reconnect'],
          'VK state in /status');
($r) = api($n, 'GET', '/feed/metrics');
like($r->{content}, qr/^vkstream_vk_connection_state\{state="connected"\} 1$/m,
     'VK state in metrics');
like($r->{content}, qr/^vkstream_vk_events_total\{outcome="received"\} 10$/m,
     'events received in metrics');

stop_publisher($pid);
$n->stop;
done_testing;
