# The documentation a newcomer navigates (issue 16): every directive the
# module declares has its README entry the nginx.org way (a "### name"
# heading followed by Syntax, Default and Context), and every relative
# link and #anchor in README.md and docs/*.md resolves
# (scripts/check-doc-links.py).
use strict;
use warnings;
use Test::More;

my $root = $ENV{VKSTREAM_ROOT} // '.';
my %declared;
for my $f (glob "$root/ngx_vkstream_module/ngx_*.c") {
    open my $h, '<', $f or die "$f: $!";
    while (<$h>) {
        $declared{$1} = 1 while /ngx_string\("(vkstream[a-z_]*)"\)/g;
    }
}
cmp_ok(scalar(keys %declared), '>=', 30, 'directives found in the sources');

open my $r, '<', "$root/README.md" or die "README.md: $!";
my @lines = <$r>;
my %entry;
for my $i (0 .. $#lines) {
    next unless $lines[$i] =~ /^### (vkstream\w*(?:, vkstream\w*)*)\s*$/;
    my @names = split /, /, $1;
    my $block = join '', @lines[$i + 1 .. ($i + 8 > $#lines ? $#lines
                                                            : $i + 8)];
    my $ok = $block =~ /^\s+Syntax:/m && $block =~ /^\s+Default:/m
          && $block =~ /^\s+Context:/m;
    $entry{$_} = $ok for @names;
}
my @missing = grep { !exists $entry{$_} } sort keys %declared;
my @bare = grep { exists $entry{$_} && !$entry{$_} } sort keys %declared;
is_deeply(\@missing, [], 'every directive has a README entry');
is_deeply(\@bare, [], 'every entry gives Syntax, Default and Context');

my $out = `python3 $root/scripts/check-doc-links.py 2>&1`;
is($?, 0, 'README.md and docs/*.md: every relative link resolves')
    or diag($out);
like($out, qr/\b0 broken\b/, 'the link checker says so') or diag($out);

done_testing;
