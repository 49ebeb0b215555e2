
/*
 * vkstream cluster: the agent's two threads (see vks_cluster_agent.h).
 *
 * Everything shared between the threads and the event loop is under
 * a->mutex, never held across a Redis call; a->cond wakes the agent
 * thread for new work or a stop.  The reader thread waits on a->cond too
 * (its reconnection backoff, for a stop only), so new work is always a
 * broadcast: a signal could wake just the reader, which goes back to
 * sleep, and the agent thread would not see the work until its timeout.
 */


#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vks_cluster_agent.h"
#include "util/vks_thread.h"
#include "vk/vks_vk_backoff.h"


#define VKS_CLUSTER_AGENT_BACKOFF_MS      200
#define VKS_CLUSTER_AGENT_BACKOFF_MAX_MS  5000
#define VKS_CLUSTER_AGENT_SEND_BATCH      256
#define VKS_CLUSTER_AGENT_READ_COUNT      500


typedef struct vks_cluster_msg_s  vks_cluster_msg_t;

struct vks_cluster_msg_s {
    vks_cluster_msg_t     *next;
    size_t                 n;
    vks_cluster_field_t    fields[VKS_CLUSTER_FIELDS_MAX];
    char                   data[];
};


struct vks_cluster_agent_s {
    pthread_mutex_t              mutex;
    pthread_cond_t               cond;
    pthread_t                    agent_thread;
    pthread_t                    reader_thread;
    unsigned                     agent_started:1;
    unsigned                     reader_started:1;
    volatile int                 stop;

    vks_cluster_url_t            url;
    vks_cluster_keys_t           keys;
    char                         node[VKS_CLUSTER_NODE_MAX + 1];
    uint64_t                     ttl_ms;
    size_t                       events_max;
    void                       (*notify)(void *data);
    void                        *notify_data;
    uint32_t                     seed;

    /* the agent thread's (the lease also read by status calls) */
    vks_cluster_redis_t          redis;
    vks_cluster_lease_t          lease;
    vks_cluster_redis_t          reader;

    /* under mutex */
    vks_cluster_agent_status_t   st;
    int                          verdict_told;
    char                         holder_told[VKS_CLUSTER_NODE_MAX + 1];

    vks_cluster_msg_t           *record;       /* this node's */
    int                          record_changed;

    vks_cluster_msg_t           *outbox;
    vks_cluster_msg_t          **outbox_tail;
    size_t                       noutbox;

    char                        *rules_out;
    size_t                       rules_out_len;
    int                          rules_out_set;

    int                          need_view;
    int                          need_rules;

    vks_cluster_view_t           view;
    int                          view_new;

    char                        *rules_in;
    size_t                       rules_in_len;
    int                          rules_in_new;

    vks_cluster_record_t        *inbox;        /* a ring */
    size_t                       inbox_head;
    size_t                       ninbox;
};


static void *vks_cluster_agent_main(void *arg);
static void *vks_cluster_agent_reader_main(void *arg);
static void vks_cluster_agent_lease(vks_cluster_agent_t *a);
static int vks_cluster_agent_heartbeat(vks_cluster_agent_t *a, uint64_t now);
static int vks_cluster_agent_read_view(vks_cluster_agent_t *a);
static int vks_cluster_agent_read_rules(vks_cluster_agent_t *a);
static int vks_cluster_agent_write_rules(vks_cluster_agent_t *a);
static int vks_cluster_agent_send_outbox(vks_cluster_agent_t *a);
static int vks_cluster_agent_note(vks_cluster_agent_t *a, const char *type);
static void vks_cluster_agent_failed(vks_cluster_agent_t *a, int rc,
    const char *err);
static void vks_cluster_agent_tell(vks_cluster_agent_t *a);
static void vks_cluster_agent_wait(vks_cluster_agent_t *a, uint64_t ms,
    int work);
static vks_cluster_msg_t *vks_cluster_msg_new(
    const vks_cluster_field_t *fields, size_t n, const char *from);
static void vks_cluster_msg_free_list(vks_cluster_msg_t *m);
static uint64_t vks_cluster_agent_mono(void);
static uint64_t vks_cluster_agent_wall(void);


