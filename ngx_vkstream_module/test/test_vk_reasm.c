
/*
 * Unit tests: vk/vks_vk_reasm.
 */


#include <stdlib.h>
#include <string.h>

#include "vk/vks_vk_reasm.h"
#include "vks_tap.h"


int
main(void)
{
    int              rc;
    char            *big;
    size_t           i;
    vks_vk_reasm_t   r;

    vks_vk_reasm_init(&r, 0);
    is_int(r.max, 1024 * 1024, "default max 1 MiB");

    rc = vks_vk_reasm_feed(&r, "{\"a\":1}", 7, 1, 1);
    is_int(rc, VKS_VK_REASM_DONE, "single frame: done");
    is_str(r.buf, "{\"a\":1}", "single frame: NUL-ended message");
    is_int(r.len, 7, "single frame: length");

    is_int(vks_vk_reasm_feed(&r, "{\"a\"", 4, 1, 0), VKS_VK_REASM_MORE,
           "fragments: first");
    is_int(vks_vk_reasm_feed(&r, ":", 1, 0, 0), VKS_VK_REASM_MORE,
           "fragments: middle");
    is_int(vks_vk_reasm_feed(&r, "", 0, 0, 0), VKS_VK_REASM_MORE,
           "fragments: empty middle");
    is_int(vks_vk_reasm_feed(&r, "2}", 2, 0, 1), VKS_VK_REASM_DONE,
           "fragments: final");
    is_str(r.buf, "{\"a\":2}", "fragments: joined");
    is_int(r.messages, 2, "two messages counted");

    is_int(vks_vk_reasm_feed(&r, "", 0, 1, 1), VKS_VK_REASM_DONE,
           "empty message: done");
    is_int(r.len, 0, "empty message: length 0");

    /* at the limit and one past it */

    vks_vk_reasm_free(&r);
    vks_vk_reasm_init(&r, 10);

    is_int(vks_vk_reasm_feed(&r, "01234", 5, 1, 0), VKS_VK_REASM_MORE,
           "limit: first half");
    is_int(vks_vk_reasm_feed(&r, "56789", 5, 0, 1), VKS_VK_REASM_DONE,
           "limit: exactly max bytes kept");
    is_str(r.buf, "0123456789", "limit: content");

    is_int(vks_vk_reasm_feed(&r, "01234", 5, 1, 0), VKS_VK_REASM_MORE,
           "over: first half");
    is_int(vks_vk_reasm_feed(&r, "56789A", 6, 0, 0), VKS_VK_REASM_MORE,
           "over: past the limit, skipping");
    is_int(r.len, 0, "over: nothing kept");
    is_int(vks_vk_reasm_feed(&r, "BCD", 3, 0, 0), VKS_VK_REASM_MORE,
           "over: still skipping");
    is_int(vks_vk_reasm_feed(&r, "E", 1, 0, 1), VKS_VK_REASM_DROPPED,
           "over: dropped at its end");
    is_int(r.dropped, 1, "over: counted once");

    is_int(vks_vk_reasm_feed(&r, "ok", 2, 1, 1), VKS_VK_REASM_DONE,
           "after a drop: next message fine");
    is_str(r.buf, "ok", "after a drop: content");

    is_int(vks_vk_reasm_feed(&r, "0123456789X", 11, 1, 1),
           VKS_VK_REASM_DROPPED, "single oversized frame dropped");
    is_int(r.dropped, 2, "dropped counted");

    /* a new start while a message is unfinished */

    vks_vk_reasm_feed(&r, "{\"lost\"", 7, 1, 0);
    is_int(vks_vk_reasm_feed(&r, "new", 3, 1, 1), VKS_VK_REASM_DONE,
           "restart: new message wins");
    is_str(r.buf, "new", "restart: old bytes gone");
    is_int(r.broken, 1, "restart: counted broken");

    /* continuations without a start */

    is_int(vks_vk_reasm_feed(&r, "orphan", 6, 0, 0), VKS_VK_REASM_MORE,
           "orphan: ignored");
    is_int(vks_vk_reasm_feed(&r, "end", 3, 0, 1), VKS_VK_REASM_MORE,
           "orphan: final not delivered");
    is_int(r.broken, 2, "orphan: counted once");
    is_int(r.dropped, 2, "orphan: not counted as too big");
    is_int(vks_vk_reasm_feed(&r, "x", 1, 1, 1), VKS_VK_REASM_DONE,
           "orphan: next message fine");
    vks_vk_reasm_free(&r);

    /* a 1 MiB message in 1000-byte pieces, then 1 MiB + 1 */

    vks_vk_reasm_init(&r, 0);
    big = malloc(1024 * 1024 + 1);
    memset(big, 'x', 1024 * 1024 + 1);

    for (i = 0, rc = 0; i < 1024 * 1024; i += 1000) {
        rc = vks_vk_reasm_feed(&r, big + i,
                               i + 1000 > 1024 * 1024 ? 1024 * 1024 - i
                                                      : 1000,
                               i == 0, i + 1000 >= 1024 * 1024);
    }

    is_int(rc, VKS_VK_REASM_DONE, "1 MiB in pieces: done");
    is_int(r.len, 1024 * 1024, "1 MiB in pieces: length");
    ok(r.cap <= 1024 * 1024 + 1, "1 MiB: buffer not above max + 1");

    is_int(vks_vk_reasm_feed(&r, big, 1024 * 1024, 1, 0), VKS_VK_REASM_MORE,
           "1 MiB + 1: first part");
    is_int(vks_vk_reasm_feed(&r, big, 1, 0, 1), VKS_VK_REASM_DROPPED,
           "1 MiB + 1: dropped");
    is_int(vks_vk_reasm_feed(&r, "{}", 2, 1, 1), VKS_VK_REASM_DONE,
           "small after big");
    ok(r.cap <= 64 * 1024, "big buffer given back");

    free(big);
    vks_vk_reasm_free(&r);
    ok(r.buf == NULL, "freed");

    return done_testing();
}
