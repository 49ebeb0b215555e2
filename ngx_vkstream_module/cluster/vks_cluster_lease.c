
/*
 * vkstream cluster: the VK lease state machine (see vks_cluster_lease.h).
 */


#include <stdio.h>
#include <string.h>

#include "vks_cluster_lease.h"


#define VKS_CLUSTER_LEASE_S_IDLE     0    /* not held, nothing known */
#define VKS_CLUSTER_LEASE_S_HELD     1    /* ours, maybe no longer valid */
#define VKS_CLUSTER_LEASE_S_OTHER    2    /* another node's */
#define VKS_CLUSTER_LEASE_S_STOPPED  3    /* released: no more commands */


static uint64_t vks_cluster_lease_holder_token(const char *holder);


int
vks_cluster_lease_init(vks_cluster_lease_t *l, const char *node,
    uint64_t ttl_ms)
{
    size_t  len;

    if (node == NULL) {
        return -1;
    }

    len = strlen(node);

    if (vks_cluster_keys_node_check(node, len) != NULL) {
        return -1;
    }

    memset(l, 0, sizeof(vks_cluster_lease_t));
    memcpy(l->node, node, len + 1);

    if (ttl_ms == 0) {
        ttl_ms = VKS_CLUSTER_TTL_DEFAULT_MS;

    } else if (ttl_ms < VKS_CLUSTER_TTL_MIN_MS) {
        ttl_ms = VKS_CLUSTER_TTL_MIN_MS;

    } else if (ttl_ms > VKS_CLUSTER_TTL_MAX_MS) {
        ttl_ms = VKS_CLUSTER_TTL_MAX_MS;
    }

    /* three renewals per TTL: one lost or slow answer costs nothing */
    l->ttl_ms = ttl_ms;
    l->renew_ms = ttl_ms / 3;
    l->retry_ms = ttl_ms / 10;
    l->margin_ms = ttl_ms / 10;
    l->state = VKS_CLUSTER_LEASE_S_IDLE;

    return 0;
}


vks_cluster_lease_action_e
vks_cluster_lease_action(const vks_cluster_lease_t *l, uint64_t now)
{
    if (l->state == VKS_CLUSTER_LEASE_S_STOPPED || now < l->next_at) {
        return VKS_CLUSTER_LEASE_WAIT;
    }

    return l->state == VKS_CLUSTER_LEASE_S_HELD ? VKS_CLUSTER_LEASE_RENEW
                                                : VKS_CLUSTER_LEASE_ACQUIRE;
}


