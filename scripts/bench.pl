#!/usr/bin/perl
# vkstream benchmarks, run by scripts/bench.sh ("make bench"): the module
# against the nginx-rtmp "exec ffmpeg" setup it replaces and against the
# floor program (scripts/bench-floor.c), in one invocation, on loopback.
# Writes build/bench/results.md (and results.json, raw samples).
#
# Every nginx runs in the foreground in its own process group, so it and
# the ffmpeg processes its workers exec are killed as one group; publishers
# are our children.  All of them are stopped on exit, failure or Ctrl-C.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use File::Path qw(make_path remove_tree);
use IO::Socket::INET;
use IO::Select;
use Socket qw(IPPROTO_TCP TCP_NODELAY TCP_QUICKACK);
use HTTP::Tiny;
use JSON::PP;
use POSIX qw(WNOHANG setpgid strftime);
use Time::HiRes qw(sleep time);
use VKStream::Nginx ();

my $ROOT = $VKStream::Nginx::ROOT;
my $B = "$ROOT/build/bench";
my $SRC = "$B/src.flv";
my $FLOOR = "$B/bench-floor";
my $NGINX = '/usr/sbin/nginx';
my $TICK = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
my $PAGE = 4096;
my $GOP = 2;            # seconds, the source's
my $FPS = 30;

# ---- knobs (environment; the list is at the top of scripts/bench.sh) ----

# A numeric knob, checked: a typo must stop the bench before it runs for
# minutes, not crash it in the report.
sub knob {
    my ($name, $default, $min) = @_;
    my $v = $ENV{$name};
    return $default if !defined $v || $v eq '';
    die "bench: $name=$v: not a number\n" unless $v =~ /^\d+(\.\d+)?$/;
    die "bench: $name=$v: at least $min\n" if defined $min && $v < $min;
    return $v + 0;
}

# A list knob: names split on commas or spaces, each one of @known.
sub knob_list {
    my ($name, $default, @known) = @_;
    my $v = $ENV{$name};
    $v = $default if !defined $v || $v !~ /\S/;
    my @l = grep { length } split /[, ]+/, $v;
    my %k = map { $_ => 1 } @known;
    my @bad = grep { !$k{$_} } @l;
    die "bench: $name: unknown " . join(', ', @bad) . ' (known: '
        . join(' ', @known) . ")\n" if @bad && @known;
    return @l;
}

my @SCENARIOS = qw(floor cost startup memory ladder capacity isolation
                   quality vk sse cluster latency);
my $QUICK = $ENV{BENCH_QUICK} ? 1 : 0;
my $RUNS = knob('BENCH_RUNS', $QUICK ? 1 : 3, 1);
my $DUR = knob('BENCH_DURATION', $QUICK ? 16 : 20, 4);
my $CAP_MAX = knob('BENCH_CAP_MAX', $QUICK ? 4 : 16, 1);
# capacity: seconds of steady state per trial, measured from the moment
# every source's _low is flowing (each side's own start-up left out)
my $CAP_STEADY = knob('BENCH_CAP_STEADY', $QUICK ? 20 : 60, 4);
my $CAP_TRIALS = knob('BENCH_CAP_TRIALS', $QUICK ? 1 : 3, 1);
my $CAP_FPS = knob('BENCH_CAP_FPS', 29, 1);
my %ONLY = map { $_ => 1 } knob_list('BENCH_ONLY', '', @SCENARIOS);
my $T_START = time;
die "bench: BENCH_CAP_DURATION is gone: capacity trials now last "
    . "BENCH_CAP_STEADY seconds after every source's output flows\n"
    if defined $ENV{BENCH_CAP_DURATION};

# ---- processes we start, and their cleanup ----

my %NGINX_PGID;     # master pid => prefix
my %PUBLISHERS;     # pid => 1
my $EMU;            # the VK emulator (scenarios 7, 8)
my $REDIS;          # redis-server (scenario 8)
my %SIMS;           # pid => 1: cluster simulators (scenario 8)
my %PIPES;          # pgid => 1: clock source | ffmpeg (scenario 9)
my %SSE_KIDS;       # pid => its pipe: SSE readers (scenario 7b)

sub cleanup {
    if ($EMU) { eval { $EMU->stop }; undef $EMU; }
    for my $pid (keys %SIMS) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
    %SIMS = ();
    for my $pid (keys %PUBLISHERS) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
    %PUBLISHERS = ();
    for my $pg (keys %PIPES) {
        kill 'KILL', -$pg;
        waitpid $pg, 0;
    }
    %PIPES = ();
    kill 'KILL', $_ for keys %SSE_KIDS;
    for my $pid (keys %NGINX_PGID) {
        kill 'TERM', -$pid;
        my $end = time + 3;
        sleep 0.05 while waitpid($pid, WNOHANG) == 0 && time < $end;
        kill 'KILL', -$pid;
        waitpid $pid, 0;
    }
    %NGINX_PGID = ();
    if ($REDIS) { eval { $REDIS->stop }; undef $REDIS; }
}

$SIG{INT} = $SIG{TERM} = $SIG{HUP} = $SIG{PIPE} = sub {
    print STDERR "\nbench: interrupted, stopping everything\n";
    cleanup();
    exit 130;
};
END { my $rc = $?; cleanup(); $? = $rc; }

sub note { printf STDERR "bench [%4.0fs] %s\n", time - $T_START, "@_" }

# ---- statistics ----

sub median {
    my @v = sort { $a <=> $b } grep { defined } @_;
    return undef unless @v;
    return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}

sub pct {
    my ($p, @v) = @_;
    @v = sort { $a <=> $b } @v;
    return undef unless @v;
    my $i = int($p / 100 * @v + 0.5) - 1;
    $i = 0 if $i < 0;
    $i = $#v if $i > $#v;
    return $v[$i];
}

# "median (min-max)" with $d decimals
sub fmt {
    my ($d, @v) = @_;
    @v = grep { defined } @v;
    return 'n/a' unless @v;
    my @s = sort { $a <=> $b } @v;
    my $m = sprintf "%.${d}f", median(@v);
    return $m if @v == 1;
    return sprintf "%s (%.${d}f-%.${d}f)", $m, $s[0], $s[-1];
}

# ---- nginx ----

sub nginx_start {
    my (%o) = @_;
    my $prefix = "$B/run/" . ($o{name} // 'nginx');
    remove_tree($prefix);
    make_path("$prefix/logs", "$prefix/temp", "$prefix/hls", "$prefix/conf",
              "$prefix/src", "$prefix/ll");
    my $rtmp = VKStream::Nginx::free_port();
    my $http = VKStream::Nginx::free_port();
    my $conf = VKStream::Nginx::standard_conf(%o);
    $conf =~ s/worker_connections \d+/worker_connections $o{connections}/
        if $o{connections};
    $conf =~ s/(listen 127\.0\.0\.1:%%HTTP_PORT%%)/$1 reuseport/
        if $o{reuseport};
    my %v = (RTMP_PORT => $rtmp, HTTP_PORT => $http, PREFIX => $prefix,
             MODULE => $o{module} // "$ROOT/build/ngx_vkstream_module.so",
             RTMP_MODULE => $VKStream::Nginx::RTMP_MODULE,
             HLS => "$prefix/hls");
    $conf =~ s/%%(\w+)%%/exists $v{$1} ? $v{$1} : die "no $1"/ge;
    if ($> == 0) {
        # workers (and the ffmpeg they exec) run as nobody
        $conf = "user nobody nogroup;\n$conf";
        chmod 0755, $prefix, "$B/run", $B, "$ROOT/build";
        system('chown', '-R', 'nobody:nogroup', "$prefix/hls",
               "$prefix/temp", "$prefix/src", "$prefix/logs", "$prefix/ll");
    }
    open my $f, '>', "$prefix/conf/nginx.conf" or die $!;
    print $f $conf;
    close $f;
    my $out = `$NGINX -p $prefix/ -c conf/nginx.conf -t 2>&1`;
    die "bench: nginx -t failed:\n$out" if $? != 0;

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        setpgid(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$prefix/logs/stdout.log";
        open STDERR, '>>', "$prefix/logs/stdout.log";
        exec($NGINX, '-p', "$prefix/", '-c', 'conf/nginx.conf',
             '-g', 'daemon off; master_process on;') or POSIX::_exit(127);
    }
    setpgid($pid, $pid);
    $NGINX_PGID{$pid} = $prefix;
    my $n = { pid => $pid, prefix => $prefix, rtmp => $rtmp, http => $http,
              hls => "$prefix/hls" };
    for my $port ($rtmp, $http) {
        my $end = time + 10;
        until (IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")) {
            die "bench: nginx does not listen on $port (see "
                . "$prefix/logs/error.log)\n" if time > $end;
            sleep 0.05;
        }
    }
    return $n;
}

sub nginx_stop {
    my ($n) = @_;
    my $pid = $n->{pid};
    kill 'QUIT', $pid;
    my $end = time + 5;
    sleep 0.05 while waitpid($pid, WNOHANG) == 0 && time < $end;
    kill 'KILL', -$pid;
    waitpid $pid, 0;
    delete $NGINX_PGID{$pid};
    # the exec'd ffmpeg may outlive a killed master: the group goes too
    kill 'KILL', -$pid;
}

# ---- /proc ----

sub proc_stat {
    my ($pid) = @_;
    open my $f, '<', "/proc/$pid/stat" or return;
    my $s = <$f>;
    close $f;
    return unless $s && $s =~ /^\d+ \((.*)\) (.*)$/s;
    my ($comm, $rest) = ($1, $2);
    my @x = split ' ', $rest;
    # fields from 3 (state): ppid=4 pgrp=5 utime=14 stime=15 rss=24
    return { comm => $comm, ppid => $x[1], pgrp => $x[2],
             ticks => $x[11] + $x[12], rss => $x[21] * $PAGE };
}

sub cmdline {
    my ($pid) = @_;
    open my $f, '<', "/proc/$pid/cmdline" or return '';
    local $/;
    my $c = <$f> // '';
    $c =~ s/\0/ /g;
    return $c;
}

# All processes of an nginx's group, classified.
sub group_procs {
    my ($n) = @_;
    my %p;
    opendir my $d, '/proc' or return {};
    for my $pid (grep { /^\d+$/ } readdir $d) {
        my $s = proc_stat($pid) or next;
        next unless $s->{pgrp} == $n->{pid};
        next if $pid == $n->{pid};
        my $kind = $s->{comm} =~ /ffmpeg/ ? 'ffmpeg'
                 : cmdline($pid) =~ /worker process/ ? 'worker' : 'other';
        $p{$pid} = { %$s, kind => $kind };
    }
    return \%p;
}

sub total_cpu_ticks {
    open my $f, '<', '/proc/stat' or return (0, 0);
    my $l = <$f>;
    my @x = split ' ', $l;
    shift @x;
    my $idle = $x[3] + ($x[4] // 0);
    my $all = 0;
    $all += $_ for @x[0 .. 7];
    return ($all, $idle);
}

# ---- media ----

sub publish {
    my ($url, $dur, $src) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$B/publishers.log";
        open STDERR, '>>', "$B/publishers.log";
        exec('ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin',
             '-re', '-stream_loop', '-1', '-i', $src // $SRC, '-t', $dur,
             '-c', 'copy', '-f', 'flv', $url) or POSIX::_exit(127);
    }
    $PUBLISHERS{$pid} = 1;
    return $pid;
}

sub publisher_done {
    my ($pid) = @_;
    return 1 unless $PUBLISHERS{$pid};
    if (waitpid($pid, WNOHANG) != 0) {
        delete $PUBLISHERS{$pid};
        return 1;
    }
    return 0;
}

sub stop_publisher {
    my ($pid) = @_;
    return unless $PUBLISHERS{$pid};
    kill 'INT', $pid;
    my $end = time + 5;
    sleep 0.05 while !publisher_done($pid) && time < $end;
    if ($PUBLISHERS{$pid}) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
        delete $PUBLISHERS{$pid};
    }
}

sub extinf {
    my ($pl) = @_;
    open my $f, '<', $pl or return ();
    my @d;
    while (<$f>) {
        push @d, $1 + 0 if /^#EXTINF:([\d.]+)/;
    }
    return @d;
}

sub sum { my $s = 0; $s += $_ for @_; $s }

# Video packets of a finished copy of a playlist.
sub video_packets {
    my ($pl) = @_;
    return 0 unless -f $pl;
    my $copy = $pl =~ s/\.m3u8$/.bench.m3u8/r;
    open my $in, '<', $pl or return 0;
    open my $out, '>', $copy or return 0;
    my $ended = 0;
    while (<$in>) { $ended = 1 if /ENDLIST/; print $out $_ }
    print $out "#EXT-X-ENDLIST\n" unless $ended;
    close $out;
    my $c = `ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 '$copy' 2>/dev/null`;
    $c =~ /(\d+)/;
    return $1 // 0;
}

