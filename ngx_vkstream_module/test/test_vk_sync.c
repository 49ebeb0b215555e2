
/*
 * Unit tests: vk/vks_vk_sync (rule reconciliation without a server).
 */


#include <stdlib.h>
#include <string.h>

#include "vk/vks_vk_sync.h"
#include "vks_tap.h"


typedef struct {
    int     active;
    int     refused;
    int     code;
    char    last[VKS_VK_TAG_MAX + 1];
} events_t;


static void
on_event(void *data, int event, const char *tag, int code)
{
    events_t  *ev = data;

    if (event == VKS_VK_SYNC_EV_ACTIVE) {
        ev->active++;

    } else if (event == VKS_VK_SYNC_EV_REFUSED) {
        ev->refused++;
        ev->code = code;
    }

    snprintf(ev->last, sizeof(ev->last), "%s", tag);
}


/* takes the next request, copied as the client keeps it */
static int
next(vks_vk_sync_t *s, events_t *ev, vks_vk_pair_t *op)
{
    const vks_vk_pair_t  *p;

    free(op->tag);
    free(op->value);
    op->tag = NULL;
    op->value = NULL;

    p = vks_vk_sync_next(s, on_event, ev);
    if (p == NULL) {
        return 0;
    }

    op->tag = strdup(p->tag);
    op->value = p->value ? strdup(p->value) : NULL;

    return 1;
}


static int
on_server(vks_vk_sync_t *s, const char *tag, const char *value)
{
    ssize_t  k;

    k = vks_vk_pairs_find(&s->cur, tag);

    if (k < 0) {
        return value == NULL;
    }

    return value && strcmp(s->cur.a[k].value, value) == 0;
}


static void
test_pairs(void)
{
    vks_vk_pairs_t  p;

    memset(&p, 0, sizeof(p));

    is_int(vks_vk_pairs_push(&p, "a", "1"), 0, "pairs: push");
    is_int(vks_vk_pairs_push(&p, "b", NULL), 0, "pairs: push a delete");
    is_int(vks_vk_pairs_push(&p, "c", "3"), 0, "pairs: push again");
    is_int(vks_vk_pairs_find(&p, "b"), 1, "pairs: find");
    ok(p.a[1].value == NULL, "pairs: NULL value kept");
    vks_vk_pairs_remove(&p, 0);
    is_int(p.n, 2, "pairs: removed");
    is_int(vks_vk_pairs_find(&p, "a"), -1, "pairs: gone");
    is_int(vks_vk_pairs_find(&p, "c"), 0, "pairs: last moved in");
    vks_vk_pairs_free(&p);
    ok(p.n == 0 && p.a == NULL, "pairs: freed");
}


static void
test_cycle(void)
{
    int              n;
    events_t         ev;
    vks_vk_sync_t    s;
    vks_vk_pair_t    op, want[3];
    vks_vk_rule_t    server[3];

    memset(&ev, 0, sizeof(ev));
    memset(&op, 0, sizeof(op));

    vks_vk_sync_init(&s, 0);

    want[0].tag = "vks:s:live/a";
    want[0].value = "cats";
    want[1].tag = "vks:s:live/b";
    want[1].value = "dogs";
    want[2].tag = "vks:g:news";
    want[2].value = "news";

    is_int(vks_vk_sync_set_desired(&s, want, 3), 0, "desired set");
    ok(!next(&s, &ev, &op), "nothing before the server is listed");

    server[0].tag = "vks:s:live/a";         /* in step */
    server[0].value = "cats";
    server[1].tag = "vks:s:live/b";         /* another value */
    server[1].value = "wolves";
    server[2].tag = "theirs";               /* foreign */
    server[2].value = "x";

    is_int(vks_vk_sync_set_current(&s, server, 3), 0, "server listed");

    ok(next(&s, &ev, &op), "a request");
    is_int(ev.active, 1, "the rule in step reported active");
    is_str(op.tag, "vks:s:live/b", "first: the changed rule");
    ok(op.value == NULL, "first: a delete, deletes come first");
    is_int(vks_vk_sync_result(&s, &op, VKS_VK_OK, 0), VKS_VK_SYNC_DELETED,
           "delete answered");
    ok(on_server(&s, "vks:s:live/b", NULL), "deleted from what is known");

    ok(next(&s, &ev, &op), "second request");
    is_str(op.tag, "vks:s:live/b", "second: the changed rule again");
    is_str(op.value, "dogs", "second: with its new value");
    is_int(vks_vk_sync_result(&s, &op, VKS_VK_OK, 0), VKS_VK_SYNC_ADDED,
           "add answered");
    ok(on_server(&s, "vks:s:live/b", "dogs"), "added to what is known");

    ok(next(&s, &ev, &op), "third request");
    is_str(op.tag, "vks:g:news", "third: the new rule");
    is_int(vks_vk_sync_result(&s, &op, VKS_VK_OK, 0), VKS_VK_SYNC_ADDED,
           "added");

    ok(!next(&s, &ev, &op), "in step: no more requests");
    ok(on_server(&s, "theirs", "x"), "foreign rule left alone");

    /* nothing new desired: no new plan, no events */
    n = ev.active;
    ok(!next(&s, &ev, &op), "still nothing");
    is_int(ev.active, n, "no plan made without a change");

    /* a retry after a failure plans again and finds nothing */
    vks_vk_sync_replan(&s);
    ok(!next(&s, &ev, &op), "replan in step: nothing");
    is_int(ev.active, n + 3, "replan reports the three active");

    /* dropping a desired rule deletes it */
    is_int(vks_vk_sync_set_desired(&s, want, 2), 0, "one rule less");
    ok(next(&s, &ev, &op), "a request for the dropped rule");
    is_str(op.tag, "vks:g:news", "the dropped rule");
    ok(op.value == NULL, "deleted");

    /* 2002: already gone counts as deleted */
    is_int(vks_vk_sync_result(&s, &op, VKS_VK_EAPI,
                              VKS_VK_RULE_ETAG_MISSING),
           VKS_VK_SYNC_DELETED, "2002 on a delete: deleted");
    ok(on_server(&s, "vks:g:news", NULL), "gone from what is known");
    ok(!next(&s, &ev, &op), "in step again");

    /* a lost connection forgets the plan until the next listing */
    is_int(vks_vk_sync_set_desired(&s, want, 3), 0, "the rule back");
    vks_vk_sync_reset(&s);
    ok(!next(&s, &ev, &op), "nothing after a reset");
    is_int(vks_vk_sync_set_current(&s, server, 3), 0, "listed again");
    ok(next(&s, &ev, &op), "planned after the new listing");
    is_str(op.tag, "vks:s:live/b", "the server's old value again");

    free(op.tag);
    free(op.value);
    vks_vk_sync_free(&s);
}


