# Builds the libFuzzer targets and runs each briefly from its committed
# seeds (which include every input that once crashed): no crash, no leak,
# no sanitizer report.  FUZZ_SECONDS (default 5) per target; "make fuzz"
# runs them longer.  Skipped when clang cannot build with -fsanitize=fuzzer.
use strict;
use warnings;
use Test::More;
use VKStream::Nginx;

my $root = $VKStream::Nginx::ROOT;
my $secs = $ENV{FUZZ_SECONDS} // 5;

my $probe = `echo 'int LLVMFuzzerTestOneInput(const char *d, long n)
{ return 0; }' | clang -x c -fsanitize=fuzzer - -o /dev/null 2>&1`;
plan skip_all => "clang -fsanitize=fuzzer unusable: $probe" if $? != 0;

my $out = `make -s -C $root fuzz-build 2>&1`;
ok($? == 0, 'fuzz targets build') or diag($out);

my @targets = map { m{fuzz_(\w+)\.c$} ? $1 : () }
              sort glob("$root/fuzz/fuzz_*.c");
ok(@targets >= 5, scalar(@targets) . ' fuzz targets');

for my $t (@targets) {
    my $r = `$root/scripts/fuzz.sh $secs $t 2>&1`;
    ok($? == 0, "fuzz $t for $secs s") or diag($r);
    note($r);
}

done_testing;
