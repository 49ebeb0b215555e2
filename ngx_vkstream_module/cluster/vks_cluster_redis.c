
/*
 * vkstream cluster: the blocking Redis client (see vks_cluster_redis.h).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "vks_cluster_redis.h"


#define VKS_CLUSTER_REDIS_NUM_LEN   24     /* a 64-bit number, NUL */

/* MULTI, DEL, HSET, PEXPIRE, ZADD, ZREMRANGEBYSCORE, PEXPIRE, EXEC */
#define VKS_CLUSTER_REDIS_HB_CMDS   8


/*
 * KEYS: lease, fence; ARGV: node, ttl, floor.  GET returns the exact
 * decimal string of the counter (a Lua number would print 1e+15 for large
 * ones); the floor keeps tokens growing after Redis lost the counter.
 */
static const char  vks_cluster_redis_acquire_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v then\n"
    "  return {0, v, redis.call('PTTL', KEYS[1])}\n"
    "end\n"
    "if redis.call('INCR', KEYS[2]) <= tonumber(ARGV[3]) then\n"
    "  redis.call('SET', KEYS[2], ARGV[3])\n"
    "  redis.call('INCR', KEYS[2])\n"
    "end\n"
    "local t = redis.call('GET', KEYS[2])\n"
    "redis.call('SET', KEYS[1], t .. ':' .. ARGV[1], 'NX', 'PX', ARGV[2])\n"
    "return {1, t}\n";

/* KEYS: lease; ARGV: our value, ttl */
static const char  vks_cluster_redis_renew_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  return redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "end\n"
    "return 0\n";

/* KEYS: lease; ARGV: our value */
static const char  vks_cluster_redis_release_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  return redis.call('DEL', KEYS[1])\n"
    "end\n"
    "return 0\n";


static int vks_cluster_redis_call(vks_cluster_redis_t *r, const char *what,
    int argc, const char **argv, const size_t *lens, redisReply **out);
static int vks_cluster_redis_if_ours(vks_cluster_redis_t *r,
    const char *what, const char *script, const vks_cluster_keys_t *k,
    const char *value, const char *ttl, int *done);
static int vks_cluster_redis_eval(vks_cluster_redis_t *r, const char *what,
    const char *script, int nkeys, int nparams, const char **params,
    redisReply **out);
static int vks_cluster_redis_io(vks_cluster_redis_t *r, const char *what);
static int vks_cluster_redis_bad(vks_cluster_redis_t *r, const char *what,
    const char *reason);
static int vks_cluster_redis_error(vks_cluster_redis_t *r, const char *what,
    const redisReply *rep);
static void vks_cluster_redis_text(char *dst, size_t size, const char *s,
    size_t len);
static void vks_cluster_redis_timeout(vks_cluster_redis_t *r, unsigned ms);
static int vks_cluster_redis_integer(const redisReply *e, uint64_t *v);
static int vks_cluster_redis_id(const char *s, size_t len);
static int vks_cluster_redis_fields(vks_cluster_redis_t *r, const char *what,
    const vks_cluster_field_t *fields, size_t n);
static const char *vks_cluster_redis_record(vks_cluster_record_t *rec,
    const redisReply *a);
static int vks_cluster_redis_entries(vks_cluster_redis_t *r,
    const char *key, const redisReply *rep, size_t count,
    vks_cluster_record_t *recs, size_t *n);