vks_cluster_agent_t *
vks_cluster_agent_start(const vks_cluster_agent_conf_t *conf, char *err,
    size_t errlen)
{
    int                   rc;
    size_t                len;
    pthread_condattr_t    ca;
    vks_cluster_agent_t  *a;

    a = calloc(1, sizeof(vks_cluster_agent_t));
    if (a == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    a->inbox = calloc(VKS_CLUSTER_AGENT_INBOX_MAX,
                      sizeof(vks_cluster_record_t));
    if (a->inbox == NULL) {
        free(a);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    len = conf->prefix ? strlen(conf->prefix) : 0;

    if (vks_cluster_keys_init(&a->keys, conf->prefix, len) != 0) {
        snprintf(err, errlen, "%s", a->keys.err);
        goto failed;
    }

    if (conf->node == NULL
        || vks_cluster_lease_init(&a->lease, conf->node, conf->ttl_ms) != 0)
    {
        snprintf(err, errlen, "bad node name");
        goto failed;
    }

    /* a node without VK must not hold the lease: VK would run nowhere */
    if (!conf->contend) {
        (void) vks_cluster_lease_release(&a->lease);
    }

    a->url = conf->url;
    snprintf(a->node, sizeof(a->node), "%s", conf->node);
    a->ttl_ms = a->lease.ttl_ms;
    a->events_max = conf->events_max ? conf->events_max
                                     : VKS_CLUSTER_AGENT_EVENTS_MAX;
    a->notify = conf->notify;
    a->notify_data = conf->notify_data;
    a->seed = conf->seed;
    a->outbox_tail = &a->outbox;
    a->need_view = 1;
    a->need_rules = 1;
    a->st.redis = VKS_CLUSTER_REDIS_CONNECTING;
    a->st.redis_since_ms = vks_cluster_agent_wall();

    pthread_mutex_init(&a->mutex, NULL);

    /*
     * vks_cluster_agent_wait() counts its deadline on CLOCK_MONOTONIC: the
     * condition must too (by default it is CLOCK_REALTIME, to which a
     * monotonic deadline is decades past, so every wait returned at once
     * and both threads spun, reconnecting without a pause when Redis was
     * down)
     */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cond, &ca);
    pthread_condattr_destroy(&ca);

    rc = vks_thread_create(&a->agent_thread, vks_cluster_agent_main, a);
    if (rc != 0) {
        snprintf(err, errlen, "thread: %s", strerror(rc));
        goto failed_sync;
    }

    a->agent_started = 1;

    rc = vks_thread_create(&a->reader_thread, vks_cluster_agent_reader_main,
                           a);
    if (rc != 0) {
        snprintf(err, errlen, "thread: %s", strerror(rc));
        vks_cluster_agent_stop(a);
        return NULL;
    }

    a->reader_started = 1;

    return a;

failed_sync:

    pthread_mutex_destroy(&a->mutex);
    pthread_cond_destroy(&a->cond);

failed:

    vks_cluster_url_wipe(&a->url);
    free(a->inbox);
    free(a);

    return NULL;
}


void
vks_cluster_agent_stop(vks_cluster_agent_t *a)
{
    size_t  i;

    if (a == NULL) {
        return;
    }

    pthread_mutex_lock(&a->mutex);
    a->stop = 1;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->mutex);

    if (a->agent_started) {
        pthread_join(a->agent_thread, NULL);
    }

    if (a->reader_started) {
        pthread_join(a->reader_thread, NULL);
    }

    vks_cluster_redis_close(&a->redis);
    vks_cluster_redis_close(&a->reader);

    vks_cluster_msg_free_list(a->record);
    vks_cluster_msg_free_list(a->outbox);
    free(a->rules_out);
    free(a->rules_in);
    vks_cluster_view_free(&a->view);

    for (i = 0; i < a->ninbox; i++) {
        vks_cluster_record_free(
            &a->inbox[(a->inbox_head + i) % VKS_CLUSTER_AGENT_INBOX_MAX]);
    }

    free(a->inbox);
    vks_cluster_url_wipe(&a->url);

    pthread_mutex_destroy(&a->mutex);
    pthread_cond_destroy(&a->cond);

    free(a);
}


/* --- the event loop's calls ---------------------------------------------- */

int
vks_cluster_agent_set_record(vks_cluster_agent_t *a,
    const vks_cluster_field_t *fields, size_t n, int changed)
{
    vks_cluster_msg_t  *m;

    m = vks_cluster_msg_new(fields, n, NULL);
    if (m == NULL) {
        return -1;
    }

    pthread_mutex_lock(&a->mutex);

    vks_cluster_msg_free_list(a->record);
    a->record = m;

    if (changed) {
        a->record_changed = 1;
        pthread_cond_broadcast(&a->cond);
    }

    pthread_mutex_unlock(&a->mutex);

    return 0;
}


