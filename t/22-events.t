# GET /events: Server-Sent Events from the shared backlog, with two
# workers: a publish arrives within 1 s, Last-Event-ID resumes without
# loss, a client too far behind is told about the gap.
use strict;
use warnings;
use Test::More;
binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);
use Time::HiRes qw(time sleep);
use VKStream::Nginx;
use VKStream::Media qw(stop_publisher);
use VKStream::API qw(api publish_name wait_until sse_open sse_read);

my $conf = VKStream::Nginx::standard_conf(workers => 2);
$conf =~ s/(listen 127\.0\.0\.1:%%HTTP_PORT%%)/$1 reuseport/;
my $n = VKStream::Nginx->new(conf => $conf);
$n->start;

my $c = sse_open($n, '/vkstream/events');
is($c->{status}, 200, 'GET /events: 200');
like($c->{head}, qr{Content-Type: text/event-stream}i, 'event stream');

# The publish event against the moment the table shows the stream.
my $pid = publish_name($n, 'live', 'ev1');
my ($t_table, $t_event, $ev);
my $end = time + 15;
while (time < $end && !($t_table && $t_event)) {
    if (!$t_event) {
        my @e = sse_read($c, 0.05, 1);
        if (@e && $e[0]{event} eq 'publish') {
            $t_event = time;
            $ev = $e[0];
        }
    }
    if (!$t_table) {
        my ($r) = api($n, 'GET', '/vkstream/streams/live/ev1');
        $t_table = time if $r->{status} == 200;
    }
}
ok($t_event, 'a publish event arrives');
is($ev->{json}{stream}{name}, 'ev1', 'naming the stream');
is($ev->{json}{type}, 'publish', 'type in data');
is($ev->{id}, $ev->{json}{id}, 'SSE id is the event id');
my $lag = ($t_event // 99) - ($t_table // 0);
# Pushed, not found by a later sweep: the worker that wrote the event wakes
# the subscribers' worker.  How fast is measured by make bench (SSE
# latency), not here; the bound only has to hold on a slow, busy machine.
cmp_ok($lag, '<', 5, 'soon after the table showed the stream');
note(sprintf 'publish event %.3f s after the table showed it', $lag);
my $last = $ev->{id};

# More events while the first client is away.
close $c->{sock};
my ($r) = api($n, 'PUT', '/vkstream/streams/live/ev1/keywords',
              '{"keywords":"one"}');
is($r->{status}, 200, 'keywords set');
for my $i (1 .. 5) {
    ($r) = api($n, 'POST', '/vkstream/rules', qq({"tag":"t$i","value":"v"}));
}
($r) = api($n, 'DELETE', '/vkstream/rules/t1');
stop_publisher($pid);
ok(wait_until(5, sub {
    my (undef, $j) = api($n, 'GET', '/vkstream/streams/live/ev1');
    $j->{state} eq 'ended';
}), 'stream ended');

# 1 keywords + 5 rules + 1 rule deletion + 1 unpublish = 8 events, and
# the transcoder's rendition state changes in between
$c = sse_open($n, '/vkstream/events', 'Last-Event-ID' => $last);
my @all_ev = sse_read($c, 3, 0);
is_deeply([map { $_->{id} } @all_ev], [$last + 1 .. $last + @all_ev],
          'Last-Event-ID resumes with every later event, in order');
my @ev = grep { $_->{event} ne 'rendition' } @all_ev;
is_deeply([map { $_->{event} } @ev],
          [qw(keywords rules rules rules rules rules rules unpublish)],
          'event types');
is($ev[0]{json}{rule_state}, 'pending', 'keywords event');
is($ev[1]{json}{tag}, 't1', 'rules event names the tag');
is($ev[6]{json}{state}, 'none', 'rule deletion');
is($ev[7]{json}{stream}{name}, 'ev1', 'unpublish names the stream');
close $c->{sock};

# The query form (EventSource cannot send headers on its first try).
$c = sse_open($n, "/vkstream/events?last_event_id=" . ($ev[6]{id} - 1));
my @q = grep { $_->{event} ne 'rendition' } sse_read($c, 3, 0);
is_deeply([map { $_->{id} } @q], [$ev[6]{id}, $ev[7]{id}], '?last_event_id=');
close $c->{sock};

# Too far behind: the backlog keeps 512 events.
($r) = api($n, 'GET', '/vkstream/status');
for my $i (1 .. 520) {
    # the same tag again: an update, one event each
    api($n, 'POST', '/vkstream/rules', qq({"tag":"spam","value":"v$i"}));
}
my (undef, $st) = api($n, 'GET', '/vkstream/status');
my $newest = $st->{events}{last_id};
$c = sse_open($n, '/vkstream/events', 'Last-Event-ID' => 1);
my @all = sse_read($c, 5, 513);
is($all[0]{event}, 'gap', 'a client too far behind gets a gap event');
is($all[0]{json}{from}, 2, 'from the id after its last');
is($all[1]{id}, $newest - 511, 'then the oldest kept event');
is($all[-1]{id}, $newest, 'up to the newest');
is(scalar @all, 513, 'all 512 kept events');
close $c->{sock};

my %status;
for my $i (1 .. 40) {
    my ($r2, $j2) = api($n, 'POST', '/vkstream/rules',
                        qq({"tag":"b$i","value":"v"}));
    $status{ $r2->{status} }++;
    is($j2->{error}{code}, 'rules_full', 'rules_full') if $i == 40;
}
(undef, $st) = api($n, 'GET', '/vkstream/status');
is($st->{vk}{rules}, 32, 'global rules are bounded (32)');
is($status{409}, 40 - (32 - 5), 'the rest refused with 409');

# An id from before a restart (beyond the newest): the whole backlog.
$c = sse_open($n, '/vkstream/events', 'Last-Event-ID' => 99999999);
@all = sse_read($c, 3, 2);
is($all[0]{event}, 'gap', 'an id from the future starts over');
is($all[0]{json}{from}, 1, 'from the first event');
close $c->{sock};

$c = sse_open($n, '/vkstream/events', 'Last-Event-ID' => 'abc');
is($c->{status}, 400, 'a bad Last-Event-ID: 400');

# Open subscribers do not keep a worker from quitting.
$c = sse_open($n, '/vkstream/events');
my @w = $n->worker_pids;
my $t0 = time;
$n->signal('quit');
ok(wait_until(5, sub { !grep { kill 0, $_ } @w }),
   'workers quit with a subscriber connected');
note(sprintf 'quit took %.2f s', time - $t0);
$n->{started} = 0;
$n->stop;

done_testing;
