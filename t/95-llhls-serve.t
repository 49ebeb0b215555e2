# LL-HLS served by vkstream_llhls_serve (issue 14): MIME types, caching
# and CORS headers, ranges, HEAD, 404/405; blocking playlist reload
# (_HLS_msn/_HLS_part) answered when the part appears, measured from the
# part file's rename (ctime) to nginx's $msec; 400s; a 503 after 3 target
# durations of a stalled publisher; a hinted part's GET held until it is
# written; 200 requests parked at once, on both workers (reuseport), a
# plain request answered meanwhile; clients closing while parked; ENDLIST.
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(sleep time stat);
use VKStream::Nginx;
use VKStream::HTTP qw(http json_decode);
use VKStream::LLHLS qw(parse_media check_media);
use VKStream::Media qw(publish stop_publisher wait_for_file);

my $PART = 500;

# the standard config with 2 workers; reuseport spreads connections over
# both; an access log with the worker's pid and the answer's time
my $conf = VKStream::Nginx::standard_conf(
    workers => 2,
    live => "vkstream on; vkstream_llhls on; vkstream_llhls_path "
          . "%%PREFIX%%/ll; vkstream_llhls_part_target ${PART}ms; "
          . "vkstream_llhls_window 4;",
    http => "location /ll/ { alias %%PREFIX%%/ll/; vkstream_llhls_serve; "
          . "access_log logs/ll.log ll; }");
$conf =~ s/(listen 127\.0\.0\.1:%%HTTP_PORT%%)/$1 reuseport/ or die;
my $fmt = q{log_format ll '$pid $msec $status "$request"';};
$conf =~ s/^http \{/http {\n    $fmt/m or die;
$conf =~ s/worker_connections 256/worker_connections 1024/ or die;

# misuse fails nginx -t naming the directive
for my $c (['location /x/ { vkstream_llhls_serve on; }', 'arguments'],
           ['vkstream_llhls_serve;', 'not allowed'],
           ['location /x/ { vkstream_api; vkstream_llhls_serve; }',
            'duplicate'])
{
    my $b = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
        http => $c->[0]));
    my ($ok, $out) = $b->check;
    ok(!$ok && $out =~ /"vkstream_llhls_serve"/ && $out =~ /$c->[1]/,
       "nginx -t refuses '$c->[0]'") or diag($out);
}

my $n = VKStream::Nginx->new(conf => $conf);
$n->start;
my $dir = $n->prefix . '/ll/s_low';
my $url = sub { $n->http_url("/ll/s_low/$_[0]") };
my $llog = $n->prefix . '/logs/ll.log';
my @pubs;

my $pid = publish($n->rtmp_url('live/s'), size => '640x360', fps => 30,
                  gop => 60, duration => 120);