int
vks_cluster_agent_send(vks_cluster_agent_t *a,
    const vks_cluster_field_t *fields, size_t n)
{
    vks_cluster_msg_t  *m;

    pthread_mutex_lock(&a->mutex);

    if (a->noutbox >= VKS_CLUSTER_AGENT_OUTBOX_MAX) {
        a->st.dropped++;
        pthread_mutex_unlock(&a->mutex);
        return -1;
    }

    pthread_mutex_unlock(&a->mutex);

    m = vks_cluster_msg_new(fields, n, a->node);
    if (m == NULL) {
        return -1;
    }

    pthread_mutex_lock(&a->mutex);

    *a->outbox_tail = m;
    a->outbox_tail = &m->next;
    a->noutbox++;
    pthread_cond_broadcast(&a->cond);

    pthread_mutex_unlock(&a->mutex);

    return 0;
}


int
vks_cluster_agent_set_rules(vks_cluster_agent_t *a, const char *json,
    size_t len)
{
    char  *p;

    if (len > VKS_CLUSTER_FIELD_VALUE_MAX) {
        return -1;
    }

    p = malloc(len + 1);
    if (p == NULL) {
        return -1;
    }

    memcpy(p, json, len);
    p[len] = '\0';

    pthread_mutex_lock(&a->mutex);

    free(a->rules_out);
    a->rules_out = p;
    a->rules_out_len = len;
    a->rules_out_set = 1;
    pthread_cond_broadcast(&a->cond);

    pthread_mutex_unlock(&a->mutex);

    return 0;
}


void
vks_cluster_agent_status(vks_cluster_agent_t *a,
    vks_cluster_agent_status_t *st)
{
    size_t       n;
    uint64_t     now;
    const char  *p;

    now = vks_cluster_agent_mono();

    pthread_mutex_lock(&a->mutex);

    *st = a->st;
    st->verdict = vks_cluster_lease_verdict(&a->lease, now);
    st->token = vks_cluster_lease_token(&a->lease, now);
    st->seen = a->lease.seen;
    st->acquisitions = a->lease.acquisitions;
    st->losses = a->lease.losses;
    st->holder[0] = '\0';

    if (st->verdict == VKS_CLUSTER_LEASE_MINE) {
        snprintf(st->holder, sizeof(st->holder), "%s", a->node);

    } else if (st->verdict == VKS_CLUSTER_LEASE_THEIRS) {
        /* "TOKEN:NODE" as Redis had it */
        p = strchr(a->lease.holder, ':');
        p = p ? p + 1 : a->lease.holder;
        n = strnlen(p, VKS_CLUSTER_NODE_MAX);
        memcpy(st->holder, p, n);
        st->holder[n] = '\0';
    }

    pthread_mutex_unlock(&a->mutex);
}


int
vks_cluster_agent_take_view(vks_cluster_agent_t *a, vks_cluster_view_t *view)
{
    int  rc;

    memset(view, 0, sizeof(vks_cluster_view_t));

    pthread_mutex_lock(&a->mutex);

    rc = a->view_new;

    if (rc) {
        *view = a->view;
        a->view.n = 0;
        a->view.names = NULL;
        a->view.recs = NULL;
        a->view_new = 0;
    }

    pthread_mutex_unlock(&a->mutex);

    return rc;
}


void
vks_cluster_view_free(vks_cluster_view_t *view)
{
    size_t  i;

    for (i = 0; i < view->n; i++) {
        vks_cluster_record_free(&view->recs[i]);
    }

    free(view->recs);
    free(view->names);
    memset(view, 0, sizeof(vks_cluster_view_t));
}


int
vks_cluster_agent_take_rules(vks_cluster_agent_t *a, char **json,
    size_t *len)
{
    int  rc;

    pthread_mutex_lock(&a->mutex);

    rc = a->rules_in_new;
    *json = NULL;
    *len = 0;

    if (rc) {
        *json = a->rules_in;
        *len = a->rules_in_len;
        a->rules_in = NULL;
        a->rules_in_len = 0;
        a->rules_in_new = 0;
    }

    pthread_mutex_unlock(&a->mutex);

    return rc;
}


size_t
vks_cluster_agent_take_events(vks_cluster_agent_t *a,
    vks_cluster_record_t *recs, size_t max)
{
    size_t  n;

    pthread_mutex_lock(&a->mutex);

    for (n = 0; n < max && a->ninbox; n++) {
        recs[n] = a->inbox[a->inbox_head];
        memset(&a->inbox[a->inbox_head], 0, sizeof(vks_cluster_record_t));
        a->inbox_head = (a->inbox_head + 1) % VKS_CLUSTER_AGENT_INBOX_MAX;
        a->ninbox--;
    }

    pthread_mutex_unlock(&a->mutex);

    return n;
}


const char *
vks_cluster_record_get(const vks_cluster_record_t *rec, const char *name,
    size_t *len)
{
    size_t  i;

    for (i = 0; i < rec->nfields && i < VKS_CLUSTER_FIELDS_MAX; i++) {
        if (strcmp(rec->fields[i].name, name) == 0) {
            if (len) {
                *len = rec->fields[i].len;
            }

            return rec->fields[i].value;
        }
    }

    return NULL;
}


