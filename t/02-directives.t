# Bad directives fail "nginx -t" with a message naming them.
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;

sub check_conf {
    my (%o) = @_;
    my $n = VKStream::Nginx->new(conf => VKStream::Nginx::standard_conf(%o));
    return $n->check;
}

my ($ok, $out) = check_conf();
ok($ok, 'standard config passes') or diag($out);

($ok, $out) = check_conf(live => 'vkstraem on;');
ok(!$ok, 'misspelled directive rejected');
like($out, qr/unknown directive "vkstraem"/, 'message names it');

($ok, $out) = check_conf(live => 'vkstream maybe;');
ok(!$ok, 'bad flag value rejected');
like($out, qr/"vkstream".*"on" or "off"|invalid value "maybe" in "vkstream"/,
     'message names directive and value');

($ok, $out) = check_conf(main => 'vkstream on;');
ok(!$ok, 'vkstream at top level rejected');
like($out, qr/"vkstream" directive is not allowed here/,
     'out-of-context message names it');

($ok, $out) = check_conf(http => 'location /x { vkstream_api on; }');
ok(!$ok, 'vkstream_api with an argument rejected');
like($out, qr/invalid number of arguments in "vkstream_api"/,
     'message names vkstream_api');

done_testing;
