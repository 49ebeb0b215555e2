# error_log syslog: while streams transcode and fail.  nginx's syslog
# writer is not thread-safe, so only the event loop may log: the context
# threads queue their lines and the event loop writes them.  Every line
# must arrive as one intact datagram written by the worker's main thread
# (nginx logs the writing thread's id), the media threads' lines included,
# even those logged just before a context ends; no worker crashes; a
# reload leaves the new worker with the eventfds the old one had.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time);
use VKStream::Nginx;
use VKStream::FLV qw(make_flv rtmp_publish_bg);

my $udp = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1:0')
    or die "udp socket: $!";
my $syslog_port = $udp->sockport;
# nothing listens there: the "_bad" rendition fails to connect, again and
# again, from its own thread
my $dead = VKStream::Nginx::free_port();

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    main => "error_log syslog:server=127.0.0.1:$syslog_port,tag=vkstream_t "
            . "info;",
    live => "vkstream on; vkstream_rendition _low; "
            . "vkstream_rendition _bad host=127.0.0.1:$dead;"));

my $tmp = tempdir(CLEANUP => 1);
my @ok = make_flv("$tmp/ok.flv", size => '160x120', fps => 10, gop => 10,
                  duration => 3);
my @long = make_flv("$tmp/long.flv", size => '160x120', fps => 10,
                    gop => 10, duration => 60);
srand(11);
# garbage: video tags of an untranscodable codec (H.263, FLV id 2) with
# random payloads; the decoder thread warns, then the publisher is gone
my @junk = map { [ 9, $_ * 100, "\x22" . join '', map { chr int rand 256 }
                                                      1 .. 200 ] } 0 .. 4;

$n->start;
my ($w) = $n->worker_pids;

my @msgs;       # datagrams as received

# reads what has arrived, waiting up to $timeout for the first datagram
sub pump {
    my ($timeout) = @_;
    my $sel = IO::Select->new($udp);
    while ($sel->can_read($timeout)) {
        my $buf;
        defined $udp->recv($buf, 65536) or last;
        push @msgs, $buf;
        $timeout = 0;
    }
}

sub seen { scalar grep { $_ =~ $_[0] } @msgs }

# waits (on the socket, with a deadline) until $count datagrams match
sub wait_syslog {
    my ($re, $count, $timeout) = @_;
    my $end = time + $timeout;
    pump(0);
    while (seen($re) < $count && time < $end) {
        pump(0.2);
    }
    return seen($re) >= $count;
}

ok(wait_syslog(qr/ vkstream_t: /, 1, 10), "nginx's lines arrive over syslog");

# three ordinary streams and a garbage one at the same time: decoder and
# rendition threads of four contexts log while the event loop does
my @names = qw(s1 s2 s3);
my %pid;
$pid{$_} = rtmp_publish_bg($n->rtmp_port, 'live', $_, \@ok, speed => 2)
    for @names;
$pid{junk} = rtmp_publish_bg($n->rtmp_port, 'live', 'junk', \@junk);

my %status;
my $end = time + 60;
while (keys %status < keys %pid && time < $end) {
    pump(0.2);
    for my $s (keys %pid) {
        next if exists $status{$s};
        $status{$s} = $? if waitpid($pid{$s}, WNOHANG) == $pid{$s};
    }
}
is($status{$_}, 0, "$_: published") for @names, 'junk';