/* --- the agent thread ---------------------------------------------------- */

static void *
vks_cluster_agent_main(void *arg)
{
    int                          rc, changed, rules_set;
    uint64_t                     now, hb_next, view_next, wait, w;
    const char                  *value;
    vks_vk_backoff_t             backoff;
    vks_cluster_agent_t         *a;
    vks_cluster_lease_reply_t    reply;
    vks_cluster_lease_action_e   action;

    a = arg;

    vks_vk_backoff_init(&backoff, VKS_CLUSTER_AGENT_BACKOFF_MS,
                        VKS_CLUSTER_AGENT_BACKOFF_MAX_MS, NULL, NULL,
                        a->seed);

    hb_next = 0;
    view_next = 0;

    while (!a->stop) {

        if (a->redis.ctx == NULL) {
            rc = vks_cluster_redis_connect(&a->redis, &a->url, 0);

            if (rc != VKS_CLUSTER_OK) {
                vks_cluster_agent_failed(a, rc, a->redis.err);

                /*
                 * a lease command due now would fail the same way: the
                 * machine is told so, or a THEIRS verdict (whose last
                 * command had an answer) would stay THEIRS, naming the
                 * old holder, for as long as Redis is away, whenever
                 * another command than the lease's met the lost
                 * connection first
                 */
                now = vks_cluster_agent_mono();
                pthread_mutex_lock(&a->mutex);

                action = vks_cluster_lease_action(&a->lease, now);
                if (action != VKS_CLUSTER_LEASE_WAIT) {
                    memset(&reply, 0, sizeof(reply));
                    reply.status = VKS_CLUSTER_LEASE_ERROR;
                    vks_cluster_lease_result(&a->lease, action, now, now,
                                             &reply);
                }

                /* the verdict may change meanwhile: wake for that too */
                w = vks_cluster_lease_wait(&a->lease, now);
                pthread_mutex_unlock(&a->mutex);

                wait = vks_vk_backoff_next(&backoff);
                vks_cluster_agent_wait(a, w && w < wait ? w : wait, 0);
                vks_cluster_agent_tell(a);
                continue;
            }

            vks_vk_backoff_reset(&backoff);

            pthread_mutex_lock(&a->mutex);
            if (a->st.redis != VKS_CLUSTER_REDIS_CONNECTING) {
                a->st.reconnects++;
            }
            a->st.redis = VKS_CLUSTER_REDIS_CONNECTED;
            a->st.redis_since_ms = vks_cluster_agent_wall();
            a->need_view = 1;
            a->need_rules = 1;
            /* what this node holds goes back to a Redis that lost it */
            a->record_changed = 1;
            a->rules_out_set = a->rules_out != NULL;
            pthread_mutex_unlock(&a->mutex);

            hb_next = 0;
            view_next = 0;
            vks_cluster_agent_tell(a);
        }

        vks_cluster_agent_lease(a);
        vks_cluster_agent_tell(a);

        if (a->redis.ctx == NULL) {
            continue;
        }

        now = vks_cluster_agent_mono();

        pthread_mutex_lock(&a->mutex);
        changed = a->record_changed;
        a->record_changed = 0;
        pthread_mutex_unlock(&a->mutex);

        if (changed || now >= hb_next) {
            rc = vks_cluster_agent_heartbeat(a, vks_cluster_agent_wall());
            hb_next = now + a->ttl_ms / 3;

            if (rc == VKS_CLUSTER_OK && changed) {
                rc = vks_cluster_agent_note(a, "node");
            }

            if (rc == VKS_CLUSTER_EIO) {
                continue;
            }
        }

        pthread_mutex_lock(&a->mutex);
        rules_set = a->rules_out_set;
        pthread_mutex_unlock(&a->mutex);

        if (rules_set
            && vks_cluster_agent_write_rules(a) == VKS_CLUSTER_EIO)
        {
            continue;
        }

        pthread_mutex_lock(&a->mutex);
        rc = a->need_rules;
        a->need_rules = 0;
        pthread_mutex_unlock(&a->mutex);

        if (rc && vks_cluster_agent_read_rules(a) == VKS_CLUSTER_EIO) {
            continue;
        }

        pthread_mutex_lock(&a->mutex);
        rc = a->need_view;
        a->need_view = 0;
        pthread_mutex_unlock(&a->mutex);

        now = vks_cluster_agent_mono();

        if (rc || now >= view_next) {
            view_next = now + a->ttl_ms / 3;

            if (vks_cluster_agent_read_view(a) == VKS_CLUSTER_EIO) {
                continue;
            }
        }

        if (vks_cluster_agent_send_outbox(a) == VKS_CLUSTER_EIO) {
            continue;
        }

        /* sleep until the next lease action, heartbeat or view read */

        now = vks_cluster_agent_mono();

        pthread_mutex_lock(&a->mutex);
        w = vks_cluster_lease_wait(&a->lease, now);
        pthread_mutex_unlock(&a->mutex);

        wait = hb_next > now ? hb_next - now : 0;
        wait = w < wait ? w : wait;
        w = view_next > now ? view_next - now : 0;
        wait = w < wait ? w : wait;

        vks_cluster_agent_wait(a, wait, 1);
    }

    /* a clean exit hands VK over at once rather than after the TTL */

    pthread_mutex_lock(&a->mutex);
    value = vks_cluster_lease_release(&a->lease);
    pthread_mutex_unlock(&a->mutex);

    if (value && a->redis.ctx) {
        vks_cluster_redis_lease_release(&a->redis, &a->keys, value, &rc);
    }

    return NULL;
}


