# GET /metrics passes "promtool check metrics" (Debian's prometheus
# package) with everything it can show present: live streams with hostile
# names (", \, newline, CR, tab, UTF-8, a byte that is not UTF-8),
# running, failed and lagging renditions, frames dropped, the VK client
# connected (to the emulator).  Label values decode back to the names.
# The examples' alert rules and scrape job pass "promtool check rules" and
# "check config", the alerts fire in "promtool test rules"
# (t/prometheus-alerts-test.yml), and every metric they use is exported.
use strict;
use warnings;
use utf8;
use Test::More;
binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);
use File::Temp qw(tempdir);
use VKStream::Nginx;
use VKStream::Emulator;
use VKStream::Media qw(publish stop_publisher);
use VKStream::FLV qw(make_flv rtmp_publish);
use VKStream::API qw(api publish_name wait_until stream_json);

chomp(my $promtool = `command -v promtool 2>/dev/null`);
plan skip_all => 'promtool not found (Debian package prometheus, which '
               . '"make deps" installs)' unless $promtool;

my $ROOT = $VKStream::Nginx::ROOT;

# promtool ARGS with STDIN: (exit code, output)
sub promtool {
    my ($stdin, @args) = @_;
    my $dir = tempdir(CLEANUP => 1);
    open my $f, '>:raw', "$dir/in" or die $!;
    print $f $stdin // '';
    close $f;
    my $out = `cd $ROOT && $promtool @args <$dir/in 2>&1`;
    return ($? >> 8, $out);
}

# --- the examples ------------------------------------------------------------

my ($rc, $out) = promtool(undef, 'check', 'rules',
                          'examples/prometheus-alerts.yml');
is($rc, 0, 'promtool check rules examples/prometheus-alerts.yml') or diag $out;
like($out, qr/SUCCESS: 3 rules found/, 'three alerts');
($rc, $out) = promtool(undef, 'check', 'config', 'examples/prometheus.yml');
is($rc, 0, 'promtool check config examples/prometheus.yml') or diag $out;
like($out, qr/SUCCESS: 1 rule files found/, 'which loads the alerts');
($rc, $out) = promtool(undef, 'test', 'rules',
                       't/prometheus-alerts-test.yml');
is($rc, 0, 'promtool test rules: each alert fires, and only then')
    or diag $out;

# --- a node with everything --------------------------------------------------

my $e = VKStream::Emulator->new;
my $dead = VKStream::Nginx::free_port();
# "_bad" republishes where nothing listens: it fails.  "_slow" (x264
# placebo, one thread) gets 10 s of 720p sent at once, which the decoder
# hands on many times faster than placebo encodes, whatever the CPU: it
# falls behind and drops frames.  (vkstream_max_delay 0: the input keeps
# the whole burst; "_tiny" beside it: a context with one rendition encodes
# on its decoder's thread, where only the input sheds.)
my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    main => "vkstream_vk_token ${\ $e->token };
             vkstream_vk_api ${\ $e->api_url };
             vkstream_vk_ca ${\ $e->ca };",
    live => "vkstream on; vkstream_rendition _low;
             vkstream_rendition _bad host=127.0.0.1:$dead;",
    apps => 'application slow { live on; vkstream on; vkstream_max_delay 0;
             vkstream_rendition _slow width=640 preset=placebo threads=1;
             vkstream_rendition _tiny width=160 preset=ultrafast
                                threads=1; }'));
$n->start;

my @names = ("q\"uo\\te\nline", 'привет мир', "cr\rtab\tend",
             "bad\xffbyte");
my @pids = map { publish_name($n, 'live', $_, duration => 120) } @names;
push @pids, publish_name($n, 'live', 'kw?vk=%D0%BA%D0%BE%D1%82',
                         duration => 120);
my $tmp = tempdir(CLEANUP => 1);
my @heavy = make_flv("$tmp/heavy.flv", size => '1280x720', fps => 30,
                     gop => 30, duration => 10);
my $heavy = rtmp_publish($n->rtmp_port, 'slow', 'heavy', \@heavy,
                         speed => 1e6, close => 0);
ok($heavy, 'heavy: sent at once, its connection held open');

