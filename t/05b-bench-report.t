# The bench's knobs and report (issue 15): every knob scripts/bench.pl
# reads is listed in scripts/bench.sh; numeric and list knobs are checked
# before anything runs; and the report made from a run's results.json
# (t/bench/results.json, canned: floor, startup/cost, capacity, isolation,
# quality) works for every BENCH_ONLY / BENCH_CONFIGS combination, with
# the goal lines in it.  Nothing is started and nothing is timed.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);

my $root = $ENV{VKSTREAM_ROOT} // '.';
my $pl = "$root/scripts/bench.pl";
my $canned = "$root/t/bench/results.json";
my $tmp = tempdir(CLEANUP => 1);
delete $ENV{$_} for grep { /^BENCH_/ } keys %ENV;

# runs bench.pl with %env; (exit code, stdout, stderr)
sub bench {
    my ($env, @args) = @_;
    my $pid = open my $out, '-|' // die "fork: $!";
    if (!$pid) {
        $ENV{$_} = $env->{$_} for keys %$env;
        open STDERR, '>', "$tmp/stderr" or die $!;
        exec($^X, $pl, @args) or exit 127;
    }
    my $o = do { local $/; <$out> } // '';
    close $out;
    my $rc = $? >> 8;
    open my $e, '<', "$tmp/stderr" or die $!;
    my $err = do { local $/; <$e> } // '';
    return ($rc, $o, $err);
}

# every knob read is documented in bench.sh's list
my %read;
for my $f ($pl) {
    open my $h, '<', $f or die "$f: $!";
    local $/;
    my $src = <$h>;
    $read{$1} = 1 while $src =~ /\b(BENCH_[A-Z_]+)\b/g;
}
open my $sh, '<', "$root/scripts/bench.sh" or die $!;
my %listed;
while (<$sh>) {
    last unless /^#/ || /^$/;
    $listed{$1} = 1 if /^#\s+(BENCH_[A-Z_]+)[=\s]/;
}
my @undoc = grep { !$listed{$_} && $_ ne 'BENCH_CAP_DURATION' }
            sort keys %read;
is_deeply(\@undoc, [], 'every knob bench.pl reads is in bench.sh\'s list');
cmp_ok(scalar(keys %listed), '>=', 30, 'bench.sh lists the knobs');

# the knobs as parsed
my ($rc, $o, $e) = bench({}, '--knobs');
is($rc, 0, '--knobs runs') or diag($e);
like($o, qr/"runs":3\b/, 'three runs by default');
like($o, qr/"cap_steady":60\b.*"cap_trials":3\b/,
     'capacity: 60 s steady state, 3 trials per count by default');
($rc, $o) = bench({ BENCH_QUICK => 1 }, '--knobs');
like($o, qr/"quick":1\b.*"runs":1\b/, 'BENCH_QUICK: one run');
($rc, $o) = bench({ BENCH_QUICK => 1, BENCH_RUNS => 2,
                    BENCH_CAP_TRIALS => 2, BENCH_CAP_STEADY => 30 },
                  '--knobs');
like($o, qr/"cap_steady":30\b.*"cap_trials":2\b.*"runs":2\b/,
     'explicit knobs win over BENCH_QUICK');
($rc, $o) = bench({ BENCH_ONLY => 'capacity, isolation',
                    BENCH_CONFIGS => 'off,module' }, '--knobs');
like($o, qr/"configs":\["off","module"\]/, 'BENCH_CONFIGS parsed');
like($o, qr/"only":\["capacity","isolation"\]/, 'BENCH_ONLY parsed');
for my $bad ([{ BENCH_ONLY => 'cost,bogus' }, qr/BENCH_ONLY: unknown bogus/],
             [{ BENCH_CONFIGS => 'module,exec' },
              qr/BENCH_CONFIGS: unknown exec/],
             [{ BENCH_RUNS => 0 }, qr/BENCH_RUNS=0: at least 1/],
             [{ BENCH_CAP_MAX => 'ten' }, qr/BENCH_CAP_MAX=ten: not a num/],
             [{ BENCH_CAP_DURATION => 24 }, qr/BENCH_CAP_STEADY/],
             [{ BENCH_LAT_HLS => '{};{x' }, qr/BENCH_LAT_HLS: '\{x'/],
             [{ BENCH_LAT_SERVE => 'file' }, qr/BENCH_LAT_SERVE: unknown/],
             [{ BENCH_LAT_SIZE => '1280' }, qr/BENCH_LAT_SIZE=1280/],
             [{ BENCH_PROBE_SCHED => 'fifo' },
              qr/BENCH_PROBE_SCHED=fifo: rr or normal/]) {
    my ($env, $re) = @$bad;
    ($rc, $o, $e) = bench($env, '--knobs');
    my $what = join ' ', map { "$_=$env->{$_}" } sort keys %$env;
    isnt($rc, 0, "$what: refused");
    like($e, $re, "$what: says why");
}

