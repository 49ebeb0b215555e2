
/*
 * Unit tests: vk/vks_vk_reasm.
 */


#include <stdlib.h>
#include <string.h>

#include "vk/vks_vk_reasm.h"
#include "vks_vk_tap.h"


int
main(void)
{
    int              rc;
    char            *big;
    size_t           i;
    vks_vk_reasm_t   r;

    vks_vk_reasm_init(&r, 0);
    IS_INT(r.max, 1024 * 1024, "default max 1 MiB");

    rc = vks_vk_reasm_feed(&r, "{\"a\":1}", 7, 1, 1);
    IS_INT(rc, VKS_VK_REASM_DONE, "single frame: done");
    IS_STR(r.buf, "{\"a\":1}", "single frame: NUL-ended message");
    IS_INT(r.len, 7, "single frame: length");

    IS_INT(vks_vk_reasm_feed(&r, "{\"a\"", 4, 1, 0), VKS_VK_REASM_MORE,
           "fragments: first");
    IS_INT(vks_vk_reasm_feed(&r, ":", 1, 0, 0), VKS_VK_REASM_MORE,
           "fragments: middle");
    IS_INT(vks_vk_reasm_feed(&r, "", 0, 0, 0), VKS_VK_REASM_MORE,
           "fragments: empty middle");
    IS_INT(vks_vk_reasm_feed(&r, "2}", 2, 0, 1), VKS_VK_REASM_DONE,
           "fragments: final");
    IS_STR(r.buf, "{\"a\":2}", "fragments: joined");
    IS_INT(r.messages, 2, "two messages counted");

    IS_INT(vks_vk_reasm_feed(&r, "", 0, 1, 1), VKS_VK_REASM_DONE,
           "empty message: done");
    IS_INT(r.len, 0, "empty message: length 0");

    /* at the limit and one past it */

    vks_vk_reasm_free(&r);
    vks_vk_reasm_init(&r, 10);

    IS_INT(vks_vk_reasm_feed(&r, "01234", 5, 1, 0), VKS_VK_REASM_MORE,
           "limit: first half");
    IS_INT(vks_vk_reasm_feed(&r, "56789", 5, 0, 1), VKS_VK_REASM_DONE,
           "limit: exactly max bytes kept");
    IS_STR(r.buf, "0123456789", "limit: content");

    IS_INT(vks_vk_reasm_feed(&r, "01234", 5, 1, 0), VKS_VK_REASM_MORE,
           "over: first half");
    IS_INT(vks_vk_reasm_feed(&r, "56789A", 6, 0, 0), VKS_VK_REASM_MORE,
           "over: past the limit, skipping");
    IS_INT(r.len, 0, "over: nothing kept");
    IS_INT(vks_vk_reasm_feed(&r, "BCD", 3, 0, 0), VKS_VK_REASM_MORE,
           "over: still skipping");
    IS_INT(vks_vk_reasm_feed(&r, "E", 1, 0, 1), VKS_VK_REASM_DROPPED,
           "over: dropped at its end");
    IS_INT(r.dropped, 1, "over: counted once");

    IS_INT(vks_vk_reasm_feed(&r, "ok", 2, 1, 1), VKS_VK_REASM_DONE,
           "after a drop: next message fine");
    IS_STR(r.buf, "ok", "after a drop: content");

    IS_INT(vks_vk_reasm_feed(&r, "0123456789X", 11, 1, 1),
           VKS_VK_REASM_DROPPED, "single oversized frame dropped");
    IS_INT(r.dropped, 2, "dropped counted");

    /* a new start while a message is unfinished */

    vks_vk_reasm_feed(&r, "{\"lost\"", 7, 1, 0);
    IS_INT(vks_vk_reasm_feed(&r, "new", 3, 1, 1), VKS_VK_REASM_DONE,
           "restart: new message wins");
    IS_STR(r.buf, "new", "restart: old bytes gone");
    IS_INT(r.broken, 1, "restart: counted broken");

    /* continuations without a start */

    IS_INT(vks_vk_reasm_feed(&r, "orphan", 6, 0, 0), VKS_VK_REASM_MORE,
           "orphan: ignored");
    IS_INT(vks_vk_reasm_feed(&r, "end", 3, 0, 1), VKS_VK_REASM_MORE,
           "orphan: final not delivered");
    IS_INT(r.broken, 2, "orphan: counted once");
    IS_INT(r.dropped, 2, "orphan: not counted as too big");
    IS_INT(vks_vk_reasm_feed(&r, "x", 1, 1, 1), VKS_VK_REASM_DONE,
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

    IS_INT(rc, VKS_VK_REASM_DONE, "1 MiB in pieces: done");
    IS_INT(r.len, 1024 * 1024, "1 MiB in pieces: length");
    OK(r.cap <= 1024 * 1024 + 1, "1 MiB: buffer not above max + 1");

    IS_INT(vks_vk_reasm_feed(&r, big, 1024 * 1024, 1, 0), VKS_VK_REASM_MORE,
           "1 MiB + 1: first part");
    IS_INT(vks_vk_reasm_feed(&r, big, 1, 0, 1), VKS_VK_REASM_DROPPED,
           "1 MiB + 1: dropped");
    IS_INT(vks_vk_reasm_feed(&r, "{}", 2, 1, 1), VKS_VK_REASM_DONE,
           "small after big");
    OK(r.cap <= 64 * 1024, "big buffer given back");

    free(big);
    vks_vk_reasm_free(&r);
    OK(r.buf == NULL, "freed");

    return tap_done();
}
