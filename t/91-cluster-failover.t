# Cluster mode when things break: the VK holder is SIGKILLed (master and
# workers), Redis stops for twice the TTL and comes back, Redis is down
# when a node starts, and Redis holds another writer's garbage under the
# prefix.  Transcoding never stops, the view converges, and there is never
# a second VK connection (the service would refuse it: counted).
use strict;
use warnings;
use utf8;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use VKStream::Nginx;
use VKStream::Emulator;
use VKStream::Redis;
use VKStream::Media qw(stop_publisher);
use VKStream::API qw(api publish_name wait_until uri_escape frames_out);

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

my $TTL = 2;        # seconds: vkstream_cluster_ttl below

my $certs = tempdir('vk-certs-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $e = VKStream::Emulator->new(args => ['--cert-dir', $certs,
    '--token', 'tok' . int(rand 1e9), '--key', 'key' . int(rand 1e9)]);
my $redis = VKStream::Redis->new;

sub node_conf {
    my ($name) = @_;
    my $main = join "\n",
        "vkstream_vk_token ${\ $e->token };",
        "vkstream_vk_api ${\ $e->api_url };",
        "vkstream_vk_ca ${\ $e->ca };",
        "vkstream_cluster ${\ $redis->url };",
        "vkstream_cluster_node $name;",
        "vkstream_cluster_url http://127.0.0.1:%%HTTP_PORT%%;",
        "vkstream_cluster_prefix t91:;",
        "vkstream_cluster_ttl ${TTL}s;";
    return VKStream::Nginx::standard_conf(workers => 2, main => $main,
        live => 'vkstream on;
                 vkstream_rendition _low width=160 preset=ultrafast;');
}

my %n;
for my $name (qw(a b c)) {
    $n{$name} = VKStream::Nginx->new(conf => node_conf($name));
    # the SIGKILLed node's workers leave their "exited on signal" lines
    $n{$name}->allow_log(qr/exited on signal 9/);
    $n{$name}->start;
}

sub j { my ($node, $path) = @_; (api($n{$node}, 'GET', "/vkstream$path"))[1] }
sub cluster { j($_[0], '/cluster') // {} }
sub server_rules {
    my $r = $e->admin(GET => '/admin/rules');
    return {map { $_->{tag} => $_->{value} } @{$r->{rules} // []}};
}
sub vk_stats { $e->stats }
sub holder_of { my $c = cluster($_[0]); ($c->{vk} // {})->{holder} }
sub live_names {
    my $l = j($_[0], '/streams') // {};
    return join ' ', sort map { $_->{name} }
        grep { $_->{state} eq 'live' } @{$l->{streams} // []};
}

ok(wait_until(20, sub {
    my @held = grep { (cluster($_)->{vk} // {})->{mine} } qw(a b c);
    @held == 1 && vk_stats()->{open} == 1;
}), 'one holder, one VK connection');
my ($h) = grep { cluster($_)->{vk}{mine} } qw(a b c);
my @others = grep { $_ ne $h } qw(a b c);
diag("VK holder: $h");

# A stream on the holder and on one other node.
my ($o1, $o2) = @others;
my %pub;
$pub{hs} = publish_name($n{$h}, 'live', 'hs?vk=' . uri_escape('котики'),
                        duration => 120);
$pub{os} = publish_name($n{$o1}, 'live', 'os?vk=' . uri_escape('собачки'),
                        duration => 120);
ok(wait_until(20, sub { live_names($o2) eq 'hs os' }),
   "both streams in the view of $o2");
ok(wait_until(15, sub {
    my $r = server_rules();
    $r->{'vks:s:live/hs'} && $r->{'vks:s:live/os'};
}), 'both rules on the VK service');

# --- SIGKILL of the holder ------------------------------------------------

# every process of it: the cache manager (nginx-rtmp's hls_cleanup) would
# outlive a SIGKILLed master
my $master = $n{$h}->master_pid;
my @pids = ($master, map { /(\d+)/ ? $1 : () } `ps -o pid= --ppid $master`);
kill 'KILL', @pids;
my $t0 = time;
ok(wait_until($TTL + 2, sub {
    my $x = holder_of($o1);
    defined $x && $x ne $h && (cluster($x)->{vk} // {})->{mine};
}), 'another node takes the lease within TTL + 2 s');
ok(wait_until(15, sub { vk_stats()->{open} == 1
                        && grep { (j($_, '/status')->{vk}{state} // '')
                                  eq 'connected' } @others }),
   'and connects to VK');
my $failover = time - $t0;
diag(sprintf 'failover: %.2f s from SIGKILL to the new VK connection',
     $failover);
ok(wait_until($TTL + 3, sub { live_names($o2) eq 'os' }),
   'the killed node\'s stream ends in the view');
ok(wait_until(10, sub {
    my $c = cluster($o2);
    !grep { $_->{name} eq $h } @{$c->{nodes} // []};
}), 'and the killed node leaves the node list');
ok(wait_until(10, sub {
    my $r = server_rules();
    $r->{'vks:s:live/os'} && !$r->{'vks:s:live/hs'};
}), 'the survivor\'s rule is intact, the dead stream\'s gone');
my $inj = $e->admin(POST => '/admin/event', {text => 'собачки бегают'});
ok(wait_until(10, sub {
    ((j($o2, '/streams/live/os/matches') // {})->{total} // 0) == 1
}), 'matches resume: filed on every live node');
is(vk_stats()->{counters}{ws_rejected} // 0, 0,
   'no VK connection was ever refused (never two at once)');
stop_publisher($pub{hs});
$n{$h}->stop;     # its error.log is checked here

# --- Redis gone for twice the TTL -----------------------------------------

my $before = frames_out($n{$o1}, 'os', 'live') // 0;
my $accepted = vk_stats()->{counters}{ws_accepted};
$redis->stop;
ok(wait_until($TTL + 3, sub {
    (cluster($o1)->{state} // '') eq 'disconnected'
        && (cluster($o2)->{state} // '') eq 'disconnected';
}), 'both nodes say cluster: disconnected');
ok(wait_until($TTL + 2, sub { vk_stats()->{open} == 0 }),
   'VK stops: no lease can be confirmed');
sleep 2 * $TTL;
cmp_ok(frames_out($n{$o1}, 'os', 'live') // 0, '>', $before,
       'transcoding went on without Redis');
my $pub2 = publish_name($n{$o2}, 'live', 'during', duration => 60);
ok(wait_until(15, sub { (frames_out($n{$o2}, 'during', 'live') // 0) > 0 }),
   'a new publish is transcoded without Redis');
$redis->start;
ok(wait_until(10, sub {
    (cluster($o1)->{state} // '') eq 'connected'
        && (cluster($o2)->{state} // '') eq 'connected';
}), 'both nodes reconnect');
ok(wait_until(10, sub { live_names($o1) eq 'during os'
                        && live_names($o2) eq 'during os' }),
   'the view converges again (state re-published)');
ok(wait_until(15, sub { vk_stats()->{open} == 1 }), 'one VK connection again');
ok(wait_until(10, sub {
    my $r = server_rules();
    $r->{'vks:s:live/os'};
}), 'its rules are back');
is(vk_stats()->{counters}{ws_rejected} // 0, 0, 'still none refused');
cmp_ok(vk_stats()->{counters}{ws_accepted}, '==', $accepted + 1,
       'exactly one new connection');
stop_publisher($pub2);
ok(wait_until(15, sub { live_names($o1) eq 'os' && live_names($o2) eq 'os' }),
   'the ended stream leaves both views');

# --- another writer's garbage under the prefix ----------------------------

my $now = int(time * 1000);
$redis->cmd('HSET', 't91:node:evil', 'streams', 'not json', 'url', 'x');
$redis->cmd('PEXPIRE', 't91:node:evil', 60000);
$redis->cmd('ZADD', 't91:nodes', $now, 'evil');
$redis->cmd('ZADD', 't91:nodes', $now, 'bad:name');
$redis->cmd('SET', 't91:rules', '{"not":"an array"}');
$redis->cmd('XADD', 't91:events', '*', 'junk', '1');
$redis->cmd('XADD', 't91:events', '*', 'type', 'match', 'from', 'evil',
            'token', '99999999999999', 'tag', 'vks:s:live/os', 'text', 'x');
$redis->cmd('XADD', 't91:events', '*', 'type', 'rules', 'from', 'evil');
$redis->cmd('XADD', 't91:events', '*', 'type', 'node', 'from', 'evil');
ok($n{$o1}->wait_log(qr/node "evil" has a record that is not ours, ignored/,
                     10), 'a clear line for a foreign node record');
ok($n{$o1}->wait_log(qr/global rules in Redis are not ours, ignored: not an array/,
                     10), 'and for foreign global rules');
is(live_names($o1), 'os', 'the view is unchanged');
$redis->cmd('DEL', 't91:rules');
$inj = $e->admin(POST => '/admin/event', {text => 'снова собачки'});
ok(wait_until(10, sub {
    ((j($o2, '/streams/live/os/matches') // {})->{total} // 0) >= 2
}), 'a huge foreign token does not silence the real holder');

# --- Redis down when a node starts ---------------------------------------

$redis->stop;
my $d = VKStream::Nginx->new(conf => node_conf('d'));
$d->start;
my $pd = publish_name($d, 'live', 'alone', duration => 60);
ok(wait_until(15, sub { (frames_out($d, 'alone', 'live') // 0) > 0 }),
   'a node started without Redis accepts and transcodes');
my (undef, $cd) = api($d, 'GET', '/vkstream/cluster');
isnt($cd->{state}, 'connected', 'and says it is not connected');
my (undef, $sd) = api($d, 'GET', '/vkstream/streams/live/alone');
is($sd->{node}, 'd', 'its stream, with its node');
$redis->start;
ok(wait_until(10, sub {
    my (undef, $x) = api($d, 'GET', '/vkstream/cluster');
    ($x->{state} // '') eq 'connected' && @{$x->{nodes}} == 3;
}), 'it joins when Redis comes');
ok(wait_until(10, sub { live_names($o1) eq 'alone os' }),
   'and its stream shows on the others');

stop_publisher($_) for $pd, $pub{os};
$d->stop;
undef $d;
$n{$_}->stop for @others;
$redis->stop;
$e->stop;
%n = ();
done_testing();
