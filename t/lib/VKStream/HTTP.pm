package VKStream::HTTP;

# The one JSON and plain-HTTP helper of the tests: bodies are UTF-8 bytes.

use strict;
use warnings;
use Exporter 'import';
use HTTP::Tiny;
use JSON::PP;

our @EXPORT_OK = qw(json_decode json_encode http http_json);

my $JSON = JSON::PP->new->utf8->allow_nonref->canonical;

sub json_decode { $JSON->decode($_[0]) }
sub json_encode { $JSON->encode($_[0]) }

# http(method, url, body, headers) -> HTTP::Tiny response hash; a new
# connection per call, so that requests spread over the workers.
sub http {
    my ($method, $url, $body, $headers, $ht) = @_;
    utf8::encode($body) if defined $body && utf8::is_utf8($body);
    $ht //= HTTP::Tiny->new(timeout => 10, keep_alive => 0);
    return $ht->request($method, $url, {
        (defined $body ? (content => $body) : ()),
        headers => $headers // {},
    });
}

# http_json(...) -> (response, decoded body or undef)
sub http_json {
    my $r = http(@_);
    my $j = eval { json_decode($r->{content}) };
    return ($r, $j);
}

1;
