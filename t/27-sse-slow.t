# GET /events with a subscriber that really stops reading: nginx's socket
# has a small send buffer (listen ... sndbuf=) and the client a small
# receive buffer, so a few KB of events block it; /status counts the
# subscribers whose output waits (events.blocked), and the kernel's socket
# state (ss: unsent bytes) says which ones.  While it is
# blocked, another subscriber on the same worker gets every event in
# order; when it reads again it gets all it missed in order, or a gap
# followed by the newest events when more than the 512 kept ones were
# written; one that stays blocked is closed after the 30 s stall timeout
# and the worker stays healthy; one that reads, too slowly to catch up,
# is not.
use strict;
use warnings;
use Test::More;
binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);
use Time::HiRes qw(time);
use IO::Select;
use Socket qw(SOL_SOCKET SO_RCVBUF);
use IO::Socket::INET;
use VKStream::Nginx;
use VKStream::API qw(api wait_until sse_open sse_read);

plan skip_all => 'needs ss (iproute2)' if system('ss -V >/dev/null 2>&1');

# One worker: every subscriber and every API call on the same worker, so
# an API answer also says the worker finished the wake-up before it.
my $conf = VKStream::Nginx::standard_conf(workers => 1);
$conf =~ s/(listen 127\.0\.0\.1:%%HTTP_PORT%%)/$1 sndbuf=4k/;
my $n = VKStream::Nginx->new(conf => $conf);
$n->start;
my ($worker) = $n->worker_pids;

sub status { my (undef, $j) = api($n, 'GET', '/vkstream/status');
             $j->{events} }

# An event: the same rule again is an update, one event each.
my $serial = 0;
sub event {
    # a new connection each: a kept one waits for delayed ACKs
    my ($r) = api($n, 'POST', '/vkstream/rules',
                  '{"tag":"slow","value":"v' . ++$serial . '"}');
    return $r->{status} =~ /^20[01]$/;
}

# $k events at once, pipelined on one connection: quick whatever the
# machine, so that a blocked client is well within its stall timeout.
sub burst {
    my ($k) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $n->http_port,
                                  Timeout => 10) or die "connect: $!";
    my $req = '';
    for my $j (1 .. $k) {
        my $body = '{"tag":"slow","value":"v' . ++$serial . '"}';
        $req .= "POST /vkstream/rules HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                . 'Content-Length: ' . length($body) . "\r\n"
                . ($j == $k ? "Connection: close\r\n" : '') . "\r\n$body";
    }
    print $s $req;
    my $all = '';
    while (IO::Select->new($s)->can_read(30)) {
        sysread($s, my $d, 65536) or last;
        $all .= $d;
    }
    close $s;
    my $ok = () = $all =~ m{^HTTP/1\.1 20[01] }mg;
    return $ok;
}

# sse_open with SO_RCVBUF set before connect (the window scale is agreed
# on in the handshake).
sub sse_open_small {
    my $s = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!";
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, pack('i', 2048))
        or die "SO_RCVBUF: $!";
    $s->connect(Socket::pack_sockaddr_in($n->http_port,
                                         Socket::inet_aton('127.0.0.1')))
        or die "connect: $!";
    print $s "GET /vkstream/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             . "Accept: text/event-stream\r\n\r\n";
    my $c = { sock => $s, buf => '', raw => '' };
    my $end = time + 10;
    while (time < $end && $c->{raw} !~ /\r\n\r\n/) {
        next unless IO::Select->new($s)->can_read(0.2);
        sysread($s, my $d, 65536) or last;
        $c->{raw} .= $d;
    }
    ($c->{head}, $c->{raw}) = split /\r\n\r\n/, $c->{raw}, 2;
    $c->{raw} //= '';
    ($c->{status}) = ($c->{head} // '') =~ m{^HTTP/1\.\d (\d+)};
    return $c;
}

# One loopback connection as ss shows it: its line (no State column) and
# with -m its skmem line.
sub ss {
    my ($opt, $src, $dst) = @_;
    my $out = `ss $opt state established 2>/dev/null`;
    my ($line) = $out =~ /^(\s*\d+\s+\d+\s+127\.0\.0\.1:$src\s+
                            127\.0\.0\.1:$dst\s.*\n(?:\s+skmem.*\n)?)/mx;
    return $line // '';
}

