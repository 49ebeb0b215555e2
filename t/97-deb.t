# The Debian package: "make deb" builds libnginx-mod-vkstream (lintian
# clean of errors), apt installs it on this machine, and the system's
# /usr/sbin/nginx with Debian's stock configuration layout loads it through
# "include /etc/nginx/modules-enabled/*.conf" (a private copy of /etc/nginx
# in a temporary prefix, on loopback ports: the system service and its
# configuration are not touched).  A published stream gets a 480-wide _low
# HLS and /vkstream/status answers, also across "nginx -s reload".  Then
# "apt-get purge" leaves no file and no modules-enabled link, and the
# system configuration passes "nginx -t" as before.
#
# The machine's state is restored whatever happens: the package is purged
# at exit (END), and files of the package that were there before (a module
# copied by hand, "make install-ui") are put back.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use Time::HiRes qw(time sleep);
use POSIX qw(WNOHANG);
use VKStream::Nginx;
use VKStream::Media qw(publish stop_publisher video_info wait_segments);
use VKStream::API qw(api wait_until);

my $PKG = 'libnginx-mod-vkstream';
my $ROOT = $VKStream::Nginx::ROOT;
my $LINK = '/etc/nginx/modules-enabled/60-mod-vkstream.conf';
my $AVAIL = '/usr/share/nginx/modules-available/mod-vkstream.conf';

for my $tool (qw(dpkg dpkg-query apt-get dpkg-buildpackage)) {
    plan skip_all => "$tool not found: the Debian package needs dpkg and apt"
        unless system("command -v $tool >/dev/null 2>&1") == 0;
}
plan skip_all => 'installing a package needs root (run as root or with '
               . 'sudo)' if $> != 0;

sub installed {
    my $s = `dpkg-query -W -f='\${Status}' $PKG 2>/dev/null`;
    return $s =~ /\binstalled$/;
}
sub known { `dpkg-query -W -f='\${Status}' $PKG 2>/dev/null` ne '' }
plan skip_all => "$PKG is installed on this machine: this test installs "
               . 'and purges it, remove it first' if known();

# "nginx -t" of the system configuration
sub system_nginx_t {
    my $out = `/usr/sbin/nginx -t 2>&1`;
    return ($? == 0, $out);
}
my ($t_before, $t_out) = system_nginx_t();
note("system nginx -t before: " . ($t_before ? 'ok' : "failing:\n$t_out"));

# --- state to restore --------------------------------------------------------

my $tmp = tempdir(CLEANUP => 1);
my ($we_installed, $backup, $pub, $n);

sub purge {
    my $out = `apt-get purge -y -o DPkg::Lock::Timeout=300 $PKG 2>&1`;
    return ($? == 0, $out);
}
sub restore {
    if ($backup) {
        system('tar', '-C', '/', '-xpf', $backup) == 0
            or diag("could not restore the files saved in $backup");
        undef $backup;
    }
}
END {
    my $rc = $?;
    stop_publisher($pub) if $pub;
    $n->stop if $n && $n->{started};
    if ($we_installed && known()) {
        my ($ok, $out) = purge();
        print STDERR "# cleanup: apt-get purge $PKG: "
                     . ($ok ? "done\n" : "FAILED:\n$out");
    }
    restore();
    $? = $rc;
}
$SIG{$_} = sub { die "killed by SIG$_[0]\n" } for qw(INT TERM HUP);

# --- the package -------------------------------------------------------------

# VKSTREAM_DEB_REUSE=1: use the package "make deb" built last (while
# working on this test)
my $build = '';
if ($ENV{VKSTREAM_DEB_REUSE} && glob("$ROOT/build/deb/${PKG}_*_*.deb")) {
    note('VKSTREAM_DEB_REUSE: the package built before, no make deb');
} else {
    $build = `cd $ROOT && make deb 2>&1`;
    is($?, 0, 'make deb') or diag($build);
}
my ($deb) = glob("$ROOT/build/deb/${PKG}_*_*.deb");
ok($deb && -f $deb, 'build/deb has the package') or BAIL_OUT('no package');
(my $lintian) = $build =~ /(deb: lintian.*?)(?=^deb: \/|\z)/ms;
note($lintian // 'no lintian output');
unlike($build, qr/^E: /m, 'no lintian error');

my %f = map { /^(\S+): (.*)$/ ? ($1 => $2) : () }
        split /\n(?! )/, `dpkg-deb -f $deb`;
open my $af, '<', '/usr/share/nginx/src/debian/libnginx-mod.abisubstvars'
    or die "nginx-dev's abisubstvars: $!";
my ($abi) = do { local $/; <$af> } =~ /^nginx:abi=(\S+)$/m;
$abi //= 'no nginx:abi';
like($f{Depends} // '', qr/(?:^|, )\Q$abi\E(?:,|$)/,
     "depends on the nginx ABI it was built for ($abi)");
like($f{Depends} // '',
     qr/libnginx-mod-rtmp \(>= [^)]+\), libnginx-mod-rtmp \(<< [^)]+\)/,
     'on the version of libnginx-mod-rtmp whose headers it was built with');
