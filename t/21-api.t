# The HTTP control API through a real nginx with two workers: every
# endpoint, every error status, access control, HLS URLs, hostile names.
use strict;
use warnings;
use utf8;
use Test::More;
binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);
use HTTP::Tiny;
use POSIX qw(WNOHANG);
use VKStream::Nginx;
use VKStream::Media qw(stop_publisher);
use VKStream::API qw(api api_on uri_escape publish_name wait_until);

my $TOKEN = 's3cr3t-T0ken-42';

my $conf = VKStream::Nginx::standard_conf(workers => 2, http => <<"HTTP");
        location /hlsv/ { vkstream_api; vkstream_api_hls_variant _low _mid; }
        location /cdn/ {
            vkstream_api;
            vkstream_api_hls_url https://cdn.example.com/live/;
            vkstream_api_hls_variant _low;
        }
        location /secure/ {
            vkstream_api;
            vkstream_api_token $TOKEN;
            vkstream_api_read_auth on;
        }
        location /wo/ { vkstream_api; vkstream_api_token $TOKEN; }
        location /denied/ { vkstream_api; deny all; }
HTTP
# reuseport: the kernel spreads new connections over both workers
$conf =~ s/(listen 127\.0\.0\.1:%%HTTP_PORT%%)/$1 reuseport/;

my $n = VKStream::Nginx->new(conf => $conf);
$n->start;
my $port = $n->http_port;

sub stream_path { '/vkstream/streams/' . uri_escape($_[0]) . '/'
                  . uri_escape($_[1]) }

# --- a stream, seen from both workers ----------------------------------

my $cam = publish_name($n, 'live', 'cam1?vk=%D0%BA%D0%BE%D1%82+и+пёс');
my ($r, $j);
ok(wait_until(15, sub {
    ($r, $j) = api($n, 'GET', '/vkstream/streams/live/cam1');
    $r->{status} == 200;
}), 'published stream appears');
is($j->{name}, 'cam1', 'name (arguments are not part of it)');
is($j->{app}, 'live', 'app');
is($j->{state}, 'live', 'state live');
is($j->{publisher}, '127.0.0.1', 'publisher address');
is($j->{vk}{keywords}, 'кот и пёс', 'keywords from vk=, url-decoded');
is($j->{vk}{rule_state}, 'pending', 'rule pending');
is($j->{vk}{tag}, "vks:s:live/cam1", "stream rule tag (vk/vks_vk_rules.h format)");
is_deeply($j->{renditions}, [], 'no renditions reported yet');
is_deeply($j->{matches}, [], 'no matches yet');
like($r->{headers}{'content-type'}, qr{^application/json; charset=utf-8$},
     'JSON content type');
my $owner = $j->{worker_pid};

