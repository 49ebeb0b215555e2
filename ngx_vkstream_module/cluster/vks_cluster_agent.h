
/*
 * vkstream cluster: the agent, the part of one worker (of each node) that
 * talks to Redis, in two threads of its own so that the event loop never
 * waits on the network:
 *
 *   the agent thread holds or follows the VK lease (vks_cluster_lease.h),
 *   writes this node's record (heartbeat) every TTL/3 and at once when it
 *   changes, reads the other nodes' records, the global rules, and sends
 *   what the event loop queued (matches, control requests) to the
 *   PREFIXevents stream;
 *
 *   the reader thread blocks on XREAD of PREFIXevents (its own
 *   connection) and hands the entries other nodes wrote to the event loop;
 *   "node" and "rules" notes make the agent thread re-read at once.
 *
 * Each change for the event loop calls conf->notify (from a thread: it
 * must be thread-safe, e.g. an eventfd write); the event loop then takes
 * what is new with the calls below, which copy under the agent's mutex.
 * Connections are retried with vks_vk_backoff_t (0.2 s to 5 s).
 * Plain C, no nginx types.
 */


#ifndef _VKS_CLUSTER_AGENT_H_INCLUDED_
#define _VKS_CLUSTER_AGENT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "vks_cluster_redis.h"


#define VKS_CLUSTER_AGENT_OUTBOX_MAX   10000   /* entries waiting to go */
#define VKS_CLUSTER_AGENT_INBOX_MAX    20000   /* entries not yet taken */
#define VKS_CLUSTER_AGENT_EVENTS_MAX   10000   /* MAXLEN ~ of the stream */
#define VKS_CLUSTER_AGENT_BLOCK_MS     500     /* XREAD BLOCK */

/* fields every entry of PREFIXevents carries */
#define VKS_CLUSTER_F_TYPE    "type"     /* "node", "rules", "match", "cmd" */
#define VKS_CLUSTER_F_FROM    "from"     /* the writing node */


typedef enum {
    VKS_CLUSTER_REDIS_CONNECTING = 0,    /* never connected yet */
    VKS_CLUSTER_REDIS_CONNECTED,
    VKS_CLUSTER_REDIS_DISCONNECTED       /* lost it, or never reached it */
} vks_cluster_redis_state_e;


typedef struct {
    vks_cluster_url_t    url;              /* copied */
    const char          *prefix;           /* NULL: the default */
    const char          *node;             /* checked by the caller */
    uint64_t             ttl_ms;
    size_t               events_max;       /* 0: the default */
    void               (*notify)(void *data);
    void                *notify_data;
    uint32_t             seed;             /* backoff jitter */
    int                  contend;          /* 0: never takes the VK lease
                                              (no VK on this node) */
} vks_cluster_agent_conf_t;


typedef struct {
    vks_cluster_redis_state_e    redis;
    uint64_t                     redis_since_ms;  /* wall clock */
    vks_cluster_lease_verdict_e  verdict;
    uint64_t                     token;           /* ours, while MINE */
    uint64_t                     seen;            /* largest token seen */
    char                         holder[VKS_CLUSTER_NODE_MAX + 1];
    char                         last_error[VKS_CLUSTER_ERR_LEN];

    uint64_t                     heartbeats;
    uint64_t                     reconnects;
    uint64_t                     errors;
    uint64_t                     sent;            /* entries XADDed */
    uint64_t                     received;        /* entries taken in */
    uint64_t                     dropped;         /* outbox/inbox full */
    uint64_t                     invalid;         /* foreign entries */
    uint64_t                     acquisitions;
    uint64_t                     losses;
} vks_cluster_agent_status_t;


/* the other nodes' records as last read (this node's is not among them) */
typedef struct {
    size_t                       n;
    char                       (*names)[VKS_CLUSTER_NODE_MAX + 1];
    vks_cluster_record_t        *recs;     /* fields of PREFIXnode:NAME */
    uint64_t                     read_ms;  /* wall clock of the read */
    int                          valid;    /* 0: Redis lost, none known */
} vks_cluster_view_t;


typedef struct vks_cluster_agent_s  vks_cluster_agent_t;


/* Starts both threads; NULL with a reason in err. */
vks_cluster_agent_t *vks_cluster_agent_start(
    const vks_cluster_agent_conf_t *conf, char *err, size_t errlen);

/*
 * Stops the threads (within about VKS_CLUSTER_AGENT_BLOCK_MS plus one
 * Redis timeout), releasing the lease first when held, and frees all.
 */
void vks_cluster_agent_stop(vks_cluster_agent_t *a);


/* --- from the event loop ------------------------------------------------ */

/*
 * This node's record, written with every heartbeat; "changed" writes it
 * now and tells the other nodes (a "node" note), for a publish or an end.
 */
int vks_cluster_agent_set_record(vks_cluster_agent_t *a,
    const vks_cluster_field_t *fields, size_t n, int changed);

/*
 * Queues an entry for PREFIXevents (the agent adds "from"); -1 when the
 * outbox is full (counted as dropped).
 */
int vks_cluster_agent_send(vks_cluster_agent_t *a,
    const vks_cluster_field_t *fields, size_t n);

/* Stores the global rules document and sends a "rules" note. */
int vks_cluster_agent_set_rules(vks_cluster_agent_t *a, const char *json,
    size_t len);


/* --- to the event loop -------------------------------------------------- */

void vks_cluster_agent_status(vks_cluster_agent_t *a,
    vks_cluster_agent_status_t *st);

/*
 * The newest view of the other nodes, when it changed since the last
 * call (1; 0: nothing new).  Free with vks_cluster_view_free().
 */
int vks_cluster_agent_take_view(vks_cluster_agent_t *a,
    vks_cluster_view_t *view);
void vks_cluster_view_free(vks_cluster_view_t *view);

/*
 * The global rules document read from Redis, when it changed (1; 0:
 * nothing new).  *json is malloc()ed (free() it), NULL when Redis has none.
 */
int vks_cluster_agent_take_rules(vks_cluster_agent_t *a, char **json,
    size_t *len);

/*
 * Up to max entries other nodes wrote ("match" and "cmd"), oldest first;
 * returns how many.  Free each with vks_cluster_record_free().
 */
size_t vks_cluster_agent_take_events(vks_cluster_agent_t *a,
    vks_cluster_record_t *recs, size_t max);

/* A field's value in a record, NULL when absent; *len its length. */
const char *vks_cluster_record_get(const vks_cluster_record_t *rec,
    const char *name, size_t *len);


#endif /* _VKS_CLUSTER_AGENT_H_INCLUDED_ */
