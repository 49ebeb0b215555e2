package VKStream::Proc;

# What a test reads of a worker process in /proc: its memory and threads.

use strict;
use warnings;
use Exporter 'import';

our @EXPORT_OK = qw(rss_kb thread_count);

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

1;