static void
vks_cluster_agent_lease(vks_cluster_agent_t *a)
{
    int                          rc;
    char                         value[VKS_CLUSTER_LEASE_VALUE_MAX + 1];
    uint64_t                     sent, floor;
    vks_cluster_lease_reply_t    reply;
    vks_cluster_lease_action_e   action;

    sent = vks_cluster_agent_mono();

    pthread_mutex_lock(&a->mutex);
    action = vks_cluster_lease_action(&a->lease, sent);
    floor = vks_cluster_lease_floor(&a->lease);
    memcpy(value, a->lease.value, sizeof(value));
    pthread_mutex_unlock(&a->mutex);

    if (action == VKS_CLUSTER_LEASE_WAIT) {
        return;
    }

    memset(&reply, 0, sizeof(reply));

    if (action == VKS_CLUSTER_LEASE_ACQUIRE) {
        rc = vks_cluster_redis_lease_acquire(&a->redis, &a->keys, a->node,
                                             a->ttl_ms, floor, &reply);

    } else {
        rc = vks_cluster_redis_lease_renew(&a->redis, &a->keys, value,
                                           a->ttl_ms, &reply);
    }

    if (rc != VKS_CLUSTER_OK) {
        reply.status = VKS_CLUSTER_LEASE_ERROR;
    }

    pthread_mutex_lock(&a->mutex);
    vks_cluster_lease_result(&a->lease, action, sent,
                             vks_cluster_agent_mono(), &reply);
    pthread_mutex_unlock(&a->mutex);

    if (rc != VKS_CLUSTER_OK) {
        vks_cluster_agent_failed(a, rc, a->redis.err);
    }
}


static int
vks_cluster_agent_heartbeat(vks_cluster_agent_t *a, uint64_t now)
{
    int                 rc;
    vks_cluster_msg_t  *m;

    /* the record is copied: the event loop may replace it meanwhile */

    pthread_mutex_lock(&a->mutex);
    m = a->record ? vks_cluster_msg_new(a->record->fields, a->record->n,
                                        NULL)
                  : NULL;
    pthread_mutex_unlock(&a->mutex);

    if (m == NULL) {
        return VKS_CLUSTER_OK;          /* nothing to say yet */
    }

    rc = vks_cluster_redis_heartbeat(&a->redis, &a->keys, a->node, m->fields,
                                     m->n, a->ttl_ms, now);

    vks_cluster_msg_free_list(m);

    if (rc != VKS_CLUSTER_OK) {
        vks_cluster_agent_failed(a, rc, a->redis.err);
        return rc;
    }

    pthread_mutex_lock(&a->mutex);
    a->st.heartbeats++;
    pthread_mutex_unlock(&a->mutex);

    return VKS_CLUSTER_OK;
}


