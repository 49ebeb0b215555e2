
/*
 * vkstream cluster: the VK lease, as a state machine with no I/O and the
 * time given by the caller (monotonic milliseconds), so every decision is
 * testable without Redis.  One node of the cluster at a time holds the
 * lease and runs the VK client; the lease lives in Redis (see
 * vks_cluster_redis.h for the commands) as
 *
 *   PREFIXvk:lease = "TOKEN:NODE"  PX ttl
 *
 * TOKEN is the fencing token: PREFIXvk:fence INCRed by the same Lua
 * script that sets the lease, so tokens grow with every acquisition, in
 * acquisition order, and are never shared.  Later code tags VK work (rule
 * changes, filed matches) with it; anything tagged with a smaller token
 * than the newest seen comes from a holder that lost the lease.
 *
 * The loop, in the thread that talks to Redis:
 *
 *   a = vks_cluster_lease_action(l, now);
 *   if (a != VKS_CLUSTER_LEASE_WAIT) {
 *       sent = now;  ... acquire or renew in Redis into reply ...
 *       vks_cluster_lease_result(l, a, sent, now2, &reply);
 *   }
 *   run VK only while vks_cluster_lease_verdict(l, now) is MINE;
 *   sleep at most vks_cluster_lease_wait(l, now) ms.
 *
 * Timing (ttl T): the holder renews every T/3 and after an error retries
 * every T/10.  Its lease counts from the moment the command was sent (the
 * key's PX started later, in Redis), less a margin of T/10 for the time
 * the glue needs to notice and close the VK connection; when that passes
 * without a confirmed renewal (Redis unreachable, answers garbage) the
 * verdict turns UNKNOWN and VK must stop, before any other node can take
 * over.  A node that finds the lease taken tries again when its PTTL says
 * it will expire (at most T/3 later), so a dead holder is replaced within
 * T plus one retry.
 * Plain C, no nginx types.
 */


#ifndef _VKS_CLUSTER_LEASE_H_INCLUDED_
#define _VKS_CLUSTER_LEASE_H_INCLUDED_


#include <stdint.h>

#include "vks_cluster_keys.h"


#define VKS_CLUSTER_TTL_DEFAULT_MS   5000
#define VKS_CLUSTER_TTL_MIN_MS       30
#define VKS_CLUSTER_TTL_MAX_MS       3600000

/* "TOKEN:NODE", TOKEN at most 20 digits */
#define VKS_CLUSTER_LEASE_VALUE_MAX  (20 + 1 + VKS_CLUSTER_NODE_MAX)


typedef enum {
    VKS_CLUSTER_LEASE_UNKNOWN = 0,    /* no valid lease and no answer */
    VKS_CLUSTER_LEASE_MINE,           /* run VK, tagged with the token */
    VKS_CLUSTER_LEASE_THEIRS          /* another node holds it */
} vks_cluster_lease_verdict_e;


typedef enum {
    VKS_CLUSTER_LEASE_WAIT = 0,
    VKS_CLUSTER_LEASE_ACQUIRE,
    VKS_CLUSTER_LEASE_RENEW
} vks_cluster_lease_action_e;


/* Redis's answer to an acquisition or a renewal. */
typedef enum {
    VKS_CLUSTER_LEASE_ERROR = 0,      /* none, or not one we expect */
    VKS_CLUSTER_LEASE_WON,            /* acquired (token) or renewed */
    VKS_CLUSTER_LEASE_TAKEN           /* held by another (or, on renewal,
                                         no longer by us) */
} vks_cluster_lease_status_e;


typedef struct {
    vks_cluster_lease_status_e  status;
    uint64_t                    token;     /* WON on acquisition */
    /* TAKEN on acquisition: the lease's value as found (printable bytes
       only, cut) and its remaining time (-1: none or unknown) */
    char                        holder[VKS_CLUSTER_LEASE_VALUE_MAX + 1];
    int64_t                     pttl_ms;
} vks_cluster_lease_reply_t;


typedef struct {
    char       node[VKS_CLUSTER_NODE_MAX + 1];
    char       value[VKS_CLUSTER_LEASE_VALUE_MAX + 1]; /* ours, if held */
    char       holder[VKS_CLUSTER_LEASE_VALUE_MAX + 1]; /* THEIRS: who */

    uint64_t   ttl_ms;
    uint64_t   renew_ms;
    uint64_t   retry_ms;
    uint64_t   margin_ms;

    int        state;
    unsigned   answered:1;        /* the last command had an answer */

    uint64_t   token;             /* ours, while held */
    uint64_t   seen;              /* the largest token seen, any holder */
    uint64_t   valid_until;       /* held: VK may run until then */
    uint64_t   next_at;           /* the next command */

    uint64_t   acquisitions;
    uint64_t   losses;            /* held, then refused a renewal */
    uint64_t   errors;
} vks_cluster_lease_t;


/*
 * node must pass vks_cluster_keys_node_check(); ttl_ms is clamped to
 * VKS_CLUSTER_TTL_MIN_MS..VKS_CLUSTER_TTL_MAX_MS (0 is the default).
 * Returns 0 or -1 (bad node).
 */
int vks_cluster_lease_init(vks_cluster_lease_t *l, const char *node,
    uint64_t ttl_ms);

/* What to send to Redis now (WAIT: nothing yet). */
vks_cluster_lease_action_e vks_cluster_lease_action(
    const vks_cluster_lease_t *l, uint64_t now);

/*
 * The answer to the action returned by vks_cluster_lease_action(), sent
 * at sent_at and answered (or failed) at now.
 */
void vks_cluster_lease_result(vks_cluster_lease_t *l,
    vks_cluster_lease_action_e action, uint64_t sent_at, uint64_t now,
    const vks_cluster_lease_reply_t *reply);

vks_cluster_lease_verdict_e vks_cluster_lease_verdict(
    const vks_cluster_lease_t *l, uint64_t now);

/* The fencing token while the verdict is MINE, 0 otherwise. */
uint64_t vks_cluster_lease_token(const vks_cluster_lease_t *l, uint64_t now);

/*
 * The value vks_cluster_redis_lease_acquire() is to pass as the floor of
 * the next token: the largest token this node has seen, so that a Redis
 * emptied by a restart without persistence does not hand out old tokens
 * again.
 */
uint64_t vks_cluster_lease_floor(const vks_cluster_lease_t *l);

/* Milliseconds until the next action or verdict change (0: now). */
uint64_t vks_cluster_lease_wait(const vks_cluster_lease_t *l, uint64_t now);

/*
 * On a clean exit: stops the machine (no more actions, verdict UNKNOWN)
 * and returns the value to delete with vks_cluster_redis_lease_release()
 * (compare-and-delete), or NULL when not held.  The string stays valid in
 * l.
 */
const char *vks_cluster_lease_release(vks_cluster_lease_t *l);


#endif /* _VKS_CLUSTER_LEASE_H_INCLUDED_ */
