package VKStream::LLFiles;

# What an LL-HLS directory (PATH/NAMESUFFIX) holds, for the tests that
# look for stale files: every file there should be the playlist, the init
# segment, or a segment or part the playlist references.  A part of a
# listed segment may be referenced by that segment only (the playlist
# lists parts of the last 3 target durations): its bytes are in the
# segment's.  Temporary files are stale unless allowed.
#
#   my @stale = stale_files($dir, $pl, allow => ['s3.m4s.tmp']);
#   my ($pl, @stale) = ended_clean($dir);   # waits for ENDLIST + 3 TD

use strict;
use warnings;
use Exporter 'import';
use Time::HiRes qw(sleep time);
use VKStream::LLHLS qw(parse_media);

our @EXPORT_OK = qw(stale_files ended_clean live_clean slurp);

sub slurp {
    open(my $f, '<', $_[0]) or return '';
    binmode $f;
    local $/;
    return scalar <$f>;
}

# The files of $dir that the parsed playlist $pl does not reference.
sub stale_files {
    my ($dir, $pl, %o) = @_;
    my %ref = ('index.m3u8' => 1, 'init.mp4' => 1,
               map { $_ => 1 } @{ $o{allow} // [] });
    my @segs;
    if ($pl) {
        for my $s (@{$pl->{segments}}) {
            $ref{$s->{uri}} = 1;
            $ref{$_->{uri}} = 1 for @{$s->{parts}};
            push @segs, slurp("$dir/$s->{uri}");
        }
        $ref{$_->{uri}} = 1 for @{$pl->{open}};
    }
    opendir(my $d, $dir) or return ();
    my @stale;
    for my $f (sort grep { !/^\.\.?$/ } readdir $d) {
        next if $ref{$f};
        if ($f =~ /^p\d+\.m4s$/) {
            my $b = slurp("$dir/$f");
            next if length $b && grep { index($_, $b) >= 0 } @segs;
        }
        push @stale, $f;
    }
    return @stale;
}

# An ended stream's directory: waits (up to $timeout) for ENDLIST, then up
# to 3 target durations (and some slack) for the stale files to go.
# Returns the final playlist (undef when there was none or no ENDLIST
# came) and the files still stale.
sub ended_clean {
    my ($dir, $timeout) = @_;
    my $end = time + ($timeout // 20);
    my $pl;
    while (time < $end) {
        my $t = slurp("$dir/index.m3u8");
        if ($t =~ /#EXT-X-ENDLIST/) {
            $pl = parse_media($t);
            last;
        }
        last if $t eq '' && !-e "$dir/init.mp4" && time + 15 < $end;
        sleep 0.2;
    }
    my $td = $pl && $pl->{td} ? $pl->{td} : 2;
    $end = time + 3 * $td + 3;
    my @stale;
    while (1) {
        @stale = stale_files($dir, $pl);
        last if !@stale || time > $end;
        sleep 0.3;
    }
    return ($pl, @stale);
}

# A live stream's directory: what its current playlist does not reference,
# less what is being written (the open segment's temporary file, the
# hinted part).  Waits up to $timeout for it to be empty.
sub live_clean {
    my ($dir, $timeout) = @_;
    my $end = time + ($timeout // 10);
    my @stale;
    while (1) {
        my $pl = parse_media(slurp("$dir/index.m3u8"));
        my @allow = ("s$pl->{open_msn}.m4s.tmp", 'index.m3u8.tmp');
        push @allow, $pl->{hint}, "$pl->{hint}.tmp" if defined $pl->{hint};
        @stale = stale_files($dir, $pl, allow => \@allow);
        last if !@stale || time > $end;
        sleep 0.3;
    }
    return @stale;
}

1;
