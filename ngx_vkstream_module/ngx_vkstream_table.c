
/*
 * vkstream stream table in shared memory: see ngx_vkstream_table.h.
 *
 * One slab zone "vkstream" holds a fixed-size header (counters, global
 * rules, VK state, the event backlog, the global match ring) and one slab
 * allocation per stream (the entry and its match ring).  Everything is
 * changed under the slab pool's mutex; entries are freed by a cancelable
 * timer in every worker once their linger has passed.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include "ngx_vkstream.h"
#include "ngx_vkstream_table.h"
#include "ngx_vkstream_wake.h"
#include "vk/vks_vk_rules.h"
#include "util/vks_utf8.h"


#define NGX_VKSTREAM_POLL          150     /* ms, control actions, sweep */
#define NGX_VKSTREAM_POLL_ACTIONS  16


typedef struct {
    ngx_pid_t                 pid;         /* 0: free */
    ngx_uint_t                subscribers;
    ngx_uint_t                blocked;     /* of them, waiting on a socket */
    ngx_flag_t                pending;     /* woken, not yet looked */
} ngx_vkstream_waker_t;


typedef struct {
    /* layout of the zone, checked when a reload reuses it */
    ngx_uint_t                matches;
    size_t                    stream_size;
    size_t                    shctx_size;

    /* kept across reloads: see ngx_vkstream_table_keep_marker() */
    u_char                    marker[NGX_VKSTREAM_MARKER_LEN];

    ngx_queue_t               streams;     /* newest first */
    ngx_uint_t                nstreams;
    uint64_t                  last_id;
    uint64_t                  publishes;
    uint64_t                  closes;
    uint64_t                  not_recorded;
    ngx_flag_t                full_warned;

    uint64_t                  rules_generation;
    ngx_vkstream_grule_t      rules[NGX_VKSTREAM_MAX_RULES];

    ngx_vkstream_vk_state_t   vk;

    uint64_t                  event_seq;   /* the newest */
    ngx_vkstream_event_t      events[NGX_VKSTREAM_EVENTS];

    ngx_vkstream_stream_t     global;      /* its ring: global matches */

    /* cluster mode */
    uint64_t                  local_gen;
    uint64_t                  global_gen;
    ngx_uint_t                max_transcodes;
    ngx_vkstream_cluster_t    cluster;

    /* SSE fan-out: see ngx_vkstream_wake.c */
    ngx_vkstream_waker_t      wake[NGX_VKSTREAM_WAKE_SLOTS];
    ngx_vkstream_wake_stats_t wake_stats;
} ngx_vkstream_shctx_t;


typedef struct {
    uint64_t                  id;
    ngx_vkstream_pending_t    pending;
} ngx_vkstream_todo_t;


static ngx_int_t ngx_vkstream_table_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_vkstream_table_keep_marker(ngx_vkstream_conf_t *vcf,
    ngx_vkstream_shctx_t *osh);
static ngx_vkstream_shctx_t *ngx_vkstream_table_get(ngx_slab_pool_t **pool);
static ngx_vkstream_shctx_t *ngx_vkstream_table_lock(
    ngx_slab_pool_t **pool);
static void ngx_vkstream_table_poll(ngx_event_t *ev);
static void ngx_vkstream_table_set(u_char *dst, u_short *len, size_t size,
    ngx_str_t *src);
static void ngx_vkstream_table_stream_copy(ngx_vkstream_stream_t *dst,
    ngx_vkstream_stream_t *src);
static ngx_vkstream_stream_t *ngx_vkstream_table_find_id(
    ngx_vkstream_shctx_t *sh, uint64_t id);
static ngx_vkstream_stream_t *ngx_vkstream_table_find_name(
    ngx_vkstream_shctx_t *sh, ngx_str_t *app, ngx_str_t *name,
    ngx_flag_t live);
static ngx_vkstream_stream_t *ngx_vkstream_table_find_tag(
    ngx_vkstream_shctx_t *sh, ngx_str_t *tag);
static ngx_vkstream_grule_t *ngx_vkstream_table_find_rule(
    ngx_vkstream_shctx_t *sh, ngx_str_t *tag);
static void ngx_vkstream_table_remove_locked(ngx_slab_pool_t *shpool,
    ngx_vkstream_shctx_t *sh, ngx_vkstream_stream_t *st);
static void ngx_vkstream_table_stats_locked(ngx_vkstream_shctx_t *sh,
    ngx_vkstream_stream_t *st, vks_stream_stats_t *stats);
static void ngx_vkstream_table_event_locked(ngx_vkstream_shctx_t *sh,
    ngx_uint_t type, ngx_vkstream_stream_t *st, u_char *suffix, size_t len,
    ngx_uint_t state, uint64_t match_id);


static ngx_vkstream_action_pt  ngx_vkstream_action_handler;
static ngx_event_t             ngx_vkstream_poll_event;


static size_t
ngx_vkstream_table_stream_size(ngx_uint_t matches)
{
    return ngx_align(sizeof(ngx_vkstream_stream_t), 16)
           + matches * sizeof(ngx_vkstream_match_t);
}


size_t
ngx_vkstream_table_min_size(ngx_uint_t matches)
{
    size_t  need;

    /* the header with the global ring and room for two streams */
    need = ngx_align(sizeof(ngx_vkstream_shctx_t), ngx_pagesize)
           + ngx_align(matches * sizeof(ngx_vkstream_match_t), ngx_pagesize)
           + 2 * ngx_align(ngx_vkstream_table_stream_size(matches),
                           ngx_pagesize);

    /* slab pool header, page descriptors, alignment */
    return need + need / 16 + 8 * ngx_pagesize;
}


char *
ngx_vkstream_table_init_conf(ngx_cycle_t *cycle)
{
    size_t                min;
    ngx_str_t             name = ngx_string("vkstream");
    ngx_conf_t            cf;
    ngx_vkstream_conf_t  *vcf;

    vcf = ngx_vkstream_get_conf(cycle);

    min = ngx_vkstream_table_min_size(vcf->matches);

    if (vcf->zone_size < min) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "\"vkstream_zone\" size %uzk is too small, "
                      "at least %uzk is needed with vkstream_matches %i",
                      vcf->zone_size / 1024, (min + 1023) / 1024,
                      vcf->matches);
        return NGX_CONF_ERROR;
    }

    /* ngx_shared_memory_add() only uses cf->cycle when it succeeds */
    ngx_memzero(&cf, sizeof(ngx_conf_t));
    cf.cycle = cycle;
    cf.pool = cycle->pool;
    cf.log = cycle->log;

    vcf->zone = ngx_shared_memory_add(&cf, &name, vcf->zone_size,
                                      &ngx_vkstream_module);
    if (vcf->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    vcf->zone->init = ngx_vkstream_table_init_zone;
    vcf->zone->data = vcf;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_vkstream_table_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                 ssize;
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_conf_t   *vcf;
    ngx_vkstream_shctx_t  *sh, *osh;

    vcf = shm_zone->data;
    osh = data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    ssize = ngx_vkstream_table_stream_size(vcf->matches);

    if (osh != NULL) {
        ngx_vkstream_table_keep_marker(vcf, osh);

        if (osh->matches == (ngx_uint_t) vcf->matches
            && osh->stream_size == ssize
            && osh->shctx_size == sizeof(ngx_vkstream_shctx_t))
        {
            /* a reload: keep the streams */
            shm_zone->data = osh;
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                      "vkstream: vkstream_matches changed, "
                      "the stream table starts empty");
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_vkstream_shctx_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    sh->global.ring = ngx_slab_calloc(shpool,
                               vcf->matches * sizeof(ngx_vkstream_match_t));
    if (sh->global.ring == NULL) {
        return NGX_ERROR;
    }

    sh->matches = vcf->matches;
    sh->stream_size = ssize;
    sh->shctx_size = sizeof(ngx_vkstream_shctx_t);
    ngx_memcpy(sh->marker,
               vcf->marker.data + vcf->marker.len - NGX_VKSTREAM_MARKER_LEN,
               NGX_VKSTREAM_MARKER_LEN);
    ngx_queue_init(&sh->streams);

    shpool->data = sh;
    shpool->log_nomem = 0;    /* a full table is reported once, by us */

    shm_zone->data = sh;

    return NGX_OK;
}


/*
 * The marker of the renditions' own publishes is the first cycle's, kept
 * in the zone: during a reload the old workers' outputs reach the new
 * workers, which must recognise them too.  Only hex digits are taken from
 * the zone (it may come from another build of the module).
 */
static void
ngx_vkstream_table_keep_marker(ngx_vkstream_conf_t *vcf,
    ngx_vkstream_shctx_t *osh)
{
    u_char      c;
    ngx_uint_t  i;

    for (i = 0; i < NGX_VKSTREAM_MARKER_LEN; i++) {
        c = osh->marker[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return;
        }
    }

    ngx_memcpy(vcf->marker.data + vcf->marker.len - NGX_VKSTREAM_MARKER_LEN,
               osh->marker, NGX_VKSTREAM_MARKER_LEN);
}


static ngx_vkstream_shctx_t *
ngx_vkstream_table_get(ngx_slab_pool_t **pool)
{
    ngx_vkstream_conf_t  *vcf;

    vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);

    if (vcf == NULL || vcf->zone == NULL || vcf->zone->shm.addr == NULL
        || vcf->zone->data == vcf)
    {
        return NULL;
    }

    *pool = (ngx_slab_pool_t *) vcf->zone->shm.addr;

    return vcf->zone->data;
}