like($f{Depends} // '', qr/libavcodec\d+ .*libwebsockets\d+ /,
     'on the runtime libraries (shlibs)');

my %content = map { m{ \./(\S+)$} ? ("/$1" => 1) : () } `dpkg-deb -c $deb`;
for my $p ('/usr/lib/nginx/modules/ngx_vkstream_module.so', $AVAIL,
           '/usr/share/vkstream/ui/index.html',
           '/usr/share/vkstream/ui/hls.min.js',
           '/usr/share/vkstream/vk-emulator',
           "/usr/share/doc/$PKG/copyright",
           "/usr/share/doc/$PKG/changelog.gz",
           "/usr/share/doc/$PKG/examples/nginx.conf.example",
           "/usr/share/doc/$PKG/examples/prometheus-alerts.yml") {
    ok($content{$p}, "package has $p");
}

# files of the package already on the machine (not from a package: dpkg
# replaces them, purge removes them): saved, put back at the end
my @there = grep { -e $_ && !-d $_ } sort keys %content, $LINK;
if (@there) {
    $backup = "$tmp/before.tar";
    system('tar', '-C', '/', '-cpf', $backup, map { s{^/}{}r } @there) == 0
        or BAIL_OUT("cannot save @there");
    note("saved, to restore: @there");
}

# --- install -----------------------------------------------------------------

$we_installed = 1;
my $apt = `apt-get install -y -o DPkg::Lock::Timeout=300 $deb 2>&1`;
is($?, 0, 'apt-get install ./build/deb/...deb') or diag($apt);
like($apt, qr/\b1 newly installed\b/, 'it pulls nothing else') or diag($apt);
ok(installed(), "$PKG installed");
is(readlink($LINK), $AVAIL, "modules-enabled/60-mod-vkstream.conf -> $AVAIL");
my @enabled = sort glob('/etc/nginx/modules-enabled/*.conf');
my ($i_rtmp) = grep { $enabled[$_] =~ /-mod-rtmp\.conf$/ } 0 .. $#enabled;
my ($i_vks) = grep { $enabled[$_] eq $LINK } 0 .. $#enabled;
ok(defined $i_rtmp && defined $i_vks && $i_vks > $i_rtmp,
   'it sorts after mod-rtmp: loaded after it') or diag("@enabled");
my ($t_ok, $t_msg) = system_nginx_t();
ok($t_ok || !$t_before, 'the system configuration still passes nginx -t')
    or diag($t_msg);

# --- the system nginx, Debian's layout, in a private prefix ------------------

$n = VKStream::Nginx->new;
my $p = $n->prefix;
system('cp', '-a', '/etc/nginx/.', "$p/conf/") == 0 or die 'cp /etc/nginx';
# "load_module modules/..." is relative to the prefix: Debian's prefix,
# /usr/share/nginx, links modules to /usr/lib/nginx/modules, so does ours
symlink('/usr/lib/nginx/modules', "$p/modules") or die "symlink: $!";
unlink glob("$p/conf/sites-enabled/*");
open my $sf, '<', "$p/conf/nginx.conf" or die $!;
my $conf = do { local $/; <$sf> };
close $sf;
my %subst = (
    qr{^\s*pid\s+\S+;}m                 => "pid logs/nginx.pid;",
    qr{^\s*error_log\s+\S+;}m           => "error_log logs/error.log info;",
    qr{^\s*access_log\s+\S+;}m          => "access_log logs/access.log;",
    qr{include\s+/etc/nginx/conf\.d/}   => "include $p/conf/conf.d/",
    qr{include\s+/etc/nginx/sites-enabled/} =>
        "include $p/conf/sites-enabled/",
);
for my $re (sort keys %subst) {
    $conf =~ s/$re/$subst{$re}/ or die "stock nginx.conf: no $re\n";
}
like($conf, qr{^include /etc/nginx/modules-enabled/\*\.conf;}m,
     'the stock nginx.conf includes /etc/nginx/modules-enabled/*.conf');
unlike($conf, qr/^\s*load_module/m, 'and loads no module itself');
my ($rport, $hport) = ($n->rtmp_port, $n->http_port);
$conf .= <<"RTMP";

