# A copy rendition passes the source's video through bit for bit, next to
# an encoded rendition of the same source.
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;
use VKStream::Media qw(publish stop_publisher wait_segments
                       ffprobe_packets);

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => 'vkstream on;
             vkstream_rendition _low;
             vkstream_rendition _src video=copy audio=copy;
             hls on; hls_path %%PREFIX%%/src; hls_fragment 2s;
             hls_playlist_length 60s;',
));
mkdir $n->prefix . '/src';
system('chown', 'nobody:nogroup', $n->prefix . '/src') if $> == 0;
$n->start;

my $pid = publish($n->rtmp_url('live/c'), size => '640x360', fps => 25,
                  gop => 50, duration => 30);
my $copy = $n->hls_dir . '/c_src.m3u8';
my $src = $n->prefix . '/src/c.m3u8';
ok(wait_segments($copy, 3, 30) && wait_segments($src, 3, 10),
   'source and copy rendition have segments');
stop_publisher($pid);
sleep 1;

my %src = map { $_->{data_hash} => 1 }
          @{ ffprobe_packets($src, 'v:0', 1) };
my $cp = ffprobe_packets($copy, 'v:0', 1);
my @missing = grep { !$src{ $_->{data_hash} } } @$cp;
ok(@$cp > 50, scalar(@$cp) . ' video packets in the copy');
is(scalar @missing, 0, 'every copied video packet is identical to one of '
   . 'the source');
ok($cp->[0]{flags} =~ /K/, 'the copy starts at a keyframe');

my $ca = ffprobe_packets($copy, 'a:0', 1);
my %sa = map { $_->{data_hash} => 1 } @{ ffprobe_packets($src, 'a:0', 1) };
ok(@$ca > 50 && !grep({ !$sa{ $_->{data_hash} } } @$ca),
   'audio copied bit for bit too');

$n->stop;
done_testing;
