package VKStream::Proc;

# What a test reads of a worker process in /proc: its memory and threads,
# and how the kernel schedules them.

use strict;
use warnings;
use Exporter 'import';

our @EXPORT_OK = qw(rss_kb thread_count thread_ids thread_sched can_realtime
                    thread_waits tcp_segments_out);

# A field of /proc/PID/status in kB: RssAnon by default, the process's
# private memory (VmRSS also counts the pages of the shared stream table
# it has touched, which grow with new entries).
sub rss_kb {
    my ($pid, $what) = @_;
    $what //= 'RssAnon';
    open my $f, '<', "/proc/$pid/status" or return 0;
    while (<$f>) { return $1 if /^\Q$what\E:\s+(\d+)/ }
    return 0;
}

sub thread_count {
    my ($pid) = @_;
    my @t = glob("/proc/$pid/task/*");
    return scalar @t;
}

sub thread_ids {
    my ($pid) = @_;
    return map { m{/(\d+)$} ? $1 : () } glob("/proc/$pid/task/*");
}

# How often a thread has gone to sleep on its own (a wait, a blocking
# call): voluntary_ctxt_switches of /proc/PID/task/TID/status, undef if
# it is gone.
sub thread_waits {
    my ($pid, $tid) = @_;
    open my $f, '<', "/proc/$pid/task/$tid/status" or return undef;
    # (a lexical line: callers pass $_, aliased to their thread list)
    while (my $l = <$f>) {
        return $1 if $l =~ /^voluntary_ctxt_switches:\s+(\d+)/;
    }
    return undef;
}

# The TCP connections process pid opened to a port on loopback (its
# client side, as the renditions republish): { local port => data
# segments sent }, from the kernel's own count ("ss -ti"). One send() of
# up to 64 KiB is one segment on loopback (MTU 65536), so this is the
# number of sends that carried data.
sub tcp_segments_out {
    my ($pid, $port) = @_;
    my %segs;
    my $out = `ss -tinpH state established '( dport = :$port )' 2>/dev/null`;
    my $local;
    for my $l (split /\n/, $out) {
        if ($l =~ /^\S/) {
            $local = $l =~ /:(\d+)\s+\S+:\Q$port\E\s.*pid=\Q$pid\E,/
                     ? $1 : undef;
        } elsif (defined $local) {
            $segs{$local} = $l =~ /\bdata_segs_out:(\d+)/ ? $1 : 0;
        }
    }
    return \%segs;
}

my %POLICY = (0 => 'SCHED_OTHER', 2 => 'SCHED_RR', 5 => 'SCHED_IDLE');

# A thread (the process's main one by default) as the kernel schedules it:
# { policy => 'SCHED_RR', rtprio => 1, nice => 0 }, {} if it is gone.
sub thread_sched {
    my ($pid, $tid) = @_;
    open my $f, '<', "/proc/$pid/task/" . ($tid // $pid) . '/stat'
        or return {};
    my ($rest) = <$f> =~ /\)\s(.*)$/s;
    my @f = split ' ', $rest;    # from field 3 (state) on
    return { nice => $f[16], rtprio => $f[37],
             policy => $POLICY{ $f[38] } // $f[38] };
}

# Whether this machine lets root take a real-time policy at all.
sub can_realtime { system('chrt -r 1 true 2>/dev/null') == 0 }

1;
