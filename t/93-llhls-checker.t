# The LL-HLS playlist checker (t/lib/VKStream/LLHLS.pm) on the playlists of
# the C renderer (media/vks_llhls_playlist.c, media/vks_hls_master.c: a
# simulated live stream of three renditions written by "test_llhls
# --write DIR"), which must pass every rule, and on hand-broken copies of
# them, each of which must be caught with its own message.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use VKStream::Nginx;
use VKStream::LLHLS qw(parse_media parse_master check_media check_reload
                       check_master check_report);

my $root = $VKStream::Nginx::ROOT;
my $san = $ENV{VKSTREAM_SANITIZE} ? 1 : 0;
my $bin = "build/" . ($san ? 'test-asan' : 'test') . "/test_llhls";

my $out = `make -s -C $root SANITIZE=$san $bin 2>&1`;
ok($? == 0, "$bin builds") or diag($out);

my $dir = tempdir(CLEANUP => 1);
$out = `$root/$bin --write $dir 2>&1`;
ok($? == 0, 'sample playlists written') or BAIL_OUT($out);

sub slurp {
    open(my $f, '<', $_[0]) or die "$_[0]: $!";
    local $/;
    return scalar <$f>;
}

my @sib = (siblings => ['b.m3u8', 'c.m3u8']);

# the renderer's playlists pass
my @live = sort glob("$dir/live-*.m3u8");
is(scalar @live, 44, '44 reloads of a live playlist');

my (@bad, @badreload, $prev);
for my $f (@live) {
    my $pl = parse_media(slurp($f));
    push @bad, map { "$f: $_" } check_media($pl, @sib);
    push @badreload, map { "$f: $_" } check_reload($prev, $pl) if $prev;
    $prev = $pl;
}
is_deeply(\@bad, [], 'every live playlist passes') or diag(explain(\@bad));
is_deeply(\@badreload, [], 'every reload continues the previous one')
    or diag(explain(\@badreload));

my $delta = parse_media(slurp("$dir/delta.m3u8"));
is($delta->{skipped}, 1, 'delta update skips a segment');
is_deeply([check_media($delta, @sib)], [], 'delta update passes');
is_deeply([check_reload($prev, $delta)], [], 'delta continues the last');

my $ended = parse_media(slurp("$dir/ended.m3u8"));
ok($ended->{endlist}, 'ended playlist has ENDLIST');
is_deeply([check_media($ended, @sib)], [], 'ended playlist passes');

my $master_text = slurp("$dir/master.m3u8");
my $master = parse_master($master_text);
is(scalar @{$master->{variants}}, 3, 'master lists 3 variants');
is_deeply([check_master($master)], [], 'master passes');

# hand-broken copies: each gives exactly the expected violations
my $good = slurp("$dir/live-017.m3u8");
my $next = slurp("$dir/live-018.m3u8");

sub broken {
    my ($name, $text, $want, %opt) = @_;
    my @got = check_media(parse_media($text), @sib, %opt);
    is_deeply(\@got, $want, $name) or diag(explain(\@got));
}

sub edit {
    my ($text, $from, $to) = @_;
    my $n = ($text =~ s/\Q$from\E/$to/);
    die "no '$from' in the playlist" unless $n;
    return $text;
}

broken('part above PART-TARGET',
       edit($good, 'DURATION=0.500,URI="a-p5.m4s"',
            'DURATION=0.600,URI="a-p5.m4s"'),
       ['part a-p5.m4s: DURATION 0.600 > PART-TARGET 0.500']);

broken('part below 85% of PART-TARGET',
       edit($good, 'DURATION=0.500,URI="a-p5.m4s"',
            'DURATION=0.400,URI="a-p5.m4s"'),
       ['part a-p5.m4s: DURATION 0.400 < 85% of PART-TARGET 0.500']);

broken('short independent part, short last part: allowed',
       edit(edit($good, 'DURATION=0.500,URI="a-p4.m4s"',
                 'DURATION=0.100,URI="a-p4.m4s"'),
            'DURATION=0.480,URI="a-p7.m4s"', 'DURATION=0.100,URI="a-p7.m4s"'),
       []);

broken('short part before a GAP part: allowed',
       edit(edit($good, 'DURATION=0.500,URI="a-p5.m4s"',
                 'DURATION=0.100,URI="a-p5.m4s"'),
            'URI="a-p6.m4s"', 'URI="a-p6.m4s",GAP=YES'),
       []);

broken('PART-HOLD-BACK below 3 x PART-TARGET',
       edit($good, 'PART-HOLD-BACK=1.500', 'PART-HOLD-BACK=1.000'),
       ['PART-HOLD-BACK 1.000 < 3 x PART-TARGET 0.500']);

broken('no PART-HOLD-BACK',
       edit($good, ',PART-HOLD-BACK=1.500', ''),
       ['EXT-X-SERVER-CONTROL lacks PART-HOLD-BACK']);

