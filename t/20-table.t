# The stream table's directives and limits: zone size checked by "nginx -t",
# a full table warns once and counts what it could not record, linger.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use VKStream::Nginx;
use VKStream::Media qw(stop_publisher);
use VKStream::API qw(api publish_name wait_until);

sub conf_check {
    my (%o) = @_;
    my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(%o));
    return $n->check;
}

my ($ok, $out) = conf_check(main => 'vkstream_zone 64k;');
ok(!$ok, 'a 64k zone is refused');
like($out, qr/"vkstream_zone" size 64k is too small, at least (\d+)k/,
     'the message names the directive and the minimum');
my ($min) = $out =~ /at least (\d+)k/;

($ok, $out) = conf_check(main => 'vkstream_matches 0;');
ok(!$ok, 'vkstream_matches 0 refused');
like($out, qr/"vkstream_matches" directive must be between 1 and 10000/,
     'message names vkstream_matches');

($ok, $out) = conf_check(main => 'vkstream_linger forever;');
ok(!$ok, 'bad linger refused');
like($out, qr/"vkstream_linger" directive invalid value/, 'names it');

($ok, $out) = conf_check(main => "vkstream_zone ${min}k;");
ok($ok, "the minimum (${min}k) is accepted") or diag($out);

# A table of the minimum size holds at least two streams, not five.
my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    workers => 2,
    main => "vkstream_zone ${min}k; vkstream_linger 3s;"));
$n->start;

my @pids = map { publish_name($n, 'live', "full$_", duration => 20) } 1 .. 5;
my $st = wait_until(15, sub {
    my (undef, $j) = api($n, 'GET', '/vkstream/status');
    $j && $j->{publishes} == 5 ? $j : undef;
});
ok($st, 'five publishes counted') or diag explain $st;
cmp_ok($st->{streams}{live}, '>=', 2, 'at least two streams recorded');
cmp_ok($st->{streams}{not_recorded}, '>=', 1, 'some not recorded');
is($st->{streams}{live} + $st->{streams}{not_recorded}, 5,
   'recorded + not recorded = published');
my @warn = $n->log_text =~ /\[warn\].*vkstream: stream table full/g;
is(scalar @warn, 1, 'a full table is logged at warn once')
    or diag(scalar @warn);
like($n->log_text, qr/increase "vkstream_zone"/, 'warning names the fix');

my ($m) = api($n, 'GET', '/vkstream/metrics');
like($m->{content},
     qr/^vkstream_streams_not_recorded_total $st->{streams}{not_recorded}$/m,
     'metrics count what was not recorded');

stop_publisher($_) for @pids;

# Ended entries show as "ended" for the linger (3 s), then leave.
my $ended = wait_until(5, sub {
    my (undef, $j) = api($n, 'GET', '/vkstream/streams');
    $j && $j->{count} && !grep({ $_->{state} ne 'ended' } @{ $j->{streams} })
        ? $j : undef;
});
ok($ended, 'closed streams are shown as ended');
ok($ended && $ended->{streams}[0]{end_time}, 'with their end time');
my $gone = wait_until(5, sub {
    my (undef, $j) = api($n, 'GET', '/vkstream/streams');
    $j && $j->{count} == 0;
});
ok($gone, 'and leave the table after the linger');

# Room again: a new stream is recorded.
my $pid = publish_name($n, 'live', 'again', duration => 20);
ok(wait_until(10, sub {
    my ($r) = api($n, 'GET', '/vkstream/streams/live/again');
    $r->{status} == 200;
}), 'a new stream is recorded once there is room');

# A reload keeps the table: new workers still list the stream.  The old
# worker closes its publishers as it exits (README: they reconnect to the
# new workers), so the entry may already read "ended" by then.
my @old = $n->worker_pids;
ok($n->signal('reload'), 'reload');
ok(wait_until(10, sub {
    my ($r, $j) = api($n, 'GET', '/vkstream/streams/live/again');
    my $w = $r->{headers}{'x-vkstream-worker'} // 0;
    $r->{status} == 200 && !grep({ $_ == $w } @old)
        && $j->{name} eq 'again';
}), 'a new worker answers with the stream');
ok(wait_until(5, sub {
    my (undef, $j) = api($n, 'GET', '/vkstream/streams/live/again');
    $j->{state} eq 'ended' && $j->{end_time};
}), 'its end is recorded after the reload');
stop_publisher($pid);

# A worker killed with its publisher: another worker ends the entry.
$pid = publish_name($n, 'live', 'crash', duration => 20);
my $owner = wait_until(10, sub {
    my ($r, $j) = api($n, 'GET', '/vkstream/streams/live/crash');
    $r->{status} == 200 ? $j->{worker_pid} : undef;
});
ok($owner, 'published');
$n->allow_log(qr/worker process $owner exited on signal 9/);
kill 'KILL', $owner;
my $t0 = time;
ok(wait_until(5, sub {
    my (undef, $j) = api($n, 'GET', '/vkstream/streams/live/crash');
    $j->{state} eq 'ended';
}), 'the entry of a killed worker ends');
note(sprintf 'ended %.2f s after the kill', time - $t0);
my ($sr) = api($n, 'GET', '/vkstream/status');
is($sr->{status}, 200, 'the table still answers (no lock left held)');
stop_publisher($pid);

$n->stop;
done_testing;