sub live_names {
    my (undef, $j) = api($n, 'GET', '/vkstream/streams');
    return map { $_->{name} } grep { $_->{state} eq 'live' }
           @{ $j->{streams} // [] };
}
# the table keeps a name's bytes; the API shows invalid UTF-8 repaired
(my $shown = $names[3]) =~ s/\xff/\x{fffd}/;
my @want = (@names[0 .. 2], $shown, 'kw', 'heavy');
my %live;
ok(wait_until(30, sub {
    %live = map { $_ => 1 } live_names();
    !grep { !$live{$_} } @want;
}), 'all streams live') or diag explain [sort keys %live];

sub rendition {
    my ($name, $suffix, $app) = @_;
    my $j = stream_json($n, $name, $app) or return {};
    my ($r) = grep { $_->{suffix} eq $suffix } @{ $j->{renditions} // [] };
    return $r // {};
}
ok(wait_until(30, sub { (rendition('kw', '_bad')->{state} // '') eq 'failed' }),
   'a failed rendition');
ok(wait_until(30, sub { (rendition('kw', '_low')->{frames_out} // 0) > 0 }),
   'a running one');
ok(wait_until(60, sub {
    (rendition('heavy', '_slow', 'slow')->{frames_dropped} // 0) > 0
}), 'a rendition that drops frames')
    or diag explain stream_json($n, 'heavy', 'slow');
ok(wait_until(15, sub {
    my (undef, $j) = api($n, 'GET', '/vkstream/status');
    ($j->{vk}{state} // '') eq 'connected';
}), 'VK client connected');

my ($r) = api($n, 'GET', '/vkstream/metrics');
is($r->{status}, 200, 'GET /metrics');
my $text = $r->{content};

($rc, $out) = promtool($text, 'check', 'metrics');
is($rc, 0, 'promtool check metrics: exit 0') or diag $out;
is($out, '', 'no lint problem reported') or diag $out;

# --- the values --------------------------------------------------------------

# exposition format 0.0.4: name{label="value",...} number; values escape
# \ " and newline only
my (%type, @samples);
for my $line (split /\n/, $text) {
    if ($line =~ /^# TYPE (\S+) (\S+)$/) {
        $type{$1} = $2;
        next;
    }
    next if $line =~ /^# HELP /;
    my ($name, $labels, $value) = $line =~
        /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/ or do {
        fail("sample line: $line");
        next;
    };
    my %l;
    $labels //= '';
    while ($labels =~ /\G([a-zA-Z_]\w*)="((?:[^"\\]|\\[\\"n])*)",?/gc) {
        my ($k, $v) = ($1, $2);
        $v =~ s/\\([\\"n])/$1 eq 'n' ? "\n" : $1/ge;
        utf8::decode($v) or fail("label value not UTF-8: $v");
        $l{$k} = $v;
    }
    is(pos($labels) // 0, length $labels, "labels parse: $line")
        if length($labels) && (pos($labels) // 0) != length $labels;
    push @samples, { name => $name, labels => \%l, value => $value };
}

sub sample {
    my ($name, %want) = @_;
    my ($s) = grep {
        my $s = $_;
        $s->{name} eq $name
        && !grep { ($s->{labels}{$_} // "\0") ne $want{$_} } keys %want
    } @samples;
    return $s ? $s->{value} : undef;
}

# control bytes shown as \xNN in the test names
sub printable { $_[0] =~ s/([\x00-\x1f])/sprintf '\\x%02x', ord $1/ger }

for my $name (@want[0 .. 3]) {
    ok(defined sample('vkstream_rendition_frames_encoded_total',
                      app => 'live', name => $name, suffix => '_low'),
       'a rendition of "' . printable($name) . '" labelled with its name');
}
like($text, qr/name="q\\"uo\\\\te\\nline"/, '", \\ and newline escaped');
ok(sample('vkstream_renditions', state => 'failed') >= 1,
   'vkstream_renditions{state="failed"}');
ok(sample('vkstream_rendition_frames_dropped_total', app => 'slow',
          name => 'heavy', suffix => '_slow') > 0,
   'vkstream_rendition_frames_dropped_total rising');
ok(sample('vkstream_rendition_output_bytes_total', app => 'live',
          name => 'kw', suffix => '_low') > 0,
   'vkstream_rendition_output_bytes_total');
like(sample('vkstream_rendition_output_bytes_per_second', app => 'live',
            name => 'kw', suffix => '_low') // '', qr/^\d+$/,
     'bitrate in bytes/s (the base unit), a whole number');
is(scalar(grep { /_(?:kbps|fps)\b|_speed$/ } keys %type), 0,
   'no kbps, fps or unitless speed in a name');
is(sample('vkstream_vk_connection_state', state => 'connected'), 1,
   'vkstream_vk_connection_state{state="connected"} 1');
for my $m (grep { $type{$_} eq 'counter' } sort keys %type) {
    like($m, qr/_total$/, "counter $m ends in _total");
}

# every metric the alerts use is exported
open my $f, '<', "$ROOT/examples/prometheus-alerts.yml" or die $!;
my %used = map { $_ => 1 } do { local $/; <$f> } =~ /\b(vkstream_[a-z_]+)\b/g;
delete @used{qw(vkstream_max_transcodes)};    # a directive, in a description
for my $m (sort keys %used) {
    ok($type{$m}, "the alerts' $m is exported");
}

stop_publisher($_) for @pids;
close $heavy if ref $heavy;
$n->stop;
done_testing;
