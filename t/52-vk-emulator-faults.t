# The VK emulator's fault switches, seen by a client: split messages,
# invalid JSON and UTF-8, oversized messages, 300/400 messages, a drop in
# the middle of a message, a slow drip of one frame, garbage on the stream,
# /rules write failures, another endpoint, refused connections, and a
# restart keeping the CA.
use strict;
use warnings;
use utf8;
use Test::More;
use Mojo::JSON qw(decode_json);
use Encode qw(decode FB_CROAK);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use Time::HiRes qw(sleep time);
use VKStream::Emulator;

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $dir = tempdir('vk-emu-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my @args = ('--ping-interval', 0, '--cert-dir', "$dir/certs",
            '--key', 'fk', '--token', 'ft');
my $e = VKStream::Emulator->new(args => \@args);
my $wait = \&VKStream::Emulator::wait_until;
is($e->ca, "$dir/certs/ca.pem", '--cert-dir holds the CA');

sub connect_ok {
    my ($name) = @_;
    my $c = $e->ws_connect;
    $wait->(sub { $c->{tx} || $c->{finish} });
    is($c->{handshake}, 101, "$name: connected");
    return $c;
}

# Reads raw bytes until $want arrived, EOF, or $timeout of silence.
sub raw_read {
    my ($s, $want, $timeout) = @_;
    my ($got, $rin) = ('', '');
    vec($rin, fileno($s), 1) = 1;
    while (length $got < $want) {
        last unless $s->pending
                    || select(my $rout = $rin, undef, undef, $timeout);
        sysread($s, my $buf, 4096) or last;
        $got .= $buf;
    }
    return $got;
}

