# A refused write has no effect: with vkstream_api_token, writes without
# the token (401) or with a wrong one (403) are answered and stop there,
# bodiless ones (DELETE, drop, rendition actions) included, and nginx logs
# no second response ("header already sent").
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;
use VKStream::Media qw(stop_publisher);
use VKStream::API qw(api publish_name wait_until);

my $TOKEN = 'write-auth-token';
my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    http => "location /secure/ { vkstream_api; vkstream_api_token $TOKEN;
                                 vkstream_api_read_auth on; }
             location /wo/ { vkstream_api; vkstream_api_token $TOKEN; }"));
$n->start;

my $ok = { Authorization => "Bearer $TOKEN" };
my $bad = { Authorization => 'Bearer nope' };
my $pid = publish_name($n, 'live', 'cam1?vk=kw', duration => 30);
my ($r, $j);
ok(wait_until(15, sub {
    ($r, $j) = api($n, 'GET', '/wo/streams/live/cam1');
    $r->{status} == 200 && grep { $_->{state} eq 'running' }
                           @{ $j->{renditions} };
}), 'stream live, rendition running');
is($j->{vk}{keywords}, 'kw', 'keywords from the publish');

for my $h ([undef, 401], [$bad, 403]) {
    my ($hdr, $want) = @$h;
    ($r) = api($n, 'DELETE', '/wo/streams/live/cam1/keywords', undef, $hdr);
    is($r->{status}, $want, "DELETE keywords: $want");
    ($r) = api($n, 'PUT', '/wo/streams/live/cam1/keywords',
               '{"keywords":"other"}', $hdr);
    is($r->{status}, $want, "PUT keywords: $want");
    ($r) = api($n, 'POST', '/wo/streams/live/cam1/renditions/_low/stop',
               undef, $hdr);
    is($r->{status}, $want, "rendition stop: $want");
    ($r) = api($n, 'POST', '/wo/streams/live/cam1/drop', undef, $hdr);
    is($r->{status}, $want, "drop: $want");
    ($r) = api($n, 'GET', '/secure/streams/live/cam1', undef, $hdr);
    is($r->{status}, $want, "read with read_auth: $want");
}
sleep 0.5;    # a request that got through would be acted on by now
($r, $j) = api($n, 'GET', '/wo/streams/live/cam1');
is($j->{state}, 'live', 'still live: the drop was not carried out');
is($j->{vk}{keywords}, 'kw', 'keywords unchanged');
is((map { $_->{state} } @{ $j->{renditions} })[0], 'running',
   'rendition not stopped');
unlike($n->log_text, qr/header already sent/, 'no second response logged');
unlike($n->log_text, qr/drop "live\/cam1" requested|stop rendition/,
       'no action logged');

($r) = api($n, 'DELETE', '/wo/streams/live/cam1/keywords', undef, $ok);
is($r->{status}, 200, 'DELETE keywords with the token: 200');
($r, $j) = api($n, 'GET', '/secure/streams/live/cam1', undef, $ok);
is($r->{status}, 200, 'read with the token: 200');
is($j->{vk}{keywords}, undef, 'keywords cleared');

stop_publisher($pid);
$n->stop;
done_testing;