/* the table with its lock held, or NULL (and nothing locked) */
static ngx_vkstream_shctx_t *
ngx_vkstream_table_lock(ngx_slab_pool_t **pool)
{
    ngx_vkstream_shctx_t  *sh;

    sh = ngx_vkstream_table_get(pool);

    if (sh != NULL) {
        ngx_shmtx_lock(&(*pool)->mutex);
    }

    return sh;
}


ngx_int_t
ngx_vkstream_table_init_process(ngx_cycle_t *cycle)
{
    ngx_slab_pool_t  *shpool;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    if (ngx_vkstream_table_get(&shpool) == NULL) {
        return NGX_OK;
    }

    ngx_vkstream_poll_event.handler = ngx_vkstream_table_poll;
    ngx_vkstream_poll_event.log = cycle->log;
    ngx_vkstream_poll_event.data = cycle;
    ngx_vkstream_poll_event.cancelable = 1;

    ngx_add_timer(&ngx_vkstream_poll_event, NGX_VKSTREAM_POLL);

    return NGX_OK;
}


void
ngx_vkstream_table_set_action_handler(ngx_vkstream_action_pt handler)
{
    ngx_vkstream_action_handler = handler;
}


/*
 * Every worker: hand the control actions stored for its streams to the
 * RTMP glue, end the entries of workers that died, drop entries whose
 * linger is over.
 */
static void
ngx_vkstream_table_poll(ngx_event_t *ev)
{
    time_t                  now;
    ngx_str_t               suffix;
    ngx_uint_t              i, n;
    ngx_queue_t            *q, *next;
    ngx_slab_pool_t        *shpool;
    ngx_vkstream_conf_t    *vcf;
    ngx_vkstream_todo_t     todo[NGX_VKSTREAM_POLL_ACTIONS];
    ngx_vkstream_shctx_t   *sh;
    ngx_vkstream_stream_t  *st;

    static time_t           checked;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    sh = ngx_vkstream_table_get(&shpool);
    if (sh == NULL) {
        return;
    }

    vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);
    now = ngx_time();
    n = 0;

    ngx_shmtx_lock(&shpool->mutex);

    for (q = ngx_queue_head(&sh->streams);
         q != ngx_queue_sentinel(&sh->streams);
         q = next)
    {
        next = ngx_queue_next(q);
        st = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

        if (st->end == 0 && !st->remote && st->pid != ngx_pid
            && checked != now
            && kill(st->pid, 0) == -1 && ngx_errno == NGX_ESRCH)
        {
            /* its worker died without closing it */
            st->end = now;
            st->nactions = 0;
            sh->closes++;
            if (st->keywords_len) {
                sh->rules_generation++;
            }
            ngx_vkstream_table_event_locked(sh, NGX_VKSTREAM_EV_UNPUBLISH, st,
                                            NULL, 0, 0, 0);
        }

        if (st->end && now - st->end >= vcf->linger) {
            ngx_vkstream_table_remove_locked(shpool, sh, st);
            continue;
        }

        if (st->pid != ngx_pid || st->nactions == 0) {
            continue;
        }

        for (i = 0; i < ngx_min(st->nactions, NGX_VKSTREAM_MAX_ACTIONS)
                    && n < NGX_VKSTREAM_POLL_ACTIONS; i++)
        {
            todo[n].id = st->id;
            todo[n].pending = st->actions[i];
            n++;
        }

        st->nactions = 0;
    }

    checked = now;

    ngx_shmtx_unlock(&shpool->mutex);

    for (i = 0; i < n; i++) {
        if (ngx_vkstream_action_handler == NULL) {
            break;
        }

        suffix.data = todo[i].pending.suffix;
        suffix.len = ngx_min(todo[i].pending.suffix_len, VKS_SUFFIX_LEN);

        ngx_log_debug2(NGX_LOG_DEBUG_CORE, ev->log, 0,
                       "vkstream: action %ui on stream %uL",
                       todo[i].pending.action, todo[i].id);

        ngx_vkstream_action_handler((ngx_uint_t) todo[i].id,
                                    todo[i].pending.action, &suffix);
    }

    ngx_add_timer(ev, NGX_VKSTREAM_POLL);
}


/* copies at most "size" bytes, cut on a UTF-8 character boundary */
static void
ngx_vkstream_table_set(u_char *dst, u_short *len, size_t size, ngx_str_t *src)
{
    size_t  n;

    if (src == NULL || src->data == NULL) {
        *len = 0;
        return;
    }

    n = vks_utf8_cut((const char *) src->data, src->len, size);

    ngx_memcpy(dst, src->data, n);
    *len = (u_short) n;
}


static ngx_flag_t
ngx_vkstream_table_eq(u_char *data, u_short len, size_t size, ngx_str_t *s)
{
    return len <= size && len == s->len && ngx_memcmp(data, s->data, len) == 0;
}


/* a copy for readers: never trust a length read from shared memory */
static void
ngx_vkstream_table_stream_copy(ngx_vkstream_stream_t *dst,
    ngx_vkstream_stream_t *src)
{
    ngx_int_t  i;

    ngx_memcpy(dst, src, sizeof(ngx_vkstream_stream_t));

    ngx_queue_init(&dst->queue);
    dst->ring = NULL;

    dst->app_len = ngx_min(dst->app_len, NGX_VKSTREAM_APP_LEN);
    dst->name_len = ngx_min(dst->name_len, NGX_VKSTREAM_NAME_LEN);
    dst->addr_len = ngx_min(dst->addr_len, NGX_VKSTREAM_ADDR_LEN);
    dst->keywords_len = ngx_min(dst->keywords_len, VKS_VK_VALUE_MAX);
    dst->tag_len = ngx_min(dst->tag_len, VKS_VK_TAG_MAX);
    dst->rule_error_len = ngx_min(dst->rule_error_len,
                                  NGX_VKSTREAM_ERROR_LEN);
    dst->node_len = ngx_min(dst->node_len, NGX_VKSTREAM_NODE_LEN);
    dst->node_url_len = ngx_min(dst->node_url_len, NGX_VKSTREAM_URL_LEN);
    dst->nactions = ngx_min(dst->nactions, NGX_VKSTREAM_MAX_ACTIONS);

    if (dst->stats.nrenditions < 0) {
        dst->stats.nrenditions = 0;
    }

    if (dst->stats.nrenditions > VKS_MAX_RENDITIONS) {
        dst->stats.nrenditions = VKS_MAX_RENDITIONS;
    }

    /* the stats strings are NUL-terminated C strings: make sure */
    dst->stats.vcodec[VKS_CODEC_LEN - 1] = '\0';
    dst->stats.acodec[VKS_CODEC_LEN - 1] = '\0';

    for (i = 0; i < VKS_MAX_RENDITIONS; i++) {
        dst->stats.r[i].suffix[VKS_SUFFIX_LEN - 1] = '\0';
        dst->stats.r[i].app[VKS_APP_LEN - 1] = '\0';
        dst->stats.r[i].last_error[VKS_ERROR_LEN - 1] = '\0';

        /* an earlier rendition or none (it was padding before) */
        if (dst->stats.r[i].duplicate_of < 0
            || dst->stats.r[i].duplicate_of > i)
        {
            dst->stats.r[i].duplicate_of = 0;
        }
    }
}


