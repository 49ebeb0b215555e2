package VKStream::LLHLS;

# A checker of Low-Latency HLS playlists for the tests: parses media and
# multivariant playlists and checks them against the rules of
# shared/ll-hls.md (draft-pantos-hls-rfc8216bis, Apple's authoring spec).
# Each check returns a list of violations, one readable sentence each;
# an empty list means the playlist passes.
#
#   my $pl = parse_media($text);
#   my @v  = check_media($pl, siblings => ['b.m3u8', 'c.m3u8'],
#                        self => 'a.m3u8');
#   my @v  = check_report($report, $sibling_pl, max_lag => 8);
#   my @v  = check_reload($older, $newer);   # two reloads of one playlist
#   my @v  = check_master(parse_master($text));
#
# Durations are compared in integer milliseconds, as they are written with
# at most 3 decimals.

use strict;
use warnings;
use Exporter 'import';
use POSIX qw(floor);
use Time::Local qw(timegm);

our @EXPORT_OK = qw(parse_media parse_master check_media check_reload
                    check_master check_report);

# "0.500" -> 500
sub _ms {
    my ($s) = @_;
    return undef unless defined $s && $s =~ /^\d+(?:\.\d+)?$/;
    return floor($s * 1000 + 0.5);
}

sub _s { sprintf('%.3f', $_[0] / 1000) }

# ATTR=value,ATTR="quoted, value" -> { ATTR => value }
sub _attrs {
    my ($s) = @_;
    my %a;
    while ($s =~ /\G([A-Z0-9-]+)=("[^"]*"|[^,]*)(?:,|$)/gc) {
        my ($k, $v) = ($1, $2);
        $v =~ s/^"(.*)"$/$1/s;
        $a{$k} = $v;
    }
    return \%a;
}

# ISO 8601 with milliseconds and a zone -> ms since the epoch, or undef
sub _pdt {
    my ($s) = @_;
    return undef unless $s =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)
                                \.(\d{3,})(Z|[+-]\d\d:?\d\d)$/x;
    my $t = eval { timegm($6, $5, $4, $3, $2 - 1, $1) };
    return undef unless defined $t;
    my $ms = $t * 1000 + substr($7, 0, 3);
    if ($8 ne 'Z') {
        my ($sign, $h, $m) = $8 =~ /^([+-])(\d\d):?(\d\d)$/;
        $ms -= ($sign eq '+' ? 1 : -1) * ($h * 60 + $m) * 60000;
    }
    return $ms;
}

