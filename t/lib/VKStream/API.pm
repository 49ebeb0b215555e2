package VKStream::API;

# Helpers for the control API tests: JSON requests on fresh or kept
# connections, names published through -rtmp_playpath (so any bytes reach
# nginx-rtmp), an SSE reader on a raw socket.

use strict;
use warnings;
use Exporter 'import';
use HTTP::Tiny;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);
use VKStream::HTTP qw(http_json json_decode);
use VKStream::Media qw(publish);

our @EXPORT_OK = qw(api api_on uri_escape publish_name wait_until
                    sse_open sse_read stream_json frames_out);

sub uri_escape {
    my ($s) = @_;
    utf8::encode($s) if utf8::is_utf8($s);
    # "." too: a client must escape a ".." name
    $s =~ s/([^A-Za-z0-9_~-])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

# api_on(http_tiny, nginx, method, path, body, headers) -> (res, json)
sub api_on {
    my ($ht, $n, $method, $path, $body, $headers) = @_;
    return http_json($method, $n->http_url($path), $body, $headers, $ht);
}

# A new connection per call, so that requests spread over the workers.
sub api { my $n = shift; http_json($_[0], $n->http_url($_[1]), @_[2 .. $#_]) }

# GET /vkstream/streams/APP/NAME (the live entry, else the latest ended
# one): the decoded object, undef when unknown.
sub stream_json {
    my ($n, $name, $app) = @_;
    my (undef, $j) = api($n, 'GET', '/vkstream/streams/' . ($app // 'live')
                                     . '/' . uri_escape($name));
    return $j && $j->{id} ? $j : undef;
}

# Video frames encoded so far by the stream's first rendition.
sub frames_out {
    my ($n, $name, $app) = @_;
    my $j = stream_json($n, $name, $app) or return 0;
    my $r = $j->{renditions}[0] or return 0;
    return $r->{frames_out} // 0;
}

# Publishes app/name with any bytes in the name (a Perl string: UTF-8).
sub publish_name {
    my ($n, $app, $name, %o) = @_;
    my $bytes = $name;
    utf8::encode($bytes) if utf8::is_utf8($bytes);
    return publish($n->rtmp_url($app), size => '160x120', fps => 10,
                   duration => 30, %o,
                   output_opts => ['-rtmp_app', $app,
                                   '-rtmp_playpath', $bytes]);
}

sub wait_until {
    my ($timeout, $cb) = @_;
    my $end = time + $timeout;
    while (time < $end) {
        my $v = $cb->();
        return $v if $v;
        sleep 0.05;
    }
    return undef;
}

# Opens GET path as an SSE stream; returns {sock, buf, status, headers}.
sub sse_open {
    my ($n, $path, %h) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $n->http_port,
                                  Timeout => 5) or die "connect: $!";
    my $req = "GET $path HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              . "Accept: text/event-stream\r\n";
    $req .= "$_: $h{$_}\r\n" for sort keys %h;
    print $s "$req\r\n";
    my $c = { sock => $s, buf => '', raw => '' };
    my $end = time + 5;
    while (time < $end && $c->{raw} !~ /\r\n\r\n/) {
        _fill($c, 0.2);
    }
    ($c->{head}, $c->{raw}) = split /\r\n\r\n/, $c->{raw}, 2;
    $c->{raw} //= '';
    ($c->{status}) = ($c->{head} // '') =~ m{^HTTP/1\.\d (\d+)};
    return $c;
}

sub _fill {
    my ($c, $timeout) = @_;
    return 0 unless IO::Select->new($c->{sock})->can_read($timeout);
    my $n = sysread $c->{sock}, my $data, 65536;
    return 0 unless $n;
    $c->{raw} .= $data;
    return 1;
}

# Decodes the chunked body read so far into events; returns the list of
# complete events ({id, event, data}) that arrived within the timeout, up
# to "want" of them.
sub sse_read {
    my ($c, $timeout, $want) = @_;
    my @ev;
    my $end = time + $timeout;
    while (1) {
        # dechunk what we have
        while ($c->{raw} =~ /^([0-9a-fA-F]+)\r\n/) {
            my $len = hex $1;
            my $hl = length($1) + 2;
            last if length($c->{raw}) < $hl + $len + 2;
            $c->{buf} .= substr($c->{raw}, $hl, $len);
            substr($c->{raw}, 0, $hl + $len + 2, '');
        }
        while ($c->{buf} =~ s/^(.*?)\n\n//s) {
            my %e;
            for my $line (split /\n/, $1) {
                next if $line =~ /^:/;
                my ($k, $v) = $line =~ /^(\w+): ?(.*)$/ or next;
                $e{$k} = $v;
            }
            next unless exists $e{data};
            $e{json} = eval { json_decode($e{data}) };
            push @ev, \%e;
        }
        last if $want && @ev >= $want;
        my $left = $end - time;
        last if $left <= 0;
        _fill($c, $left > 0.05 ? 0.05 : $left);
    }
    return @ev;
}

1;