rtmp {
    server {
        listen 127.0.0.1:$rport;
        chunk_size 4096;
        application live {
            live on;
            vkstream on;
        }
        application hls {
            live on;
            hls on;
            hls_path $p/hls;
            hls_fragment 2s;
            hls_playlist_length 30s;
        }
    }
}
RTMP
open my $cf, '>', "$p/conf/nginx.conf" or die $!;
print $cf $conf;
close $cf;
open my $vf, '>', "$p/conf/sites-enabled/vkstream" or die $!;
print $vf <<"SITE";
server {
    listen 127.0.0.1:$hport;
    client_body_temp_path $p/temp/body;
    proxy_temp_path $p/temp/proxy;
    fastcgi_temp_path $p/temp/fastcgi;
    uwsgi_temp_path $p/temp/uwsgi;
    scgi_temp_path $p/temp/scgi;
    location /hls/ { alias $p/hls/; }
    location /vkstream/ { vkstream_api; vkstream_api_hls_url /hls/; }
    location /vkstream/ui/ { alias /usr/share/vkstream/ui/; }
}
SITE
close $vf;
# the stock "user www-data" runs the workers
system('chown', '-R', 'www-data:www-data', "$p/hls", "$p/temp");

my ($ok, $msg) = $n->check;
ok($ok, 'nginx -t of the private Debian layout') or diag($msg);
$n->start;
my ($r, $j) = api($n, 'GET', '/vkstream/status');
is($r->{status}, 200, '/vkstream/status: the module came from modules-enabled');
ok($j && $j->{version}, "status JSON (version $j->{version})");
($r) = api($n, 'GET', '/vkstream/ui/index.html');
is($r->{status}, 200, 'the packaged dashboard is served');

my %pub_opt = (size => '640x360', fps => 25, gop => 50, duration => 600);
$pub = publish($n->rtmp_url('live/pkg'), %pub_opt);
my $pl = "$p/hls/pkg_low.m3u8";
ok(wait_segments($pl, 2, 60), '_low HLS: two segments');
my ($v) = video_info($pl);
is($v && $v->{width}, 480, '_low is 480 wide');
ok(wait_until(10, sub {
    (undef, $j) = api($n, 'GET', '/vkstream/streams/live/pkg');
    $j && ($j->{state} // '') eq 'live';
}), 'the stream is live in the API');

# --- reload while it transcodes ----------------------------------------------

# the number of the playlist's last segment
sub media_seq {
    open my $f, '<', $pl or return -1;
    my $t = do { local $/; <$f> } // '';
    my ($seq) = $t =~ /#EXT-X-MEDIA-SEQUENCE:(\d+)/ or return -1;
    return $seq + scalar(() = $t =~ /#EXTINF/g);
}
my @old = $n->worker_pids;
my $t_reload = time;
ok($n->signal('reload'), 'nginx -s reload');
ok(wait_until(30, sub {
    my @w = $n->worker_pids;
    @w && !grep { my $o = $_; grep { $_ == $o } @w } @old;
}), 'new workers, the old ones gone');
# The old worker ends its transcodes and closes its publishers, so that
# they reconnect to the new workers (README.md, "vkstream"): a streaming
# client reconnects by itself, ffmpeg does not, so the test does it.
ok(wait_until(30, sub { waitpid($pub, WNOHANG) != 0 }),
   'the old worker closed the publisher');
$pub = publish($n->rtmp_url('live/pkg'), %pub_opt);
my $before = media_seq();
ok(wait_until(60, sub { media_seq() >= $before + 2 }),
   "the _low playlist goes on after the reload (segment $before -> "
   . media_seq() . ')');
note(sprintf('%.1f s from the reload to the second new _low segment '
             . '(a 2 s GOP, the publisher reconnecting at once)',
             time - $t_reload));
($r, $j) = api($n, 'GET', '/vkstream/status');
is($r->{status}, 200, '/vkstream/status answers after the reload');
ok(wait_until(15, sub {
    (undef, $j) = api($n, 'GET', '/vkstream/streams/live/pkg');
    $j && ($j->{state} // '') eq 'live'
       && ($j->{renditions}[0]{state} // '') eq 'running';
}), 'and shows the stream transcoding');

stop_publisher($pub);
undef $pub;
$n->stop;

# --- purge -------------------------------------------------------------------

my @files = grep { $_ ne '/.' } map { chomp; $_ } `dpkg -L $PKG`;
ok(scalar(grep { m{ngx_vkstream_module\.so$} } @files),
   'dpkg -L lists the module');
my ($pok, $pout) = purge();
ok($pok, "apt-get purge $PKG") or diag($pout);
ok(!known(), 'dpkg knows it no more (not even its configuration)');
# directories of other packages (/usr/share/doc...) stay, its own go
my @left = grep {
    -e $_ && !(-d $_ && system("dpkg -S '$_' >/dev/null 2>&1") == 0)
} @files;
is_deeply(\@left, [], 'no file of the package left');
ok(!-e $LINK && !-l $LINK && !-l "$LINK.removed",
   'no modules-enabled link left');
($t_ok, $t_msg) = system_nginx_t();
ok($t_ok || !$t_before, 'the system nginx -t passes after the purge')
    or diag($t_msg);
$we_installed = 0;
restore();

done_testing;