static void
test_failures(void)
{
    events_t         ev;
    vks_vk_sync_t    s;
    vks_vk_pair_t    op, want[2];

    memset(&ev, 0, sizeof(ev));
    memset(&op, 0, sizeof(op));

    vks_vk_sync_init(&s, 0);

    want[0].tag = "vks:s:live/a";
    want[0].value = "\"unbalanced";
    want[1].tag = "vks:s:live/b";
    want[1].value = "ok";

    (void) vks_vk_sync_set_desired(&s, want, 2);
    (void) vks_vk_sync_set_current(&s, NULL, 0);

    ok(next(&s, &ev, &op), "a request");
    is_int(ev.refused, 1, "bad value refused locally");
    is_int(ev.code, 2005, "with the service's code");
    is_str(ev.last, "vks:s:live/a", "the bad rule");
    is_str(op.tag, "vks:s:live/b", "only the good rule requested");

    /* transient errors change nothing */
    is_int(vks_vk_sync_result(&s, &op, VKS_VK_EJSON, 0), VKS_VK_SYNC_RETRY,
           "a 503 page: retry");
    is_int(vks_vk_sync_result(&s, &op, VKS_VK_EAPI, 1), VKS_VK_SYNC_RETRY,
           "an unknown VK error: retry");
    is_int(vks_vk_sync_result(&s, &op, VKS_VK_EAPI, 1003),
           VKS_VK_SYNC_RECONNECT, "1003: reconnect");
    is_int(vks_vk_sync_result(&s, &op, VKS_VK_EAPI, 1004),
           VKS_VK_SYNC_RECONNECT, "1004: reconnect");
    ok(on_server(&s, "vks:s:live/b", NULL), "not on the server");

    /* a permanent error: failed until the value changes */
    is_int(vks_vk_sync_result(&s, &op, VKS_VK_EAPI, 2004),
           VKS_VK_SYNC_REFUSED, "2004: refused");
    ok(!next(&s, &ev, &op), "done");

    vks_vk_sync_replan(&s);
    ev.refused = 0;
    ok(!next(&s, &ev, &op), "replan: failed rules are not retried");
    is_int(ev.refused, 0, "and not reported again");

    want[0].value = "fixed";
    (void) vks_vk_sync_set_desired(&s, want, 2);
    ok(next(&s, &ev, &op), "a changed value is tried again");
    is_str(op.tag, "vks:s:live/a", "the fixed rule");
    is_str(op.value, "fixed", "with its new value");
    is_int(vks_vk_sync_result(&s, &op, VKS_VK_OK, 0), VKS_VK_SYNC_ADDED,
           "added");
    ok(!next(&s, &ev, &op), "the refused value stays refused");

    /* a permanent error on a delete leaves the rule where it is */
    op.tag = strdup("vks:s:live/a");
    free(op.value);
    op.value = NULL;
    is_int(vks_vk_sync_result(&s, &op, VKS_VK_EAPI, 2000),
           VKS_VK_SYNC_NOT_DELETED, "2000 on a delete: not deleted");
    ok(on_server(&s, "vks:s:live/a", "fixed"), "still known on the server");

    free(op.tag);
    vks_vk_sync_free(&s);
}


static void
test_foreign(void)
{
    events_t         ev;
    vks_vk_sync_t    s;
    vks_vk_pair_t    op;
    vks_vk_rule_t    server[1];

    memset(&ev, 0, sizeof(ev));
    memset(&op, 0, sizeof(op));

    server[0].tag = "theirs";
    server[0].value = "x";

    vks_vk_sync_init(&s, VKS_VK_PLAN_DELETE_FOREIGN);
    (void) vks_vk_sync_set_current(&s, server, 1);

    ok(next(&s, &ev, &op), "delete_foreign: a request");
    is_str(op.tag, "theirs", "the foreign rule");
    ok(op.value == NULL, "deleted");
    ok(!next(&s, &ev, &op), "and nothing more");

    free(op.tag);
    vks_vk_sync_free(&s);
}


int
main(void)
{
    test_pairs();
    test_cycle();
    test_failures();
    test_foreign();

    return done_testing();
}
