# Placement with existing machinery (issue 13): examples/haproxy.cfg in
# front of two nodes' RTMP ports spreads four publishes 2 + 2 (leastconn),
# each node transcodes its own to _low; examples/edge.conf in front of the
# nodes' HLS serves cached playlists and segments.  The nodes run
# nginx.conf.example (scripts/localize-conf.sh), the examples run with
# their addresses and paths replaced by loopback ports and the test's
# directories, nothing else changed.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IO::Select;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use VKStream::Nginx;
use VKStream::API qw(api wait_until);
use VKStream::HTTP qw(http);
use VKStream::Media qw(publish stop_publisher wait_segments video_info);

my $t0 = time;
my $root = $VKStream::Nginx::ROOT;
my $HAPROXY = '/usr/sbin/haproxy';
-x $HAPROXY or BAIL_OUT("missing $HAPROXY (make deps)");

my $dir = tempdir('vkstream-placement-XXXXXX', TMPDIR => 1,
                  CLEANUP => !$ENV{VKSTREAM_KEEP});

sub slurp {
    my ($f) = @_;
    open my $h, '<', $f or return '';
    local $/;
    return <$h>;
}

sub spew {
    my ($f, $text) = @_;
    open my $h, '>', $f or die "$f: $!";
    print $h $text;
    close $h or die "$f: $!";
}

# examples/FILE with each FROM replaced by TO, written to OUT; a FROM that
# is not in the file (the example changed) stops the test.
sub localize_example {
    my ($file, $out, @pairs) = @_;
    my $text = slurp("$root/examples/$file")
        or BAIL_OUT("no examples/$file");
    while (my ($from, $to) = splice @pairs, 0, 2) {
        $text =~ s/\Q$from\E/$to/g
            or BAIL_OUT("examples/$file has no '$from'");
    }
    spew($out, $text);
}

# ---- two nodes: nginx.conf.example each ----

my @names = qw(node1 node2);
my @nodes;
{
    # the build under test (the ASan one with SANITIZE=1)
    local $ENV{VKSTREAM_MODULE} = $VKStream::Nginx::MODULE;
    for my $name (@names) {
        my $n = VKStream::Nginx->new;
        my $p = $n->prefix;
        system("$root/scripts/localize-conf.sh", "$root/nginx.conf.example",
               "$p/conf/nginx.conf", $p, $n->rtmp_port, $n->http_port) == 0
            or BAIL_OUT('localize-conf.sh failed');
        $n->start;
        push @nodes, $n;
    }
}

# ---- haproxy from examples/haproxy.cfg, its own process ----

my $hx_port = VKStream::Nginx::free_port();
my $hx_cfg = "$dir/haproxy.cfg";
my $hx_log = "$dir/haproxy.log";
localize_example('haproxy.cfg', $hx_cfg,
    'bind :1935'             => "bind 127.0.0.1:$hx_port",
    'node1.example.net:1935' => '127.0.0.1:' . $nodes[0]->rtmp_port,
    'node2.example.net:1935' => '127.0.0.1:' . $nodes[1]->rtmp_port);

my $check = `$HAPROXY -c -f $hx_cfg 2>&1`;
is($?, 0, 'haproxy -c accepts examples/haproxy.cfg') or diag($check);
unlike($check, qr/WARNING|ALERT/, 'haproxy: no warning about the example')
    or diag($check);

my $hx_pid = fork // die "fork: $!";
if ($hx_pid == 0) {
    open STDIN, '<', '/dev/null';
    open STDOUT, '>', $hx_log;
    open STDERR, '>&', \*STDOUT;
    # -db: foreground, no daemon, no pid file: this process is haproxy
    exec $HAPROXY, '-db', '-f', $hx_cfg or POSIX::_exit(127);
}

sub stop_haproxy {
    return unless $hx_pid;
    kill 'TERM', $hx_pid;
    my $end = time + 10;
    sleep 0.05 while waitpid($hx_pid, WNOHANG) == 0 && time < $end;
    if (kill 0, $hx_pid) {
        kill 'KILL', $hx_pid;
        waitpid($hx_pid, 0);
    }
    $hx_pid = undef;
}

END { stop_haproxy() }

ok(wait_until(10, sub {
       IO::Socket::INET->new(PeerAddr => "127.0.0.1:$hx_port") }),
   "haproxy listens on $hx_port")
    or BAIL_OUT("haproxy did not start:\n" . slurp($hx_log));

# ---- four publishes through haproxy ----

