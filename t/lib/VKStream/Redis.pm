package VKStream::Redis;

# A redis-server of the test's own on a free loopback port (no
# persistence, no system instance involved), which a test can stop and
# start again on the same port, and a tiny client for what tests check
# (raw RESP over a socket: no Perl Redis module is packaged for us).
use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use POSIX ':sys_wait_h';
use VKStream::Nginx;

sub new {
    my ($class, %o) = @_;
    my $self = bless {
        port => $o{port} // VKStream::Nginx::free_port(),
        dir  => tempdir('vkstream-redis-XXXXXX', TMPDIR => 1, CLEANUP => 1),
        args => $o{args} // [],
        password => $o{password},
    }, $class;
    $self->start unless $o{no_start};
    return $self;
}

sub port { $_[0]{port} }
sub url  { "redis://127.0.0.1:$_[0]{port}" . ($_[1] // '') }

sub start {
    my ($self) = @_;
    die "redis-server already running\n" if $self->{pid};
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$self->{dir}/redis.log";
        open STDERR, '>&', \*STDOUT;
        exec 'redis-server', '--port', $self->{port}, '--bind', '127.0.0.1',
             '--save', '', '--appendonly', 'no', '--dir', $self->{dir},
             (defined $self->{password}
              ? ('--requirepass', $self->{password}) : ()),
             @{$self->{args}}
            or die "exec redis-server: $!";
    }
    $self->{pid} = $pid;
    my $deadline = time + 10;
    while (time < $deadline) {
        my $r = eval { $self->cmd('PING') };
        return $self if defined $r && $r eq 'PONG';
        die "redis-server exited\n" if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }
    die "redis-server did not answer\n";
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill 'KILL', $pid;
    waitpid $pid, 0;
}

sub running { defined $_[0]{pid} }

# One command on a new connection; returns the decoded reply (arrays as
# array references, errors die).
sub cmd {
    my ($self, @args) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$self->{port}",
                                  Timeout => 5) or die "connect: $!\n";
    if (defined $self->{password}) {
        _send($s, 'AUTH', $self->{password});
        _read($s);
    }
    _send($s, @args);
    my $r = _read($s);
    close $s;
    return $r;
}

sub _send {
    my ($s, @args) = @_;
    my $req = '*' . @args . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for map { utf8::is_utf8($_)
        ? do { my $c = $_; utf8::encode($c); $c } : $_ } @args;
    print $s $req;
}

sub _line {
    my ($s) = @_;
    my $l = <$s>;
    die "redis: connection closed\n" unless defined $l;
    $l =~ s/\r\n\z//;
    return $l;
}

sub _read {
    my ($s) = @_;
    my $l = _line($s);
    my ($t, $v) = (substr($l, 0, 1), substr($l, 1));
    return $v if $t eq '+';
    die "redis: $v\n" if $t eq '-';
    return $v + 0 if $t eq ':';
    if ($t eq '$') {
        return undef if $v < 0;
        my $buf = '';
        while (length $buf < $v + 2) {
            read($s, $buf, $v + 2 - length $buf, length $buf) or last;
        }
        return substr($buf, 0, $v);
    }
    if ($t eq '*') {
        return undef if $v < 0;
        return [map { _read($s) } 1 .. $v];
    }
    die "redis: unexpected reply '$l'\n";
}

# INFO stats fields (total_commands_processed, total_net_input_bytes...)
sub info {
    my ($self, $section) = @_;
    my %h = map { /^(\w+):(.*?)\r?$/ ? ($1, $2) : () }
            split /\n/, $self->cmd('INFO', $section // 'stats');
    return \%h;
}

sub DESTROY { $_[0]->stop }

1;
