package VKStream::Emulator;

# Starts scripts/vk-emulator for a test and talks to it: the API over
# verified TLS, the admin port over plain HTTP, and the stream either with
# Mojo::UserAgent (ws_connect) or with a raw blocking client (raw_ws) that
# does nothing on its own (no pongs), to see exactly what the server sends.
#
#   my $e = VKStream::Emulator->new(args => ['--ping-interval', 1]);
#   $e->api_url, $e->stream_host, $e->ca, $e->token, $e->key
#   $e->admin(POST => '/admin/event', {text => '...'})   # decoded JSON
#
# The emulator is stopped when the object goes away.

use strict;
use warnings;
use IO::Socket::SSL;
use JSON::PP;
use HTTP::Tiny;
use Mojo::IOLoop;
use Mojo::UserAgent;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use VKStream::Nginx;

our $SCRIPT = "$VKStream::Nginx::ROOT/scripts/vk-emulator";

sub new {
    my ($class, %o) = @_;
    my @args = @{$o{args} // []};
    pipe(my $r, my $w) or die "pipe: $!";
    my $t0 = time;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $r;
        open STDOUT, '>&', $w or die;
        exec $^X, $SCRIPT, @args or die "exec: $!";
    }
    close $w;
    my $line = '';
    my $rin = '';
    vec($rin, fileno($r), 1) = 1;
    # Must start in well under the limit; 10 s only guards a hung machine.
    if (select(my $rout = $rin, undef, undef, 10)) {
        $line = <$r> // '';
    }
    my $self = bless {pid => $pid, pipe => $r, started => time - $t0,
                      args => \@args}, $class;
    $self->{start_cpu} = _cpu_time($pid);
    die "vk-emulator did not start\n" unless $line =~ /^\{/;
    $self->{info} = decode_json($line);
    $self->{http} = HTTP::Tiny->new(timeout => 10);
    return $self;
}

# CPU seconds (user + system, with the openssl runs) a process has used:
# a measure of start-up cost that does not depend on the machine's load.
sub _cpu_time {
    my ($pid) = @_;
    open my $f, '<', "/proc/$pid/stat" or return undef;
    my $stat = <$f>;
    $stat =~ s/^.*\)\s+//s;        # after "pid (comm) "
    my @v = split ' ', $stat;
    my $hz = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
    return ($v[11] + $v[12] + $v[13] + $v[14]) / $hz;
}

sub info        { $_[0]{info} }
sub start_time  { $_[0]{started} }          # wall seconds until ready
sub start_cpu   { $_[0]{start_cpu} }        # CPU seconds until ready
sub pid         { $_[0]{pid} }
sub api_url     { $_[0]{info}{api} }
sub admin_url   { $_[0]{info}{admin} }
sub stream_host { $_[0]{info}{stream_host} }
sub ca          { $_[0]{info}{ca} }
sub token       { $_[0]{info}{token} }
sub key         { $_[0]{info}{key} }

# Admin request; returns the decoded JSON answer (undef if not JSON).
sub admin {
    my ($self, $method, $path, $body) = @_;
    my $res = $self->{http}->request($method, $self->admin_url . $path, {
        defined $body ? (content => encode_json($body)) : (),
        headers => {'Content-Type' => 'application/json'}});
    return eval { decode_json($res->{content}) };
}

sub stats { $_[0]->admin(GET => '/admin/stats') }

# A user agent that verifies the emulator's certificate with its CA.
sub ua {
    my ($self, $ca) = @_;
    my $ua = Mojo::UserAgent->new(ca => $ca // $self->ca,
                                  request_timeout => 10);
    return $ua;
}