static int
vks_cluster_agent_read_view(vks_cluster_agent_t *a)
{
    int                    rc;
    size_t                 i, n, k;
    uint64_t               now;
    vks_cluster_view_t     v;
    char                 (*names)[VKS_CLUSTER_NODE_MAX + 1];

    names = calloc(VKS_CLUSTER_NODES_MAX, VKS_CLUSTER_NODE_MAX + 1);
    if (names == NULL) {
        return VKS_CLUSTER_EREPLY;
    }

    now = vks_cluster_agent_wall();

    rc = vks_cluster_redis_nodes(&a->redis, &a->keys,
                                 now > a->ttl_ms ? now - a->ttl_ms : 0,
                                 names, VKS_CLUSTER_NODES_MAX, &n);
    if (rc != VKS_CLUSTER_OK) {
        free(names);
        vks_cluster_agent_failed(a, rc, a->redis.err);
        return rc;
    }

    memset(&v, 0, sizeof(v));
    v.valid = 1;
    v.read_ms = now;
    v.recs = calloc(n ? n : 1, sizeof(vks_cluster_record_t));
    v.names = calloc(n ? n : 1, VKS_CLUSTER_NODE_MAX + 1);

    if (v.recs == NULL || v.names == NULL) {
        free(names);
        vks_cluster_view_free(&v);
        return VKS_CLUSTER_EREPLY;
    }

    k = 0;

    for (i = 0; i < n; i++) {
        if (strcmp(names[i], a->node) == 0) {
            continue;
        }

        rc = vks_cluster_redis_node_read(&a->redis, &a->keys, names[i],
                                         &v.recs[k]);

        if (rc == VKS_CLUSTER_EIO) {
            free(names);
            v.n = k;
            vks_cluster_view_free(&v);
            vks_cluster_agent_failed(a, rc, a->redis.err);
            return rc;
        }

        if (rc != VKS_CLUSTER_OK) {
            /* one node's garbage does not hide the others */
            vks_cluster_agent_failed(a, rc, a->redis.err);
            continue;
        }

        if (v.recs[k].nfields == 0) {          /* expired since */
            vks_cluster_record_free(&v.recs[k]);
            continue;
        }

        memcpy(v.names[k], names[i], VKS_CLUSTER_NODE_MAX + 1);
        k++;
    }

    v.n = k;
    free(names);

    pthread_mutex_lock(&a->mutex);
    vks_cluster_view_free(&a->view);
    a->view = v;
    a->view_new = 1;
    pthread_mutex_unlock(&a->mutex);

    if (a->notify) {
        a->notify(a->notify_data);
    }

    return VKS_CLUSTER_OK;
}


static int
vks_cluster_agent_read_rules(vks_cluster_agent_t *a)
{
    int      rc;
    char    *json;
    size_t   len;

    rc = vks_cluster_redis_rules_get(&a->redis, &a->keys, &json, &len);

    if (rc != VKS_CLUSTER_OK) {
        vks_cluster_agent_failed(a, rc, a->redis.err);
        return rc;
    }

    pthread_mutex_lock(&a->mutex);
    free(a->rules_in);
    a->rules_in = json;
    a->rules_in_len = len;
    a->rules_in_new = 1;
    pthread_mutex_unlock(&a->mutex);

    if (a->notify) {
        a->notify(a->notify_data);
    }

    return VKS_CLUSTER_OK;
}


static int
vks_cluster_agent_write_rules(vks_cluster_agent_t *a)
{
    int      rc;
    char    *json;
    size_t   len;

    pthread_mutex_lock(&a->mutex);
    len = a->rules_out_len;
    json = a->rules_out ? malloc(len + 1) : NULL;
    if (json) {
        memcpy(json, a->rules_out, len + 1);
    }
    a->rules_out_set = 0;
    pthread_mutex_unlock(&a->mutex);

    if (json == NULL) {
        return VKS_CLUSTER_OK;
    }

    rc = vks_cluster_redis_rules_set(&a->redis, &a->keys, json, len);
    free(json);

    if (rc == VKS_CLUSTER_OK) {
        rc = vks_cluster_agent_note(a, "rules");
    }

    if (rc != VKS_CLUSTER_OK) {
        vks_cluster_agent_failed(a, rc, a->redis.err);

        if (rc == VKS_CLUSTER_EIO) {
            /* sent again after the reconnection */
            pthread_mutex_lock(&a->mutex);
            a->rules_out_set = 1;
            pthread_mutex_unlock(&a->mutex);
        }
    }

    return rc;
}


static int
vks_cluster_agent_send_outbox(vks_cluster_agent_t *a)
{
    int                 rc;
    char                id[VKS_CLUSTER_STREAM_ID_MAX + 1];
    size_t              i;
    vks_cluster_msg_t  *m;

    for (i = 0; i < VKS_CLUSTER_AGENT_SEND_BATCH && !a->stop; i++) {

        pthread_mutex_lock(&a->mutex);
        m = a->outbox;
        pthread_mutex_unlock(&a->mutex);

        if (m == NULL) {
            break;
        }

        rc = vks_cluster_redis_event_add(&a->redis, &a->keys, a->events_max,
                                         m->fields, m->n, id);

        if (rc == VKS_CLUSTER_EIO) {
            /* kept for the next connection */
            vks_cluster_agent_failed(a, rc, a->redis.err);
            return rc;
        }

        pthread_mutex_lock(&a->mutex);

        a->outbox = m->next;
        if (a->outbox == NULL) {
            a->outbox_tail = &a->outbox;
        }
        a->noutbox--;

        if (rc == VKS_CLUSTER_OK) {
            a->st.sent++;

        } else {
            a->st.dropped++;
        }

        pthread_mutex_unlock(&a->mutex);

        if (rc != VKS_CLUSTER_OK) {
            vks_cluster_agent_failed(a, rc, a->redis.err);
        }

        m->next = NULL;
        vks_cluster_msg_free_list(m);
    }

    return VKS_CLUSTER_OK;
}


