# The VK client against the emulator, through real nginx and real TLS:
# reconciliation, publish/unpublish rules, matches in the API, faults,
# service messages and reconnects, a refused second connection.
use strict;
use warnings;
use utf8;
use Test::More;
use Time::HiRes qw(time sleep);
use VKStream::Nginx;
use VKStream::Emulator;
use VKStream::Media qw(stop_publisher);
use VKStream::API qw(api publish_name wait_until);

use File::Temp qw(tempdir);
my $certs = tempdir('vk-certs-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my @eargs = ('--ping-interval', 1, '--pong-timeout', 2, '--cert-dir', $certs,
             '--token', 'tok' . int(rand 1e9), '--key', 'key' . int(rand 1e9));
my $e = VKStream::Emulator->new(args => \@eargs);

# Rules left on the server: an own stale one, an own one still wanted
# (a global rule of the table), and a foreign one.
$e->admin(POST => '/admin/rules', {rules => [
    {tag => 'vks:s:live/gone', value => 'старое'},
    {tag => 'vks:g:news', value => 'новости'},
    {tag => 'theirs', value => 'чужое'},
]});

my $main = join "\n",
    "vkstream_vk_token ${\ $e->token };",
    "vkstream_vk_api ${\ $e->api_url };",
    "vkstream_vk_ca ${\ $e->ca };",
    "vkstream_vk_text_len 64;";
my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    main => $main,
    live => 'vkstream on; vkstream_rendition _src video=copy audio=copy;
             vkstream_vk_keywords "$name stream";'));
$n->start;