# nginx's side of a client's connection as the kernel sees it: the send
# buffer is full (a write would not take a byte) and unsent bytes wait.
sub server_side {
    my ($c) = @_;
    my $port = $c->{sock}->sockport;
    my $out = ss('-tnmH', $n->http_port, $port);
    my ($sendq) = $out =~ /^\s*\d+\s+(\d+)\s/m;
    my ($tb, $w) = $out =~ /tb(\d+),f\d+,w(\d+)/;
    return { sendq => $sendq // 0, sndbuf => $tb // 0, queued => $w // 0 };
}

# nginx keeps output for $k subscribers, and the kernel holds bytes the
# clients @c have not taken.  (Not "queued >= send buffer": ACKs that come
# after nginx's last write free some of it while nginx waits for a third
# of the buffer to be free before it writes again.)  It can be true for a
# moment before the clients' windows close: after that, only their
# reading ends it.
sub blocked {
    my ($k, @c) = @_;
    return status()->{blocked} == $k
           && !grep { server_side($_)->{sendq} == 0 } @c;
}

# Where it can be at most: after the last event it read, what the two
# kernels hold (an event is more than 80 bytes) and one batch (32) nginx
# keeps for later.
sub reach {
    my ($c, $after) = @_;
    my $port = $c->{sock}->sockport;
    my $out = ss('-tnH', $port, $n->http_port);
    my ($recvq) = $out =~ /^\s*(\d+)\s/m;
    return $after + int((($recvq // 0) + server_side($c)->{sendq}) / 80) + 32;
}

# The fast subscriber reads on until it has event $id; returns its events.
sub fast_until {
    my ($c, $id) = @_;
    my @ev;
    my $end = time + 30;
    while (time < $end && (!@ev || ($ev[-1]{id} // 0) < $id)) {
        push @ev, sse_read($c, 0.5, 1);
    }
    return @ev;
}

sub contiguous {
    my ($from, $to, @ids) = @_;
    return "@ids" eq join(' ', $from .. $to);
}

my $slow = sse_open_small();
is($slow->{status}, 200, 'slow subscriber: 200');
my $stuck = sse_open_small();
is($stuck->{status}, 200, 'stuck subscriber: 200');
my $fast = sse_open($n, '/vkstream/events');
is($fast->{status}, 200, 'fast subscriber: 200');
ok(wait_until(10, sub { status()->{subscribers} == 3 }),
   '3 subscribers counted');
my $start = status()->{last_id};

# Events until nginx's socket to both stopped clients is full; then one
# more, which nginx can only keep for later: blocked.
my @fast_ev;
my $blocked = 0;
for my $i (1 .. 400) {
    burst(5) == 5 or last;
    push @fast_ev, sse_read($fast, 0.01, 0);
    if (blocked(2, $slow, $stuck)) {
        $blocked = 1;
        last;
    }
}
ok($blocked, "both stopped clients are blocked after $serial events")
    or diag(ss('-tnmH', $n->http_port, $slow->{sock}->sockport));
event();
my $b = status()->{last_id};
note("blocked at event $b, " . ($b - $start) . ' events after subscribing; '
     . join(', ', map { "$_=" . server_side($slow)->{$_} }
            qw(sendq queued sndbuf)));
cmp_ok($b - $start, '<', 400, 'blocked well within the 512 kept events');
push @fast_ev, fast_until($fast, $b);
ok(contiguous($start + 1, $b, map { $_->{id} } @fast_ev),
   'the fast subscriber had every event so far, in order');

# Isolation: while they are blocked, each new event reaches the fast
# subscriber before the next one is written.
my $more = 100;
my ($in_order, $late) = (0, 0);
for my $i (1 .. $more) {
    event();
    my @ev = sse_read($fast, 10, 1);
    $in_order++ if @ev == 1 && $ev[0]{id} == $b + $i
                   && $ev[0]{event} eq 'rules'
                   && $ev[0]{json}{id} == $b + $i;
}
is($in_order, $more, "the fast subscriber got each of $more events while "
   . 'the others were blocked, in order');
my $end_id = $b + $more;
is(status()->{last_id}, $end_id, 'no other event meanwhile');
ok(blocked(2, $slow, $stuck),
   'both are still blocked, and only they: the fast one reads');
is(status()->{subscribers}, 3, 'nobody was dropped');

# The slow client reads again: everything it missed, in order, no gap.
my @slow_ev = sse_read($slow, 30, $end_id - $start);
my @ids = map { $_->{id} // 'gap' } @slow_ev;
ok(contiguous($start + 1, $end_id, @ids),
   'the slow client gets every event it missed, in order ('
   . scalar(@ids) . ')')
    or diag("got @ids[0 .. 4] .. @ids[-3 .. -1]");
is(scalar(grep { $_->{event} eq 'gap' } @slow_ev), 0, 'no gap');
is($slow_ev[-1]{json}{tag}, 'slow', 'the newest event is whole');
event();
my @next = sse_read($slow, 10, 1);
is($next[0]{id}, $end_id + 1, 'then it is live again');
push @fast_ev, sse_read($fast, 10, 1);
ok(wait_until(10, sub { status()->{blocked} == 1 }),
   'no longer blocked (only the stuck one is)');

# Blocked again, then more than the 512 kept events: a gap, then the
# newest ones.
my $from = $end_id + 2;    # the first it has not read
$blocked = 0;
for my $i (1 .. 400) {
    burst(5) == 5 or last;
    sse_read($fast, 0.01, 0);
    if (blocked(2, $slow)) {
        $blocked = 1;
        last;
    }
}
ok($blocked, 'the slow client is blocked again')
    or diag(ss('-tnmH', $n->http_port, $slow->{sock}->sockport));
event();
my $b2 = status()->{last_id};
my $fast_ok = 1;
my $t0 = time;
my ($i, $bound) = (0, 0);
while (1) {
    if ($i % 40 == 0) {
        $bound = reach($slow, $from - 1);
        # the fast one keeps up, in order
        my @ev = fast_until($fast, $b2 + $i);
        $fast_ok = 0 unless $i == 0 || (@ev && $ev[-1]{id} == $b2 + $i);
    }
    last if $b2 + $i >= $bound + 520 || $i > 2000;
    my $k = burst(40);
    $i += $k;
    last if $k != 40;
}
note(sprintf '%d events in %.1f s', $i, time - $t0);
my $newest = status()->{last_id};
is($newest, $b2 + $i, "$i more events written while it was blocked");
cmp_ok($newest - 511, '>', $bound + 1, 'more than the table keeps beyond '
       . 'where it can be');
ok($fast_ok, 'the fast subscriber kept up meanwhile');
ok(blocked(2, $slow), 'the slow client is still blocked');

@slow_ev = ();
my $t_end = time + 30;
while (time < $t_end && (!@slow_ev || ($slow_ev[-1]{id} // 0) < $newest)) {
    push @slow_ev, sse_read($slow, 0.5, 0);
}
my ($gi) = grep { $slow_ev[$_]{event} eq 'gap' } 0 .. $#slow_ev;
ok(defined $gi, 'the slow client gets a gap event')
    or diag(join ' ', map { $_->{id} // $_->{event} } @slow_ev);
$gi //= 0;
my $gap = $slow_ev[$gi];
is(scalar(grep { $_->{event} eq 'gap' } @slow_ev), 1, 'one gap event');
ok(!defined $gap->{id}, 'the gap has no id (it is not an event of the '
   . 'table)');
is_deeply([sort keys %{ $gap->{json} // {} }], [qw(from to)],
          'gap data: {"from":..,"to":..}');
my @before = map { $_->{id} } @slow_ev[0 .. $gi - 1];
my @after = map { $_->{id} } @slow_ev[$gi + 1 .. $#slow_ev];
ok(contiguous($from, $from + @before - 1, @before),
   'before the gap, what it had been sent, in order (' . scalar(@before)
   . ')');
is($gap->{json}{from}, $from + @before, 'the gap starts after the last '
   . 'event it got');
is($gap->{json}{to} + 1, $after[0], 'and ends before the next one');
cmp_ok($after[0], '>=', $newest - 511, 'which is one the table keeps');
cmp_ok($gap->{json}{to}, '>=', $gap->{json}{from}, 'events were lost');
ok(contiguous($after[0], $newest, @after),
   'then every kept event up to the newest, in order ('
   . scalar(@after) . ')');

# The stuck client never read: closed after the stall timeout.
ok($n->wait_log(qr/SSE client stalled, closing/, 60),
   'the stuck client is closed for stalling');
ok(wait_until(10, sub { status()->{subscribers} == 2 }),
   'the subscriber gauge is down by one');
is(status()->{blocked}, 0, 'and no subscriber is blocked now');
my $eof = 0;
my $buf = '';
$t_end = time + 30;
while (time < $t_end) {
    next unless IO::Select->new($stuck->{sock})->can_read(0.5);
    my $got = sysread($stuck->{sock}, my $d, 65536);
    if (!$got) { $eof = 1; last }
    $buf .= $d;
}
ok($eof, 'its connection ends once it reads what was sent');
is(() = $n->log_text =~ /SSE client stalled/g, 1,
   'only that client stalled')
    or diag(join '', grep { /stalled/ } split /^/, $n->log_text);

# The worker is healthy: the others still get events.
event();
my $last = status()->{last_id};
@next = fast_until($fast, $last);
is($next[-1]{id}, $last, 'the fast subscriber still gets events');
@next = sse_read($slow, 10, 1);
is($next[-1]{id}, $last, 'and the slow one too');
my ($r) = api($n, 'GET', '/vkstream/status');
is($r->{status}, 200, 'status: 200');
is_deeply([$n->worker_pids], [$worker], 'the same worker');

# A client that reads, only slower than the events come, stays blocked
# for longer than the stall timeout and is not closed: only one that
# reads nothing for 30 s is.  (nginx sees that it reads only when its
# socket takes more, after the client read a few KB: one that reads much
# slower than here looks the same as one that reads nothing.)
my $trickle = sse_open_small();
is($trickle->{status}, 200, 'trickling subscriber: 200');
ok(wait_until(10, sub { status()->{subscribers} == 3 }),
   '3 subscribers again');
my $t_first = status()->{last_id} + 1;
$blocked = 0;
for my $i (1 .. 400) {
    burst(5) == 5 or last;
    sse_read($_, 0.01, 0) for $fast, $slow;
    if (blocked(1, $trickle)) {
        $blocked = 1;
        last;
    }
}
ok($blocked, 'the trickling client is blocked');
# 45 s: it reads 128 bytes every half second, 3 events come every second
my ($got, $t_events) = (0, 0);
my $t_next = time;
$t_end = time + 45;
while (time < $t_end) {
    if (time >= $t_next) {
        $t_events += burst(3);
        sse_read($_, 0.01, 0) for $fast, $slow;
        $t_next += 1;
    }
    if (IO::Select->new($trickle->{sock})->can_read(0)) {
        my $k = sysread($trickle->{sock}, my $d, 128);
        $got += $k if $k;
        $trickle->{raw} .= $d if $k;
    }
    select(undef, undef, undef, 0.5);
}
note("trickled $got bytes in 45 s, $t_events events meanwhile");
cmp_ok($got, ">", 4096, "it read all along");
my $t_last = status()->{last_id};
my @t_ev = sse_read($trickle, 0, 0);
cmp_ok($t_ev[-1]{id} // 0, '<', $t_last - 32,
       'and never caught up: at ' . ($t_ev[-1]{id} // 'none') . ' of '
       . $t_last);
is(() = $n->log_text =~ /SSE client stalled/g, 1,
   'it was not closed for stalling');
is(status()->{subscribers}, 3, 'still 3 subscribers');
my $t_end2 = time + 30;
while (time < $t_end2 && (!@t_ev || ($t_ev[-1]{id} // 0) < $t_last)) {
    push @t_ev, sse_read($trickle, 0.5, 0);
}
ok(contiguous($t_first, $t_last, map { $_->{id} // 'gap' } @t_ev),
   'then it gets every event, in order (' . scalar(@t_ev) . ')');

close $_->{sock} for $slow, $stuck, $fast, $trickle;
ok(wait_until(10, sub { status()->{subscribers} == 0 }),
   'subscriber gauge back to 0');
is(status()->{blocked}, 0, 'blocked gauge 0');
$n->stop;

done_testing;
