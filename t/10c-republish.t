# The renditions' own RTMP client (media/vks_rtmp_pub.c): it connects,
# publishes NAME_low into the HLS application as nginx-rtmp expects (its
# connect and publish in nginx's log, the onMetaData it relays to players),
# and when the output refuses it, the rendition fails with the server's
# reason in last_error while the other renditions and streams go on: a
# port where nothing listens, an application that does not exist, a name
# somebody else already publishes (NetStream.Publish.BadName, and that
# publisher is not disturbed), and a server that is not RTMP.  An output
# host in brackets is IPv6 (when this machine has ::1).
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use VKStream::Nginx;
use VKStream::Media qw(publish ffprobe wait_segments video_info);
use VKStream::API qw(stream_json wait_until);

my $dead = VKStream::Nginx::free_port();
my $v6 = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0,
                             Listen => 1) ? VKStream::Nginx::free_port() : 0;
my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    rtmp => $v6 ? "listen [::1]:$v6;" : '',
    live => "vkstream on; vkstream_rendition _low;
             vkstream_rendition _dead host=127.0.0.1:$dead width=160;
             vkstream_rendition _noapp app=nosuchapp width=160;
             vkstream_rendition _taken width=160;
             vkstream_rendition _http host=127.0.0.1:%%HTTP_PORT%%
                                width=160;"
          . ($v6 ? " vkstream_rendition _v6 host=[::1]:$v6 width=160;" : '')));
$n->start;
my $port = $n->rtmp_port;

# somebody publishes "s1_taken" into the HLS application first
my $squatter = publish($n->rtmp_url('hls') . '/s1_taken', size => '160x120',
                       fps => 10, duration => 60);
ok(wait_segments($n->hls_dir . '/s1_taken.m3u8', 1, 30),
   'the name s1_taken is taken');

my $src = publish($n->rtmp_url('live') . '/s1', size => '640x360', fps => 25,
                  duration => 60);

sub rendition {
    my ($suffix) = @_;
    my $j = stream_json($n, 's1') or return {};
    my ($r) = grep { $_->{suffix} eq $suffix } @{ $j->{renditions} // [] };
    return $r // {};
}

ok(wait_until(30, sub { (rendition('_low')->{frames_out} // 0) >= 50 }),
   '_low runs (' . (rendition('_low')->{frames_out} // 0) . ' frames)');

# what nginx-rtmp saw of the client
ok($n->wait_log(qr/connect: app='hls' args='' flashver='FMLE\/3\.0 \(vkstream\)'.*tc_url='rtmp:\/\/127\.0\.0\.1:$port\/hls'/, 10),
   'connect: app, flashVer and tcUrl');
ok($n->wait_log(qr/publish: name='s1_low' args='vkstream_src=[0-9a-f]+' type=live/, 10),
   'publish: s1_low, live, with the marker');

ok(wait_segments($n->hls_dir . '/s1_low.m3u8', 2, 30), '_low segments');
my ($v, $a) = video_info($n->hls_dir . '/s1_low.m3u8');
is($v && $v->{width}, 480, 'HLS: 480 wide');
is($a && $a->{codec_name}, 'aac', 'HLS: with AAC audio');

# nginx-rtmp relays our onMetaData (sent as @setDataFrame) to players
my $j = ffprobe($n->rtmp_url('hls') . '/s1_low', '-rw_timeout', '10000000',
                '-read_intervals', '%+1');
my $tags = ($j && $j->{format}{tags}) // {};
is($tags->{displayWidth}, 480, 'a player gets displayWidth 480 from the '
   . 'metadata') or diag explain $tags;

SKIP: {
    skip 'no IPv6 loopback', 2 unless $v6;
    ok(wait_until(30, sub { (rendition('_v6')->{frames_out} // 0) >= 25 }),
       '_v6 runs over IPv6') or diag explain rendition('_v6');
    ok($n->wait_log(qr/tc_url='rtmp:\/\/\[::1\]:$v6\/hls'/, 5),
       '_v6: tcUrl with the bracketed host');
}

my %why = (
    _dead   => qr/^connecting to the output: connect to 127\.0\.0\.1:$dead: Connection refused$/,
    _noapp  => qr/^connecting to the output: (connect refused|the server closed the connection)/,
    _taken  => qr/^connecting to the output: publish refused: NetStream\.Publish\.BadName, Already publishing$/,
    _http   => qr/^connecting to the output: not an RTMP server \(version 72\)$/,
);

for my $s (sort keys %why) {
    ok(wait_until(30, sub { (rendition($s)->{state} // '') eq 'failed'
                            && (rendition($s)->{last_error} // '') ne '' }),
       "$s fails") or diag explain rendition($s);
    like(rendition($s)->{last_error}, $why{$s}, "$s: last_error says why");
}

ok($n->wait_log(qr/rendition "_taken": connecting to the output: publish refused: NetStream\.Publish\.BadName/, 5),
   'the refusal is logged');

# the failed ones retry; the squatter and _low are not disturbed
my $before = rendition('_low')->{frames_out};
my @taken = VKStream::Media::playlist_durations($n->hls_dir . '/s1_taken.m3u8');
ok(wait_until(20, sub {
    my @now = VKStream::Media::playlist_durations(
        $n->hls_dir . '/s1_taken.m3u8');
    @now > @taken;
}), 'the squatter still publishes s1_taken');
ok(rendition('_low')->{frames_out} > $before, '_low goes on');
is(kill(0, $squatter), 1, 'the squatter is still connected');
is(rendition('_low')->{state}, 'running', '_low is running');

kill 'TERM', $squatter, $src;
waitpid $_, 0 for $squatter, $src;
ok(wait_until(15, sub { !stream_json($n, 's1') || (stream_json($n, 's1')->{state} // '') eq 'ended' }),
   'the stream ends');
$n->no_alerts('no alerts in the log');
$n->stop;
undef $n;    # before global destruction: the subs above refer to it
done_testing;