sub server_rules {
    my $r = $e->admin(GET => '/admin/rules');
    return {map { $_->{tag} => $_->{value} } @{$r->{rules} // []}};
}
sub status { (api($n, 'GET', '/vkstream/status'))[1]{vk} }
sub stream { (api($n, 'GET', '/vkstream/streams/live/cam1'))[1] }

ok(wait_until(10, sub { (status() // {})->{state} eq 'connected' }),
   'client connects') or diag explain status();
is($e->stats->{open}, 1, 'one stream connection open');
# the reconciliation's requests go one after another, beside the stream:
# on a busy machine the last may still be on its way
my $rules;
ok(wait_until(10, sub {
    $rules = server_rules();
    !exists $rules->{'vks:s:live/gone'} && !exists $rules->{'vks:g:news'};
}), 'own stale rule and own global rule not in the table deleted')
    or diag explain $rules;
is($rules->{theirs}, 'чужое', 'foreign rule left alone');
my $st = status();
unlike(join(' ', map { $_ // '' } values %$st), qr/\Q${\ $e->token }\E/,
       'token not in /status');

# A global rule through the HTTP API goes to VK as vks:g:TAG.
api($n, 'POST', '/vkstream/rules', '{"tag":"cats","value":"кот"}');
ok(wait_until(2, sub { server_rules()->{'vks:g:cats'} }),
   'global rule added as vks:g:cats');
ok(wait_until(2, sub {
    my (undef, $j) = api($n, 'GET', '/vkstream/rules/cats');
    ($j->{state} // '') eq 'active';
}), 'global rule active');

# Publish with keywords: the rule within 1 s of the publish being seen.
my $pub = publish_name($n, 'live', 'cam1?vk=%D1%81%D0%BE%D0%B1%D0%B0%D0%BA%D0%B0');
ok(wait_until(15, sub { (stream() // {})->{state} }), 'stream live');
my $t0 = time;
ok(wait_until(1, sub { server_rules()->{'vks:s:live/cam1'} }),
   'stream rule on the server within 1 s');
my $publish_rule = time - $t0;
is(server_rules()->{'vks:s:live/cam1'}, 'собака', 'rule value = keywords');
ok(wait_until(1, sub { stream()->{vk}{rule_state} eq 'active' }),
   'rule state active');

# An injected matching event shows up in the API within 1 s.
$t0 = time;
my $inj = $e->admin(POST => '/admin/event',
    {text => 'Собака и кот гуляют ' . ('длинно ' x 20)});
is_deeply([sort @{$inj->{tags}}], ['vks:g:cats', 'vks:s:live/cam1'],
          'emulator tags the event with both rules');
my $j;
ok(wait_until(1, sub {
    $j = stream();
    @{$j->{matches} // []} == 1;
}), 'match in the stream within 1 s');
my $inject_api = time - $t0;
my $m = $j->{matches}[0];
is($m->{tag}, 'vks:s:live/cam1', 'match tag');
is($m->{event_type}, 'post', 'event type');
is($m->{url}, $inj->{event}{event_url}, 'event url');
ok(length($m->{text}) <= 64 && $m->{text} =~ /^Собака и кот/,
   'text cut to vkstream_vk_text_len on a character boundary');
ok(wait_until(1, sub {
    my (undef, $g) = api($n, 'GET', '/vkstream/matches');
    ($g->{total} // 0) == 1;
}), 'the global rule match in the global ring');
ok(wait_until(1, sub { status()->{stored} == 2 }), 'stored counts 2');

# Without ?vk= the application's vkstream_vk_keywords apply.
my $pub2 = publish_name($n, 'live', 'cam2');
ok(wait_until(15, sub {
    server_rules()->{'vks:s:live/cam2'} }), 'rule from vkstream_vk_keywords');
is(server_rules()->{'vks:s:live/cam2'}, 'cam2 stream', '$name replaced');
is(server_rules()->{'vks:s:live/cam1'}, 'собака', '?vk= wins over it');
stop_publisher($pub2);
ok(wait_until(15, sub { !server_rules()->{'vks:s:live/cam2'} }),
   'and goes with the stream');

# Faults: fragmented, oversized, invalid JSON, invalid UTF-8.
my $before = status();
$e->admin(POST => '/admin/fault/split', {parts => 7, text => 'собака'});
$e->admin(POST => '/admin/fault/oversized', {});
$e->admin(POST => '/admin/fault/invalid_json', {});
$e->admin(POST => '/admin/fault/invalid_utf8', {});
ok(wait_until(3, sub { status()->{received} >= $before->{received} + 4 }),
   'four messages received');
$st = status();
is($st->{stored} - $before->{stored}, 1, 'the fragmented one stored');
is($st->{dropped} - $before->{dropped}, 1, 'the oversized one dropped');
is($st->{malformed} - $before->{malformed}, 2,
   'invalid JSON and invalid UTF-8 counted as malformed');
is($st->{state}, 'connected', 'still connected');
is(scalar @{stream()->{matches}}, 2, 'two matches on the stream');

# Unpublish removes the rule within 1 s of the close being seen.
stop_publisher($pub);
ok(wait_until(15, sub { stream()->{state} eq 'ended' }), 'stream ended');
$t0 = time;
ok(wait_until(1, sub { !exists server_rules()->{'vks:s:live/cam1'} }),
   'stream rule deleted within 1 s');
my $unpublish_rule = time - $t0;

# 3001: reconnect, asking getServerUrl again.
my $calls = $e->stats->{counters}{api_calls};
my $accepted = $e->stats->{counters}{ws_accepted};
$e->admin(POST => '/admin/fault/service', {service_code => 3001});
ok(wait_until(5, sub { $e->stats->{counters}{ws_accepted} > $accepted
                       && status()->{state} eq 'connected' }),
   'reconnected after 3001');
$st = status();
is($st->{service_code}, 3001, 'service code shown');
cmp_ok($e->stats->{counters}{api_calls}, '>', $calls,
       'getServerUrl asked again');
cmp_ok($st->{reconnects}, '>=', 1, 'reconnects counted');

# A second connection holds the key: the client's gets 1006, reported.
$e->admin(POST => '/admin/fault/close', {});
my $ws = $e->ws_connect;
VKStream::Emulator::wait_until(sub { $ws->{tx} }, 5);
ok(wait_until(5, sub { (status()->{last_error} // '') =~ /1006/ }),
   '1006 in last_error') or diag explain status();
like($n->log_text, qr/vkstream: VK .*1006/, '1006 logged');
$ws->{tx}->finish if $ws->{tx};
VKStream::Emulator::wait_until(sub { $ws->{finish} }, 5);
ok(wait_until(15, sub { status()->{state} eq 'connected' }),
   'connected again once the other connection is gone');

unlike($n->log_text, qr/\Q${\ $e->token }\E|\Q${\ $e->key }\E/,
       'neither token nor key in the log');

# Emulator restart (same port, CA, token and key): the client reconnects.
my $port = (split /:/, $e->stream_host)[1];
my $reconnects = status()->{reconnects};
$e->stop;
ok(wait_until(5, sub { status()->{state} ne 'connected' }),
   'disconnect noticed');
$e = VKStream::Emulator->new(args => [@eargs, '--port', $port]);
ok(wait_until(15, sub { status()->{state} eq 'connected' }),
   'reconnected to the restarted emulator');
is($e->stats->{open}, 1, 'one connection to the new emulator');
cmp_ok(status()->{reconnects}, '>', $reconnects, 'reconnects grew');

diag(sprintf "publish->rule %.0f ms, inject->API %.0f ms, "
     . "unpublish->delete %.0f ms", $publish_rule * 1000,
     $inject_api * 1000, $unpublish_rule * 1000);

$n->stop;
done_testing;