int
vks_cluster_redis_connect(vks_cluster_redis_t *r, const vks_cluster_url_t *u,
    unsigned timeout_ms)
{
    int              argc, rc;
    char             db[VKS_CLUSTER_REDIS_NUM_LEN];
    size_t           lens[3];
    const char      *argv[3];
    redisReply      *rep;
    struct timeval   tv;

    vks_cluster_redis_close(r);

    r->err[0] = '\0';
    r->timeout_ms = timeout_ms ? timeout_ms : VKS_CLUSTER_TIMEOUT_DEFAULT;

    tv.tv_sec = r->timeout_ms / 1000;
    tv.tv_usec = (r->timeout_ms % 1000) * 1000;

    if (u->type == VKS_CLUSTER_URL_UNIX) {
        r->ctx = redisConnectUnixWithTimeout(u->path, tv);

    } else {
        r->ctx = redisConnectWithTimeout(u->host, (int) u->port, tv);
    }

    if (r->ctx == NULL) {
        snprintf(r->err, sizeof(r->err), "connect: out of memory");
        return VKS_CLUSTER_EIO;
    }

    if (r->ctx->err || redisSetTimeout(r->ctx, tv) != REDIS_OK) {
        return vks_cluster_redis_io(r, "connect");
    }

    /* the password only ever goes into argv, never into a format */
    if (u->password[0]) {
        argc = 0;
        argv[argc] = "AUTH";
        lens[argc++] = 4;

        if (u->user[0]) {
            argv[argc] = u->user;
            lens[argc++] = strlen(u->user);
        }

        argv[argc] = u->password;
        lens[argc++] = strlen(u->password);

        rc = vks_cluster_redis_call(r, "AUTH", argc, argv, lens, &rep);
        if (rc != VKS_CLUSTER_OK) {
            goto failed;
        }

        freeReplyObject(rep);
    }

    if (u->db) {
        snprintf(db, sizeof(db), "%u", u->db);
        argv[0] = "SELECT";
        lens[0] = 6;
        argv[1] = db;
        lens[1] = strlen(db);

        rc = vks_cluster_redis_call(r, "SELECT", 2, argv, lens, &rep);
        if (rc != VKS_CLUSTER_OK) {
            goto failed;
        }

        freeReplyObject(rep);
    }

    argv[0] = "PING";
    lens[0] = 4;

    rc = vks_cluster_redis_call(r, "PING", 1, argv, lens, &rep);
    if (rc != VKS_CLUSTER_OK) {
        goto failed;
    }

    if (rep->type != REDIS_REPLY_STATUS || rep->len != 4
        || memcmp(rep->str, "PONG", 4) != 0)
    {
        freeReplyObject(rep);
        rc = vks_cluster_redis_bad(r, "PING", "not answered PONG");
        goto failed;
    }

    freeReplyObject(rep);

    return VKS_CLUSTER_OK;

failed:

    /* half set up (no AUTH, another db) is never left connected */
    if (r->ctx) {
        redisFree(r->ctx);
        r->ctx = NULL;
    }

    return rc;
}


void
vks_cluster_redis_close(vks_cluster_redis_t *r)
{
    if (r->ctx) {
        redisFree(r->ctx);
        r->ctx = NULL;
    }
}


int
vks_cluster_redis_lease_acquire(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, const char *node, uint64_t ttl_ms,
    uint64_t floor, vks_cluster_lease_reply_t *reply)
{
    int                rc;
    char               lease[VKS_CLUSTER_KEY_MAX + 1];
    char               fence[VKS_CLUSTER_KEY_MAX + 1];
    char               ttl[VKS_CLUSTER_REDIS_NUM_LEN];
    char               fl[VKS_CLUSTER_REDIS_NUM_LEN];
    uint64_t           token;
    const char        *params[5];
    redisReply        *rep, *e0, *e1, *e2;

    memset(reply, 0, sizeof(vks_cluster_lease_reply_t));
    reply->status = VKS_CLUSTER_LEASE_ERROR;
    reply->pttl_ms = -1;

    if (node == NULL || vks_cluster_keys_node_check(node, strlen(node))
        || ttl_ms == 0 || ttl_ms > INT32_MAX || floor > INT64_MAX - 1
        || vks_cluster_keys_make(k, VKS_CLUSTER_KEY_LEASE, NULL, lease,
                                 sizeof(lease)) < 0
        || vks_cluster_keys_make(k, VKS_CLUSTER_KEY_FENCE, NULL, fence,
                                 sizeof(fence)) < 0)
    {
        return vks_cluster_redis_bad(r, "lease acquire", "bad arguments");
    }

    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long) ttl_ms);
    snprintf(fl, sizeof(fl), "%llu", (unsigned long long) floor);

    params[0] = lease;
    params[1] = fence;
    params[2] = node;
    params[3] = ttl;
    params[4] = fl;

    rc = vks_cluster_redis_eval(r, "lease acquire",
                                vks_cluster_redis_acquire_lua, 2, 5, params,
                                &rep);
    if (rc != VKS_CLUSTER_OK) {
        return rc;
    }

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 2
        || rep->element[0]->type != REDIS_REPLY_INTEGER)
    {
        goto bad;
    }

    e0 = rep->element[0];
    e1 = rep->element[1];

    if (e0->integer == 1 && rep->elements == 2) {
        if (vks_cluster_redis_integer(e1, &token) != 0 || token == 0) {
            goto bad;
        }

        reply->status = VKS_CLUSTER_LEASE_WON;
        reply->token = token;

    } else if (e0->integer == 0 && rep->elements == 3
               && e1->type == REDIS_REPLY_STRING
               && rep->element[2]->type == REDIS_REPLY_INTEGER)
    {
        e2 = rep->element[2];

        reply->status = VKS_CLUSTER_LEASE_TAKEN;
        vks_cluster_redis_text(reply->holder, sizeof(reply->holder), e1->str,
                               e1->len);
        reply->pttl_ms = e2->integer < 0 ? -1 : e2->integer;

    } else {
        goto bad;
    }

    freeReplyObject(rep);

    return VKS_CLUSTER_OK;