for my $s (@names, 'junk') {
    ok(wait_syslog(qr/vkstream: close "live\/$s"/, 1, 30),
       "$s: the close line arrives");
}
for my $s (@names) {
    # the decoder thread's line
    ok(wait_syslog(qr/\[info\] .*vkstream: "$s": input: video h264 160x120/,
                   1, 30), "$s: the decoder thread's input line arrives");
}
ok(wait_syslog(qr/\[warn\] .*vkstream: "junk": video codec "h263" \(FLV id/,
               1, 30),
   'garbage: the decoder thread\'s warning, logged as its context ends');
ok(wait_syslog(qr/\[error\] .*vkstream: rendition "_bad": connecting to/,
               3, 30),
   'failing rendition: its thread\'s errors arrive');
ok(wait_syslog(qr/vkstream: rendition "_low": publishing \d+x\d+ to the/,
               3, 30),
   'working renditions: their threads\' lines arrive');

# a reload while a context transcodes: the old worker ends it and exits
sub eventfds {
    my ($pid) = @_;
    opendir(my $d, "/proc/$pid/fd") or return undef;
    my @l = grep { defined && /eventfd/ }
            map { readlink "/proc/$pid/fd/$_" } grep { /^\d+$/ } readdir $d;
    return scalar @l;
}
my $efd = eventfds($w);
my $rl = rtmp_publish_bg($n->rtmp_port, 'live', 'rl', \@long);
ok(wait_syslog(qr/vkstream: rendition "_low": publishing/, 4, 30),
   'reload: transcoding');
ok($n->signal('reload'), 'nginx -s reload');
$end = time + 30;
pump(0.2) while kill(0, $w) && time < $end;
ok(!kill(0, $w), 'reload: the old worker exited');
ok(wait_syslog(qr/vkstream: worker exiting, closing "live\/rl"/, 1, 10),
   'reload: its closing line arrives');
kill 'KILL', $rl;
waitpid($rl, 0);
my ($new) = $n->worker_pids;
ok($new && $new != $w, 'reload: a new worker');
SKIP: {
    skip 'cannot read the workers\' fds', 1 unless defined $efd;
    is(eventfds($new), $efd, "the new worker has the old one's eventfds "
                             . "($efd)");
}

# once more, to collect the last lines
ok(wait_syslog(qr/vkstream: close "live\/rl"/, 1, 30),
   'reload: the close line arrives');
pump(0.2);

# every datagram one whole line, from a worker's main thread: syslog's
# header (the master's first lines have no hostname yet), error.log's time
# (nginx keeps it), level, pid#tid, the text
my $line = join '', '\A<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d \S* vkstream_t: ',
                    '(?:\d{4}/\d\d/\d\d \d\d:\d\d:\d\d )?',
                    '\[(\w+)\] (\d+)#(\d+): ([^\n]*)\z';
$line = qr/$line/;
sub first10 { join "\n", grep { defined } @_[0 .. 9] }
my (@bad, @foreign, %vks);
for my $m (@msgs) {
    my (undef, $pid, $tid, $text) = $m =~ $line;
    # a second header inside: lines interleaved
    if (!defined $text || $m =~ /.<\d+>\w{3} [ \d]\d \d\d:/s) {
        push @bad, $m;
        next;
    }
    next unless $text =~ /vkstream/;
    $vks{$text}++;
    my $k = () = $text =~ /vkstream:/g;
    push @bad, $m if $k > 1;
    push @foreign, $m if $tid != $pid;
}
ok(@msgs > 20, scalar(@msgs) . ' datagrams received');
is(scalar @bad, 0, 'every datagram is one intact syslog line')
    or diag(first10(map { "bad: $_" } @bad));
is(scalar @foreign, 0, 'every vkstream line written by the event loop')
    or diag(first10(map { "from a thread: $_" } @foreign));
is(seen(qr/log lines of transcoding threads dropped/), 0,
   'no line dropped');

# the file log has the same vkstream lines
my @file = grep { /vkstream: / } split /\n/, $n->log_text;
my @missing = grep {
    my ($text) = /^\S+ \S+ \[\w+\] \d+#\d+: (.*)$/;
    !defined $text || !$vks{$text};
} @file;
is(scalar @missing, 0, scalar(@file) . ' vkstream lines of error.log all '
                       . 'arrived over syslog')
    or diag(first10(@missing));

unlike($n->log_text, qr/exited on signal|\[alert\]/, 'no crash, no alert');
is(seen(qr/exited on signal|\[alert\]/), 0, 'nor over syslog');

$n->stop;
done_testing;