# Blocking API request with TLS verification: returns (HTTP status, JSON).
sub api {
    my ($self, $method, $path, $body, %o) = @_;
    my $ua = $self->{api_ua} //= $self->ua;
    my $tx = $ua->build_tx($method => $self->api_url . $path,
        {'Content-Type' => $o{content_type} // 'application/json'},
        defined $body ? (ref $body ? encode_json($body) : $body) : ());
    $tx = $ua->start($tx);
    my $res = $tx->result;
    return ($res->code, eval { decode_json($res->body) });
}

sub rules_path { "/rules?key=" . ($_[1] // $_[0]->key) }

# Connects with Mojo::UserAgent; returns a record whose lists fill while
# the IOLoop runs (see wait_until): frames (raw, [fin,op,bytes]), messages
# (bytes of each reassembled message), finish ([code, reason]), error.
sub ws_connect {
    my ($self, %o) = @_;
    my $c = {frames => [], messages => [], finish => undef};
    my $url = 'wss://' . $self->stream_host . '/stream?key='
              . ($o{key} // $self->key)
              . (defined $o{stream_id} ? "&stream_id=$o{stream_id}" : '');
    my $ua = $c->{ua} = $self->ua($o{ca});
    $ua->websocket($url => sub {
        my ($ua, $tx) = @_;
        $c->{handshake} = $tx->res->code // 0;
        $c->{body} = $tx->res->body;
        unless ($tx->is_websocket) {
            $c->{error} = $tx->error ? $tx->error->{message} : 'no upgrade';
            $c->{finish} = [0, 'handshake failed'];
            return;
        }
        $c->{tx} = $tx;
        $tx->max_websocket_size(64 * 1024 * 1024);
        $tx->on(frame => sub {
            my (undef, $f) = @_;
            push @{$c->{frames}}, [$f->[0], $f->[4], $f->[5]];
        });
        $tx->on(text => sub { push @{$c->{messages}}, $_[1] });
        $tx->on(finish => sub { $c->{finish} = [$_[1], $_[2]] });
    });
    return $c;
}

# Runs the IOLoop until $cond returns true or $timeout passes.
sub wait_until {
    my ($cond, $timeout) = @_;
    my $end = time + ($timeout // 5);
    my $tick = Mojo::IOLoop->recurring(0.02 => sub { });
    Mojo::IOLoop->one_tick while !$cond->() && time < $end;
    Mojo::IOLoop->remove($tick);
    return $cond->();
}

# Raw blocking WebSocket client over verified TLS.  Returns the socket and
# the HTTP status line/headers/body of the handshake answer.
sub raw_ws {
    my ($self, %o) = @_;
    my ($host, $port) = split /:/, $self->stream_host;
    my $s = IO::Socket::SSL->new(PeerHost => $host, PeerPort => $port,
        SSL_ca_file => $self->ca, SSL_verify_mode => SSL_VERIFY_PEER,
        SSL_verifycn_name => $host, SSL_verifycn_scheme => 'http',
        Timeout => 5) or return (undef, "connect: $SSL_ERROR $!");
    my $key = $o{key} // $self->key;
    print $s "GET /stream?key=$key HTTP/1.1\r\nHost: $host:$port\r\n"
        . "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        . "Sec-WebSocket-Version: 13\r\n\r\n";
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        my $n = sysread($s, my $buf, 1) or last;
        $head .= $buf;
    }
    return ($s, $head);
}

# Reads one frame from a raw_ws socket: (fin, opcode, payload) or () on EOF
# or timeout.
sub raw_frame {
    my ($s, $timeout) = @_;
    my $need = sub {
        my ($n) = @_;
        my $buf = '';
        my $end = time + ($timeout // 5);
        while (length $buf < $n) {
            if (!$s->pending) {
                my $rin = '';
                vec($rin, fileno($s), 1) = 1;
                my $left = $end - time;
                return undef if $left <= 0
                    || !select(my $rout = $rin, undef, undef, $left);
            }
            my $got = sysread($s, $buf, $n - length $buf, length $buf);
            return undef unless $got;
        }
        return $buf;
    };
    my $h = $need->(2) // return ();
    my ($b1, $b2) = unpack 'CC', $h;
    my $len = $b2 & 0x7f;
    if ($len == 126) { $len = unpack 'n', $need->(2) // return () }
    elsif ($len == 127) { $len = unpack 'Q>', $need->(8) // return () }
    my $payload = $len ? $need->($len) // return () : '';
    return ($b1 >> 7, $b1 & 0x0f, $payload);
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'TERM', $self->{pid};
    my $end = time + 5;
    while (time < $end) {
        last if waitpid($self->{pid}, WNOHANG) == $self->{pid};
        sleep 0.02;
    }
    if (kill 0, $self->{pid}) {
        kill 'KILL', $self->{pid};
        waitpid($self->{pid}, 0);
    }
    delete $self->{pid};
}

sub DESTROY {
    local ($?, $@);
    $_[0]->stop;
}

1;