bad:

    freeReplyObject(rep);

    return vks_cluster_redis_bad(r, "lease acquire", "unexpected answer");
}


int
vks_cluster_redis_lease_renew(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, const char *value, uint64_t ttl_ms,
    vks_cluster_lease_reply_t *reply)
{
    int   rc, renewed;
    char  ttl[VKS_CLUSTER_REDIS_NUM_LEN];

    memset(reply, 0, sizeof(vks_cluster_lease_reply_t));
    reply->status = VKS_CLUSTER_LEASE_ERROR;
    reply->pttl_ms = -1;

    if (ttl_ms == 0 || ttl_ms > INT32_MAX) {
        return vks_cluster_redis_bad(r, "lease renew", "bad arguments");
    }

    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long) ttl_ms);

    rc = vks_cluster_redis_if_ours(r, "lease renew",
                                   vks_cluster_redis_renew_lua, k, value,
                                   ttl, &renewed);
    if (rc != VKS_CLUSTER_OK) {
        return rc;
    }

    reply->status = renewed ? VKS_CLUSTER_LEASE_WON : VKS_CLUSTER_LEASE_TAKEN;

    return VKS_CLUSTER_OK;
}


int
vks_cluster_redis_lease_release(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, const char *value, int *released)
{
    return vks_cluster_redis_if_ours(r, "lease release",
                                     vks_cluster_redis_release_lua, k, value,
                                     NULL, released);
}


/* a compare-and-something script on the lease; its 0 or 1 into *done */

static int
vks_cluster_redis_if_ours(vks_cluster_redis_t *r, const char *what,
    const char *script, const vks_cluster_keys_t *k, const char *value,
    const char *ttl, int *done)
{
    int           rc;
    char          lease[VKS_CLUSTER_KEY_MAX + 1];
    const char   *params[3];
    redisReply   *rep;

    *done = 0;

    if (value == NULL || value[0] == '\0'
        || vks_cluster_keys_make(k, VKS_CLUSTER_KEY_LEASE, NULL, lease,
                                 sizeof(lease)) < 0)
    {
        return vks_cluster_redis_bad(r, what, "bad arguments");
    }

    params[0] = lease;
    params[1] = value;
    params[2] = ttl;

    rc = vks_cluster_redis_eval(r, what, script, 1, ttl ? 3 : 2, params,
                                &rep);
    if (rc != VKS_CLUSTER_OK) {
        return rc;
    }

    if (rep->type != REDIS_REPLY_INTEGER
        || (rep->integer != 0 && rep->integer != 1))
    {
        freeReplyObject(rep);
        return vks_cluster_redis_bad(r, what, "unexpected answer");
    }

    *done = (int) rep->integer;

    freeReplyObject(rep);

    return VKS_CLUSTER_OK;
}


