package VKStream::Nginx;

# A real nginx with the built module, in a temporary prefix on free loopback
# ports.  Configs are templates: %%RTMP_PORT%%, %%HTTP_PORT%%, %%PREFIX%%,
# %%MODULE%% (our .so), %%RTMP_MODULE%% and %%HLS%% (the HLS directory).
# When the test fails, the error.log is printed.
#
# When it stops, the error.log is checked as nginx-tests check theirs: no
# [alert], [crit] or [emerg], no worker that "exited on signal", no
# sanitizer report.  A test that provokes such a line on purpose says so:
#   VKStream::Nginx->new(..., allow_log => [ qr/.../ ])  or  ->allow_log(qr//)
# The check is a test of its own ("error.log clean"); ->stop before
# done_testing (else it is made at exit, failing the run if it finds one).

use strict;
use warnings;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use POSIX qw(WNOHANG);
use Test::More ();
use Scalar::Util qw(weaken);

# what the check looks for
our $SANITIZER_LOG = qr/runtime error:|Sanitizer/;
our $BAD_LOG = qr/\[(?:alert|crit|emerg)\]|exited on signal|$SANITIZER_LOG/;

# every instance still running, so the check is made at exit at the latest
my %LIVE;

our $ROOT = do {
    my $d = __FILE__;
    $d =~ s{/t/lib/VKStream/Nginx\.pm$}{};
    $d = '.' if $d eq __FILE__;
    require Cwd;
    Cwd::abs_path($d);
};
our $NGINX = '/usr/sbin/nginx';
our $MODULE = "$ROOT/build/ngx_vkstream_module.so";

# VKSTREAM_SANITIZE=1 (make test SANITIZE=1): the ASan/UBSan build of the
# module, with gcc's runtimes preloaded into the packaged nginx (which is
# not instrumented).  Leak detection is off for nginx itself (its pools are
# freed by exit); reports go to build/asan-logs, which make test checks.
our $SANITIZE = $ENV{VKSTREAM_SANITIZE};
our $ENV_PREFIX = '';
if ($SANITIZE) {
    $MODULE = "$ROOT/build/ngx_vkstream_module-asan.so";
    my $logs = "$ROOT/build/asan-logs";
    my @rt = map { my $f = `gcc -print-file-name=$_`; chomp $f; $f }
             qw(libasan.so libubsan.so);
    $ENV_PREFIX = "env LD_PRELOAD='" . join(' ', @rt) . "'"
        . " ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:log_path=$logs/asan"
        # a small quarantine: RSS checks of the tests stay meaningful
        . ":quarantine_size_mb=16"
        . " UBSAN_OPTIONS=print_stacktrace=1:log_path=$logs/ubsan ";
}
our $RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

# A free port below the kernel's ephemeral range: a port the kernel handed
# out (bind to :0) can be taken by any outgoing connection (ffmpeg, the
# module's own republish) before nginx binds it.
my %GIVEN;
sub free_port {
    my $low = 32768;
    if (open my $f, '<', '/proc/sys/net/ipv4/ip_local_port_range') {
        ($low) = split ' ', scalar <$f>;
    }
    my $base = $low > 12000 ? 10000 : 1025;
    for (1 .. 1000) {
        my $port = $base + int rand($low - $base);
        next if $GIVEN{$port};
        my $s = IO::Socket::INET->new(Listen => 1, ReuseAddr => 1,
                                      LocalAddr => "127.0.0.1:$port")
            or next;
        close $s;
        $GIVEN{$port} = 1;
        return $port;
    }
    die "no free port below $low\n";
}

sub new {
    my ($class, %opt) = @_;
    my $self = bless {
        prefix    => tempdir('vkstream-t-XXXXXX', TMPDIR => 1,
                             CLEANUP => !$ENV{VKSTREAM_KEEP}),
        rtmp_port => free_port(),
        http_port => free_port(),
        allow_log => [],
        %opt,
    }, $class;
    my $p = $self->{prefix};
    make_path("$p/logs", "$p/temp", "$p/hls", "$p/ll", "$p/conf");
    if ($> == 0) {
        # Workers run as nobody (see the config's user line): let them
        # reach the prefix and write HLS, LL-HLS and temp files.
        chmod 0755, $p;
        system('chown', '-R', 'nobody:nogroup', "$p/hls", "$p/ll",
               "$p/temp");
    }
    $self->write_conf($opt{conf}) if defined $opt{conf};
    return $self;
}