# The nodes (indexes) that list app "live", NAME as live.
sub nodes_of {
    my ($name) = @_;
    my @on;
    for my $i (0 .. $#nodes) {
        my (undef, $j) = api($nodes[$i], 'GET',
                             "/vkstream/streams?app=live&name=$name");
        push @on, $i
            if $j && grep { $_->{state} eq 'live' } @{ $j->{streams} };
    }
    return @on;
}

my @streams = map { "p$_" } 1 .. 4;
my (%pub, %node_of);
for my $s (@streams) {
    # small and light: 2 cores carry 4 sources and 4 renditions
    $pub{$s} = publish("rtmp://127.0.0.1:$hx_port/live/$s",
                       size => '640x360', fps => 15, gop => 30,
                       duration => 120, log => "$dir/ffmpeg-$s.log");
    # leastconn counts the open publishes: the next one is started when
    # this one is on a node, so the count it sees is settled
    my @on = @{ wait_until(30, sub { my @o = nodes_of($s); @o ? \@o : undef })
                // [] };
    is(scalar @on, 1, "$s: live on exactly one node")
        or diag(slurp("$dir/ffmpeg-$s.log"));
    $node_of{$s} = $on[0];
}

my @count = (0) x @nodes;
$count[$_]++ for grep { defined } values %node_of;
is("@count", '2 2', 'leastconn spread the 4 publishes 2 + 2 over the nodes '
                     . '(GET /vkstream/streams on each)');
note(join ', ', map { "$_ on " . ($names[$node_of{$_} // -1] // 'none') }
                    @streams);

# ---- every stream's _low, on its node ----

for my $s (@streams) {
    my $i = $node_of{$s};
    SKIP: {
        skip "$s is on no node", 2 unless defined $i;
        my $pl = $nodes[$i]->hls_dir . "/${s}_low.m3u8";
        ok(wait_segments($pl, 2, 60), "$s: _low playlist on $names[$i]")
            or next;
        my ($v) = video_info($pl);
        is($v && $v->{width}, 480, "$s: _low is 480 wide (ffprobe)");
    }
    my $other = defined $i ? 1 - $i : undef;
    ok(!defined $other || !-e $nodes[$other]->hls_dir . "/${s}_low.m3u8",
       "$s: no _low on the other node");
}

# ---- the edge from examples/edge.conf ----

my $edge = VKStream::Nginx->new(rtmp_port => undef);
my $ep = $edge->prefix;
localize_example('edge.conf', "$ep/conf/edge.conf",
    'listen 80;'             => 'listen 127.0.0.1:' . $edge->http_port . ';',
    'node1.example.net:8080' => '127.0.0.1:' . $nodes[0]->http_port,
    'node2.example.net:8080' => '127.0.0.1:' . $nodes[1]->http_port,
    '/var/lib/nginx/vkstream-edge'     => "$ep/cache",
    '/var/log/nginx/vkstream-edge.log' => "$ep/logs/edge.log");
# What Debian's /etc/nginx/nginx.conf around conf.d/ gives it.
$edge->write_conf(<<'CONF');
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log logs/access.log;
    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
    include %%PREFIX%%/conf/edge.conf;
}
CONF
my ($edge_ok, $edge_t) = $edge->check;
ok($edge_ok, 'nginx -t accepts examples/edge.conf') or diag($edge_t);
$edge->start;

# Requests for /hls/FILE in a node's access log: what reached the origin.
sub origin_requests {
    my ($i, $file) = @_;
    my $log = slurp($nodes[$i]->prefix . '/logs/access.log');
    my @n = $log =~ m{"GET /hls/\Q$file\E HTTP/}g;
    return scalar @n;
}

sub edge_get {
    my ($path) = @_;
    return http('GET', $edge->http_url($path));
}

sub cache_status { $_[0]{headers}{'x-cache-status'} // '-' }

# Two streams, one on each node (the spread above makes them exist).
my ($sa) = grep { ($node_of{$_} // -1) == 0 } @streams;
my ($sb) = grep { ($node_of{$_} // -1) == 1 } @streams;
SKIP: {
    skip 'a node without a stream', 1 unless $sa && $sb;

    # A playlist twice: the second from the cache (it is kept 1 s; on a
    # machine too busy for two requests in a second, the pair is tried
    # again), and never more origin requests than answers not from it.
    my $pl = "${sa}_low.m3u8";
    my $url = "/node/node1/hls/$pl";
    is(origin_requests(0, $pl), 0, "$pl: not asked from node1 yet");
    my (@st, $r1, $r2);
    for (1 .. 5) {
        $r1 = edge_get($url);
        $r2 = edge_get($url);
        push @st, cache_status($r1), cache_status($r2);
        last if cache_status($r2) eq 'HIT';
    }
    is($r1->{status}, 200, "$pl through the edge: 200");
    like($r1->{content}, qr/^#EXTM3U/, "$pl through the edge: a playlist");
    like($r1->{headers}{'content-type'} // '',
         qr{^application/vnd\.apple\.mpegurl$}, "$pl: HLS playlist type");
    is($st[0], 'MISS', "$pl: first request a MISS");
    is(cache_status($r2), 'HIT', "$pl: the request after it a HIT (@st)");
    is($r2->{content}, $r1->{content}, "$pl: the HIT is the same playlist");
    my $asked = origin_requests(0, $pl);
    my $not_hit = grep { $_ ne 'HIT' } @st;
    ok($asked >= 1 && $asked <= $not_hit,
       "$pl: node1 asked $asked time(s) for " . @st . " edge answers "
       . "(@st)");

    # Ten players at once for a playlist not cached: proxy_cache_lock
    # lets one request through per second the burst lasts.
    my $plb = "${sb}_low.m3u8";
    my $burst_t0 = time;
    my @burst = burst("/node/node2/hls/$plb", 10);
    my $burst_s = time - $burst_t0;
    my @ok = grep { $_->{status} == 200 && $_->{body} =~ /^#EXTM3U/ } @burst;
    is(scalar @ok, 10, "$plb: 10 concurrent requests, 10 playlists");
    my $asked_b = origin_requests(1, $plb);
    ok($asked_b >= 1 && $asked_b <= 1 + int $burst_s,
       sprintf("%s: node2 asked %d time(s) for the burst of 10 "
               . "(%.2f s; %s)", $plb, $asked_b, $burst_s,
               join(' ', map { $_->{cache} } @burst)));

    # A segment twice: the second a HIT, the bytes the node's file.
    my ($seg) = grep { /\.ts$/ } split /\n/, $r1->{content};
    ok($seg, "$pl lists a segment") or last;
    my $surl = "/node/node1/hls/$seg";
    my $s1 = edge_get($surl);
    my $file = slurp($nodes[0]->hls_dir . "/$seg");
    my $s2 = edge_get($surl);
    is($s1->{status}, 200, "$seg through the edge: 200");
    is(cache_status($s1), 'MISS', "$seg: first request a MISS");
    is(cache_status($s2), 'HIT', "$seg: second request a HIT");
    like($s1->{headers}{'content-type'} // '', qr{^video/mp2t$},
         "$seg: MPEG-TS type");
    ok(length $s1->{content} > 0 && $s1->{content} eq $file,
       "$seg: the node's file (" . length($file) . ' bytes)');
    ok($s2->{content} eq $s1->{content}, "$seg: the HIT is the same bytes");
    is(origin_requests(0, $seg), 1, "$seg: node1 asked once");

    # Players are told how long they may keep each.
    like($r1->{headers}{'cache-control'} // '', qr/^max-age=1$/,
         'playlist: Cache-Control max-age=1');
    like($s1->{headers}{'cache-control'} // '', qr/^max-age=60$/,
         'segment: Cache-Control max-age=60');

    # A node the edge does not know: 404 from the edge itself.
    is(edge_get("/node/node9/hls/$pl")->{status}, 404,
       'unknown node: 404');
}

# N requests sent on N connections before any answer is read.
sub burst {
    my ($path, $n) = @_;
    my @socks = map {
        IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $edge->http_port,
                              Timeout => 5) or die "connect: $!";
    } 1 .. $n;
    for my $s (@socks) {
        print $s "GET $path HTTP/1.0\r\nHost: edge\r\n\r\n";
    }
    my @res;
    for my $s (@socks) {
        my $sel = IO::Select->new($s);
        my $buf = '';
        my $end = time + 15;
        while (time < $end && $sel->can_read($end - time)) {
            my $got = sysread($s, $buf, 65536, length $buf);
            last unless $got;
        }
        my ($head, $body) = split /\r\n\r\n/, $buf, 2;
        my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
        my ($cache) = ($head // '') =~ /^X-Cache-Status: (\S+)/mi;
        push @res, { status => $status // 0, body => $body // '',
                     cache => $cache // '-' };
    }
    return @res;
}

# ---- stop ----

stop_publisher($pub{$_}) for @streams;
$edge->stop;
stop_haproxy();
note("haproxy log:\n" . slurp($hx_log));
$_->stop for @nodes;
note(sprintf 'ran %.1f s', time - $t0);
done_testing;
