# The module loads into the packaged nginx and nginx.conf.example is valid.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use VKStream::Nginx;

my $n = VKStream::Nginx->new;
my $p = $n->prefix;
my $root = $VKStream::Nginx::ROOT;

system("$root/scripts/localize-conf.sh", "$root/nginx.conf.example",
       "$p/conf/nginx.conf", $p, $n->rtmp_port, $n->http_port) == 0
    or BAIL_OUT('localize-conf.sh failed');

my ($ok, $out) = $n->check;
ok($ok, 'nginx -t accepts nginx.conf.example') or diag($out);
like($out, qr/syntax is ok/, 'nginx -t reports syntax ok');

$n->start;
# workers name themselves one by one (slowly under SANITIZE=1)
my @w;
my $end = time + 5;
do { @w = $n->worker_pids; sleep 0.1 if @w < 2 } while @w < 2 && time < $end;
is(scalar @w, 2, 'two workers run with the example config');

my $r = VKStream::Media::http('GET', $n->http_url('/vkstream/'));
is($r->{status}, 200, 'control API answers');

$n->stop;
done_testing;

use VKStream::Media;