my (%seen, $bad);
for (1 .. 30) {
    my ($r2, $j2) = api($n, 'GET', '/vkstream/streams/live/cam1');
    $seen{ $r2->{headers}{'x-vkstream-worker'} // '?' }++;
    $bad++ unless $r2->{status} == 200 && $j2->{id} == $j->{id};
}
my @w = sort { $a <=> $b } $n->worker_pids;
is_deeply([sort { $a <=> $b } keys %seen], \@w,
          'both workers answered') or diag explain \%seen;
ok(!$bad, 'and every answer shows the stream');

($r, $j) = api($n, 'GET', '/vkstream/streams');
is($r->{status}, 200, 'GET /streams');
is($j->{count}, 1, 'one stream');
is($j->{streams}[0]{name}, 'cam1', 'listed');

($r, $j) = api($n, 'GET', '/vkstream/status');
is($r->{status}, 200, 'GET /status');
is($j->{version}, '0.1.0', 'version');
is($j->{streams}{live}, 1, 'one live stream');
cmp_ok($j->{zone}{size}, '>', $j->{zone}{used}, 'zone size and use');
is($j->{zone}{used} + $j->{zone}{free}, $j->{zone}{size}, 'used + free');
is($j->{vk}{state}, 'off', 'VK client off');
($r, $j) = api($n, 'GET', '/vkstream/');
is($r->{status}, 200, 'location root is the status');
cmp_ok($j->{publishes}, '>=', 1, 'counting publishes');
($r) = api($n, 'HEAD', '/vkstream/status');
is($r->{status}, 200, 'HEAD');
is($r->{content} // '', '', 'without a body');

# --- HLS URLs ---------------------------------------------------------------

($r, $j) = api($n, 'GET', '/vkstream/streams/live/cam1');
is($j->{hls}{master}, undef, 'no master playlist without a variant');
($r, $j) = api($n, 'GET', '/hlsv/streams/live/cam1');
is($j->{hls}{master}, "http://127.0.0.1:$port/hls/cam1.m3u8",
   'master playlist from scheme, Host and /hls/');
is_deeply($j->{hls}{playlists},
          { _low => "http://127.0.0.1:$port/hls/cam1_low.m3u8",
            _mid => "http://127.0.0.1:$port/hls/cam1_mid.m3u8" },
          'rendition playlists');
($r, $j) = api($n, 'GET', '/cdn/streams/live/cam1');
is($j->{hls}{master}, 'https://cdn.example.com/live/cam1.m3u8',
   'configured base URL');

# --- matches ----------------------------------------------------------------

($r, $j) = api($n, 'GET', '/vkstream/streams/live/cam1/matches?after=0&limit=5');
is($r->{status}, 200, 'GET matches');
is_deeply($j, { last_id => 0, total => 0, matches => [] }, 'none yet');
($r, $j) = api($n, 'GET', '/vkstream/streams/live/cam1/matches?after=x');
is($r->{status}, 400, 'bad "after": 400');
is($j->{error}{code}, 'bad_argument', 'error code');
($r) = api($n, 'GET', '/vkstream/streams/live/cam1/matches?limit=0');
is($r->{status}, 400, 'limit 0: 400');
($r, $j) = api($n, 'GET', '/vkstream/streams/live/nope/matches');
is($r->{status}, 404, 'matches of an unknown stream: 404');
is($j->{error}{code}, 'stream_not_found', 'error code');
($r, $j) = api($n, 'GET', '/vkstream/matches');
is($r->{status}, 200, 'global matches');
is_deeply($j->{matches}, [], 'none');

# --- keywords and rules -----------------------------------------------------

($r, $j) = api($n, 'GET', '/vkstream/rules');
my $gen = $j->{generation};
is_deeply($j->{stream_rules},
          [{ tag => $j->{stream_rules}[0]{tag}, value => 'кот и пёс',
             stream_id => $j->{stream_rules}[0]{stream_id} }],
          'the stream rule is desired');

($r, $j) = api($n, 'PUT', '/vkstream/streams/live/cam1/keywords',
               '{"keywords":"новости \"в кавычках\""}');
is($r->{status}, 200, 'PUT keywords');
is($j->{vk}{keywords}, 'новости "в кавычках"', 'stored');
($r, $j) = api($n, 'GET', '/vkstream/rules');
is($j->{stream_rules}[0]{value}, 'новости "в кавычках"', 'rule follows');
cmp_ok($j->{generation}, '>', $gen, 'generation moved');

($r, $j) = api($n, 'DELETE', '/vkstream/streams/live/cam1/keywords');
is($r->{status}, 200, 'DELETE keywords');
is($j->{vk}{keywords}, undef, 'cleared');
is($j->{vk}{rule_state}, 'none', 'no rule');
($r, $j) = api($n, 'GET', '/vkstream/rules');
is_deeply($j->{stream_rules}, [], 'no stream rule desired');

($r, $j) = api($n, 'PUT', '/vkstream/streams/live/cam1/keywords', '{"keyw');
is($r->{status}, 400, 'bad JSON: 400');
is($j->{error}{code}, 'bad_json', 'error code bad_json');
($r, $j) = api($n, 'PUT', '/vkstream/streams/live/cam1/keywords',
               '{"keywords":5}');
is($r->{status}, 400, 'bad field: 400');
is($j->{error}{code}, 'bad_field', 'error code bad_field');
($r, $j) = api($n, 'PUT', '/vkstream/streams/live/cam1/keywords',
               '{"keywords":"' . ('x' x 5000) . '"}');
is($r->{status}, 400, 'keywords too long: 400');
($r, $j) = api($n, 'PUT', '/vkstream/streams/live/nope/keywords',
               '{"keywords":"a"}');
is($r->{status}, 404, 'keywords of an unknown stream: 404');
($r, $j) = api($n, 'PUT', '/vkstream/streams/live/cam1/keywords',
               '{"keywords":"' . ('x' x 40000) . '"}');
is($r->{status}, 413, 'body too large: 413');
is($j->{error}{code}, 'body_too_large', 'as JSON');
($r, $j) = api($n, 'POST', '/vkstream/streams/live/cam1/keywords', '{}');
is($r->{status}, 405, 'POST keywords: 405');
is($r->{headers}{allow}, 'PUT, DELETE', 'with Allow');
is($j->{error}{code}, 'method_not_allowed', 'as JSON');

($r, $j) = api($n, 'POST', '/vkstream/rules',
               '{"tag":"news","value":"новости -спорт"}');
is($r->{status}, 201, 'POST /rules: 201');
is_deeply($j, { tag => 'news', value => 'новости -спорт', state => 'pending',
                code => 0, error => undef }, 'the rule');
($r, $j) = api($n, 'POST', '/vkstream/rules', '{"tag":"b","value":"x"}');
($r, $j) = api($n, 'GET', '/vkstream/rules');
is_deeply([map { $_->{tag} } @{ $j->{rules} }], ['news', 'b'],
          'GET /rules lists them');
($r, $j) = api($n, 'GET', '/vkstream/rules/news');
is($j->{value}, 'новости -спорт', 'GET /rules/{tag}');
($r, $j) = api($n, 'POST', '/vkstream/rules', '{"tag":"vks:1","value":"x"}');
is($r->{status}, 400, 'a stream rule tag is refused');
($r, $j) = api($n, 'POST', '/vkstream/rules', '{"tag":"x"}');
is($r->{status}, 400, 'a rule without value is refused');
($r, $j) = api($n, 'POST', '/vkstream/rules', '[1,2]');
is($j->{error}{code}, 'bad_field', 'a non-object body is a bad field');
($r, $j) = api($n, 'DELETE', '/vkstream/rules/news');
is($r->{status}, 200, 'DELETE /rules/{tag}');
is($j->{deleted}, 'news', 'names it');
($r, $j) = api($n, 'DELETE', '/vkstream/rules/news');
is($r->{status}, 404, 'again: 404');
is($j->{error}{code}, 'rule_not_found', 'rule_not_found');
($r, $j) = api($n, 'DELETE', '/vkstream/rules?tag=b');
is($r->{status}, 200, 'DELETE /rules?tag=');
($r, $j) = api($n, 'GET', '/vkstream/rules/b');
is($r->{status}, 404, 'gone');
($r) = api($n, 'PUT', '/vkstream/rules', '{}');
is($r->{status}, 405, 'PUT /rules: 405');
is($r->{headers}{allow}, 'GET, HEAD, POST, DELETE', 'Allow');

# --- control actions, also across workers -------------------------------

my %pub = map { $_ => publish_name($n, 'live', $_) } qw(d1 d2);
my %owner;
ok(wait_until(15, sub {
    for my $s (keys %pub) {
        my ($r2, $j2) = api($n, 'GET', "/vkstream/streams/live/$s");
        $owner{$s} = $j2->{worker_pid} if $r2->{status} == 200;
    }
    keys %owner == 2;
}), 'd1 and d2 published');

# A kept connection: ask which worker it reaches, then act on it.
sub drop_via {
    my ($name, $want_owner) = @_;
    for (1 .. 50) {
        my $ht = HTTP::Tiny->new(timeout => 10, keep_alive => 1);
        my ($r2) = api_on($ht, $n, 'GET', '/vkstream/status');
        my $w = $r2->{headers}{'x-vkstream-worker'};
        next unless ($w == $owner{$name}) == $want_owner;
        return api_on($ht, $n, 'POST', "/vkstream/streams/live/$name/drop");
    }
    return;
}

($r, $j) = drop_via('d1', 0);
is($r->{status}, 202, 'drop from another worker: 202');
is($j->{result}, 'requested', '"requested"');
($r, $j) = drop_via('d2', 1);
is($r->{status}, 200, 'drop from the owning worker: 200');
is($j->{result}, 'done', '"done"');
for my $s (qw(d1 d2)) {
    ok(wait_until(3, sub {
        my (undef, $j2) = api($n, 'GET', "/vkstream/streams/live/$s");
        $j2->{state} eq 'ended';
    }), "$s ended");
    ok(wait_until(5, sub { waitpid($pub{$s}, WNOHANG) == $pub{$s} }),
       "$s publisher disconnected");
}
like($n->log_text, qr/vkstream: drop "live\/d1" requested/, 'drop logged');

($r, $j) = api($n, 'POST', '/vkstream/streams/live/d1/drop');
is($r->{status}, 404, 'drop of an ended stream: 404');
($r, $j) = api($n, 'GET', '/vkstream/streams/live/cam1/drop');
is($r->{status}, 405, 'GET drop: 405');
is($r->{headers}{allow}, 'POST', 'Allow: POST');
($r, $j) = api($n, 'POST', '/vkstream/streams/live/cam1/renditions/_none/restart');
is($r->{status}, 404, 'restart of a rendition not reported: 404');
is($j->{error}{code}, 'rendition_not_found', 'rendition_not_found');
($r, $j) = api($n, 'POST', '/vkstream/streams/live/cam1/renditions/_none/stop');
is($r->{status}, 404, 'stop likewise');
($r, $j) = api($n, 'POST', '/vkstream/streams/live/cam1/renditions/_low/pause');
is($r->{status}, 404, 'unknown action: 404');
is($j->{error}{code}, 'not_found', 'not_found');

($r, $j) = api($n, 'GET', '/vkstream/nothing/here');
is($r->{status}, 404, 'unknown endpoint: 404');
is($j->{error}{code}, 'not_found', 'as JSON');
($r, $j) = api($n, 'GET', '/vkstream/streams/live/..');
is($r->{status}, 400, 'raw ".." segment: 400');
is($j->{error}{code}, 'bad_path', 'bad_path');

# --- access -----------------------------------------------------------------

($r, $j) = api($n, 'GET', '/secure/status');
is($r->{status}, 401, 'read without token: 401');
is($r->{headers}{'www-authenticate'}, 'Bearer realm="vkstream"',
   'WWW-Authenticate');
is($j->{error}{code}, 'unauthorized', 'as JSON');
($r, $j) = api($n, 'GET', '/secure/status', undef,
               { Authorization => "Bearer ${TOKEN}x" });
is($r->{status}, 403, 'wrong token: 403');
($r, $j) = api($n, 'GET', '/secure/status', undef,
               { Authorization => 'Bearer s3cr3t' });
is($r->{status}, 403, 'a prefix of the token: 403');
($r, $j) = api($n, 'GET', '/secure/status', undef,
               { Authorization => "Bearer $TOKEN" });
is($r->{status}, 200, 'right token: 200');
($r) = api($n, 'GET', '/wo/status');
is($r->{status}, 200, 'reads open when only writes need the token');
($r) = api($n, 'POST', '/wo/rules', '{"tag":"t","value":"v"}');
is($r->{status}, 401, 'write without token: 401');
($r) = api($n, 'POST', '/wo/rules', '{"tag":"t","value":"v"}',
           { Authorization => 'Bearer nope' });
is($r->{status}, 403, 'write with a wrong token: 403');
($r) = api($n, 'POST', '/wo/rules', '{"tag":"t","value":"v"}',
           { Authorization => "bearer $TOKEN" });
is($r->{status}, 201, 'write with the token: 201');
($r) = api($n, 'GET', '/denied/status');
is($r->{status}, 403, 'nginx deny still applies');

# --- hostile names ----------------------------------------------------------

stop_publisher($cam);
my @names = ('q"uote', 'a/b', 'привет мир', '..', '../../../tmp/vkx',
             'back\\slash', '<b>&amp;', "'; DROP");
my @pids = map { publish_name($n, 'live', $_, duration => 20) } @names;
my %got;
ok(wait_until(20, sub {
    my (undef, $j2) = api($n, 'GET', '/vkstream/streams');
    %got = map { $_->{name} => $_ } grep { $_->{state} eq 'live' }
           @{ $j2->{streams} // [] };
    !grep { !$got{$_} } @names;
}), 'all hostile names listed, decoded exactly')
    or diag explain [sort keys %got];
for my $name (@names) {
    # nginx resolves dot segments, escaped or not, before choosing the
    # location: a name climbing above it is found with the query form
    if ($name !~ m{\.\./}) {
        ($r, $j) = api($n, 'GET', stream_path('live', $name));
        is($r->{status}, 200, "GET by escaped name: $name");
        is($j->{name}, $name, 'same name back');
    }
    ($r, $j) = api($n, 'GET', '/hlsv/streams?app=live&name='
                               . uri_escape($name));
    is($j->{count}, 1, "found with ?app=&name=: $name");
    $j = $j->{streams}[0];
    is($j->{name}, $name, 'same name back');
    my ($seg) = ($j->{hls}{master} // '') =~ m{/hls/([^/"]+)$};
    ok(defined $seg, "master URL keeps the name in one path segment");
    (my $dec = $seg // '') =~ s/%([0-9A-F]{2})/chr hex $1/ge;
    utf8::decode($dec);
    is($dec, "$name.m3u8", 'which decodes to the name');
}
ok(!-e '/tmp/vkx' && !-e $n->prefix . '/tmp/vkx', 'nothing on the filesystem');

# --- metrics ----------------------------------------------------------------

($r) = api($n, 'GET', '/vkstream/metrics');
is($r->{status}, 200, 'GET /metrics');
like($r->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4},
     'Prometheus content type');
my (%type, %val, @badl);
my $label = qr/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"/;
for my $l (split /\n/, $r->{content}) {
    if ($l =~ /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$/) {
        $type{$1} = $2;
    } elsif ($l =~ /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$/) {
    } elsif ($l =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)((?:\{$label(?:,$label)*\})?) (-?[0-9.]+(?:e[+-]?\d+)?)$/) {
        push @badl, $l unless $type{$1};
        $val{"$1$2"} = $3;
    } else {
        push @badl, $l;
    }
}
is_deeply(\@badl, [], 'every line parses as Prometheus text');
is($val{'vkstream_streams{state="live"}'}, scalar @names,
   'live streams counted');
is($val{'vkstream_vk_connection_state{state="off"}'}, 1, 'VK off');
is($val{'vkstream_vk_rules{kind="global"}'}, 1, 'one global rule');
ok($val{'vkstream_zone_bytes{kind="used"}'} > 0, 'zone bytes used');
is($val{'vkstream_zone_bytes{kind="used"}'}
   + $val{'vkstream_zone_bytes{kind="free"}'},
   $val{'vkstream_zone_bytes{kind="size"}'}, 'used + free = size');

stop_publisher($_) for @pids;

# The token never shows up in a log line.
unlike($n->log_text, qr/\Q$TOKEN\E/, 'token not in error.log');

$n->stop;
done_testing;