# One measured session: publishes $count streams for $dur seconds to
# $app, follows @suffixes' playlists in the hls directory and samples the
# nginx group's CPU and RSS.  Returns what it saw.
sub session {
    my ($n, %o) = @_;
    my $count = $o{count} // 1;
    my $dur = $o{duration} // $DUR;
    my @suffixes = @{ $o{suffixes} // ['_low'] };
    my $app = $o{app} // 'live';
    my $tag = $o{tag} // 's';

    sleep 0.3;
    my $p0 = group_procs($n);
    my %idle_rss = map { $_ => $p0->{$_}{rss} }
                   grep { $p0->{$_}{kind} eq 'worker' } keys %$p0;
    my %last = map { $_ => $p0->{$_} } keys %$p0;
    my %maxrss;
    my ($c0, $i0) = total_cpu_ticks();

    my (@pids, @names);
    my $t0 = time;
    for my $i (1 .. $count) {
        my $name = "$tag$i";
        push @names, $name;
        push @pids, publish("rtmp://127.0.0.1:$n->{rtmp}/$app/$name", $dur);
    }

    # the publisher's first byte: its connection to the RTMP port shows
    # up in /proc/net/tcp (polled every 2 ms, for 3 s at most)
    my $t_conn;
    my $port_hex = sprintf ':%04X ', $n->{rtmp};
    while (time < $t0 + 3) {
        if (open my $f, '<', '/proc/net/tcp') {
            local $/;
            my $tab = <$f>;
            # SYN_SENT or ESTABLISHED, not our port checks' TIME_WAIT
            if ($tab =~ /^\s*\d+: \S+ [0-9A-F]+\Q$port_hex\E0[12] /m) {
                $t_conn = time - $t0;
                last;
            }
        }
        sleep 0.002;
    }

    # per stream and suffix: [wall time, listed media seconds] at each
    # change of the playlist
    my %seen;
    my $next_sample = 0;
    my $end = $t0 + $dur + 10;
    while (time < $end) {
        my $now = time;
        for my $name (@names) {
            for my $sfx (@suffixes) {
                my $pl = "$n->{hls}/$name$sfx.m3u8";
                my @d = extinf($pl);
                next unless @d;
                my $h = $seen{$name}{$sfx} //= [];
                my $s = sum(@d);
                push @$h, [$now - $t0, $s, scalar @d]
                    if !@$h || $h->[-1][2] != @d;
            }
        }
        if ($now >= $next_sample) {
            my $p = group_procs($n);
            for my $pid (keys %$p) {
                $last{$pid} = $p->{$pid};
                $maxrss{$pid} = $p->{$pid}{rss}
                    if ($maxrss{$pid} // 0) < $p->{$pid}{rss};
            }
            $next_sample = $now + 0.25;
        }
        last if !grep { !publisher_done($_) } @pids;
        sleep 0.02;
    }
    my $t_pub_end = time - $t0;
    stop_publisher($_) for @pids;
    my ($c1, $i1) = total_cpu_ticks();

    # let the renditions end (the module flushes, exec'd ffmpeg is killed)
    my $settle = time + 2.5;
    while (time < $settle) {
        my $p = group_procs($n);
        for my $pid (keys %$p) {
            $last{$pid} = $p->{$pid};
        }
        sleep 0.25;
    }

    my %cpu = (worker => 0, ffmpeg => 0, other => 0);
    my %rss_peak = (worker => 0, ffmpeg => 0);
    my $ffmpeg_n = 0;
    for my $pid (keys %last) {
        my $k = $last{$pid}{kind};
        my $base = $p0->{$pid} ? $p0->{$pid}{ticks} : 0;
        $cpu{$k} += ($last{$pid}{ticks} - $base) / $TICK;
        if ($k eq 'worker') {
            my $d = ($maxrss{$pid} // 0) - ($idle_rss{$pid} // 0);
            $rss_peak{worker} += $d if $d > 0;
        } elsif ($k eq 'ffmpeg') {
            $rss_peak{ffmpeg} += $maxrss{$pid} // 0;
            $ffmpeg_n++;
        }
    }

    my %out;
    for my $name (@names) {
        for my $sfx (@suffixes) {
            my $pl = "$n->{hls}/$name$sfx.m3u8";
            my @d = extinf($pl);
            my $h = $seen{$name}{$sfx} // [];
            my $r = { listed => sum(@d), segments => scalar @d,
                      first => @$h ? $h->[0][0] - ($t_conn // 0) : undef,
                      connect => $t_conn };
            # steady-state speed: media listed per wall second between the
            # first and the last listing while the source was live
            my @live = grep { $_->[0] <= $t_pub_end + 0.2 } @$h;
            if (@live >= 3) {
                my ($a, $z) = ($live[0], $live[-1]);
                $r->{speed} = ($z->[1] - $a->[1]) / ($z->[0] - $a->[0])
                    if $z->[0] > $a->[0];
            }
            $r->{frames} = video_packets($pl) if $o{count_frames};
            $out{$name}{$sfx} = $r;
        }
    }

    return { cpu => \%cpu, out => \%out, names => \@names,
             rss => \%rss_peak, ffmpeg_procs => $ffmpeg_n,
             pub_s => $t_pub_end,
             busy => ($c1 - $c0) ? 1 - ($i1 - $i0) / ($c1 - $c0) : 0 };
}

# ---- configurations ----

my $LOW_ARGS = '-c:v libx264 -c:a aac -b:v 256k -b:a 32k '
    . '-vf "scale=480:trunc(ow/a/2)*2" -tune zerolatency -preset veryfast '
    . '-crf 23';

sub exec_seed {
    return "exec /usr/bin/ffmpeg -i rtmp://127.0.0.1:%%RTMP_PORT%%/live/\$name "
        . "$LOW_ARGS -f flv rtmp://127.0.0.1:%%RTMP_PORT%%/hls/\$name_low;";
}

# What a careful user adds: no probing, no input buffering, IDRs where the
# source has them (every 2 s here), no scene cuts, yuv420p.
my $TUNED_IN = $ENV{BENCH_TUNED_IN}
    // '-analyzeduration 2000000';
my $TUNED_OUT = "-pix_fmt yuv420p -force_key_frames source "
    . '-x264-params scenecut=0 -flvflags no_duration_filesize';

sub exec_tuned {
    return "exec /usr/bin/ffmpeg $TUNED_IN "
        . "-i rtmp://127.0.0.1:%%RTMP_PORT%%/live/\$name "
        . "$LOW_ARGS $TUNED_OUT "
        . "-f flv rtmp://127.0.0.1:%%RTMP_PORT%%/hls/\$name_low;";
}

my @CONFIGS = knob_list('BENCH_CONFIGS', 'off module seed tuned',
                        qw(off module seed tuned));
my %CONF = (
    off    => { live => 'vkstream off;' },
    module => { live => 'vkstream on;' },
    seed   => { live => 'vkstream off; ' . exec_seed() },
    tuned  => { live => 'vkstream off; ' . exec_tuned() },
);

# ---- the results ----

my %R;
my @ROWS;        # [scenario, what, figure, goal/ratio]

sub row { push @ROWS, [@_] }

sub want { !%ONLY || $ONLY{$_[0]} }

sub machine {
    my $cpu = `lscpu 2>/dev/null`;
    my ($model) = $cpu =~ /^Model name:\s*(.+)$/m;
    my $cores = `nproc`;
    chomp $cores;
    my $ngx = `$NGINX -v 2>&1`;
    $ngx =~ s/^nginx version: //;
    chomp $ngx;
    my ($ff) = `ffmpeg -version` =~ /^ffmpeg version (\S+)/;
    my $x264 = `dpkg-query -W -f='\${Version}' libx264-dev 2>/dev/null`;
    my $rtmp = `dpkg-query -W -f='\${Version}' libnginx-mod-rtmp 2>/dev/null`;
    my $load = `cat /proc/loadavg`;
    $load = (split ' ', $load)[0];
    return { cpu => $model // 'unknown', cores => $cores, nginx => $ngx,
             ffmpeg => $ff, x264 => $x264, rtmp => $rtmp,
             load => $load,
             date => strftime('%Y-%m-%d %H:%M UTC', gmtime) };
}

# ---- scenario 0: the floor ----

# The floor flat out, and paced at the packets' timestamps (-r) as a live
# source comes: what doing the same work a frame at a time costs itself;
# and paced in batches of vkstream_batch's default (-b), as the module is
# fed.
my $FLOOR_BATCH_MS = 250;

# With the cost scenario, each run of the floor goes right before that
# run's sessions (startup_cost()): this host's speed drifts by tens of
# percent within minutes, and a ratio of runs taken apart would measure
# the drift.
sub floor {
    $R{floor} = [];
    $R{floor_paced} = [];
    $R{floor_batched} = [];
    $R{floor_batch_ms} = $FLOOR_BATCH_MS;
    return if want_cost_runs();
    floor_run() for 1 .. $RUNS;
    floor_rows();
}

sub want_cost_runs {
    return want('cost') || want('startup') || want('memory');
}

sub floor_run {
    note('floor: decode/scale/encode from memory, flat out and paced');
    for my $x ([floor => ''], [floor_paced => '-r '],
               [floor_batched => "-r -b $FLOOR_BATCH_MS "])
    {
        my $o = `$FLOOR $x->[1]$SRC`;
        die "bench: bench-floor failed\n" if $? != 0;
        $o =~ /media_s=([\d.]+) cpu_s=([\d.]+)/ or die "floor: $o";
        push @{ $R{ $x->[0] } }, $2 / $1 * 60;
    }
}

# Each run's own ratio of the module to the floor, when every run of the
# floor went right before that run's sessions; none otherwise.
sub floor_run_ratios {
    my ($module, $floor) = @_;
    return () unless $R{floor_interleaved} && $module && $floor
        && @$module && @$module == @$floor && !grep { !defined } @$module;
    return map { $module->[$_] / $floor->[$_] } 0 .. $#$module;
}

# the module's cost over a floor: with both from the same runs, the median
# of each run's ratio (the drift cancels), else the ratio of the medians
sub floor_ratio {
    my ($module, $floor) = @_;
    return undef unless $module && $floor && @$module && @$floor;
    my @r = floor_run_ratios($module, $floor);
    return median(@r) if @r;
    return median(grep { defined } @$module) / median(@$floor);
}

# A ratio for the report: with per-run ratios, their median (min-max),
# since on this kind of host one run's ratio can be far from the next's.
sub floor_ratio_fmt {
    my ($module, $floor) = @_;
    my @r = floor_run_ratios($module, $floor);
    return fmt(2, @r) if @r;
    my $v = floor_ratio($module, $floor);
    return defined $v ? sprintf('%.2f', $v) : 'n/a';
}

sub floor_rows {
    row('2 cost', 'floor (bench-floor.c, from memory)',
        fmt(2, @{ $R{floor} }) . ' CPU s/min', '');
    row('2 cost', 'floor paced at real time (bench-floor.c -r)',
        fmt(2, @{ $R{floor_paced} }) . ' CPU s/min',
        'the same work a frame at a time, as live')
        if $R{floor_paced};
    row('2 cost', sprintf('floor paced in %d ms batches (bench-floor.c -r '
        . '-b %d)', ($R{floor_batch_ms}) x 2),
        fmt(2, @{ $R{floor_batched} }) . ' CPU s/min',
        'as vkstream_batch feeds the module')
        if $R{floor_batched};
}

# ---- scenarios 1, 2, 6: startup, cost and memory per configuration ----

sub startup_cost {
    my %res;
    # floor() left the floor's runs to this loop
    my $floor = $R{floor} && !@{ $R{floor} };
    for my $run (1 .. $RUNS) {
        floor_run() if $floor;
        for my $c (@CONFIGS) {
            note("startup/cost: $c, run $run/$RUNS, ${DUR}s");
            my $n = nginx_start(name => $c, %{ $CONF{$c} });
            my $s = session($n, tag => "r$run", duration => $DUR,
                            count_frames => $c ne 'off');
            nginx_stop($n);
            my $o = $s->{out}{"r${run}1"}{_low};
            my $cpu = $s->{cpu}{worker} + $s->{cpu}{ffmpeg};
            push @{ $res{$c}{cpu} }, $cpu;
            push @{ $res{$c}{startup} }, $o->{first};
            push @{ $res{$c}{connect} }, $o->{connect};
            push @{ $res{$c}{listed} }, $o->{listed};
            push @{ $res{$c}{fps} }, $o->{listed}
                ? ($o->{frames} // 0) / $o->{listed} : 0;
            push @{ $res{$c}{rss} }, $c eq 'module' ? $s->{rss}{worker}
                                                    : $s->{rss}{ffmpeg};
            note(sprintf "  cpu %.2fs (worker %.2f, ffmpeg %.2f), first "
                 . "_low segment %s s after the publisher's connect (at "
                 . "%.3f s), %.1f s listed, %.1f fps", $cpu,
                 $s->{cpu}{worker}, $s->{cpu}{ffmpeg},
                 defined $o->{first} ? sprintf('%.2f', $o->{first})
                                     : 'never',
                 $o->{connect} // -1, $o->{listed}, $res{$c}{fps}[-1]);
        }
    }
    $res{$_}{dur} = $DUR for keys %res;
    $R{startup_cost} = \%res;
    if ($floor) {
        $R{floor_interleaved} = 1;
        floor_rows();
    }
    startup_cost_rows();
}

# The rows of scenarios 1, 2 and 6 from $R{startup_cost}: only the
# configurations that ran (BENCH_CONFIGS), runs paired index-wise.
sub startup_cost_rows {
    my %res = %{ $R{startup_cost} };

    # startup
    my %label = (module => 'module', seed => 'exec (seed)',
                 tuned => 'exec (tuned)');
    my $goal = $GOP + 0.5;
    # only the configurations BENCH_CONFIGS ran
    my @have = grep { $res{$_} } qw(module seed tuned);
    for my $c (@have) {
        my @v = @{ $res{$c}{startup} };
        my $miss = grep { !defined } @v;
        my $m = median(grep { defined } @v);
        my $verdict = $c eq 'module'
            ? (defined $m && $m <= $goal && !$miss ? "goal <= $goal s: met"
                                                   : "goal <= $goal s: MISSED")
            : '';
        row('1 startup', $label{$c},
            fmt(2, grep { defined } @v) . ' s'
            . ($miss ? " ($miss runs with no segment)" : ''), $verdict);
    }
    my $ms = median(grep { defined } @{ $res{module}{startup} // [] });
    for my $c (grep { $_ ne 'module' } @have) {
        my $e = median(grep { defined } @{ $res{$c}{startup} });
        row('1 startup', "ratio module / $label{$c}",
            defined $ms && $e ? sprintf('%.2f', $ms / $e) : 'n/a', '');
    }

    # cost: CPU s per minute of _low output, above the same publish
    # with transcoding off (index-wise pairs of runs)
    my %per_min;
    # without the "off" runs there is nothing to subtract
    for my $c ($res{off} ? @have : ()) {
        my $pairs = @{ $res{$c}{cpu} } < @{ $res{off}{cpu} }
            ? @{ $res{$c}{cpu} } : @{ $res{off}{cpu} };
        for my $i (0 .. $pairs - 1) {
            my $extra = $res{$c}{cpu}[$i] - $res{off}{cpu}[$i];
            my $out = $res{$c}{listed}[$i];
            push @{ $per_min{$c} }, $out ? $extra / $out * 60 : undef;
        }
        row('2 cost', $label{$c}, fmt(2, @{ $per_min{$c} }) . ' CPU s/min',
            '');
    }
    if ($res{off}) {
        row('2 cost', 'transcoding off (worker CPU for the same publish)',
            fmt(2, map { $_ / ($res{off}{dur} // $DUR) * 60 }
                @{ $res{off}{cpu} })
            . ' CPU s/min', 'subtracted above');
    } else {
        row('2 cost', 'n/a', 'needs "off" in BENCH_CONFIGS', '');
    }
    my $mm = median(@{ $per_min{module} // [] });
    my $fl = median(@{ $R{floor} // [] });
    my $mseed = median(@{ $per_min{seed} // [] });
    my $mtuned = median(@{ $per_min{tuned} // [] });
    if (defined $mm) {
        my $rf = floor_ratio($per_min{module}, $R{floor});
        row('2 cost', 'ratio module / floor',
            floor_ratio_fmt($per_min{module}, $R{floor}),
            defined $rf ? ($rf <= 1.05 ? 'goal <= 1.05: met'
                                       : 'goal <= 1.05: MISSED') : '');
        my $fp = floor_ratio($per_min{module}, $R{floor_paced});
        row('2 cost', 'ratio module / floor paced at real time',
            floor_ratio_fmt($per_min{module}, $R{floor_paced}),
            'where the rest goes')
            if $fp;
        my $fb = floor_ratio($per_min{module}, $R{floor_batched});
        row('2 cost', 'ratio module / floor paced in batches',
            floor_ratio_fmt($per_min{module}, $R{floor_batched}),
            'the same feeding as the module')
            if $fb;
        row('2 cost', 'ratios above',
            'median (min-max) of the runs\' own ratios',
            'each run: floor, then sessions')
            if $R{floor_interleaved} && defined $rf;
        for my $x ([seed => $mseed], [tuned => $mtuned]) {
            my ($c, $v) = @$x;
            next unless $v;
            row('2 cost', "ratio module / $label{$c}",
                sprintf('%.2f', $mm / $v),
                $mm < $v ? 'goal < 1: met' : 'goal < 1: MISSED');
        }
    }
    $R{cost_per_min} = \%per_min;

    # memory
    row('6 memory', 'module: worker RSS added by one context',
        fmt(1, map { $_ / 1048576 } @{ $res{module}{rss} }) . ' MiB', '')
        if $res{module};
    for my $c (grep { $_ ne 'module' } @have) {
        row('6 memory', "$label{$c}: RSS of the exec'd ffmpeg",
            fmt(1, map { $_ / 1048576 } @{ $res{$c}{rss} }) . ' MiB', '');
    }
}

# ---- scenario 3: ladder ----

my $LADDER_MOD = 'vkstream on;
    vkstream_rendition _low;
    vkstream_rendition _hd width=1280 bitrate=1500k audio_bitrate=96k;
    vkstream_rendition _src video=copy audio=copy;';

sub ladder_exec {
    my $u = 'rtmp://127.0.0.1:%%RTMP_PORT%%/hls/$name';
    return 'vkstream off; exec /usr/bin/ffmpeg '
        . "-i rtmp://127.0.0.1:%%RTMP_PORT%%/live/\$name "
        . "-map 0 $LOW_ARGS -f flv ${u}_low "
        . '-map 0 -c:v libx264 -c:a aac -b:v 1500k -b:a 96k '
        . '-tune zerolatency -preset veryfast -crf 23 '
        . "-f flv ${u}_hd "
        . "-map 0 -c copy -f flv ${u}_src;";
}

sub ladder {
    my %res;
    my @sfx = qw(_low _hd _src);
    for my $run (1 .. $RUNS) {
        for my $c (qw(module exec)) {
            note("ladder: $c, run $run/$RUNS, ${DUR}s");
            my $n = nginx_start(name => "ladder-$c",
                                live => $c eq 'module' ? $LADDER_MOD
                                                       : ladder_exec());
            my $s = session($n, tag => "l$run", suffixes => \@sfx,
                            duration => $DUR);
            nginx_stop($n);
            my $o = $s->{out}{"l${run}1"};
            my $listed = $o->{_hd}{listed} || $o->{_low}{listed};
            my $cpu = $s->{cpu}{worker} + $s->{cpu}{ffmpeg};
            my $off = median(@{ $R{startup_cost}{off}{cpu} // [] }) // 0;
            push @{ $res{$c}{cpu} }, $listed
                ? ($cpu - $off) / $listed * 60 : undef;
            push @{ $res{$c}{startup} },
                (sort { $a <=> $b } grep { defined }
                 map { $o->{$_}{first} } @sfx)[-1];
            note(sprintf '  cpu %.2f s, all three listed after %s s', $cpu,
                 $res{$c}{startup}[-1] // 'never');
        }
    }
    $R{ladder} = \%res;
    row('3 ladder', 'module: _low + _hd (1280, 1500k) + _src (copy)',
        fmt(2, @{ $res{module}{cpu} }) . ' CPU s/min; all listed after '
        . fmt(2, @{ $res{module}{startup} }) . ' s', '');
    row('3 ladder', 'exec: one ffmpeg, three outputs',
        fmt(2, @{ $res{exec}{cpu} }) . ' CPU s/min; all listed after '
        . fmt(2, @{ $res{exec}{startup} }) . ' s', '');
    my ($m, $e) = (median(@{ $res{module}{cpu} }),
                   median(@{ $res{exec}{cpu} }));
    row('3 ladder', 'ratio module / exec (CPU)',
        $m && $e ? sprintf('%.2f', $m / $e) : 'n/a',
        $m && $e ? ($m < $e ? 'below exec: met' : 'below exec: MISSED')
                 : '');
}

# ---- scenario 4: capacity ----
#
# N concurrent real-time sources, each transcoded to _low.  A trial waits
# until every source's _low is listed (the side's own start-up: about 2 s
# for the module, 11 s for the exec seed), lets BENCH_CAP_SETTLE seconds
# pass, then measures BENCH_CAP_STEADY seconds of steady state.  A stream
# keeps up when the _low segments listed in that window hold at least
# BENCH_CAP_FPS video frames per wall-clock second (frames of the segments
# listed after the last listing before the window, up to the last listing
# in it, over the time between those two listings: falling behind real
# time and dropping frames both lower it) and its output did not stop (a
# listing within 1.5 x its longest segment + 1 s of the window's end).  A
# count passes when every stream keeps up in each of BENCH_CAP_TRIALS
# trials: a capacity is a claim of sustained real time, and a trial that
# misses shows there is no margin at that count; it also lets a failing
# count stop at its first failing trial, the cheapest rule.

my $CAP_SETTLE = knob('BENCH_CAP_SETTLE', 2 * $GOP, 0);
my $CAP_FLOW_MAX = 60;      # seconds for every output to be listed

sub segments {
    my ($pl) = @_;
    open my $f, '<', $pl or return ();
    my (@s, $d);
    while (<$f>) {
        if (/^#EXTINF:([\d.]+)/) { $d = $1 + 0 }
        elsif (defined $d && /^([^#\s]\S*)/) { push @s, [$1, $d]; undef $d }
    }
    return @s;
}

# Follows the _low playlists of @$names: every segment with the time it
# was first listed (seconds after $t0).
sub follower {
    my ($n, $names, $t0) = @_;
    my %seg = map { $_ => [] } @$names;
    my %seen;
    return sub {
        my $now = time - $t0;
        for my $name (@$names) {
            for my $s (segments("$n->{hls}/${name}_low.m3u8")) {
                next if $seen{$name}{ $s->[0] }++;
                push @{ $seg{$name} }, [$now, @$s];
            }
        }
        return \%seg;
    };
}

# Per-thread scheduler counters (/proc/PID/task/TID/schedstat: ns on the
# CPU, ns waiting in the run queue, timeslices) of an nginx group: the
# worker's event loop (its main thread), its other threads, exec'd ffmpegs.
sub group_schedstat {
    my ($n) = @_;
    my $p = group_procs($n);
    my %t;
    for my $pid (keys %$p) {
        my $k = $p->{$pid}{kind};
        next if $k eq 'other';
        opendir my $d, "/proc/$pid/task" or next;
        for my $tid (grep { /^\d+$/ } readdir $d) {
            open my $f, '<', "/proc/$pid/task/$tid/schedstat" or next;
            my @x = split ' ', (<$f> // '');
            next unless @x >= 3;
            $t{$tid} = { kind => $k ne 'worker' ? $k
                                 : $tid == $pid ? 'loop' : 'threads',
                         run => $x[0], wait => $x[1], slices => $x[2] };
        }
    }
    return { t => time, tasks => \%t };
}

# By kind over the interval: CPU (cores), run-queue wait (thread-seconds
# per second), wait per timeslice (ms), threads.
sub sched_delta {
    my ($x, $y) = @_;
    my $dt = $y->{t} - $x->{t} or return {};
    my %k;
    for my $tid (keys %{ $y->{tasks} }) {
        my ($b, $a) = ($y->{tasks}{$tid}, $x->{tasks}{$tid});
        my $s = $k{ $b->{kind} } //= { run => 0, wait => 0, slices => 0,
                                       threads => 0 };
        $s->{threads}++;
        $s->{$_} += $b->{$_} - ($a ? $a->{$_} : 0) for qw(run wait slices);
    }
    for my $s (values %k) {
        $s->{wait_per_slice_ms} = $s->{slices}
            ? $s->{wait} / $s->{slices} / 1e6 : 0;
        $s->{$_} = $s->{$_} / 1e9 / $dt for qw(run wait);
        $s->{slices} /= $dt;
    }
    return \%k;
}

sub sched_str {
    my ($k) = @_;
    return join '; ', map {
        sprintf '%s %.2f cores, waited %.2f thread-s/s (%.2f ms per '
            . 'slice, %d threads)', $_, $k->{$_}{run}, $k->{$_}{wait},
            $k->{$_}{wait_per_slice_ms}, $k->{$_}{threads}
    } grep { $k->{$_} } qw(loop threads ffmpeg);
}

# Until every stream is listed (or $limit seconds): the time it took.
sub wait_flowing {
    my ($poll, $names, $t0, $limit) = @_;
    while (time < $t0 + $limit) {
        my $seg = $poll->();
        return time - $t0 unless grep { !@{ $seg->{$_} } } @$names;
        sleep 0.05;
    }
    return undef;
}

# Frames per listed segment in the window: one ffprobe of a playlist of
# the window's segments (packet times, binned by the segments' durations).
sub window_frames {
    my ($n, $name, $segs) = @_;
    my $pl = "$n->{hls}/$name.window.m3u8";
    open my $f, '>', $pl or return;
    my $td = 1;
    $td < $_->[2] and $td = int($_->[2] + 1) for @$segs;
    print $f "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:$td\n"
        . "#EXT-X-MEDIA-SEQUENCE:0\n";
    printf $f "#EXTINF:%.3f,\n%s\n", $_->[2], $_->[1] for @$segs;
    print $f "#EXT-X-ENDLIST\n";
    close $f;
    my $cmd = 'ffprobe -v error -select_streams v:0 -show_entries '
        . "packet=pts_time -of csv=p=0 '$pl' 2>/dev/null";
    my @pts = map { /^([\d.]+)/ ? $1 : () } split /\n/, `$cmd`;
    return unless @pts;
    @pts = sort { $a <=> $b } @pts;
    my ($start, $i, @per) = ($pts[0], 0);
    my $edge = $start;
    for my $s (@$segs) {
        $edge += $s->[2];
        my $c = 0;
        $c++, $i++ while $i < @pts && ($pts[$i] < $edge - 0.001
                                       || $s == $segs->[-1]);
        push @per, $c;
    }
    return { frames => scalar @pts, per => \@per };
}

# One stream's output over [$w0, $w1] (seconds of the follower's clock):
# frames of the segments listed after the last listing at or before $w0,
# up to the last listing before $w1, per wall second between those two
# listings; the slowest segment; how long nothing was listed at the end.
# With $cover, the window goes on to the first listing after $w1 (a short
# window, longer segments: the exec seed's are 8.3 s, x264's default GOP).
sub window_stream {
    my ($n, $name, $s, $w0, $w1, $cover) = @_;
    my ($pre) = grep { $_->[0] <= $w0 } reverse @$s;
    $pre //= [$w0];
    my @in = grep { $_->[0] > $pre->[0] && $_->[0] <= $w1 } @$s;
    if ($cover) {
        my ($next) = grep { $_->[0] > $w1 } @$s;
        push @in, $next if $next;
    }
    my $maxdur = $GOP;
    $maxdur < $_->[2] and $maxdur = $_->[2] for @$s;
    my $st = { name => $name, maxdur => $maxdur,
               stall => $w1 - (@in ? $in[-1][0] : $pre->[0]) };
    return $st unless @in;
    my $wall = $in[-1][0] - $pre->[0];
    my $wf = window_frames($n, "${name}_low", \@in) // {};
    $st->{frames} = $wf->{frames} // 0;
    $st->{fps} = $st->{frames} / $wall;
    $st->{speed} = sum(map { $_->[2] } @in) / $wall;
    my ($prev, $min) = ($pre->[0]);
    for my $i (0 .. $#in) {
        my $dt = $in[$i][0] - $prev;
        $prev = $in[$i][0];
        next unless $dt > 0 && defined $wf->{per};
        my $f = $wf->{per}[$i] / $dt;
        $min = $f if !defined $min || $f < $min;
    }
    $st->{seg_fps_min} = $min;
    return $st;
}

# The module's own counters per stream (GET /vkstream/streams): input
# frames and GOPs its queue shed, rendition frames dropped and encoded.
sub module_counters {
    my ($n) = @_;
    my $r = HTTP::Tiny->new(timeout => 5)
        ->get("http://127.0.0.1:$n->{http}/vkstream/streams");
    my $j = $r->{success} ? eval { decode_json($r->{content}) } : undef;
    my %c;
    for my $st (@{ ref $j eq 'HASH' ? $j->{streams} // [] : [] }) {
        next unless ref $st eq 'HASH' && $st->{name};
        my $in = $st->{input} // {};
        my $x = $c{ $st->{name} } = {
            in_dropped => $in->{frames_dropped} // 0,
            gops_dropped => $in->{gops_dropped} // 0, out => 0,
            dropped => 0 };
        for my $rd (@{ $st->{renditions} // [] }) {
            $x->{out} += $rd->{frames_out} // 0;
            $x->{dropped} += $rd->{frames_dropped} // 0;
        }
    }
    return \%c;
}

sub capacity_trial {
    my ($c, $count, $k) = @_;
    note(sprintf 'capacity: %s, %d sources, trial %d of %d: start-up, '
         . '%d s settle, %d s steady', $c, $count, $k, $CAP_TRIALS,
         $CAP_SETTLE, $CAP_STEADY);
    my $load0 = (split ' ', slurp('/proc/loadavg'))[0];
    # segments stay on disk once out of the playlist
    my %conf = %{ $CONF{$c} };
    $conf{live} .= " $ENV{BENCH_CAP_CONF}"
        if $c eq 'module' && $ENV{BENCH_CAP_CONF};
    my $n = nginx_start(name => "cap-$c", %conf,
                        main => $c eq 'module'
                            ? $ENV{BENCH_CAP_MAIN} // '' : '',
                        hls => 'hls_cleanup off;');
    my @names = map { "c$_" } 1 .. $count;
    my $t0 = time;
    my @pids = map {
        publish("rtmp://127.0.0.1:$n->{rtmp}/live/$_",
                $CAP_FLOW_MAX + $CAP_SETTLE + $CAP_STEADY + 30)
    } @names;
    my $poll = follower($n, \@names, $t0);
    my $flow = wait_flowing($poll, \@names, $t0, $CAP_FLOW_MAX);
    my %r = (count => $count, side => $c, trial => $k, load => $load0,
             flow => $flow);
    my ($w0, $w1);
    if (defined $flow) {
        $w0 = $flow + $CAP_SETTLE;
        $w1 = $w0 + $CAP_STEADY;
        while (time < $t0 + $w0) { $poll->(); sleep 0.05 }
        my ($c0, $i0) = total_cpu_ticks();
        my $s0 = group_schedstat($n);
        my $m0 = $c eq 'module' ? module_counters($n) : {};
        while (time < $t0 + $w1) { $poll->(); sleep 0.05 }
        my ($c1, $i1) = total_cpu_ticks();
        my $s1 = group_schedstat($n);
        my $m1 = $c eq 'module' ? module_counters($n) : {};
        for my $name (keys %$m1) {
            my ($x, $y) = ($m0->{$name} // {}, $m1->{$name});
            $r{module}{$name} = { map { $_ => $y->{$_} - ($x->{$_} // 0) }
                                  keys %$y };
        }
        $r{busy} = ($c1 - $c0) ? 1 - ($i1 - $i0) / ($c1 - $c0) : 0;
        $r{sched} = sched_delta($s0, $s1);
        my $p = group_procs($n);
        $r{rss} = sum(map { $_->{rss} } grep { $_->{kind} eq 'worker' }
                      values %$p);
    }
    my $seg = $poll->();
    stop_publisher($_) for @pids;
    nginx_stop($n);
    $r{load_end} = (split ' ', slurp('/proc/loadavg'))[0];

    my ($ok, @why) = (1);
    unless (defined $flow) {
        my @none = grep { !@{ $seg->{$_} } } @names;
        %r = (%r, ok => 0, why => [scalar(@none) . " of $count never "
                                   . "listed within $CAP_FLOW_MAX s"]);
        note("  BEHIND: $r{why}[0]");
        return \%r;
    }
    for my $name (@names) {
        my @s = @{ $seg->{$name} };
        my $st = window_stream($n, $name, $seg->{$name}, $w0, $w1);
        push @{ $r{streams} }, $st;
        if (!defined $st->{fps} || $st->{fps} < $CAP_FPS
            || $st->{stall} > 1.5 * $st->{maxdur} + 1) {
            $ok = 0;
            push @why, sprintf '%s %s fps (speed %s%s)', $name,
                defined $st->{fps} ? sprintf('%.1f', $st->{fps}) : 'n/a',
                defined $st->{speed} ? sprintf('%.2f', $st->{speed}) : 'n/a',
                $st->{stall} > 1.5 * $st->{maxdur} + 1
                    ? sprintf(', nothing listed for %.1f s', $st->{stall})
                    : '';
        }
    }
    my @fps = map { $_->{fps} // 0 } @{ $r{streams} };
    $r{ok} = $ok;
    $r{why} = \@why;
    $r{fps_min} = (sort { $a <=> $b } @fps)[0];
    $r{fps_median} = median(@fps);
    my @mc = values %{ $r{module} // {} };
    $r{shed} = sprintf '; the module shed %d GOPs (%d input frames), '
        . 'dropped %d rendition frames', sum(map { $_->{gops_dropped} } @mc),
        sum(map { $_->{in_dropped} } @mc), sum(map { $_->{dropped} } @mc)
        if @mc;
    note(sprintf '  %s: output flowing after %.1f s; fps per stream median '
         . '%.1f, min %.1f; CPU %.0f%% busy; %s%s',
         $ok ? 'real time' : 'BEHIND', $flow, $r{fps_median}, $r{fps_min},
         100 * $r{busy}, sched_str($r{sched}),
         (@why ? '; ' . join(', ', @why) : '') . ($r{shed} // ''));
    return \%r;
}

# The count to start the search from: the goal's count when the floor was
# measured (0.9 x cores x 60 / floor CPU s per minute), else 8.
sub capacity_start {
    my $s = $ENV{BENCH_CAP_START};
    return knob('BENCH_CAP_START', 1, 1) if defined $s && $s ne '';
    my $fl = median(@{ $R{floor} // [] });
    my $cores = $R{cores} // 1;
    my $g = $fl ? int(0.9 * $cores * 60 / $fl) : 8;
    $g = 1 if $g < 1;
    return $g > $CAP_MAX ? $CAP_MAX : $g;
}

# Search: one trial per count, up by half from the start while it passes,
# then bisection to a passing count next to a failing one (monotone: a
# count above a failing one is not tried); then the passing count's
# remaining trials, one count down whenever one of them fails.  A count
# fails at its first failing trial.
sub capacity_search {
    my ($c, $start) = @_;
    my %t;
    my $try = sub {
        my ($k) = @_;
        my $r = capacity_trial($c, $k, @{ $t{$k} // [] } + 1);
        push @{ $t{$k} }, $r;
        return $r->{ok};
    };
    my ($lo, $hi) = (0, undef);
    my $k = $start;
    while (1) {
        last if defined $hi && $hi - $lo <= 1;
        last if $lo >= $CAP_MAX;
        if ($try->($k)) { $lo = $k } else { $hi = $k }
        $k = !defined $hi
            ? ($k + ($k >= 2 ? int($k / 2) : 1))
            : int(($lo + $hi) / 2);
        $k = $CAP_MAX if $k > $CAP_MAX;
    }
    while ($lo > 0) {
        my $all = 1;
        while (@{ $t{$lo} // [] } < $CAP_TRIALS) {
            next if $try->($lo);
            $all = 0;
            last;
        }
        $all &&= !grep { !$_->{ok} } @{ $t{$lo} };
        last if $all;
        $hi = $lo;
        $lo--;
    }
    return { pass => $lo, fail => $hi, trials => \%t };
}

# BENCH_CAP_COUNTS: only these counts, in order, each until a trial fails
# or all BENCH_CAP_TRIALS passed (a diagnosis at a given load, no search).
sub capacity_counts {
    my ($c, @counts) = @_;
    my (%t, $pass, $fail);
    for my $k (@counts) {
        for my $i (1 .. $CAP_TRIALS) {
            my $r = capacity_trial($c, $k, $i);
            push @{ $t{$k} }, $r;
            last unless $r->{ok};
        }
        if (grep { !$_->{ok} } @{ $t{$k} }) {
            $fail = $k if !defined $fail || $k < $fail;
        } else {
            $pass = $k if !defined $pass || $k > $pass;
        }
    }
    return { pass => $pass // 0, fail => $fail, trials => \%t,
             given => 1 };
}

sub capacity {
    my %res;
    $R{cores} //= machine_cores();
    my $start = capacity_start();
    my @counts = knob_list('BENCH_CAP_COUNTS', '');
    die "bench: BENCH_CAP_COUNTS: counts are numbers of 1 or more\n"
        if grep { !/^\d+$/ || $_ < 1 } @counts;
    for my $c (knob_list('BENCH_CAP_SIDES', 'module seed', qw(module seed))) {
        my $t = time;
        $res{$c} = @counts ? capacity_counts($c, @counts)
                           : capacity_search($c, $start);
        $res{$c}{secs} = time - $t;
    }
    $res{steady} = $CAP_STEADY;
    $res{settle} = $CAP_SETTLE;
    $res{trials_per_count} = $CAP_TRIALS;
    $res{fps} = $CAP_FPS;
    $res{conf} = join(' ', grep { $_ } $ENV{BENCH_CAP_MAIN},
                      $ENV{BENCH_CAP_CONF});
    $R{capacity} = \%res;
    capacity_rows();
}

sub machine_cores { my $c = `nproc`; chomp $c; $c || 1 }

sub capacity_rows {
    my %res = %{ $R{capacity} };
    my %label = (module => 'module', seed => 'exec (seed)');
    my $method = sprintf '%d trial%s per count, %d s steady state each after '
        . 'the side\'s own start-up + %d s; every stream >= %s fps',
        $res{trials_per_count}, $res{trials_per_count} > 1 ? 's' : '',
        $res{steady}, $res{settle}, $res{fps};
    for my $c (grep { $res{$_} } qw(module seed)) {
        my $r = $res{$c};
        my $pt = $r->{trials}{ $r->{pass} } // [];
        my $ft = defined $r->{fail} ? $r->{trials}{ $r->{fail} } // [] : [];
        my ($bad) = grep { !$_->{ok} } @$ft;
        my $fig = (defined $r->{fail} ? $r->{pass} : ">= $r->{pass}")
            . ' sources';
        $fig .= sprintf(' (%d trials: fps min %s, CPU %s%% busy, load %s)',
                        scalar @$pt, fmt(1, map { $_->{fps_min} } @$pt),
                        fmt(0, map { 100 * $_->{busy} } @$pt),
                        join('/', map { $_->{load} } @$pt)) if @$pt;
        $fig .= sprintf('; %d failed (%s; CPU %.0f%% busy; %s)',
                        $r->{fail}, join(', ', @{ $bad->{why} }[0 .. (
                            $#{ $bad->{why} } > 2 ? 2 : $#{ $bad->{why} })])
                        . (@{ $bad->{why} } > 3 ? ', ...' : ''),
                        100 * ($bad->{busy} // 0),
                        sched_str($bad->{sched} // {}) . ($bad->{shed} // ''))
            if $bad;
        $fig .= sprintf('; %d trials, %.0f s', sum(map { scalar @$_ }
                        values %{ $r->{trials} }), $r->{secs} // 0);
        $fig .= '; only the counts BENCH_CAP_COUNTS gave: '
            . join(',', sort { $a <=> $b } keys %{ $r->{trials} })
            if $r->{given};
        row('4 capacity', $label{$c}, $fig, $method . ($c eq 'module'
            && $res{conf} ? "; with: $res{conf}" : ''));
        if ($c eq 'module' && @$pt && $r->{pass} > 1 && $pt->[-1]{rss}) {
            row('6 memory', "module: worker RSS per context ($r->{pass} "
                . 'at once)', sprintf('%.1f MiB',
                $pt->[-1]{rss} / $r->{pass} / 1048576), '');
        }
    }
    my ($m, $s) = map { $res{$_} ? $res{$_}{pass} : undef } qw(module seed);
    my $fl = median(@{ $R{floor} // [] });
    if (defined $m) {
        my $cores = $R{cores} // 1;
        my $goal = $fl ? 0.9 * $cores * 60 / $fl : undef;
        row('4 capacity', 'goal: module >= 0.9 x cores x 60 / floor CPU s '
            . 'per minute', defined $goal
            ? sprintf('%d vs %.1f (%d cores, floor %.2f CPU s/min)', $m,
                      $goal, $cores, $fl)
            : 'n/a (the floor was not measured)',
            !defined $goal ? ''
            : $m >= $goal ? 'met'
            : defined $res{module}{fail} ? 'MISSED'
            : 'not known: BENCH_CAP_MAX reached');
    }
    if (defined $m && defined $s) {
        row('4 capacity', 'goal: module >= 1.25 x exec (seed)',
            $s ? sprintf('%d / %d = %.2f', $m, $s, $m / $s)
               : "$m / 0",
            ($s ? $m / $s >= 1.25 : $m > 0) ? 'met'
            : !defined $res{module}{fail} ? 'not known: BENCH_CAP_MAX '
              . 'reached' : 'MISSED');
    }
}

# ---- scenario 5: isolation ----

sub http_get_ms {
    my ($port, $path) = @_;
    my $t = time;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or return (undef, 0);
    print $s "GET $path HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close"
        . "\r\n\r\n";
    my $buf = '';
    while (sysread($s, $buf, 65536, length $buf)) { }
    close $s;
    my ($code) = $buf =~ m{^HTTP/1\.\d (\d+)};
    return ((time - $t) * 1000, $code // 0);
}

# A bare RTMP client: handshake, connect, createStream, play; returns the
# milliseconds from the TCP connect until the server's onStatus
# NetStream.Play.Start (undef on failure).  (Media follows at the
# publisher's pace: audio first, video from the next keyframe.)
sub rtmp_join_ms {
    my ($port, $app, $name) = @_;
    my $t = time;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or return;
    binmode $s;
    setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
    my $sel = IO::Select->new($s);
    my $in = '';
    my $deadline = $t + 5;
    my $need = sub {
        my ($n) = @_;
        while (length $in < $n) {
            return 0 if time > $deadline
                || !$sel->can_read($deadline - time);
            my $r = sysread($s, $in, 65536, length $in);
            return 0 unless $r;
            # ACK at once: nginx-rtmp writes small messages without
            # TCP_NODELAY, a delayed ACK would add 40 ms to the join
            setsockopt($s, IPPROTO_TCP, TCP_QUICKACK, 1);
        }
        return 1;
    };
    my $take = sub { my $x = substr($in, 0, $_[0]); substr($in, 0, $_[0], '');
                     $x };

    my $c1 = pack('NN', 0, 0) . join('', map { chr(int rand 256) }
                                     1 .. 1528);
    syswrite $s, "\x03$c1";
    $need->(1 + 1536 + 1536) or return;
    $take->(1);
    my $s1 = $take->(1536);
    $take->(1536);
    syswrite $s, $s1;
    printf STDERR "join: %.1f ms: handshake\n", (time - $t) * 1000
        if $ENV{BENCH_DEBUG};

    my $amf_str = sub { "\x02" . pack('n', length $_[0]) . $_[0] };
    my $amf_num = sub { "\x00" . pack('d>', $_[0]) };
    my $key = sub { pack('n', length $_[0]) . $_[0] };
    my $chunk = sub {
        my ($csid, $type, $msid, $body) = @_;
        return chr($csid) . "\0\0\0" . substr(pack('N', length $body), 1)
            . chr($type) . pack('V', $msid) . $body;
    };
    my $url = "rtmp://127.0.0.1:$port/$app";
    my $out = $chunk->(2, 1, 0, pack('N', 4096));
    $out .= $chunk->(3, 20, 0, $amf_str->('connect') . $amf_num->(1)
        . "\x03" . $key->('app') . $amf_str->($app)
        . $key->('tcUrl') . $amf_str->($url)
        . $key->('flashVer') . $amf_str->('LNX 9,0,124,2')
        . "\0\0\x09");
    $out .= $chunk->(3, 20, 0, $amf_str->('createStream') . $amf_num->(2)
        . "\x05");
    $out .= $chunk->(8, 20, 1, $amf_str->('play') . $amf_num->(3) . "\x05"
        . $amf_str->($name));
    syswrite $s, $out;

    my $csize = 128;
    my %st;
    for (1 .. 100000) {
        $need->(1) or return;
        my $b = ord $take->(1);
        my ($fmt, $csid) = ($b >> 6, $b & 0x3f);
        if ($csid == 0) { $need->(1) or return; $csid = 64 + ord $take->(1) }
        elsif ($csid == 1) {
            $need->(2) or return;
            my ($x, $y) = unpack 'CC', $take->(2);
            $csid = 64 + $x + 256 * $y;
        }
        my $h = $st{$csid} //= { len => 0, type => 0, got => 0, ext => 0 };
        my $hl = (11, 7, 3, 0)[$fmt];
        $need->($hl) or return;
        my $hdr = $take->($hl);
        my $ts = 0;
        if ($fmt <= 2) {
            $ts = unpack 'N', "\0" . substr($hdr, 0, 3);
        }
        if ($fmt <= 1) {
            $h->{len} = unpack 'N', "\0" . substr($hdr, 3, 3);
            $h->{type} = ord substr($hdr, 6, 1);
        }
        $h->{ext} = $ts == 0xffffff if $fmt <= 2;
        if ($h->{ext}) { $need->(4) or return; $take->(4) }
        my $n = $h->{len} - $h->{got};
        $n = $csize if $n > $csize;
        $need->($n) or return;
        $h->{body} = '' if $h->{got} == 0;
        $h->{body} .= $take->($n);
        $h->{got} += $n;
        next if $h->{got} < $h->{len};
        $h->{got} = 0;
        printf STDERR "join: %.1f ms: type %d, %d bytes\n",
            (time - $t) * 1000, $h->{type}, $h->{len} if $ENV{BENCH_DEBUG};
        if ($h->{type} == 1) {
            $csize = unpack('N', $h->{body}) & 0x7fffffff;
        } elsif ($h->{type} == 20
                 && $h->{body} =~ /NetStream\.Play\.Start/) {
            close $s;
            return (time - $t) * 1000;
        }
    }
    return;
}

# [on-CPU ns, run-queue wait ns] of a thread
sub task_sched {
    my ($pid, $tid) = @_;
    open my $f, '<', "/proc/$pid/task/$tid/schedstat" or return [0, 0];
    my @x = split ' ', (<$f> // '');
    return [$x[0] // 0, $x[1] // 0];
}

# $nh GETs of $path and $nj RTMP play joins, one at a time, each on a new
# connection; $poll (if any) is called every 0.25 s in between.  Each
# request also notes how long the worker's event loop (its main thread)
# and this client waited in the run queue meanwhile, and how long the loop
# ran: where a slow answer's time went.
# The probing client runs at nice BENCH_PROBE_NICE (-10 as root, else
# as it is) and, as root, at SCHED_RR (BENCH_PROBE_SCHED=rr; 'normal'
# leaves the policy): it stands for a client on another machine, and on 2
# shared cores its own run-queue waits were most of the tail it measured,
# even at nice -10 once the event loop itself no longer waited.
my $PROBE_NICE = $ENV{BENCH_PROBE_NICE} // ($> == 0 ? -10 : undef);
die "bench: BENCH_PROBE_NICE=$PROBE_NICE: -20 to 19\n"
    if defined $PROBE_NICE && ($PROBE_NICE !~ /^-?\d+$/
                               || $PROBE_NICE < -20 || $PROBE_NICE > 19);
my $PROBE_SCHED = $ENV{BENCH_PROBE_SCHED} // ($> == 0 ? 'rr' : 'normal');
die "bench: BENCH_PROBE_SCHED=$PROBE_SCHED: rr or normal\n"
    unless $PROBE_SCHED =~ /^(rr|normal)$/;

sub probe_latency {
    my ($n, $path, $label, $poll) = @_;
    my $nice0 = getpriority(0, 0);
    setpriority(0, 0, $PROBE_NICE) if defined $PROBE_NICE;
    # without CAP_SYS_NICE the probe stays as it is, and its row says so
    my $rr = $PROBE_SCHED eq 'rr'
             && system('chrt', '-r', '-p', '1', $$) == 0;
    my $r = probe_latency_at($n, $path, $label, $poll);
    system('chrt', '-o', '-p', '0', $$) if $rr;
    setpriority(0, 0, $nice0) if defined $PROBE_NICE;
    $r->{client_nice} = getpriority(0, 0) if !defined $PROBE_NICE;
    $r->{client_nice} //= $PROBE_NICE;
    $r->{client_sched} = $rr ? 'rr' : 'normal';
    return $r;
}

sub probe_latency_at {
    my ($n, $path, $label, $poll) = @_;
    my (@http, @rtmp);
    my $gp = group_procs($n);
    my ($wpid) = grep { $gp->{$_}{kind} eq 'worker' } keys %$gp;
    my %attr;
    my $measure = sub {
        my ($k, $f) = @_;
        my ($l0, $c0) = ($wpid ? task_sched($wpid, $wpid) : [0, 0],
                         task_sched($$, $$));
        my $ms = $f->();
        my ($l1, $c1) = ($wpid ? task_sched($wpid, $wpid) : [0, 0],
                         task_sched($$, $$));
        push @{ $attr{$k} }, [$ms, ($l1->[1] - $l0->[1]) / 1e6,
                              ($l1->[0] - $l0->[0]) / 1e6,
                              ($c1->[1] - $c0->[1]) / 1e6] if defined $ms;
        return $ms;
    };
    my $nh = $QUICK ? 100 : 300;
    my $nj = $QUICK ? 30 : 100;
    my $next = 0;
    my $tick = sub {
        return unless $poll && time >= $next;
        $poll->();
        $next = time + 0.25;
    };
    for (1 .. $nh) {
        my $ms = $measure->(http => sub {
            (http_get_ms($n->{http}, $path))[0] });
        push @http, $ms if defined $ms;
        $tick->();
        sleep 0.01;
    }
    for (1 .. $nj) {
        my $ms = $measure->(rtmp => sub {
            rtmp_join_ms($n->{rtmp}, 'plain', 'idle') });
        push @rtmp, $ms if defined $ms;
        $tick->();
        sleep 0.05;
    }
    note(sprintf '  %s: HTTP p50 %.2f p99 %.2f ms (%d), join p50 %s p99 %s '
         . 'ms (%d)', $label, pct(50, @http) // -1, pct(99, @http) // -1,
         scalar @http, map({ defined $_ ? sprintf('%.1f', $_) : 'n/a' }
                           pct(50, @rtmp), pct(99, @rtmp)), scalar @rtmp);
    return { http => \@http, rtmp => \@rtmp,
             tail => { map { $_ => tail_attr($attr{$_} // []) }
                       qw(http rtmp) } };
}

# The slowest 2% of requests (at least 2): their median time, and the
# median of what the event loop and the client waited in the run queue
# and the loop ran during each.
sub tail_attr {
    my ($s) = @_;
    my @v = sort { $b->[0] <=> $a->[0] } @$s;
    my $k = int(@v / 50);
    $k = 2 if $k < 2;
    @v = @v[0 .. ($k > @v ? $#v : $k - 1)];
    return {} unless @v;
    return { n => scalar @v, ms => median(map { $_->[0] } @v),
             loop_wait => median(map { $_->[1] } @v),
             loop_run => median(map { $_->[2] } @v),
             client_wait => median(map { $_->[3] } @v) };
}

sub isolation {
    my $load = knob('BENCH_LOAD', $R{capacity} && $R{capacity}{module}
                    && $R{capacity}{module}{fail}
                    ? $R{capacity}{module}{fail} : ($QUICK ? 3 : 10), 1);
    my @sides = knob_list('BENCH_ISO_SIDES', 'module seed', qw(module seed));
    my %res = (load => $load,
               conf => join(' ', grep { $_ } $ENV{BENCH_ISO_MAIN},
                            $ENV{BENCH_ISO_CONF}),
               sides => \@sides);
    my $path;
    for my $run (1 .. $RUNS) {
        for my $c (@sides) {
            note("isolation: $c, run $run/$RUNS, load $load sources");
            my $x = isolation_run($c, $load, \$path);
            for my $w (qw(idle load)) {
                for my $k (qw(http rtmp)) {
                    push @{ $res{$c}{$w}{$k}{$_} },
                        pct($_, @{ $x->{$w}{$k} }) for 50, 99;
                    push @{ $res{$c}{$w}{$k}{n} }, scalar @{ $x->{$w}{$k} };
                }
            }
            push @{ $res{$c}{load}{$_} }, $x->{$_}
                for qw(cpu fps fps_min flow bytes sysload);
            push @{ $res{$c}{load}{sched} }, $x->{sched};
            push @{ $res{$c}{$_}{tail} }, $x->{$_}{tail} for qw(idle load);
            $res{client_nice} = $x->{load}{client_nice};
            $res{client_sched} = $x->{load}{client_sched};
        }
    }
    $res{path} = $path;
    $R{isolation} = \%res;
    isolation_rows();
}

# One side: an idle probe (one plain publish), then $load sources
# transcoding, by the module or by exec'd ffmpegs; the loaded probe starts
# once every _low is listed (the side's own start-up) + 2 s.  The API path
# is the module side's (or the first side's) for both.
sub isolation_run {
    my ($c, $load, $path) = @_;
    my $live = $CONF{$c}{live};
    $live .= ' ' . $ENV{BENCH_ISO_CONF}
        if $c eq 'module' && $ENV{BENCH_ISO_CONF};
    my $n = nginx_start(name => "iso-$c", live => $live,
                        main => $c eq 'module'
                            ? $ENV{BENCH_ISO_MAIN} // '' : '',
                        hls => 'hls_cleanup off;',
                        apps => 'application plain { live on; }');
    unless ($$path) {
        # the stream table's endpoint when it exists, else the API root
        my $r = HTTP::Tiny->new(timeout => 5)
            ->get("http://127.0.0.1:$n->{http}/vkstream/streams");
        $$path = $r->{status} == 200 && $r->{content} =~ /"streams"/
            ? '/vkstream/streams' : '/vkstream/';
    }
    my $bg = publish("rtmp://127.0.0.1:$n->{rtmp}/plain/idle", 600);
    sleep 2;
    my $idle = probe_latency($n, $$path, 'idle');
    my @names = map { "load$_" } 1 .. $load;
    my $t0 = time;
    my @pids = map { publish("rtmp://127.0.0.1:$n->{rtmp}/live/$_", 600) }
               @names;
    my $poll = follower($n, \@names, $t0);
    my $flow = wait_flowing($poll, \@names, $t0, $CAP_FLOW_MAX);
    my $w0 = time + 2;
    while (time < $w0) { $poll->(); sleep 0.05 }
    $w0 -= $t0;
    my ($c0, $i0) = total_cpu_ticks();
    my $s0 = group_schedstat($n);
    # the probe polls the playlists between its requests (as the wait did)
    my $busy = probe_latency($n, $$path, 'loaded', $poll);
    my $s1 = group_schedstat($n);
    my ($c1, $i1) = total_cpu_ticks();
    my $w1 = time - $t0;
    # on to every stream's next listing (12 s at most), for its fps
    my $more = time + 12;
    while (time < $more) {
        my $seg = $poll->();
        last unless grep { !grep { $_->[0] > $w1 } @{ $seg->{$_} } } @names;
        sleep 0.05;
    }
    my $seg = $poll->();
    my $r = HTTP::Tiny->new(timeout => 5)
        ->get("http://127.0.0.1:$n->{http}$$path");
    stop_publisher($_) for @pids, $bg;
    nginx_stop($n);
    my @st = map { window_stream($n, $_, $seg->{$_}, $w0, $w1, 1) } @names;
    my @fps = map { $_->{fps} // 0 } @st;
    my $x = { idle => $idle, load => $busy, flow => $flow,
              cpu => ($c1 - $c0) ? 1 - ($i1 - $i0) / ($c1 - $c0) : 0,
              sched => sched_delta($s0, $s1), fps => median(@fps),
              fps_min => (sort { $a <=> $b } @fps)[0],
              bytes => length($r->{content} // ''),
              sysload => (split ' ', slurp('/proc/loadavg'))[0] };
    note(sprintf '  loaded: output flowing after %s s; %.1f fps per source '
         . '(min %.1f), CPU %.0f%% busy; %s', defined $flow
         ? sprintf('%.1f', $flow) : 'never', $x->{fps} // 0,
         $x->{fps_min} // 0, 100 * $x->{cpu}, sched_str($x->{sched}));
    return $x;
}

sub isolation_rows {
    my %res = %{ $R{isolation} };
    my ($p, $load) = ($res{path}, $res{load});
    my %label = (module => 'module', seed => 'exec (seed)');
    my @sides = grep { $res{$_} } qw(module seed);
    my %goal = (http => 5, rtmp => 10);
    my %what = (http => "GET $p",
                rtmp => 'RTMP play join (connect to NetStream.Play.Start)');
    for my $k (qw(http rtmp)) {
        for my $c (@sides) {
            my $x = $res{$c};
            row('5 isolation', "$label{$c}: $what{$k}, idle",
                'p50 ' . fmt(2, @{ $x->{idle}{$k}{50} }) . ' ms, p99 '
                . fmt(2, @{ $x->{idle}{$k}{99} }) . ' ms', '');
            my $m = median(@{ $x->{load}{$k}{99} });
            my $e = $c eq 'module' && $res{seed}
                ? median(@{ $res{seed}{load}{$k}{99} }) : undef;
            my $verdict = '';
            if ($c eq 'module') {
                $verdict = "goal p99 < $goal{$k} ms: "
                    . (defined $m && $m < $goal{$k} ? 'met' : 'MISSED');
                $verdict .= '; not worse than exec (seed): '
                    . ($m <= $e ? 'met' : 'MISSED') . sprintf(' (%.2f ms)', $e)
                    if defined $e && defined $m;
            }
            my @t = grep { $_ && $_->{n} }
                    map { $_->{$k} } @{ $x->{load}{tail} // [] };
            row('5 isolation', sprintf('%s: %s, %d sources transcoding, CPU '
                . '%s%% busy', $label{$c}, $what{$k}, $load,
                fmt(0, map { 100 * $_ } @{ $x->{load}{cpu} })),
                'p50 ' . fmt(2, @{ $x->{load}{$k}{50} }) . ' ms, p99 '
                . fmt(2, @{ $x->{load}{$k}{99} }) . ' ms'
                . (@t ? '; the slowest 2% (' . fmt(1, map { $_->{ms} } @t)
                   . ' ms): event loop waited in the run queue '
                   . fmt(1, map { $_->{loop_wait} } @t) . ' ms and ran '
                   . fmt(1, map { $_->{loop_run} } @t) . ' ms, the client '
                   . 'waited ' . fmt(1, map { $_->{client_wait} } @t)
                   . ' ms (medians)' : ''), join('; ', grep { $_ ne '' }
                $verdict, defined $res{client_nice}
                ? "client at nice $res{client_nice}"
                  . (($res{client_sched} // '') eq 'rr' ? ', SCHED_RR' : '')
                : ''));
        }
    }
    for my $c (@sides) {
        my $x = $res{$c}{load};
        my @sc = grep { $_ && $_->{loop} } @{ $x->{sched} // [] };
        row('5 isolation', "$label{$c}: while loaded ($load sources, "
            . '30 fps clip)', 'encoded ' . fmt(1, @{ $x->{fps} })
            . ' fps per source (slowest ' . fmt(1, @{ $x->{fps_min} })
            . '); event loop on the CPU ' . fmt(1, map {
                100 * $_->{loop}{run} } @sc) . '% of a core, waited in the '
            . 'run queue ' . fmt(2, map { $_->{loop}{wait_per_slice_ms} } @sc)
            . ' ms per timeslice (' . fmt(0, map { $_->{loop}{slices} } @sc)
            . ' slices/s); ' . (grep({ $_->{threads} } @sc)
                ? 'transcoding threads waited ' . fmt(2, map {
                    $_->{threads}{wait_per_slice_ms} } grep { $_->{threads} }
                    @sc) . ' ms per slice'
                : 'ffmpegs waited ' . fmt(2, map {
                    ($_->{ffmpeg} // {})->{wait_per_slice_ms} } @sc)
                  . ' ms per slice') . '; answer ' . fmt(0, @{ $x->{bytes} })
            . ' bytes', $c eq 'module' && $res{conf}
                ? "with: $res{conf}" : '');
    }
}

# ---- scenario 10: quality parity ----
#
# The clip published once (20 s, real time) to each side; every _low
# segment it made is decoded and compared with the same clip decoded and
# scaled to 480x270 (bicubic, ffmpeg's scale), frame by frame: ffmpeg's
# ssim and psnr filters over the frames both have.  The output's first
# frame is matched to the reference by content (the smallest difference
# over a sample of luma bytes, at offsets 0-300), since the exec'd ffmpeg
# may join the live stream after its first frames; the same match at the
# last frames tells a frame lost or repeated in between (drift).
# BENCH_QUALITY_CONF adds directives to a third side, the module with them
# (a speed knob), reported with its CPU and its quality against the module.
# The seed's "-crf 23 -b:v 256k" is a pure crf encode (ffmpeg's libx264
# wrapper ignores -b:v next to -crf) where the module caps _low at 256k, so
# two more sides compare them at the same settings: the seed with the
# module's VBV (BENCH_QUALITY_VBV) and the module uncapped as the seed
# (BENCH_QUALITY_CRF).

my ($QW, $QH) = (480, 270);
my $Q_VBV = $ENV{BENCH_QUALITY_VBV} // '-maxrate 256k -bufsize 512k';
my $Q_CRF = $ENV{BENCH_QUALITY_CRF}
    // 'vkstream_rendition _low maxrate=off bufsize=off;';

sub q_luma_sample {
    my ($buf, $i) = @_;
    my $fs = $QW * $QH * 3 / 2;
    my @v;
    for (my $o = 17; $o < $QW * $QH; $o += 31) {
        push @v, ord substr($$buf, $i * $fs + $o, 1);
    }
    return \@v;
}

# The offset into the reference of the output's frames $i .. $i+2.
sub q_align {
    my ($out, $ref, $i, $nref) = @_;
    my @o = map { q_luma_sample($out, $i + $_) } 0 .. 2;
    my ($best, $bk);
    for my $k (0 .. 300) {
        last if $i + $k + 2 >= $nref;
        my $d = 0;
        for my $j (0 .. 2) {
            my $r = q_luma_sample($ref, $i + $k + $j);
            my $o = $o[$j];
            $d += ($o->[$_] - $r->[$_]) ** 2 for 0 .. $#$o;
        }
        ($best, $bk) = ($d, $k) if !defined $best || $d < $best;
    }
    return $bk;
}

sub q_raw {
    my ($in, $out, @pre) = @_;
    system('ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
           @pre, '-i', $in, '-an', '-vf', "scale=$QW:$QH:flags=bicubic",
           '-pix_fmt', 'yuv420p', '-vsync', 'passthrough', '-f', 'rawvideo',
           $out) == 0 or return;
    return (-s $out) / ($QW * $QH * 3 / 2);
}

sub q_session {
    my ($c, $live, $run) = @_;
    my $n = nginx_start(name => "q-$c", live => $live,
                        hls => 'hls_cleanup off;');
    my @names = ("q$run");
    my $t0 = time;
    my $p0 = group_procs($n);
    my $pid = publish("rtmp://127.0.0.1:$n->{rtmp}/live/q$run", 20);
    my $poll = follower($n, \@names, $t0);
    my %last;
    my $next = 0;
    my $step = sub {
        $poll->();
        return if time < $next;
        my $p = group_procs($n);
        $last{$_} = $p->{$_}{ticks} for keys %$p;
        $next = time + 0.25;
    };
    # the source ends after 20 s; then the renditions flush (the module)
    # or the exec'd ffmpeg is stopped
    while (!publisher_done($pid) && time < $t0 + 60) { $step->(); sleep 0.05 }
    my $end = time + 4;
    while (time < $end) { $step->(); sleep 0.05 }
    my $ticks = 0;
    $ticks += $last{$_} - ($p0->{$_} ? $p0->{$_}{ticks} : 0) for keys %last;
    my $seg = $poll->()->{"q$run"};
    stop_publisher($pid);
    nginx_stop($n);
    return { ok => 0, why => 'no _low segment' } unless @$seg;
    my $pl = "$n->{hls}/q$run.all.m3u8";
    open my $f, '>', $pl or die $!;
    print $f "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n"
        . "#EXT-X-MEDIA-SEQUENCE:0\n";
    printf $f "#EXTINF:%.3f,\n%s\n", $_->[2], $_->[1] for @$seg;
    print $f "#EXT-X-ENDLIST\n";
    close $f;
    my $cmd = 'ffprobe -v error -select_streams v:0 -show_entries '
        . "stream=width,height -of csv=p=0 '$pl' 2>/dev/null";
    my $size = `$cmd`;
    $size = $size =~ /(\d+),(\d+)/ ? "${1}x$2" : '?';
    my $raw = "$B/quality-$c.yuv";
    my $nout = q_raw($pl, $raw) or return { ok => 0, why => 'decode failed' };
    my $listed = sum(map { $_->[2] } @$seg);
    my $bytes = sum(map { -s "$n->{hls}/$_->[1]" // 0 } @$seg);
    return { ok => 1, raw => $raw, frames => $nout, size => $size,
             kbps => $listed ? $bytes * 8 / $listed / 1000 : undef,
             cpu_per_min => $listed ? $ticks / $TICK / $listed * 60 : undef };
}

# Which reference frames the output's frames are (offset at the start and
# drift at the end).
sub q_match {
    my ($raw, $nout, $ref, $nref) = @_;
    my ($o, $r);
    { local $/; open my $f, '<', $raw or return; $o = <$f>;
      open my $g, '<', $ref or return; $r = <$g>; }
    my $k0 = q_align(\$o, \$r, 0, $nref);
    return { why => 'no alignment' } unless defined $k0;
    my $n = $nout < $nref - $k0 ? $nout : $nref - $k0;
    my $k1 = $n > 10 ? q_align(\$o, \$r, $n - 4, $nref + 0) : $k0;
    return { offset => $k0, n => $n,
             drift => defined $k1 ? $k1 - $k0 : undef };
}

# SSIM and PSNR of the output's frames showing reference frames
# [$lo, $hi) against those.
sub q_compare {
    my ($raw, $ref, $k0, $lo, $hi) = @_;
    my $n = $hi - $lo;
    my $s0 = $lo - $k0;
    my $size = "${QW}x$QH";
    my $in = "-f rawvideo -pix_fmt yuv420p -s $size -r 30";
    my $g = "[0]trim=start_frame=$s0:end_frame=" . ($s0 + $n)
        . ',setpts=PTS-STARTPTS,split[a0][a1];'
        . "[1]trim=start_frame=$lo:end_frame=$hi"
        . ',setpts=PTS-STARTPTS,split[b0][b1];[a0][b0]ssim;[a1][b1]psnr';
    my $cmd = "ffmpeg -hide_banner -nostdin $in -i '$raw' $in -i '$ref' "
        . "-filter_complex '$g' -f null - 2>&1";
    my $e = `$cmd`;
    my ($ssim) = $e =~ /SSIM .*All:([\d.]+)/;
    my ($psnr) = $e =~ /PSNR .*average:([\d.inf]+)/;
    return { ssim => $ssim, psnr => $psnr, compared => $n, from => $lo };
}

sub quality {
    my $ref = "$B/quality-ref.yuv";
    my $nref = q_raw($SRC, $ref) or die "bench: quality: decoding $SRC\n";
    # the seed with the module's VBV: the same bits as the module
    (my $vbv = $CONF{seed}{live}) =~ s/-crf 23/-crf 23 $Q_VBV/;
    my @sides = (['module', $CONF{module}{live}],
                 ['seed', $CONF{seed}{live}]);
    push @sides, ['seedvbv', $vbv] if $Q_VBV;
    push @sides, ['modcrf', "$CONF{module}{live} $Q_CRF"] if $Q_CRF;
    push @sides, ['knob', "$CONF{module}{live} $ENV{BENCH_QUALITY_CONF}"]
        if $ENV{BENCH_QUALITY_CONF};
    my %res = (conf => $ENV{BENCH_QUALITY_CONF} // '', ref_frames => $nref,
               vbv => $Q_VBV, crf => $Q_CRF);
    for my $run (1 .. $RUNS) {
        # every side, then the reference frames all of them have
        my %q;
        for my $s (@sides) {
            my ($c, $live) = @$s;
            note("quality: $c, run $run/$RUNS, the clip once (20 s)");
            my $q = $q{$c} = q_session($c, $live, $run);
            %$q = (%$q, %{ q_match($q->{raw}, $q->{frames}, $ref, $nref)
                           // {} }) if $q->{ok};
        }
        my @ok = grep { defined $_->{offset} } values %q;
        my $lo = (sort { $b <=> $a } map { $_->{offset} } @ok)[0];
        my $hi = (sort { $a <=> $b } map { $_->{offset} + $_->{n} } @ok)[0];
        for my $s (@sides) {
            my $c = $s->[0];
            my $q = $q{$c};
            %$q = (%$q, %{ q_compare($q->{raw}, $ref, $q->{offset}, $lo,
                                     $hi) // {} })
                if defined $q->{offset} && $hi - $lo > 30;
            unlink $q->{raw} if $q->{raw};
            note(sprintf '  %s: %s frames %s, %s kbit/s; reference frames '
                 . '%s-%s compared (its first frame is reference frame %s, '
                 . 'drift %s): SSIM %s, PSNR %s dB', $c, $q->{frames} // 0,
                 $q->{size} // '?', defined $q->{kbps}
                 ? sprintf('%.0f', $q->{kbps}) : '?', $lo // '?',
                 defined $hi ? $hi - 1 : '?', $q->{offset} // '?',
                 $q->{drift} // '?', $q->{ssim} // 'n/a', $q->{psnr} // 'n/a');
            push @{ $res{$c} }, $q;
        }
    }
    unlink $ref;
    $R{quality} = \%res;
    quality_rows();
}

sub quality_rows {
    my %res = %{ $R{quality} };
    my %label = (module => 'module', seed => 'exec (seed)',
                 seedvbv => "exec (seed) with " . ($res{vbv} // ''),
                 modcrf => "module with " . ($res{crf} // ''),
                 knob => "module with $res{conf}");
    my %ssim = map { $_ => median(map { $_->{ssim} } grep {
        defined $_->{ssim} } @{ $res{$_} }) } grep { $res{$_} }
        qw(module seed seedvbv modcrf knob);
    for my $c (grep { $res{$_} } qw(module seed seedvbv modcrf knob)) {
        my @q = grep { defined $_->{ssim} } @{ $res{$c} };
        my $note = '';
        if ($c eq 'module' && defined $ssim{module}
            && defined $ssim{seed}) {
            my $d = $ssim{module} - $ssim{seed};
            $note = sprintf 'goal: module SSIM >= exec - 0.002: %s '
                . '(module - exec = %+.4f)', $d >= -0.002 ? 'met' : 'MISSED',
                $d;
        } elsif ($c eq 'seedvbv' && defined $ssim{module}
                 && defined $ssim{seedvbv}) {
            $note = sprintf 'the module\'s VBV on the exec side (the same '
                . 'bits): module - this = %+.4f SSIM',
                $ssim{module} - $ssim{seedvbv};
        } elsif ($c eq 'modcrf' && defined $ssim{seed}
                 && defined $ssim{modcrf}) {
            my $d = $ssim{modcrf} - $ssim{seed};
            $note = sprintf 'the seed\'s settings as ffmpeg applies them '
                . '(pure crf) on the module: this - exec = %+.4f SSIM, '
                . 'within 0.002 at the same settings: %s', $d,
                $d >= -0.002 ? 'met' : 'MISSED';
        } elsif ($c eq 'knob' && defined $ssim{module}) {
            $note = sprintf 'quality cost of the knob: SSIM %+.4f against '
                . 'the module without it', $ssim{knob} - $ssim{module};
        }
        row('10 quality', "$label{$c}: _low against the clip scaled to "
            . "${QW}x$QH (ssim, psnr filters)", @q
            ? 'SSIM ' . fmt(4, map { $_->{ssim} } @q) . ', PSNR '
              . fmt(2, map { $_->{psnr} } @q) . ' dB over the '
              . fmt(0, map { $_->{compared} } @q) . ' reference frames every '
              . 'side has (from frame ' . fmt(0, map { $_->{from} } @q)
              . '; its output starts at frame ' . fmt(0, map { $_->{offset} }
              @q) . ', drift ' . fmt(0, map { $_->{drift} } @q) . '); '
              . fmt(0, map { $_->{kbps} } @q) . ' kbit/s of segments; CPU '
              . fmt(2, map { $_->{cpu_per_min} } @q) . ' s per minute of '
              . '_low (the whole group, nothing subtracted)'
            : 'n/a (' . join(', ', map { $_->{why} // '?' }
                             @{ $res{$c} }) . ')', $note);
    }
}

# ---- 7 VK feed ----
#
# One nginx (one worker) with the VK client pointed at scripts/bench-vk-gen
# (C, libwebsockets: getServerUrl, /rules and the stream as
# scripts/vk-emulator serves them, but fast enough not to be the limit;
# its certificates are made by the Perl emulator) and one global rule; the
# generator makes every event match it (match 1), so each event sent should
# become one stored match.  (0) the generator's own ceiling: at 200,000/s
# into a sink that reads and discards, its send rate and CPU.  (a) stored
# events/s: the generator at increasing rates (BENCH_VK_RATES), a few
# seconds each (BENCH_VK_STEP); a rate passes when the client stored
# everything sent, dropped nothing and was done within 1 s of the stop.
# Each text starts with "#SEQ@TIME" (the generator's clock just before the
# write), so every step also gives the emulator-to-stored latency: the
# match's received_ms (the worker's clock) minus TIME, over the last
# matches of the step still in the ring (vkstream_matches).  (b) SSE
# latency at 1,000 events/s: an SSE reader on /vkstream/events notes when
# each match event arrives (same clock), and the match's text
# (GET /vkstream/matches) gives TIME.


my $VK_RATES = '1000,5000,10000,20000,30000,40000,60000';

sub proc_ticks { my $s = proc_stat($_[0]); $s ? $s->{ticks} : 0 }

sub vk_status {
    my ($n) = @_;
    my $r = HTTP::Tiny->new(timeout => 5)
        ->get("http://127.0.0.1:$n->{http}/vkstream/status");
    die "bench: /vkstream/status: $r->{status}\n" unless $r->{success};
    return decode_json($r->{content})->{vk};
}

sub vk_wait {
    my ($secs, $cond) = @_;
    my $end = time + $secs;
    while (time < $end) {
        return 1 if $cond->();
        sleep 0.05;
    }
    return $cond->();
}

# scripts/bench-vk-gen with the Perl emulator's certificates, as an object
# of VKStream::Emulator (its admin, stats, stop and accessors work on the
# same {pid, info, http}).
sub vk_gen_start {
    require VKStream::Emulator;
    my $dir = "$B/vk-certs";
    my $emu = VKStream::Emulator->new(args => ['--cert-dir', $dir]);
    my $ca = $emu->ca;
    my ($cert, $key) = ($emu->info->{cert}, "$dir/key.pem");
    $emu->stop;
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $r;
        open STDOUT, '>&', $w or die;
        exec "$B/bench-vk-gen", '--cert', $cert, '--key-file', $key
            or die "exec: $!";
    }
    close $w;
    my $rin = '';
    vec($rin, fileno($r), 1) = 1;
    my $line = select(my $rout = $rin, undef, undef, 10) ? <$r> // '' : '';
    my $g = bless { pid => $pid, pipe => $r,
                    http => HTTP::Tiny->new(timeout => 10) },
                  'VKStream::Emulator';
    die "bench: bench-vk-gen did not start\n" unless $line =~ /^\{/;
    $g->{info} = { %{ decode_json($line) }, ca => $ca, cert => $cert };
    return $g;
}

# The generator's ceiling: $secs at $rate into a sink (a raw TLS reader
# here, no WebSocket parsing), its send rate and CPU.  It is at its limit
# when its CPU nears 100%; while the sink is slower the generator is
# throttled (its socket full) and its CPU stays lower.
sub vk_gen_ceiling {
    my ($rate, $secs) = @_;
    my $e = $EMU;
    require IO::Socket::SSL;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $s = IO::Socket::SSL->new(PeerAddr => $e->stream_host,
            SSL_ca_file => $e->ca, SSL_verifycn_name => '127.0.0.1')
            or POSIX::_exit(1);
        print $s 'GET /stream?key=' . $e->key . " HTTP/1.1\r\nHost: x\r\n"
            . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            . "Sec-WebSocket-Version: 13\r\n\r\n";
        my $buf;
        1 while sysread($s, $buf, 1 << 20);
        POSIX::_exit(0);
    }
    $e->admin(POST => '/admin/rules',
              { rules => [{ value => 'bench', tag => 'vks:g:bench' }] });
    vk_wait(5, sub { $e->stats->{open} })
        or die "bench: the sink does not connect to bench-vk-gen\n";
    $e->admin(POST => '/admin/generator',
              { rate => $rate, match => 1, stamp => 1 });
    sleep 0.5;
    my ($c0, $m0, $k0, $t0) = ($e->stats->{counters}{events_sent},
        proc_ticks($e->pid), proc_ticks($pid), time);
    sleep $secs;
    my ($c1, $m1, $k1, $t1) = ($e->stats->{counters}{events_sent},
        proc_ticks($e->pid), proc_ticks($pid), time);
    $e->admin(POST => '/admin/generator', { rate => 0, stamp => 0 });
    kill 'KILL', $pid;
    waitpid $pid, 0;
    vk_wait(5, sub { !$e->stats->{open} });
    my $el = $t1 - $t0;
    my $c = { rate => $rate, sent => ($c1 - $c0) / $el,
              cpu => ($m1 - $m0) / $TICK / $el,
              sink_cpu => ($k1 - $k0) / $TICK / $el };
    $c->{ceiling} = $c->{cpu} ? $c->{sent} / $c->{cpu} : 0;
    note(sprintf 'vk: generator at %d/s into a sink: sent %.0f/s, CPU '
         . '%.0f%% (%.1f us/event: ceiling about %.0f/s), sink CPU %.0f%%; '
         . 'load %s', $rate, $c->{sent}, 100 * $c->{cpu},
         $c->{sent} ? 1e6 * $c->{cpu} / $c->{sent} : 0, $c->{ceiling},
         100 * $c->{sink_cpu}, loadavg());
    return $c;
}

sub loadavg {
    open my $f, '<', '/proc/loadavg' or return '?';
    my $l = <$f>;
    return join ' ', (split ' ', $l)[0 .. 2];
}

# Emulator-to-stored latency (ms) of the stamped matches stored after
# match id $after and sent from $t0 on: received_ms minus the stamp.
sub vk_store_latency {
    my ($n, $after, $t0) = @_;
    my $http = HTTP::Tiny->new(timeout => 5);
    my $base = "http://127.0.0.1:$n->{http}/vkstream";
    my @lat;
    while (1) {
        my $r = $http->get("$base/matches?after=$after&limit=1000");
        last unless $r->{success};
        my @m = @{ decode_json($r->{content})->{matches} // [] };
        last unless @m;
        for my $m (@m) {
            $after = $m->{id};
            next unless ($m->{text} // '') =~ /^#\d+@(\d+\.\d+) /;
            next if $1 < $t0;
            push @lat, $m->{received_ms} - 1000 * $1;
        }
    }
    return \@lat;
}

sub vk_last_id {
    my ($n) = @_;
    my $r = HTTP::Tiny->new(timeout => 5)
        ->get("http://127.0.0.1:$n->{http}/vkstream/matches?limit=1");
    return decode_json($r->{content})->{last_id} // 0;
}

sub vk_setup {
    my $e = $EMU;
    $e->admin(DELETE => '/admin/rules');
    my $main = join "\n",
        'vkstream_vk_token ' . $e->token . ';',
        'vkstream_vk_api ' . $e->api_url . ';',
        'vkstream_vk_ca ' . $e->ca . ';',
        'vkstream_matches ' . ($ENV{BENCH_VK_MATCHES} // 10000) . ';',
        'vkstream_zone 128m;';
    my $n = nginx_start(name => 'vk', main => $main);
    return vk_bench_rule($n, $e);
}

# The VK client of $n connected, and the bench's global rule added and on
# the emulator $emu ($clear: the emulator's other rules deleted first).
sub vk_bench_rule {
    my ($n, $emu, $clear) = @_;
    vk_wait(15, sub { (vk_status($n)->{state} // '') eq 'connected' })
        or die "bench: the VK client does not connect (see "
             . "$n->{prefix}/logs/error.log)\n";
    $emu->admin(DELETE => '/admin/rules') if $clear;
    my $r = HTTP::Tiny->new(timeout => 5)->post(
        "http://127.0.0.1:$n->{http}/vkstream/rules",
        # (UTF-8 bytes as written here: the script is not "use utf8")
        { content => '{"tag":"bench","value":"бенчмарк"}',
          headers => { 'Content-Type' => 'application/json' } });
    die "bench: POST /vkstream/rules: $r->{status} $r->{content}\n"
        unless $r->{success};
    vk_wait(10, sub {
        grep { $_->{tag} eq 'vks:g:bench' }
            @{ $emu->admin(GET => '/admin/rules')->{rules} // [] }
    }) or die "bench: the rule does not reach the emulator\n";
    return $n;
}

sub vk_worker_ticks {
    my ($n) = @_;
    my $t = 0;
    my $p = group_procs($n);
    $t += $_->{ticks} for grep { $_->{kind} eq 'worker' } values %$p;
    return $t;
}

# One rate step: $secs of generation at $rate.  The rate is what the
# emulator sent between two reads of its counters while running (after
# 0.5 s of warm-up), the accounting (stored = sent, nothing dropped) over
# the whole step.
sub vk_step {
    my ($n, $rate, $secs) = @_;
    my $e = $EMU;
    my $s0 = vk_status($n);
    my $base = $e->stats->{counters}{events_sent} // 0;
    my $after = vk_last_id($n);
    my $g0 = time;
    $e->admin(POST => '/admin/generator',
              { rate => $rate, match => 1, stamp => 1,
                coalesce => $ENV{BENCH_VK_COALESCE} ? 1 : 0 });
    sleep 0.5;
    my $c0 = $e->stats->{counters}{events_sent} // 0;
    my $t0 = time;
    my $st0 = vk_status($n)->{stored};
    my ($w0, $m0) = (vk_worker_ticks($n), proc_ticks($e->pid));
    my ($a0, $i0) = total_cpu_ticks();
    my $rx = 0;         # the most the client's socket held unread
    my $port = (split /:/, $e->stream_host)[1];
    while (time < $t0 + $secs) {
        sleep 0.2;
        my $q = vk_rx_queue($port);
        $rx = $q if $q > $rx;
    }
    my ($w1, $m1) = (vk_worker_ticks($n), proc_ticks($e->pid));
    my ($a1, $i1) = total_cpu_ticks();
    my $es = $e->stats;
    my $c1 = $es->{counters}{events_sent} // 0;
    my $st1 = vk_status($n)->{stored};
    my $el = time - $t0;
    my ($queued, $bytes, $msgs) = (0, 0, 0);
    for my $c (grep { $_->{open} } @{ $es->{connections} // [] }) {
        $queued += $c->{queued} // 0;
        $bytes += $c->{bytes} // 0;
        $msgs += $c->{messages} // 0;
    }
    $e->admin(POST => '/admin/generator', { rate => 0, stamp => 0 });
    my $gen_time = time - $g0;
    my $sent = ($e->stats->{counters}{events_sent} // 0) - $base;
    my $s1;
    my $drained = vk_wait(1, sub {
        $s1 = vk_status($n);
        $s1->{stored} - $s0->{stored} + $s1->{dropped} - $s0->{dropped}
            + $s1->{malformed} - $s0->{malformed} >= $sent;
    });
    $s1 = vk_status($n);
    my $st = {
        rate => $rate, secs => $el, sent => $sent,
        stored => $s1->{stored} - $s0->{stored},
        dropped => $s1->{dropped} - $s0->{dropped},
        malformed => $s1->{malformed} - $s0->{malformed},
        received => $s1->{received} - $s0->{received},
        drained => $drained ? 1 : 0,
        emu_cpu => ($m1 - $m0) / $TICK / $el,
        worker_cpu => ($w1 - $w0) / $TICK / $el,
        busy => ($a1 - $a0) ? 1 - ($i1 - $i0) / ($a1 - $a0) : 0,
    };
    # over the whole step (the stop's drain is at most 1 s more)
    $st->{gen_time} = $gen_time;
    $st->{sent_rate} = $sent / $gen_time;
    $st->{stored_rate} = $st->{stored} / $gen_time;
    # in the middle of the step
    $st->{win_sent_rate} = ($c1 - $c0) / $el;
    $st->{win_stored_rate} = ($st1 - $st0) / $el;
    $st->{rx_max} = $rx;
    $st->{emu_queued} = $queued;
    $st->{emu_unsent} = $msgs ? int($queued / ($bytes / $msgs)) : 0;
    # emulator to stored, over what the ring still holds of the step
    my $lat = vk_store_latency($n, $after, $g0);
    $st->{lat_n} = @$lat;
    $st->{p50} = pct(50, @$lat);
    $st->{p99} = pct(99, @$lat);
    $st->{load} = loadavg();
    # everything stored, within 1 s of the stop, and at the rate asked
    $st->{ok} = $drained && $st->{stored} == $sent && !$st->{dropped}
        && !$st->{malformed} && $st->{stored_rate} >= 0.9 * $rate ? 1 : 0;
    # The emulator did not make the rate asked for, or could not write out
    # what it made while the client's socket was (nearly) empty.
    # (bench-vk-gen makes nothing while its socket is full: a short send
    # rate with the client's socket full is the client's limit)
    $st->{emu_short} = ($st->{sent_rate} < 0.9 * $rate
                        && ($st->{emu_cpu} > 0.9 || $rx < 256 * 1024))
        || (!$st->{ok} && $queued > 256 * 1024 && $rx < 256 * 1024) ? 1 : 0;
    unless ($drained) {         # let the backlog go before the next figure
        vk_wait(60, sub {
            my $s = vk_status($n);
            $s->{stored} - $s0->{stored} + $s->{dropped} - $s0->{dropped}
                + $s->{malformed} - $s0->{malformed} >= $sent;
        });
    }
    note(sprintf 'vk: rate %d: sent %d (%.0f/s), stored %d (%.0f/s), '
         . 'dropped %d, drained %s; emulator unsent %d msgs, client rx '
         . 'queue max %d B; CPU emulator %.0f%%, worker %.0f%%, all %.0f%%; '
         . 'emulator to stored p50 %.1f ms, p99 %.1f ms (%d matches); '
         . 'load %s',
         $rate, $sent, $st->{sent_rate}, $st->{stored}, $st->{stored_rate},
         $st->{dropped}, $drained ? 'yes' : 'no', $st->{emu_unsent}, $rx,
         100 * $st->{emu_cpu},
         100 * $st->{worker_cpu}, 100 * $st->{busy}, $st->{p50} // -1,
         $st->{p99} // -1, $st->{lat_n}, $st->{load});
    sleep 0.3;
    return $st;
}

# Bytes waiting unread in the client's sockets to the emulator's port.
sub vk_rx_queue {
    my ($port) = @_;
    my $hex = sprintf '%04X', $port;
    my $q = 0;
    open my $f, '<', '/proc/net/tcp' or return 0;
    while (<$f>) {
        my @x = split ' ';
        next unless ($x[2] // '') =~ /:$hex$/;
        my (undef, $rxq) = split /:/, $x[4];
        $q += hex $rxq;
    }
    return $q;
}

sub vk_throughput {
    my ($n) = @_;
    my @rates = split /[, ]+/,
        ($ENV{BENCH_VK_RATES} // $VK_RATES);
    my $secs = $ENV{BENCH_VK_STEP} // 3;
    my @steps;
    for my $rate (@rates) {
        my $st = vk_step($n, $rate, $secs);
        push @steps, $st;
        # beyond this the emulator cannot go, or the client failed
        last if !$st->{ok} || $st->{emu_short};
    }
    return \@steps;
}

# SSE latency at $rate events/s for $secs seconds.
sub vk_latency {
    my ($n, $rate, $secs) = @_;
    my $e = $EMU;
    my $http = HTTP::Tiny->new(timeout => 5);
    my $base = "http://127.0.0.1:$n->{http}/vkstream";
    my $r = $http->get("$base/matches?limit=1");
    my $after = decode_json($r->{content})->{last_id} // 0;

    my $sock = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$n->{http}",
                                     Timeout => 5)
        or die "bench: connect: $!";
    setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
    print $sock "GET /vkstream/events HTTP/1.0\r\nHost: 127.0.0.1\r\n"
              . "Accept: text/event-stream\r\n\r\n";
    my $sel = IO::Select->new($sock);
    my $buf = '';
    my %recv;           # match_id => local time the SSE reader got it
    my $gaps = 0;
    my $read = sub {
        my ($until) = @_;
        while ((my $left = $until - time) > 0) {
            next unless $sel->can_read($left);
            my $got = sysread($sock, $buf, 65536, length $buf);
            die "bench: SSE stream ended\n" unless $got;
            my $now = time;
            while ($buf =~ s/^(.*?)\n//) {
                my $l = $1;
                next unless $l =~ /^data: /;
                $gaps++ if $l =~ /"type":"gap"/;
                $recv{$1} //= $now
                    if $l =~ /"type":"match"/ && $l =~ /"match_id":(\d+)/;
            }
        }
    };
    $read->(time + 0.5);        # headers and the stream's start
    $e->admin(POST => '/admin/generator',
              { rate => $rate, match => 1, stamp => 1 });
    my $t0 = time;
    $read->($t0 + $secs);
    $e->admin(POST => '/admin/generator', { rate => 0, stamp => 0 });
    $read->(time + 0.5);
    close $sock;

    # match id => the emulator's send time, from the texts
    my %sent;
    my %stored_ms;
    while (1) {
        $r = $http->get("$base/matches?after=$after&limit=1000");
        my $j = decode_json($r->{content});
        my @m = @{ $j->{matches} // [] };
        last unless @m;
        for my $m (@m) {
            $after = $m->{id};
            next unless ($m->{text} // '') =~ /^#\d+@(\d+\.\d+) /;
            $sent{ $m->{id} } = $1;
            $stored_ms{ $m->{id} } = $m->{received_ms};
        }
    }
    my (@lat, @to_store, @to_sse);
    for my $id (keys %sent) {
        next if $sent{$id} < $t0 + 0.5;         # warm-up
        next unless defined $recv{$id};
        push @lat, 1000 * ($recv{$id} - $sent{$id});
        if (defined $stored_ms{$id}) {
            push @to_store, $stored_ms{$id} - 1000 * $sent{$id};
            push @to_sse, 1000 * $recv{$id} - $stored_ms{$id};
        }
    }
    my $missed = grep { $sent{$_} >= $t0 + 0.5 && !defined $recv{$_} }
                 keys %sent;
    note(sprintf 'vk: latency at %d/s: %d events (%d SSE match events, '
         . '%d stamped matches), %d not seen on SSE, %d gaps; p50 %.1f ms, '
         . 'p99 %.1f ms', $rate, scalar @lat, scalar(keys %recv),
         scalar(keys %sent), $missed, $gaps, pct(50, @lat) // -1,
         pct(99, @lat) // -1);
    return { n => scalar @lat, missed => $missed, gaps => $gaps,
             p50 => pct(50, @lat), p99 => pct(99, @lat),
             max => pct(100, @lat),
             store_p50 => pct(50, @to_store), store_p99 => pct(99, @to_store),
             sse_p50 => pct(50, @to_sse), sse_p99 => pct(99, @to_sse) };
}

sub vk_feed {
    my $t = time;
    $EMU = vk_gen_start();
    my $lat_rate = $ENV{BENCH_VK_LAT_RATE} // 1000;
    my $lat_secs = $ENV{BENCH_VK_LAT_SECS} // 4;
    my (@best, @runs, @lats);
    my $ceil = vk_gen_ceiling(200000, $ENV{BENCH_VK_STEP} // 3);
    my $n = vk_setup();
    for my $run (1 .. $RUNS) {
        note("vk: run $run/$RUNS");
        # latency first: the rate steps end with a backlog
        push @lats, vk_latency($n, $lat_rate, $lat_secs);
        my $steps = vk_throughput($n);
        push @runs, $steps;
        my @ok = grep { $_->{ok} } @$steps;
        push @best, @ok ? $ok[-1] : undef;
        sleep 1;
    }
    nginx_stop($n);
    $EMU->stop;
    undef $EMU;
    $R{vk} = { runs => \@runs, latency => \@lats, best => \@best,
               ceiling => $ceil };
    note(sprintf 'vk: took %.0f s', time - $t);

    # (a) the highest passing rate of each run
    my @b = grep { defined } @best;
    my @last = map { $_->[-1] } @runs;      # where each run stopped
    my $why = '';
    my $emu = grep { $_->{emu_short} } @last;
    my $cli = grep { !$_->{ok} } @last;
    row('7 VK feed', 'generator ceiling (bench-vk-gen at '
        . "$ceil->{rate}/s into a sink that reads and discards)",
        sprintf('sent %.0f/s at %.0f%% of a core (%.1f us/event: about '
                . '%.0f/s at 100%%); load %s', $ceil->{sent},
                100 * $ceil->{cpu}, $ceil->{sent}
                ? 1e6 * $ceil->{cpu} / $ceil->{sent} : 0, $ceil->{ceiling},
                loadavg()),
        $ceil->{ceiling} >= 50000 ? 'goal >= 50,000/s: met'
                                  : 'goal >= 50,000/s: MISSED');
    # every step of the first run
    row('7 VK feed', 'per rate (first run): stored, dropped, emulator to '
        . 'stored p50/p99, worker CPU',
        join('; ', map {
            sprintf('%d/s: stored %d (%.0f/s), dropped %d, p50 %s p99 %s ms, '
                    . 'worker %.0f%%, load %s', $_->{rate}, $_->{stored},
                    $_->{stored_rate}, $_->{dropped},
                    defined $_->{p50} ? sprintf('%.1f', $_->{p50}) : '-',
                    defined $_->{p99} ? sprintf('%.1f', $_->{p99}) : '-',
                    100 * $_->{worker_cpu}, $_->{load})
        } @{ $runs[0] // [] }), '');
    my @r20 = grep { $_->{rate} == 20000 } map { @$_ } @runs;
    row('7 VK feed', '20,000 events/s: stored, dropped, emulator to stored '
        . 'p99', @r20 ? join('; ', map {
            sprintf('%.0f/s stored, %d dropped, p99 %s ms', $_->{stored_rate},
                    $_->{dropped}, defined $_->{p99}
                    ? sprintf('%.1f', $_->{p99}) : '-') } @r20)
        : 'not reached',
        (@r20 && !grep { !$_->{ok} || !defined $_->{p99} || $_->{p99} >= 20 }
         @r20) ? 'goal nothing dropped, p99 < 20 ms: met'
               : 'goal nothing dropped, p99 < 20 ms: MISSED');
    my $top = (split /[, ]+/, ($ENV{BENCH_VK_RATES} // $VK_RATES))[-1];
    my @stop = map {
        sprintf('%d/s asked: emulator sent %.0f/s (CPU %.0f%%, %d events '
                . 'unwritten at the end), client stored %.0f/s (%d of %d, '
                . '%d dropped; up to %d KiB unread in its socket, worker CPU '
                . '%.0f%%)', $_->{rate}, $_->{sent_rate},
                100 * $_->{emu_cpu}, $_->{emu_unsent}, $_->{stored_rate},
                $_->{stored}, $_->{sent}, $_->{dropped}, $_->{rx_max} / 1024,
                100 * $_->{worker_cpu})
    } @last;
    my $figure = @b
        ? fmt(0, map { $_->{stored_rate} } @b) . ' events/s stored, nothing '
          . 'dropped (steps at ' . join('/', map { $_->{rate} } @b)
          . '/s asked; worker CPU ' . fmt(0, map { 100 * $_->{worker_cpu} } @b)
          . '%, emulator CPU ' . fmt(0, map { 100 * $_->{emu_cpu} } @b) . '%)'
        : 'no rate passed';
    # met: every run passed a step asking 20,000/s or more (a pass stores
    # every event sent, at 0.9x the rate asked or better)
    my $goal = (@b == @best && !grep { $_->{rate} < 20000 } @b)
        ? 'goal 20,000/s: met'
        : $emu && !$cli
          ? 'goal 20,000/s: not reached by the generator, the client kept '
            . 'up with all it sent (the limit is the generator, not '
            . 'the client); next step: ' . $stop[0]
          : 'goal 20,000/s: MISSED; next step of each run: '
            . join('; ', @stop);
    row('7 VK feed', 'events/s stored (bench-vk-gen, every event '
        . 'matching one global rule; 3 s steps)', $figure, $goal);

    # (b) latency
    my @ok = grep { $_->{n} } @lats;
    my $p99 = median(map { $_->{p99} } @ok);
    row('7 VK feed', "SSE latency at $lat_rate events/s (emulator send to "
        . "a /vkstream/events reader receiving the match; ${lat_secs} s, "
        . sprintf('%d events per run)', median(map { $_->{n} } @ok) // 0),
        'p50 ' . fmt(1, map { $_->{p50} } @ok) . ' ms, p99 '
        . fmt(1, map { $_->{p99} } @ok) . ' ms; of which emulator to '
        . 'stored p50 ' . fmt(1, map { $_->{store_p50} } @ok) . ' ms, p99 '
        . fmt(1, map { $_->{store_p99} } @ok) . ' ms, stored to SSE p50 '
        . fmt(1, map { $_->{sse_p50} } @ok) . ' ms, p99 '
        . fmt(1, map { $_->{sse_p99} } @ok) . ' ms'
        . (sum(map { $_->{missed} + $_->{gaps} } @lats)
           ? sprintf('; %d not seen, %d gaps',
                     sum(map { $_->{missed} } @lats),
                     sum(map { $_->{gaps} } @lats)) : ''),
        defined $p99 && $p99 < 50 ? 'goal p99 < 50 ms: met'
                                  : 'goal p99 < 50 ms: MISSED');
}

# ---- 7b SSE fan-out ----
#
# GET /events without per-subscriber polling (issue 15, goal 4).
# (a) latency at BENCH_VK_LAT_RATE events/s as scenario 7's, with two
#     workers (reuseport): the reader may sit on a worker other than the VK
#     client's;
# (b) idle cost: worker CPU ticks of a one-worker nginx over
#     BENCH_SSE_IDLE_SECS, without subscribers and with
#     BENCH_SSE_IDLE_SUBS (1,000) idle ones;
# (c) fan-out: BENCH_SSE_SUBS (200) subscribers over two workers, read by
#     4 child processes, while the emulator makes BENCH_SSE_RATE (1,000)
#     matching events/s for BENCH_SSE_SECS: did each get every event id,
#     in order, with no gap?
# BENCH_SSE_MODULE runs it all against another build of the module (e.g.
# main's, for a before/after).

sub sse_nginx {
    my (%o) = @_;
    my $main = 'worker_rlimit_nofile 8192;';
    $main .= "\n" . join "\n",
        'vkstream_vk_token ' . $EMU->token . ';',
        'vkstream_vk_api ' . $EMU->api_url . ';',
        'vkstream_vk_ca ' . $EMU->ca . ';',
        'vkstream_matches 5000;',
        'vkstream_zone 64m;' if $o{vk};
    my $n = nginx_start(name => $o{name}, workers => $o{workers},
                        main => $main, connections => 4096,
                        module => $ENV{BENCH_SSE_MODULE}, reuseport => 1);
    return $n unless $o{vk};
    return vk_bench_rule($n, $EMU, 1);
}

sub sse_status {
    my ($n) = @_;
    my $r = HTTP::Tiny->new(timeout => 5)
        ->get("http://127.0.0.1:$n->{http}/vkstream/status");
    return $r->{success} ? decode_json($r->{content}) : {};
}

sub sse_workers_ticks {
    my ($n) = @_;
    my $p = group_procs($n);
    return sum(map { $_->{ticks} } grep { $_->{kind} eq 'worker' }
               values %$p);
}

# A child that holds $count SSE streams and reads them until SIGTERM, then
# prints per stream: first id, last id, ids, jumps (an id not following the
# last one), gap events.
sub sse_reader {
    my ($port, $count) = @_;
    pipe(my $rd, my $wr) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if ($pid) {
        close $wr;
        $SSE_KIDS{$pid} = $rd;
        return $pid;
    }
    close $rd;
    $SIG{$_} = 'DEFAULT' for qw(INT HUP PIPE);
    my $stop = 0;
    $SIG{TERM} = sub { $stop = 1 };
    my (@s, %buf, %st);
    for (1 .. $count) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                      Timeout => 10) or POSIX::_exit(1);
        print $s "GET /vkstream/events HTTP/1.0\r\nHost: 127.0.0.1\r\n"
               . "Accept: text/event-stream\r\n\r\n";
        push @s, $s;
        $buf{$s} = '';
        $st{$s} = { first => 0, last => 0, n => 0, jumps => 0, gaps => 0 };
    }
    my $sel = IO::Select->new(@s);
    my $ready = 0;
    my $t_end = time + 20;
    while (!$stop) {
        for my $s ($sel->can_read(0.2)) {
            my $got = sysread($s, $buf{$s}, 262144, length $buf{$s});
            unless ($got) { $sel->remove($s); next }
            my $cut = rindex($buf{$s}, "\n");
            next if $cut < 0;
            my $text = substr($buf{$s}, 0, $cut + 1, '');
            my $x = $st{$s};
            $x->{up} = 1 if !$x->{up} && $text =~ /^retry: /m;
            $x->{gaps}++ while $text =~ /^event: gap$/mg;
            while ($text =~ /^id: (\d+)$/mg) {
                $x->{jumps}++ if $x->{last} && $1 != $x->{last} + 1;
                $x->{first} ||= $1;
                $x->{last} = $1;
                $x->{n}++;
            }
        }
        if (!$ready && ((!grep { !$st{$_}{up} } @s) || time > $t_end)) {
            $ready = 1;
            syswrite $wr, "ready\n";
        }
    }
    syswrite $wr, join('', map { "$_->{first} $_->{last} $_->{n} "
                                 . "$_->{jumps} $_->{gaps}\n" }
                           map { $st{$_} } @s);
    POSIX::_exit(0);
}

sub sse_readers_stop {
    my @res;
    for my $pid (keys %SSE_KIDS) {
        kill 'TERM', $pid;
        my $rd = $SSE_KIDS{$pid};
        while (my $l = <$rd>) {
            next unless $l =~ /^(\d+) (\d+) (\d+) (\d+) (\d+)$/;
            push @res, { first => $1, last => $2, n => $3, jumps => $4,
                         gaps => $5 };
        }
        waitpid $pid, 0;
    }
    %SSE_KIDS = ();
    return @res;
}

sub sse_idle {
    my ($subs, $secs) = @_;
    my $n = sse_nginx(name => 'sse-idle', workers => 1);
    my $measure = sub {
        my $s0 = sse_status($n)->{events} // {};
        my $t0 = sse_workers_ticks($n);
        my $w0 = time;
        sleep $secs;
        my $t = (sse_workers_ticks($n) - $t0) / $TICK / (time - $w0);
        my $s1 = sse_status($n)->{events} // {};
        return ($t, defined $s1->{timer_wakeups}
                    ? $s1->{timer_wakeups} - $s0->{timer_wakeups} : undef);
    };
    my ($without) = $measure->();
    sse_reader($n->{http}, $subs);
    my ($rd) = values %SSE_KIDS;
    my $ok = <$rd>;
    my ($with, $timer) = $measure->();
    my @res = sse_readers_stop();
    nginx_stop($n);
    my $load = (split ' ', `cat /proc/loadavg`)[0];
    note(sprintf 'sse: idle: worker CPU %.2f%% of a core without '
         . 'subscribers, %.2f%% with %d (%d connected), %s timer wake-ups; '
         . 'load %s', 100 * $without, 100 * $with, $subs, scalar @res,
         $timer // 'no count of', $load);
    return { without => $without, with => $with, subs => scalar @res,
             timer_wakeups => $timer, load => $load };
}

sub sse_fanout {
    my ($n, $subs, $rate, $secs) = @_;
    my $kids = 4;
    for my $k (1 .. $kids) {
        sse_reader($n->{http}, int($subs / $kids)
                               + ($k <= $subs % $kids ? 1 : 0));
    }
    for my $rd (values %SSE_KIDS) { my $l = <$rd> }
    my $st0 = sse_status($n);
    my $first = ($st0->{events}{last_id} // 0) + 1;
    my $base = $EMU->stats->{counters}{events_sent} // 0;
    my $t0 = sse_workers_ticks($n);
    my $w0 = time;
    $EMU->admin(POST => '/admin/generator',
                { rate => $rate, match => 1, stamp => 0 });
    sleep $secs;
    $EMU->admin(POST => '/admin/generator', { rate => 0 });
    my $gen = time - $w0;
    my $sent = ($EMU->stats->{counters}{events_sent} // 0) - $base;
    vk_wait(10, sub {
        (sse_status($n)->{vk}{stored} // 0) - ($st0->{vk}{stored} // 0)
            >= $sent;
    });
    my $st1 = sse_status($n);
    my $last = $st1->{events}{last_id};
    my $want = $last - $first + 1;
    # every reader has what was written, or 10 s have passed
    sleep 1;
    my $cpu = (sse_workers_ticks($n) - $t0) / $TICK / (time - $w0);
    my @res = sse_readers_stop();
    # every id from $first to $last, in order (a subscriber may also have
    # got events written before $first or after $last: the latency run's
    # last matches, rule states)
    my $all = grep { $_->{first} && $_->{first} <= $first
                     && $_->{last} >= $last && !$_->{jumps} } @res;
    my $gaps = sum(map { $_->{gaps} } @res);
    my $jumps = grep { $_->{jumps} } @res;
    my $load = (split ' ', `cat /proc/loadavg`)[0];
    my %d = map { $_ => defined $st1->{events}{$_}
                        ? $st1->{events}{$_} - $st0->{events}{$_} : undef }
            qw(wakeups timer_wakeups wake_messages);
    note(sprintf 'sse: fan-out: %d subscribers, %d events in %.1f s '
         . '(%.0f/s): %d got every one, %d gaps, %d with jumps; workers '
         . 'CPU %.0f%%; wake-ups %s, timer %s, messages %s; load %s',
         scalar @res, $want, $gen, $want / $gen, $all, $gaps, $jumps,
         100 * $cpu, $d{wakeups} // '-', $d{timer_wakeups} // '-',
         $d{wake_messages} // '-', $load);
    return { subs => scalar @res, events => $want, rate => $want / $gen,
             all => $all, gaps => $gaps, jumps => $jumps, cpu => $cpu,
             %d, load => $load };
}

sub sse_bench {
    require VKStream::Emulator;
    my $t = time;
    my $lat_rate = $ENV{BENCH_VK_LAT_RATE} // 1000;
    my $lat_secs = $ENV{BENCH_VK_LAT_SECS} // 4;
    my $isubs = $ENV{BENCH_SSE_IDLE_SUBS} // 1000;
    my $isecs = $ENV{BENCH_SSE_IDLE_SECS} // ($QUICK ? 10 : 30);
    my $fsubs = $ENV{BENCH_SSE_SUBS} // 200;
    my $frate = $ENV{BENCH_SSE_RATE} // 1000;
    my $fsecs = $ENV{BENCH_SSE_SECS} // 5;
    my (@lat, @idle, @fan);
    for my $run (1 .. $RUNS) {
        note("sse: run $run/$RUNS");
        push @idle, sse_idle($isubs, $isecs);
        $EMU = VKStream::Emulator->new(args => ['--ping-interval', 0]);
        my $n = sse_nginx(name => 'sse', workers => 2, vk => 1);
        push @lat, vk_latency($n, $lat_rate, $lat_secs);
        push @fan, sse_fanout($n, $fsubs, $frate, $fsecs);
        nginx_stop($n);
        $EMU->stop;
        undef $EMU;
    }
    $R{sse} = { latency => \@lat, idle => \@idle, fanout => \@fan,
                module => $ENV{BENCH_SSE_MODULE} };
    note(sprintf 'sse: took %.0f s', time - $t);

    my $S = '7b SSE';
    my @ok = grep { $_->{n} } @lat;
    my $p99 = median(map { $_->{p99} } @ok);
    row($S, "latency at $lat_rate events/s, 2 workers (emulator send to a "
        . "/vkstream/events reader receiving the match; ${lat_secs} s)",
        'p50 ' . fmt(1, map { $_->{p50} } @ok) . ' ms, p99 '
        . fmt(1, map { $_->{p99} } @ok) . ' ms; stored to SSE p50 '
        . fmt(1, map { $_->{sse_p50} } @ok) . ' ms, p99 '
        . fmt(1, map { $_->{sse_p99} } @ok) . ' ms'
        . (sum(map { $_->{missed} + $_->{gaps} } @lat)
           ? sprintf('; %d not seen, %d gaps',
                     sum(map { $_->{missed} } @lat),
                     sum(map { $_->{gaps} } @lat)) : ''),
        defined $p99 && $p99 < 20 ? 'goal p99 < 20 ms: met'
                                  : 'goal p99 < 20 ms: MISSED');
    my $cost = median(map { $_->{with} - $_->{without} } @idle) // 0;
    row($S, "$isubs idle subscribers on one worker (worker CPU over "
        . "${isecs} s)", 'with ' . fmt(2, map { 100 * $_->{with} } @idle)
        . '% of a core, without ' . fmt(2, map { 100 * $_->{without} } @idle)
        . '%' . (defined $idle[0]{timer_wakeups}
                 ? '; timer wake-ups ' . fmt(0, map { $_->{timer_wakeups} }
                                             @idle) : '')
        . '; load ' . join('/', map { $_->{load} } @idle),
        $cost < 0.02 ? 'goal < 2% of a core: met'
                     : 'goal < 2% of a core: MISSED');
    my $every = !grep { $_->{all} != $_->{subs} || $_->{subs} < $fsubs
                        || $_->{gaps} } @fan;
    row($S, "$fsubs subscribers over 2 workers at $frate events/s "
        . "(${fsecs} s)", join('; ', map {
            sprintf '%d of %d got all %d events (%.0f/s), %d gaps; workers '
                . 'CPU %.0f%%%s; load %s', $_->{all}, $_->{subs},
                $_->{events}, $_->{rate}, $_->{gaps}, 100 * $_->{cpu},
                defined $_->{wakeups}
                ? sprintf(', %d wake-ups', $_->{wakeups}) : '', $_->{load}
        } @fan), $every ? 'goal every event, no gap: met'
                        : 'goal every event, no gap: MISSED');
}

# ---- 8 cluster ----
#
# Three nginx nodes (one worker each) with the same VK key on one
# redis-server of our own (t/lib/VKStream/Redis.pm), the VK emulator behind
# them, streams published as copies of a tiny clip (a "_src" copy
# rendition: the point is the cluster's traffic, not CPU).
# (1) publish on node a to the stream listed live by GET /streams on c;
# (2) failover: SIGKILL of the VK holder's process group (master and
#     workers) to the emulator's next accepted VK connection, at the
#     default TTL (5 s) and at 2 s;
# (3) match latency from the emulator to SSE on a node that does not hold
#     VK (the holder XADDs each match, the node's reader XREADs it), as 7's
#     latency run;
# (4) Redis operations and bytes per second with 0, 10, 30 streams live
#     over the three nodes (INFO deltas), per stream;
# (5) scale: scripts/bench-cluster-sim.c simulates 10, 50, 100 more nodes
#     of 20 streams each (the agent's commands per TTL/3, a change of each
#     node's streams about once a minute): redis-server CPU and ops/s, the
#     view read's duration, and the real nodes' publish-to-view time.

my $CL_TINY = "$B/cluster-tiny.flv";

sub cl_tiny_clip {
    return if -s $CL_TINY;
    system('ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
           '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10',
           '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=22050',
           '-t', 10, '-c:v', 'libx264', '-preset', 'ultrafast', '-g', 20,
           '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '32k',
           '-f', 'flv', "$CL_TINY.tmp") == 0
        or die "bench: making $CL_TINY failed\n";
    rename "$CL_TINY.tmp", $CL_TINY;
}

sub cl_get {
    my ($n, $path) = @_;
    my $r = HTTP::Tiny->new(timeout => 3)
        ->get("http://127.0.0.1:$n->{http}/vkstream$path");
    return undef unless $r->{success};
    return eval { decode_json($r->{content}) };
}

sub cl_load { (split ' ', `cat /proc/loadavg`)[0] }

sub cl_node_start {
    my ($cl, $name) = @_;
    my $e = $EMU;
    my $main = join "\n",
        'vkstream_vk_token ' . $e->token . ';',
        'vkstream_vk_api ' . $e->api_url . ';',
        'vkstream_vk_ca ' . $e->ca . ';',
        "vkstream_matches $cl->{matches};",
        "vkstream_zone $cl->{zone};",
        'vkstream_cluster ' . $REDIS->url . ';',
        "vkstream_cluster_node $name;",
        'vkstream_cluster_url http://127.0.0.1:%%HTTP_PORT%%;',
        "vkstream_cluster_prefix $cl->{prefix};",
        ($cl->{ttl} ? "vkstream_cluster_ttl $cl->{ttl}s;" : '');
    (my $dir = $cl->{prefix}) =~ s/\W//g;
    my $n = nginx_start(name => "cluster-$dir-$name", main => $main,
        live => "vkstream on; vkstream_rendition _src $cl->{rendition};");
    $n->{name} = $name;
    $cl->{n}{$name} = $n;
    return $n;
}

# The holder's name once exactly one node says it holds VK, every node
# names it and the emulator has exactly one open connection.
sub cl_holder {
    my ($cl, $secs) = @_;
    my $h;
    vk_wait($secs, sub {
        my @mine = grep { ((cl_get($_, '/cluster') // {})->{vk} // {})
                          ->{mine} } values %{ $cl->{n} };
        return 0 unless @mine == 1;
        $h = $mine[0]{name};
        return 0 if grep { (((cl_get($_, '/cluster') // {})->{vk} // {})
                            ->{holder} // '') ne $h } values %{ $cl->{n} };
        return ($EMU->stats->{open} // 0) == 1
            && (vk_status($mine[0])->{state} // '') eq 'connected';
    }) or return undef;
    return $h;
}

sub cl_up {
    my (%o) = @_;
    # (every node's stream table holds every node's streams: the
    # simulated ones need room, hence few matches per stream there)
    my $cl = { prefix => $o{prefix}, ttl => $o{ttl}, n => {},
               matches => $o{matches} // 5000, zone => $o{zone} // '64m',
               rendition => $o{rendition} // 'video=copy audio=copy' };
    $EMU->admin(DELETE => '/admin/rules');
    cl_node_start($cl, $_) for qw(a b c);
    vk_wait(20, sub {
        @{ (cl_get($cl->{n}{c}, '/cluster') // {})->{nodes} // [] } == 3
    }) or die "bench: cluster: c does not list three nodes (see "
        . "$cl->{n}{c}{prefix}/logs/error.log)\n";
    defined cl_holder($cl, 30)
        or die "bench: cluster: no single VK holder within 30 s\n";
    return $cl;
}

sub cl_down {
    my ($cl) = @_;
    nginx_stop($_) for values %{ $cl->{n} };
    $cl->{n} = {};
}

sub cl_is_live {
    my ($n, $name, $one) = @_;
    if ($one) {         # GET /streams/live/NAME: light under a big view
        my $s = cl_get($n, "/streams/live/$name");
        return $s && ($s->{state} // '') eq 'live';
    }
    my $l = cl_get($n, '/streams') // {};
    return scalar grep { $_->{name} eq $name && $_->{state} eq 'live' }
        @{ $l->{streams} // [] };
}

# (1) publish on a, polled every 20 ms on a and c; [a, c] seconds from the
# publisher's start
sub cl_publish_view {
    my ($cl, $name, $one) = @_;
    my ($a, $c) = @{ $cl->{n} }{qw(a c)};
    my $t0 = time;
    my $pid = publish("rtmp://127.0.0.1:$a->{rtmp}/live/$name", 600,
                      $CL_TINY);
    my ($ta, $tc);
    my $end = $t0 + 20;
    while (time < $end && !defined $tc) {
        $ta //= time - $t0 if cl_is_live($a, $name, $one);
        $tc //= time - $t0 if cl_is_live($c, $name, $one);
        sleep 0.02;
    }
    $ta //= $tc;
    return ($pid, $ta, $tc);
}

sub cl_view_samples {
    my ($cl, $tag, $count, $one) = @_;
    my (@a, @c, @d);
    for my $i (1 .. $count) {
        my ($pid, $ta, $tc) = cl_publish_view($cl, "$tag$i", $one);
        push @a, $ta;
        push @c, $tc;
        push @d, $tc - $ta if defined $tc && defined $ta;
        note(sprintf 'cluster: %s%d listed on a after %s s, on c after %s s',
             $tag, $i, map { defined $_ ? sprintf('%.3f', $_) : 'never' }
             $ta, $tc);
        stop_publisher($pid);
        sleep 0.5;
    }
    return { a => \@a, c => \@c, d => \@d };
}

sub cl_info {
    my $s = $REDIS->info('stats');
    my $c = $REDIS->info('commandstats');
    my %calls;
    for my $k (keys %$c) {
        next unless $k =~ /^cmdstat_(\w+)$/;
        my $cmd = $1;
        $calls{$cmd} = $1 if $c->{$k} =~ /calls=(\d+)/;
    }
    return { t => time, ticks => proc_ticks($REDIS->{pid}),
             ops => $s->{total_commands_processed},
             in => $s->{total_net_input_bytes},
             out => $s->{total_net_output_bytes}, calls => \%calls };
}

sub cl_delta {
    my ($x, $y) = @_;
    my $dt = $y->{t} - $x->{t};
    my %calls = map { $_ => (($y->{calls}{$_} // 0) - ($x->{calls}{$_} // 0))
                            / $dt } keys %{ $y->{calls} };
    # our own two INFOs (stats, commandstats) per snapshot
    $calls{info} -= 2 / $dt if exists $calls{info};
    return { secs => $dt, ops => ($y->{ops} - $x->{ops} - 2) / $dt,
             in => ($y->{in} - $x->{in}) / $dt,
             out => ($y->{out} - $x->{out}) / $dt,
             cpu => ($y->{ticks} - $x->{ticks}) / $TICK / $dt,
             calls => \%calls };
}

# (4) N streams spread over the nodes, INFO deltas over $secs
sub cl_traffic {
    my ($cl, $counts, $secs) = @_;
    my (@pids, @out);
    my @names = qw(a b c);
    my $live = 0;
    for my $want (@$counts) {
        while ($live < $want) {
            my $n = $cl->{n}{ $names[$live % 3] };
            push @pids, publish("rtmp://127.0.0.1:$n->{rtmp}/live/t$live",
                                600, $CL_TINY);
            $live++;
        }
        vk_wait(30, sub {
            my $l = cl_get($cl->{n}{c}, '/streams') // {};
            (grep { $_->{state} eq 'live' && $_->{name} =~ /^t\d+$/ }
             @{ $l->{streams} // [] }) == $want;
        }) or note("cluster: not all $want streams live in c's view");
        sleep 3;        # renditions started, records settled
        my $x = cl_info();
        sleep $secs;
        my $d = cl_delta($x, cl_info());
        $d->{streams} = $want;
        $d->{load} = cl_load();
        note(sprintf 'cluster: %d streams: %.1f ops/s, in %.0f B/s, out %.0f '
             . 'B/s, redis CPU %.1f%%; %s', $want, $d->{ops}, $d->{in},
             $d->{out}, 100 * $d->{cpu}, join ' ', map {
                 sprintf '%s %.1f', $_, $d->{calls}{$_} }
             grep { $d->{calls}{$_} >= 0.05 } sort keys %{ $d->{calls} });
        push @out, $d;
    }
    # one real stream entry, the simulator's template
    my $rec = eval { decode_json($REDIS->cmd('HGET', "$cl->{prefix}node:a",
                                             'streams')) } // [];
    if (@$rec) {
        my $j = JSON::PP->new->canonical->encode($rec->[0]);
        $j =~ s/"id":\d+/"id":\@ID\@/;
        $j =~ s/"name":"[^"]*"/"name":"\@NAME\@"/;
        $j =~ s/"tag":"vks:s:live\/[^"]*"/"tag":""/;
        open my $f, '>', "$B/cluster-stream.json" or die $!;
        print $f $j;
        close $f;
        $cl->{entry_bytes} = length $j;
    }
    stop_publisher($_) for @pids;
    return \@out;
}

# (3) at $rate events/s on a node that is not the holder
sub cl_latency {
    my ($cl, $rate, $secs) = @_;
    my $h = cl_holder($cl, 10) // 'a';
    my ($x) = grep { $_ ne $h } qw(c b a);
    my $r = HTTP::Tiny->new(timeout => 5)->post(
        "http://127.0.0.1:$cl->{n}{a}{http}/vkstream/rules",
        { content => '{"tag":"bench","value":"бенчмарк"}',
          headers => { 'Content-Type' => 'application/json' } });
    die "bench: POST /vkstream/rules: $r->{status} $r->{content}\n"
        unless $r->{success};
    vk_wait(15, sub {
        grep { $_->{tag} eq 'vks:g:bench' }
            @{ $EMU->admin(GET => '/admin/rules')->{rules} // [] }
    }) or die "bench: cluster: the global rule does not reach the emulator\n";
    vk_wait(10, sub {
        ((cl_get($cl->{n}{$x}, '/rules/bench') // {})->{state} // '')
            eq 'active' });
    my $i0 = cl_info();
    my $l = vk_latency($cl->{n}{$x}, $rate, $secs);
    my $d = cl_delta($i0, cl_info());
    $l->{holder} = $h;
    $l->{node} = $x;
    $l->{redis} = $d;
    $l->{load} = cl_load();
    $l->{xadd} = $d->{calls}{xadd} // 0;
    HTTP::Tiny->new(timeout => 5)->delete(
        "http://127.0.0.1:$cl->{n}{a}{http}/vkstream/rules/bench");
    return $l;
}

# (2) SIGKILL of the holder: seconds to the emulator's next accepted VK
# connection (and to a survivor naming a new holder); the killed node is
# started again afterwards
sub cl_failover {
    my ($cl) = @_;
    my $h = cl_holder($cl, 30) // die "bench: cluster: no holder\n";
    my @others = grep { $_ ne $h } qw(a b c);
    my $st = $EMU->stats;
    my $acc = $st->{counters}{ws_accepted} // 0;
    my $rej = $st->{counters}{ws_rejected} // 0;
    my $n = $cl->{n}{$h};
    my $pid = $n->{pid};
    # at a random point of the renewal period, as a crash would be
    sleep rand(($cl->{ttl} // 5) / 3);
    my $t0 = time;
    kill 'KILL', -$pid;
    waitpid $pid, 0;
    delete $NGINX_PGID{$pid};
    my ($t_lease, $t_vk, $t_view);
    my $end = $t0 + ($cl->{ttl} // 5) + 20;
    while (time < $end && !(defined $t_vk && defined $t_view)) {
        my $s = $EMU->stats;
        $t_vk //= time - $t0
            if ($s->{counters}{ws_accepted} // 0) > $acc && $s->{open} == 1;
        my $c = cl_get($cl->{n}{ $others[0] }, '/cluster') // {};
        my $x = ($c->{vk} // {})->{holder} // '';
        $t_lease //= time - $t0 if $x ne '' && $x ne $h;
        $t_view //= time - $t0
            if $c->{nodes} && !grep { $_->{name} eq $h } @{ $c->{nodes} };
        sleep 0.02;
    }
    my $rej1 = $EMU->stats->{counters}{ws_rejected} // 0;
    note(sprintf 'cluster: ttl %ss: SIGKILL of holder %s: lease moved after '
         . '%s s, new VK connection after %s s, node gone from the view '
         . 'after %s s; refused VK connections %d', $cl->{ttl} // 5, $h,
         map({ defined $_ ? sprintf('%.2f', $_) : 'never' }
             $t_lease, $t_vk, $t_view), $rej1 - $rej);
    delete $cl->{n}{$h};
    cl_node_start($cl, $h);
    vk_wait(20, sub {
        @{ (cl_get($cl->{n}{$h}, '/cluster') // {})->{nodes} // [] } == 3
    });
    return { holder => $h, lease => $t_lease, vk => $t_vk, view => $t_view,
             refused => $rej1 - $rej };
}

# (5) $nodes simulated nodes of 20 streams: how long until node c lists
# them, then a steady window of $secs, then publishes on a seen from c;
# the simulator runs until told to stop (SIGTERM)
sub cl_scale {
    my ($cl, $nodes, $secs) = @_;
    my $out = "$B/cluster-sim.out";
    unlink $out;
    my $churn = $nodes / 60;
    my @cmd = ("$B/bench-cluster-sim", '-p', $REDIS->port, '-x',
               $cl->{prefix}, '-n', $nodes, '-k', 20, '-t',
               1000 * ($cl->{ttl} // 5), '-d', 600, '-c', $churn,
               (-s "$B/cluster-stream.json"
                ? ('-s', "$B/cluster-stream.json") : ()));
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out;
        open STDERR, '>>', "$B/cluster-sim.log";
        exec(@cmd) or POSIX::_exit(127);
    }
    $SIMS{$pid} = 1;
    my $t0 = time;
    my $t_listed;
    vk_wait(15, sub {
        @{ (cl_get($cl->{n}{c}, '/cluster') // {})->{nodes} // [] }
            >= $nodes + 3 }) and $t_listed = time - $t0;
    sleep 1;
    my $i0 = cl_info();
    my $s0 = proc_ticks($pid);
    my ($a0, $id0) = total_cpu_ticks();
    sleep $secs;
    my $d = cl_delta($i0, cl_info());
    my ($a1, $id1) = total_cpu_ticks();
    $d->{sim_cpu} = (proc_ticks($pid) - $s0) / $TICK / $d->{secs};
    $d->{busy} = ($a1 - $a0) ? 1 - ($id1 - $id0) / ($a1 - $a0) : 0;
    my $c = cl_get($cl->{n}{c}, '/cluster') // {};
    $d->{listed} = scalar @{ $c->{nodes} // [] };
    $d->{invalid} = ($c->{counters} // {})->{invalid};
    $d->{t_listed} = $t_listed;
    my $view = cl_view_samples($cl, "sc${nodes}_", 3, 1);
    kill 'TERM', $pid;
    my $end = time + 10;
    sleep 0.1 while waitpid($pid, WNOHANG) == 0 && time < $end;
    if (kill 0, $pid) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
    delete $SIMS{$pid};
    my $sim = eval {
        open my $f, '<', $out or die;
        local $/;
        decode_json(<$f>);
    } // {};
    $d->{sim} = $sim;
    $d->{nodes} = $nodes;
    $d->{view_c} = $view->{c};
    $d->{view_d} = $view->{d};
    $d->{load} = cl_load();
    note(sprintf 'cluster: %d simulated nodes (x20 streams, churn %.2f/s): '
         . 'redis CPU %.1f%%, %.0f ops/s, out %.2f MB/s; sim CPU %.0f%%, '
         . 'view read p50 %.1f ms p99 %.1f ms (%s reads, %s late); c listed '
         . '%d nodes (all after %s s; %s invalid); publish to view on c %s '
         . 's; machine %.0f%% busy', $nodes, $churn, 100 * $d->{cpu},
         $d->{ops}, $d->{out} / 1e6, 100 * $d->{sim_cpu},
         $sim->{view_p50_ms} // -1, $sim->{view_p99_ms} // -1,
         $sim->{views} // '?', $sim->{late} // '?', $d->{listed},
         defined $t_listed ? sprintf('%.1f', $t_listed) : 'never',
         $d->{invalid} // '?', fmt(2, @{ $view->{c} }), 100 * $d->{busy});
    # the simulated records expire after the TTL
    sleep(($cl->{ttl} // 5) + 1);
    return $d;
}

sub cluster {
    require VKStream::Redis;
    require VKStream::Emulator;
    my $t = time;
    cl_tiny_clip();
    -x "$B/bench-cluster-sim" or die "bench: $B/bench-cluster-sim missing "
        . "(scripts/bench.sh builds it)\n";
    my $samples = knob('BENCH_CL_SAMPLES', $QUICK ? 3 : 5, 1);
    my $fo = knob('BENCH_CL_FAILOVERS', $QUICK ? 1 : 3, 0);
    my $tsecs = knob('BENCH_CL_SECS', $QUICK ? 6 : 10, 1);
    my @counts = knob_list('BENCH_CL_STREAMS', '0,10,30');
    my @sims = knob_list('BENCH_CL_SIM', '10,50,100');
    die "bench: BENCH_CL_STREAMS, BENCH_CL_SIM: counts\n"
        if grep { !/^\d+$/ } @counts, @sims;
    my $simsecs = knob('BENCH_CL_SIM_SECS', $QUICK ? 10 : 15, 1);
    my $lat_rate = $ENV{BENCH_VK_LAT_RATE} // 1000;
    my $lat_secs = $ENV{BENCH_VK_LAT_SECS} // 4;
    my %r = (load0 => cl_load());

    $EMU = VKStream::Emulator->new(args => ['--ping-interval', 0]);
    $REDIS = VKStream::Redis->new;
    note("cluster: redis-server " . $REDIS->port . ', load ' . cl_load());

    # default TTL (5 s), 5000 matches kept (the latency run reads them)
    my $cl = cl_up(prefix => 'bc5:');
    $r{view} = cl_view_samples($cl, 'v', $samples);
    $r{latency} = [map { cl_latency($cl, $lat_rate, $lat_secs) } 1 .. $RUNS];
    $r{failover}{5} = [map { cl_failover($cl) } 1 .. $fo];
    cl_down($cl);
    # vkstream_cluster_ttl 2s
    $cl = cl_up(prefix => 'bc2:', ttl => 2);
    $r{failover}{2} = [map { cl_failover($cl) } 1 .. $fo];
    cl_down($cl);
    # Redis traffic and scale: room for 2,000+ streams in every table, an
    # audio-only copy rendition (the cheapest live stream)
    if (@counts || @sims) {
        $cl = cl_up(prefix => 'bcs:', matches => 10, zone => '512m',
                    rendition => 'video=none audio=copy');
        $r{traffic} = cl_traffic($cl, \@counts, $tsecs) if @counts;
        $r{entry_bytes} = $cl->{entry_bytes};
        $r{scale} = [map { cl_scale($cl, $_, $simsecs) } @sims];
        cl_down($cl);
    }
    $r{refused} = $EMU->stats->{counters}{ws_rejected} // 0;
    $EMU->stop;
    undef $EMU;
    $REDIS->stop;
    undef $REDIS;
    $r{secs} = time - $t;
    $R{cluster} = \%r;
    note(sprintf 'cluster: took %.0f s', $r{secs});
    cluster_rows(\%r);
}

sub cluster_rows {
    my ($r) = @_;
    my $S = '8 cluster';
    my $v = $r->{view};
    row($S, sprintf('publish on node a (ffmpeg start) to the stream live in '
        . 'GET /streams on node c (%d samples, polled every 20 ms)',
        scalar @{ $v->{c} }),
        fmt(3, @{ $v->{c} }) . ' s; on a itself ' . fmt(3, @{ $v->{a} })
        . ' s; c after a ' . fmt(3, @{ $v->{d} }) . ' s',
        "load $r->{load0} at start");
    for my $ttl (5, 2) {
        my @f = @{ $r->{failover}{$ttl} // [] } or next;
        row($S, "failover, vkstream_cluster_ttl ${ttl}s: SIGKILL of the VK "
            . 'holder (master and worker) to the next VK connection accepted '
            . 'by the emulator (' . @f . ' kills)',
            fmt(2, map { $_->{vk} } @f) . ' s; lease named on a survivor '
            . fmt(2, map { $_->{lease} } @f) . ' s; dead node gone from '
            . '/cluster ' . fmt(2, map { $_->{view} } @f) . ' s; VK '
            . 'connections refused: ' . sum(map { $_->{refused} } @f),
            'goal: within TTL + 2 s');
    }
    my @l = grep { $_->{n} } @{ $r->{latency} };
    if (@l) {
        row($S, sprintf('match latency at %d events/s, emulator send to SSE '
            . 'on node %s (VK holder %s; %d events per run)',
            $ENV{BENCH_VK_LAT_RATE} // 1000, $l[0]{node}, $l[0]{holder},
            median(map { $_->{n} } @l)),
            'p50 ' . fmt(1, map { $_->{p50} } @l) . ' ms, p99 '
            . fmt(1, map { $_->{p99} } @l) . ' ms; emulator to filed on '
            . "$l[0]{node} p50 " . fmt(1, map { $_->{store_p50} } @l)
            . ' ms, p99 ' . fmt(1, map { $_->{store_p99} } @l) . ' ms; Redis '
            . 'over the run and its read-back '
            . fmt(0, map { $_->{redis}{secs} } @l) . ' s: '
            . fmt(0, map { $_->{redis}{ops} } @l) . ' ops/s ('
            . fmt(0, map { $_->{xadd} } @l) . ' XADD/s), CPU '
            . fmt(1, map { 100 * $_->{redis}{cpu} } @l) . '%'
            . (sum(map { $_->{missed} + $_->{gaps} } @l)
               ? sprintf('; %d not seen, %d gaps',
                         sum(map { $_->{missed} } @l),
                         sum(map { $_->{gaps} } @l)) : ''),
            'load ' . join('/', map { $_->{load} } @l));
    }
    my @t = @{ $r->{traffic} // [] };
    for my $d (@t) {
        row($S, "Redis with $d->{streams} streams live over 3 nodes "
            . sprintf('(%.0f s)', $d->{secs}),
            sprintf('%.1f ops/s, in %.0f B/s, out %.0f B/s, redis-server '
                    . 'CPU %.2f%%', $d->{ops}, $d->{in}, $d->{out},
                    100 * $d->{cpu}), "load $d->{load}");
    }
    my ($z) = grep { $_->{streams} == 0 } @t;
    if ($z) {
        for my $d (grep { $_->{streams} } @t) {
            my $k = $d->{streams};
            row($S, "Redis per stream per second ($k streams minus 0)",
                sprintf('%.3f ops, in %.0f B, out %.0f B',
                        ($d->{ops} - $z->{ops}) / $k,
                        ($d->{in} - $z->{in}) / $k,
                        ($d->{out} - $z->{out}) / $k),
                "stream entry in a node record: $r->{entry_bytes} B");
        }
    }
    for my $d (@{ $r->{scale} // [] }) {
        my $s = $d->{sim};
        row($S, "scale: 3 nodes + $d->{nodes} simulated x 20 streams "
            . sprintf('(streams change %.2f/s; %.0f s)', $s->{churn} // 0,
                      $d->{secs}),
            sprintf('redis-server CPU %.1f%%, %.0f ops/s, out %.2f MB/s; '
                    . 'view read (ZRANGEBYSCORE + HGETALL of every node) '
                    . 'p50 %.1f ms, p99 %.1f ms, max %.1f ms; simulator CPU '
                    . '%.0f%%; real node c lists %d nodes (all %s s after the '
                    . 'start); publish on a to '
                    . 'GET /streams/live/NAME on c %s s',
                    100 * $d->{cpu}, $d->{ops}, $d->{out} / 1e6,
                    $s->{view_p50_ms} // -1, $s->{view_p99_ms} // -1,
                    $s->{view_max_ms} // -1, 100 * $d->{sim_cpu},
                    $d->{listed}, defined $d->{t_listed}
                    ? sprintf('%.1f', $d->{t_listed}) : 'never',
                    fmt(2, @{ $d->{view_c} })),
            sprintf('machine %.0f%% busy, load %s', 100 * $d->{busy},
                    $d->{load}));
    }
}

# ---- 9 latency: LL-HLS against classic HLS ----
#
# One publish of a picture that carries its capture time (the barcode of
# scripts/bench-clock-src.c, x264 veryfast zerolatency, 2 s GOP, + AAC),
# transcoded by the module into _low, which nginx-rtmp writes as classic
# HLS and the module as LL-HLS.  scripts/bench-latency.js plays both in one
# headless Chromium page with hls.js' defaults and reads the capture time
# of every frame shown: glass to glass, on one clock.  Then the worker CPU
# of the same publish with vkstream_llhls on and off.

my $CLOCK = "$B/bench-clock-src";
my @LAT_PARTS = knob_list('BENCH_LAT_PARTS', $QUICK ? '500' : '500,333,250');
die "bench: BENCH_LAT_PARTS: part targets in ms, 100 or more\n"
    if grep { !/^\d+$/ || $_ < 100 } @LAT_PARTS;
my $LAT_WARM = knob('BENCH_LAT_WARMUP', 10, 0);
# the players join a running stream, as a viewer would (and the classic
# playlist then lists more than its first segment)
my $LAT_JOIN = knob('BENCH_LAT_JOIN', 10, 0);
my $LAT_SECS = knob('BENCH_LAT_SECS', $QUICK ? 30 : 60, 1);
my $LAT_CPU_SECS = knob('BENCH_LAT_CPU_SECS', $QUICK ? 20 : 40, 1);
my $LAT_SIZE = $ENV{BENCH_LAT_SIZE} || '1280x720';
die "bench: BENCH_LAT_SIZE=$LAT_SIZE: WIDTHxHEIGHT, even numbers\n"
    unless $LAT_SIZE =~ /^(\d+)x(\d+)$/ && $1 % 2 == 0 && $2 % 2 == 0
        && $1 >= 64 && $2 >= 64;
my ($LAT_SERVE) = knob_list('BENCH_LAT_SERVE', 'blocking', qw(blocking static));
# hls.js as shipped, then with the one setting that lets it catch up the
# time it spent starting (its default, 1, never plays faster than real time)
my @LAT_HLS = grep { /\S/ } split /;/,
    ($ENV{BENCH_LAT_HLS} // '{};{"maxLiveSyncPlaybackRate":1.5}');
for (@LAT_HLS) {
    my $h = eval { decode_json($_) };
    die "bench: BENCH_LAT_HLS: '$_' is not a JSON object\n"
        unless ref $h eq 'HASH';
}
# The source stands for a camera's encoder, which runs elsewhere: ultrafast
# keeps it to a fifth of a core here (veryfast takes half of one at 720p
# and falls behind real time when the 2 cores are shared).
my $LAT_PRESET = $ENV{BENCH_LAT_PRESET} // 'ultrafast';
my $CHROMIUM = $ENV{VKSTREAM_CHROMIUM} // '/usr/bin/chromium';

sub lat_stop_pipes {
    for my $pg (keys %PIPES) {
        kill 'INT', -$pg;
        my $end = time + 5;
        sleep 0.05 while waitpid($pg, WNOHANG) == 0 && time < $end;
        kill 'KILL', -$pg;
        waitpid $pg, 0;
    }
    %PIPES = ();
}

# The clock source piped into ffmpeg, in a process group of its own.
sub lat_publish {
    my ($url, $clocklog) = @_;
    $clocklog //= '/dev/null';
    my ($w, $h) = split /x/, $LAT_SIZE;
    # Frames are stamped as they arrive (the source drops frames when the
    # encoder falls behind, as a camera would) and put on a 30 fps grid
    # (a dropped frame becomes a repeated one), IDRs every 2 s of that
    # clock; the audio is made by a filter with no input, so ffmpeg makes
    # it as the video advances and never reads ahead of the pipe.
    my $ff = "ffmpeg -hide_banner -loglevel error -nostdin "
        . "-use_wallclock_as_timestamps 1 "
        . "-f rawvideo -pix_fmt yuv420p -s ${w}x$h -framerate $FPS -i - "
        . "-filter_complex 'sine=frequency=440:sample_rate=44100[a]' "
        . "-map 0:v -map '[a]' -vsync cfr -r $FPS "
        . "-c:v libx264 -preset $LAT_PRESET "
        . "-tune zerolatency -pix_fmt yuv420p "
        . "-force_key_frames 'expr:gte(t,n_forced*$GOP)' -g 300 "
        . "-sc_threshold 0 -b:v 2500k -maxrate 2500k -bufsize 5000k "
        . "-c:a aac -b:a 128k -f flv '$url'";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        setpgid(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$B/publishers.log";
        open STDERR, '>>', "$B/publishers.log";
        exec('/bin/sh', '-c', "'$CLOCK' $w $h $FPS 2>'$clocklog' | exec $ff")
            or POSIX::_exit(127);
    }
    setpgid($pid, $pid);
    $PIPES{$pid} = 1;
    return $pid;
}

my $LAT_HTTP = <<'HTTP';
        location /classic/ {
            alias %%HLS%%/;
            types {
                application/vnd.apple.mpegurl m3u8;
                video/mp2t ts;
            }
            add_header Cache-Control no-cache;
        }
        location /ll/ {
            alias %%PREFIX%%/ll/;
            %%LLSERVE%%
            types {
                application/vnd.apple.mpegurl m3u8;
                video/iso.segment m4s;
                video/mp4 mp4;
            }
            add_header Cache-Control no-cache;
        }
HTTP

sub lat_conf {
    my ($part, $on) = @_;
    my $serve = $LAT_SERVE eq 'blocking' ? 'vkstream_llhls_serve;' : '';
    (my $http = $LAT_HTTP) =~ s/%%LLSERVE%%/$serve/;
    my $live = 'vkstream on; ' . ($ENV{BENCH_LAT_CONF} // '');
    $live .= " vkstream_llhls on; vkstream_llhls_path %%PREFIX%%/ll;"
        . " vkstream_llhls_part_target ${part}ms;" if $on;
    return (live => $live, http => $http);
}

sub slurp { open my $f, '<', $_[0] or return ''; local $/; <$f> }

# Runs the browser driver in a process group of its own (Chromium and its
# helpers go with it); returns its output, or '' after $limit seconds.
sub lat_browser {
    my ($cfgfile, $limit) = @_;
    my $outfile = "$cfgfile.out";
    unlink $outfile;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        setpgid(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $outfile;
        open STDERR, '>>', "$B/latency-browser.log";
        exec('node', "$ROOT/scripts/bench-latency.js", $cfgfile)
            or POSIX::_exit(127);
    }
    setpgid($pid, $pid);
    $PIPES{$pid} = 1;
    my $end = time + $limit;
    sleep 0.2 while waitpid($pid, WNOHANG) == 0 && time < $end;
    kill 'KILL', -$pid;
    waitpid $pid, 0;
    delete $PIPES{$pid};
    return slurp($outfile);
}

# One side-by-side run at one part target.
sub lat_run {
    my ($part, $hls) = @_;
    my $n = nginx_start(name => "lat$part", lat_conf($part, 1));
    my $name = 'clock';
    my $ll_pl = "$n->{prefix}/ll/${name}_low/index.m3u8";
    my $cl_pl = "$n->{hls}/${name}_low.m3u8";
    my $t0 = time;
    my $load0 = (split ' ', slurp('/proc/loadavg'))[0];
    my $clocklog = "$B/clock-$part.log";
    lat_publish("rtmp://127.0.0.1:$n->{rtmp}/live/$name", $clocklog);

    # the publisher's first byte (as in scenario 1), the first LL part and
    # the first classic segment listed (files polled every 5 ms)
    my $port_hex = sprintf ':%04X ', $n->{rtmp};
    my ($t_conn, $t_part, $t_seg);
    my $end = time + 30;
    while (time < $end && !(defined $t_part && defined $t_seg)) {
        if (!defined $t_conn && open my $f, '<', '/proc/net/tcp') {
            local $/;
            my $tab = <$f>;
            $t_conn = time - $t0
                if $tab =~ /^\s*\d+: \S+ [0-9A-F]+\Q$port_hex\E0[12] /m;
        }
        $t_part //= time - $t0 if slurp($ll_pl) =~ /^#EXT-X-PART:/m;
        $t_seg //= time - $t0 if slurp($cl_pl) =~ /^#EXTINF:/m;
        sleep 0.005;
    }
    my %r = (part => $part, load => $load0, t_conn => $t_conn,
             t_part => $t_part, t_seg => $t_seg);
    unless (defined $t_part && defined $t_seg) {
        note("latency: no LL part or no classic segment within 30 s");
        lat_stop_pipes();
        nginx_stop($n);
        return \%r;
    }

    sleep 0.1 while time < $t0 + $LAT_JOIN;
    my $origin = "http://127.0.0.1:$n->{http}";
    my $cfg = {
        origin => $origin, chromium => $CHROMIUM,
        hls_js => "$ROOT/build/ui/hls.min.js",
        modules => "$ROOT/node_modules",
        warmup_s => $LAT_WARM + 0, duration_s => $LAT_SECS + 0,
        hls_config => decode_json($hls),
        players => [
            { name => 'classic', url => "$origin/classic/${name}_low.m3u8" },
            { name => 'll', url => "$origin/ll/${name}_low/index.m3u8" },
        ],
    };
    my $cfgfile = "$B/latency-$part.json";
    open my $f, '>', $cfgfile or die $!;
    print $f encode_json($cfg);
    close $f;
    my $json = lat_browser($cfgfile, $LAT_WARM + $LAT_SECS + 90);
    my $load1 = (split ' ', slurp('/proc/loadavg'))[0];
    lat_stop_pipes();
    nginx_stop($n);
    my $o = eval { decode_json($json) };
    if (!$o || $o->{error}) {
        note("latency: browser driver failed: "
             . ($o ? $o->{error} : substr($json // '', 0, 300)));
        return \%r;
    }
    $r{load_end} = $load1;
    # how late the source made its frames (its encoder behind real time),
    # 10 s windows after the first
    my @late = slurp($clocklog) =~ /late_max_ms=(\d+)/g;
    my @skip = slurp($clocklog) =~ /skipped=(\d+)/g;
    shift @late;
    $r{clock_late_max_ms} = (sort { $b <=> $a } @late)[0];
    $r{clock_skipped} = $skip[-1];
    $r{env} = $o->{env};
    $r{console_errors} = scalar @{ $o->{console_errors} // [] };
    for my $p (qw(classic ll)) {
        my $pl = $o->{players}{$p} or next;
        my $warm = $LAT_WARM * 1000;
        my @s = grep { $_->[0] >= $warm } @{ $pl->{samples} };
        my @g = map { $_->[1] / 1000 } @s;
        my @d = map { $_->[2] / 1000 } grep { defined $_->[2] } @s;
        my @tl = grep { defined } map { $_->[3] } @s;
        my @rate = map { $_->[4] } @s;
        my @hl = grep { defined } map { $_->[5] } @s;
        my %ev;
        my ($playing) = grep { $_->{what} eq 'playing' } @{ $pl->{events} };
        for my $e (@{ $pl->{events} }) {
            $ev{$e->{what}}++;
            $ev{"$e->{what}_measured"}++ if $e->{t} >= $warm;
        }
        my @fatal = map { $_->{details} }
                    grep { $_->{what} eq 'fatal' } @{ $pl->{events} };
        $r{$p} = {
            frames => $pl->{frames}, unread => $pl->{unread},
            read => scalar @{ $pl->{samples} }, measured => scalar @s,
            span => @s ? ($s[-1][0] - $s[0][0]) / 1000 : 0,
            method => $pl->{method},
            p50 => median(@g), p95 => pct(95, @g),
            min => (sort { $a <=> $b } @g)[0],
            max => (sort { $b <=> $a } @g)[0],
            pdt_p50 => median(@d), pdt_p95 => pct(95, @d),
            target_min => (sort { $a <=> $b } @tl)[0],
            target_max => (sort { $b <=> $a } @tl)[0],
            rate_min => (sort { $a <=> $b } @rate)[0],
            rate_max => (sort { $b <=> $a } @rate)[0],
            hls_latency_p50 => median(@hl),
            playing_s => $playing ? $playing->{t} / 1000 : undef,
            waiting => $ev{waiting} // 0,
            waiting_measured => $ev{waiting_measured} // 0,
            stalled => $ev{stalled} // 0,
            stalled_measured => $ev{stalled_measured} // 0,
            errors => $ev{error} // 0, fatal => \@fatal,
        };
        # the difference of the two clocks, frame by frame
        my @diff = map { ($_->[1] - $_->[2]) / 1000 }
                   grep { defined $_->[2] } @s;
        $r{$p}{glass_minus_pdt_p50} = median(@diff);
    }
    return \%r;
}

# Worker CPU per stream-minute of one clock publish, LL-HLS on or off.
sub lat_cpu {
    my ($on) = @_;
    my $n = nginx_start(name => 'latcpu' . ($on ? 'on' : 'off'),
                        lat_conf(500, $on));
    sleep 0.3;
    my $w0 = group_procs($n);
    my %t0 = map { $_ => $w0->{$_}{ticks} }
             grep { $w0->{$_}{kind} eq 'worker' } keys %$w0;
    my $start = time;
    lat_publish("rtmp://127.0.0.1:$n->{rtmp}/live/cpu");
    sleep 0.25 while time < $start + $LAT_CPU_SECS;
    my $secs = time - $start;
    lat_stop_pipes();
    # the renditions end and flush
    sleep 2;
    my $w1 = group_procs($n);
    my $ticks = 0;
    for my $pid (keys %t0) {
        $ticks += ($w1->{$pid}{ticks} // $t0{$pid}) - $t0{$pid};
    }
    my $ok = $on ? -s "$n->{prefix}/ll/cpu_low/index.m3u8" : 1;
    nginx_stop($n);
    return undef unless $ok;
    return $ticks / $TICK / ($secs / 60);
}

sub latency {
    my @missing = grep { !-e $_->[0] }
        ([$CHROMIUM, 'chromium (make deps)'],
         ["$ROOT/node_modules/playwright-core", 'playwright-core (make ui)'],
         ["$ROOT/build/ui/hls.min.js", 'hls.js (make ui)'],
         [$CLOCK, 'bench-clock-src (scripts/bench.sh builds it)']);
    if (@missing || system('node --version >/dev/null 2>&1') != 0) {
        my $what = join ', ', map { $_->[1] } @missing;
        $what ||= 'node';
        note("latency: skipped, missing $what");
        row('9 latency', 'n/a', "missing $what", '');
        return;
    }
    my $S = '9 latency';
    my @runs;
    for my $hls (@LAT_HLS) {
        for my $part (@LAT_PARTS) {
            my $hc = $hls eq '{}' ? ', hls.js defaults' : ", hls.js $hls";
            note("latency: classic and LL-HLS (part target ${part} ms, "
                 . "$LAT_SERVE playlists$hc), ${LAT_WARM}s + ${LAT_SECS}s");
            my $r = lat_run($part, $hls);
            $r->{hls_config} = $hls;
            push @runs, $r;
            my $t = sprintf 'publish (first byte) to the first LL part listed '
                . '%s s, to the first classic segment %s s',
                map { defined $_ && defined $r->{t_conn}
                      ? sprintf('%.2f', $_ - $r->{t_conn}) : 'n/a' }
                $r->{t_part}, $r->{t_seg};
            for my $p (qw(ll classic)) {
                my $x = $r->{$p};
                my $label = $p eq 'll'
                    ? "LL-HLS, part target $part ms ($LAT_SERVE playlists$hc)"
                    : "classic nginx-rtmp HLS (same run as part target $part"
                      . "$hc)";
                unless ($x && $x->{measured}) {
                    row($S, $label, 'no samples', $t);
                    next;
                }
                my $fig = sprintf 'glass to glass p50 %.2f s, p95 %.2f s '
                    . '(min %.2f, max %.2f)', $x->{p50}, $x->{p95}, $x->{min},
                    $x->{max};
                $fig .= sprintf '; now - playingDate p50 %.2f s, p95 %.2f s '
                    . '(glass minus that, per frame: p50 %.2f s)',
                    $x->{pdt_p50}, $x->{pdt_p95}, $x->{glass_minus_pdt_p50}
                    if $p eq 'll' && defined $x->{pdt_p50};
                my $note = sprintf '%d stalls after playing started (waiting '
                    . '%d, BUFFER_STALLED_ERROR %d; %d in the measured %.0f s); '
                    . 'frames read %d of %d shown (%d measured); '
                    . 'targetLatency %.2f-%.2f s, playbackRate %.2f-%.2f, '
                    . 'hls.latency p50 %.2f s; playing %.1f s after load',
                    $x->{waiting} + $x->{stalled}, $x->{waiting}, $x->{stalled},
                    $x->{waiting_measured} + $x->{stalled_measured}, $x->{span},
                    $x->{read}, $x->{frames}, $x->{measured},
                    $x->{target_min} // 0, $x->{target_max} // 0,
                    $x->{rate_min} // 0, $x->{rate_max} // 0,
                    $x->{hls_latency_p50} // 0, $x->{playing_s} // -1;
                $note .= '; fatal: ' . join(',', @{ $x->{fatal} })
                    if @{ $x->{fatal} };
                if ($p eq 'll') {
                    my $met = $x->{p50} <= 2.0 && $x->{p95} <= 2.5
                        && $x->{waiting} + $x->{stalled} == 0;
                    $note = 'goal p50 <= 2.0 s, p95 <= 2.5 s, 0 stalls: '
                        . ($met ? 'met' : 'MISSED') . "; $note";
                }
                row($S, $label, $fig, $note);
            }
            row($S, "startup, part target $part ms$hc", $t,
                sprintf('load average %s at the start, %s at the end; the '
                        . 'source made its frames up to %s ms late and '
                        . 'skipped %s (its encoder behind real time)',
                        $r->{load}, $r->{load_end} // 'n/a',
                        $r->{clock_late_max_ms} // '?',
                        $r->{clock_skipped} // '?'));
        }
    }
    $R{latency}{runs} = \@runs;

    my (@on, @off);
    for my $run (1 .. $RUNS) {
        for my $on (0, 1) {
            note("latency: worker CPU, vkstream_llhls " . ($on ? 'on' : 'off')
                 . ", run $run/$RUNS, ${LAT_CPU_SECS}s");
            my $c = lat_cpu($on);
            push @{ $on ? \@on : \@off }, $c if defined $c;
        }
    }
    $R{latency}{cpu_on} = \@on;
    $R{latency}{cpu_off} = \@off;
    row($S, 'worker CPU per stream-minute, _low, vkstream_llhls off',
        fmt(2, @off) . ' CPU s/min', '');
    row($S, 'worker CPU per stream-minute, _low, vkstream_llhls on '
        . '(part target 500 ms)', fmt(2, @on) . ' CPU s/min',
        @on && @off ? sprintf('LL-HLS adds %.2f CPU s/min (%.1f%%)',
                              median(@on) - median(@off),
                              100 * (median(@on) / median(@off) - 1)) : '');
}

# ---- main ----

# The report: results.md from the rows, results.json with the raw samples.
sub write_report {
    my ($M, $md_file, $json_file) = @_;
    my $run = $R{run} // { runs => $RUNS, duration => $DUR, quick => $QUICK };
    my $md = '';
    $md .= "| | |\n|---|---|\n";
    $md .= "| CPU | $M->{cpu}, $M->{cores} cores (load average $M->{load} "
        . "at start) |\n";
    $md .= "| versions | nginx $M->{nginx}, nginx-rtmp $M->{rtmp}, ffmpeg "
        . "$M->{ffmpeg}, x264 $M->{x264} |\n";
    $md .= "| date | $M->{date} |\n";
    $md .= "| runs | $run->{runs} per figure, median (min-max); "
        . "$run->{duration} s sessions" . ($run->{quick} ? '; BENCH_QUICK' : '')
        . sprintf("; took %.0f s |\n\n", $run->{took} // 0);
    $md .= "| scenario | what | figure | goal / note |\n";
    $md .= "|---|---|---|---|\n";
    $md .= "| $_->[0] | $_->[1] | $_->[2] | $_->[3] |\n" for @ROWS;
    open my $f, '>', $md_file or die "$md_file: $!";
    print $f $md;
    close $f;
    if ($json_file) {
        open $f, '>', $json_file or die "$json_file: $!";
        print $f JSON::PP->new->canonical->pretty->encode(
            { machine => $M, results => \%R, rows => \@ROWS });
        close $f;
    }
    return $md;
}

# "bench.pl --report IN.json [OUT.md]": the report again from a run's
# results.json, as if only BENCH_ONLY's scenarios and BENCH_CONFIGS'
# configurations had run; the rows of scenarios made elsewhere are copied.
# No process is started and nothing is timed (t/05b-bench-report.t).
sub report_only {
    my ($in, $out) = @_;
    open my $f, '<', $in or die "bench: $in: $!\n";
    my $j = decode_json(do { local $/; <$f> });
    %R = %{ $j->{results} };
    my %cfg = map { $_ => 1 } @CONFIGS;
    if ($R{startup_cost}) {
        delete $R{startup_cost}{$_}
            for grep { !$cfg{$_} } keys %{ $R{startup_cost} };
    }
    my %keep = (floor => want('floor') || want('cost') || want('capacity'),
                startup_cost => want('cost') || want('startup')
                    || want('memory'),
                capacity => want('capacity'), isolation => want('isolation'),
                quality => want('quality'));
    delete $R{$_} for grep { !$keep{$_} } keys %keep;
    delete @R{qw(floor_paced floor_batched floor_batch_ms)} unless $R{floor};
    floor_rows() if $R{floor} && (want('floor') || want('cost'));
    startup_cost_rows() if $R{startup_cost};
    capacity_rows() if $R{capacity};
    isolation_rows() if $R{isolation};
    quality_rows() if $R{quality};
    my %mine = ('2 cost' => 1, '1 startup' => 1, '6 memory' => 1,
                '4 capacity' => 1, '5 isolation' => 1, '10 quality' => 1);
    for my $r (@{ $j->{rows} // [] }) {
        next if $mine{ $r->[0] };
        my ($name) = grep { index(lc $r->[0], $_) >= 0 }
                     qw(ladder vk cluster latency);
        next if $name && !want($name);
        push @ROWS, $r;
    }
    print write_report($j->{machine}, $out // "$B/results.md");
}

# "bench.pl --summary RESULTS.json": the README's Performance table rows
# of the scenarios in a run's raw results (the load and date go with them).
sub summary {
    my ($in) = @_;
    open my $f, '<', $in or die "bench: $in: $!\n";
    my $j = decode_json(do { local $/; <$f> });
    %R = %{ $j->{results} };
    my $M = $j->{machine};
    my $doc = '[%s](docs/performance.md#performance)';
    my @out;
    my $sc = $R{startup_cost} // {};
    my $med = sub { median(grep { defined } @{ $_[0] // [] }) };
    if ($sc->{module}) {
        my $m = $med->($sc->{module}{startup});
        push @out, ['startup: publisher\'s first byte to the first `_low` '
            . 'HLS segment', sprintf('%.2f s (goal 2.5 s: %s)', $m // 0,
            defined $m && $m <= 2.5 ? 'met' : 'missed'),
            join(', ', map { sprintf '%s %.2f s', $_->[1],
                             $med->($sc->{ $_->[0] }{startup}) // 0 }
                 grep { $sc->{ $_->[0] } } ([seed => '`exec ffmpeg`'],
                                            [tuned => 'tuned'])),
            sprintf($doc, 'startup')];
    }
    my $pm = $R{cost_per_min} // {};
    if (!%$pm && $sc->{off}) {
        my @keep = @ROWS;
        startup_cost_rows();
        @ROWS = @keep;
        $pm = $R{cost_per_min};
    }
    if ($pm->{module}) {
        my $m = $med->($pm->{module});
        my $fl = $med->($R{floor});
        my %r = map { $_ => floor_ratio($pm->{module}, $R{$_}) }
                qw(floor floor_paced floor_batched);
        # the spread of the runs' own ratios to the flat floor
        my @rr = sort { $a <=> $b } floor_run_ratios($pm->{module}, $R{floor});
        my $spread = @rr > 1 ? sprintf(' (runs %.2f-%.2fx)', $rr[0], $rr[-1])
                             : '';
        push @out, ['CPU per minute of `_low` output',
            sprintf('%.2f CPU s/min', $m), join('; ', grep { $_ }
            $fl ? sprintf('floor %.2f: %.2fx%s, goal 1.05x %s', $fl,
                          $r{floor}, $spread,
                          $r{floor} <= 1.05 ? 'met' : 'missed')
                : '',
            $r{floor_paced}
                ? sprintf('floor paced at real time %.2f: %.2fx',
                          $med->($R{floor_paced}), $r{floor_paced}) : '',
            $r{floor_batched}
                ? sprintf('in %d ms batches %.2f: %.2fx',
                          $R{floor_batch_ms}, $med->($R{floor_batched}),
                          $r{floor_batched}) : '',
            $R{floor_interleaved} ? '(ratios: median of the runs\' own)'
                                  : '',
            map { my $e = $med->($pm->{ $_->[0] });
                  $e ? sprintf('%s %.2f (%.2fx)', $_->[1], $e, $m / $e) : ''
            } [seed => '`exec ffmpeg`'], [tuned => 'tuned']),
            sprintf($doc, 'cost')];
    }
    if (my $c = $R{capacity}) {
        my ($m, $s) = map { $c->{$_} } qw(module seed);
        my $fl = $med->($R{floor});
        my $g = $fl ? 0.9 * ($R{cores} // 1) * 60 / $fl : undef;
        push @out, [sprintf('capacity, 720p sources kept in real time on '
            . '%d cores (%d trials of %d s steady state)', $R{cores} // 1,
            $c->{trials_per_count}, $c->{steady}),
            $m ? sprintf('%s%d%s', defined $m->{fail} ? '' : '>= ',
                         $m->{pass}, defined $g ? sprintf(' (goal %.1f: %s)',
                         $g, $m->{pass} >= $g ? 'met' : 'missed') : '')
               : 'n/a',
            $s ? sprintf('`exec ffmpeg` %s%d%s', defined $s->{fail} ? ''
                         : '>= ', $s->{pass}, $m && $s->{pass}
                         ? sprintf(' (%.2fx, goal 1.25x)',
                                   $m->{pass} / $s->{pass}) : '') : '',
            sprintf($doc, 'capacity')];
    }
    if (my $i = $R{isolation}) {
        for my $k ([http => 'HTTP API p99', 5], [rtmp => 'RTMP play join p99',
                                                 10]) {
            my ($key, $what, $goal) = @$k;
            my ($m, $e) = map { $i->{$_}
                ? median(@{ $i->{$_}{load}{$key}{99} }) : undef }
                qw(module seed);
            next unless defined $m;
            push @out, [sprintf('%s with %d sources transcoding (CPU %s%% '
                . 'busy)', $what, $i->{load}, fmt(0, map { 100 * $_ }
                @{ $i->{module}{load}{cpu} })), sprintf('%.1f ms (goal %d '
                . 'ms: %s)', $m, $goal, $m < $goal ? 'met' : 'missed'),
                defined $e ? sprintf('`exec ffmpeg` %.1f ms', $e) : '',
                sprintf($doc, 'isolation')];
        }
    }
    if (my $q = $R{quality}) {
        my (%s, %k);
        for my $c (grep { $q->{$_} } qw(module seed seedvbv modcrf)) {
            my @ok = grep { defined $_->{ssim} } @{ $q->{$c} };
            $s{$c} = median(map { $_->{ssim} } @ok);
            $k{$c} = median(map { $_->{kbps} // () } @ok);
        }
        if (defined $s{module}) {
            push @out, ['`_low` quality, SSIM against the source scaled to '
                . '480', sprintf('%.4f at %.0f kbit/s', $s{module},
                                 $k{module} // 0),
                join('; ', map { sprintf '%s %.4f at %.0f kbit/s', $_->[1],
                                 $s{ $_->[0] }, $k{ $_->[0] } // 0 }
                     grep { defined $s{ $_->[0] } }
                     [seed => '`exec ffmpeg`'],
                     [seedvbv => 'with the same VBV'])
                . (defined $s{seed} ? sprintf(' (goal: within 0.002: %s)',
                   $s{module} >= $s{seed} - 0.002 ? 'met' : 'missed') : '')
                . (defined $s{modcrf} && defined $s{seed}
                   ? sprintf('; the module uncapped as the seed (`_low '
                     . 'maxrate=off bufsize=off`) %.4f at %.0f kbit/s '
                     . '(within 0.002 at the same settings: %s)',
                     $s{modcrf}, $k{modcrf} // 0,
                     $s{modcrf} >= $s{seed} - 0.002 ? 'met' : 'missed')
                   : ''),
                sprintf($doc, 'quality')];
        }
    }
    print "Measured $M->{date}, load average $M->{load} at the start, "
        . "$M->{cores} cores ($M->{cpu}).\n\n";
    print "| what | vkstream | compared with | where |\n|---|---|---|---|\n";
    print '| ' . join(' | ', @$_) . " |\n" for @out;
}

if (@ARGV && $ARGV[0] eq '--summary') {
    die "usage: bench.pl --summary RESULTS.json\n" unless $ARGV[1];
    summary($ARGV[1]);
    exit 0;
}
if (@ARGV && $ARGV[0] eq '--knobs') {
    # the parsed knobs, for t/05b-bench-report.t
    print JSON::PP->new->canonical->encode({
        quick => $QUICK, runs => $RUNS, duration => $DUR,
        cap_max => $CAP_MAX, cap_steady => $CAP_STEADY,
        cap_trials => $CAP_TRIALS, cap_fps => $CAP_FPS,
        cap_settle => $CAP_SETTLE, only => [sort keys %ONLY],
        configs => \@CONFIGS }), "\n";
    exit 0;
}
if (@ARGV && $ARGV[0] eq '--report') {
    die "usage: bench.pl --report RESULTS.json [OUT.md]\n" unless $ARGV[1];
    report_only($ARGV[1], $ARGV[2]);
    exit 0;
}
die "usage: bench.pl [--report RESULTS.json [OUT.md] | --summary "
    . "RESULTS.json | --knobs]\n" if @ARGV;

die "bench: $SRC missing (run scripts/bench.sh)\n" unless -f $SRC;
my $M = machine();
$R{cores} = $M->{cores};
note("machine: $M->{cpu}, $M->{cores} cores, load $M->{load}; runs $RUNS, "
     . "${DUR}s sessions" . ($QUICK ? ' (BENCH_QUICK)' : ''));
unlink "$B/publishers.log";

# capacity's goal is set by the floor of the same run
floor() if want('cost') || want('floor') || want('capacity');
startup_cost() if want_cost_runs();
ladder() if want('ladder');
capacity() if want('capacity');
isolation() if want('isolation');
quality() if want('quality');
vk_feed() if want('vk');
sse_bench() if want('sse');
cluster() if want('cluster');
latency() if want('latency');
cleanup();

$R{run} = { runs => $RUNS, duration => $DUR, quick => $QUICK,
            took => time - $T_START,
            only => [sort keys %ONLY], configs => \@CONFIGS };
print write_report($M, "$B/results.md", "$B/results.json");
note("wrote $B/results.md");