# the report from canned results, for each combination
my @only = ('', 'floor,cost,startup', 'cost', 'startup', 'memory', 'floor',
            'capacity', 'isolation', 'quality', 'capacity,isolation',
            'ladder,vk', 'latency');
my @configs = ('', 'off,module,seed', 'module', 'off', 'module,seed',
               'off,seed,tuned');
my ($n, @fail) = (0);
for my $only (@only) {
    for my $cf (@configs) {
        my %env = (BENCH_QUICK => 1);
        $env{BENCH_ONLY} = $only if $only ne '';
        $env{BENCH_CONFIGS} = $cf if $cf ne '';
        ($rc, $o, $e) = bench(\%env, '--report', $canned, "$tmp/r.md");
        $n++;
        push @fail, "BENCH_ONLY=$only BENCH_CONFIGS=$cf: rc $rc: $e"
            if $rc || $e ne '' || $o !~ /^\| scenario \| what/m;
    }
}
is_deeply(\@fail, [], "the report of $n combinations: no error, no "
          . 'warning');

sub report {
    my (%env) = @_;
    my ($rc, $o, $e) = bench(\%env, '--report', $canned, "$tmp/r.md");
    return $o;
}
my $all = report();
like($all, qr/^\| 1 startup \| module \|.*goal <= 2\.5 s/m, 'startup row');
like($all, qr/^\| 2 cost \| ratio module \/ floor \|/m, 'cost ratio');
like($all, qr/^\| 2 cost \| floor paced at real time \(bench-floor\.c -r\) \| 9\.10 CPU s\/min \|/m,
     'the paced floor');
like($all, qr/^\| 2 cost \| ratio module \/ floor paced at real time \| [\d.]+ \|/m,
     'cost ratio to the paced floor');
like($all, qr/^\| 4 capacity \| module \| \d+ sources/m, 'capacity, module');
like($all, qr/^\| 4 capacity \| exec \(seed\) \| (>= )?\d+ sources/m,
     'capacity, exec seed');
like($all, qr/^\| 4 capacity \| goal: module >= 0\.9 x cores .*\| (met|MISSED) \|$/m,
     'capacity goal against the floor');
like($all, qr/^\| 4 capacity \| goal: module >= 1\.25 x exec .*\| (met|MISSED) \|$/m,
     'capacity goal against exec');
like($all, qr/^\| 5 isolation \| module: GET .*busy \|.*\| goal p99 < 5 ms: (met|MISSED); not worse than exec \(seed\): (met|MISSED)/m,
     'isolation GET goal, both sides');
like($all, qr/^\| 5 isolation \| module: RTMP play join.*busy \|.*\| goal p99 < 10 ms: (met|MISSED); not worse/m,
     'isolation join goal, both sides');
like($all, qr/^\| 5 isolation \| exec \(seed\): GET /m, 'isolation, exec');
like($all, qr/^\| 10 quality \| module: .*SSIM [\d.]+.*\| goal: module SSIM >= exec - 0\.002: (met|MISSED)/m,
     'quality goal line');
like($all, qr/^\| 10 quality \| exec \(seed\): .*PSNR [\d.]+ dB/m,
     'quality, exec');
like($all, qr/^\| 10 quality \| module with vkstream_rendition _low maxrate=off bufsize=off;: .*SSIM 0\.9957.*554 kbit\/s.*\| .*pure crf.*this - exec = \+0\.0002 SSIM, within 0\.002 at the same settings: met \|$/m,
     'quality at the same settings: the module uncapped against exec');

my $r = report(BENCH_CONFIGS => 'off,module,seed');
unlike($r, qr/exec \(tuned\)/, 'BENCH_CONFIGS=off,module,seed: no tuned');
like($r, qr/^\| 2 cost \| ratio module \/ exec \(seed\) \|/m,
     '... and the seed ratio');
$r = report(BENCH_CONFIGS => 'module,seed');
like($r, qr/needs "off" in BENCH_CONFIGS/, 'without "off": cost says so');
$r = report(BENCH_ONLY => 'capacity');
unlike($r, qr/^\| (1 startup|5 isolation|10 quality) /m,
       'BENCH_ONLY=capacity: capacity rows only');
like($r, qr/^\| 4 capacity \| goal: module >= 0\.9 .*floor [\d.]+ CPU/m,
     '... with the floor of the run in its goal');