int
vks_cluster_redis_heartbeat(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, const char *node,
    const vks_cluster_field_t *fields, size_t n, uint64_t ttl_ms,
    uint64_t now_ms)
{
    int           rc, argc;
    char          key[VKS_CLUSTER_KEY_MAX + 1];
    char          nodes[VKS_CLUSTER_KEY_MAX + 1];
    char          ttl[VKS_CLUSTER_REDIS_NUM_LEN];
    char          ttl10[VKS_CLUSTER_REDIS_NUM_LEN];
    char          now[VKS_CLUSTER_REDIS_NUM_LEN];
    char          old[VKS_CLUSTER_REDIS_NUM_LEN];
    size_t        i, j, lens[2 + 2 * VKS_CLUSTER_FIELDS_MAX];
    const char   *argv[2 + 2 * VKS_CLUSTER_FIELDS_MAX];
    const char   *what;
    redisReply   *rep, *e;

    what = "heartbeat";

    if (r->ctx == NULL) {
        snprintf(r->err, sizeof(r->err), "%s: not connected", what);
        return VKS_CLUSTER_EIO;
    }

    if (node == NULL || ttl_ms == 0 || ttl_ms > INT32_MAX || n == 0
        || vks_cluster_keys_make(k, VKS_CLUSTER_KEY_NODE, node, key,
                                 sizeof(key)) < 0
        || vks_cluster_keys_make(k, VKS_CLUSTER_KEY_NODES, NULL, nodes,
                                 sizeof(nodes)) < 0)
    {
        return vks_cluster_redis_bad(r, what, "bad arguments");
    }

    rc = vks_cluster_redis_fields(r, what, fields, n);
    if (rc != VKS_CLUSTER_OK) {
        return rc;
    }

    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long) ttl_ms);
    snprintf(ttl10, sizeof(ttl10), "%llu", (unsigned long long) ttl_ms * 10);
    snprintf(now, sizeof(now), "%llu", (unsigned long long) now_ms);
    snprintf(old, sizeof(old), "(%llu", (unsigned long long)
             (now_ms > ttl_ms * 10 ? now_ms - ttl_ms * 10 : 0));

    /* pipelined: one round trip; all answers are read to stay in step */

    argc = 0;
    argv[argc] = "HSET";
    lens[argc++] = 4;
    argv[argc] = key;
    lens[argc++] = strlen(key);

    for (i = 0; i < n; i++) {
        argv[argc] = fields[i].name;
        lens[argc++] = strlen(fields[i].name);
        argv[argc] = fields[i].value;
        lens[argc++] = fields[i].len;
    }

    if (redisAppendCommand(r->ctx, "MULTI") != REDIS_OK
        || redisAppendCommand(r->ctx, "DEL %s", key) != REDIS_OK
        || redisAppendCommandArgv(r->ctx, argc, argv, lens) != REDIS_OK
        || redisAppendCommand(r->ctx, "PEXPIRE %s %s", key, ttl) != REDIS_OK
        || redisAppendCommand(r->ctx, "ZADD %s %s %s", nodes, now, node)
           != REDIS_OK
        || redisAppendCommand(r->ctx, "ZREMRANGEBYSCORE %s -inf %s", nodes,
                              old)
           != REDIS_OK
        || redisAppendCommand(r->ctx, "PEXPIRE %s %s", nodes, ttl10)
           != REDIS_OK
        || redisAppendCommand(r->ctx, "EXEC") != REDIS_OK)
    {
        /* some commands may be in the output buffer: start afresh */
        return vks_cluster_redis_io(r, what);
    }

    rc = VKS_CLUSTER_OK;

    for (i = 0; i < VKS_CLUSTER_REDIS_HB_CMDS; i++) {
        if (redisGetReply(r->ctx, (void **) &rep) != REDIS_OK
            || rep == NULL)
        {
            return vks_cluster_redis_io(r, what);
        }

        if (rc != VKS_CLUSTER_OK) {
            freeReplyObject(rep);
            continue;
        }

        if (rep->type == REDIS_REPLY_ERROR) {
            rc = vks_cluster_redis_error(r, what, rep);

        } else if (i + 1 < VKS_CLUSTER_REDIS_HB_CMDS) {
            /* +OK, then +QUEUED for each */
            if (rep->type != REDIS_REPLY_STATUS) {
                rc = vks_cluster_redis_bad(r, what, "unexpected answer");
            }

        } else if (rep->type != REDIS_REPLY_ARRAY
                   || rep->elements != VKS_CLUSTER_REDIS_HB_CMDS - 2)
        {
            rc = vks_cluster_redis_bad(r, what, "transaction not run");

        } else {
            /* a command that failed inside EXEC, e.g. on a wrong type */
            for (j = 0; j < rep->elements; j++) {
                e = rep->element[j];

                if (e->type == REDIS_REPLY_ERROR) {
                    rc = vks_cluster_redis_error(r, what, e);
                    break;
                }
            }
        }

        freeReplyObject(rep);
    }

    return rc;
}


int
vks_cluster_redis_node_read(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, const char *node, vks_cluster_record_t *rec)
{
    int           rc;
    char          key[VKS_CLUSTER_KEY_MAX + 1];
    size_t        lens[2];
    const char   *argv[2], *why;
    redisReply   *rep;

    memset(rec, 0, sizeof(vks_cluster_record_t));

    if (vks_cluster_keys_make(k, VKS_CLUSTER_KEY_NODE, node, key,
                              sizeof(key)) < 0)
    {
        return vks_cluster_redis_bad(r, "node read", "bad arguments");
    }

    argv[0] = "HGETALL";
    lens[0] = 7;
    argv[1] = key;
    lens[1] = strlen(key);

    rc = vks_cluster_redis_call(r, "node read", 2, argv, lens, &rep);
    if (rc != VKS_CLUSTER_OK) {
        return rc;
    }

    why = (rep->type == REDIS_REPLY_ARRAY)
          ? vks_cluster_redis_record(rec, rep) : "not a hash";

    freeReplyObject(rep);

    if (why) {
        return vks_cluster_redis_bad(r, "node read", why);
    }

    return VKS_CLUSTER_OK;
}


