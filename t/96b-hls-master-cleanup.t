# The classic master (vkstream_hls_master) survives nginx-rtmp's
# hls_cleanup, which deletes every playlist in hls_path unmodified for
# hls_playlist_length: the ladder's master can stay the same for a whole
# stream, so the module renews its time with every segment.  Once the
# stream has ended, the cleanup removes it like nginx-rtmp's own files.
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;
use VKStream::Media qw(publish stop_publisher wait_segments);
use VKStream::API qw(wait_until);

my $conf = VKStream::Nginx::standard_conf(
    live => 'vkstream on; vkstream_hls_master %%PREFIX%%/short; '
          . 'vkstream_rendition _low app=short;',
    apps => 'application short { live on; hls on; '
          . 'hls_path %%PREFIX%%/short; hls_fragment 1s; '
          . 'hls_playlist_length 2s; }');
my $n = VKStream::Nginx->new(conf => $conf);
my $dir = $n->prefix . '/short';
mkdir $dir or die "$dir: $!";
chown((getpwnam('nobody'))[2], (getgrnam('nogroup'))[2], $dir) if $> == 0;

# a witness that the cleanup runs: a playlist already past its age
my $stale = "$dir/stale.m3u8";
open my $f, '>', $stale or die $!;
close $f;
utime(time - 3600, time - 3600, $stale) or die $!;

$n->start;
my $pid = publish($n->rtmp_url('live/m'), size => '320x240', fps => 15,
                  gop => 15, duration => 60);

ok(wait_until(30, sub { -s "$dir/m.m3u8" }), 'the master is written');
my $written = (stat "$dir/m.m3u8")[9];
ok(wait_until(30, sub { !-e $stale }), 'hls_cleanup has run: the stale '
   . 'playlist is gone');

# 8 more one-second fragments: the cleanup (every 2 s, for files over
# 2 s old) has had several turns at the master since it was written
ok(wait_segments("$dir/m_low.m3u8", 1, 30), 'the rendition is in HLS');
my $seq = sub {
    open my $p, '<', "$dir/m_low.m3u8" or return -1;
    local $/;
    my $t = <$p>;
    return $t =~ /#EXT-X-MEDIA-SEQUENCE:(\d+)/ ? $1 : -1;
};
my $start = $seq->();
ok(wait_until(40, sub { $seq->() >= $start + 8 }),
   '8 more fragments were cut');
ok(-s "$dir/m.m3u8", 'the master is still there');
ok((stat "$dir/m.m3u8")[9] > $written, '  its time was renewed');
like(do { local (@ARGV, $/) = "$dir/m.m3u8"; <> } // '',
     qr/#EXT-X-STREAM-INF:.*\nm_low\.m3u8\n/, '  and it lists m_low.m3u8');

stop_publisher($pid);
ok(wait_until(40, sub { !-e "$dir/m.m3u8" }),
   'after the stream, the cleanup removes the master');
$n->stop;
done_testing;
