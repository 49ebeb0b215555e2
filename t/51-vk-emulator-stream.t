# The VK emulator's /stream: TLS WebSocket with the generated CA, key and
# second-connection checks, injected events with their tags, server pings
# and the 3001 close when no pong comes, the generator.
use strict;
use warnings;
use utf8;
use Test::More;
use Mojo::JSON qw(decode_json);
use Time::HiRes qw(sleep time);
use VKStream::Emulator;

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $e = VKStream::Emulator->new(args => ['--ping-interval', '0.3',
                                         '--pong-timeout', '0.5']);
my $wait = \&VKStream::Emulator::wait_until;

# Failed handshakes: HTTP 400 with the JSON error envelope.
for my $case ([undef, '', 1003], ['wrong', 'wrong', 1004]) {
    my ($key, $name, $code) = @$case;
    my $c = $e->ws_connect(key => $key // '');
    ok($wait->(sub { $c->{finish} }), "handshake with key '$name' ends");
    is($c->{handshake}, 400, "key '$name': HTTP 400");
    my $j = eval { decode_json($c->{body}) } // {};
    is($j->{error}{error_code}, $code, "key '$name': error $code");
}

# A real TLS WebSocket: the first connection is accepted.
my $c1 = $e->ws_connect;
ok($wait->(sub { $c1->{tx} || $c1->{finish} }), 'first connection ends');
is($c1->{handshake}, 101, 'first connection upgraded');
ok($wait->(sub { $e->stats->{open} == 1 }, 2), 'exactly one open');

# The second one gets 1006 and the first stays open.
my $c2 = $e->ws_connect;
ok($wait->(sub { $c2->{finish} }), 'second connection ends');
is($c2->{handshake}, 400, 'second connection: HTTP 400');
is((eval { decode_json($c2->{body}) } // {})->{error}{error_code}, 1006,
   'second connection: error 1006');
is($e->stats->{open}, 1, 'still exactly one open');
is($e->stats->{rejected}{1006}, 1, '1006 counted');

# A different stream_id is a separate slot; a malformed one is 1005.
my $c3 = $e->ws_connect(stream_id => 'x');
ok($wait->(sub { $c3->{finish} }), 'bad stream_id ends');
is((eval { decode_json($c3->{body}) } // {})->{error}{error_code}, 1005,
   'bad stream_id: 1005');

# A wrong CA is refused by the client: verification is real.
my $cw = $e->ws_connect(ca => '/etc/ssl/certs/ca-certificates.crt');
ok($wait->(sub { $cw->{finish} }), 'wrong-CA connection ends');
ok(!$cw->{tx} && $cw->{error}, "wrong CA: no upgrade");
like($cw->{error} // "", qr/certificate verify failed/, "wrong CA: verify error");

# Injected events reach the client with tags from the current rules.
my ($st, $j) = $e->api(POST => $e->rules_path,
                       {rule => {value => 'кот -собака', tag => 'cats'}});
is($j->{code}, 200, 'rule added');
($st, $j) = $e->api(POST => $e->rules_path,
                    {rule => {value => '"рыжий кот"', tag => 'ginger'}});
is($j->{code}, 200, 'second rule added');

$j = $e->admin(POST => '/admin/event', {text => 'Вот мой Рыжий КОТ',
                                        event_type => 'comment'});
is($j->{delivered}, 1, 'event delivered to one connection');
ok($wait->(sub { @{$c1->{messages}} >= 1 }), 'event received');
my $m = decode_json($c1->{messages}[0]);
is($m->{code}, 100, 'code 100');
is($m->{event}{event_type}, 'comment', 'event_type');
is($m->{event}{text}, 'Вот мой Рыжий КОТ', 'text is UTF-8 intact');
is_deeply([sort @{$m->{event}{tags}}], ['cats', 'ginger'], 'tags match');
ok($m->{event}{event_id}{comment_id}, 'comment has comment_id');
like($m->{event}{event_url}, qr{^https://vk\.com/wall-?\d+_\d+\?reply=\d+$},
     'comment URL');
is($m->{event}{action}, 'new', 'action');
ok(abs($m->{event}{creation_time} - time) < 60, 'creation_time is now');

$j = $e->admin(POST => '/admin/event', {text => 'кот и собака'});
is($j->{delivered}, 0, 'excluded by a minus word: not delivered');
is_deeply($j->{tags}, [], 'no tags');
$j = $e->admin(POST => '/admin/event', {text => 'кот и собака',
                                        always => \1, event_type => 'share'});
is($j->{delivered}, 1, 'always: delivered anyway');
ok($wait->(sub { @{$c1->{messages}} >= 2 }), 'second event received');
$m = decode_json($c1->{messages}[1]);
is_deeply($m->{event}{tags}, [], 'untagged share');
ok(defined $m->{event}{shared_post_text}, 'share has shared_post_text');

# The Mojo client answers pings: after a few ping intervals it is still
# open and pongs were counted.
ok($wait->(sub { ($e->stats->{counters}{pongs} // 0) >= 2 }, 3),
   'pings answered with pongs');
ok(!$c1->{finish}, 'connection stays open while ponging');

# Rules changes apply without reconnecting.
$e->api(DELETE => $e->rules_path, {tag => 'ginger'});
$j = $e->admin(POST => '/admin/event', {text => 'рыжий кот'});
is_deeply($j->{tags}, ['cats'], 'deleted rule no longer tags');

# The generator: events per second, all tagged by the current rules.
my $before = @{$c1->{messages}};
my $g0 = time;
$e->admin(POST => '/admin/generator', {rate => 50, match => 1});
$wait->(sub { 0 }, 0.6);
$e->admin(POST => '/admin/generator', {rate => 0});
my $gen_time = time - $g0;
$wait->(sub { 0 }, 0.1);
my @gen = map { decode_json($_) } @{$c1->{messages}}[$before .. $#{$c1->{messages}}];
cmp_ok(scalar @gen, '>=', 10, 'generator delivered events (' . @gen . ')');
cmp_ok(scalar @gen, '<=', 50 * $gen_time + 1, 'generator keeps to its rate');
is(scalar(grep { $_->{code} == 100 && grep { $_ eq 'cats' } @{$_->{event}{tags}} } @gen),
   scalar @gen, 'generated events are code 100 tagged cats');
like($gen[0]{event}{text}, qr/\p{Cyrillic}/, 'generated text is Russian');

# Closing our side frees the slot: a new connection is accepted.
$c1->{tx}->finish(1000);
ok($wait->(sub { $c1->{finish} }), 'client close completes');
ok($wait->(sub { $e->stats->{open} == 0 }, 2), 'no connection open');
my $c4 = $e->ws_connect;
ok($wait->(sub { $c4->{tx} || $c4->{finish} }), 'reconnect ends');
is($c4->{handshake}, 101, 'reconnect after close accepted');
$c4->{tx}->finish(1000);
$wait->(sub { $c4->{finish} });

# A client that does not pong: ping, then service message 3001, then close.
ok($wait->(sub { $e->stats->{open} == 0 }, 2), 'slot free for raw client');
my ($s, $head) = $e->raw_ws;
like($head, qr{^HTTP/1\.1 101}, 'raw client upgraded');
my (@ops, $svc, $closed);
my $t0 = time;
while (my ($fin, $op, $payload) = VKStream::Emulator::raw_frame($s, 3)) {
    push @ops, $op;
    $svc = decode_json($payload) if $op == 1;
    if ($op == 8) { $closed = unpack 'n', $payload; last }
}
is($ops[0], 9, 'first frame is a ping');
is($svc && $svc->{code}, 300, 'service message code 300');
is($svc && $svc->{service_message}{service_code}, 3001, 'service_code 3001');
is($closed, 1000, 'then a close frame');
# the close comes from the pong timeout, not from anything sooner
cmp_ok(time - $t0, '>=', 0.5, 'not before the pong timeout');
is($e->stats->{counters}{pong_timeouts}, 1, 'pong timeout counted');

done_testing;