int
vks_cluster_redis_nodes(vks_cluster_redis_t *r, const vks_cluster_keys_t *k,
    uint64_t since_ms, char (*names)[VKS_CLUSTER_NODE_MAX + 1], size_t max,
    size_t *n)
{
    int           rc;
    char          key[VKS_CLUSTER_KEY_MAX + 1];
    char          since[VKS_CLUSTER_REDIS_NUM_LEN];
    char          count[VKS_CLUSTER_REDIS_NUM_LEN];
    size_t        i, lens[7];
    const char   *argv[7];
    redisReply   *rep, *e;

    *n = 0;

    if (max == 0 || max > VKS_CLUSTER_NODES_MAX
        || vks_cluster_keys_make(k, VKS_CLUSTER_KEY_NODES, NULL, key,
                                 sizeof(key)) < 0)
    {
        return vks_cluster_redis_bad(r, "nodes", "bad arguments");
    }

    snprintf(since, sizeof(since), "%llu", (unsigned long long) since_ms);
    snprintf(count, sizeof(count), "%zu", max);

    argv[0] = "ZRANGEBYSCORE";
    argv[1] = key;
    argv[2] = since;
    argv[3] = "+inf";
    argv[4] = "LIMIT";
    argv[5] = "0";
    argv[6] = count;

    for (i = 0; i < 7; i++) {
        lens[i] = strlen(argv[i]);
    }

    rc = vks_cluster_redis_call(r, "nodes", 7, argv, lens, &rep);
    if (rc != VKS_CLUSTER_OK) {
        return rc;
    }

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements > max) {
        freeReplyObject(rep);
        return vks_cluster_redis_bad(r, "nodes", "unexpected answer");
    }

    for (i = 0; i < rep->elements; i++) {
        e = rep->element[i];

        /* another writer's member: not a node of ours */
        if (e->type != REDIS_REPLY_STRING
            || vks_cluster_keys_node_check(e->str, e->len) != NULL)
        {
            continue;
        }

        memcpy(names[*n], e->str, e->len);
        names[*n][e->len] = '\0';
        (*n)++;
    }

    freeReplyObject(rep);

    return VKS_CLUSTER_OK;
}


int
vks_cluster_redis_event_add(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, size_t maxlen,
    const vks_cluster_field_t *fields, size_t n, char *id)
{
    int           rc, argc;
    char          key[VKS_CLUSTER_KEY_MAX + 1];
    char          cap[VKS_CLUSTER_REDIS_NUM_LEN];
    size_t        i, lens[6 + 2 * VKS_CLUSTER_FIELDS_MAX];
    const char   *argv[6 + 2 * VKS_CLUSTER_FIELDS_MAX];
    redisReply   *rep;

    id[0] = '\0';

    if (maxlen == 0 || n == 0
        || vks_cluster_keys_make(k, VKS_CLUSTER_KEY_EVENTS, NULL, key,
                                 sizeof(key)) < 0)
    {
        return vks_cluster_redis_bad(r, "match add", "bad arguments");
    }

    rc = vks_cluster_redis_fields(r, "match add", fields, n);
    if (rc != VKS_CLUSTER_OK) {
        return rc;
    }

    snprintf(cap, sizeof(cap), "%zu", maxlen);

    argc = 0;
    argv[argc++] = "XADD";
    argv[argc++] = key;
    argv[argc++] = "MAXLEN";
    argv[argc++] = "~";
    argv[argc++] = cap;
    argv[argc++] = "*";

    for (i = 0; i < (size_t) argc; i++) {
        lens[i] = strlen(argv[i]);
    }

    for (i = 0; i < n; i++) {
        argv[argc] = fields[i].name;
        lens[argc++] = strlen(fields[i].name);
        argv[argc] = fields[i].value;
        lens[argc++] = fields[i].len;
    }

    rc = vks_cluster_redis_call(r, "match add", argc, argv, lens, &rep);
    if (rc != VKS_CLUSTER_OK) {
        return rc;
    }

    if (rep->type != REDIS_REPLY_STRING
        || vks_cluster_redis_id(rep->str, rep->len) != 0)
    {
        freeReplyObject(rep);
        return vks_cluster_redis_bad(r, "match add", "unexpected answer");
    }

    memcpy(id, rep->str, rep->len);
    id[rep->len] = '\0';

    freeReplyObject(rep);

    return VKS_CLUSTER_OK;
}


