
/*
 * vkstream vk: rule reconciliation (see vks_vk_sync.h).
 */


#include <stdlib.h>
#include <string.h>

#include "vks_vk_sync.h"
#include "vks_vk_syntax.h"


static void vks_vk_sync_plan(vks_vk_sync_t *s, vks_vk_sync_event_pt handler,
    void *data);


static char *
vks_vk_sync_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}


int
vks_vk_pairs_push(vks_vk_pairs_t *p, const char *tag, const char *value)
{
    vks_vk_pair_t  *a;

    if (p->n == p->cap) {
        a = realloc(p->a, (p->cap ? p->cap * 2 : 16) * sizeof(vks_vk_pair_t));
        if (a == NULL) {
            return -1;
        }
        p->a = a;
        p->cap = p->cap ? p->cap * 2 : 16;
    }

    p->a[p->n].tag = vks_vk_sync_strdup(tag);
    p->a[p->n].value = vks_vk_sync_strdup(value);

    if (p->a[p->n].tag == NULL || (value && p->a[p->n].value == NULL)) {
        free(p->a[p->n].tag);
        free(p->a[p->n].value);
        return -1;
    }

    p->n++;
    return 0;
}


void
vks_vk_pairs_remove(vks_vk_pairs_t *p, size_t i)
{
    free(p->a[i].tag);
    free(p->a[i].value);
    p->a[i] = p->a[--p->n];
}


ssize_t
vks_vk_pairs_find(const vks_vk_pairs_t *p, const char *tag)
{
    size_t  i;

    for (i = 0; i < p->n; i++) {
        if (strcmp(p->a[i].tag, tag) == 0) {
            return (ssize_t) i;
        }
    }

    return -1;
}


void
vks_vk_pairs_clear(vks_vk_pairs_t *p)
{
    while (p->n) {
        vks_vk_pairs_remove(p, p->n - 1);
    }
}


void
vks_vk_pairs_free(vks_vk_pairs_t *p)
{
    vks_vk_pairs_clear(p);
    free(p->a);
    p->a = NULL;
    p->cap = 0;
}


void
vks_vk_sync_init(vks_vk_sync_t *s, unsigned flags)
{
    memset(s, 0, sizeof(vks_vk_sync_t));
    s->flags = flags;
}


void
vks_vk_sync_free(vks_vk_sync_t *s)
{
    vks_vk_pairs_free(&s->cur);
    vks_vk_pairs_free(&s->desired);
    vks_vk_pairs_free(&s->failed);
    vks_vk_pairs_free(&s->ops);
    s->iop = 0;
}


int
vks_vk_sync_set_desired(vks_vk_sync_t *s, const vks_vk_pair_t *a, size_t n)
{
    int     rc;
    size_t  i;

    rc = 0;

    vks_vk_pairs_clear(&s->desired);

    /* what fits is still worth syncing */
    for (i = 0; i < n; i++) {
        if (vks_vk_pairs_push(&s->desired, a[i].tag, a[i].value) != 0) {
            rc = -1;
        }
    }

    s->replan = 1;

    return rc;
}


int
vks_vk_sync_set_current(vks_vk_sync_t *s, const vks_vk_rule_t *rules,
    size_t n)
{
    int     rc;
    size_t  i;

    rc = 0;

    vks_vk_pairs_clear(&s->cur);

    for (i = 0; i < n; i++) {
        if (vks_vk_pairs_push(&s->cur, rules[i].tag, rules[i].value) != 0) {
            rc = -1;
        }
    }

    s->listed = 1;
    s->replan = 1;

    return rc;
}


void
vks_vk_sync_reset(vks_vk_sync_t *s)
{
    s->listed = 0;
    vks_vk_pairs_clear(&s->ops);
    s->iop = 0;
}


void
vks_vk_sync_replan(vks_vk_sync_t *s)
{
    s->replan = 1;
}


const vks_vk_pair_t *
vks_vk_sync_next(vks_vk_sync_t *s, vks_vk_sync_event_pt handler, void *data)
{
    if (!s->listed) {
        return NULL;
    }

    /* a plan runs to its end before the next one is made */

    if (s->iop >= s->ops.n) {
        if (!s->replan) {
            return NULL;
        }

        s->replan = 0;
        vks_vk_sync_plan(s, handler, data);

        if (s->ops.n == 0) {
            return NULL;
        }
    }

    return &s->ops.a[s->iop++];
}


