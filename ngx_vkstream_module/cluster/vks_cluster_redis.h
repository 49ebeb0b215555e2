
/*
 * vkstream cluster: a small blocking Redis client (hiredis) for the one
 * thread of a worker that talks to Redis; the event loop never waits on
 * it.  Every call returns VKS_CLUSTER_OK or an error code with a reason in
 * r->err, which never holds the password (only Redis's own messages and
 * hiredis's, cut to printable ASCII).  Every answer is checked against
 * what vkstream wrote: other writers in the prefix, or a hostile Redis,
 * get an error (VKS_CLUSTER_EREPLY), never a crash or an unbounded copy.
 *
 * After VKS_CLUSTER_EIO (refused, timed out, closed) the connection is
 * closed, since an answer may still be on its way; the caller reconnects
 * (with vks_vk_backoff_t, say).  A write to a connection the server closed
 * raises SIGPIPE: nginx workers ignore it, other callers must too.
 * Plain C, no nginx types (hiredis's only in the .c).
 */


#ifndef _VKS_CLUSTER_REDIS_H_INCLUDED_
#define _VKS_CLUSTER_REDIS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "vks_cluster_url.h"
#include "vks_cluster_keys.h"
#include "vks_cluster_lease.h"


#define VKS_CLUSTER_OK                0
#define VKS_CLUSTER_EIO              -1   /* connection lost: reconnect */
#define VKS_CLUSTER_EREPLY           -2   /* an error or unexpected answer */
#define VKS_CLUSTER_EARG             -3   /* the caller's arguments */

#define VKS_CLUSTER_ERR_LEN           160
#define VKS_CLUSTER_TIMEOUT_DEFAULT   1000     /* ms */

/* the records vkstream writes, and so the most it accepts back */
#define VKS_CLUSTER_FIELDS_MAX        16
#define VKS_CLUSTER_FIELD_NAME_MAX    32
#define VKS_CLUSTER_FIELD_VALUE_MAX   524288   /* a node's streams */
#define VKS_CLUSTER_STREAM_ID_MAX     41       /* "MS-SEQ", 20 digits each */
#define VKS_CLUSTER_READ_MAX          1000     /* entries per read */
#define VKS_CLUSTER_NODES_MAX         1000


typedef struct {
    const char  *name;                /* NUL-terminated */
    const char  *value;               /* len bytes, binary-safe */
    size_t       len;
} vks_cluster_field_t;


/* A hash or a stream entry read back; free with vks_cluster_record_free */
typedef struct {
    char                 id[VKS_CLUSTER_STREAM_ID_MAX + 1]; /* entries */
    const char          *invalid;     /* the entry broke a limit: why */
    size_t               nfields;
    vks_cluster_field_t  fields[VKS_CLUSTER_FIELDS_MAX];
    char                *data;        /* names and values, NUL after each */
} vks_cluster_record_t;


struct redisContext;

typedef struct {
    struct redisContext  *ctx;
    unsigned              timeout_ms;
    char                  err[VKS_CLUSTER_ERR_LEN];
} vks_cluster_redis_t;


/*
 * Connects (closing any previous connection) within timeout_ms (0: the
 * default), which also bounds every later command; then AUTH (user and
 * password, or password) when the URL has one, SELECT when db is not 0,
 * and PING, so a missing password shows here ("PING: NOAUTH ...").
 */
int vks_cluster_redis_connect(vks_cluster_redis_t *r,
    const vks_cluster_url_t *u, unsigned timeout_ms);

void vks_cluster_redis_close(vks_cluster_redis_t *r);


/*
 * The lease (see vks_cluster_lease.h); each fills reply->status (ERROR
 * when the call fails) for vks_cluster_lease_result().  All are one Lua
 * script each (EVAL): one round trip, atomic, and no connection state left
 * behind by a timeout, unlike WATCH/MULTI.
 *
 * acquire: if PREFIXvk:lease exists, TAKEN with its value and PTTL;
 * otherwise INCR PREFIXvk:fence (first raised past floor, the largest
 * token this node has seen) and SET PREFIXvk:lease "TOKEN:NODE" NX PX ttl:
 * WON with TOKEN.
 */
int vks_cluster_redis_lease_acquire(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, const char *node, uint64_t ttl_ms,
    uint64_t floor, vks_cluster_lease_reply_t *reply);

/* PEXPIRE only if the value is still ours: WON, or TAKEN (lost). */
int vks_cluster_redis_lease_renew(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, const char *value, uint64_t ttl_ms,
    vks_cluster_lease_reply_t *reply);

/* DEL only if the value is still ours; *released says whether it was. */
int vks_cluster_redis_lease_release(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, const char *value, int *released);


/*
 * The node's heartbeat, in one MULTI/EXEC, so that a record never lives
 * without its TTL: DEL and HSET PREFIXnode:NODE (n fields), PEXPIRE ttl,
 * ZADD PREFIXnodes now_ms NODE (now_ms: wall clock) dropping entries older
 * than 10 TTLs, and PEXPIRE PREFIXnodes 10 TTLs (gone with the cluster).
 */
int vks_cluster_redis_heartbeat(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, const char *node,
    const vks_cluster_field_t *fields, size_t n, uint64_t ttl_ms,
    uint64_t now_ms);

/* HGETALL PREFIXnode:NODE; an expired node has no fields. */
int vks_cluster_redis_node_read(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, const char *node, vks_cluster_record_t *rec);

/*
 * The names of the nodes whose last heartbeat is at since_ms or later
 * (ZRANGEBYSCORE), at most max; names that are not valid node names
 * (another writer's) are skipped.
 */
int vks_cluster_redis_nodes(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, uint64_t since_ms,
    char (*names)[VKS_CLUSTER_NODE_MAX + 1], size_t max, size_t *n);


/*
 * XADD PREFIXevents MAXLEN ~ maxlen * FIELD VALUE...: the stream keeps
 * about the newest maxlen entries (Redis trims whole nodes, so somewhat
 * more).  id (VKS_CLUSTER_STREAM_ID_MAX + 1 bytes) gets the new entry's
 * ID.
 */
int vks_cluster_redis_event_add(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, size_t maxlen,
    const vks_cluster_field_t *fields, size_t n, char *id);

/*
 * XREAD COUNT count [BLOCK block_ms] STREAMS PREFIXevents after: at most
 * count (<= VKS_CLUSTER_READ_MAX) entries after the ID after ("0": from
 * the start, "$": only new ones, with block_ms), into recs; *n of them.
 * block_ms 0 does not block.  An entry beyond the limits (too many fields,
 * long values: another writer's) comes back with its id and a reason in
 * invalid, so the reader can log it and go past it.
 */
int vks_cluster_redis_event_read(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, const char *after, size_t count,
    unsigned block_ms, vks_cluster_record_t *recs, size_t *n);

void vks_cluster_record_free(vks_cluster_record_t *rec);


/*
 * The global rules, one JSON document (the glue's format) at
 * PREFIXrules, at most VKS_CLUSTER_FIELD_VALUE_MAX bytes.  get: *value
 * (malloc()ed, NUL-terminated; free() it) is NULL when the key does not
 * exist.
 */
int vks_cluster_redis_rules_set(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, const char *value, size_t len);
int vks_cluster_redis_rules_get(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, char **value, size_t *len);


#endif /* _VKS_CLUSTER_REDIS_H_INCLUDED_ */