# The media playlist as a hash: header values, segments (complete ones,
# each with its parts if listed), the open segment's parts, the hint, the
# reports; {errors} holds what was already wrong while reading.
sub parse_media {
    my ($text) = @_;
    my @lines = split /\r?\n/, $text;
    my %pl = (segments => [], open => [], reports => [], errors => [],
              skipped => 0, endlist => 0, sc => {});
    my $err = $pl{errors};

    push @$err, 'first line is not #EXTM3U'
        unless @lines && $lines[0] eq '#EXTM3U';

    my $cur = { parts => [] };      # the segment being read
    my $seen_part;                  # a part of $cur came already
    my $extinf;

    for my $i (1 .. $#lines) {
        my $l = $lines[$i];
        next if $l eq '';

        if ($l =~ /^#EXT-X-VERSION:(\d+)$/) {
            $pl{version} = $1;
        } elsif ($l =~ /^#EXT-X-TARGETDURATION:(\d+)$/) {
            $pl{td} = $1;
        } elsif ($l =~ /^#EXT-X-SERVER-CONTROL:(.*)$/) {
            $pl{sc} = _attrs($1);
        } elsif ($l =~ /^#EXT-X-PART-INF:(.*)$/) {
            $pl{part_target} = _ms(_attrs($1)->{'PART-TARGET'});
            push @$err, "bad EXT-X-PART-INF: $1"
                unless defined $pl{part_target};
        } elsif ($l =~ /^#EXT-X-MEDIA-SEQUENCE:(\d+)$/) {
            $pl{msn} = $1;
        } elsif ($l =~ /^#EXT-X-SKIP:(.*)$/) {
            $pl{skipped} = _attrs($1)->{'SKIPPED-SEGMENTS'} // 0;
        } elsif ($l =~ /^#EXT-X-MAP:(.*)$/) {
            $pl{map} = _attrs($1)->{URI};
            push @$err, "EXT-X-MAP after a part of its segment (line "
                        . ($i + 1) . ')' if $seen_part;
        } elsif ($l =~ /^#EXT-X-PROGRAM-DATE-TIME:(.*)$/) {
            $cur->{pdt_text} = $1;
            $cur->{pdt} = _pdt($1);
            push @$err, "EXT-X-PROGRAM-DATE-TIME '$1' lacks milliseconds "
                        . 'or a time zone' unless defined $cur->{pdt};
            push @$err, 'EXT-X-PROGRAM-DATE-TIME after a part of its '
                        . 'segment (line ' . ($i + 1) . ')' if $seen_part;
        } elsif ($l =~ /^#EXT-X-PART:(.*)$/) {
            my $a = _attrs($1);
            push @{$cur->{parts}}, {
                uri => $a->{URI}, duration => _ms($a->{DURATION}),
                independent => ($a->{INDEPENDENT} // '') eq 'YES',
                gap => ($a->{GAP} // '') eq 'YES',
            };
            push @$err, "EXT-X-PART without URI or DURATION: $1"
                unless defined $a->{URI} && defined _ms($a->{DURATION});
            $seen_part = 1;
        } elsif ($l =~ /^#EXTINF:([\d.]+),/) {
            $extinf = _ms($1);
        } elsif ($l =~ /^#EXT-X-PRELOAD-HINT:(.*)$/) {
            my $a = _attrs($1);
            $pl{hint} = $a->{URI} if ($a->{TYPE} // '') eq 'PART';
        } elsif ($l =~ /^#EXT-X-RENDITION-REPORT:(.*)$/) {
            my $a = _attrs($1);
            push @{$pl{reports}}, { uri => $a->{URI},
                last_msn => $a->{'LAST-MSN'}, last_part => $a->{'LAST-PART'} };
        } elsif ($l eq '#EXT-X-ENDLIST') {
            $pl{endlist} = 1;
        } elsif ($l =~ /^#/) {
            # other tags and comments: not checked here
        } else {
            push @$err, "segment $l without EXTINF" unless defined $extinf;
            $cur->{uri} = $l;
            $cur->{duration} = $extinf;
            push @{$pl{segments}}, $cur;
            $cur = { parts => [] };
            undef $extinf;
            undef $seen_part;
        }
    }

    $pl{open} = $cur->{parts};
    $pl{open_pdt} = $cur->{pdt};

    my $msn = ($pl{msn} // 0) + $pl{skipped};
    $_->{msn} = $msn++ for @{$pl{segments}};
    $pl{open_msn} = $msn;

    return \%pl;
}

# Every part in order, with its segment's MSN and its index there.
sub _parts {
    my ($pl) = @_;
    my @p;
    for my $s (@{$pl->{segments}}) {
        my $i = 0;
        push @p, { %$_, msn => $s->{msn}, index => $i++ }
            for @{$s->{parts}};
    }
    my $i = 0;
    push @p, { %$_, msn => $pl->{open_msn}, index => $i++, open => 1 }
        for @{$pl->{open}};
    return @p;
}

sub check_media {
    my ($pl, %opt) = @_;
    my @v = @{$pl->{errors}};
    my $td = $pl->{td};
    my $pt = $pl->{part_target};
    my @parts = _parts($pl);

    push @v, 'no EXT-X-TARGETDURATION' unless defined $td;
    push @v, 'no EXT-X-MAP (fMP4 needs its init segment)'
        unless defined $pl->{map};

    # versions: MAP needs 6, SKIP 9, and no more is declared
    my $need = $pl->{skipped} ? 9 : 6;
    my $ver = $pl->{version} // 1;
    push @v, "EXT-X-VERSION $ver below $need" if $ver < $need;
    push @v, "EXT-X-VERSION $ver over-declared ($need needed)"
        if $ver > $need;

    # every rounded EXTINF <= TARGETDURATION
    for my $s (@{$pl->{segments}}) {
        next unless defined $td && defined $s->{duration};
        my $r = floor(($s->{duration} + 500) / 1000);
        push @v, "EXTINF " . _s($s->{duration}) . " of MSN $s->{msn} "
                 . "rounds to $r > TARGETDURATION $td" if $r > $td;
    }

    if (@parts) {
        push @v, 'parts without EXT-X-PART-INF' unless defined $pt;
    }

    my $sc = $pl->{sc};
    if (defined $pt) {
        push @v, 'EXT-X-SERVER-CONTROL lacks CAN-BLOCK-RELOAD=YES'
            unless ($sc->{'CAN-BLOCK-RELOAD'} // '') eq 'YES';
        my $phb = _ms($sc->{'PART-HOLD-BACK'});
        if (!defined $phb) {
            push @v, 'EXT-X-SERVER-CONTROL lacks PART-HOLD-BACK';
        } elsif ($phb < 3 * $pt) {
            push @v, 'PART-HOLD-BACK ' . _s($phb) . ' < 3 x PART-TARGET '
                     . _s($pt);
        }
    }
    if (defined $sc->{'HOLD-BACK'} && defined $td
        && _ms($sc->{'HOLD-BACK'}) < 3000 * $td)
    {
        push @v, "HOLD-BACK $sc->{'HOLD-BACK'} < 3 x TARGETDURATION $td";
    }
    if (defined $sc->{'CAN-SKIP-UNTIL'} && defined $td
        && _ms($sc->{'CAN-SKIP-UNTIL'}) < 6000 * $td)
    {
        push @v, "CAN-SKIP-UNTIL $sc->{'CAN-SKIP-UNTIL'} < 6 x "
                 . "TARGETDURATION $td";
    }
    if ($pl->{skipped} && !defined $sc->{'CAN-SKIP-UNTIL'}) {
        push @v, 'EXT-X-SKIP without CAN-SKIP-UNTIL';
    }

    # part durations: <= PART-TARGET always; >= 85% but for independent
    # parts, the last of a segment, GAP parts and the one before a GAP
    # (the open segment's last part may still be followed: not judged)
    if (defined $pt) {
        for my $i (0 .. $#parts) {
            my $p = $parts[$i];
            next unless defined $p->{duration};
            push @v, "part $p->{uri}: DURATION " . _s($p->{duration})
                     . ' > PART-TARGET ' . _s($pt)
                if $p->{duration} > $pt;
            my $next = $parts[$i + 1];
            my $last = !$next || $next->{msn} != $p->{msn};
            next if $p->{independent} || $p->{gap} || $last
                    || ($next && $next->{gap});
            push @v, "part $p->{uri}: DURATION " . _s($p->{duration})
                     . ' < 85% of PART-TARGET ' . _s($pt)
                if $p->{duration} * 100 < 85 * $pt;
        }
    }

    # PDT: on the first segment at least, always moving forward
    my @segs = @{$pl->{segments}};
    my @pdts = map { [$_->{msn}, $_->{pdt}] } grep { defined $_->{pdt} } @segs;
    push @pdts, [$pl->{open_msn}, $pl->{open_pdt}]
        if @{$pl->{open}} && defined $pl->{open_pdt};
    push @v, 'no EXT-X-PROGRAM-DATE-TIME on the first segment'
        if @segs && !defined $segs[0]{pdt_text};
    for my $i (1 .. $#pdts) {
        push @v, "PROGRAM-DATE-TIME of MSN $pdts[$i][0] is not after "
                 . "MSN $pdts[$i - 1][0]'s"
            if $pdts[$i][1] <= $pdts[$i - 1][1];
    }

    # the preload hint: in every live playlist with parts, never with
    # ENDLIST, and a part to come, not one listed
    if ($pl->{endlist}) {
        push @v, 'EXT-X-PRELOAD-HINT with EXT-X-ENDLIST'
            if defined $pl->{hint};
    } elsif (defined $pt) {
        if (!defined $pl->{hint}) {
            push @v, 'no EXT-X-PRELOAD-HINT in a live playlist';
        } elsif (grep { ($_->{uri} // '') eq $pl->{hint} } @parts) {
            push @v, "preload hint $pl->{hint} is a listed part";
        }
    }

    # one report per sibling, with LAST-PART when there are parts; none
    # for the playlist itself, none for anything else when siblings are
    # given (the spec: one per other rendition of the master)
    my %sib = map { $_ => 1 } @{$opt{siblings} // []};
    my %n;
    for my $r (@{$pl->{reports}}) {
        my $u = $r->{uri} // '';
        if (defined $opt{self} && $u eq $opt{self}) {
            push @v, "EXT-X-RENDITION-REPORT for the playlist itself ($u)";
        } elsif ($opt{siblings} && !$sib{$u}) {
            push @v, "EXT-X-RENDITION-REPORT for $u, not a sibling";
        }
        push @v, "two EXT-X-RENDITION-REPORTs for $u" if ++$n{$u} == 2;
    }
    unless ($pl->{endlist}) {
        for my $sib (@{$opt{siblings} // []}) {
            my ($r) = grep { ($_->{uri} // '') eq $sib } @{$pl->{reports}};
            if (!$r) {
                push @v, "no EXT-X-RENDITION-REPORT for $sib";
            } elsif (!defined $r->{last_msn}) {
                push @v, "EXT-X-RENDITION-REPORT for $sib lacks LAST-MSN";
            } elsif (defined $pt && !defined $r->{last_part}) {
                push @v, "EXT-X-RENDITION-REPORT for $sib lacks LAST-PART";
            }
        }
    }

    return @v;
}

# One EXT-X-RENDITION-REPORT against the sibling's own playlist, read
# after the report's: LAST-MSN/LAST-PART are not ahead of the sibling's
# last part, and at most max_lag parts behind it.
sub check_report {
    my ($r, $sib, %opt) = @_;
    my @v;
    my $u = $r->{uri} // '?';
    my @parts = _parts($sib);
    return ("$u: the sibling's playlist has no parts") unless @parts;
    my ($m, $p) = ($r->{last_msn}, $r->{last_part});
    return ("$u: report without LAST-MSN or LAST-PART")
        unless defined $m && defined $p && "$m$p" =~ /^\d+$/;
    my $last = $parts[-1];
    if ($m > $last->{msn} || ($m == $last->{msn} && $p > $last->{index})) {
        push @v, "$u: report $m.$p is ahead of the sibling's last part "
                 . "$last->{msn}.$last->{index}";
    }
    my $lag = grep { $_->{msn} > $m || ($_->{msn} == $m && $_->{index} > $p) }
              @parts;
    push @v, "$u: report $m.$p lags $lag parts behind the sibling's last "
             . "part $last->{msn}.$last->{index}"
        if defined $opt{max_lag} && $lag > $opt{max_lag};
    return @v;
}

# Two reloads of one media playlist, $a older than $b.
sub check_reload {
    my ($a, $b) = @_;
    my @v;

    push @v, "TARGETDURATION changed from $a->{td} to $b->{td}"
        if ($a->{td} // -1) != ($b->{td} // -1);

    my ($am, $bm) = ($a->{msn} // 0, $b->{msn} // 0);
    push @v, "MEDIA-SEQUENCE went back from $am to $bm" if $bm < $am;

    # the segments both list are the same segments
    my %old = map { $_->{msn} => $_ } @{$a->{segments}};
    for my $s (@{$b->{segments}}) {
        my $o = $old{$s->{msn}} or next;
        push @v, "MSN $s->{msn} changed from $o->{uri} to $s->{uri}"
            if $o->{uri} ne $s->{uri};
        push @v, "MSN $s->{msn} changed duration"
            if ($o->{duration} // -1) != ($s->{duration} // -1);
        push @v, "MSN $s->{msn} changed PROGRAM-DATE-TIME"
            if defined $o->{pdt} && defined $s->{pdt}
               && $o->{pdt} != $s->{pdt};
    }

    # no segment lost between the two: the newer starts at most one past
    # the older's last, and does not end before it
    my $alast = $a->{open_msn} - 1;
    my $blast = $b->{open_msn} - 1;
    push @v, 'segments ' . ($alast + 1) . '-' . ($bm - 1) . ' never listed'
        if $bm > $alast + 1;
    push @v, "last MSN went back from $alast to $blast" if $blast < $alast;

    # the older's preload hint is the part after its last part
    my @ap = _parts($a);
    my @bp = _parts($b);
    if (defined $a->{hint} && @ap) {
        my $last = $ap[-1]{uri};
        for my $i (0 .. $#bp - 1) {
            next unless ($bp[$i]{uri} // '') eq $last;
            my $next = $bp[$i + 1]{uri} // '';
            push @v, "preload hint $a->{hint} of the older playlist, but "
                     . "the part after $last is $next"
                if $next ne $a->{hint};
            last;
        }
    }

    return @v;
}

sub parse_master {
    my ($text) = @_;
    my @lines = split /\r?\n/, $text;
    my %m = (variants => [], errors => [], independent => 0);

    push @{$m{errors}}, 'first line is not #EXTM3U'
        unless @lines && $lines[0] eq '#EXTM3U';

    my $cur;
    for my $l (@lines[1 .. $#lines]) {
        next if $l eq '';
        if ($l eq '#EXT-X-INDEPENDENT-SEGMENTS') {
            $m{independent} = 1;
        } elsif ($l =~ /^#EXT-X-STREAM-INF:(.*)$/) {
            push @{$m{errors}}, 'EXT-X-STREAM-INF without a URI' if $cur;
            $cur = _attrs($1);
        } elsif ($l =~ /^#/) {
            # not checked
        } elsif ($cur) {
            $cur->{uri} = $l;
            push @{$m{variants}}, $cur;
            undef $cur;
        } else {
            push @{$m{errors}}, "URI $l without EXT-X-STREAM-INF";
        }
    }
    push @{$m{errors}}, 'EXT-X-STREAM-INF without a URI' if $cur;

    return \%m;
}

sub check_master {
    my ($m) = @_;
    my @v = @{$m->{errors}};

    push @v, 'no EXT-X-INDEPENDENT-SEGMENTS' unless $m->{independent};
    push @v, 'no variant' unless @{$m->{variants}};

    my $prev;
    my @seen;
    for my $x (@{$m->{variants}}) {
        my $u = $x->{uri};
        my $bw = $x->{BANDWIDTH};
        if (!defined $bw || $bw !~ /^\d+$/ || $bw == 0) {
            push @v, "$u: no BANDWIDTH";
            next;
        }
        my $avg = $x->{'AVERAGE-BANDWIDTH'};
        if (!defined $avg) {
            push @v, "$u: no AVERAGE-BANDWIDTH";
        } elsif ($avg > $bw) {
            push @v, "$u: AVERAGE-BANDWIDTH $avg above BANDWIDTH $bw";
        }

        my @codecs = split /,/, $x->{CODECS} // '';
        push @v, "$u: no CODECS" unless @codecs;
        for my $c (@codecs) {
            push @v, "$u: codec '$c' is neither avc1.PPCCLL nor mp4a.40.N"
                unless $c =~ /^(avc1\.[0-9a-f]{6}|mp4a\.40\.\d{1,2})$/;
        }
        my $video = grep { /^avc1\./ } @codecs;
        my $audio = grep { /^mp4a\./ } @codecs;
        if ($video) {
            push @v, "$u: no RESOLUTION=WxH"
                unless ($x->{RESOLUTION} // '') =~ /^\d+x\d+$/;
            push @v, "$u: FRAME-RATE not given with 3 decimals"
                unless ($x->{'FRAME-RATE'} // '') =~ /^\d+\.\d{3}$/;
        } elsif (defined $x->{RESOLUTION}) {
            push @v, "$u: RESOLUTION without a video codec";
        }

        push @v, "$u: BANDWIDTH $bw below the previous variant's $prev"
            if defined $prev && $bw < $prev;
        $prev = $bw;

        # same picture and tracks within 125% of a cheaper one
        my $res = $x->{RESOLUTION} // '';
        for my $o (@seen) {
            next unless $o->{res} eq $res && $o->{video} == $video
                        && $o->{audio} == $audio;
            my ($lo, $hi) = sort { $a <=> $b } ($o->{bw}, $bw);
            push @v, "$u duplicates $o->{uri} ($res, BANDWIDTH within 125%)"
                if $hi * 100 < $lo * 125;
        }
        push @seen, { uri => $u, res => $res, video => $video,
                      audio => $audio, bw => $bw };
    }

    return @v;
}

1;