static int
vks_cluster_agent_note(vks_cluster_agent_t *a, const char *type)
{
    int                  rc;
    char                 id[VKS_CLUSTER_STREAM_ID_MAX + 1];
    vks_cluster_field_t  f[2];

    f[0].name = VKS_CLUSTER_F_TYPE;
    f[0].value = type;
    f[0].len = strlen(type);
    f[1].name = VKS_CLUSTER_F_FROM;
    f[1].value = a->node;
    f[1].len = strlen(a->node);

    rc = vks_cluster_redis_event_add(&a->redis, &a->keys, a->events_max, f,
                                     2, id);

    if (rc != VKS_CLUSTER_OK) {
        vks_cluster_agent_failed(a, rc, a->redis.err);
    }

    return rc;
}


/* an error: remembered for the API; a lost connection is closed already */

static void
vks_cluster_agent_failed(vks_cluster_agent_t *a, int rc, const char *err)
{
    int  lost;

    pthread_mutex_lock(&a->mutex);

    a->st.errors++;
    snprintf(a->st.last_error, sizeof(a->st.last_error), "%s", err);

    lost = (rc == VKS_CLUSTER_EIO
            && a->st.redis != VKS_CLUSTER_REDIS_DISCONNECTED);

    if (rc == VKS_CLUSTER_EIO) {
        if (a->st.redis != VKS_CLUSTER_REDIS_DISCONNECTED) {
            a->st.redis_since_ms = vks_cluster_agent_wall();
        }

        a->st.redis = VKS_CLUSTER_REDIS_DISCONNECTED;
    }

    pthread_mutex_unlock(&a->mutex);

    if (lost && a->notify) {
        a->notify(a->notify_data);
    }
}


/* tells the event loop when the verdict or the holder changed */

static void
vks_cluster_agent_tell(vks_cluster_agent_t *a)
{
    int                          tell;
    vks_cluster_agent_status_t   st;

    vks_cluster_agent_status(a, &st);

    pthread_mutex_lock(&a->mutex);

    tell = (int) st.verdict != a->verdict_told
           || strcmp(st.holder, a->holder_told) != 0;

    a->verdict_told = st.verdict;
    memcpy(a->holder_told, st.holder, sizeof(a->holder_told));

    pthread_mutex_unlock(&a->mutex);

    if (tell && a->notify) {
        a->notify(a->notify_data);
    }
}


/*
 * Sleeps up to ms (0: no wait), or until a stop or, with "work" (the
 * agent thread only: it reads its own connection), there is work.
 */

static void
vks_cluster_agent_wait(vks_cluster_agent_t *a, uint64_t ms, int work)
{
    struct timespec  ts;

    if (ms == 0) {
        return;
    }

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long) (ms % 1000) * 1000000;

    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }

    pthread_mutex_lock(&a->mutex);

    while (!a->stop
           && !(work && (a->record_changed || a->rules_out_set
                         || a->need_view || a->need_rules
                         || (a->outbox && a->redis.ctx))))
    {
        if (pthread_cond_timedwait(&a->cond, &a->mutex, &ts) == ETIMEDOUT) {
            break;
        }
    }

    pthread_mutex_unlock(&a->mutex);
}


/* --- the reader thread --------------------------------------------------- */

