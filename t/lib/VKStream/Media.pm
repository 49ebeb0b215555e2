package VKStream::Media;

# Real media helpers: an ffmpeg publisher fed by lavfi test sources,
# ffprobe, HLS playlists.

use strict;
use warnings;
use Exporter 'import';
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(publish publish_cmd stop_publisher ffprobe ffprobe_packets
                    wait_for_file);
use VKStream::HTTP qw(json_decode);

# publish(url, size => '1280x720', fps => 30, gop => 60, duration => 20,
#         pix_fmt => 'yuv420p', audio => 'aac'|'mp3'|'none',
#         video => 'h264'|'none', vextra => [...], input => [...])
# Starts ffmpeg in the background; returns its pid.
sub publish {
    my ($url, %o) = @_;
    my @cmd = publish_cmd($url, %o);
    my $log = $o{log} // '/dev/null';
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', $log;
        open STDERR, '>>', $log;
        exec @cmd or POSIX::_exit(127);
    }
    return $pid;
}

# The ffmpeg command line publish() runs, for a caller that starts it
# itself (the dashboard test's browser driver).
sub publish_cmd {
    my ($url, %o) = @_;
    my $size = $o{size} // '1280x720';
    my $fps = $o{fps} // 30;
    my $gop = $o{gop} // $fps * 2;
    my $dur = $o{duration} // 30;
    my $pix = $o{pix_fmt} // 'yuv420p';
    my $audio = $o{audio} // 'aac';
    my $video = $o{video} // 'h264';
    my @cmd = ('ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin',
               '-re');
    if ($o{input}) {
        push @cmd, @{ $o{input} };
    } else {
        push @cmd, '-f', 'lavfi', '-i',
            "testsrc=size=$size:rate=$fps:duration=$dur"
            if $video ne 'none';
        push @cmd, '-f', 'lavfi', '-i',
            "sine=frequency=440:sample_rate=44100:duration=$dur"
            if $audio ne 'none';
    }
    if ($video eq 'copy-input') {
        push @cmd, '-c:v', 'copy';
    } elsif ($video eq 'flv1') {
        push @cmd, '-c:v', 'flv', '-g', $gop;
    } elsif ($video ne 'none') {
        push @cmd, '-c:v', 'libx264', '-preset', 'ultrafast',
            '-pix_fmt', $pix, '-g', $gop, '-keyint_min', $gop,
            '-sc_threshold', '0', @{ $o{vextra} // [] };
    } else {
        push @cmd, '-vn';
    }
    if ($audio eq 'aac') {
        push @cmd, '-c:a', 'aac', '-b:a', '64k';
    } elsif ($audio eq 'mp3') {
        push @cmd, '-c:a', 'libmp3lame', '-b:a', '64k', '-ar', '44100';
    } elsif ($audio eq 'copy') {
        push @cmd, '-c:a', 'copy';
    } elsif ($audio eq 'none') {
        push @cmd, '-an';
    } else {
        push @cmd, '-c:a', $audio;
    }
    push @cmd, @{ $o{output_opts} // [] }, '-f', 'flv', $url;
    return @cmd;
}

sub stop_publisher {
    my ($pid, $sig) = @_;
    return unless $pid;
    kill $sig // 'INT', $pid;
    my $end = time + 10;
    while (time < $end) {
        return if waitpid($pid, WNOHANG) != 0;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

# A live playlist never ends, so ffprobe would follow it: probe a finished
# copy of it (same directory, so segment names resolve).
sub finished_copy {
    my ($what) = @_;
    return $what unless $what =~ /\.m3u8$/ && -f $what;
    my $copy = $what =~ s/\.m3u8$/.probe.m3u8/r;
    open my $in, '<', $what or return $what;
    open my $out, '>', $copy or return $what;
    my $ended = 0;
    while (<$in>) {
        $ended = 1 if /EXT-X-ENDLIST/;
        print $out $_;
    }
    print $out "#EXT-X-ENDLIST\n" unless $ended;
    close $out;
    return $copy;
}

# ffprobe(url_or_file, extra args) -> decoded JSON (streams and format).
sub ffprobe {
    my ($what, @extra) = @_;
    $what = finished_copy($what);
    my $out = `ffprobe -v error -print_format json -show_streams -show_format @extra '$what' 2>/dev/null`;
    return undef if $? != 0 || $out !~ /\S/;
    return json_decode($out);
}

# Packet list (pts_time, flags, size, data hash) of a media file or URL.
sub ffprobe_packets {
    my ($what, $select, $hash) = @_;
    my $h = $hash ? '-show_data_hash MD5' : '';
    my $e = $hash ? ',data_hash' : '';
    $select //= 'v:0';
    $what = finished_copy($what);
    my $out = `ffprobe -v error -print_format json -select_streams $select -show_packets -show_entries packet=pts_time,dts_time,flags,size,duration_time$e $h '$what' 2>/dev/null`;
    return [] if $? != 0;
    return json_decode($out)->{packets} // [];
}

sub wait_for_file {
    my ($path, $timeout, $re) = @_;
    my $end = time + ($timeout // 20);
    while (time < $end) {
        if (-s $path) {
            return 1 unless $re;
            open my $f, '<', $path;
            local $/;
            my $t = <$f>;
            return 1 if $t =~ $re;
        }
        sleep 0.2;
    }
    return 0;
}

1;

package VKStream::Media;

push @EXPORT_OK, qw(playlist_durations video_info bitrate_kbps
                    wait_segments);

# EXTINF durations of a playlist file, in order.
sub playlist_durations {
    my ($path) = @_;
    open my $f, '<', $path or return ();
    my @d;
    while (<$f>) {
        push @d, $1 + 0 if /^#EXTINF:([\d.]+)/;
    }
    return @d;
}

# Waits until a playlist lists at least $n segments.
sub wait_segments {
    my ($path, $n, $timeout) = @_;
    my $end = time + ($timeout // 30);
    while (time < $end) {
        my @d = playlist_durations($path);
        return scalar @d if @d >= $n;
        sleep 0.2;
    }
    return 0;
}

# (video stream, audio stream) hashes of ffprobe's output for a media URL.
sub video_info {
    my ($what) = @_;
    my $j = ffprobe($what) or return ();
    my ($v) = grep { $_->{codec_type} eq 'video' } @{ $j->{streams} };
    my ($a) = grep { $_->{codec_type} eq 'audio' } @{ $j->{streams} };
    return ($v, $a);
}

# Average bitrate (kbit/s) of one track of a playlist, from its packets.
sub bitrate_kbps {
    my ($what, $select) = @_;
    my $p = ffprobe_packets($what, $select);
    return 0 unless @$p > 1;
    my $bytes = 0;
    $bytes += $_->{size} for @$p;
    my $t0 = $p->[0]{dts_time} // $p->[0]{pts_time};
    my $t1 = $p->[-1]{dts_time} // $p->[-1]{pts_time};
    return 0 unless defined $t0 && defined $t1 && $t1 > $t0;
    return $bytes * 8 / ($t1 - $t0) / 1000;
}

1;