broken('HOLD-BACK and CAN-SKIP-UNTIL too small',
       edit(edit($good, 'HOLD-BACK=6.000', 'HOLD-BACK=4.000'),
            'CAN-SKIP-UNTIL=12.000', 'CAN-SKIP-UNTIL=6.000'),
       ['HOLD-BACK 4.000 < 3 x TARGETDURATION 2',
        'CAN-SKIP-UNTIL 6.000 < 6 x TARGETDURATION 2']);

broken('EXTINF rounding above TARGETDURATION',
       edit($good, "#EXTINF:1.980,\na-s2.m4s", "#EXTINF:2.500,\na-s2.m4s"),
       ['EXTINF 2.500 of MSN 2 rounds to 3 > TARGETDURATION 2']);

broken('EXTINF 2.499 rounds to 2: allowed',
       edit($good, "#EXTINF:1.980,\na-s2.m4s", "#EXTINF:2.499,\na-s2.m4s"),
       []);

broken('no preload hint',
       edit($good, qq{#EXT-X-PRELOAD-HINT:TYPE=PART,URI="a-p18.m4s"\n}, ''),
       ['no EXT-X-PRELOAD-HINT in a live playlist']);

broken('preload hint naming a listed part',
       edit($good, 'PRELOAD-HINT:TYPE=PART,URI="a-p18.m4s"',
            'PRELOAD-HINT:TYPE=PART,URI="a-p17.m4s"'),
       ['preload hint a-p17.m4s is a listed part']);

broken('preload hint with ENDLIST',
       $good . "#EXT-X-ENDLIST\n",
       ['EXT-X-PRELOAD-HINT with EXT-X-ENDLIST']);

broken('missing rendition report',
       edit($good, qq{#EXT-X-RENDITION-REPORT:URI="c.m3u8",LAST-MSN=4,}
            . "LAST-PART=1\n", ''),
       ['no EXT-X-RENDITION-REPORT for c.m3u8']);

broken('rendition report without LAST-PART',
       edit($good, 'URI="b.m3u8",LAST-MSN=4,LAST-PART=1',
            'URI="b.m3u8",LAST-MSN=4'),
       ['EXT-X-RENDITION-REPORT for b.m3u8 lacks LAST-PART']);

broken('reports of both siblings, none of itself: passes', $good, [],
       self => 'a.m3u8');

broken('a report for the playlist itself',
       edit($good, 'URI="c.m3u8",LAST-MSN=4', 'URI="a.m3u8",LAST-MSN=4'),
       ['EXT-X-RENDITION-REPORT for the playlist itself (a.m3u8)',
        'no EXT-X-RENDITION-REPORT for c.m3u8'], self => 'a.m3u8');

broken('a report for a rendition that is no sibling',
       edit($good, 'URI="c.m3u8",LAST-MSN=4', 'URI="d.m3u8",LAST-MSN=4'),
       ['EXT-X-RENDITION-REPORT for d.m3u8, not a sibling',
        'no EXT-X-RENDITION-REPORT for c.m3u8']);

broken('two reports for one sibling',
       edit($good, qq{URI="c.m3u8",LAST-MSN=4,LAST-PART=1\n},
            qq{URI="c.m3u8",LAST-MSN=4,LAST-PART=1\n}
            . qq{#EXT-X-RENDITION-REPORT:URI="c.m3u8",LAST-MSN=4,}
            . "LAST-PART=0\n"),
       ['two EXT-X-RENDITION-REPORTs for c.m3u8']);

# a report against the sibling's own playlist (its last part is 4.1)
my $sibling = parse_media($good);
sub report {
    my ($name, $msn, $part, $lag, $want) = @_;
    my @got = check_report({ uri => 'x.m3u8', last_msn => $msn,
                             last_part => $part }, $sibling,
                           max_lag => $lag);
    is_deeply(\@got, $want, $name) or diag(explain(\@got));
}
report('report of the last part', 4, 1, 0, []);
report('report ahead of the sibling', 4, 2, 8,
       ['x.m3u8: report 4.2 is ahead of the sibling\'s last part 4.1']);
report('report ahead by a segment', 5, 0, 8,
       ['x.m3u8: report 5.0 is ahead of the sibling\'s last part 4.1']);
report('report 5 parts behind, 5 allowed', 3, 0, 5, []);
report('report 5 parts behind, 4 allowed', 3, 0, 4,
       ['x.m3u8: report 3.0 lags 5 parts behind the sibling\'s last part '
        . '4.1']);

broken('PDT going back',
       edit($good, '2023-11-14T22:13:23.960Z', '2023-11-14T22:13:21.000Z'),
       ['PROGRAM-DATE-TIME of MSN 2 is not after MSN 1\'s']);

broken('PDT without milliseconds',
       edit($good, '2023-11-14T22:13:20.000Z', '2023-11-14T22:13:20Z'),
       ["EXT-X-PROGRAM-DATE-TIME '2023-11-14T22:13:20Z' lacks milliseconds "
        . 'or a time zone']);

broken('PDT after the segment\'s first part',
       edit(edit($good, "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:21.980Z\n",
                 ''),
            qq{#EXT-X-PART:DURATION=0.500,URI="a-p4.m4s",INDEPENDENT=YES\n},
            qq{#EXT-X-PART:DURATION=0.500,URI="a-p4.m4s",INDEPENDENT=YES\n}
            . "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:21.980Z\n"),
       ['EXT-X-PROGRAM-DATE-TIME after a part of its segment (line 12)']);

broken('VERSION over-declared',
       edit($good, '#EXT-X-VERSION:6', '#EXT-X-VERSION:9'),
       ['EXT-X-VERSION 9 over-declared (6 needed)']);

broken('EXT-X-SKIP without CAN-SKIP-UNTIL or version 9',
       edit(slurp("$dir/delta.m3u8"), ',CAN-SKIP-UNTIL=12.000', ''),
       ['EXT-X-SKIP without CAN-SKIP-UNTIL']);

broken('no EXT-X-MAP',
       edit($good, qq{#EXT-X-MAP:URI="init.mp4"\n}, ''),
       ['no EXT-X-MAP (fMP4 needs its init segment)']);

# reloads
sub reload {
    my ($name, $a, $b, $want) = @_;
    my @got = check_reload(parse_media($a), parse_media($b));
    is_deeply(\@got, $want, $name) or diag(explain(\@got));
}

reload('next part is not the old hint', $good,
       edit($next, 'URI="a-p18.m4s"', 'URI="a-p99.m4s"'),
       ['preload hint a-p18.m4s of the older playlist, but the part after '
        . 'a-p17.m4s is a-p99.m4s']);

reload('segments lost between reloads', slurp("$dir/live-005.m3u8"),
       slurp("$dir/live-040.m3u8"), ['segments 1-1 never listed']);

reload('media sequence going back', slurp("$dir/live-040.m3u8"),
       slurp("$dir/live-030.m3u8"),
       ['MEDIA-SEQUENCE went back from 2 to 0',
        'last MSN went back from 9 to 6']);

reload('a segment changing its URI', $good,
       edit($next, "\na-s2.m4s\n", "\na-s2b.m4s\n"),
       ['MSN 2 changed from a-s2.m4s to a-s2b.m4s']);

reload('TARGETDURATION changing', $good,
       edit($next, '#EXT-X-TARGETDURATION:2', '#EXT-X-TARGETDURATION:3'),
       ['TARGETDURATION changed from 2 to 3']);

# master
sub master {
    my ($name, $text, $want) = @_;
    my @got = check_master(parse_master($text));
    is_deeply(\@got, $want, $name) or diag(explain(\@got));
}

master('no INDEPENDENT-SEGMENTS',
       edit($master_text, "#EXT-X-INDEPENDENT-SEGMENTS\n", ''),
       ['no EXT-X-INDEPENDENT-SEGMENTS']);

master('no AVERAGE-BANDWIDTH',
       edit($master_text, 'AVERAGE-BANDWIDTH=600000,', ''),
       ['b.m3u8: no AVERAGE-BANDWIDTH']);

master('AVERAGE-BANDWIDTH above BANDWIDTH',
       edit($master_text, 'AVERAGE-BANDWIDTH=600000',
            'AVERAGE-BANDWIDTH=900000'),
       ['b.m3u8: AVERAGE-BANDWIDTH 900000 above BANDWIDTH 800000']);

master('avc3 and an upper-case codec',
       edit($master_text, 'avc1.4d401e', 'avc3.4D401E'),
       ["b.m3u8: codec 'avc3.4D401E' is neither avc1.PPCCLL nor mp4a.40.N",
        'b.m3u8: RESOLUTION without a video codec']);

master('FRAME-RATE without 3 decimals',
       edit($master_text, 'FRAME-RATE=30.000', 'FRAME-RATE=30'),
       ['c.m3u8: FRAME-RATE not given with 3 decimals']);

master('not by bandwidth',
       edit($master_text, 'BANDWIDTH=800000,', 'BANDWIDTH=3000000,'),
       ['a.m3u8: BANDWIDTH 2500000 below the previous variant\'s 3000000']);

master('a duplicate',
       edit(edit($master_text, 'RESOLUTION=640x360', 'RESOLUTION=480x270'),
            'BANDWIDTH=800000,AVERAGE-BANDWIDTH=600000',
            'BANDWIDTH=450000,AVERAGE-BANDWIDTH=400000'),
       ['b.m3u8 duplicates c.m3u8 (480x270, BANDWIDTH within 125%)']);

master('a variant without URI',
       $master_text . "#EXT-X-STREAM-INF:BANDWIDTH=9000000\n",
       ['EXT-X-STREAM-INF without a URI']);

done_testing;