static void *
vks_cluster_agent_reader_main(void *arg)
{
    int                    rc, told, wake;
    char                   after[VKS_CLUSTER_STREAM_ID_MAX + 1];
    size_t                 i, n, len = 0;
    const char            *type, *from;
    vks_vk_backoff_t       backoff;
    vks_cluster_record_t  *recs, *rec;
    vks_cluster_agent_t   *a;

    a = arg;

    recs = calloc(VKS_CLUSTER_AGENT_READ_COUNT, sizeof(vks_cluster_record_t));
    if (recs == NULL) {
        return NULL;
    }

    vks_vk_backoff_init(&backoff, VKS_CLUSTER_AGENT_BACKOFF_MS,
                        VKS_CLUSTER_AGENT_BACKOFF_MAX_MS, NULL, NULL,
                        a->seed ^ 0x5bd1e995);

    /* only what is written from now on; after a reconnection, from there */
    strcpy(after, "$");

    while (!a->stop) {

        if (a->reader.ctx == NULL) {
            rc = vks_cluster_redis_connect(&a->reader, &a->url, 0);

            if (rc != VKS_CLUSTER_OK) {
                vks_cluster_agent_wait(a, vks_vk_backoff_next(&backoff), 0);
                continue;
            }

            vks_vk_backoff_reset(&backoff);
        }

        rc = vks_cluster_redis_event_read(&a->reader, &a->keys, after,
                                          VKS_CLUSTER_AGENT_READ_COUNT,
                                          VKS_CLUSTER_AGENT_BLOCK_MS, recs,
                                          &n);

        if (rc == VKS_CLUSTER_EIO) {
            continue;
        }

        if (rc != VKS_CLUSTER_OK) {
            /* the key is not a stream (another writer): wait, retry */
            vks_cluster_agent_failed(a, rc, a->reader.err);
            vks_cluster_agent_wait(a, VKS_CLUSTER_AGENT_BACKOFF_MAX_MS, 0);
            continue;
        }

        told = 0;
        wake = 0;

        pthread_mutex_lock(&a->mutex);

        for (i = 0; i < n; i++) {
            rec = &recs[i];

            if (rec->id[0]) {
                memcpy(after, rec->id, sizeof(after));
            }

            from = vks_cluster_record_get(rec, VKS_CLUSTER_F_FROM, &len);
            type = vks_cluster_record_get(rec, VKS_CLUSTER_F_TYPE, NULL);

            if (rec->invalid || from == NULL || type == NULL) {
                a->st.invalid++;
                vks_cluster_record_free(rec);
                continue;
            }

            if (len == strlen(a->node) && memcmp(from, a->node, len) == 0) {
                vks_cluster_record_free(rec);       /* our own */
                continue;
            }

            if (strcmp(type, "node") == 0) {
                a->need_view = 1;
                wake = 1;
                vks_cluster_record_free(rec);
                continue;
            }

            if (strcmp(type, "rules") == 0) {
                a->need_rules = 1;
                wake = 1;
                vks_cluster_record_free(rec);
                continue;
            }

            if (a->ninbox >= VKS_CLUSTER_AGENT_INBOX_MAX) {
                a->st.dropped++;
                vks_cluster_record_free(rec);
                continue;
            }

            a->inbox[(a->inbox_head + a->ninbox)
                     % VKS_CLUSTER_AGENT_INBOX_MAX] = *rec;
            memset(rec, 0, sizeof(vks_cluster_record_t));
            a->ninbox++;
            a->st.received++;
            told = 1;
        }

        if (wake) {
            pthread_cond_broadcast(&a->cond);
        }

        pthread_mutex_unlock(&a->mutex);

        if (told && a->notify) {
            a->notify(a->notify_data);
        }
    }

    for (i = 0; i < VKS_CLUSTER_AGENT_READ_COUNT; i++) {
        vks_cluster_record_free(&recs[i]);
    }

    free(recs);

    return NULL;
}


/* --- helpers ------------------------------------------------------------- */

static vks_cluster_msg_t *
vks_cluster_msg_new(const vks_cluster_field_t *fields, size_t n,
    const char *from)
{
    char               *p;
    size_t              i, size, extra;
    vks_cluster_msg_t  *m;

    extra = from ? 1 : 0;

    if (n + extra > VKS_CLUSTER_FIELDS_MAX) {
        return NULL;
    }

    size = 0;

    for (i = 0; i < n; i++) {
        size += strlen(fields[i].name) + 1 + fields[i].len + 1;
    }

    if (from) {
        size += sizeof(VKS_CLUSTER_F_FROM) + strlen(from) + 1;
    }

    m = malloc(sizeof(vks_cluster_msg_t) + size);
    if (m == NULL) {
        return NULL;
    }

    m->next = NULL;
    m->n = 0;
    p = m->data;

    for (i = 0; i < n + extra; i++) {
        const char  *name, *value;
        size_t       len;

        if (i < n) {
            name = fields[i].name;
            value = fields[i].value;
            len = fields[i].len;

        } else {
            name = VKS_CLUSTER_F_FROM;
            value = from;
            len = strlen(from);
        }

        m->fields[m->n].name = p;
        memcpy(p, name, strlen(name) + 1);
        p += strlen(name) + 1;
        m->fields[m->n].value = p;
        m->fields[m->n].len = len;
        if (len) {
            memcpy(p, value, len);
        }
        p[len] = '\0';
        p += len + 1;
        m->n++;
    }

    return m;
}


static void
vks_cluster_msg_free_list(vks_cluster_msg_t *m)
{
    vks_cluster_msg_t  *next;

    while (m) {
        next = m->next;
        free(m);
        m = next;
    }
}


static uint64_t
vks_cluster_agent_mono(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static uint64_t
vks_cluster_agent_wall(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
