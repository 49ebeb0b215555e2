# The VK client under the emulator's fault switches, through real nginx:
# a 10 MB message, a slow drip of one frame (whole, and cut off after a
# silence), drops in the middle of a message, garbage on the stream, /rules
# write failures (5xx, VK error codes), getServerUrl errors, and TLS
# endpoints that do not speak TLS or show a certificate for another host.
# Each time: exact counters in /vkstream/status, back to "connected", the
# next event stored, one open connection, no crash.
use strict;
use warnings;
use utf8;
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use VKStream::Nginx;
use VKStream::Emulator;
use VKStream::API qw(api wait_until);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $T0 = time;
my $certs = tempdir('vk-faults-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $certs;
my $token = 'tok' . int(rand 1e9);
my @eargs = ('--ping-interval', 0, '--cert-dir', "$certs/emu",
             '--token', $token, '--key', 'key' . int(rand 1e9));
my $e = VKStream::Emulator->new(args => \@eargs);

sub conf {
    my ($api, $ca) = @_;
    return VKStream::Nginx::standard_conf(main => join "\n",
        "vkstream_vk_token $token;", "vkstream_vk_api $api;",
        "vkstream_vk_ca $ca;");
}

my $n = VKStream::Nginx->new(conf => conf($e->api_url, $e->ca));
$n->start;

sub status { (api($n, 'GET', '/vkstream/status'))[1]{vk} }
sub rule { (api($n, 'GET', "/vkstream/rules/$_[0]"))[1] }
sub server_rules {
    my $r = $e->admin(GET => '/admin/rules');
    return {map { $_->{tag} => $_->{value} } @{$r->{rules} // []}};
}
sub fault { $e->admin(POST => "/admin/fault/$_[0]", $_[1] // {}) }
sub config { $e->admin(POST => '/admin/config', $_[0]) }
sub counters { $e->stats->{counters} }

sub rss_anon {
    open my $f, '<', "/proc/$_[0]/status" or return undef;
    while (<$f>) { return $1 / 1024 if /^RssAnon:\s+(\d+)\s+kB/ }
    return undef;
}

ok(wait_until(10, sub { (status() // {})->{state} eq 'connected' }),
   'client connects') or diag explain status();
my @workers = $n->worker_pids;
is(scalar @workers, 1, 'one worker');

api($n, 'POST', '/vkstream/rules', '{"tag":"cats","value":"кот"}');
ok(wait_until(5, sub { (rule('cats')->{state} // '') eq 'active' }),
   'global rule "cats" active');

# Counter deltas since a snapshot must be exactly these (others 0).
my @COUNTERS = qw(received stored dropped malformed reconnects);
sub deltas_are {
    my ($before, $want, $name) = @_;
    my $st = status();
    my %got = map { $_ => $st->{$_} - $before->{$_} } @COUNTERS;
    my %exp = map { $_ => $want->{$_} // 0 } @COUNTERS;
    is_deeply(\%got, \%exp, "$name: counters")
        or diag explain {got => \%got, status => $st};
}

# After a fault: connected again with one open connection, and the next
# event arrives and is stored.
my $seq = 0;
sub recovers {
    my ($name) = @_;
    ok(wait_until(20, sub { status()->{state} eq 'connected' }),
       "$name: connected") or diag explain status();
    ok(wait_until(5, sub { $e->stats->{open} == 1 }),
       "$name: one stream connection open");
    my $before = status();
    my $text = "кот после $name " . ++$seq;
    my $j = $e->admin(POST => '/admin/event', {text => $text});
    is($j->{delivered}, 1, "$name: next event sent");
    ok(wait_until(5, sub { status()->{stored} == $before->{stored} + 1 }),
       "$name: and stored");
    my (undef, $g) = api($n, 'GET', '/vkstream/matches');
    ok((grep { $_->{text} eq $text } @{$g->{matches} // []}),
       "$name: in the matches");
}

sub events_in_log { scalar(() = $n->log_text =~ /$_[0]/g) }


# ---- a 10 MB message -------------------------------------------------------

# vkstream_vk_max_message (1 MiB by default) is enforced while the
# message arrives: vks_vk_reasm stops buffering past the limit and skips
# the rest of it, so the stream stays up and the memory is not taken.
my $pid = $workers[0];
$e->admin(POST => '/admin/event', {text => 'кот для разогрева'});
ok(wait_until(5, sub { status()->{stored} == 1 }), 'warm-up event stored');
my $rss0 = rss_anon($pid);
my $before = status();
my $t0 = time;
my $j = fault(oversized => {bytes => 10485760});
is($j->{bytes}, 10485760, '10 MB message sent');
ok(wait_until(30, sub { status()->{received} > $before->{received} }),
   '10 MB: received');
my $t_10mb = time - $t0;
deltas_are($before, {received => 1, dropped => 1}, '10 MB');
like($n->log_text, qr/vkstream: VK stream message over 1048576 bytes dropped/,
     '10 MB: drop logged with the limit');
is(status()->{state}, 'connected', '10 MB: stayed connected');
recovers('10 MB');
my $rss1 = rss_anon($pid);
# Under ASan its 16 MB quarantine keeps freed buffers: a looser bound.
my $rss_max = $VKStream::Nginx::SANITIZE ? 24 : 4;
cmp_ok($rss1 - $rss0, '<', $rss_max,
       "10 MB: worker RssAnon grew by under $rss_max MB")
    if defined $rss0 && defined $rss1;


# ---- slow drip ---------------------------------------------------------------

$before = status();
$t0 = time;
$j = fault(drip => {bytes => 3, interval_ms => 20, text => 'кот по капле'});
is_deeply($j->{tags}, ['vks:g:cats'], 'drip: event tagged');
my $drip_s = $j->{writes} * 0.02;
ok(wait_until(30, sub { status()->{stored} > $before->{stored} }),
   "drip: stored after $j->{writes} writes of 3 bytes");
my $t_drip = time - $t0;
cmp_ok($t_drip, '>=', $drip_s * 0.8, 'drip: not before the last byte');
sleep 0.3;
deltas_are($before, {received => 1, stored => 1}, 'drip');
my (undef, $g) = api($n, 'GET', '/vkstream/matches');
is(scalar(grep { $_->{text} eq 'кот по капле' } @{$g->{matches}}), 1,
   'drip: stored exactly once, text intact');
recovers('drip');

# A drip that stops after 100 bytes of the frame; 3 s of silence on an
# open connection, then the TCP connection is cut.
$before = status();
my $accepted = counters()->{ws_accepted};
$j = fault(drip => {bytes => 10, interval_ms => 20, stop_after => 100,
                    silent => 3, text => 'кот недокапанный'});
is($j->{writes}, 10, 'cut drip: ten writes');
sleep 1.5;
is(status()->{state}, 'connected', 'cut drip: still connected while silent');
deltas_are($before, {}, 'cut drip, silent');
ok(wait_until(15, sub { counters()->{ws_accepted} > $accepted }),
   'cut drip: reconnected after the cut');
# libwebsockets keeps a frame's payload until the frame is whole (or its
# 64 KiB rx buffer is full), so a frame cut short never reaches the client:
# nothing to count but the reconnect.
deltas_are($before, {reconnects => 1}, 'cut drip');
recovers('cut drip');
(undef, $g) = api($n, 'GET', '/vkstream/matches');
ok(!(grep { $_->{text} =~ /недокапанный/ } @{$g->{matches}}),
   'cut drip: no partial event stored');


# ---- mid-message disconnects -----------------------------------------------------

# Half a frame: unseen by the client, as above.  Three whole fragments of
# a message without its end: the message is counted as dropped.
for my $v (['drop mid-frame', {}, {reconnects => 1}],
           ['drop after 3 fragments', {after_frames => 3},
            {dropped => 1, reconnects => 1}]) {
    my ($name, $body, $want) = @$v;
    $before = status();
    $accepted = counters()->{ws_accepted};
    $t0 = time;
    $j = fault(drop => $body);
    is($j->{connections}, 1, "$name: applied");
    ok(wait_until(15, sub { counters()->{ws_accepted} > $accepted
                            && status()->{state} eq 'connected' }),
       "$name: reconnected");
    diag(sprintf "%s: reconnected in %.2f s", $name, time - $t0);
    deltas_are($before, $want, $name);
    like(status()->{last_error}, qr/without a close frame/,
         "$name: last_error says how it ended");
    recovers($name);
}
like($n->log_text, qr/stream message cut off by the connection's end after \d+ bytes, dropped/,
     'the message cut between fragments is logged as dropped');


# ---- garbage on the stream -------------------------------------------------------

for my $kind (qw(bytes opcode)) {
    my $name = "garbage $kind";
    $before = status();
    $accepted = counters()->{ws_accepted};
    $j = fault(garbage => {kind => $kind});
    is($j->{connections}, 1, "$name: applied");
    ok(wait_until(15, sub { counters()->{ws_accepted} > $accepted
                            && status()->{state} eq 'connected' }),
       "$name: closed and reconnected");
    deltas_are($before, {reconnects => 1}, $name);
    recovers($name);
}

# A binary frame: a whole message, just not text (VK sends only text).
$before = status();
$accepted = counters()->{ws_accepted};
fault(garbage => {kind => 'binary', bytes => 200});
ok(wait_until(5, sub { status()->{malformed} > $before->{malformed} }),
   'garbage binary: seen');
deltas_are($before, {received => 1, malformed => 1}, 'garbage binary');
is(counters()->{ws_accepted}, $accepted, 'garbage binary: no reconnect');
like($n->log_text, qr/malformed stream message \(\d+ bytes\): a binary frame/,
     'garbage binary: logged as binary');
recovers('garbage binary');


# ---- /rules write failures -----------------------------------------------------

# A bare 503 (a proxy's page, not a VK answer) on POST: the rule shows
# failed with the reason and is retried with backoff; the stream stays.
$before = status();
$accepted = counters()->{ws_accepted};
config({rules_error => {status => 503}});
api($n, 'POST', '/vkstream/rules', '{"tag":"dogs","value":"пёс"}');
ok(wait_until(5, sub { (rule('dogs')->{state} // '') eq 'failed' }),
   'POST 503: rule failed');
my $r = rule('dogs');
is($r->{code}, 503, 'POST 503: code is the HTTP status');
like($r->{error}, qr/POST \/rules: bad answer \(HTTP 503\).*; retrying in \d+ ms/,
     'POST 503: error says it is retried');
ok(wait_until(10, sub { counters()->{rules_failed} >= 3 }),
   'POST 503: retried (3 attempts)');
is(counters()->{ws_accepted}, $accepted, 'POST 503: stream not reconnected');
is(status()->{state}, 'connected', 'POST 503: still connected');
config({rules_error => undef});
$t0 = time;
ok(wait_until(20, sub { (rule('dogs')->{state} // '') eq 'active' }),
   'POST 503 cleared: rule active');
diag(sprintf "POST 503 cleared: rule active after %.1f s", time - $t0);
is(server_rules()->{'vks:g:dogs'}, 'пёс', 'POST 503 cleared: on the server');
is(rule('dogs')->{code}, 0, 'POST 503 cleared: code reset');
deltas_are($before, {}, 'POST 503');

# A VK error code that is no rule error (1, "Unknown error") with HTTP 500
# on DELETE: logged, retried, the rule goes once the fault is cleared.
config({rules_error => {status => 500, error_code => 1,
                        message => 'Unknown error', methods => ['DELETE']}});
my $failed = counters()->{rules_failed};
api($n, 'DELETE', '/vkstream/rules/dogs');
ok(wait_until(10, sub { counters()->{rules_failed} >= $failed + 2 }),
   'DELETE 500/1: retried');
ok($n->wait_log(qr/rule "vks:g:dogs" not deleted: error 1: Unknown error \(HTTP 500\); retrying in \d+ ms/, 5),
   'DELETE 500/1: logged with the retry');
is(server_rules()->{'vks:g:dogs'}, 'пёс', 'DELETE 500/1: still on the server');
config({rules_error => undef});
ok(wait_until(20, sub { !exists server_rules()->{'vks:g:dogs'} }),
   'DELETE 500/1 cleared: deleted');

# A rule error (2003) with HTTP 500: permanent by design, not retried; the
# rule stays failed after the fault is gone until its value changes.
config({rules_error => {status => 500, error_code => 2003,
                        message => "Can't parse rule", methods => ['POST']}});
$failed = counters()->{rules_failed};
api($n, 'POST', '/vkstream/rules', '{"tag":"owls","value":"сова"}');
ok(wait_until(5, sub { (rule('owls')->{state} // '') eq 'failed' }),
   'POST 2003: rule failed');
is(rule('owls')->{code}, 2003, 'POST 2003: code 2003');
unlike(rule('owls')->{error} // '', qr/retrying/, 'POST 2003: no retry said');
config({rules_error => undef});
sleep 3;
is(counters()->{rules_failed}, $failed + 1, 'POST 2003: asked once only');
is(rule('owls')->{state}, 'failed', 'POST 2003: still failed after 3 s');
api($n, 'POST', '/vkstream/rules', '{"tag":"owls","value":"сова -филин"}');
ok(wait_until(5, sub { (rule('owls')->{state} // '') eq 'active' }),
   'POST 2003: a new value is sent and becomes active');
recovers('rules faults');


# ---- getServerUrl errors -----------------------------------------------------------

# 3001 makes the client ask getServerUrl again, which now fails (error
# 10): it backs off and retries until the error is cleared.
$before = status();
my $calls = counters()->{api_calls};
config({api_error => 10});
fault(service => {service_code => 3001});
ok(wait_until(10, sub { (status()->{last_error} // '')
                        =~ /getServerUrl: error 10: Internal server error/ }),
   'api_error 10: in last_error');
ok(wait_until(10, sub { counters()->{api_calls} >= $calls + 2 }),
   'api_error 10: retried');
ok(wait_until(5, sub { status()->{state} eq 'backoff' }),
   'api_error 10: state backoff between the attempts');
config({api_error => 0});
ok(wait_until(20, sub { status()->{state} eq 'connected' }),
   'api_error cleared: connected');
cmp_ok(status()->{reconnects} - $before->{reconnects}, '>=', 2,
       'api_error: reconnects counted');
recovers('api_error');

is_deeply([$n->worker_pids], \@workers, 'worker pid unchanged');
$n->no_alerts('no crash, alert or crit in the log');
my $faults_s = time - $T0;
$n->stop;


# ---- TLS: endpoints that do not speak TLS, a certificate for another host --

# Our own CA signing two certificates: one for another host name, one for
# 127.0.0.1; the emulator reuses whatever its --cert-dir holds.
my $pki = "$certs/pki";
mkdir $pki;
my @ec = ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
          '-nodes', '-days', '2');
for my $cmd (
    ['req', '-x509', @ec, '-keyout', "$pki/ca.key", '-out', "$pki/ca.pem",
     '-subj', '/CN=faults CA', '-addext', 'basicConstraints=critical,CA:TRUE',
     '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    (map { my ($d, $san) = @$_; mkdir "$certs/$d";
           ['req', '-x509', @ec, '-keyout', "$certs/$d/key.pem",
            '-out', "$certs/$d/cert.pem", '-subj', '/CN=vk',
            '-CA', "$pki/ca.pem", '-CAkey', "$pki/ca.key",
            '-addext', "subjectAltName=$san"] }
     ['other', 'DNS:elsewhere.example'], ['good', 'IP:127.0.0.1']))
{
    system('openssl', @$cmd) == 0 or die "openssl failed";
}
for my $d (qw(other good)) {
    system('cp', "$pki/ca.pem", "$certs/$d/ca.pem");
    chmod 0644, glob("$certs/$d/*.pem"), "$pki/ca.pem";
}

# A listener on the API port that answers the ClientHello with an HTTP
# error (a plain HTTP port), then with bytes that are no ServerHello.
my $port = VKStream::Nginx::free_port();
my $lpid = fork // die "fork: $!";
if ($lpid == 0) {
    my $l = IO::Socket::INET->new(Listen => 5, ReuseAddr => 1,
        LocalAddr => "127.0.0.1:$port") or die "listen: $!";
    my $k = 0;
    while (my $c = $l->accept) {
        sysread($c, my $buf, 4096);
        print $c $k++ == 0
            ? "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
            : "\x16\x03\x03\x00\x30" . join '', map { chr int rand 256 }
                                                    1 .. 48;
        close $c;
    }
    exit 0;
}
sleep 0.2;

$n = VKStream::Nginx->new(conf => conf("https://127.0.0.1:$port",
                                       "$pki/ca.pem"));
$n->start;
@workers = $n->worker_pids;
my $no_tls = qr/vkstream: VK getServerUrl failed: TLS handshake with 127\.0\.0\.1:$port failed before any certificate came: the server does not speak TLS there/;
ok(wait_until(15, sub { events_in_log($no_tls) >= 2 }),
   'not TLS (HTTP answer, then garbage): named in the log, twice')
    or diag(join "\n", grep { /vkstream: VK/ } split /\n/, $n->log_text);
like(status()->{last_error}, qr/does not speak TLS/, 'not TLS: last_error');
is(status()->{state}, 'backoff', 'not TLS: state backoff');
kill 'TERM', $lpid;
waitpid($lpid, 0);

# The same port, now TLS with a certificate for another host name.
my $other = VKStream::Emulator->new(args => ['--ping-interval', 0,
    '--cert-dir', "$certs/other", '--token', $token, '--port', $port]);
my $mismatch = qr/vkstream: VK getServerUrl failed: TLS handshake with 127\.0\.0\.1:$port failed: the server's certificate is not for that host name \(IP address mismatch\)/;
ok(wait_until(15, sub { events_in_log($mismatch) >= 1 }),
   'certificate for another host: named in the log')
    or diag(join "\n", grep { /vkstream: VK/ } split /\n/, $n->log_text);
is($other->stats->{counters}{api_calls}, 0,
   'certificate for another host: no request got through');
$other->stop;

# Fixed: the right certificate on the same port; the client connects.
my $good = VKStream::Emulator->new(args => ['--ping-interval', 0,
    '--cert-dir', "$certs/good", '--token', $token, '--port', $port]);
$t0 = time;
ok(wait_until(30, sub { status()->{state} eq 'connected' }),
   'endpoint fixed: connected');
diag(sprintf "TLS: connected %.1f s after the fix", time - $t0);
is($good->stats->{open}, 1, 'endpoint fixed: one stream connection');

# Backoff: attempt i waited between half and all of 2^i s.
my @delays = $n->log_text =~ /reconnecting in (\d+) ms/g;
cmp_ok(scalar @delays, '>=', 3, 'TLS: at least three retries');
my @bad = grep { $delays[$_] < 500 * 2 ** $_ || $delays[$_] > 1000 * 2 ** $_ }
          0 .. $#delays;
is_deeply(\@bad, [], 'TLS: retries backed off exponentially')
    or diag("@delays");
is_deeply([$n->worker_pids], \@workers, 'TLS: worker pid unchanged');
$n->no_alerts('TLS: no crash, alert or crit in the log');
$n->stop;

diag(sprintf "10 MB message %.1f s; drip %.1f s; RssAnon %.1f -> %.1f MB;"
     . " faults %.0f s, all %.0f s", $t_10mb, $t_drip, $rss0 // -1,
     $rss1 // -1, $faults_s, time - $T0);
done_testing;