int
vks_cluster_redis_event_read(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, const char *after, size_t count,
    unsigned block_ms, vks_cluster_record_t *recs, size_t *n)
{
    int           rc, argc;
    char          key[VKS_CLUSTER_KEY_MAX + 1];
    char          cnt[VKS_CLUSTER_REDIS_NUM_LEN];
    char          blk[VKS_CLUSTER_REDIS_NUM_LEN];
    size_t        i, lens[8];
    const char   *argv[8];
    redisReply   *rep;

    *n = 0;

    if (after == NULL || count == 0 || count > VKS_CLUSTER_READ_MAX
        || (strcmp(after, "0") != 0 && strcmp(after, "$") != 0
            && vks_cluster_redis_id(after, strlen(after)) != 0)
        || vks_cluster_keys_make(k, VKS_CLUSTER_KEY_EVENTS, NULL, key,
                                 sizeof(key)) < 0)
    {
        return vks_cluster_redis_bad(r, "match read", "bad arguments");
    }

    snprintf(cnt, sizeof(cnt), "%zu", count);
    snprintf(blk, sizeof(blk), "%u", block_ms);

    argc = 0;
    argv[argc++] = "XREAD";
    argv[argc++] = "COUNT";
    argv[argc++] = cnt;

    if (block_ms) {
        argv[argc++] = "BLOCK";
        argv[argc++] = blk;
    }

    argv[argc++] = "STREAMS";
    argv[argc++] = key;
    argv[argc++] = after;

    for (i = 0; i < (size_t) argc; i++) {
        lens[i] = strlen(argv[i]);
    }

    /* the answer to a BLOCK comes up to block_ms later than others */
    if (block_ms && r->ctx) {
        vks_cluster_redis_timeout(r, r->timeout_ms + block_ms);
    }

    rc = vks_cluster_redis_call(r, "match read", argc, argv, lens, &rep);

    if (block_ms && r->ctx) {
        vks_cluster_redis_timeout(r, r->timeout_ms);
    }

    if (rc != VKS_CLUSTER_OK) {
        return rc;
    }

    rc = vks_cluster_redis_entries(r, key, rep, count, recs, n);

    freeReplyObject(rep);

    return rc;
}


int
vks_cluster_redis_rules_set(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, const char *value, size_t len)
{
    int           rc;
    char          key[VKS_CLUSTER_KEY_MAX + 1];
    size_t        lens[3];
    const char   *argv[3];
    redisReply   *rep;

    if (len > VKS_CLUSTER_FIELD_VALUE_MAX
        || vks_cluster_keys_make(k, VKS_CLUSTER_KEY_RULES, NULL, key,
                                 sizeof(key)) < 0)
    {
        return vks_cluster_redis_bad(r, "rules set", "bad arguments");
    }

    argv[0] = "SET";
    lens[0] = 3;
    argv[1] = key;
    lens[1] = strlen(key);
    argv[2] = value;
    lens[2] = len;

    rc = vks_cluster_redis_call(r, "rules set", 3, argv, lens, &rep);
    if (rc != VKS_CLUSTER_OK) {
        return rc;
    }

    rc = (rep->type == REDIS_REPLY_STATUS)
         ? VKS_CLUSTER_OK
         : vks_cluster_redis_bad(r, "rules set", "unexpected answer");

    freeReplyObject(rep);

    return rc;
}


int
vks_cluster_redis_rules_get(vks_cluster_redis_t *r,
    const vks_cluster_keys_t *k, char **value, size_t *len)
{
    int           rc;
    char          key[VKS_CLUSTER_KEY_MAX + 1];
    size_t        lens[2];
    const char   *argv[2];
    redisReply   *rep;

    *value = NULL;
    *len = 0;

    if (vks_cluster_keys_make(k, VKS_CLUSTER_KEY_RULES, NULL, key,
                              sizeof(key)) < 0)
    {
        return vks_cluster_redis_bad(r, "rules get", "bad arguments");
    }

    argv[0] = "GET";
    lens[0] = 3;
    argv[1] = key;
    lens[1] = strlen(key);

    rc = vks_cluster_redis_call(r, "rules get", 2, argv, lens, &rep);
    if (rc != VKS_CLUSTER_OK) {
        return rc;
    }

    if (rep->type == REDIS_REPLY_NIL) {
        freeReplyObject(rep);
        return VKS_CLUSTER_OK;
    }

    if (rep->type != REDIS_REPLY_STRING
        || rep->len > VKS_CLUSTER_FIELD_VALUE_MAX)
    {
        freeReplyObject(rep);
        return vks_cluster_redis_bad(r, "rules get",
                                     "not a string of at most 512 KB");
    }

    *value = malloc(rep->len + 1);

    if (*value == NULL) {
        freeReplyObject(rep);
        return vks_cluster_redis_bad(r, "rules get", "out of memory");
    }

    memcpy(*value, rep->str, rep->len);
    (*value)[rep->len] = '\0';
    *len = rep->len;

    freeReplyObject(rep);

    return VKS_CLUSTER_OK;
}


void
vks_cluster_record_free(vks_cluster_record_t *rec)
{
    free(rec->data);
    rec->data = NULL;
    rec->nfields = 0;
}


/* [[key, [[id, [field, value, ...]], ...]]], or nil: nothing new */