static void
ngx_vkstream_table_match_copy(ngx_vkstream_match_t *dst,
    ngx_vkstream_match_t *src)
{
    ngx_memcpy(dst, src, sizeof(ngx_vkstream_match_t));

    dst->event_type_len = ngx_min(dst->event_type_len,
                                  NGX_VKSTREAM_EVTYPE_LEN);
    dst->action_len = ngx_min(dst->action_len, NGX_VKSTREAM_EVTYPE_LEN);
    dst->url_len = ngx_min(dst->url_len, NGX_VKSTREAM_URL_LEN);
    dst->text_len = ngx_min(dst->text_len, NGX_VKSTREAM_TEXT_LEN);
    dst->author_url_len = ngx_min(dst->author_url_len, NGX_VKSTREAM_URL_LEN);
    dst->tag_len = ngx_min(dst->tag_len, VKS_VK_TAG_MAX);
}


static ngx_vkstream_stream_t *
ngx_vkstream_table_find_id(ngx_vkstream_shctx_t *sh, uint64_t id)
{
    ngx_queue_t            *q;
    ngx_vkstream_stream_t  *st;

    for (q = ngx_queue_head(&sh->streams);
         q != ngx_queue_sentinel(&sh->streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

        if (st->id == id) {
            return st;
        }
    }

    return NULL;
}


/* the newest live entry, or when "live" is off the newest ended one */
static ngx_vkstream_stream_t *
ngx_vkstream_table_find_name(ngx_vkstream_shctx_t *sh, ngx_str_t *app,
    ngx_str_t *name, ngx_flag_t live)
{
    ngx_queue_t            *q;
    ngx_vkstream_stream_t  *st, *ended, *remote;

    ended = NULL;
    remote = NULL;

    for (q = ngx_queue_head(&sh->streams);
         q != ngx_queue_sentinel(&sh->streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

        if (!ngx_vkstream_table_eq(st->app, st->app_len,
                                   NGX_VKSTREAM_APP_LEN, app)
            || !ngx_vkstream_table_eq(st->name, st->name_len,
                                      NGX_VKSTREAM_NAME_LEN, name))
        {
            continue;
        }

        /* this node's own stream before a copy of another node's */
        if (st->end == 0 && !st->remote) {
            return st;
        }

        if (st->end == 0) {
            if (remote == NULL) {
                remote = st;
            }

        } else if (ended == NULL) {
            ended = st;
        }
    }

    if (remote != NULL) {
        return remote;
    }

    return live ? NULL : ended;
}


static ngx_vkstream_stream_t *
ngx_vkstream_table_find_tag(ngx_vkstream_shctx_t *sh, ngx_str_t *tag)
{
    ngx_queue_t            *q;
    ngx_vkstream_stream_t  *st;

    for (q = ngx_queue_head(&sh->streams);
         q != ngx_queue_sentinel(&sh->streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

        if (ngx_vkstream_table_eq(st->tag, st->tag_len, VKS_VK_TAG_MAX, tag)) {
            return st;
        }
    }

    return NULL;
}


/* the live entry is the first (newest) live one with its tag */
static ngx_flag_t
ngx_vkstream_table_first_tag(ngx_vkstream_shctx_t *sh,
    ngx_vkstream_stream_t *st)
{
    ngx_str_t               tag;
    ngx_queue_t            *q;
    ngx_vkstream_stream_t  *o;

    tag.len = ngx_min(st->tag_len, VKS_VK_TAG_MAX);
    tag.data = st->tag;

    for (q = ngx_queue_head(&sh->streams);
         q != ngx_queue_sentinel(&sh->streams);
         q = ngx_queue_next(q))
    {
        o = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

        if (o->end == 0
            && ngx_vkstream_table_eq(o->tag, o->tag_len, VKS_VK_TAG_MAX, &tag))
        {
            return o == st;
        }
    }

    return 0;
}


static ngx_vkstream_grule_t *
ngx_vkstream_table_find_rule(ngx_vkstream_shctx_t *sh, ngx_str_t *tag)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_VKSTREAM_MAX_RULES; i++) {
        if (sh->rules[i].tag_len
            && ngx_vkstream_table_eq(sh->rules[i].tag, sh->rules[i].tag_len,
                                     VKS_VK_TAG_MAX, tag))
        {
            return &sh->rules[i];
        }
    }

    return NULL;
}


static void
ngx_vkstream_table_remove_locked(ngx_slab_pool_t *shpool,
    ngx_vkstream_shctx_t *sh, ngx_vkstream_stream_t *st)
{
    ngx_queue_remove(&st->queue);
    sh->nstreams--;
    sh->full_warned = 0;

    ngx_slab_free_locked(shpool, st);
}


static void
ngx_vkstream_table_event_locked(ngx_vkstream_shctx_t *sh, ngx_uint_t type,
    ngx_vkstream_stream_t *st, u_char *suffix, size_t len, ngx_uint_t state,
    uint64_t match_id)
{
    ngx_vkstream_event_t  *ev;

    /* what the other nodes of a cluster must hear about */
    if (type != NGX_VKSTREAM_EV_MATCH && type != NGX_VKSTREAM_EV_RULES
        && (st == NULL || !st->remote))
    {
        sh->local_gen++;
    }

    sh->event_seq++;

    ev = &sh->events[sh->event_seq % NGX_VKSTREAM_EVENTS];

    ev->seq = sh->event_seq;
    ev->type = type;
    ev->time = ngx_time();
    ev->state = state;
    ev->match_id = match_id;

    if (st != NULL) {
        ev->stream_id = st->id;
        ev->app_len = st->app_len;
        ev->name_len = st->name_len;
        ngx_memcpy(ev->app, st->app, st->app_len);
        ngx_memcpy(ev->name, st->name, st->name_len);

    } else {
        ev->stream_id = 0;
        ev->app_len = 0;
        ev->name_len = 0;
    }

    len = ngx_min(len, VKS_VK_TAG_MAX);
    ev->suffix_len = (u_short) len;
    if (len) {
        ngx_memcpy(ev->suffix, suffix, len);
    }

    /* the subscribers' workers are woken once the lock is released */
    ngx_vkstream_wake_post();
}


static void
ngx_vkstream_table_check_tag(ngx_vkstream_stream_t *st)
{
    static ngx_str_t  err = ngx_string("application/name too long for a "
                                       "VK rule tag");

    if (st->keywords_len && st->tag_len == 0) {
        st->rule_state = NGX_VKSTREAM_RULE_FAILED;
        st->rule_code = 0;
        ngx_vkstream_table_set(st->rule_error, &st->rule_error_len,
                               NGX_VKSTREAM_ERROR_LEN, &err);
    }
}


/*
 * The own tag of vk/vks_vk_rules.h: "vks:s:<app>/<name>", %-escaped.  One
 * that would not fit VK's VKS_VK_TAG_MAX bytes is left empty: the stream
 * then has no rule, and its rule state says why.
 */
static void
ngx_vkstream_table_make_tag(ngx_vkstream_stream_t *st)
{
    int   n;
    char  app[NGX_VKSTREAM_APP_LEN + 1], name[NGX_VKSTREAM_NAME_LEN + 1];
    char  tag[VKS_VK_TAG_MAX + 1];

    ngx_memcpy(app, st->app, st->app_len);
    app[st->app_len] = '\0';
    ngx_memcpy(name, st->name, st->name_len);
    name[st->name_len] = '\0';

    n = vks_vk_tag_encode(tag, VKS_VK_TAG_STREAM, app, name, 0);

    if (n < 0 || n > VKS_VK_TAG_MAX) {
        st->tag_len = 0;
        return;
    }

    ngx_memcpy(st->tag, tag, n);
    st->tag_len = (u_short) n;
}


ngx_int_t
ngx_vkstream_table_publish(ngx_str_t *app, ngx_str_t *name,
    ngx_str_t *addr, ngx_str_t *keywords, ngx_flag_t llhls, ngx_uint_t *id)
{
    ngx_flag_t              warn;
    ngx_queue_t            *q, *next;
    ngx_slab_pool_t        *shpool;
    ngx_vkstream_shctx_t   *sh;
    ngx_vkstream_stream_t  *st;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return NGX_DECLINED;
    }

    sh->publishes++;

    /* a republish replaces the ended entry of the same stream */
    for (q = ngx_queue_head(&sh->streams);
         q != ngx_queue_sentinel(&sh->streams);
         q = next)
    {
        next = ngx_queue_next(q);
        st = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

        if (st->end
            && ngx_vkstream_table_eq(st->app, st->app_len, NGX_VKSTREAM_APP_LEN,
                                     app)
            && ngx_vkstream_table_eq(st->name, st->name_len,
                                     NGX_VKSTREAM_NAME_LEN, name))
        {
            ngx_vkstream_table_remove_locked(shpool, sh, st);
        }
    }

    st = ngx_slab_alloc_locked(shpool, sh->stream_size);

    if (st == NULL) {
        sh->not_recorded++;
        warn = !sh->full_warned;
        sh->full_warned = 1;

        ngx_shmtx_unlock(&shpool->mutex);

        if (warn) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "vkstream: stream table full, \"%V/%V\" is not "
                          "recorded (it still transcodes); "
                          "increase \"vkstream_zone\"", app, name);
        }

        return NGX_DECLINED;
    }

    ngx_memzero(st, sizeof(ngx_vkstream_stream_t));

    st->ring = (ngx_vkstream_match_t *)
                   ((u_char *) st
                    + ngx_align(sizeof(ngx_vkstream_stream_t), 16));

    st->id = ++sh->last_id;
    st->pid = ngx_pid;
    st->start = ngx_time();
    st->llhls = llhls ? 1 : 0;

    ngx_vkstream_table_set(st->app, &st->app_len, NGX_VKSTREAM_APP_LEN, app);
    ngx_vkstream_table_set(st->name, &st->name_len, NGX_VKSTREAM_NAME_LEN,
                           name);
    ngx_vkstream_table_set(st->addr, &st->addr_len, NGX_VKSTREAM_ADDR_LEN,
                           addr);
    ngx_vkstream_table_set(st->keywords, &st->keywords_len,
                           VKS_VK_VALUE_MAX, keywords);
    ngx_vkstream_table_make_tag(st);

    if (st->keywords_len) {
        st->rule_state = NGX_VKSTREAM_RULE_PENDING;
        sh->rules_generation++;
    }

    ngx_vkstream_table_check_tag(st);

    ngx_queue_insert_head(&sh->streams, &st->queue);
    sh->nstreams++;

    ngx_vkstream_table_event_locked(sh, NGX_VKSTREAM_EV_PUBLISH, st, NULL, 0,
                                    0, 0);

    *id = (ngx_uint_t) st->id;

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