static void
vks_vk_sync_plan(vks_vk_sync_t *s, vks_vk_sync_event_pt handler, void *data)
{
    int              code;
    size_t           i, j, n;
    ssize_t          k;
    vks_vk_plan_t    plan;
    vks_vk_rule_t   *want, *have;

    vks_vk_pairs_clear(&s->ops);
    s->iop = 0;

    /* failed values stay failed until they change */
    for (i = 0; i < s->failed.n; /* void */) {
        k = vks_vk_pairs_find(&s->desired, s->failed.a[i].tag);
        if (k < 0 || strcmp(s->desired.a[k].value, s->failed.a[i].value)) {
            vks_vk_pairs_remove(&s->failed, i);
        } else {
            i++;
        }
    }

    want = calloc(s->desired.n + 1, sizeof(vks_vk_rule_t));
    have = calloc(s->cur.n + 1, sizeof(vks_vk_rule_t));

    if (want == NULL || have == NULL) {
        free(want);
        free(have);
        return;
    }

    for (i = 0, n = 0; i < s->desired.n; i++) {
        if (vks_vk_pairs_find(&s->failed, s->desired.a[i].tag) >= 0) {
            continue;
        }

        code = vks_vk_rule_value_check(s->desired.a[i].value,
                                       strlen(s->desired.a[i].value), NULL);
        if (code) {
            handler(data, VKS_VK_SYNC_EV_REFUSED, s->desired.a[i].tag, code);
            (void) vks_vk_pairs_push(&s->failed, s->desired.a[i].tag,
                                     s->desired.a[i].value);
            continue;
        }

        want[n].tag = s->desired.a[i].tag;
        want[n].value = s->desired.a[i].value;

        k = vks_vk_pairs_find(&s->cur, want[n].tag);
        if (k >= 0 && strcmp(s->cur.a[k].value, want[n].value) == 0) {
            handler(data, VKS_VK_SYNC_EV_ACTIVE, want[n].tag, 0);
        }

        n++;
    }

    for (j = 0; j < s->cur.n; j++) {
        have[j].tag = s->cur.a[j].tag;
        have[j].value = s->cur.a[j].value;
    }

    if (vks_vk_rules_plan(want, n, have, s->cur.n, s->flags, &plan) == 0) {
        for (i = 0; i < plan.ndel; i++) {
            (void) vks_vk_pairs_push(&s->ops, have[plan.del[i]].tag, NULL);
        }

        for (i = 0; i < plan.nadd; i++) {
            (void) vks_vk_pairs_push(&s->ops, want[plan.add[i]].tag,
                                     want[plan.add[i]].value);
        }

        vks_vk_plan_free(&plan);
    }

    free(want);
    free(have);
}


vks_vk_sync_result_e
vks_vk_sync_result(vks_vk_sync_t *s, const vks_vk_pair_t *op, int rc,
    int64_t code)
{
    ssize_t  k;

    if (rc != VKS_VK_OK && rc != VKS_VK_EAPI) {
        /* e.g. a proxy's 503 page: the service may be back soon */
        return VKS_VK_SYNC_RETRY;
    }

    if (rc == VKS_VK_EAPI && (code == 1003 || code == 1004)) {
        return VKS_VK_SYNC_RECONNECT;
    }

    if (rc == VKS_VK_EAPI && !vks_vk_rules_error_permanent(code)) {
        return VKS_VK_SYNC_RETRY;
    }

    k = vks_vk_pairs_find(&s->cur, op->tag);

    if (op->value == NULL) {
        if (rc != VKS_VK_OK && code != VKS_VK_RULE_ETAG_MISSING) {
            return VKS_VK_SYNC_NOT_DELETED;
        }

        if (k >= 0) {
            vks_vk_pairs_remove(&s->cur, (size_t) k);
        }

        return VKS_VK_SYNC_DELETED;
    }

    if (rc != VKS_VK_OK) {
        /* 2000-2008: the same request would fail again */
        (void) vks_vk_pairs_push(&s->failed, op->tag, op->value);
        return VKS_VK_SYNC_REFUSED;
    }

    if (k >= 0) {
        vks_vk_pairs_remove(&s->cur, (size_t) k);
    }

    (void) vks_vk_pairs_push(&s->cur, op->tag, op->value);

    return VKS_VK_SYNC_ADDED;
}
