# LL-HLS output checked live for 30 s (issue 14): one stream with the
# default single rendition and one with a ladder of three, served by
# vkstream_llhls_serve.  Every playlist read passes the checker
# (t/lib/VKStream/LLHLS.pm: part durations and the 85% rule, hold-backs,
# TARGETDURATION rounding, preload hint, rendition reports of the
# siblings) and continues the one read before it; every segment and every
# INDEPENDENT part, fetched while listed, starts with a keyframe per
# ffprobe (behind the init segment).  Parts are asked for with blocking
# requests (_HLS_msn/_HLS_part), as a player does.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time);
use VKStream::Nginx;
use VKStream::HTTP qw(http);
use VKStream::LLHLS qw(parse_media check_media check_reload);
use VKStream::Media qw(publish stop_publisher wait_for_file);

my $SECS = 30;

my $http = <<'HTTP';
        location /ll/ {
            alias %%PREFIX%%/ll/;
            vkstream_llhls_serve;
        }
HTTP

my $ll = 'vkstream on; vkstream_llhls on; vkstream_llhls_path '
       . '%%PREFIX%%/ll;';
my $apps = <<'APPS';
        application three {
            live on;
            vkstream on;
            vkstream_llhls on;
            vkstream_llhls_path %%PREFIX%%/ll;
            vkstream_rendition _low preset=ultrafast;
            vkstream_rendition _mid width=320 maxrate=300k preset=ultrafast;
            vkstream_rendition _hi width=640 maxrate=800k preset=ultrafast;
        }
APPS

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => "$ll vkstream_rendition _low preset=ultrafast;",
    http => $http, apps => $apps));
my $dir = $n->prefix . '/ll';
$n->start;

my $dur = $SECS + 20;
my @pub = (publish($n->rtmp_url('live/one'), size => '640x360', fps => 30,
                   gop => 60, duration => $dur),
           publish($n->rtmp_url('three/tri'), size => '640x360', fps => 25,
                   gop => 50, duration => $dur));

# the playlists, with their siblings for the rendition reports
my %sib = (one_low => []);
my @tri = qw(tri_low tri_mid tri_hi);
for my $me (@tri) {
    $sib{$me} = [map { "../$_/index.m3u8" } grep { $_ ne $me } @tri];
}
# from when each playlist has parts and reports every sibling (a playlist
# written before a sibling's first one rightly lacks its report)
for my $r (sort keys %sib) {
    my $want = join '', '(?s)(?=.*#EXT-X-PART:)',
        map { "(?=.*#EXT-X-RENDITION-REPORT:URI=\"\Q$_\E\")" }
        @{$sib{$r}};
    ok(wait_for_file("$dir/$r/index.m3u8", 60, qr/$want/),
       "$r: LL-HLS playlist with parts and reports")
        or BAIL_OUT("no $r playlist");
}

my $tmp = tempdir(CLEANUP => 1);
my (%st, %bad);
for my $r (keys %sib) {
    my $init = http('GET', $n->http_url("/ll/$r/init.mp4"));
    is($init->{status}, 200, "$r: init.mp4") or next;
    open my $f, '>', "$tmp/$r.init" or die;
    print $f $init->{content};
    close $f;
    $st{$r} = { reads => 0, parts => {}, segs => {} };
}

# the first video packet of init + media: its flags start with K
sub keyframe_first {
    my ($r, $file) = @_;
    my $f = "$tmp/probe.mp4";
    system("cat '$tmp/$r.init' '$file' > '$f'");
    my $cmd = 'ffprobe -v error -select_streams v:0 -read_intervals %+#1 '
            . "-show_entries packet=flags -of csv=p=0 '$f' 2>&1";
    my ($flags) = split /\n/, `$cmd`;
    return ($flags // '') =~ /^K/;
}

# kept while listed (they are removed later), probed after the 30 s
sub keep {
    my ($r, $uri, $what) = @_;
    my $b = http('GET', $n->http_url("/ll/$r/$uri"));
    if ($b->{status} != 200) {
        push @{$bad{$r}}, "$what $uri: status $b->{status}";
        return;
    }
    my $file = "$tmp/$r-$uri";
    open my $o, '>', $file or die "$file: $!";
    print $o $b->{content};
    close $o;
    push @{$st{$r}{kept}}, [$what, $uri, $file];
}

# each round: a blocking request for the part after the last one seen
my $end = time + $SECS;
while (time < $end) {
    for my $r (sort keys %st) {
        my $s = $st{$r};
        my $q = '';
        if (my $p = $s->{prev}) {
            # the part after the last listed: index n of the open segment
            $q = "?_HLS_msn=$p->{open_msn}&_HLS_part="
               . scalar(@{$p->{open}});
        }
        my $a = http('GET', $n->http_url("/ll/$r/index.m3u8$q"));
        if ($a->{status} != 200) {
            push @{$bad{$r}}, "status $a->{status} for $q";
            next;
        }
        my $pl = parse_media($a->{content});
        push @{$bad{$r}}, check_media($pl, siblings => $sib{$r},
                                      self => "../$r/index.m3u8");
        push @{$bad{$r}}, check_reload($s->{prev}, $pl) if $s->{prev};
        $s->{reads}++;
        $s->{prev} = $pl;

        # new independent parts and new segments, while they are listed
        for my $seg (@{$pl->{segments}}, { parts => $pl->{open} }) {
            for my $part (grep { $_->{independent} } @{$seg->{parts}}) {
                keep($r, $part->{uri}, 'INDEPENDENT part')
                    unless $s->{parts}{$part->{uri}}++;
            }
            keep($r, $seg->{uri}, 'segment')
                if defined $seg->{uri} && !$s->{segs}{$seg->{uri}}++;
        }
    }
}

for my $r (sort keys %st) {
    for my $k (@{$st{$r}{kept} // []}) {
        push @{$bad{$r}}, "$k->[0] $k->[1] does not start with a keyframe"
            unless keyframe_first($r, $k->[2]);
    }
}

for my $r (sort keys %st) {
    my $s = $st{$r};
    my $segs = keys %{$s->{segs}};
    my $ind = keys %{$s->{parts}};
    note("$r: $s->{reads} playlists read, $segs segments and $ind "
         . 'independent parts probed');
    # a 2 s GOP for 30 s: about 15 segments, each with an independent part
    cmp_ok($segs, '>=', 8, "$r: segments seen over ${SECS} s");
    cmp_ok($ind, '>=', 8, "$r: independent parts seen over ${SECS} s");
    cmp_ok($s->{reads}, '>=', $segs, "$r: a playlist or more per "
           . 'segment (blocking requests follow the parts)');
    is_deeply($bad{$r} // [], [], "$r: every playlist passes the checker "
              . 'and continues the last; segments and INDEPENDENT parts '
              . 'start with a keyframe')
        or diag(explain($bad{$r}));
}

stop_publisher($_) for @pub;
$n->stop;
done_testing;
