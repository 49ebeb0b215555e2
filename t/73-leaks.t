# LeakSanitizer over publish/unpublish cycles, including overloaded ones
# (drops) and killed publishers: with the ASan build of the module
# (make module SANITIZE=1), nginx runs with leak detection on; after a
# graceful quit the workers' exit reports no definite leak.  `make test`
# builds the ASan module for it; run alone, it is skipped without one.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use VKStream::Nginx;
use VKStream::FLV qw(make_flv rtmp_publish rtmp_publish_bg);

my $root = $VKStream::Nginx::ROOT;
my $so = "$root/build/ngx_vkstream_module-asan.so";
plan skip_all => 'no ASan build (make module SANITIZE=1)' unless -f $so;

my $logs = tempdir('vkstream-lsan-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $logs;
# nginx's and nginx-rtmp's pools live until exit by design; not ours
open my $sf, '>', "$logs/supp" or die;
print $sf "leak:ngx_create_pool\n";
close $sf;
chmod 0644, "$logs/supp";
local $VKStream::Nginx::MODULE = $so;
my @rt = map { my $f = `gcc -print-file-name=$_`; chomp $f; $f }
         qw(libasan.so libubsan.so);
# the modules preloaded too, so that ours is still mapped (and its frames
# symbolised) when the workers' exit reports
local $VKStream::Nginx::ENV_PREFIX = "env LD_PRELOAD='@rt "
    . "$VKStream::Nginx::RTMP_MODULE $so' "
    . "ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:fast_unwind_on_malloc=0:"
    . "malloc_context_size=20:log_path=$logs/asan "
    . "LSAN_OPTIONS=suppressions=$logs/supp:print_suppressions=0 "
    . "UBSAN_OPTIONS=log_path=$logs/ubsan ";

my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    live => 'vkstream on; vkstream_queue_size 2m;'));
$n->start;
my $tmp = tempdir(CLEANUP => 1);
my $port = $n->rtmp_port;

my @small = make_flv("$tmp/small.flv", size => '320x240', fps => 10,
                     gop => 10, duration => 2);
my @big = make_flv("$tmp/big.flv", size => '1280x720', fps => 30,
                   gop => 30, duration => 4);

my $ok = 0;
$ok += rtmp_publish($port, 'live', "c$_", \@small, speed => 4) for 1 .. 10;
is($ok, 10, '10 publish/unpublish cycles');

# overload: drops in the queues and renditions
my @pids = map { rtmp_publish_bg($port, 'live', "heavy$_", \@big) } 1 .. 4;
waitpid($_, 0) for @pids;

# killed publishers
for my $i (1 .. 3) {
    my $pid = rtmp_publish_bg($port, 'live', "killed$i", \@big);
    sleep 1.5;
    kill 'KILL', $pid;
    waitpid($pid, 0);
}
sleep 2;

my $master = $n->master_pid;
$n->signal('quit');
my $end = time + 30;
sleep 0.1 while kill(0, $master) && time < $end;
ok(!kill(0, $master), 'nginx quit');
$n->{started} = 0;

my @reports = grep { !/supp$/ } glob("$logs/*");
my $text = join "\n", map { local (@ARGV, $/) = ($_); <> } @reports;
unlike($text, qr/ERROR: LeakSanitizer: detected memory leaks/,
       'no definite leaks') or diag(substr($text, 0, 6000));
unlike($text, qr/ERROR: AddressSanitizer|runtime error/,
       'no other sanitizer reports') or diag(substr($text, 0, 6000));
$n->stop;
done_testing;
