# Cluster mode on a real redis-server: three nginx nodes (two workers
# each) with the same VK key, streams on two of them, the VK emulator
# behind them.  One VK connection, every stream's rule on the service,
# every match filed and visible on every node (API and SSE), one view of
# streams and nodes, cross-node control and global rules; a node's
# LL-HLS flag and links reach the others; bad directives fail "nginx -t"
# naming the directive, and the Redis password never shows.
use strict;
use warnings;
use utf8;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use VKStream::Nginx;
use VKStream::Emulator;
use VKStream::Redis;
use VKStream::HTTP qw(json_encode);
use VKStream::Media qw(stop_publisher);
use VKStream::API qw(api publish_name wait_until uri_escape sse_open
                     sse_read);

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

my $certs = tempdir('vk-certs-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $e = VKStream::Emulator->new(args => ['--cert-dir', $certs,
    '--token', 'tok' . int(rand 1e9), '--key', 'key' . int(rand 1e9)]);
my $redis = VKStream::Redis->new(password => 's3cr:et@pw');
my $rurl = 'redis://:s3cr%3Aet%40pw@127.0.0.1:' . $redis->port . '/0';

sub node_conf {
    my ($name, %o) = @_;
    my $main = join "\n",
        $o{no_vk} ? () : (
        "vkstream_vk_token ${\ $e->token };",
        "vkstream_vk_api ${\ $e->api_url };",
        "vkstream_vk_ca ${\ $e->ca };"),
        "vkstream_cluster $rurl;",
        "vkstream_cluster_node $name;",
        "vkstream_cluster_url http://127.0.0.1:%%HTTP_PORT%%;",
        "vkstream_cluster_prefix t90:;",
        "vkstream_cluster_ttl 2s;",
        $o{main} // '';
    return VKStream::Nginx::standard_conf(workers => $o{workers} // 2,
        main => $main,
        live => 'vkstream on;
                 vkstream_rendition _tiny width=96 preset=ultrafast;'
              . ($o{llhls} ? ' vkstream_llhls on;
                 vkstream_llhls_path %%PREFIX%%/ll;'
                           : ' vkstream_llhls off;'));
}

# --- bad directives ------------------------------------------------------

{
    my $n = VKStream::Nginx->new;
    my @bad = (
        ['vkstream_cluster "redis://:hunter2@127.0.0.1:99999";',
         qr/invalid "vkstream_cluster": redis URL: port/, 'port'],
        ['vkstream_cluster "rediss://:hunter2@h";',
         qr/invalid "vkstream_cluster"/, 'rediss'],
        ["vkstream_cluster redis://127.0.0.1;\nvkstream_cluster_node a:b;",
         qr/invalid "vkstream_cluster_node" "a:b"/, 'node with ":"'],
        ["vkstream_cluster redis://127.0.0.1;\nvkstream_cluster_prefix ' ';",
         qr/invalid "vkstream_cluster_prefix"/, 'prefix'],
        ["vkstream_cluster redis://127.0.0.1;\nvkstream_cluster_url ftp://x;",
         qr/invalid "vkstream_cluster_url" "ftp:\/\/x"/, 'url'],
        ["vkstream_cluster redis://127.0.0.1;\nvkstream_cluster_ttl 10ms;",
         qr/"vkstream_cluster_ttl" directive must be between/, 'ttl'],
        ['vkstream_cluster_node a;',
         qr/need "vkstream_cluster"/, 'node without cluster'],
    );
    for my $b (@bad) {
        $n->write_conf(VKStream::Nginx::standard_conf(main => $b->[0]));
        my ($ok, $out) = $n->check;
        ok(!$ok, "nginx -t fails: $b->[2]");
        like($out, $b->[1], "  and names the directive: $b->[2]");
        unlike($out, qr/hunter2/, '  without the password');
    }
}

# --- three nodes ----------------------------------------------------------

# A node without VK, started first: it must never take the lease (VK
# would then run nowhere).
my $d = VKStream::Nginx->new(conf => node_conf('d', no_vk => 1,
                                                workers => 1));
