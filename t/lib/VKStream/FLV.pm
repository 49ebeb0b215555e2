package VKStream::FLV;

# FLV files as lists of tags, and a minimal RTMP publisher that sends any
# tags with any timestamps, unlike ffmpeg, which checks and repairs them.
# A tag is [ type (8 audio, 9 video, 18 data), timestamp ms, body, wall ms ]
# where the optional wall time says when to send it (default: timestamp).

use strict;
use warnings;
use Exporter 'import';
use IO::Socket::INET;
use IO::Select;
use POSIX ();
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(read_tags write_tags make_flv rtmp_publish
                    rtmp_publish_bg);

# (13-byte header, tags)
sub read_tags {
    my ($path) = @_;
    open my $f, '<:raw', $path or die "$path: $!";
    local $/;
    my $d = <$f>;
    my ($pos, @tags) = (13);
    while ($pos + 11 <= length $d) {
        my ($type, $s1, $s2, $t1, $t2, $ext) =
            unpack 'C C n C n C', substr($d, $pos, 8);
        my $size = ($s1 << 16) | $s2;
        my $ts = ($ext << 24) | ($t1 << 16) | $t2;
        push @tags, [ $type, $ts, substr($d, $pos + 11, $size) ];
        $pos += 11 + $size + 4;
    }
    return (substr($d, 0, 13), @tags);
}

sub write_tags {
    my ($out, $head, @tags) = @_;
    open my $f, '>:raw', $out or die;
    print $f $head;
    for my $t (@tags) {
        my ($type, $ts, $data) = @$t;
        my $size = length $data;
        print $f pack('C C n C n C C n', $type, $size >> 16, $size & 0xffff,
                      ($ts >> 16) & 0xff, $ts & 0xffff, ($ts >> 24) & 0xff,
                      0, 0), $data, pack('N', $size + 11);
    }
    close $f;
}

# make_flv(path, size => '320x240', fps => 10, gop => 10, duration => 5,
#          audio => 1): H.264 + AAC test pattern; returns its tags.
sub make_flv {
    my ($path, %o) = @_;
    my $size = $o{size} // '320x240';
    my $fps = $o{fps} // 10;
    my $gop = $o{gop} // $fps;
    my $dur = $o{duration} // 5;
    my @a = ($o{audio} // 1)
        ? ('-f', 'lavfi', '-i', "sine=duration=$dur", '-c:a', 'aac',
           '-b:a', '32k') : ('-an');
    system('ffmpeg', '-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i',
           "testsrc=size=$size:rate=$fps:duration=$dur", @a[0 .. 3],
           '-c:v', 'libx264', '-preset', 'ultrafast', '-g', $gop,
           '-pix_fmt', 'yuv420p', @a[4 .. $#a], $path) == 0
        or die "ffmpeg failed for $path";
    my (undef, @tags) = read_tags($path);
    return grep { $_->[0] != 18 } @tags;
}

# --- RTMP ---

sub _amf {
    my @out;
    for my $v (@_) {
        if (!defined $v) {
            push @out, "\x05";
        } elsif (ref $v eq 'HASH') {
            my $o = "\x03";
            for my $k (sort keys %$v) {
                $o .= pack('n', length $k) . $k . _amf($v->{$k});
            }
            push @out, $o . "\x00\x00\x09";
        } elsif ($v =~ /^-?\d+(\.\d+)?$/ && $v !~ /^0\d/) {
            push @out, "\x00" . pack('d>', $v);
        } else {
            push @out, "\x02" . pack('n', length $v) . $v;
        }
    }
    return join '', @out;
}

# One message in chunks of 4096 (we set that chunk size first).
sub _chunks {
    my ($csid, $type, $msid, $ts, $body) = @_;
    my $ext = $ts >= 0xffffff;
    my $t24 = $ext ? 0xffffff : $ts;
    my $len = length $body;
    my $out = pack('C', $csid) . pack('N', $t24) =~ s/^.//sr
        . pack('N', $len) =~ s/^.//sr . pack('C V', $type, $msid);
    $out .= pack('N', $ts) if $ext;
    my $pos = 0;
    while (1) {
        $out .= substr($body, $pos, 4096);
        $pos += 4096;
        last if $pos >= $len;
        $out .= pack('C', 0xc0 | $csid);
        $out .= pack('N', $ts) if $ext;
    }
    return $out;
}

sub _drain {
    my ($s, $wait) = @_;
    my $sel = IO::Select->new($s);
    my $got = '';
    while ($sel->can_read($wait)) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $got .= $buf;
        $wait = 0;
    }
    return $got;
}

# rtmp_publish(port, app, name, tags, speed => 1): connects, publishes and
# sends the tags at their wall (or timestamp) times; returns 1 once all
# are sent and the connection closed, 0 if the publish was not accepted.
# close => 0 leaves the socket open and returns it (a stalled publisher).
sub rtmp_publish {
    my ($port, $app, $name, $tags, %o) = @_;
    my $speed = $o{speed} // 1;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or return 0;
    binmode $s;
    # plain (version 0) handshake
    my $c1 = pack('N N', 0, 0) . join('', map { chr int rand 256 } 1 .. 1528);
    syswrite($s, "\x03" . $c1);
    my $hs = '';
    my $end = time + 5;
    while (length($hs) < 1 + 1536 * 2 && time < $end) {
        $hs .= _drain($s, 0.5);
    }
    return 0 if length($hs) < 1 + 1536 * 2;
    syswrite($s, substr($hs, 1, 1536));

    my $tc = "rtmp://127.0.0.1:$port/$app";
    my $msg = _chunks(2, 1, 0, 0, pack('N', 4096))
        . _chunks(3, 20, 0, 0, _amf('connect', 1,
                  { app => $app, type => 'nonprivate', tcUrl => $tc,
                    flashVer => 'FMLE/3.0' }))
        . _chunks(3, 20, 0, 0, _amf('createStream', 2, undef));
    syswrite($s, $msg);
    my $got = '';
    $end = time + 5;
    $got .= _drain($s, 0.2) while $got !~ /createStream|_result.*_result/s
                                  && time < $end;
    syswrite($s, _chunks(8, 20, 1, 0, _amf('publish', 3, undef, $name,
                                            'live')));
    $got = '';
    $end = time + 5;
    $got .= _drain($s, 0.2) while $got !~ /NetStream\.Publish\.(\w+)/
                                  && time < $end;
    return 0 unless $got =~ /NetStream\.Publish\.Start/;

    my $t0 = time;
    for my $t (@$tags) {
        my ($type, $ts, $body, $wall) = @$t;
        $wall //= $ts;
        my $due = $t0 + $wall / 1000 / $speed;
        my $now = time;
        sleep($due - $now) if $due > $now;
        my $out = _chunks($type == 8 ? 4 : 6, $type, 1, $ts & 0xffffffff,
                          $body);
        my $off = 0;
        while ($off < length $out) {
            my $n = syswrite($s, $out, length($out) - $off, $off);
            return 0 unless defined $n;
            $off += $n;
        }
        _drain($s, 0);
    }
    return $s if defined $o{close} && !$o{close};
    close $s;
    return 1;
}

# The same in a child process; returns its pid.
sub rtmp_publish_bg {
    my @args = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $ok = eval { rtmp_publish(@args) };
        POSIX::_exit($ok ? 0 : 1);
    }
    return $pid;
}

1;