void
vks_cluster_lease_result(vks_cluster_lease_t *l,
    vks_cluster_lease_action_e action, uint64_t sent_at, uint64_t now,
    const vks_cluster_lease_reply_t *reply)
{
    int       held;
    uint64_t  t, wait;

    held = (l->state == VKS_CLUSTER_LEASE_S_HELD);

    /* an answer to a question the machine did not ask: ignored */
    if (l->state == VKS_CLUSTER_LEASE_S_STOPPED
        || (action == VKS_CLUSTER_LEASE_RENEW && !held)
        || (action == VKS_CLUSTER_LEASE_ACQUIRE && held)
        || (action != VKS_CLUSTER_LEASE_RENEW
            && action != VKS_CLUSTER_LEASE_ACQUIRE))
    {
        return;
    }

    /*
     * a token that does not grow is as good as no answer: fencing would
     * order this holder's work before an older holder's
     */
    if (reply == NULL || reply->status == VKS_CLUSTER_LEASE_ERROR
        || (action == VKS_CLUSTER_LEASE_ACQUIRE
            && reply->status == VKS_CLUSTER_LEASE_WON
            && reply->token <= l->seen))
    {
        /* a lease held stays valid until valid_until, not beyond */
        l->answered = 0;
        l->errors++;
        l->next_at = now + l->retry_ms;
        return;
    }

    l->answered = 1;

    if (reply->status == VKS_CLUSTER_LEASE_WON) {

        /* PX started in Redis after sent_at: counting from it is safe */
        t = sent_at + l->ttl_ms - l->margin_ms;

        if (action == VKS_CLUSTER_LEASE_ACQUIRE) {
            l->state = VKS_CLUSTER_LEASE_S_HELD;
            l->token = reply->token;
            l->seen = reply->token;
            l->holder[0] = '\0';
            l->valid_until = t;
            l->acquisitions++;

            snprintf(l->value, sizeof(l->value), "%llu:%s",
                     (unsigned long long) l->token, l->node);

        } else if (t > l->valid_until) {
            l->valid_until = t;
        }

        l->next_at = sent_at + l->renew_ms;
        return;
    }

    /* TAKEN */

    if (held) {
        /* lost (expired, or taken after expiry): try again at once */
        l->state = VKS_CLUSTER_LEASE_S_IDLE;
        l->token = 0;
        l->value[0] = '\0';
        l->valid_until = 0;
        l->losses++;
        l->next_at = now;
        return;
    }

    l->state = VKS_CLUSTER_LEASE_S_OTHER;
    memcpy(l->holder, reply->holder, sizeof(l->holder));
    l->holder[sizeof(l->holder) - 1] = '\0';

    t = vks_cluster_lease_holder_token(l->holder);
    if (t > l->seen) {
        l->seen = t;
    }

    /* try again when it expires, or poll (a lease without PX, planted) */
    wait = l->renew_ms;

    if (reply->pttl_ms >= 0 && (uint64_t) reply->pttl_ms < wait) {
        wait = (uint64_t) reply->pttl_ms + 1;
    }

    l->next_at = now + wait;
}


vks_cluster_lease_verdict_e
vks_cluster_lease_verdict(const vks_cluster_lease_t *l, uint64_t now)
{
    if (l->state == VKS_CLUSTER_LEASE_S_HELD && now < l->valid_until) {
        return VKS_CLUSTER_LEASE_MINE;
    }

    if (l->state == VKS_CLUSTER_LEASE_S_OTHER && l->answered) {
        return VKS_CLUSTER_LEASE_THEIRS;
    }

    return VKS_CLUSTER_LEASE_UNKNOWN;
}


uint64_t
vks_cluster_lease_token(const vks_cluster_lease_t *l, uint64_t now)
{
    if (vks_cluster_lease_verdict(l, now) != VKS_CLUSTER_LEASE_MINE) {
        return 0;
    }

    return l->token;
}


uint64_t
vks_cluster_lease_floor(const vks_cluster_lease_t *l)
{
    return l->seen;
}


uint64_t
vks_cluster_lease_wait(const vks_cluster_lease_t *l, uint64_t now)
{
    uint64_t  t;

    if (l->state == VKS_CLUSTER_LEASE_S_STOPPED) {
        return UINT64_MAX;
    }

    t = l->next_at;

    if (l->state == VKS_CLUSTER_LEASE_S_HELD && l->valid_until > now
        && l->valid_until < t)
    {
        t = l->valid_until;
    }

    return t > now ? t - now : 0;
}


const char *
vks_cluster_lease_release(vks_cluster_lease_t *l)
{
    int  held;

    held = (l->state == VKS_CLUSTER_LEASE_S_HELD);

    l->state = VKS_CLUSTER_LEASE_S_STOPPED;
    l->token = 0;

    return held ? l->value : NULL;
}


/*
 * "TOKEN:NODE" as another node wrote it; 0 for anything else, including a
 * token beyond Redis's integers (INCR could never go past it)
 */

static uint64_t
vks_cluster_lease_holder_token(const char *holder)
{
    size_t    i;
    uint64_t  v;

    v = 0;

    for (i = 0; holder[i] >= '0' && holder[i] <= '9'; i++) {
        if (v > ((uint64_t) INT64_MAX - 9) / 10) {
            return 0;
        }

        v = v * 10 + (uint64_t) (holder[i] - '0');
    }

    return (i > 0 && holder[i] == ':') ? v : 0;
}
