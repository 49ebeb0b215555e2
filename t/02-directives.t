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

# The VK client's directives.
for my $c (
    ['vkstream_vk_token t; vkstream_vk_endpoint h:1; vkstream_vk_key k;',
     qr/"vkstream_vk_token" and "vkstream_vk_endpoint" exclude each other/],
    ['vkstream_vk_endpoint h:1;',
     qr/"vkstream_vk_endpoint" needs "vkstream_vk_key"/],
    ['vkstream_vk_endpoint "h/x"; vkstream_vk_key k;',
     qr/invalid "vkstream_vk_endpoint" "h\/x"/],
    ['vkstream_vk_token t; vkstream_vk_api ftp://x;',
     qr/invalid "vkstream_vk_api" "ftp:\/\/x"/],
    ['vkstream_vk_text_len 2k;',
     qr/"vkstream_vk_text_len" must be between 1 and 1024/],
    ['vkstream_vk_max_message 1k;',
     qr/"vkstream_vk_max_message" must be at least 4k/],
) {
    ($ok, $out) = check_conf(main => $c->[0]);
    ok(!$ok, "rejected: $c->[0]");
    like($out, $c->[1], 'message names the directive');
}

($ok, $out) = check_conf(main => 'vkstream_vk_endpoint 127.0.0.1:9;
    vkstream_vk_key k; vkstream_vk_verify off; vkstream_vk_text_len 100;',
    live => 'vkstream on; vkstream_vk_keywords "$app $name";');
ok($ok, 'a valid VK configuration passes') or diag($out);

done_testing;
