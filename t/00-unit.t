# Runs the unit-test mains of the nginx-free units (build/test/test_*).
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;

# make test SANITIZE=1 runs the sanitizer builds
my $dir = $ENV{VKSTREAM_SANITIZE} ? 'test-asan' : 'test';
my @tests = sort glob("$VKStream::Nginx::ROOT/build/$dir/test_*");
plan skip_all => 'no unit tests built' unless @tests;

for my $t (@tests) {
    my $out = `$t 2>&1`;
    my $name = $t =~ s{.*/}{}r;
    ok($? == 0, "$name passes") or diag($out);
    note($out);
}
done_testing;
