# t/74-lifecycle.t again with LL-HLS on in the live application: streams
# ended by reloads end their LL-HLS playlists (ENDLIST) and leave no stale
# files; a name published again after a reload starts a fresh window.
use strict;
use warnings;
use FindBin;

BEGIN { $ENV{VKSTREAM_TEST_LLHLS} = 1 }

do "$FindBin::Bin/74-lifecycle.t";
die $@ if $@;