static int
vks_cluster_redis_entries(vks_cluster_redis_t *r, const char *key,
    const redisReply *rep, size_t count, vks_cluster_record_t *recs,
    size_t *n)
{
    size_t                 i;
    const char            *why;
    const redisReply      *s, *entries, *e;
    vks_cluster_record_t  *rec;

    if (rep->type == REDIS_REPLY_NIL) {
        return VKS_CLUSTER_OK;
    }

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 1) {
        return vks_cluster_redis_bad(r, "match read", "unexpected answer");
    }

    s = rep->element[0];

    if (s->type != REDIS_REPLY_ARRAY || s->elements != 2
        || s->element[0]->type != REDIS_REPLY_STRING
        || s->element[0]->len != strlen(key)
        || memcmp(s->element[0]->str, key, s->element[0]->len) != 0
        || s->element[1]->type != REDIS_REPLY_ARRAY
        || s->element[1]->elements > count)
    {
        return vks_cluster_redis_bad(r, "match read", "unexpected answer");
    }

    entries = s->element[1];

    for (i = 0; i < entries->elements; i++) {
        e = entries->element[i];

        /* without a valid ID the reader could not go past the entry */
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
            || e->element[0]->type != REDIS_REPLY_STRING
            || vks_cluster_redis_id(e->element[0]->str,
                                    e->element[0]->len) != 0)
        {
            while (*n) {
                vks_cluster_record_free(&recs[--(*n)]);
            }

            return vks_cluster_redis_bad(r, "match read", "bad entry ID");
        }

        rec = &recs[i];
        memset(rec, 0, sizeof(vks_cluster_record_t));
        memcpy(rec->id, e->element[0]->str, e->element[0]->len);
        rec->id[e->element[0]->len] = '\0';

        why = (e->element[1]->type == REDIS_REPLY_ARRAY)
              ? vks_cluster_redis_record(rec, e->element[1])
              : "no fields";

        if (why) {
            rec->invalid = why;
        }

        (*n)++;
    }

    return VKS_CLUSTER_OK;
}


/* a flat array of name, value, ...: copied into rec; NULL or why not */

static const char *
vks_cluster_redis_record(vks_cluster_record_t *rec, const redisReply *a)
{
    char              *p;
    size_t             i, size;
    const redisReply  *e;

    rec->nfields = 0;

    if (a->elements % 2) {
        return "odd number of names and values";
    }

    if (a->elements / 2 > VKS_CLUSTER_FIELDS_MAX) {
        return "more than 16 fields";
    }

    size = 0;

    for (i = 0; i < a->elements; i++) {
        e = a->element[i];

        if (e->type != REDIS_REPLY_STRING) {
            return "a name or value not a string";
        }

        if (i % 2 == 0
            && (e->len == 0 || e->len > VKS_CLUSTER_FIELD_NAME_MAX
                || memchr(e->str, '\0', e->len)))
        {
            return "a field name empty, with NUL or over 32 bytes";
        }

        if (i % 2 == 1 && e->len > VKS_CLUSTER_FIELD_VALUE_MAX) {
            return "a value over 512 KB";
        }

        size += e->len + 1;
    }

    if (size == 0) {
        return NULL;
    }

    rec->data = malloc(size);
    if (rec->data == NULL) {
        return "out of memory";
    }

    p = rec->data;

    for (i = 0; i < a->elements; i++) {
        e = a->element[i];

        memcpy(p, e->str, e->len);
        p[e->len] = '\0';

        if (i % 2 == 0) {
            rec->fields[i / 2].name = p;

        } else {
            rec->fields[i / 2].value = p;
            rec->fields[i / 2].len = e->len;
        }

        p += e->len + 1;
    }

    rec->nfields = a->elements / 2;

    return NULL;
}


/* what vkstream writes is what it accepts back */

static int
vks_cluster_redis_fields(vks_cluster_redis_t *r, const char *what,
    const vks_cluster_field_t *fields, size_t n)
{
    size_t  i, len;

    if (n > VKS_CLUSTER_FIELDS_MAX) {
        return vks_cluster_redis_bad(r, what, "too many fields");
    }

    for (i = 0; i < n; i++) {
        if (fields[i].name == NULL
            || (fields[i].value == NULL && fields[i].len))
        {
            return vks_cluster_redis_bad(r, what, "bad arguments");
        }

        len = strlen(fields[i].name);

        if (len == 0 || len > VKS_CLUSTER_FIELD_NAME_MAX
            || fields[i].len > VKS_CLUSTER_FIELD_VALUE_MAX)
        {
            return vks_cluster_redis_bad(r, what, "field over the limits");
        }
    }

    return VKS_CLUSTER_OK;
}