sub prefix    { $_[0]{prefix} }
sub rtmp_port { $_[0]{rtmp_port} }
sub http_port { $_[0]{http_port} }
sub hls_dir   { "$_[0]{prefix}/hls" }
sub rtmp_url  { "rtmp://127.0.0.1:$_[0]{rtmp_port}/$_[1]" }
sub http_url  { "http://127.0.0.1:$_[0]{http_port}$_[1]" }
sub error_log { "$_[0]{prefix}/logs/error.log" }

sub expand {
    my ($self, $text) = @_;
    my %v = (RTMP_PORT => $self->{rtmp_port}, HTTP_PORT => $self->{http_port},
             PREFIX => $self->{prefix}, MODULE => $MODULE,
             RTMP_MODULE => $RTMP_MODULE, HLS => $self->hls_dir);
    $text =~ s/%%(\w+)%%/exists $v{$1} ? $v{$1} : die "no $1"/ge;
    if ($> == 0 && $text !~ /^\s*user\s/m) {
        $text = "user nobody nogroup;\n$text";
    }
    return $text;
}

sub write_conf {
    my ($self, $text) = @_;
    open my $f, '>', "$self->{prefix}/conf/nginx.conf" or die $!;
    print $f $self->expand($text);
    close $f;
}

# A typical config: live app with vkstream, hls app, http with the API.
# Extra directives can be put into the live app, the hls app, the rtmp
# server, main context and http server.  VKSTREAM_TEST_LLHLS=1 runs the
# tests with LL-HLS output on in the live app (into PREFIX/ll).
sub standard_conf {
    my (%o) = @_;
    my $main = $o{main} // '';
    my $live = $o{live} // 'vkstream on;';
    $live .= ' vkstream_llhls on; vkstream_llhls_path %%PREFIX%%/ll;'
        if $ENV{VKSTREAM_TEST_LLHLS} && $live !~ /vkstream_llhls/;
    my $hls = $o{hls} // '';
    my $rtmp = $o{rtmp} // '';
    my $http = $o{http} // '';
    my $apps = $o{apps} // '';
    my $workers = $o{workers} // 1;
    return <<"CONF";
load_module %%RTMP_MODULE%%;
load_module %%MODULE%%;
worker_processes $workers;
error_log logs/error.log info;
pid logs/nginx.pid;
$main
events { worker_connections 256; }
rtmp {
    server {
        listen 127.0.0.1:%%RTMP_PORT%%;
        chunk_size 4096;
        $rtmp
        application live {
            live on;
            $live
        }
        application hls {
            live on;
            hls on;
            hls_path %%HLS%%;
            hls_fragment 2s;
            hls_playlist_length 60s;
            $hls
        }
        $apps
    }
}
http {
    access_log logs/access.log;
    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
    server {
        listen 127.0.0.1:%%HTTP_PORT%%;
        location /hls/ { alias %%HLS%%/; }
        location /vkstream/ { vkstream_api; }
        $http
    }
}
CONF
}

# Runs "nginx -t"; returns (ok, output).
sub check {
    my ($self) = @_;
    my $out = `$ENV_PREFIX$NGINX -p $self->{prefix}/ -c conf/nginx.conf -t 2>&1`;
    return ($? == 0, $out);
}

sub start {
    my ($self) = @_;
    my $p = $self->{prefix};
    my $out = `$ENV_PREFIX$NGINX -p $p/ -c conf/nginx.conf 2>&1`;
    if ($? != 0) {
        Test::More::diag("nginx failed to start:\n$out");
        $self->dump_log;
        die "nginx failed to start\n";
    }
    $self->{started} = 1;
    $self->{ran} = 1;
    $self->{log_checked} = 0;
    $LIVE{$self + 0} = $self;
    weaken($LIVE{$self + 0});
    # (an nginx without rtmp, an HLS edge, is made with rtmp_port => undef)
    for my $port (grep { defined } $self->{rtmp_port}, $self->{http_port}) {
        $self->wait_port($port, 10) or do {
            $self->dump_log;
            die "nginx does not listen on $port\n";
        };
    }
    return $self;
}

sub wait_port {
    my ($self, $port, $timeout) = @_;
    my $end = time + $timeout;
    while (time < $end) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        sleep 0.05;
    }
    return 0;
}

sub master_pid {
    my ($self) = @_;
    open my $f, '<', "$self->{prefix}/logs/nginx.pid" or return;
    my $pid = <$f>;
    chomp $pid if defined $pid;
    return $pid;
}