$d->start;
ok(wait_until(10, sub {
    my (undef, $x) = api($d, 'GET', '/vkstream/cluster');
    ($x->{state} // '') eq 'connected';
}), 'a node without VK joins');

my %n;
# a writes LL-HLS, b and c do not
for my $name (qw(a b c)) {
    $n{$name} = VKStream::Nginx->new(conf => node_conf($name,
                                     llhls => $name eq 'a'));
    $n{$name}->start;
}

sub j { my ($node, $path) = @_; (api($n{$node}, 'GET', "/vkstream$path"))[1] }
sub cluster { j($_[0], '/cluster') // {} }
sub server_rules {
    my $r = $e->admin(GET => '/admin/rules');
    return {map { $_->{tag} => $_->{value} } @{$r->{rules} // []}};
}
sub vk_open { $e->stats->{open} }

ok(wait_until(20, sub {
    my @held = grep { (cluster($_)->{vk} // {})->{mine} } qw(a b c);
    @held == 1 && vk_open() == 1
        && (j($held[0], '/status')->{vk}{state} // '') eq 'connected';
}), 'one node holds the VK lease and is connected')
    or diag explain [map { cluster($_) } qw(a b c)];
my ($holder) = grep { cluster($_)->{vk}{mine} } qw(a b c);
{
    my (undef, $x) = api($d, 'GET', '/vkstream/cluster');
    ok(!$x->{vk}{mine}, 'the node without VK does not hold the lease');
    ok(wait_until(10, sub {
        (undef, $x) = api($d, 'GET', '/vkstream/cluster');
        ($x->{vk}{holder} // '') eq $holder;
    }), 'and names the holder from its record');
}
$d->stop;
my $c = cluster('c');
is($c->{state}, 'connected', '/cluster: connected to Redis');
is($c->{node}, 'c', '/cluster: node name');
is($c->{redis}, 'redis://:***@127.0.0.1:' . $redis->port . '/0',
   '/cluster: the Redis URL with the password redacted');
ok(wait_until(10, sub { @{cluster('c')->{nodes} // []} == 3 }),
   '/cluster on c lists three nodes (d is gone)');
$c = cluster('c');
is_deeply([sort map { $_->{name} } @{$c->{nodes}}], [qw(a b c)],
          'the nodes by name');
my %byname = map { $_->{name} => $_ } @{$c->{nodes}};
is($byname{a}{url}, 'http://127.0.0.1:' . $n{a}->http_port,
   'a node\'s URL is its vkstream_cluster_url');
is(scalar(grep { $_->{vk} } @{$c->{nodes}}), 1, 'one node marked as VK');
ok($byname{$holder}{vk}, 'the holder is that node');
ok($byname{c}{self} && !$byname{a}{self}, 'self marks this node');
my $now_ms = int(time * 1000);
ok(abs($byname{a}{heartbeat_ms} - $now_ms) < 60_000,
   'a node\'s heartbeat_ms is a wall-clock time')
    or diag("$byname{a}{heartbeat_ms} vs $now_ms");
cmp_ok($byname{a}{age_ms}, '<', 20_000, 'and its age is small');
is($byname{a}{version}, j('c', '/status')->{version}, 'its version');
is(j('c', '/status')->{cluster}{vk}{holder}, $holder,
   '/status names the holder on every node');
unlike(join(' ', map { $n{$_}->log_text } qw(a b c)), qr/s3cr|et%40pw/,
       'the password is in no log');

# Streams: two on a, one on b, each with keywords.
my %kw = (a1 => 'котики', a2 => 'собачки', b1 => 'попугайчики');
my %pub;
for my $s (qw(a1 a2 b1)) {
    my $node = substr $s, 0, 1;
    $pub{$s} = publish_name($n{$node}, 'live', "$s?vk=" . uri_escape($kw{$s}),
                            duration => 120, size => '160x120');
}
ok(wait_until(20, sub {
    my $l = j('c', '/streams') // {};
    (grep { $_->{state} eq 'live' } @{$l->{streams} // []}) == 3;
}), 'GET /streams on c lists the three live streams of a and b')
    or diag explain j('c', '/streams');
my %st = map { $_->{name} => $_ } @{j('c', '/streams')->{streams}};
is($st{a1}{node}, 'a', 'a1 is on node a');
is($st{b1}{node}, 'b', 'b1 is on node b');
is($st{b1}{node_url}, 'http://127.0.0.1:' . $n{b}->http_port,
   'with its node\'s URL');
is($st{b1}{worker_pid}, undef, 'no worker pid for another node\'s stream');
is($st{b1}{vk}{keywords}, 'попугайчики', 'its keywords');
ok(wait_until(15, sub {
    my $s = j('c', '/streams/live/a1');
    $s && @{$s->{renditions} // []} && $s->{renditions}[0]{hls};
}), 'a1 shows its renditions on c');
is(j('c', '/streams/live/a1')->{renditions}[0]{hls},
   'http://127.0.0.1:' . $n{a}->http_port . '/hls/a1_tiny.m3u8',
   'with HLS links on its node');
ok(wait_until(15, sub {
    my $r = (j('c', '/streams/live/a1') // {})->{renditions}[0] // {};
    ($r->{state} // '') eq 'running' && ($r->{frames_out} // 0) > 0
        && ($r->{width} // 0) == 96;
}), 'and its rendition running, 96 wide, frames counted');
my $a_url = 'http://127.0.0.1:' . $n{a}->http_port;
is_deeply(j('c', '/streams/live/a1')->{llhls},
          { master => "$a_url/ll/a1.m3u8",
            playlists => { _tiny => "$a_url/ll/a1_tiny/index.m3u8" } },
          'a1 (a writes LL-HLS): its LL-HLS links on its node, seen on c');
is(j('c', '/streams/live/a1')->{renditions}[0]{llhls},
   "$a_url/ll/a1_tiny/index.m3u8", '  and its rendition\'s');
my $b1 = j('c', '/streams/live/b1');
ok(exists $b1->{llhls} && !defined $b1->{llhls},
   'b1 (b does not): "llhls" null on c');
my $own = j('a', '/streams/live/a1');
is($own->{node}, 'a', 'on its own node too, "node" is set');
like($own->{worker_pid}, qr/^\d+$/, 'with its worker');

ok(wait_until(15, sub {
    my $r = server_rules();
    ($r->{'vks:s:live/a1'} // '') eq 'котики'
        && ($r->{'vks:s:live/a2'} // '') eq 'собачки'
        && ($r->{'vks:s:live/b1'} // '') eq 'попугайчики';
}), 'every stream\'s rule is on the VK service') or diag explain server_rules();
ok(wait_until(10, sub {
    (j('c', '/streams/live/b1')->{vk}{rule_state} // '') eq 'active'
        && (j('b', '/streams/live/b1')->{vk}{rule_state} // '') eq 'active';
}), 'rule states reach every node (active)');
is(vk_open(), 1, 'still one VK connection');
is($e->stats->{counters}{ws_accepted}, 1, 'and only one was ever made');
is($e->stats->{counters}{ws_rejected} // 0, 0, 'none refused');

# A match for a's stream: filed on a, visible on c (API and SSE).
my $sse = sse_open($n{c}, '/vkstream/events');
my $inj = $e->admin(POST => '/admin/event', {text => 'Смотрите котики!'});
is_deeply($inj->{tags}, ['vks:s:live/a1'], 'the emulator tags it for a1');
for my $node (qw(a b c)) {
    ok(wait_until(10, sub {
        my $m = j($node, '/streams/live/a1/matches') // {};
        ($m->{total} // 0) == 1
            && $m->{matches}[0]{url} eq $inj->{event}{event_url};
    }), "the match is filed on node $node");
}
my @ev = grep { $_->{event} eq 'match' } sse_read($sse, 10, 20);
ok(@ev >= 1, 'and pushed over SSE on c');

# Global rules through any node.
my ($r, $body) = api($n{b}, 'POST', '/vkstream/rules',
                     json_encode({tag => 'news', value => 'новости'}));
is($r->{status}, 201, 'POST /rules on b');
ok(wait_until(10, sub { (server_rules()->{'vks:g:news'} // '') eq 'новости' }),
   'the global rule reaches the VK service');
for my $node (qw(a c)) {
    ok(wait_until(10, sub {
        my $g = j($node, '/rules/news');
        $g && ($g->{value} // '') eq 'новости'
           && ($g->{state} // '') eq 'active';
    }), "and node $node lists it, active");
}
$inj = $e->admin(POST => '/admin/event', {text => 'новости дня'});
ok(wait_until(10, sub { (j('a', '/matches')->{total} // 0) == 1 }),
   'a global match reaches the global ring of a');

# Keywords of b1 changed through c.
($r) = api($n{c}, 'PUT', '/vkstream/streams/live/b1/keywords',
           json_encode({keywords => 'хомячки'}));
is($r->{status}, 200, 'PUT keywords of b1 on c');
ok(wait_until(10, sub {
    (j('b', '/streams/live/b1')->{vk}{keywords} // '') eq 'хомячки'
        && (server_rules()->{'vks:s:live/b1'} // '') eq 'хомячки';
}), 'b applies them and the VK rule follows');

# Rendition restart of a1 through b, drop of b1 through c.
my $t_restart = time;
($r, $body) = api($n{b}, 'POST',
                  '/vkstream/streams/live/a1/renditions/_tiny/restart');
is($r->{status}, 202, 'restart of a1\'s rendition on b: 202');
is($body->{result}, 'requested', '  requested');
ok($n{a}->wait_log(qr/restart rendition "_tiny" of "live\/a1" requested/, 10),
   'a restarts it');
$t_restart = time - $t_restart;
my $t_drop = time;
($r, $body) = api($n{c}, 'POST', '/vkstream/streams/live/b1/drop');
is($r->{status}, 202, 'drop of b1 on c: 202');
ok(wait_until(10, sub {
    (j('b', '/streams/live/b1')->{state} // '') eq 'ended' }),
   'b drops the publisher');
# how long a request takes to reach another node: measured, not judged
# (speed is make bench's); the log check polls every 0.1 s
diag(sprintf 'cross-node: restart seen in the log after %.2f s, drop '
     . 'ended on its node after %.2f s', $t_restart, time - $t_drop);
ok(wait_until(10, sub {
    (j('c', '/streams/live/b1')->{state} // '') eq 'ended' }),
   'and c shows b1 ended');
ok(wait_until(15, sub { !exists server_rules()->{'vks:s:live/b1'} }),
   'its rule leaves the VK service');
($r) = api($n{c}, 'POST', '/vkstream/streams/live/nope/drop');
is($r->{status}, 404, 'drop of an unknown stream: 404');

my ($mr, $metrics) = (undef, '');
($mr) = api($n{c}, 'GET', '/vkstream/metrics');
$metrics = $mr->{content} // '';
like($metrics, qr/^vkstream_cluster_up 1$/m, 'metrics: cluster up');
like($metrics, qr/^vkstream_cluster_nodes 3$/m, 'metrics: three nodes');
like($metrics, qr/^vkstream_cluster_vk_lease ${\ ($holder eq 'c' ? 1 : 0) }$/m,
     'metrics: the lease flag');
unlike($metrics, qr/name="a1"/, 'metrics: no other node\'s stream');
is(j('c', '/streams/live/b1')->{renditions}[0]{state}, 'stopped',
   'an ended remote stream\'s rendition is not shown running');
is(vk_open(), 1, 'one VK connection throughout');
is($e->stats->{counters}{ws_accepted}, 1, 'never a second one');

stop_publisher($_) for values %pub;
$n{$_}->stop for qw(a b c);
$redis->stop;
$e->stop;
%n = ();
done_testing();
