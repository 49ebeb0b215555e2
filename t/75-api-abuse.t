# The control API under abuse, beyond t/21-api.t: malformed and huge
# paths, invalid escapes and NUL, huge and lying bodies, hostile JSON,
# every write without or with a bad token, keywords and names with quotes,
# control characters and markup.  Every answer is a 4xx with a JSON body
# (never 500), what is stored comes back exactly, and the worker lives.
use strict;
use warnings;
use utf8;
use Test::More;
binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);
use VKStream::HTTP qw(json_decode json_encode);
use VKStream::Nginx;
use VKStream::Media qw(stop_publisher);
use VKStream::API qw(api uri_escape publish_name wait_until);

my $TOKEN = 'abuse-T0ken';
my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    http => "location /wo/ { vkstream_api; vkstream_api_token $TOKEN; }"));
$n->start;
my ($w) = $n->worker_pids;

# A raw request; returns (status, body), reading for at most 3 s (an
# event stream stays open).
sub raw {
    my ($req) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $n->http_port,
                                  Timeout => 5) or return (0, '');
    binmode $s;
    print $s $req;
    shutdown($s, 1);
    my $sel = IO::Select->new($s);
    my $res = '';
    my $end = time + 3;
    while (time < $end && $sel->can_read($end - time)) {
        my $got = sysread($s, my $buf, 65536);
        last unless $got;
        $res .= $buf;
    }
    close $s;
    my ($st) = $res =~ m{^HTTP/1\.\d (\d{3})};
    my (undef, $body) = split /\r\n\r\n/, $res, 2;
    return ($st // 0, $body // '');
}

sub json_ok {
    my ($body) = @_;
    my $j = eval { json_decode($body) };
    return $j && ref $j eq 'HASH';
}

# --- malformed paths ------------------------------------------------------

my @paths = ('/vkstream/streams/%zz/x', '/vkstream/streams/live/%00x',
             '/vkstream/streams/live/%', '/vkstream/streams/live/%4',
             '/vkstream/streams/live/a%2F..%2F..%2Fetc',
             '/vkstream//streams///live//x', '/vkstream/streams/live/',
             '/vkstream/streams//x', '/vkstream/streams/live/x/y/z/w/v',
             '/vkstream/streams/live/x/keywords/more',
             '/vkstream/streams/live/x/renditions/%00/restart',
             '/vkstream/rules/%FF%FE', '/vkstream/rules/' . ('a' x 3000),
             '/vkstream/streams?app=%&name=%G1', '/vkstream/streams?app=',
             '/vkstream/events?last_id=-1', '/vkstream/events?last_id=1e99',
             '/vkstream/streams/live/x/matches?after=99999999999999999999',
             '/vkstream/streams/live/x/matches?limit=-5',
             '/vkstream/%2e%2e/%2e%2e/etc/passwd',
             '/vkstream/streams/live/' . ('%C3%A9' x 500),
             "/vkstream/streams/live/\x01\x7f");
for my $p (@paths) {
    my ($st, $body) = raw("GET $p HTTP/1.0\r\nHost: x\r\n\r\n");
    (my $show = $p) =~ s/[^\x20-\x7e]/?/g;
    $show = substr($show, 0, 60) . '...' if length $show > 60;
    ok($st >= 200 && $st < 500, "GET $show: $st, not 5xx");
    # nginx itself refuses %00 and bad escapes (its own HTML 400 page);
    # events is an event stream; every other answer is JSON
    next if $st == 400 && $body =~ /<html>/ or $p =~ /events/ && $st == 200;
    ok(json_ok($body), "  JSON body");
}

# --- huge and lying bodies ------------------------------------------------

my $kw = '/vkstream/streams/live/cam/keywords';
my ($st, $body) = raw("PUT $kw HTTP/1.0\r\nHost: x\r\nContent-Length: "
                      . (10 * 1024 * 1024) . "\r\n\r\n" . ('x' x 65536));
ok($st == 413, "10 MB declared body: $st");
($st, $body) = raw("PUT $kw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                   . "Transfer-Encoding: chunked\r\n\r\n"
                   . join('', map { sprintf("%x\r\n%s\r\n", 65536,
                                            'a' x 65536) } 1 .. 32)
                   . "0\r\n\r\n");
ok($st == 413, "2 MB chunked body: $st");
($st) = raw("PUT $kw HTTP/1.0\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
            . '{"keywords":');
ok($st == 400 || $st == 0, "body shorter than its length: "
                           . ($st || 'closed'));
($st) = raw("POST /vkstream/rules HTTP/1.0\r\nHost: x\r\n"
            . "Content-Length: -1\r\n\r\n{}");
ok($st == 400, "negative Content-Length: $st");

# --- hostile JSON -----------------------------------------------------------

my $cam = publish_name($n, 'live', 'cam', duration => 60);
ok(wait_until(15, sub {
    my ($r) = api($n, 'GET', '/vkstream/streams/live/cam');
    $r->{status} == 200;
}), 'stream cam is listed');

my @bad = ('[' x 100000, '{"keywords":' . ('[' x 5000),
           qq({"keywords":"a\xff\xfeb"}), qq({"keywords":"\xc0\xaf"}),
           '{"keywords":"x"' . ',"keywords":"y"' x 1000 . '}',
           '{"keywords":1e999}', '{"keywords":null}', "\x00{}",
           '{"keywords":"' . ('я' x 100000) . '"}', '"keywords"', '',
           '{"keywords":"a\u0000b"}', '{"keywords":"\ud800"}');
