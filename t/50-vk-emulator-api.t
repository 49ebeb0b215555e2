# The VK emulator's HTTPS API: start-up, streaming.getServerUrl and /rules
# with their validations, limits and error codes.
use strict;
use warnings;
use utf8;
use Test::More;
use VKStream::Emulator;

binmode(Test::More->builder->$_, ":encoding(UTF-8)")
    for qw(output failure_output todo_output);

my $e = VKStream::Emulator->new(args => ['--token', 'tok-1', '--key', 'k-1',
                                         '--max-rules', 5]);
# The wall time depends on the load of a shared machine: it is only
# reported.  The CPU time bounds what the emulator does at start (no
# key generation or the like on every start).
note(sprintf 'emulator ready after %.3f s wall, %.2f s CPU',
     $e->start_time, $e->start_cpu);
cmp_ok($e->start_cpu, '<', 2, 'emulator needs little CPU to start');
is($e->token, 'tok-1', 'fixed token reported');
is($e->key, 'k-1', 'fixed key reported');
like($e->api_url, qr{^https://127\.0\.0\.1:\d+$}, 'API is HTTPS');
like($e->admin_url, qr{^http://127\.0\.0\.1:\d+$}, 'admin is plain HTTP');
ok(-s $e->ca, 'CA file exists');

# getServerUrl: token checked, endpoint is host:port of the emulator.
my ($st, $j) = $e->api(GET =>
    '/method/streaming.getServerUrl?access_token=tok-1&v=5.199');
is($st, 200, 'getServerUrl answers 200');
is_deeply($j, {response => {endpoint => $e->stream_host, key => 'k-1'}},
          'getServerUrl gives endpoint host:port and key');
($st, $j) = $e->api(GET =>
    '/method/streaming.getServerUrl?access_token=wrong&v=5.199');
is($j->{error}{error_code}, 5, 'wrong token: error 5');
like($j->{error}{error_msg}, qr/authorization failed/, 'error 5 message');
ok(!grep({ $_->{key} eq 'access_token' } @{$j->{error}{request_params}}),
   'token not echoed in request_params');
($st, $j) = $e->api(GET => '/method/streaming.getServerUrl?v=5.199');
is($j->{error}{error_code}, 5, 'missing token: error 5');

# A wrong CA fails verification: the TLS is real.
my $bad = $e->ua('/etc/ssl/certs/ca-certificates.crt');
my $tx = $bad->get($e->api_url . '/rules?key=k-1');
ok($tx->error && !$tx->res->code, 'wrong CA: TLS handshake fails')
    or diag explain $tx->res->code;

# Rules: empty list is null.
($st, $j) = $e->api(GET => '/rules?key=k-1');
is_deeply($j, {code => 200, rules => undef}, 'empty rules are null');
($st, $j) = $e->api(GET => '/rules/?key=k-1');
is($j->{code}, 200, '/rules/ accepted too');

# Key checks.
($st, $j) = $e->api(GET => '/rules');
is($j->{error}{error_code}, 1003, 'missing key: 1003');
is($j->{code}, 400, 'error envelope code 400');
($st, $j) = $e->api(GET => '/rules?key=nope');
is($j->{error}{error_code}, 1004, 'bad key: 1004');

# Add, list, duplicate, delete.
my $r = $e->rules_path;
($st, $j) = $e->api(POST => $r, {rule => {value => 'кот -собака',
                                          tag => 'cats'}});
is_deeply($j, {code => 200}, 'rule added');
($st, $j) = $e->api(GET => $r);
is_deeply($j->{rules}, [{value => 'кот -собака', tag => 'cats'}],
          'rule listed with its value and tag');
($st, $j) = $e->api(POST => $r, {rule => {value => 'пёс', tag => 'cats'}});
is($j->{error}{error_code}, 2001, 'duplicate tag: 2001');
($st, $j) = $e->api(DELETE => $r, {tag => 'dogs'});
is($j->{error}{error_code}, 2002, 'deleting unknown tag: 2002');

# Validations.
my %bad = (
    'wrong method'      => [PUT => $r, {tag => 'x'}, 1001],
    'wrong content type'=> [POST => $r, '{"rule":{"value":"a","tag":"b"}}',
                            1002, content_type => 'text/plain'],
    'bad json'          => [POST => $r, '{"rule":', 2000],
    'rule not object'   => [POST => $r, {rule => 'кот'}, 2000],
    'value not string'  => [POST => $r, {rule => {value => [1], tag => 'v'}},
                            2000],
    'empty value'       => [POST => $r, {rule => {value => '  ', tag => 'e'}},
                            2003],
    'too many keywords' => [POST => $r, {rule => {
                              value => join(' ', map { "w$_" } 1 .. 101),
                              tag => 'many'}}, 2004],
    'unbalanced quotes' => [POST => $r, {rule => {value => '"кот собака',
                                                  tag => 'q'}}, 2005],
    'only minus words'  => [POST => $r, {rule => {value => '-кот -пёс',
                                                  tag => 'neg'}}, 2008],
    'bare minus'        => [POST => $r, {rule => {value => 'кот -',
                                                  tag => 'bm'}}, 2003],
    'no letters'        => [POST => $r, {rule => {value => '!!!',
                                                  tag => 'nl'}}, 2003],
    'value too long'    => [POST => $r, {rule => {value => 'я' x 2049,
                                                  tag => 'long'}}, 2003],
    'tag too long'      => [POST => $r, {rule => {value => 'кот',
                                                  tag => 't' x 257}}, 2003],
    'delete bad json'   => [DELETE => $r, 'nope', 2000],
);
for my $name (sort keys %bad) {
    my ($m, $p, $body, $code, %o) = @{$bad{$name}};
    ($st, $j) = $e->api($m, $p, $body, %o);
    is($j && $j->{error} && $j->{error}{error_code}, $code,
       "$name: $code");
}

# Limits at the edge are accepted: 100 keywords, 4096 bytes, 256-byte tag.
($st, $j) = $e->api(POST => $r, {rule => {
    value => join(' ', map { "w$_" } 1 .. 100), tag => 't' x 256}});
is($j->{code}, 200, '100 keywords and a 256-byte tag accepted');
($st, $j) = $e->api(POST => $r, {rule => {value => 'я' x 2048,
                                          tag => 'long'}});
is($j->{code}, 200, '4096-byte value accepted');

# The rule limit (5 here, from --max-rules): 3 present, 2 more fit.
for my $i (1 .. 2) {
    ($st, $j) = $e->api(POST => $r, {rule => {value => "слово$i",
                                              tag => "n$i"}});
    is($j->{code}, 200, "rule n$i added");
}
($st, $j) = $e->api(POST => $r, {rule => {value => 'лишнее', tag => 'n3'}});
is($j->{error}{error_code}, 2006, 'rule limit: 2006');

# Delete works and the list reflects it.
($st, $j) = $e->api(DELETE => $r, {tag => 'cats'});
is_deeply($j, {code => 200}, 'rule deleted');
($st, $j) = $e->api(GET => $r);
is_deeply([sort map { $_->{tag} } @{$j->{rules}}],
          [sort('t' x 256, 'long', 'n1', 'n2')], 'list after delete');

# Admin: clear, preload foreign rules, matching.
$e->admin(DELETE => '/admin/rules');
($st, $j) = $e->api(GET => $r);
is($j->{rules}, undef, 'admin clear empties the list');
$e->admin(POST => '/admin/rules', {rules => [
    {value => 'кот -собака', tag => 'cats'},
    {value => '"Красная площадь"', tag => 'square'},
    {value => 'музыка концерт', tag => 'gig'}]});
my %m = (
    'Мой КОТ спит'                     => ['cats'],
    'кот и собака'                     => [],
    'котик'                            => [],
    'Гуляли по Красной площади'        => [],
    'Гуляли, красная площадь!'         => ['square'],
    'Концерт: живая музыка<br>и кот'   => ['cats', 'gig'],
    'музыка'                           => [],
);
for my $text (sort keys %m) {
    $j = $e->admin(POST => '/admin/match', {text => $text});
    is_deeply($j->{tags}, $m{$text}, "tags for '$text'");
}

is($e->stats->{counters}{api_auth_failures}, 2, 'auth failures counted');

# The HTTP status of rule errors is configurable: the JSON code decides.
is($e->admin(POST => '/admin/config', {error_status => 200})->{error_status},
   200, 'error_status set');
($st, $j) = $e->api(DELETE => $r, {tag => 'nope'});
is($st, 200, 'error_status 200: HTTP 200');
is($j->{error}{error_code}, 2002, 'error_status 200: still error 2002');
$e->admin(POST => '/admin/config', {error_status => 400});
($st, $j) = $e->api(DELETE => $r, {tag => 'nope'});
is($st, 400, 'error_status back to 400');

# An API failure switched on and off.
$e->admin(POST => '/admin/config', {api_error => 10});
($st, $j) = $e->api(GET =>
    '/method/streaming.getServerUrl?access_token=tok-1&v=5.199');
is($j->{error}{error_code}, 10, 'api_error: getServerUrl fails with 10');
$e->admin(POST => '/admin/config', {api_error => 0});
($st, $j) = $e->api(GET =>
    '/method/streaming.getServerUrl?access_token=tok-1&v=5.199');
is($j->{response}{key}, 'k-1', 'api_error cleared: works again');

# Key rotation: each getServerUrl hands out a new key, the old one is 1004.
$e->admin(POST => '/admin/config', {rotate_key => \1});
($st, $j) = $e->api(GET =>
    '/method/streaming.getServerUrl?access_token=tok-1&v=5.199');
my $k2 = $j->{response}{key};
ok($k2 && $k2 ne 'k-1', 'rotate_key: a new key');
($st, $j) = $e->api(GET => '/rules?key=k-1');
is($j->{error}{error_code}, 1004, 'rotate_key: old key refused');
($st, $j) = $e->api(GET => "/rules?key=$k2");
is($j->{code}, 200, 'rotate_key: new key works, rules kept');
is(scalar @{$j->{rules}}, 3, 'rotate_key: rules survive the new key');
is($e->stats->{key}, $k2, 'stats show the current key');

done_testing;