void
ngx_vkstream_table_update(ngx_uint_t id, vks_stream_stats_t *stats)
{
    ngx_slab_pool_t        *shpool;
    ngx_vkstream_shctx_t   *sh;
    ngx_vkstream_stream_t  *st;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return;
    }

    st = ngx_vkstream_table_find_id(sh, id);

    if (st == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        return;
    }

    ngx_vkstream_table_stats_locked(sh, st, stats);

    ngx_shmtx_unlock(&shpool->mutex);
}


/* new statistics, with an event for each rendition whose state changed */
static void
ngx_vkstream_table_stats_locked(ngx_vkstream_shctx_t *sh,
    ngx_vkstream_stream_t *st, vks_stream_stats_t *stats)
{
    int                     i, j, n;
    ngx_int_t               old;
    vks_rendition_stats_t  *r;

    /* an ended stream's final counts: no more events after its end */
    n = st->end ? 0 : ngx_max(0, ngx_min(stats->nrenditions,
                                         VKS_MAX_RENDITIONS));

    for (i = 0; i < n; i++) {
        r = &stats->r[i];

        old = -1;

        if (st->has_stats) {
            for (j = 0; j < ngx_min(st->stats.nrenditions,
                                    VKS_MAX_RENDITIONS); j++)
            {
                if (ngx_strncmp(st->stats.r[j].suffix, r->suffix,
                                VKS_SUFFIX_LEN) == 0)
                {
                    old = st->stats.r[j].state;
                    break;
                }
            }
        }

        /* a state change of a rendition, or a new one */
        if (old != r->state) {
            ngx_vkstream_table_event_locked(sh, NGX_VKSTREAM_EV_RENDITION, st,
                                            (u_char *) r->suffix,
                                            ngx_strnlen((u_char *) r->suffix,
                                                        VKS_SUFFIX_LEN),
                                            r->state, 0);
        }
    }

    ngx_memcpy(&st->stats, stats, sizeof(vks_stream_stats_t));
    st->has_stats = 1;
}


