# t/71-hostile.t again with LL-HLS on in the live application: the same
# hostile publishers, and after each case the witness's LL-HLS playlist
# goes on and passes the checker, and the hostile stream's LL-HLS
# directory ends with ENDLIST and holds no stale part, segment or
# temporary file 3 target durations later.
use strict;
use warnings;
use FindBin;

BEGIN { $ENV{VKSTREAM_TEST_LLHLS} = 1 }

do "$FindBin::Bin/71-hostile.t";
die $@ if $@;