sub fault {
    my ($name, $body) = @_;
    return $e->admin(POST => "/admin/fault/$name", $body // {});
}

$e->api(POST => $e->rules_path, {rule => {value => 'кот', tag => 'cats'}});
my $c = connect_ok('client');

# split: one message in many frames (text + continuations).
my $j = fault(split => {parts => 7, text => 'Мой кот разбит на части'});
is($j->{connections}, 1, 'split sent to one connection');
is($j->{parts}, 7, 'split into 7 parts');
ok($wait->(sub { @{$c->{messages}} >= 1 }), 'split message reassembled');
my @f = @{$c->{frames}};
is(scalar @f, 7, 'seven frames on the wire');
is($f[0][1], 1, 'first frame is text');
is_deeply([map { $_->[1] } @f[1 .. 6]], [(0) x 6], 'then continuations');
is_deeply([map { $_->[0] } @f], [0, 0, 0, 0, 0, 0, 1], 'FIN only on last');
my $m = decode_json($c->{messages}[0]);
is($m->{event}{text}, 'Мой кот разбит на части', 'reassembled text');
is_deeply($m->{event}{tags}, ['cats'], 'reassembled tags');

# invalid JSON.
fault('invalid_json');
ok($wait->(sub { @{$c->{messages}} >= 2 }), 'invalid JSON received');
ok(!eval { decode_json($c->{messages}[1]); 1 }, 'it does not parse');

# invalid UTF-8 inside well-formed JSON.
fault('invalid_utf8');
ok($wait->(sub { @{$c->{messages}} >= 3 }), 'invalid UTF-8 received');
my $raw = $c->{messages}[2];
like($raw, qr/^\{"code":100/, 'looks like an event');
ok(!eval { decode('UTF-8', my $copy = $raw, FB_CROAK); 1 },
   'it is not valid UTF-8');

# oversized: a valid event larger than 1 MiB.
$j = fault(oversized => {});
cmp_ok($j->{bytes}, '>', 1048576, 'oversized is above 1 MiB');
ok($wait->(sub { @{$c->{messages}} >= 4 }, 10), 'oversized received');
is(length $c->{messages}[3], $j->{bytes}, 'its size as announced');
$j = fault(oversized => {bytes => 5000});
ok($wait->(sub { @{$c->{messages}} >= 5 }), 'sized message received');
is(length $c->{messages}[4], 5000, 'bytes option sets the size');
is(decode_json($c->{messages}[4])->{code}, 100, 'and it is valid JSON');

# 400 error message on the open socket, connection stays.
fault(error => {error_code => 2000});
ok($wait->(sub { @{$c->{messages}} >= 6 }), 'error message received');
is_deeply(decode_json($c->{messages}[5]),
          {code => 400, error => {error_code => 2000,
                                  message => "Can't parse json"}},
          'code 400 envelope');
ok(!$c->{finish}, 'still open after a 400 message');

# 300 service message 3000 (close => 0 keeps it open).
fault(service => {service_code => 3000, close => 0});
ok($wait->(sub { @{$c->{messages}} >= 7 }), 'service message received');
$m = decode_json($c->{messages}[6]);
is($m->{code}, 300, 'code 300');
is($m->{service_message}{service_code}, 3000, 'service_code 3000');
ok(!$c->{finish}, 'still open with close => 0');

# 3001 with the default close.
fault(service => {service_code => 3001});
ok($wait->(sub { $c->{finish} }), 'closed after 3001');
is($c->{finish}[0], 1000, 'close code 1000');
is(decode_json($c->{messages}[-1])->{service_message}{service_code}, 3001,
   'last message was 3001');
ok($wait->(sub { $e->stats->{open} == 0 }), 'none open');

# drop: half a frame, then the TCP connection goes away.
my ($s, $head) = $e->raw_ws;
like($head, qr{^HTTP/1\.1 101}, 'raw client connected');
$j = fault('drop');
is($j->{connections}, 1, 'drop applied to one connection');
my ($fin, $op, $payload) = VKStream::Emulator::raw_frame($s, 3);
ok(!defined $op, 'no complete frame arrives');
my $left = '';
ok(!sysread($s, $left, 1), 'then EOF');
ok($wait->(sub { $e->stats->{open} == 0 }), 'server counts it closed');

# drop after_frames: whole fragments without FIN, then EOF.
($s, $head) = $e->raw_ws;
like($head, qr{^HTTP/1\.1 101}, 'raw client connected again');
fault(drop => {after_frames => 3});
my @fr;
while (my @f = VKStream::Emulator::raw_frame($s, 3)) { push @fr, \@f }
is(scalar @fr, 3, 'three fragments arrive');
is_deeply([map { "$_->[0]/$_->[1]" } @fr], ['0/1', '0/0', '0/0'],
          'text then continuations, none final');
ok($wait->(sub { $e->stats->{open} == 0 }), 'and the connection is gone');

# drip: one event frame written a few bytes at a time.
($s, $head) = $e->raw_ws;
like($head, qr{^HTTP/1\.1 101}, 'raw client for the drip');
my $t0 = time;
$j = fault(drip => {bytes => 7, interval_ms => 10,
                    text => 'кот по капле'});
is($j->{connections}, 1, 'drip applied to one connection');
is($j->{writes}, int(($j->{bytes} + 6) / 7), 'writes of 7 bytes');
($fin, $op, $payload) = VKStream::Emulator::raw_frame($s, 10);
my $took = time - $t0;
is("$fin/$op", '1/1', 'one final text frame');
$m = decode_json($payload);
is($m->{event}{text}, 'кот по капле', 'dripped event text');
is_deeply($m->{event}{tags}, ['cats'], 'dripped event tagged');
cmp_ok($took, '>=', $j->{writes} * 0.01 * 0.8, 'it took the writes');
close $s;
ok($wait->(sub { $e->stats->{open} == 0 }), 'closed after the drip');

# drip with stop_after: part of the frame, silence, then EOF.
($s, $head) = $e->raw_ws;
$t0 = time;
$j = fault(drip => {bytes => 5, interval_ms => 10, stop_after => 20,
                    silent => 1});
is($j->{writes}, 4, 'four writes before the stop');
my $got = raw_read($s, 1e9, 5);
$took = time - $t0;
is(length $got, 20, 'exactly 20 bytes of the frame arrive');
cmp_ok($took, '>=', 0.9, 'the connection stayed open while silent');
cmp_ok($took, '<', 5, 'then EOF');
ok($wait->(sub { $e->stats->{open} == 0 }), 'server counts it closed');

# garbage: a reserved opcode, a binary frame, then bytes that are no frame.
($s, $head) = $e->raw_ws;
fault(garbage => {kind => 'opcode'});
($fin, $op, $payload) = VKStream::Emulator::raw_frame($s, 3);
is("$fin/$op/$payload", '1/3/xxxxxxxx', 'a frame with opcode 3');
$j = fault(garbage => {kind => 'binary', bytes => 100});
is($j->{bytes}, 102, 'binary frame of 100 bytes, 2 bytes of header');
($fin, $op, $payload) = VKStream::Emulator::raw_frame($s, 3);
is("$fin/$op/" . length($payload), '1/2/100', 'a binary frame');
$j = fault(garbage => {});
$got = raw_read($s, $j->{bytes}, 3);
like($got, qr{^HTTP/1\.1 200 OK\r\n}, 'raw bytes: an HTTP answer');
is(length $got, $j->{bytes}, 'all of them');
close $s;
ok($wait->(sub { $e->stats->{open} == 0 }), 'closed after the garbage');

# rules_error: /rules writes fail with 5xx, bare or with a VK envelope.
my $cfg = $e->admin(POST => '/admin/config',
                    {rules_error => {status => 503}});
is($cfg->{rules_error}{status}, 503, 'rules_error set');
my ($code, $body) = $e->api(POST => $e->rules_path,
                            {rule => {value => 'пёс', tag => 'dogs'}});
is($code, 503, 'POST /rules: 503');
ok(!defined $body, 'with a body that is not JSON');
($code, $body) = $e->api(GET => $e->rules_path);
is($code, 200, 'GET /rules still works');
$e->admin(POST => '/admin/config', {rules_error => {status => 500,
    error_code => 1, message => 'Unknown error', methods => ['DELETE']}});
($code, $body) = $e->api(DELETE => $e->rules_path, {tag => 'cats'});
is($code, 500, 'DELETE /rules: 500');
is($body->{error}{error_code}, 1, 'with a VK error code');
($code, $body) = $e->api(POST => $e->rules_path,
                         {rule => {value => 'пёс', tag => 'dogs'}});
is($code, 200, 'POST not in methods: works');
is($e->stats->{counters}{rules_failed}, 2, 'two injected failures counted');
$e->admin(POST => '/admin/config', {rules_error => undef});
($code) = $e->api(DELETE => $e->rules_path, {tag => 'dogs'});
is($code, 200, 'cleared: DELETE works');

# endpoint: getServerUrl hands out another endpoint.
$e->admin(POST => '/admin/config', {endpoint => '127.0.0.1:9'});
($code, $body) = $e->api(GET => '/method/streaming.getServerUrl'
                                 . '?access_token=ft&v=5.199');
is($body->{response}{endpoint}, '127.0.0.1:9', 'endpoint override');
$e->admin(POST => '/admin/config', {endpoint => ''});
($code, $body) = $e->api(GET => '/method/streaming.getServerUrl'
                                 . '?access_token=ft&v=5.199');
is($body->{response}{endpoint}, $e->stream_host, 'and back');

# refuse: new connections are dropped without an answer for a while.
$j = fault(refuse => {seconds => 1});
ok($j->{refuse_until} > time, 'refusing');
my $r = $e->ws_connect;
ok($wait->(sub { $r->{finish} }), 'refused connection ends');
ok(!$r->{tx} && !$r->{handshake}, 'no handshake answer while refusing');
is($e->stats->{counters}{ws_refused}, 1, 'refusal counted');
$wait->(sub { 0 }, 1.1);
$c = connect_ok('after the refusal');

# refuse with mode 503: an HTTP answer instead of a closed socket.
$c->{tx}->finish(1000);
ok($wait->(sub { $c->{finish} && $e->stats->{open} == 0 }), 'closed again');
fault(refuse => {seconds => 1, mode => '503'});
$r = $e->ws_connect;
ok($wait->(sub { $r->{finish} }), 'refused (503) connection ends');
is($r->{handshake}, 503, 'refuse mode 503: HTTP 503');
$wait->(sub { 0 }, 1.1);
$c = connect_ok('after the 503 refusal');

# close: a clean close with the given code.
$j = fault(close => {code => 1001, reason => 'going away'});
is($j->{connections}, 1, 'close applied to one connection');
ok($wait->(sub { $c->{finish} }), 'client sees the close');
is_deeply($c->{finish}, [1001, 'going away'], 'close code and reason');

# refuse with drop_open: the open connection is cut too.
$c = connect_ok('before drop_open');
$j = fault(refuse => {seconds => 0.5, drop_open => \1});
is($j->{connections}, 1, 'drop_open cut one connection');
ok($wait->(sub { $c->{finish} }), 'client sees the cut');
is($c->{finish}[0], 1006, 'abnormal closure (1006) on the client');
$wait->(sub { 0 }, 0.6);
$c = connect_ok('after drop_open');

# A restart with the same --cert-dir keeps the CA (nginx keeps trusting).
my $ca = do { local (@ARGV, $/) = $e->ca; <> };
$e->stop;
ok($wait->(sub { $c->{finish} }), 'client sees the emulator go away');
$e = VKStream::Emulator->new(args => \@args);
is(do { local (@ARGV, $/) = $e->ca; <> }, $ca, 'restart reuses the CA');
$c = connect_ok('after restart');

my $res = HTTP::Tiny->new->post($e->admin_url . '/admin/fault/nope');
is($res->{status}, 404, 'unknown fault: 404');

done_testing;