push @pubs, $pid;
ok(wait_for_file("$dir/index.m3u8", 30, qr/#EXT-X-PRELOAD-HINT/),
   'live media playlist') or BAIL_OUT('no LL-HLS playlist');
# a few segments, so that parts and segments exist
ok(wait_for_file("$dir/index.m3u8", 30, qr/s2\.m4s/), 'three segments');

# --- plain requests -------------------------------------------------------
my $r = http('GET', $url->('index.m3u8'));
is($r->{status}, 200, 'playlist 200');
is($r->{headers}{'content-type'}, 'application/vnd.apple.mpegurl',
   'playlist MIME type');
is($r->{headers}{'cache-control'}, 'no-cache', 'plain playlist no-cache');
is($r->{headers}{'access-control-allow-origin'}, '*', 'CORS header');
my $pl = parse_media($r->{content});
is_deeply([check_media($pl)], [], 'served playlist passes the checker')
    or diag($r->{content});

$r = http('GET', $url->('index.m3u8?foo=bar&x'));
is($r->{status}, 200, 'other arguments ignored');
$r = http('GET', $url->('index.m3u8?_HLS_skip=YES'));
is($r->{status}, 200, '_HLS_skip alone: 200');
like($r->{content}, qr/^#EXTM3U/, 'with a playlist');

$r = http('GET', $url->('init.mp4'));
is($r->{status}, 200, 'init.mp4 200');
is($r->{headers}{'content-type'}, 'video/mp4', 'init.mp4 MIME type');
is($r->{headers}{'cache-control'}, 'no-cache', 'init.mp4 no-cache');
is($r->{content}, slurp("$dir/init.mp4"), 'init.mp4 bytes are the file');

$r = http('GET', $url->('s1.m4s'));
is($r->{status}, 200, 's1.m4s 200');
is($r->{headers}{'content-type'}, 'video/iso.segment', 'segment MIME type');
is($r->{headers}{'cache-control'}, 'max-age=10', 'segment max-age=10');
my $seg = slurp("$dir/s1.m4s");
is(length($r->{content}), length($seg), 'segment length is the file\'s');

$r = http('GET', $url->('s1.m4s'), undef, { Range => 'bytes=0-99' });
is($r->{status}, 206, 'Range: 206');
is($r->{content}, substr($seg, 0, 100), 'Range: the file\'s first 100 bytes');
like($r->{headers}{'content-range'} // '', qr{^bytes 0-99/\d+$},
     'Content-Range');

$r = http('HEAD', $url->('s1.m4s'));
is($r->{status}, 200, 'HEAD 200');
is($r->{headers}{'content-length'}, length($seg), 'HEAD Content-Length');
ok(!length($r->{content} // ''), 'HEAD has no body');

$r = http('POST', $url->('index.m3u8'), 'x');
is($r->{status}, 405, 'POST 405');

for my $bad ('foo.txt', 'index.m3u8.tmp', '.index.m3u8', 's99999.m4s',
             'p99999999.m4s', 'nothere/index.m3u8', 'sub/../../x.m3u8',
             '%2e%2e/%2e%2e/conf/nginx.conf', 'index%20.m3u8')
{
    $r = http('GET', $url->($bad));
    ok($r->{status} == 404 || $r->{status} == 400, "$bad: $r->{status}");
}
$r = http('GET', $n->http_url('/ll/../conf/nginx.conf'));
isnt($r->{status}, 200, "traversal: $r->{status}");

# --- 400s -------------------------------------------------------------------
$pl = parse_media(slurp("$dir/index.m3u8"));
my $last = last_msn($pl);
for my $q ('_HLS_part=1', '_HLS_msn=' . ($last + 3), '_HLS_msn=abc',
           '_HLS_msn=1&_HLS_part=-1', '_HLS_msn=-1', '_HLS_msn=1&_HLS_msn=1',
           '_HLS_msn=' . ($last + 1) . '&_HLS_part=40',
           '_HLS_skip=no', '_HLS_msn=99999999999999999999')
{
    $r = http('GET', $url->("index.m3u8?$q"));
    is($r->{status}, 400, "$q: 400");
}

# --- blocking: the next part, many times, timed -------------------------
my (@lat, @badblock);
my $t_end = time + 15;
my $i = 0;
while (time < $t_end && @lat < 20) {
    my ($m, $p, $hint) = next_part(slurp("$dir/index.m3u8"));
    next unless defined $hint;
    $i++;
    my $t0 = time;
    $r = http('GET', $url->("index.m3u8?_HLS_msn=$m&_HLS_part=$p&t=b$i"));
    my $got = parse_media($r->{content} // '');
    my @uris = map { $_->{uri} } all_parts($got);
    if ($r->{status} != 200 || !grep { $_ eq $hint } @uris) {
        push @badblock, "$m.$p ($hint): $r->{status}";
        next;
    }
    is($r->{headers}{'cache-control'}, 'max-age=' . $got->{td},
       'blocking answer max-age = TARGETDURATION') if $i == 1;
    my $msec = log_msec("t=b$i");
    my @st = stat("$dir/$hint");
    next unless defined $msec && @st;
    push @lat, ($msec - $st[10]) * 1000;
}
is_deeply(\@badblock, [], 'every blocking answer lists the part asked for');
ok(@lat >= 10, scalar(@lat) . ' blocking answers timed');
my @s = sort { $a <=> $b } @lat;
my $med = $s[int(@s / 2)] // 1e9;
note(sprintf('part rename -> answer (ms): median %.1f, max %.1f; %s',
             $med, $s[-1] // -1, join(' ', map { sprintf '%.1f', $_ } @s)));
ok($med <= 50, sprintf('median %.1f ms <= 50 ms after the part', $med));
ok(($s[-1] // 1e9) <= 1000, 'every answer within 1 s of its part');

# _HLS_msn alone: held until that segment is complete
$pl = parse_media(slurp("$dir/index.m3u8"));
my $want = last_msn($pl) + 1;
$r = http('GET', $url->("index.m3u8?_HLS_msn=$want"));
is($r->{status}, 200, "_HLS_msn=$want: 200");
ok(last_msn(parse_media($r->{content} // '')) >= $want,
   "and segment $want is complete in it");

# --- a hinted part's GET waits for it ------------------------------------
my ($m, $p, $hint) = next_part(slurp("$dir/index.m3u8"));
my ($hn) = $hint =~ /p(\d+)/;
$r = http('GET', $url->($hint));
is($r->{status}, 200, "hinted part $hint: 200 once written");
is($r->{content}, slurp("$dir/$hint"), 'with the part\'s bytes');
is($r->{headers}{'content-type'}, 'video/iso.segment', 'as iso.segment');
$r = http('GET', $url->('p' . ($hn + 40) . '.m4s'));
is($r->{status}, 404, 'a part far past the hint: 404 at once');

# --- 200 parked requests, both workers, a plain request meanwhile -------
my (undef, $sj) = VKStream::HTTP::http_json('GET',
    $n->http_url('/vkstream/streams/live/s'));
my $tpid = $sj && $sj->{worker_pid};
ok($tpid, "transcoding worker $tpid");
($m, $p, $hint) = next_part(slurp("$dir/index.m3u8"));
my @socks = open_blocked(200, "index.m3u8?_HLS_msn=$m&_HLS_part=$p", 'c');
is(scalar(@socks), 200, '200 parked requests sent');
my $t_plain = time;
$r = http('GET', $url->('index.m3u8'));
is($r->{status}, 200, 'a plain request answered meanwhile');
my $resp = read_all(\@socks, 15);
my @ok = grep { $_ =~ m{^HTTP/1\.[01] 200} && $_ =~ /\Q"$hint"\E/ } @$resp;
is(scalar(@ok), 200, "all 200 answered, listing $hint");
my %pids = map { /^(\d+) .* "GET \S+t=c\d+ / ? ($1 => 1) : () }
           split /\n/, slurp($llog);
note('parked answered by workers: ' . join(' ', sort keys %pids));
ok((grep { $_ != ($tpid // 0) } keys %pids),
   'some answered by the worker that does not transcode');

# --- clients that close while parked ---------------------------------------
($m, $p) = next_part(slurp("$dir/index.m3u8"));
@socks = open_blocked(20, "index.m3u8?_HLS_msn=$m&_HLS_part=$p", 'x');
sleep 0.2;
close $_ for @socks;
(undef, undef, $hint) = next_part(slurp("$dir/index.m3u8"));
($hn) = $hint =~ /p(\d+)/;
@socks = open_blocked(5, 'p' . ($hn + 2) . '.m4s', 'y');
sleep 0.2;
close $_ for @socks;
($m, $p, $hint) = next_part(slurp("$dir/index.m3u8"));
$r = http('GET', $url->("index.m3u8?_HLS_msn=$m&_HLS_part=$p"));
is($r->{status}, 200, 'after closed clients: blocking still answered');

# --- a stalled publisher: 503 after 3 target durations ------------------
$pl = parse_media(slurp("$dir/index.m3u8"));
my $td = $pl->{td};
kill 'STOP', $pid;
sleep 0.5;
($m, $p, $hint) = next_part(slurp("$dir/index.m3u8"));
($m, $p) = ($m, $p + 1);
my @stall = open_blocked(1, "index.m3u8?_HLS_msn=$m&_HLS_part=$p", 's');
push @stall, open_blocked(1, $hint, 'h');
my $t_stall = time;
$resp = read_all(\@stall, 3 * $td + 10);
my $waited = time - $t_stall;
kill 'CONT', $pid;
like($resp->[0] // '', qr{^HTTP/1\.[01] 503}, 'stalled playlist: 503');
like($resp->[1] // '', qr{^HTTP/1\.[01] 503}, 'stalled hinted part: 503');
ok($waited >= 3 * $td - 0.1 && $waited < 3 * $td + 3,
   sprintf('after %.2f s (3 x TARGETDURATION %d)', $waited, $td));

# --- ENDLIST: directives ignored -------------------------------------------
ok(wait_for_file("$dir/index.m3u8", 20, qr/#EXT-X-PRELOAD-HINT/),
   'live again after SIGCONT');
stop_publisher($pid);
@pubs = ();
ok(wait_for_file("$dir/index.m3u8", 20, qr/#EXT-X-ENDLIST/), 'ENDLIST');
$pl = parse_media(slurp("$dir/index.m3u8"));
$last = last_msn($pl);
my $t1 = time;
$r = http('GET', $url->('index.m3u8?_HLS_msn=' . ($last + 5)
                        . '&_HLS_part=3'));
is($r->{status}, 200, 'after ENDLIST a far _HLS_msn is 200');
like($r->{content}, qr/#EXT-X-ENDLIST/, 'with ENDLIST');
ok(time - $t1 < 2, 'at once');
$r = http('GET', $url->('index.m3u8?_HLS_part=3'));
is($r->{status}, 400, 'after ENDLIST _HLS_part alone is still 400');

# _HLS_skip: the delta-update file when there is one
my $delta = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n# a delta update\n";
open(my $f, '>', "$dir/index_skip.m3u8") or die $!;
print $f $delta;
close $f;
$r = http('GET', $url->('index.m3u8?_HLS_skip=YES'));
is($r->{content}, $delta, '_HLS_skip=YES: index_skip.m3u8');
$r = http('GET', $url->("index.m3u8?_HLS_msn=$last&_HLS_skip=v2"));
is($r->{content}, $delta, '_HLS_skip=v2 with _HLS_msn: index_skip.m3u8');
$r = http('GET', $url->('index_skip.m3u8?_HLS_msn=999'));
is($r->{status}, 200, 'index_skip.m3u8 itself: no directives apply');

$n->stop;
done_testing;

END { kill 'CONT', @pubs if @pubs; stop_publisher($_) for @pubs }

sub slurp {
    open(my $f, '<', $_[0]) or return '';
    binmode $f;
    local $/;
    return scalar <$f>;
}

sub all_parts {
    my ($pl) = @_;
    return (map({ @{$_->{parts}} } @{$pl->{segments}}), @{$pl->{open}});
}

sub last_msn {
    my ($pl) = @_;
    return $pl->{msn} + ($pl->{skipped} // 0) + @{$pl->{segments}} - 1;
}

# the directive a player sends for the part after the last one, and the
# URI that part will have (the preload hint)
sub next_part {
    my ($text) = @_;
    my $pl = parse_media($text);
    my $last = last_msn($pl);
    my ($m, $p);
    if (@{$pl->{open}}) {
        ($m, $p) = ($last + 1, scalar @{$pl->{open}});
    } else {
        ($m, $p) = ($last, scalar @{$pl->{segments}[-1]{parts} // []});
    }
    return ($m, $p, $pl->{hint});
}

sub log_msec {
    my ($tag) = @_;
    my $end = time + 2;
    while (time < $end) {
        for (split /\n/, slurp($llog)) {
            return $1 if /^\d+ ([\d.]+) \d+ "GET \S+\Q$tag\E /;
        }
        sleep 0.02;
    }
    return undef;
}

sub open_blocked {
    my ($count, $path, $tag) = @_;
    my @s;
    for my $k (1 .. $count) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $n->http_port) or next;
        my $sep = $path =~ /\?/ ? '&' : '?';
        print $s "GET /ll/s_low/$path${sep}t=$tag$k HTTP/1.0\r\n"
               . "Host: x\r\n\r\n";
        push @s, $s;
    }
    return @s;
}

# every response, in the order of the sockets (HTTP/1.0: closed at end)
sub read_all {
    my ($socks, $timeout) = @_;
    my %buf;
    my %idx = map { ($socks->[$_] + 0) => $_ } 0 .. $#$socks;
    my $sel = IO::Select->new(@$socks);
    my $end = time + $timeout;
    while ($sel->count && time < $end) {
        for my $s ($sel->can_read(0.5)) {
            my $got = sysread($s, my $chunk, 65536);
            if (!$got) {
                $sel->remove($s);
                close $s;
                next;
            }
            $buf{$s + 0} .= $chunk;
        }
    }
    return [ map { $buf{$_ + 0} // '' } @$socks ];
}
