# vkstream_loop_sched: with transcoding configured, each worker's event
# loop (its main thread) runs at SCHED_RR 1, taken by the master and
# inherited; every other thread of the worker (transcoding, its codec
# threads, the VK client) is back at SCHED_OTHER, the transcoding ones at
# vkstream_nice.  Without "vkstream on", with "vkstream_loop_sched normal",
# or after a reload to it, nothing is real-time; a bad value fails
# "nginx -t" naming the directive.
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;
use VKStream::Emulator;
use VKStream::Media qw(publish stop_publisher);
use VKStream::API qw(api wait_until frames_out);
use VKStream::Proc qw(thread_ids thread_sched can_realtime);

my $can_rt = can_realtime();

# --- by default, with transcoding and the VK client: the loop only ----------

my $e = VKStream::Emulator->new;
my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    main => "vkstream_vk_token ${\ $e->token };
             vkstream_vk_api ${\ $e->api_url };
             vkstream_vk_ca ${\ $e->ca };"));
$n->start;
my ($w) = $n->worker_pids;
my $m = $n->master_pid;
ok(wait_until(15, sub {
    my (undef, $j) = api($n, 'GET', '/vkstream/status');
    ($j->{vk}{state} // '') eq 'connected';
}), 'the VK client is connected (its thread runs)');
my $pid = publish($n->rtmp_url('live/rt'), size => '320x240', fps => 15,
                  duration => 30);
ok(wait_until(30, sub { frames_out($n, 'rt') > 10 }), 'transcoding');

SKIP: {
    unless ($can_rt) {
        ok($n->wait_log(qr/no real-time priority for the event loops/, 5),
           'no CAP_SYS_NICE here: the master says the loops stay normal');
        skip 'root cannot take SCHED_RR on this machine', 4;
    }
    is_deeply(thread_sched($w),
              { policy => 'SCHED_RR', rtprio => 1, nice => 0 },
              'the worker\'s event loop: SCHED_RR 1');
    is(thread_sched($m)->{policy}, 'SCHED_RR',
       'the master, which it inherits from');
    my @others = grep { $_ != $w } thread_ids($w);
    cmp_ok(scalar @others, '>=', 3, 'the worker has other threads ('
           . scalar(@others) . ')');
    my @rt = grep { thread_sched($w, $_)->{policy} ne 'SCHED_OTHER' }
             @others;
    is_deeply(\@rt, [], 'none of them is real-time');
}
my @nice = grep { thread_sched($w, $_)->{nice} == 5 } thread_ids($w);
cmp_ok(scalar @nice, '>=', 2, 'the transcoding threads at vkstream_nice 5 ('
       . scalar(@nice) . ')');
my ($vk) = grep { $_ != $w && thread_sched($w, $_)->{nice} == 0 }
           thread_ids($w);
is(thread_sched($w, $vk // $w)->{policy}, 'SCHED_OTHER',
   'the VK client\'s thread: normal');

# --- a reload to "normal": new workers and the master are normal ------------

my $conf = VKStream::Nginx::standard_conf(main => 'vkstream_loop_sched '
                                                  . 'normal;');
$n->write_conf($conf);
ok($n->signal('reload'), 'reload with vkstream_loop_sched normal');
my $w2;
ok(wait_until(15, sub { ($w2) = grep { $_ != $w } $n->worker_pids;
                        $w2 && !kill(0, $w) }), 'a new worker, the old gone');
is(thread_sched($w2)->{policy}, 'SCHED_OTHER',
   'the new worker\'s loop: normal');
is(thread_sched($m)->{policy}, 'SCHED_OTHER', 'and the master');
stop_publisher($pid);
$n->no_alerts('no alert');
$n->stop;

# --- no transcoding configured: nothing changes ------------------------------

for my $c (['vkstream off', 'live', 'vkstream off;'],
           ['vkstream_loop_sched normal', 'main', 'vkstream_loop_sched '
                                                   . 'normal;'])
{
    my $x = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
        $c->[1] => $c->[2]));
    $x->start;
    my ($xw) = $x->worker_pids;
    is(thread_sched($xw)->{policy}, 'SCHED_OTHER',
       "$c->[0]: the loop is normal");
    is(thread_sched($x->master_pid)->{policy}, 'SCHED_OTHER',
       "$c->[0]: the master too");
    unlike($x->log_text, qr/real-time/, "$c->[0]: nothing said about it");
    $x->stop;
}

# --- a bad value -------------------------------------------------------------

my $b = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(
    main => 'vkstream_loop_sched fast;'));
my ($ok, $out) = $b->check;
ok(!$ok && $out =~ /"vkstream_loop_sched"/ && $out =~ /normal or realtime/,
   'nginx -t: "vkstream_loop_sched fast" refused, naming the directive '
   . 'and its values') or diag $out;

done_testing;