# Worker pids; waits briefly for freshly forked workers to name themselves.
sub worker_pids {
    my ($self, $want) = @_;
    $want //= 1;
    my $end = time + 3;
    my @pids;
    while (time < $end) {
        my $m = $self->master_pid or return ();
        my @w = map { /(\d+)/ ? $1 : () } `ps -o pid= --ppid $m`;
        @pids = grep { my $c = `cat /proc/$_/cmdline 2>/dev/null`;
                       $c =~ /worker process/ } @w;
        last if @pids >= $want;
        sleep 0.05;
    }
    return @pids;
}

sub signal {
    my ($self, $sig) = @_;
    system("$ENV_PREFIX$NGINX -p $self->{prefix}/ -c conf/nginx.conf "
           . "-s $sig 2>/dev/null") == 0;
}

# UBSan writes its reports to stderr, that is into error.log: under
# SANITIZE they are copied to build/asan-logs, which make test checks.
sub save_sanitizer_reports {
    my ($self) = @_;
    return unless $SANITIZE && !$self->{reports_saved}++;
    my @r = grep { /$SANITIZER_LOG/ } split /\n/, $self->log_text;
    return unless @r;
    my $f = "$ROOT/build/asan-logs/error-log.$$." . time;
    open my $o, '>>', $f or return;
    print $o "$self->{prefix}/logs/error.log:\n", map { "$_\n" } @r;
}

sub stop {
    my ($self) = @_;
    $self->save_sanitizer_reports;
    if ($self->{started}) {
        my $pid = $self->master_pid;
        $self->signal('stop');
        if ($pid) {
            my $end = time + 10;
            sleep 0.05 while kill(0, $pid) && time < $end;
            kill 'KILL', $pid if kill 0, $pid;
        }
        $self->{started} = 0;
    }
    delete $LIVE{$self + 0};
    # also when the test stopped it its own way
    $self->check_log if $self->{ran};
}

# Lines the test provokes on purpose and the check lets pass.
sub allow_log {
    my ($self, @re) = @_;
    push @{ $self->{allow_log} }, @re;
    return $self;
}

# The error.log lines that are an alert, a crash or a sanitizer report,
# less those allowed.
sub bad_log_lines {
    my ($self) = @_;
    my @allow = @{ $self->{allow_log} };
    return grep { my $l = $_; !grep { $l =~ $_ } @allow }
           grep { /$BAD_LOG/ } split /\n/, $self->log_text;
}

# The check, once per instance (an instance started again is checked
# again): a test while the test is running, else a failure at exit.
sub check_log {
    my ($self) = @_;
    return if $self->{log_checked}++;
    my @bad = $self->bad_log_lines;
    my $hub = eval { require Test2::API; Test2::API::test2_stack()->top };
    if ($hub && !$hub->ended) {
        Test::More::ok(!@bad, 'error.log clean: no alert, crit, emerg, '
                              . 'crash or sanitizer report')
            or Test::More::diag(join "\n", "$self->{prefix}:", @bad);
    } elsif (@bad) {
        print STDERR "# error.log of $self->{prefix} has:\n",
                     map({ "#   $_\n" } @bad);
        $hub->set_failed(($hub->failed // 0) + 1) if $hub;
    }
}

# A check on the way, for tests that want to know at a given point; the
# same patterns and allowances as at the end.
sub no_alerts {
    my ($self, $name) = @_;
    my @bad = $self->bad_log_lines;
    Test::More::ok(!@bad, $name) or Test::More::diag(join "\n", @bad);
}

END {
    $_->stop for grep { defined } values %LIVE;
}

sub log_text {
    my ($self) = @_;
    open my $f, '<', $self->error_log or return '';
    local $/;
    return <$f>;
}

# Waits until the error.log matches $re; returns the match or undef.
sub wait_log {
    my ($self, $re, $timeout) = @_;
    my $end = time + ($timeout // 10);
    while (time < $end) {
        my $t = $self->log_text;
        return $1 // $& if $t =~ $re;
        sleep 0.1;
    }
    return undef;
}

sub dump_log {
    my ($self) = @_;
    my $t = $self->log_text;
    my @l = split /\n/, $t;
    @l = @l[-200 .. -1] if @l > 200;
    Test::More::diag("---- error.log ($self->{prefix}) ----\n"
                     . join("\n", @l));
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $@);
    my $tb = Test::More->builder;
    $self->dump_log if $self->{started} && !$tb->is_passing;
    $self->stop;
}

1;