static int
vks_cluster_redis_call(vks_cluster_redis_t *r, const char *what, int argc,
    const char **argv, const size_t *lens, redisReply **out)
{
    int          rc;
    redisReply  *rep;

    *out = NULL;

    if (r->ctx == NULL) {
        snprintf(r->err, sizeof(r->err), "%s: not connected", what);
        return VKS_CLUSTER_EIO;
    }

    rep = redisCommandArgv(r->ctx, argc, argv, lens);
    if (rep == NULL) {
        return vks_cluster_redis_io(r, what);
    }

    if (rep->type == REDIS_REPLY_ERROR) {
        rc = vks_cluster_redis_error(r, what, rep);
        freeReplyObject(rep);
        return rc;
    }

    *out = rep;

    return VKS_CLUSTER_OK;
}


/* EVAL script nkeys params... (keys first), all NUL-terminated */

static int
vks_cluster_redis_eval(vks_cluster_redis_t *r, const char *what,
    const char *script, int nkeys, int nparams, const char **params,
    redisReply **out)
{
    int          i;
    char         nk[VKS_CLUSTER_REDIS_NUM_LEN];
    size_t       lens[8];
    const char  *argv[8];

    snprintf(nk, sizeof(nk), "%d", nkeys);

    argv[0] = "EVAL";
    argv[1] = script;
    argv[2] = nk;

    for (i = 0; i < nparams && i < 5; i++) {
        argv[3 + i] = params[i];
    }

    for (i = 0; i < 3 + nparams && i < 8; i++) {
        lens[i] = strlen(argv[i]);
    }

    return vks_cluster_redis_call(r, what, i, argv, lens, out);
}


/* the connection is unusable (hiredis says so): closed */

static int
vks_cluster_redis_io(vks_cluster_redis_t *r, const char *what)
{
    char         text[VKS_CLUSTER_ERR_LEN - 32];  /* room for what */
    const char  *e;

    e = "connection lost";

    if (r->ctx && r->ctx->errstr[0]) {
        e = r->ctx->errstr;

        /* SO_RCVTIMEO expired: hiredis reports EAGAIN's text */
        if (strstr(e, "temporarily unavailable")) {
            e = "timed out";
        }
    }

    vks_cluster_redis_text(text, sizeof(text), e, strlen(e));
    snprintf(r->err, sizeof(r->err), "%s: %s", what, text);

    vks_cluster_redis_close(r);

    return VKS_CLUSTER_EIO;
}


static int
vks_cluster_redis_bad(vks_cluster_redis_t *r, const char *what,
    const char *reason)
{
    snprintf(r->err, sizeof(r->err), "%s: %s", what, reason);

    return VKS_CLUSTER_EREPLY;
}


static int
vks_cluster_redis_error(vks_cluster_redis_t *r, const char *what,
    const redisReply *rep)
{
    char  text[VKS_CLUSTER_ERR_LEN - 32];    /* room for what */

    vks_cluster_redis_text(text, sizeof(text), rep->str, rep->len);
    snprintf(r->err, sizeof(r->err), "%s: %s", what, text);

    return VKS_CLUSTER_EREPLY;
}


/* for logs: printable ASCII only, cut to size */

static void
vks_cluster_redis_text(char *dst, size_t size, const char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    if (size == 0) {
        return;
    }

    for (i = 0; i < len && i + 1 < size; i++) {
        c = s[i];
        dst[i] = (c >= 0x20 && c < 0x7f) ? (char) c : '?';
    }

    dst[i] = '\0';
}


static void
vks_cluster_redis_timeout(vks_cluster_redis_t *r, unsigned ms)
{
    struct timeval  tv;

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;

    /* failing leaves the previous timeout: no worse than before */
    (void) redisSetTimeout(r->ctx, tv);
}


/* an integer, or a string of 1 to 19 digits, within Redis's integers */

static int
vks_cluster_redis_integer(const redisReply *e, uint64_t *v)
{
    size_t  i;

    if (e->type == REDIS_REPLY_INTEGER) {
        if (e->integer < 0) {
            return -1;
        }

        *v = (uint64_t) e->integer;
        return 0;
    }

    if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len > 19) {
        return -1;
    }

    *v = 0;

    for (i = 0; i < e->len; i++) {
        if (e->str[i] < '0' || e->str[i] > '9') {
            return -1;
        }

        *v = *v * 10 + (uint64_t) (e->str[i] - '0');
    }

    return *v > INT64_MAX ? -1 : 0;
}


/* a stream entry ID: MS-SEQ, 1 to 20 digits each */

static int
vks_cluster_redis_id(const char *s, size_t len)
{
    size_t  i, ms, seq;

    ms = 0;
    seq = 0;

    for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        ms++;
    }

    if (ms == 0 || ms > 20 || i == len || s[i] != '-') {
        return -1;
    }

    for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        seq++;
    }

    return (seq == 0 || seq > 20 || i != len) ? -1 : 0;
}
