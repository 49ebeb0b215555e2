# The module loads into the packaged nginx and nginx.conf.example is valid.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use VKStream::Nginx;

my $n = VKStream::Nginx->new;
my $p = $n->prefix;
my $root = $VKStream::Nginx::ROOT;

# the build under test (the ASan one with SANITIZE=1)
local $ENV{VKSTREAM_MODULE} = $VKStream::Nginx::MODULE;
system("$root/scripts/localize-conf.sh", "$root/nginx.conf.example",
       "$p/conf/nginx.conf", $p, $n->rtmp_port, $n->http_port) == 0
    or BAIL_OUT('localize-conf.sh failed');

my ($ok, $out) = $n->check;
ok($ok, 'nginx -t accepts nginx.conf.example') or diag($out);
like($out, qr/syntax is ok/, 'nginx -t reports syntax ok');

$n->start;
my @w = $n->worker_pids(2);
is(scalar @w, 2, 'two workers run with the example config');

my $r = VKStream::HTTP::http('GET', $n->http_url('/vkstream/'));
is($r->{status}, 200, 'control API answers');

$n->stop;
done_testing;

use VKStream::HTTP;
