# GET /events fan-out with two workers: many subscribers on both workers
# get every event in order with no gap, whichever worker wrote it (the VK
# client's matches in one worker, API calls in either); a worker looks at
# the table once per batch of events, not once per subscriber, and idle
# subscribers cost no timer wake-up (counted in /status and /metrics).
# Heartbeats come from one timer per worker.
use strict;
use warnings;
use utf8;
use Test::More;
binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);
use Time::HiRes qw(time);
use IO::Select;
use VKStream::Nginx;
use VKStream::Emulator;
use VKStream::API qw(api wait_until sse_open sse_read);

my $e = VKStream::Emulator->new;

sub conf {
    my ($hb) = @_;
    my $conf = VKStream::Nginx::standard_conf(
        workers => 2, main => "vkstream_sse_heartbeat $hb;
            vkstream_vk_token ${\ $e->token };
            vkstream_vk_api ${\ $e->api_url };
            vkstream_vk_ca ${\ $e->ca };");
    $conf =~ s/(listen 127\.0\.0\.1:%%HTTP_PORT%%)/$1 reuseport/;
    return $conf;
}

sub events { my (undef, $j) = api($_[0], 'GET', '/vkstream/status');
             $j->{events} }

# A heartbeat that never comes within the test: any timer wake-up would be
# a poll.
my $n = VKStream::Nginx->new(conf => conf('1h'));
$n->start;
ok(wait_until(10, sub {
    my (undef, $j) = api($n, 'GET', '/vkstream/status');
    ($j->{vk}{state} // '') eq 'connected';
}), 'VK client connected');
my ($vk_pid) = $n->log_text =~ /VK client started in worker (\d+)/;
ok($vk_pid, "the VK client runs in worker $vk_pid");

my ($r) = api($n, 'POST', '/vkstream/rules',
              '{"tag":"fan","value":"кот"}');
is($r->{status}, 201, 'global rule added');
ok(wait_until(10, sub {
    grep { $_->{tag} eq 'vks:g:fan' }
        @{ $e->admin(GET => '/admin/rules')->{rules} // [] }
}), 'the rule reached the emulator');

# Subscribers until both workers have at least 20.
my (@subs, %per);
while (@subs < 300 && (($per{$vk_pid} // 0) < 20
                       || (grep { $_ != $vk_pid } keys %per) == 0
                       || (grep { $_ != $vk_pid && $per{$_} >= 20 }
                           keys %per) == 0))
{
    my $c = sse_open($n, '/vkstream/events');
    last unless ($c->{status} // 0) == 200;
    ($c->{worker}) = $c->{head} =~ /^X-VKStream-Worker: (\d+)/mi;
    $per{ $c->{worker} // 0 }++;
    push @subs, $c;
}
my $nsubs = @subs;
my @others = grep { $_->{worker} != $vk_pid } @subs;
cmp_ok(scalar keys %per, '==', 2, "$nsubs subscribers over both workers ("
       . join(', ', map { "$_: $per{$_}" } sort keys %per) . ')');
cmp_ok(scalar @others, '>=', 20, 'at least 20 on the worker without VK');
ok(wait_until(10, sub { events($n)->{subscribers} == $nsubs }),
   "/status counts $nsubs subscribers");
my $ev0 = events($n);
my $first = $ev0->{last_id} + 1;

# Matches from the VK client's worker, rules from either worker.
for my $i (1 .. 40) {
    $r = $e->admin(POST => '/admin/event',
                   { text => "кот $i", event_url => "https://vk.com/wall-1_$i" });
}
is($r->{delivered}, 1, 'VK events delivered');
for my $i (1 .. 20) {
    api($n, 'POST', '/vkstream/rules', qq({"tag":"r$i","value":"v"}));
}
my $last;
ok(wait_until(10, sub {
    my (undef, $j) = api($n, 'GET', '/vkstream/status');
    $last = $j->{events}{last_id};
    ($j->{vk}{stored} // 0) >= 40 && $last >= $first + 59;
}), 'all 60 events are in the table');

my ($complete, $gaps, $matches_other) = (0, 0, 0);
my @bad;
for my $c (@subs) {
    my @ev;
    my $end = time + 20;
    while (time < $end && (!@ev || ($ev[-1]{id} // 0) < $last)) {
        push @ev, sse_read($c, 0.5, 0);
    }
    $gaps += grep { $_->{event} eq 'gap' } @ev;
    my @ids = map { $_->{id} } grep { $_->{event} ne 'gap' } @ev;
    if ("@ids" eq join(' ', $first .. $last)) {
        $complete++;
    } else {
        push @bad, sprintf 'worker %s: %d ids, %s .. %s', $c->{worker},
            scalar @ids, $ids[0] // '-', $ids[-1] // '-';
    }
    $matches_other++ if $c->{worker} != $vk_pid
        && (grep { $_->{event} eq 'match' } @ev) == 40;
}
is($complete, $nsubs, 'every subscriber got every event, in order')
    or diag(join "\n", @bad[0 .. ($#bad < 4 ? $#bad : 4)]);
is($gaps, 0, 'no gap');
is($matches_other, scalar @others,
   'the VK client\'s matches reach every subscriber on the other worker');

my $ev1 = events($n);
my $batches = $last - $first + 1;
my $woken = $ev1->{wakeups} - $ev0->{wakeups};
cmp_ok($woken, '>', 0, "workers were woken ($woken times)");
cmp_ok($woken, '<=', 2 * $batches,
       "at most once per worker per event ($batches events), "
       . "not once per subscriber");
cmp_ok($ev1->{wake_messages} - $ev0->{wake_messages}, '<=', $batches,
       'at most one wake-up message per event to the other worker');
is($ev1->{timer_wakeups}, 0, 'no timer wake-up for idle or busy '
   . 'subscribers');
is($ev1->{blocked}, 0, 'none of them blocked: they read');
($r) = api($n, 'GET', '/vkstream/metrics');
like($r->{content}, qr/^vkstream_sse_subscribers $nsubs$/m,
     'metrics: subscribers');
like($r->{content}, qr/^vkstream_sse_blocked 0$/m, 'metrics: none blocked');
like($r->{content}, qr/^vkstream_sse_wakeups_total\{cause="timer"\} 0$/m,
     'metrics: no timer wake-ups');
like($r->{content},
     qr/^vkstream_sse_wakeups_total\{cause="event"\} [1-9]\d*$/m,
     'metrics: event wake-ups');

close $_->{sock} for @subs;
ok(wait_until(10, sub { events($n)->{subscribers} == 0 }),
   'closed streams are no longer counted');

# After a reload the new workers' subscribers are woken as well.
my @old = $n->worker_pids;
$n->signal('reload');
ok(wait_until(10, sub { !grep { kill 0, $_ } @old }), 'old workers exited');
my @after;
for (1 .. 10) {
    my $c = sse_open($n, '/vkstream/events');
    push @after, $c if ($c->{status} // 0) == 200;
}
ok(wait_until(10, sub { events($n)->{subscribers} == @after }),
   'subscribers after the reload are counted');
$last = events($n)->{last_id};
api($n, 'POST', '/vkstream/rules', '{"tag":"after","value":"v"}');
my $got = 0;
for my $c (@after) {
    my @ev = sse_read($c, 10, 1);
    $got++ if @ev && $ev[0]{id} == $last + 1 && $ev[0]{event} eq 'rules';
}
is($got, scalar @after, 'each gets the next event after the reload');
close $_->{sock} for @after;
unlike($n->log_text, qr/open socket|\[alert\]|\[crit\]/,
       'nothing left open, no alert');
$n->stop;

# Heartbeats: one timer per worker, several subscribers per wake-up.
$n = VKStream::Nginx->new(conf => conf('1s'));
$n->start;
my @hb = map { sse_open($n, '/vkstream/events') } 1 .. 10;
my %kept;
ok(wait_until(30, sub {
    for my $i (0 .. $#hb) {
        my $s = $hb[$i]{sock};
        while (IO::Select->new($s)->can_read(0.01)) {
            sysread($s, my $d, 65536) or last;
            $hb[$i]{all} .= $d;
        }
        $kept{$i} = () = ($hb[$i]{all} // '') =~ /^: keepalive$/mg;
    }
    !grep { ($kept{$_} // 0) < 3 } 0 .. $#hb;
}), 'every quiet subscriber gets heartbeats');
my $ev = events($n);
my $sent = 0;
$sent += $kept{$_} for keys %kept;
cmp_ok($ev->{timer_wakeups}, '>', 0, 'sent by a timer');
note("$sent heartbeats from $ev->{timer_wakeups} timer wake-ups");
close $_->{sock} for @hb;
$n->stop;

done_testing;
