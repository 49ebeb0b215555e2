#!/usr/bin/perl
# Turns an FLV file into a fuzz_ingest input: one record per audio/video
# tag (type, timestamp LE32, length LE16, body), at most MAX records.
# Usage: flv2seed.pl in.flv out [max]
use strict;
use warnings;

my ($in, $out, $max) = @ARGV;
$max //= 40;
open my $f, '<:raw', $in or die "$in: $!";
local $/;
my $d = <$f>;
my $pos = unpack('N', substr($d, 5, 4)) + 4;
my $res = '';
my $n = 0;
while ($pos + 11 <= length($d) && $n < $max) {
    my ($type, $l1, $l2, $t1, $t2, $te) =
        unpack('C C n C n C', substr($d, $pos, 8));
    my $len = ($l1 << 16) | $l2;
    my $ts = ($te << 24) | ($t1 << 16) | $t2;
    my $body = substr($d, $pos + 11, $len);
    $pos += 11 + $len + 4;
    next unless $type == 8 || $type == 9;
    next if $len > 65535;
    $res .= pack('C V v', $type == 8 ? 1 : 0, $ts, $len) . $body;
    $n++;
}
open my $o, '>:raw', $out or die "$out: $!";
print $o $res;