for my $b (@bad) {
    my $bytes = $b;
    utf8::encode($bytes) if utf8::is_utf8($bytes);
    my ($r, $j) = api($n, 'PUT', $kw =~ s{^/vkstream}{/vkstream}r, $bytes);
    (my $show = substr($b, 0, 30)) =~ s/[^\x20-\x7e]/?/g;
    ok($r->{status} >= 200 && $r->{status} < 500,
       "PUT keywords $show: $r->{status}, not 5xx");
    ok($j, '  JSON answer');
}

# what is stored comes back exactly, as valid JSON
for my $text ('"quoted" \\ back', "tab\tnl\ncr\r", '</script><b>&amp;',
              "\x{1}\x{1f}\x{7f}", 'эмодзи 😀', "\x{2028}\x{2029}") {
    my ($r, $j) = api($n, 'PUT', $kw,
                      json_encode({ keywords => $text }));
    if ($r->{status} == 200) {
        ($r, $j) = api($n, 'GET', '/vkstream/streams/live/cam');
        is($j && $j->{vk}{keywords}, $text,
           'keywords stored and returned exactly: '
           . ($text =~ s/[^\x20-\x7e]/?/gr));
        unlike($r->{content} =~ s/\n\z//r, qr/[\x00-\x1f]/,
               '  no raw control bytes');
    } else {
        is($r->{status}, 400, 'keywords refused with 400: '
                              . ($text =~ s/[^\x20-\x7e]/?/gr));
    }
}

# --- unauthorised writes ----------------------------------------------------

# A refused write used to be carried out after its 401/403 had been sent
# (and nginx logged "header already sent"): the effects are checked too.
my ($r, $j) = api($n, 'POST', '/wo/rules', '{"tag":"keep","value":"v"}',
                  { Authorization => "Bearer $TOKEN" });
is($r->{status}, 201, 'rule "keep" created with the token');
($r) = api($n, 'PUT', '/wo/streams/live/cam/keywords', '{"keywords":"kw"}',
           { Authorization => "Bearer $TOKEN" });
is($r->{status}, 200, 'keywords set with the token');
# the rendition running first, so that a refused stop or restart shows
ok(wait_until(30, sub {
    my (undef, $j2) = api($n, 'GET', '/vkstream/streams/live/cam');
    (($j2->{renditions}[0] // {})->{state} // '') eq 'running';
}), 'rendition of cam running');
my @writes = ([ PUT => '/wo/streams/live/cam/keywords', '{"keywords":"x"}' ],
              [ DELETE => '/wo/streams/live/cam/keywords' ],
              [ POST => '/wo/rules', '{"tag":"t","value":"v"}' ],
              [ DELETE => '/wo/rules/keep' ],
              [ DELETE => '/wo/rules?tag=keep' ],
              [ POST => '/wo/streams/live/cam/drop' ],
              [ POST => '/wo/streams/live/cam/renditions/_low/stop' ],
              [ POST => '/wo/streams/live/cam/renditions/_low/restart' ]);
my @auth = (undef, '', 'Bearer', 'Bearer ', "Bearer ${TOKEN}x",
            'Basic ' . $TOKEN, "Bearer \"$TOKEN\"", 'Bearer ' . ('A' x 6000),
            "Bearer x$TOKEN", "Bearer " . lc $TOKEN);
for my $wr (@writes) {
    my ($m, $p, $b) = @$wr;
    for my $a (@auth) {
        my ($r, $j) = api($n, $m, $p, $b,
                          defined $a ? { Authorization => $a } : {});
        my $show = defined $a ? substr($a =~ s/[^\x20-\x7e]/?/gr, 0, 20)
                              : 'none';
        ok($r->{status} == 401 || $r->{status} == 403
           || $r->{status} == 400,
           "$m $p, auth $show: $r->{status}");
    }
}
($r, $j) = api($n, 'GET', '/vkstream/streams/live/cam');
is($j && $j->{state}, 'live', 'refused drops did not drop the stream');
is($j && $j->{vk}{keywords}, 'kw', 'refused writes left the keywords');
is(($j->{renditions}[0] // {})->{state}, 'running',
   'refused stop and restart left the rendition running');
($r) = api($n, 'GET', '/vkstream/rules/keep');
is($r->{status}, 200, 'refused deletes left the rule');
($r) = api($n, 'GET', '/vkstream/rules/t');
is($r->{status}, 404, 'refused POST created no rule');
unlike($n->log_text, qr/header already sent/, 'one answer per request');

# --- names with control characters and markup -------------------------------

my @names = ("tab\tname", "bell\x07", "del\x7f", 'a"b\\c</script>',
             "line\nbreak", "\x{2028}sep");
my @pids = map { publish_name($n, 'live', $_, duration => 20) } @names;
my %got;
wait_until(20, sub {
    my ($r2, $j2) = api($n, 'GET', '/vkstream/streams');
    %got = map { $_->{name} => 1 } @{ $j2->{streams} // [] };
    !grep { !$got{$_} } @names;
});
for my $name (@names) {
    my $show = $name =~ s/[^\x20-\x7e]/?/gr;
    # nginx-rtmp may refuse some names; what is listed must be exact
    ($r, $j) = api($n, 'GET', '/vkstream/streams?app=live&name='
                              . uri_escape($name));
    ok($j, "listing with name $show is valid JSON");
    unlike($r->{content} =~ s/\n\z//r, qr/[\x00-\x1f]/,
           '  no raw control bytes');
    is($j->{streams}[0]{name}, $name, "  name $show exact")
        if $got{$name};
}
stop_publisher($_) for @pids, $cam;

ok(kill(0, $w), 'the worker survived');
$n->stop;
done_testing;
