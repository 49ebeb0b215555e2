# LL-HLS URLs in the HTTP API (issue 14): a stream of an application with
# vkstream_llhls on gets "llhls" {master, playlists} and each rendition
# its "llhls" URL; a classic application's stream gets null.  The URLs
# follow vkstream_api_llhls_url as the hls ones follow
# vkstream_api_hls_url (a path gets scheme and Host, an absolute URL is
# used as is, names %-escaped), a duplicate_of rendition is still listed,
# an audio-only (video=none) one is not, and the listed media playlist is
# the file the rendition writes.  Bad
# URL values fail "nginx -t" naming the directive.
use strict;
use warnings;
use utf8;
use Test::More;
use Encode ();
use VKStream::Nginx;
use VKStream::HTTP qw(http);
use VKStream::Media qw(publish stop_publisher);
use VKStream::API qw(api publish_name wait_until uri_escape);

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

# bad base URLs: neither a path nor an http(s) URL
for my $c (['vkstream_api_llhls_url ll/;', 'vkstream_api_llhls_url'],
           ['vkstream_api_llhls_url ftp://x/ll/;', 'vkstream_api_llhls_url'],
           ['vkstream_api_llhls_url //cdn.example.com/ll/;',
            'vkstream_api_llhls_url'],
           ['vkstream_api_hls_url hls;', 'vkstream_api_hls_url'])
{
    my $b = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
        http => "location /x/ { vkstream_api; $c->[0] }"));
    my ($ok, $out) = $b->check;
    ok(!$ok && $out =~ /"\Q$c->[1]\E" must be a path/,
       "nginx -t refuses '$c->[0]'") or diag($out);
}

# _mid of a 320x240 source is capped to _low's picture: duplicate_of _low
my $ladder = 'vkstream_rendition _low; vkstream_rendition _mid width=640;';
my $conf = VKStream::Nginx::standard_conf(
    live => "vkstream on; vkstream_llhls on; vkstream_llhls_path "
          . "%%PREFIX%%/ll; $ladder vkstream_rendition _aud video=none;",
    apps => 'application classic { live on; vkstream on; vkstream_llhls off; '
          . "$ladder }",
    http => <<'HTTP');
        location /ll/ {
            alias %%PREFIX%%/ll/;
            vkstream_llhls_serve;
        }
        location /cdn/ {
            vkstream_api;
            vkstream_api_llhls_url https://cdn.example.com/low-latency;
        }
        location /other/ { vkstream_api; vkstream_api_llhls_url /lh/x/; }
HTTP
my $n = VKStream::Nginx->new(conf => $conf);
$n->start;
my $base = 'http://127.0.0.1:' . $n->http_port;

my $name = 'cam 1+ü';
my $esc = uri_escape($name);
my @pids = (publish_name($n, 'live', $name, size => '320x240', fps => 15,
                         gop => 30, duration => 40),
            publish_name($n, 'classic', 'old', size => '320x240', fps => 15,
                         gop => 30, duration => 40));

sub stream {
    my ($loc, $app, $nm) = @_;
    my (undef, $j) = api($n, 'GET', "/$loc/streams?app=$app&name="
                                    . uri_escape($nm));
    return $j && $j->{streams} && $j->{streams}[0];
}

my $s;
ok(wait_until(30, sub {
    $s = stream('vkstream', 'live', $name);
    # each rendition runs once its output is connected; the others' sizes
    # come earlier, from the first decoded picture, so wait for _aud too
    my @r = @{ ($s && $s->{renditions}) // [] };
    @r == 3 && !(grep { !$_->{width} && $_->{suffix} ne '_aud' } @r)
        && (grep { $_->{suffix} eq '_aud' && $_->{state} eq 'running' } @r);
}), 'the LL stream reports its three renditions') or diag explain $s;
my %r = map { $_->{suffix} => $_ } @{ $s->{renditions} // [] };
ok($r{_aud} && $r{_aud}{state} eq 'running' && !$r{_aud}{width},
   'the audio-only one runs, with no picture') or diag explain $r{_aud};
is($r{_mid} && $r{_mid}{duplicate_of}, '_low', '_mid is a duplicate of _low');

is_deeply($s->{llhls},
          { master => "$base/ll/$esc.m3u8",
            playlists => { _low => "$base/ll/${esc}_low/index.m3u8",
                           _mid => "$base/ll/${esc}_mid/index.m3u8" } },
          'stream llhls: master and every rendition\'s playlist, the '
          . 'duplicate too, the audio-only one not, from scheme, Host and '
          . '/ll/, name %-escaped')
    or diag explain $s->{llhls};
is($r{_low}{llhls}, "$base/ll/${esc}_low/index.m3u8",
   'rendition _low: its LL-HLS playlist');
is($r{_mid}{llhls}, "$base/ll/${esc}_mid/index.m3u8",
   'rendition _mid (a duplicate): its LL-HLS playlist');
ok(exists $r{_aud}{llhls} && !defined $r{_aud}{llhls},
   'rendition _aud (video=none): "llhls" is null');
is($r{_aud}{hls}, "$base/hls/${esc}_aud.m3u8", 'but it has classic hls');
is($r{_low}{hls}, "$base/hls/${esc}_low.m3u8", 'next to its classic hls');
ok(exists $s->{hls}, 'the classic hls object stays');

my $cdn = stream('cdn', 'live', $name);
is($cdn->{llhls}{master}, "https://cdn.example.com/low-latency/$esc.m3u8",
   'an absolute vkstream_api_llhls_url is used as is ("/" added)');
is($cdn->{renditions}[0]{llhls},
   "https://cdn.example.com/low-latency/${esc}_low/index.m3u8",
   '  for the renditions too');
is(stream('other', 'live', $name)->{llhls}{playlists}{_low},
   "$base/lh/x/${esc}_low/index.m3u8", 'another path');

# the playlist the API names is the one the rendition writes
my $res;
ok(wait_until(30, sub {
    $res = http('GET', $r{_low}{llhls});
    $res->{status} == 200 && $res->{content} =~ /#EXT-X-PART:/;
}), 'the listed _low playlist is served, with parts')
    or diag("status $res->{status}");
like($res->{content} // '', qr/^#EXTM3U/, 'it is a playlist');
my $ll = $n->prefix . '/ll/' . Encode::encode('UTF-8', $name);
ok(-d "${ll}_low" && !-e "${ll}_aud",
   'the audio-only one writes no LL-HLS (_low does)');

# a classic application's stream: null
my $old;
ok(wait_until(30, sub {
    $old = stream('vkstream', 'classic', 'old');
    $old && @{ $old->{renditions} // [] } == 2;
}), 'the classic stream reports its renditions');
ok(exists $old->{llhls} && !defined $old->{llhls},
   'classic stream: "llhls" is null');
is_deeply([map { exists $_->{llhls} && !defined $_->{llhls} ? 'null' : 'set' }
           @{ $old->{renditions} }], ['null', 'null'],
          'classic stream: every rendition\'s "llhls" is null');
like($old->{renditions}[0]{hls}, qr{/hls/old_low\.m3u8$},
     'and its classic hls URL is there');

# the stream's single GET and the list agree
my (undef, $one) = api($n, 'GET', "/vkstream/streams/live/$esc");
is_deeply($one->{llhls}, $s->{llhls}, 'GET /streams/{app}/{name}: the same');

stop_publisher($_) for @pids;
$n->stop;
done_testing;
