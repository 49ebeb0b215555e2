# The VK client runs in exactly one worker (also after a reload), and a
# CA that does not match fails with a clear log line.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use VKStream::Nginx;
use VKStream::Emulator;
use VKStream::API qw(api publish_name wait_until);
use VKStream::Media qw(stop_publisher);

my $e = VKStream::Emulator->new;

sub conf {
    my ($ca, %o) = @_;
    return VKStream::Nginx::standard_conf(workers => $o{workers} // 2,
        main => join "\n",
        "vkstream_vk_token ${\ $e->token };",
        "vkstream_vk_api ${\ $e->api_url };",
        "vkstream_vk_ca $ca;", $o{extra} // '');
}
sub status { my (undef, $j) = api($_[0], 'GET', '/vkstream/status');
             $j->{vk} }

my $n = VKStream::Nginx->new(conf => conf($e->ca));
$n->start;
ok(wait_until(10, sub { (status($n) // {})->{state} eq 'connected' }),
   'connected with worker_processes 2');
sleep 1;
is($e->stats->{open}, 1, 'exactly one stream connection');
is($e->stats->{counters}{ws_accepted}, 1, 'and only one was ever made');
my @w = $n->worker_pids;
is(scalar @w, 2, 'two workers');
my $old = (grep { $n->log_text =~ /VK client started in worker $_\b/ } @w);
is($old, 1, 'one worker started the client');

# Reload: the old worker stops its thread and exits; the new worker 0
# connects; still one connection.
my $accepted = $e->stats->{counters}{ws_accepted};
$n->signal('reload');
ok(wait_until(10, sub { $e->stats->{counters}{ws_accepted} > $accepted
                        && $e->stats->{open} == 1 }),
   'one connection again after reload');
ok(wait_until(10, sub { !grep { kill 0, $_ } @w }), 'old workers exited');
unlike($n->log_text, qr/did not stop in time|open socket/,
       'the thread stopped in time, nothing left open');
$n->stop;

# A reload with a publisher: the old worker's client stops as soon as the
# worker starts to exit, so the new worker gets the connection quickly (at
# most one refused handshake when it asks before the old connection is
# closed).
$n = VKStream::Nginx->new(conf => conf($e->ca, workers => 1));
$n->start;
ok(wait_until(10, sub { (status($n) // {})->{state} eq 'connected' }),
   'connected with one worker');
my $pub = publish_name($n, 'live', 'keep', duration => 60);
ok(wait_until(15, sub {
    my (undef, $j) = api($n, 'GET', '/vkstream/streams/live/keep');
    $j && $j->{state};
}), 'a publisher holds the worker');
$accepted = $e->stats->{counters}{ws_accepted};
my $rejected = $e->stats->{counters}{ws_rejected} // 0;
$n->signal('reload');
ok(wait_until(5, sub { $e->stats->{counters}{ws_accepted} > $accepted }),
   'the new worker connects within 5 s');
# a refused handshake is followed by one probe that asks why (so two
# refusals), and a probe accepted once the old connection is gone makes
# the client reconnect at once
cmp_ok(($e->stats->{counters}{ws_rejected} // 0) - $rejected, '<=', 2,
       'at most one handshake refused on the way (and its probe)');
ok(wait_until(3, sub { (status($n) // {})->{state} eq 'connected'
                       && $e->stats->{open} == 1 }),
   '/status shows the new connection, the only one open');
stop_publisher($pub);
$n->stop;

# A CA that did not sign the emulator's certificate.
my $dir = tempdir('vk-ca-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
system('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
       'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-keyout',
       "$dir/k.pem", '-out', "$dir/ca.pem", '-subj', '/CN=other CA') == 0
    or die "openssl failed";
chmod 0644, "$dir/ca.pem";
$n = VKStream::Nginx->new(conf => conf("$dir/ca.pem"));
$n->start;
ok($n->wait_log(qr/vkstream: VK getServerUrl failed: TLS handshake failed, is the server.s certificate signed by the CA in \Q$dir\E/, 10),
   'certificate failure logged clearly')
    or diag(join "\n", grep { /vkstream: VK/ } split /\n/, $n->log_text);
ok(wait_until(5, sub { (status($n) // {})->{state} eq 'backoff' }),
   'state backoff');
like(status($n)->{last_error}, qr/certificate/i, 'last_error says why');
$n->stop;

# Verification off: explicit and warned about, then it works.
$n = VKStream::Nginx->new(conf => conf("$dir/ca.pem",
                                       extra => 'vkstream_vk_verify off;'));
$n->start;
ok($n->wait_log(qr/\[warn\].*not verified/, 5), 'verify off warned');
ok(wait_until(10, sub { (status($n) // {})->{state} eq 'connected' }),
   'connects without verification');
$n->stop;

done_testing;