void
ngx_vkstream_table_close(ngx_uint_t id)
{
    ngx_slab_pool_t        *shpool;
    ngx_vkstream_shctx_t   *sh;
    ngx_vkstream_stream_t  *st;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return;
    }

    st = ngx_vkstream_table_find_id(sh, id);

    if (st != NULL && st->end == 0) {
        st->end = ngx_time();
        st->nactions = 0;
        sh->closes++;

        if (st->keywords_len) {
            sh->rules_generation++;
        }

        ngx_vkstream_table_event_locked(sh, NGX_VKSTREAM_EV_UNPUBLISH, st,
                                        NULL, 0, 0, 0);
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


ngx_int_t
ngx_vkstream_table_claim_transcode(ngx_uint_t id, ngx_uint_t max)
{
    ngx_int_t               rc;
    ngx_uint_t              n;
    ngx_queue_t            *q;
    ngx_slab_pool_t        *shpool;
    ngx_vkstream_shctx_t   *sh;
    ngx_vkstream_stream_t  *st, *mine;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return NGX_OK;
    }

    n = 0;

    for (q = ngx_queue_head(&sh->streams);
         q != ngx_queue_sentinel(&sh->streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

        if (st->end == 0 && st->transcoding) {
            n++;
        }
    }

    mine = ngx_vkstream_table_find_id(sh, id);
    sh->max_transcodes = max;

    if (mine == NULL || n >= max) {
        rc = NGX_DECLINED;

    } else {
        mine->transcoding = 1;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


/* a generation counter of the header, read under the lock (0: no zone) */
static uint64_t
ngx_vkstream_table_generation(size_t offset)
{
    uint64_t               gen;
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_shctx_t  *sh;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return 0;
    }

    gen = *(uint64_t *) ((u_char *) sh + offset);

    ngx_shmtx_unlock(&shpool->mutex);

    return gen;
}


uint64_t
ngx_vkstream_table_rules_generation(void)
{
    return ngx_vkstream_table_generation(
                offsetof(ngx_vkstream_shctx_t, rules_generation));
}


static ngx_int_t
ngx_vkstream_table_rule_push(ngx_pool_t *pool, ngx_array_t *rules, u_char *tag,
    size_t tag_len, u_char *value, size_t value_len, uint64_t stream_id)
{
    ngx_vkstream_rule_t  *r;

    r = ngx_array_push(rules);
    if (r == NULL) {
        return NGX_ERROR;
    }

    r->tag.len = ngx_min(tag_len, VKS_VK_TAG_MAX);
    r->value.len = ngx_min(value_len, VKS_VK_VALUE_MAX);
    r->stream_id = stream_id;

    r->tag.data = ngx_pnalloc(pool, r->tag.len + r->value.len + 1);
    if (r->tag.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(r->tag.data, tag, r->tag.len);
    r->value.data = r->tag.data + r->tag.len;
    ngx_memcpy(r->value.data, value, r->value.len);

    return NGX_OK;
}


ngx_int_t
ngx_vkstream_table_rules(ngx_pool_t *pool, ngx_array_t *rules,
    uint64_t *generation)
{
    ngx_int_t               rc;
    ngx_uint_t              i;
    ngx_queue_t            *q;
    ngx_slab_pool_t        *shpool;
    ngx_vkstream_shctx_t   *sh;
    ngx_vkstream_grule_t   *gr;
    ngx_vkstream_stream_t  *st;

    if (ngx_array_init(rules, pool, 8, sizeof(ngx_vkstream_rule_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sh = ngx_vkstream_table_get(&shpool);
    if (sh == NULL) {
        *generation = 0;
        return NGX_OK;
    }

    rc = NGX_OK;

    ngx_shmtx_lock(&shpool->mutex);

    *generation = sh->rules_generation;

    for (q = ngx_queue_head(&sh->streams);
         q != ngx_queue_sentinel(&sh->streams) && rc == NGX_OK;
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

        /* one rule per tag: a name live on two nodes shares it */
        if (st->end == 0 && st->keywords_len && st->tag_len
            && ngx_vkstream_table_first_tag(sh, st))
        {
            rc = ngx_vkstream_table_rule_push(pool, rules, st->tag, st->tag_len,
                                              st->keywords, st->keywords_len,
                                              st->id);
        }
    }

    for (i = 0; i < NGX_VKSTREAM_MAX_RULES && rc == NGX_OK; i++) {
        gr = &sh->rules[i];

        if (gr->tag_len) {
            rc = ngx_vkstream_table_rule_push(pool, rules, gr->tag, gr->tag_len,
                                              gr->value, gr->value_len, 0);
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


void
ngx_vkstream_table_rule_state(ngx_str_t *tag, ngx_uint_t state,
    ngx_int_t code, ngx_str_t *error)
{
    ngx_queue_t            *q;
    ngx_slab_pool_t        *shpool;
    ngx_vkstream_shctx_t   *sh;
    ngx_vkstream_grule_t   *gr;
    ngx_vkstream_stream_t  *st;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return;
    }

    st = ngx_vkstream_table_find_tag(sh, tag);

    if (st != NULL) {
        /* every live entry with the tag: a name live on two nodes */
        for (q = ngx_queue_head(&sh->streams);
             q != ngx_queue_sentinel(&sh->streams);
             q = ngx_queue_next(q))
        {
            st = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

            if (!ngx_vkstream_table_eq(st->tag, st->tag_len, VKS_VK_TAG_MAX,
                                       tag))
            {
                continue;
            }

            st->rule_state = state;
            st->rule_code = code;
            ngx_vkstream_table_set(st->rule_error, &st->rule_error_len,
                                   NGX_VKSTREAM_ERROR_LEN, error);
        }

    } else {
        gr = ngx_vkstream_table_find_rule(sh, tag);

        if (gr != NULL) {
            gr->state = state;
            gr->code = code;
            ngx_vkstream_table_set(gr->error, &gr->error_len,
                                   NGX_VKSTREAM_ERROR_LEN, error);
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


ngx_int_t
ngx_vkstream_table_add_match(ngx_str_t *tag, ngx_vkstream_match_in_t *in)
{
    ngx_time_t             *tp;
    ngx_slab_pool_t        *shpool;
    ngx_vkstream_match_t   *m;
    ngx_vkstream_shctx_t   *sh;
    ngx_vkstream_stream_t  *st, *ev_st;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return NGX_DECLINED;
    }

    if (sh->matches == 0) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_ERROR;
    }

    st = ngx_vkstream_table_find_tag(sh, tag);
    ev_st = st;

    if (st == NULL) {
        if (ngx_vkstream_table_find_rule(sh, tag) == NULL) {
            ngx_shmtx_unlock(&shpool->mutex);
            return NGX_DECLINED;
        }

        st = &sh->global;
    }

    m = &st->ring[st->match_head % sh->matches];
    st->match_head = (st->match_head + 1) % sh->matches;

    if (st->nmatches < sh->matches) {
        st->nmatches++;
    }

    st->matches_total++;

    ngx_memzero(m, sizeof(ngx_vkstream_match_t));

    tp = ngx_timeofday();

    m->id = ++st->match_last_id;
    m->created = in->created;
    m->received = (uint64_t) tp->sec * 1000 + tp->msec;
    m->author_id = in->author_id;

    ngx_vkstream_table_set(m->event_type, &m->event_type_len,
                           NGX_VKSTREAM_EVTYPE_LEN, &in->event_type);
    ngx_vkstream_table_set(m->action, &m->action_len, NGX_VKSTREAM_EVTYPE_LEN,
                           &in->action);
    ngx_vkstream_table_set(m->url, &m->url_len, NGX_VKSTREAM_URL_LEN, &in->url);
    ngx_vkstream_table_set(m->text, &m->text_len, NGX_VKSTREAM_TEXT_LEN,
                           &in->text);
    ngx_vkstream_table_set(m->author_url, &m->author_url_len,
                           NGX_VKSTREAM_URL_LEN, &in->author_url);
    ngx_vkstream_table_set(m->tag, &m->tag_len, VKS_VK_TAG_MAX, tag);

    ngx_vkstream_table_event_locked(sh, NGX_VKSTREAM_EV_MATCH, ev_st, m->tag,
                                    m->tag_len, 0, m->id);

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


void
ngx_vkstream_table_set_vk_state(ngx_vkstream_vk_state_t *vk)
{
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_shctx_t  *sh;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return;
    }
    ngx_memcpy(&sh->vk, vk, sizeof(ngx_vkstream_vk_state_t));
    ngx_shmtx_unlock(&shpool->mutex);
}


ngx_int_t
ngx_vkstream_table_streams(ngx_pool_t *pool, ngx_array_t *out)
{
    ngx_queue_t            *q;
    ngx_slab_pool_t        *shpool;
    ngx_vkstream_shctx_t   *sh;
    ngx_vkstream_stream_t  *st, *copy;

    if (ngx_array_init(out, pool, 4, sizeof(ngx_vkstream_stream_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return NGX_OK;
    }

    for (q = ngx_queue_head(&sh->streams);
         q != ngx_queue_sentinel(&sh->streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

        copy = ngx_array_push(out);
        if (copy == NULL) {
            ngx_shmtx_unlock(&shpool->mutex);
            return NGX_ERROR;
        }

        ngx_vkstream_table_stream_copy(copy, st);
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_vkstream_table_stream(ngx_pool_t *pool, ngx_str_t *app, ngx_str_t *name,
    ngx_vkstream_stream_t *copy, ngx_array_t *matches, uint64_t after,
    ngx_uint_t limit)
{
    ngx_uint_t              k, n, oldest;
    ngx_slab_pool_t        *shpool;
    ngx_vkstream_match_t   *m, *ring;
    ngx_vkstream_shctx_t   *sh;
    ngx_vkstream_stream_t  *st;

    if (matches != NULL
        && ngx_array_init(matches, pool, 4, sizeof(ngx_vkstream_match_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return NGX_DECLINED;
    }

    if (app == NULL) {
        st = &sh->global;

    } else {
        st = ngx_vkstream_table_find_name(sh, app, name, 0);

        if (st == NULL) {
            ngx_shmtx_unlock(&shpool->mutex);
            return NGX_DECLINED;
        }
    }

    ring = st->ring;
    ngx_vkstream_table_stream_copy(copy, st);

    if (sh->matches == 0) {
        ring = NULL;
    }

    n = ngx_min(st->nmatches, sh->matches);
    oldest = ring ? (st->match_head % sh->matches + sh->matches - n)
                    % sh->matches
                  : 0;

    for (k = 0; matches != NULL && ring != NULL && k < n; k++) {
        if (matches->nelts >= limit) {
            break;
        }

        m = &ring[(oldest + k) % sh->matches];

        if (m->id <= after) {
            continue;
        }

        copy = ngx_array_push(matches);
        if (copy == NULL) {
            ngx_shmtx_unlock(&shpool->mutex);
            return NGX_ERROR;
        }

        ngx_vkstream_table_match_copy((ngx_vkstream_match_t *) copy, m);
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_vkstream_table_set_keywords(ngx_str_t *app, ngx_str_t *name,
    ngx_str_t *keywords)
{
    ngx_slab_pool_t        *shpool;
    ngx_vkstream_shctx_t   *sh;
    ngx_vkstream_stream_t  *st;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return NGX_DECLINED;
    }

    st = ngx_vkstream_table_find_name(sh, app, name, 1);

    if (st == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_DECLINED;
    }

    ngx_vkstream_table_set(st->keywords, &st->keywords_len,
                           VKS_VK_VALUE_MAX, keywords);

    st->rule_state = st->keywords_len ? NGX_VKSTREAM_RULE_PENDING
                                      : NGX_VKSTREAM_RULE_NONE;
    st->rule_code = 0;
    st->rule_error_len = 0;
    ngx_vkstream_table_check_tag(st);

    sh->rules_generation++;

    /* another node's stream: the cluster glue sends them to its node */
    if (st->remote && st->nactions < NGX_VKSTREAM_MAX_ACTIONS) {
        st->actions[st->nactions].action = NGX_VKSTREAM_ACTION_KEYWORDS;
        st->actions[st->nactions].suffix_len = 0;
        st->nactions++;
    }

    ngx_vkstream_table_event_locked(sh, NGX_VKSTREAM_EV_KEYWORDS, st, NULL, 0,
                                    st->rule_state, 0);

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_vkstream_table_request(ngx_str_t *app, ngx_str_t *name,
    ngx_uint_t action, ngx_str_t *suffix)
{
    int                      i, n;
    uint64_t                 id;
    ngx_flag_t               found;
    ngx_slab_pool_t         *shpool;
    ngx_vkstream_shctx_t    *sh;
    ngx_vkstream_stream_t   *st;
    ngx_vkstream_pending_t  *p;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return NGX_DECLINED;
    }

    st = ngx_vkstream_table_find_name(sh, app, name, 1);

    if (st == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_DECLINED;
    }

    if (action != NGX_VKSTREAM_ACTION_DROP) {
        found = 0;

        if (st->has_stats) {
            n = ngx_max(0, ngx_min(st->stats.nrenditions,
                                   VKS_MAX_RENDITIONS));

            for (i = 0; i < n; i++) {
                if (ngx_strnlen((u_char *) st->stats.r[i].suffix,
                                VKS_SUFFIX_LEN) == suffix->len
                    && ngx_strncmp(st->stats.r[i].suffix, suffix->data,
                                   suffix->len) == 0)
                {
                    found = 1;
                    break;
                }
            }
        }

        if (!found) {
            ngx_shmtx_unlock(&shpool->mutex);
            return NGX_ABORT;
        }
    }

    if (st->pid == ngx_pid && ngx_vkstream_action_handler != NULL) {
        id = st->id;
        ngx_shmtx_unlock(&shpool->mutex);

        ngx_vkstream_action_handler((ngx_uint_t) id, action, suffix);
        return NGX_OK;
    }

    if (st->nactions >= NGX_VKSTREAM_MAX_ACTIONS) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_BUSY;
    }

    p = &st->actions[st->nactions++];
    p->action = action;
    ngx_vkstream_table_set(p->suffix, &p->suffix_len, VKS_SUFFIX_LEN, suffix);

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_AGAIN;
}


ngx_int_t
ngx_vkstream_table_rule_add(ngx_str_t *tag, ngx_str_t *value)
{
    ngx_uint_t             i;
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_grule_t  *gr;
    ngx_vkstream_shctx_t  *sh;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return NGX_BUSY;
    }

    gr = ngx_vkstream_table_find_rule(sh, tag);

    for (i = 0; gr == NULL && i < NGX_VKSTREAM_MAX_RULES; i++) {
        if (sh->rules[i].tag_len == 0) {
            gr = &sh->rules[i];
            ngx_vkstream_table_set(gr->tag, &gr->tag_len, VKS_VK_TAG_MAX,
                                   tag);
        }
    }

    if (gr == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_BUSY;
    }

    ngx_vkstream_table_set(gr->value, &gr->value_len, VKS_VK_VALUE_MAX,
                           value);
    gr->state = NGX_VKSTREAM_RULE_PENDING;
    gr->code = 0;
    gr->error_len = 0;

    sh->rules_generation++;
    sh->global_gen++;

    ngx_vkstream_table_event_locked(sh, NGX_VKSTREAM_EV_RULES, NULL, gr->tag,
                                    gr->tag_len, gr->state, 0);

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_vkstream_table_rule_delete(ngx_str_t *tag)
{
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_grule_t  *gr;
    ngx_vkstream_shctx_t  *sh;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return NGX_DECLINED;
    }

    gr = ngx_vkstream_table_find_rule(sh, tag);

    if (gr == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_DECLINED;
    }

    ngx_vkstream_table_event_locked(sh, NGX_VKSTREAM_EV_RULES, NULL, gr->tag,
                                    gr->tag_len, NGX_VKSTREAM_RULE_NONE, 0);

    ngx_memzero(gr, sizeof(ngx_vkstream_grule_t));
    sh->rules_generation++;
    sh->global_gen++;

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_vkstream_table_global_rules(ngx_pool_t *pool, ngx_array_t *out)
{
    ngx_uint_t             i;
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_grule_t  *gr;
    ngx_vkstream_shctx_t  *sh;

    if (ngx_array_init(out, pool, 4, sizeof(ngx_vkstream_grule_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return NGX_OK;
    }

    for (i = 0; i < NGX_VKSTREAM_MAX_RULES; i++) {
        if (sh->rules[i].tag_len == 0) {
            continue;
        }

        gr = ngx_array_push(out);
        if (gr == NULL) {
            ngx_shmtx_unlock(&shpool->mutex);
            return NGX_ERROR;
        }

        ngx_memcpy(gr, &sh->rules[i], sizeof(ngx_vkstream_grule_t));

        gr->tag_len = ngx_min(gr->tag_len, VKS_VK_TAG_MAX);
        gr->value_len = ngx_min(gr->value_len, VKS_VK_VALUE_MAX);
        gr->error_len = ngx_min(gr->error_len, NGX_VKSTREAM_ERROR_LEN);
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


ngx_uint_t
ngx_vkstream_table_events(uint64_t after, ngx_vkstream_event_t *out,
    ngx_uint_t max, uint64_t *first, uint64_t *last)
{
    uint64_t               seq, oldest;
    ngx_uint_t             n;
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_event_t  *ev;
    ngx_vkstream_shctx_t  *sh;

    *first = 0;
    *last = 0;

    sh = ngx_vkstream_table_get(&shpool);
    if (sh == NULL) {
        return 0;
    }

    n = 0;

    ngx_shmtx_lock(&shpool->mutex);

    *last = sh->event_seq;
    oldest = (sh->event_seq > NGX_VKSTREAM_EVENTS)
             ? sh->event_seq - NGX_VKSTREAM_EVENTS + 1 : 1;
    *first = oldest;

    for (seq = ngx_max(after + 1, oldest);
         seq <= sh->event_seq && n < max;
         seq++)
    {
        ev = &sh->events[seq % NGX_VKSTREAM_EVENTS];

        if (ev->seq != seq) {
            continue;
        }

        out[n] = *ev;
        out[n].app_len = ngx_min(ev->app_len, NGX_VKSTREAM_APP_LEN);
        out[n].name_len = ngx_min(ev->name_len, NGX_VKSTREAM_NAME_LEN);
        out[n].suffix_len = ngx_min(ev->suffix_len, VKS_VK_TAG_MAX);
        n++;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return n;
}


ngx_int_t
ngx_vkstream_table_summary(ngx_vkstream_summary_t *sum)
{
    ngx_uint_t              i;
    ngx_queue_t            *q;
    ngx_slab_pool_t        *shpool;
    ngx_vkstream_shctx_t   *sh;
    ngx_vkstream_stream_t  *st;

    ngx_memzero(sum, sizeof(ngx_vkstream_summary_t));

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return NGX_DECLINED;
    }

    sum->zone_size = shpool->end - (u_char *) shpool;
    sum->zone_free = shpool->pfree * ngx_pagesize;
    sum->matches_per_stream = sh->matches;
    sum->publishes = sh->publishes;
    sum->closes = sh->closes;
    sum->not_recorded = sh->not_recorded;
    sum->event_seq = sh->event_seq;
    sum->rules_generation = sh->rules_generation;
    sum->global_matches = sh->global.matches_total;
    sum->max_transcodes = sh->max_transcodes;
    sum->vk = sh->vk;
    sum->sse = sh->wake_stats;
    sum->sse.subscribers = 0;
    sum->sse.blocked = 0;

    for (i = 0; i < NGX_VKSTREAM_WAKE_SLOTS; i++) {
        if (sh->wake[i].pid) {
            sum->sse.subscribers += sh->wake[i].subscribers;
            sum->sse.blocked += sh->wake[i].blocked;
        }
    }

    for (q = ngx_queue_head(&sh->streams);
         q != ngx_queue_sentinel(&sh->streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

        if (st->remote) {
            sum->streams_remote += (st->end == 0);

        } else if (st->end) {
            sum->streams_ended++;

        } else {
            sum->streams_live++;
            sum->transcodes += (st->has_stats && st->stats.nrenditions > 0);
        }
    }

    for (i = 0; i < NGX_VKSTREAM_MAX_RULES; i++) {
        if (sh->rules[i].tag_len) {
            sum->nrules++;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    sum->vk.endpoint_len = ngx_min(sum->vk.endpoint_len,
                                   NGX_VKSTREAM_URL_LEN);
    sum->vk.service_message_len = ngx_min(sum->vk.service_message_len,
                                          NGX_VKSTREAM_ERROR_LEN);
    sum->vk.last_error_len = ngx_min(sum->vk.last_error_len,
                                     NGX_VKSTREAM_ERROR_LEN);

    return NGX_OK;
}


/* --- SSE fan-out --------------------------------------------------------- */


ngx_int_t
ngx_vkstream_table_wake_join(ngx_uint_t *slot)
{
    ngx_int_t              rc;
    ngx_uint_t             i, free;
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_shctx_t  *sh;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return NGX_DECLINED;
    }

    free = NGX_VKSTREAM_WAKE_SLOTS;

    for (i = 0; i < NGX_VKSTREAM_WAKE_SLOTS; i++) {
        if (sh->wake[i].pid == ngx_pid) {
            free = i;
            break;
        }

        if (free == NGX_VKSTREAM_WAKE_SLOTS
            && (sh->wake[i].pid == 0
                || (kill(sh->wake[i].pid, 0) == -1
                    && ngx_errno == NGX_ESRCH)))
        {
            free = i;
        }
    }

    if (free < NGX_VKSTREAM_WAKE_SLOTS) {
        sh->wake[free].pid = ngx_pid;
        sh->wake[free].subscribers = 0;
        sh->wake[free].blocked = 0;
        sh->wake[free].pending = 0;
        *slot = free;
        rc = NGX_OK;

    } else {
        rc = NGX_DECLINED;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


void
ngx_vkstream_table_wake_leave(ngx_uint_t slot)
{
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_shctx_t  *sh;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return;
    }

    if (slot < NGX_VKSTREAM_WAKE_SLOTS && sh->wake[slot].pid == ngx_pid) {
        sh->wake[slot].pid = 0;
        sh->wake[slot].subscribers = 0;
        sh->wake[slot].blocked = 0;
        sh->wake[slot].pending = 0;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


static ngx_uint_t
ngx_vkstream_table_wake_add(ngx_uint_t n, ngx_int_t delta)
{
    if (delta < 0 && n < (ngx_uint_t) -delta) {
        return 0;
    }

    return n + delta;
}


void
ngx_vkstream_table_wake_count(ngx_uint_t slot, ngx_int_t subscribers,
    ngx_int_t blocked)
{
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_waker_t  *w;
    ngx_vkstream_shctx_t  *sh;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return;
    }

    if (slot < NGX_VKSTREAM_WAKE_SLOTS && sh->wake[slot].pid == ngx_pid) {
        w = &sh->wake[slot];
        w->subscribers = ngx_vkstream_table_wake_add(w->subscribers,
                                                     subscribers);
        w->blocked = ngx_vkstream_table_wake_add(w->blocked, blocked);
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


ngx_uint_t
ngx_vkstream_table_wake_targets(ngx_uint_t slot, ngx_pid_t *pids,
    ngx_flag_t *self)
{
    ngx_uint_t             i, n;
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_waker_t  *w;
    ngx_vkstream_shctx_t  *sh;

    *self = 0;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return 0;
    }

    n = 0;

    for (i = 0; i < NGX_VKSTREAM_WAKE_SLOTS; i++) {
        w = &sh->wake[i];

        if (w->pid == 0 || w->subscribers == 0) {
            continue;
        }

        if (w->pid == ngx_pid) {
            *self = (i == slot);
            continue;
        }

        if (w->pending) {
            /* woken already: it has not looked yet */
            continue;
        }

        w->pending = 1;
        pids[n++] = w->pid;
    }

    sh->wake_stats.sent += n;

    ngx_shmtx_unlock(&shpool->mutex);

    return n;
}


void
ngx_vkstream_table_wake_failed(ngx_pid_t pid, ngx_flag_t gone)
{
    ngx_uint_t             i;
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_shctx_t  *sh;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return;
    }

    for (i = 0; i < NGX_VKSTREAM_WAKE_SLOTS; i++) {
        if (sh->wake[i].pid != pid) {
            continue;
        }

        sh->wake[i].pending = 0;

        if (gone) {
            sh->wake[i].pid = 0;
            sh->wake[i].subscribers = 0;
            sh->wake[i].blocked = 0;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


void
ngx_vkstream_table_wake_ack(ngx_uint_t slot, ngx_flag_t timer)
{
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_shctx_t  *sh;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return;
    }

    if (slot < NGX_VKSTREAM_WAKE_SLOTS && sh->wake[slot].pid == ngx_pid) {
        sh->wake[slot].pending = 0;
    }

    if (timer) {
        sh->wake_stats.timer_wakeups++;

    } else {
        sh->wake_stats.wakeups++;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


/* --- cluster mode -------------------------------------------------------- */

uint64_t
ngx_vkstream_table_local_generation(void)
{
    return ngx_vkstream_table_generation(
                offsetof(ngx_vkstream_shctx_t, local_gen));
}


uint64_t
ngx_vkstream_table_global_generation(void)
{
    return ngx_vkstream_table_generation(
                offsetof(ngx_vkstream_shctx_t, global_gen));
}


static void
ngx_vkstream_table_remote_end_locked(ngx_vkstream_shctx_t *sh,
    ngx_vkstream_stream_t *st)
{
    int  i;

    st->end = ngx_time();
    st->nactions = 0;

    /* its node is gone or ended it: nothing of it runs any more */
    for (i = 0; i < ngx_min(st->stats.nrenditions, VKS_MAX_RENDITIONS); i++) {
        st->stats.r[i].state = VKS_STATE_STOPPED;
    }

    if (st->keywords_len) {
        sh->rules_generation++;
    }

    ngx_vkstream_table_event_locked(sh, NGX_VKSTREAM_EV_UNPUBLISH, st, NULL,
                                    0, 0, 0);
}


void
ngx_vkstream_table_remote_sync(ngx_str_t *node, ngx_str_t *url,
    ngx_vkstream_remote_t *in, ngx_uint_t n)
{
    ngx_uint_t              i;
    ngx_flag_t              found;
    ngx_queue_t            *q;
    ngx_slab_pool_t        *shpool;
    ngx_vkstream_shctx_t   *sh;
    ngx_vkstream_stream_t  *st;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return;
    }

    /* the node's streams that are no longer live there */

    for (q = ngx_queue_head(&sh->streams);
         q != ngx_queue_sentinel(&sh->streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

        if (!st->remote || st->end
            || !ngx_vkstream_table_eq(st->node, st->node_len,
                                      NGX_VKSTREAM_NODE_LEN, node))
        {
            continue;
        }

        found = 0;

        for (i = 0; i < n; i++) {
            if (in[i].remote_id == st->remote_id) {
                found = 1;
                break;
            }
        }

        if (!found) {
            ngx_vkstream_table_remote_end_locked(sh, st);
        }
    }

    for (i = 0; i < n; i++) {
        st = NULL;

        for (q = ngx_queue_head(&sh->streams);
             q != ngx_queue_sentinel(&sh->streams);
             q = ngx_queue_next(q))
        {
            st = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

            if (st->remote && st->end == 0
                && st->remote_id == in[i].remote_id
                && ngx_vkstream_table_eq(st->node, st->node_len,
                                         NGX_VKSTREAM_NODE_LEN, node))
            {
                break;
            }

            st = NULL;
        }

        if (st == NULL) {
            st = ngx_slab_alloc_locked(shpool, sh->stream_size);

            if (st == NULL) {
                sh->not_recorded++;
                continue;
            }

            ngx_memzero(st, sizeof(ngx_vkstream_stream_t));

            st->ring = (ngx_vkstream_match_t *)
                           ((u_char *) st
                            + ngx_align(sizeof(ngx_vkstream_stream_t), 16));

            st->id = ++sh->last_id;
            st->pid = 0;
            st->remote = 1;
            st->remote_id = in[i].remote_id;
            st->start = in[i].start;

            ngx_vkstream_table_set(st->node, &st->node_len,
                                   NGX_VKSTREAM_NODE_LEN, node);
            ngx_vkstream_table_set(st->app, &st->app_len,
                                   NGX_VKSTREAM_APP_LEN, &in[i].app);
            ngx_vkstream_table_set(st->name, &st->name_len,
                                   NGX_VKSTREAM_NAME_LEN, &in[i].name);
            ngx_vkstream_table_set(st->addr, &st->addr_len,
                                   NGX_VKSTREAM_ADDR_LEN, &in[i].addr);
            ngx_vkstream_table_set(st->keywords, &st->keywords_len,
                                   VKS_VK_VALUE_MAX, &in[i].keywords);
            ngx_vkstream_table_set(st->tag, &st->tag_len, VKS_VK_TAG_MAX,
                                   &in[i].tag);
            st->rule_state = in[i].rule_state;

            if (st->keywords_len) {
                sh->rules_generation++;
            }

            ngx_queue_insert_head(&sh->streams, &st->queue);
            sh->nstreams++;

            ngx_vkstream_table_event_locked(sh, NGX_VKSTREAM_EV_PUBLISH, st,
                                            NULL, 0, 0, 0);

        } else if (!ngx_vkstream_table_eq(st->keywords, st->keywords_len,
                                          VKS_VK_VALUE_MAX, &in[i].keywords)
                   && st->nactions == 0)
        {
            /* changed on its node (unless a change of ours is on its way) */
            ngx_vkstream_table_set(st->keywords, &st->keywords_len,
                                   VKS_VK_VALUE_MAX, &in[i].keywords);
            ngx_vkstream_table_set(st->tag, &st->tag_len, VKS_VK_TAG_MAX,
                                   &in[i].tag);
            st->rule_state = in[i].rule_state;
            sh->rules_generation++;

            ngx_vkstream_table_event_locked(sh, NGX_VKSTREAM_EV_KEYWORDS, st,
                                            NULL, 0, st->rule_state, 0);
        }

        ngx_vkstream_table_set(st->node_url, &st->node_url_len,
                               NGX_VKSTREAM_URL_LEN, url);
        st->llhls = in[i].llhls ? 1 : 0;

        if (in[i].stats) {
            ngx_vkstream_table_stats_locked(sh, st, in[i].stats);
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


void
ngx_vkstream_table_remote_keep(ngx_str_t *nodes, ngx_uint_t n)
{
    ngx_uint_t              i;
    ngx_flag_t              keep;
    ngx_queue_t            *q;
    ngx_slab_pool_t        *shpool;
    ngx_vkstream_shctx_t   *sh;
    ngx_vkstream_stream_t  *st;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return;
    }

    for (q = ngx_queue_head(&sh->streams);
         q != ngx_queue_sentinel(&sh->streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

        if (!st->remote || st->end) {
            continue;
        }

        keep = 0;

        for (i = 0; i < n; i++) {
            if (ngx_vkstream_table_eq(st->node, st->node_len,
                                      NGX_VKSTREAM_NODE_LEN, &nodes[i]))
            {
                keep = 1;
                break;
            }
        }

        if (!keep) {
            ngx_vkstream_table_remote_end_locked(sh, st);
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


static ngx_int_t
ngx_vkstream_table_pstr(ngx_pool_t *pool, ngx_str_t *dst, u_char *src,
    size_t len)
{
    dst->len = len;
    dst->data = ngx_pnalloc(pool, len + 1);

    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src, len);
    dst->data[len] = '\0';

    return NGX_OK;
}


ngx_int_t
ngx_vkstream_table_remote_actions(ngx_pool_t *pool, ngx_array_t *out)
{
    ngx_int_t                      rc;
    ngx_uint_t                     i;
    ngx_queue_t                   *q;
    ngx_slab_pool_t               *shpool;
    ngx_vkstream_shctx_t          *sh;
    ngx_vkstream_stream_t         *st;
    ngx_vkstream_pending_t        *p;
    ngx_vkstream_remote_action_t  *a;

    if (ngx_array_init(out, pool, 4, sizeof(ngx_vkstream_remote_action_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return NGX_OK;
    }

    rc = NGX_OK;

    for (q = ngx_queue_head(&sh->streams);
         q != ngx_queue_sentinel(&sh->streams) && rc == NGX_OK;
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_vkstream_stream_t, queue);

        if (!st->remote || st->end || st->nactions == 0) {
            continue;
        }

        for (i = 0; i < ngx_min(st->nactions, NGX_VKSTREAM_MAX_ACTIONS)
                    && rc == NGX_OK; i++)
        {
            p = &st->actions[i];

            a = ngx_array_push(out);
            if (a == NULL) {
                rc = NGX_ERROR;
                break;
            }

            ngx_memzero(a, sizeof(ngx_vkstream_remote_action_t));
            a->action = p->action;

            if (ngx_vkstream_table_pstr(pool, &a->node, st->node,
                    ngx_min(st->node_len, NGX_VKSTREAM_NODE_LEN)) != NGX_OK
                || ngx_vkstream_table_pstr(pool, &a->app, st->app,
                    ngx_min(st->app_len, NGX_VKSTREAM_APP_LEN)) != NGX_OK
                || ngx_vkstream_table_pstr(pool, &a->name, st->name,
                    ngx_min(st->name_len, NGX_VKSTREAM_NAME_LEN)) != NGX_OK
                || ngx_vkstream_table_pstr(pool, &a->suffix, p->suffix,
                    ngx_min(p->suffix_len, VKS_SUFFIX_LEN)) != NGX_OK
                || ngx_vkstream_table_pstr(pool, &a->keywords, st->keywords,
                    ngx_min(st->keywords_len, VKS_VK_VALUE_MAX)) != NGX_OK)
            {
                rc = NGX_ERROR;
            }
        }

        st->nactions = 0;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


uint64_t
ngx_vkstream_table_rules_replace(ngx_str_t *tags, ngx_str_t *values,
    ngx_uint_t n)
{
    uint64_t               gen;
    ngx_uint_t             i, j;
    ngx_flag_t             same;
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_grule_t  *gr;
    ngx_vkstream_shctx_t  *sh;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return 0;
    }

    n = ngx_min(n, NGX_VKSTREAM_MAX_RULES);

    /* unchanged: keep the rules and their states */
    same = 1;

    for (i = 0, j = 0; i < NGX_VKSTREAM_MAX_RULES; i++) {
        gr = &sh->rules[i];

        if (gr->tag_len == 0) {
            continue;
        }

        if (j >= n
            || !ngx_vkstream_table_eq(gr->tag, gr->tag_len, VKS_VK_TAG_MAX,
                                      &tags[j])
            || !ngx_vkstream_table_eq(gr->value, gr->value_len,
                                      VKS_VK_VALUE_MAX, &values[j]))
        {
            same = 0;
            break;
        }

        j++;
    }

    if (!same || j != n) {
        for (i = 0; i < NGX_VKSTREAM_MAX_RULES; i++) {
            gr = &sh->rules[i];

            ngx_memzero(gr, sizeof(ngx_vkstream_grule_t));

            if (i < n) {
                ngx_vkstream_table_set(gr->tag, &gr->tag_len, VKS_VK_TAG_MAX,
                                       &tags[i]);
                ngx_vkstream_table_set(gr->value, &gr->value_len,
                                       VKS_VK_VALUE_MAX, &values[i]);
                gr->state = NGX_VKSTREAM_RULE_PENDING;
            }
        }

        sh->rules_generation++;

        ngx_vkstream_table_event_locked(sh, NGX_VKSTREAM_EV_RULES, NULL, NULL,
                                        0, NGX_VKSTREAM_RULE_PENDING, 0);
    }

    gen = sh->global_gen;

    ngx_shmtx_unlock(&shpool->mutex);

    return gen;
}


void
ngx_vkstream_table_set_cluster(ngx_vkstream_cluster_t *c)
{
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_shctx_t  *sh;

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return;
    }

    ngx_memcpy(&sh->cluster, c, sizeof(ngx_vkstream_cluster_t));

    ngx_shmtx_unlock(&shpool->mutex);
}


ngx_int_t
ngx_vkstream_table_cluster(ngx_vkstream_cluster_t *c)
{
    ngx_uint_t             i;
    ngx_slab_pool_t       *shpool;
    ngx_vkstream_node_t   *nd;
    ngx_vkstream_shctx_t  *sh;

    ngx_memzero(c, sizeof(ngx_vkstream_cluster_t));

    sh = ngx_vkstream_table_lock(&shpool);
    if (sh == NULL) {
        return NGX_DECLINED;
    }

    ngx_memcpy(c, &sh->cluster, sizeof(ngx_vkstream_cluster_t));

    ngx_shmtx_unlock(&shpool->mutex);

    c->node_len = ngx_min(c->node_len, NGX_VKSTREAM_NODE_LEN);
    c->redis_len = ngx_min(c->redis_len, NGX_VKSTREAM_URL_LEN);
    c->holder_len = ngx_min(c->holder_len, NGX_VKSTREAM_NODE_LEN);
    c->last_error_len = ngx_min(c->last_error_len, NGX_VKSTREAM_ERROR_LEN);
    c->nnodes = ngx_min(c->nnodes, NGX_VKSTREAM_MAX_NODES);

    for (i = 0; i < c->nnodes; i++) {
        nd = &c->nodes[i];
        nd->name_len = ngx_min(nd->name_len, NGX_VKSTREAM_NODE_LEN);
        nd->url_len = ngx_min(nd->url_len, NGX_VKSTREAM_URL_LEN);
        nd->version_len = ngx_min(nd->version_len, 16);
    }

    return NGX_OK;
}


const char *
ngx_vkstream_event_name(ngx_uint_t type)
{
    static const char  *names[] = {
        "unknown", "publish", "unpublish", "rendition", "match", "keywords",
        "rules"
    };

    return names[type < sizeof(names) / sizeof(names[0]) ? type : 0];
}


const char *
ngx_vkstream_rule_state_name(ngx_uint_t state)
{
    static const char  *names[] = { "none", "pending", "active", "failed" };

    return state < 4 ? names[state] : "unknown";
}


const char *
ngx_vkstream_vk_state_name(ngx_uint_t state)
{
    static const char  *names[] = {
        "off", "connecting", "connected", "backoff", "error"
    };

    return state < 5 ? names[state] : "unknown";
}


const char *
ngx_vkstream_rendition_state_name(ngx_uint_t state)
{
    static const char  *names[] = {
        "starting", "running", "failed", "stopped"
    };

    return state < 4 ? names[state] : "unknown";
}