# three runs whose host slowed down: with each run's floor taken next to
# its sessions the ratio is the median of the runs' own ratios (1.20),
# not the ratio of the medians (9 / 6 = 1.50)
{
    require JSON::PP;
    open my $f, '<', $canned or die "$canned: $!";
    my $j = JSON::PP::decode_json(do { local $/; <$f> });
    my $res = $j->{results};
    $res->{floor} = [5, 9, 6];
    $res->{floor_paced} = [6, 10, 7];
    $res->{floor_batched} = [5.5, 9.5, 6.5];
    $res->{floor_batch_ms} = 250;
    $res->{floor_interleaved} = 1;
    my $sc = $res->{startup_cost};
    $sc->{off}{cpu} = [0, 0, 0];
    $sc->{off}{listed} = [0, 0, 0];
    $sc->{module}{cpu} = [6, 9, 12];
    $sc->{module}{listed} = [60, 60, 60];
    for my $k (qw(startup connect fps rss)) {
        $sc->{$_}{$k} = [($sc->{$_}{$k}[0]) x 3] for qw(off module);
    }
    delete @$sc{qw(seed tuned)};
    $j->{run}{runs} = 3;
    open my $w, '>', "$tmp/runs3.json" or die $!;
    print $w JSON::PP::encode_json($j);
    close $w;

    my ($rc, $o, $e) = bench({ BENCH_ONLY => 'floor,cost',
                               BENCH_CONFIGS => 'off,module' },
                             '--report', "$tmp/runs3.json", "$tmp/r3.md");
    is($rc, 0, 'three interleaved runs: the report') or diag($e);
    like($o, qr/^\| 2 cost \| floor paced in 250 ms batches \(bench-floor\.c -r -b 250\) \| 6\.50 \(5\.50-9\.50\) CPU s\/min \|/m,
         '... the floor paced in batches');
    like($o, qr/^\| 2 cost \| ratio module \/ floor \| 1\.20 \(1\.00-2\.00\) \| goal <= 1\.05: MISSED \|/m,
         '... the median (min-max) of the runs\' ratios to the floor');
    like($o, qr/^\| 2 cost \| ratio module \/ floor paced at real time \| 1\.00 \(0\.90-1\.71\) \|/m,
         '... to the paced floor (1.00, 0.90, 1.71)');
    like($o, qr/^\| 2 cost \| ratio module \/ floor paced in batches \| 1\.09 \(0\.95-1\.85\) \|/m,
         '... to the floor in batches (1.09, 0.95, 1.85)');
    like($o, qr/^\| 2 cost \| ratios above \| median \(min-max\) of the runs' own ratios/m,
         '... saying how the ratios are made');
    ($rc, $o, $e) = bench({}, '--summary', "$tmp/runs3.json");
    like($o, qr/^\| CPU per minute of `_low` output \| 9\.00 CPU s\/min \| floor 6\.00: 1\.20x \(runs 1\.00-2\.00x\), goal 1\.05x missed; floor paced at real time 7\.00: 1\.00x; in 250 ms batches 6\.50: 1\.09x; \(ratios: median of the runs' own\)/m,
         '... and the README\'s row') or diag($o);

    delete $j->{results}{floor_interleaved};
    open $w, '>', "$tmp/runs3.json" or die $!;
    print $w JSON::PP::encode_json($j);
    close $w;
    ($rc, $o, $e) = bench({ BENCH_ONLY => 'floor,cost',
                            BENCH_CONFIGS => 'off,module' },
                          '--report', "$tmp/runs3.json", "$tmp/r3.md");
    like($o, qr/^\| 2 cost \| ratio module \/ floor \| 1\.50 \|/m,
         'runs of the floor taken apart: the ratio of the medians');
    unlike($o, qr/ratios above/, '... and no claim of per-run ratios');
}

# the README's summary rows from the same results
($rc, $o, $e) = bench({}, '--summary', $canned);
is($rc, 0, '--summary runs');
is($e, '', '... without a warning');
like($o, qr/^\| capacity, 720p sources .* \| `exec ffmpeg` /m,
     '... with capacity against exec');
like($o, qr/^\| `_low` quality, SSIM .*\| `exec ffmpeg` [\d.]+ at \d+ kbit/m,
     '... and quality against exec');
like($o, qr/^\| `_low` quality, SSIM .*; the module uncapped as the seed \(`_low maxrate=off bufsize=off`\) 0\.9957 at 554 kbit\/s \(within 0\.002 at the same settings: met\) \|/m,
     '... and at the same settings');
like($o, qr/^Measured .* load average [\d.]+/m, '... with the date and load');

done_testing;
