
/*
 * vkstream cluster mode: the nginx side of cluster/.  Worker 0 of each
 * node runs the agent (cluster/vks_cluster_agent.c: its own threads talk
 * to Redis) and, from the event loop only, on the agent's notifications
 * and a 250 ms timer:
 *
 *   runs the VK client while this node holds the lease, and stops it as
 *   soon as it does not (the lease's margin leaves time for that);
 *   publishes this node's record: its live streams, load, and as VK
 *   holder the rule states and the VK connection's state;
 *   copies the other nodes' streams into the table as remote entries, so
 *   the API, SSE and the holder's rule set see every stream;
 *   files the holder's matches, carries control requests to the owning
 *   node, and keeps the global rules the same on every node.
 *
 * Nothing here blocks; only this worker's event loop touches nginx and
 * the shared zone.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_vkstream.h"
#include "ngx_vkstream_cluster.h"
#include "ngx_vkstream_notify.h"
#include "ngx_vkstream_table.h"
#include "cluster/vks_cluster_agent.h"
#include "cluster/vks_cluster_doc.h"


#define NGX_VKSTREAM_CLUSTER_TICK     250      /* ms */
#define NGX_VKSTREAM_CLUSTER_RECORD   1000     /* ms between records */
#define NGX_VKSTREAM_CLUSTER_EVENTS   64       /* taken per round */


_Static_assert(NGX_VKSTREAM_NODE_LEN == VKS_CLUSTER_NODE_MAX,
               "node name sizes differ");


static void ngx_vkstream_cluster_tick(ngx_event_t *ev);
static void ngx_vkstream_cluster_drain(void);
static void ngx_vkstream_cluster_run(void);
static void ngx_vkstream_cluster_shutdown(ngx_log_t *log);
static void ngx_vkstream_cluster_view(vks_cluster_agent_status_t *st,
    ngx_vkstream_cluster_t *cl);
static void ngx_vkstream_cluster_node(vks_cluster_record_t *rec,
    ngx_str_t *name, ngx_vkstream_node_t *nd, ngx_flag_t holder);
static uint64_t ngx_vkstream_cluster_num(vks_cluster_record_t *rec,
    const char *field);
static void ngx_vkstream_cluster_rules_in(void);
static void ngx_vkstream_cluster_rules_out(void);
static void ngx_vkstream_cluster_events(void);
static void ngx_vkstream_cluster_command(vks_cluster_record_t *rec);
static void ngx_vkstream_cluster_actions(void);
static void ngx_vkstream_cluster_record(ngx_flag_t changed,
    vks_cluster_agent_status_t *st);
static double ngx_vkstream_cluster_cpu(void);


static vks_cluster_agent_t         *ngx_vkstream_cluster_agent;
static ngx_event_t                  ngx_vkstream_cluster_timer;
static ngx_connection_t             ngx_vkstream_cluster_dummy;
static uint64_t                     ngx_vkstream_cluster_local_sent;
static ngx_msec_t                   ngx_vkstream_cluster_record_at;
static uint64_t                     ngx_vkstream_cluster_global_synced;
static ngx_flag_t                   ngx_vkstream_cluster_rules_known;
static uint64_t                     ngx_vkstream_cluster_token_seen;
static uint64_t                     ngx_vkstream_cluster_lease_seen;
static ngx_uint_t                   ngx_vkstream_cluster_verdict;
static ngx_vkstream_cluster_t       ngx_vkstream_cluster_state;
static uint64_t                     ngx_vkstream_cluster_cpu_idle;
static uint64_t                     ngx_vkstream_cluster_cpu_total;
static double                       ngx_vkstream_cluster_cpu_busy;
static u_char                       ngx_vkstream_cluster_view_holder[
                                        NGX_VKSTREAM_NODE_LEN];
static size_t                       ngx_vkstream_cluster_view_holder_len;


static char *
ngx_vkstream_cluster_ttl_check(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *ms = data;

    if (*ms < 100 || *ms > VKS_CLUSTER_TTL_MAX_MS) {
        return "must be between 100ms and 1h";
    }

    return NGX_CONF_OK;
}

ngx_conf_post_handler_pt  ngx_vkstream_cluster_ttl_post =
    ngx_vkstream_cluster_ttl_check;


char *
ngx_vkstream_cluster_set_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_vkstream_conf_t  *vcf = conf;

    ngx_str_t          *value;
    vks_cluster_url_t  *u;

    if (vcf->cluster.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    u = ngx_pcalloc(cf->pool, sizeof(vks_cluster_url_t));
    if (u == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the reason names the part, never the URL: it may hold a password */
    if (vks_cluster_url_parse(u, (char *) value[1].data, value[1].len) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid \"%V\": %s",
                           &cmd->name, u->err);
        return NGX_CONF_ERROR;
    }

    vcf->cluster = value[1];
    vcf->cluster_redis = u;

    return NGX_CONF_OK;
}


char *
ngx_vkstream_cluster_set_node(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_vkstream_conf_t  *vcf = conf;

    ngx_str_t   *value;
    const char  *why;

    if (vcf->cluster_node.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    why = vks_cluster_keys_node_check((char *) value[1].data, value[1].len);

    if (why) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid \"%V\" \"%V\": %s",
                           &cmd->name, &value[1], why);
        return NGX_CONF_ERROR;
    }

    vcf->cluster_node = value[1];

    return NGX_CONF_OK;
}


char *
ngx_vkstream_cluster_set_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_vkstream_conf_t  *vcf = conf;

    size_t      i;
    ngx_str_t  *value, url;

    if (vcf->cluster_url.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    url = value[1];

    while (url.len && url.data[url.len - 1] == '/') {
        url.len--;
    }

    /* printable, no spaces: it goes into links and JSON as is */
    for (i = 0; i < url.len; i++) {
        if (url.data[i] <= ' ' || url.data[i] >= 0x7f) {
            break;
        }
    }

    if (i < url.len || url.len > 200
        || !((url.len > 7 && ngx_strncmp(url.data, "http://", 7) == 0)
             || (url.len > 8 && ngx_strncmp(url.data, "https://", 8) == 0)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\" \"%V\": an http:// or https:// "
                           "URL of at most 200 printable bytes",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    vcf->cluster_url = url;

    return NGX_CONF_OK;
}


char *
ngx_vkstream_cluster_set_prefix(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_vkstream_conf_t  *vcf = conf;

    ngx_str_t           *value;
    vks_cluster_keys_t   k;

    if (vcf->cluster_prefix.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (vks_cluster_keys_init(&k, (char *) value[1].data, value[1].len) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid \"%V\" \"%V\": %s",
                           &cmd->name, &value[1], k.err);
        return NGX_CONF_ERROR;
    }

    vcf->cluster_prefix = value[1];

    return NGX_CONF_OK;
}


char *
ngx_vkstream_cluster_init_conf(ngx_cycle_t *cycle, ngx_vkstream_conf_t *vcf)
{
    const char  *why;

    ngx_conf_init_msec_value(vcf->cluster_ttl, VKS_CLUSTER_TTL_DEFAULT_MS);

    if (vcf->cluster.len == 0) {
        if (vcf->cluster_node.len || vcf->cluster_url.len
            || vcf->cluster_prefix.len)
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "\"vkstream_cluster_node\", \"vkstream_cluster_url\""
                          " and \"vkstream_cluster_prefix\" need "
                          "\"vkstream_cluster\"");
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (vcf->cluster_node.len == 0) {
        vcf->cluster_node = cycle->hostname;

        why = vks_cluster_keys_node_check((char *) vcf->cluster_node.data,
                                          vcf->cluster_node.len);
        if (why) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "the host name \"%V\" is not a valid "
                          "\"vkstream_cluster_node\" (%s): set one",
                          &vcf->cluster_node, why);
            return NGX_CONF_ERROR;
        }
    }

    if (vcf->cluster_prefix.len == 0) {
        ngx_str_set(&vcf->cluster_prefix, VKS_CLUSTER_PREFIX_DEFAULT);
    }

    return NGX_CONF_OK;
}


static char *
ngx_vkstream_cluster_cstr(ngx_cycle_t *cycle, ngx_str_t *s)
{
    u_char  *p;

    p = ngx_pnalloc(cycle->pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s->data, s->len);
    p[s->len] = '\0';

    return (char *) p;
}


ngx_int_t
ngx_vkstream_cluster_init_process(ngx_cycle_t *cycle)
{
    char                       err[256];
    u_char                     redacted[VKS_CLUSTER_URL_REDACTED_LEN];
    size_t                     n;
    ngx_vkstream_conf_t       *vcf;
    ngx_vkstream_cluster_t    *cl;
    vks_cluster_agent_conf_t   cf;

    vcf = ngx_vkstream_get_conf(cycle);

    if (vcf == NULL || vcf->cluster.len == 0) {
        return NGX_OK;
    }

    /* one agent per node, in worker 0 (a respawned worker 0 starts again) */
    if (!(ngx_process == NGX_PROCESS_SINGLE
          || (ngx_process == NGX_PROCESS_WORKER && ngx_worker == 0)))
    {
        return NGX_OK;
    }

    cl = &ngx_vkstream_cluster_state;
    ngx_memzero(cl, sizeof(ngx_vkstream_cluster_t));

    n = vks_cluster_url_redact(vcf->cluster_redis, (char *) redacted,
                               sizeof(redacted));
    cl->enabled = 1;
    cl->state = NGX_VKSTREAM_CLUSTER_CONNECTING;
    cl->redis_len = (u_short) ngx_min(n, NGX_VKSTREAM_URL_LEN);
    ngx_memcpy(cl->redis, redacted, cl->redis_len);
    cl->node_len = (u_short) vcf->cluster_node.len;
    ngx_memcpy(cl->node, vcf->cluster_node.data, cl->node_len);

    if (ngx_vkstream_notify_add(cycle, ngx_vkstream_cluster_drain) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "vkstream: cluster agent not started");
        return NGX_OK;
    }

    ngx_memzero(&cf, sizeof(cf));
    cf.url = *(vks_cluster_url_t *) vcf->cluster_redis;
    cf.prefix = ngx_vkstream_cluster_cstr(cycle, &vcf->cluster_prefix);
    cf.node = ngx_vkstream_cluster_cstr(cycle, &vcf->cluster_node);
    cf.ttl_ms = vcf->cluster_ttl;
    cf.notify = ngx_vkstream_notify;
    cf.notify_data = NULL;
    cf.seed = (uint32_t) ngx_pid ^ (uint32_t) ngx_time();
    cf.contend = ngx_vkstream_vk_enabled(cycle);

    ngx_vkstream_cluster_agent = vks_cluster_agent_start(&cf, err,
                                                         sizeof(err));
    vks_cluster_url_wipe(&cf.url);

    if (ngx_vkstream_cluster_agent == NULL) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "vkstream: cluster agent not started: %s", err);
        ngx_vkstream_notify_del(ngx_vkstream_cluster_drain);
        return NGX_OK;
    }

    ngx_vkstream_cluster_local_sent = 0;
    ngx_vkstream_cluster_record_at = 0;
    ngx_vkstream_cluster_rules_known = 0;
    ngx_vkstream_cluster_token_seen = 0;
    ngx_vkstream_cluster_verdict = VKS_CLUSTER_LEASE_UNKNOWN;
    ngx_vkstream_cluster_global_synced =
                                     ngx_vkstream_table_global_generation();

    ngx_vkstream_table_set_cluster(cl);

    ngx_vkstream_cluster_timer.handler = ngx_vkstream_cluster_tick;
    ngx_vkstream_cluster_timer.log = cycle->log;
    ngx_vkstream_cluster_dummy.fd = (ngx_socket_t) -1;
    ngx_vkstream_cluster_timer.data = &ngx_vkstream_cluster_dummy;
    ngx_vkstream_cluster_timer.cancelable = 1;

    ngx_add_timer(&ngx_vkstream_cluster_timer, NGX_VKSTREAM_CLUSTER_TICK);

    if (vcf->cluster_url.len == 0) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "vkstream: no \"vkstream_cluster_url\": the other "
                      "nodes link this node's streams to themselves");
    }

    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                  "vkstream: cluster node \"%V\" on %*s, prefix \"%V\"",
                  &vcf->cluster_node, (size_t) cl->redis_len, cl->redis,
                  &vcf->cluster_prefix);

    return NGX_OK;
}


void
ngx_vkstream_cluster_exit_process(ngx_cycle_t *cycle)
{
    ngx_vkstream_cluster_shutdown(cycle->log);
}


void
ngx_vkstream_cluster_self(ngx_str_t *node, ngx_str_t *url)
{
    ngx_vkstream_conf_t  *vcf;

    vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);

    ngx_str_null(node);
    ngx_str_null(url);

    if (vcf && vcf->cluster.len) {
        *node = vcf->cluster_node;
        *url = vcf->cluster_url;
    }
}


/*
 * VK first (while the lease still covers it), then the agent, which
 * releases the lease so that another node takes over at once.
 */
static void
ngx_vkstream_cluster_shutdown(ngx_log_t *log)
{
    if (ngx_vkstream_cluster_agent == NULL) {
        return;
    }

    if (ngx_vkstream_cluster_timer.timer_set) {
        ngx_del_timer(&ngx_vkstream_cluster_timer);
    }

    if (ngx_vkstream_vk_running()) {
        ngx_vkstream_vk_stop(log);
    }

    vks_cluster_agent_stop(ngx_vkstream_cluster_agent);
    ngx_vkstream_cluster_agent = NULL;

    ngx_vkstream_notify_del(ngx_vkstream_cluster_drain);

    ngx_log_error(NGX_LOG_INFO, log, 0, "vkstream: cluster agent stopped");
}


static void
ngx_vkstream_cluster_tick(ngx_event_t *ev)
{
    if (ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_vkstream_cluster_shutdown(ev->log);
        return;
    }

    ngx_vkstream_cluster_run();

    ngx_add_timer(ev, NGX_VKSTREAM_CLUSTER_TICK);
}


static void
ngx_vkstream_cluster_drain(void)
{
    if (ngx_vkstream_cluster_agent == NULL
        || ngx_exiting || ngx_quit || ngx_terminate)
    {
        return;
    }

    ngx_vkstream_cluster_run();
}


static void
ngx_vkstream_cluster_run(void)
{
    uint64_t                     gen;
    ngx_msec_t                   now;
    ngx_flag_t                   changed;
    ngx_vkstream_cluster_t      *cl;
    vks_cluster_agent_status_t   st;

    cl = &ngx_vkstream_cluster_state;

    vks_cluster_agent_status(ngx_vkstream_cluster_agent, &st);

    /* VK runs on the lease holder only, and stops the moment it is not */

    if (st.verdict != ngx_vkstream_cluster_verdict) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "vkstream: cluster: VK lease %s%s%s (token %uL)",
                      st.verdict == VKS_CLUSTER_LEASE_MINE ? "held here"
                      : st.verdict == VKS_CLUSTER_LEASE_THEIRS ? "held by "
                      : "unknown",
                      st.verdict == VKS_CLUSTER_LEASE_THEIRS ? st.holder : "",
                      st.verdict == VKS_CLUSTER_LEASE_UNKNOWN
                      ? ": VK stopped until Redis answers" : "",
                      st.verdict == VKS_CLUSTER_LEASE_MINE ? st.token
                                                           : st.seen);
        ngx_vkstream_cluster_verdict = st.verdict;
    }

    if (st.verdict == VKS_CLUSTER_LEASE_MINE) {
        if (!ngx_vkstream_vk_running()
            && ngx_vkstream_vk_enabled((ngx_cycle_t *) ngx_cycle))
        {
            ngx_vkstream_vk_start((ngx_cycle_t *) ngx_cycle);
        }

    } else if (ngx_vkstream_vk_running()) {
        ngx_vkstream_vk_stop(ngx_cycle->log);
    }

    /* the newest holder's token is the fence for the matches heard */
    ngx_vkstream_cluster_lease_seen = st.seen;

    if (st.seen > ngx_vkstream_cluster_token_seen) {
        ngx_vkstream_cluster_token_seen = st.seen;
    }

    if (st.redis == VKS_CLUSTER_REDIS_CONNECTED) {
        cl->state = NGX_VKSTREAM_CLUSTER_CONNECTED;

    } else if (st.redis == VKS_CLUSTER_REDIS_DISCONNECTED) {
        if (cl->state != NGX_VKSTREAM_CLUSTER_DISCONNECTED) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "vkstream: cluster: Redis unreachable (%s); "
                          "streams go on, VK waits", st.last_error);
        }

        cl->state = NGX_VKSTREAM_CLUSTER_DISCONNECTED;
    }

    cl->since_ms = st.redis_since_ms;
    cl->mine = (st.verdict == VKS_CLUSTER_LEASE_MINE);
    cl->token = st.token;
    cl->holder_len = (u_short) ngx_strlen(st.holder);
    ngx_memcpy(cl->holder, st.holder, cl->holder_len);
    cl->last_error_len = (u_short) ngx_min(ngx_strlen(st.last_error),
                                           NGX_VKSTREAM_ERROR_LEN);
    ngx_memcpy(cl->last_error, st.last_error, cl->last_error_len);
    cl->heartbeats = st.heartbeats;
    cl->reconnects = st.reconnects;
    cl->errors = st.errors;
    cl->sent = st.sent;
    cl->received = st.received;
    cl->dropped = st.dropped;
    cl->invalid = st.invalid;
    cl->acquisitions = st.acquisitions;
    cl->losses = st.losses;

    ngx_vkstream_cluster_view(&st, cl);

    /* a node without VK knows the holder from the holder's record */
    if (cl->holder_len == 0 && st.redis == VKS_CLUSTER_REDIS_CONNECTED) {
        cl->holder_len = (u_short) ngx_vkstream_cluster_view_holder_len;
        ngx_memcpy(cl->holder, ngx_vkstream_cluster_view_holder,
                   cl->holder_len);
    }
    ngx_vkstream_cluster_rules_in();
    ngx_vkstream_cluster_rules_out();
    ngx_vkstream_cluster_events();
    ngx_vkstream_cluster_actions();

    now = ngx_current_msec;
    gen = ngx_vkstream_table_local_generation();
    changed = (gen != ngx_vkstream_cluster_local_sent);

    if (changed
        || now - ngx_vkstream_cluster_record_at
           >= NGX_VKSTREAM_CLUSTER_RECORD)
    {
        ngx_vkstream_cluster_record(changed, &st);
        ngx_vkstream_cluster_local_sent = gen;
        ngx_vkstream_cluster_record_at = now;
    }

    ngx_vkstream_table_set_cluster(cl);
}


/* the other nodes: their streams into the table, their load into the view */

static void
ngx_vkstream_cluster_view(vks_cluster_agent_status_t *st,
    ngx_vkstream_cluster_t *cl)
{
    char                       err[VKS_CLUSTER_DOC_ERR_LEN];
    size_t                     i, j, n, len;
    ngx_str_t                  name, url, *keep;
    ngx_uint_t                 nkeep;
    ngx_flag_t                 holder;
    const char                *value;
    vks_cluster_view_t         v;
    ngx_vkstream_conf_t       *vcf;
    ngx_vkstream_node_t       *nd;
    ngx_vkstream_remote_t     *rs;
    ngx_vkstream_summary_t     sum;
    vks_cluster_doc_stream_t  *ds;
    vks_cluster_doc_rule_t    *dr;
    ngx_str_t                  tag, error;

    vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);

    /* this node, first */

    nd = &cl->nodes[0];
    ngx_memzero(nd, sizeof(ngx_vkstream_node_t));
    nd->self = 1;
    nd->name_len = (u_short) vcf->cluster_node.len;
    ngx_memcpy(nd->name, vcf->cluster_node.data, nd->name_len);
    nd->url_len = (u_short) vcf->cluster_url.len;
    ngx_memcpy(nd->url, vcf->cluster_url.data, nd->url_len);
    nd->version_len = sizeof(NGX_VKSTREAM_VERSION) - 1;
    ngx_memcpy(nd->version, NGX_VKSTREAM_VERSION, nd->version_len);
    nd->vk = cl->mine;
    nd->cpu_busy = ngx_vkstream_cluster_cpu_busy;
    nd->heartbeat_ms = (uint64_t) ngx_time() * 1000;

    if (ngx_vkstream_table_summary(&sum) == NGX_OK) {
        nd->live = sum.streams_live;
        nd->transcodes = sum.transcodes;
        nd->max_transcodes = sum.max_transcodes;
    }

    if (cl->nnodes == 0) {
        cl->nnodes = 1;
    }

    /*
     * Redis lost for longer than the TTL: the other nodes' records have
     * expired there too, so their streams are ended here.
     */
    if (st->redis != VKS_CLUSTER_REDIS_CONNECTED
        && (uint64_t) ngx_time() * 1000
           > st->redis_since_ms + vcf->cluster_ttl)
    {
        if (cl->nnodes > 1) {
            ngx_vkstream_table_remote_keep(NULL, 0);
            cl->nnodes = 1;
        }

        return;
    }

    if (!vks_cluster_agent_take_view(ngx_vkstream_cluster_agent, &v)) {
        return;
    }

    ngx_vkstream_cluster_view_holder_len = 0;

    keep = ngx_alloc((v.n + 1) * sizeof(ngx_str_t), ngx_cycle->log);
    if (keep == NULL) {
        vks_cluster_view_free(&v);
        return;
    }

    nkeep = 0;
    cl->nnodes = 1;

    for (i = 0; i < v.n; i++) {
        name.data = (u_char *) v.names[i];
        name.len = ngx_strlen(v.names[i]);
        keep[nkeep++] = name;

        /* the holder says so in its record (read by nodes without VK) */
        holder = (ngx_vkstream_cluster_num(&v.recs[i], "vk") == 1
                  && st->verdict != VKS_CLUSTER_LEASE_MINE);

        if (holder) {
            ngx_vkstream_cluster_view_holder_len = ngx_min(name.len,
                                                       NGX_VKSTREAM_NODE_LEN);
            ngx_memcpy(ngx_vkstream_cluster_view_holder, name.data,
                       ngx_vkstream_cluster_view_holder_len);
        }

        ngx_vkstream_cluster_node(&v.recs[i], &name,
                                  cl->nnodes < NGX_VKSTREAM_MAX_NODES
                                  ? &cl->nodes[cl->nnodes] : NULL,
                                  holder);

        if (cl->nnodes < NGX_VKSTREAM_MAX_NODES) {
            cl->nnodes++;
        }

        url.data = (u_char *) vks_cluster_record_get(&v.recs[i], "url", &len);
        url.len = url.data ? ngx_min(len, NGX_VKSTREAM_URL_LEN) : 0;

        value = vks_cluster_record_get(&v.recs[i], "streams", &len);

        if (value == NULL) {
            continue;
        }

        if (vks_cluster_doc_streams_decode(value, len, &ds, &n, err,
                                           sizeof(err))
            != 0)
        {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "vkstream: cluster: node \"%V\" has a record "
                          "that is not ours, ignored: %s", &name, err);
            continue;
        }

        rs = ngx_alloc((n + 1) * sizeof(ngx_vkstream_remote_t),
                       ngx_cycle->log);

        if (rs != NULL) {
            for (j = 0; j < n; j++) {
                rs[j].remote_id = ds[j].id;
                rs[j].start = (time_t) ds[j].start;
                rs[j].app.data = (u_char *) ds[j].app;
                rs[j].app.len = ds[j].app_len;
                rs[j].name.data = (u_char *) ds[j].name;
                rs[j].name.len = ds[j].name_len;
                rs[j].addr.data = (u_char *) ds[j].addr;
                rs[j].addr.len = ds[j].addr_len;
                rs[j].keywords.data = (u_char *) ds[j].keywords;
                rs[j].keywords.len = ds[j].keywords_len;
                rs[j].tag.data = (u_char *) ds[j].tag;
                rs[j].tag.len = ds[j].tag_len;
                rs[j].rule_state = (ngx_uint_t) ds[j].rule_state;
                rs[j].transcoding = ds[j].transcoding;
                rs[j].llhls = ds[j].llhls;
                rs[j].stats = ds[j].has_stats ? &ds[j].stats : NULL;
            }

            ngx_vkstream_table_remote_sync(&name, &url, rs, n);
            ngx_free(rs);
        }

        free(ds);

        /* the VK holder's word on every rule's state */
        if (!holder) {
            continue;
        }

        value = vks_cluster_record_get(&v.recs[i], "rules", &len);

        if (value == NULL
            || vks_cluster_doc_rules_decode(value, len, &dr, &n, err,
                                            sizeof(err))
               != 0)
        {
            continue;
        }

        for (j = 0; j < n; j++) {
            tag.data = (u_char *) dr[j].tag;
            tag.len = dr[j].tag_len;
            error.data = (u_char *) dr[j].error;
            error.len = dr[j].error_len;

            ngx_vkstream_table_rule_state(&tag, dr[j].state,
                                          (ngx_int_t) dr[j].code,
                                          error.len ? &error : NULL);
        }

        free(dr);
    }

    ngx_vkstream_table_remote_keep(keep, nkeep);

    ngx_free(keep);
    vks_cluster_view_free(&v);
}


static uint64_t
ngx_vkstream_cluster_num(vks_cluster_record_t *rec, const char *field)
{
    size_t       len;
    ngx_int_t    n;
    const char  *v;

    v = vks_cluster_record_get(rec, field, &len);

    if (v == NULL || len == 0 || len > 20) {
        return 0;
    }

    n = ngx_atoi((u_char *) v, len);

    return n == NGX_ERROR ? 0 : (uint64_t) n;
}


static void
ngx_vkstream_cluster_node(vks_cluster_record_t *rec, ngx_str_t *name,
    ngx_vkstream_node_t *nd, ngx_flag_t holder)
{
    size_t                    len;
    const char               *v;
    ngx_vkstream_vk_state_t   vk;

    /* the holder's VK state stands for the cluster's on every node */
    if (holder && !ngx_vkstream_vk_running()) {
        ngx_memzero(&vk, sizeof(vk));
        vk.state = (ngx_uint_t) ngx_vkstream_cluster_num(rec, "vk_state");
        if (vk.state > NGX_VKSTREAM_VK_ERROR) {
            vk.state = NGX_VKSTREAM_VK_ERROR;
        }
        vk.since = (time_t) ngx_vkstream_cluster_num(rec, "vk_since");
        vk.received = ngx_vkstream_cluster_num(rec, "vk_received");
        vk.stored = ngx_vkstream_cluster_num(rec, "vk_stored");
        vk.reconnects = ngx_vkstream_cluster_num(rec, "vk_reconnects");

        v = vks_cluster_record_get(rec, "vk_endpoint", &len);
        if (v) {
            vk.endpoint_len = (u_short) ngx_min(len, NGX_VKSTREAM_URL_LEN);
            ngx_memcpy(vk.endpoint, v, vk.endpoint_len);
        }

        ngx_vkstream_table_set_vk_state(&vk);
    }

    if (nd == NULL) {
        return;
    }

    ngx_memzero(nd, sizeof(ngx_vkstream_node_t));

    nd->name_len = (u_short) ngx_min(name->len, NGX_VKSTREAM_NODE_LEN);
    ngx_memcpy(nd->name, name->data, nd->name_len);

    v = vks_cluster_record_get(rec, "url", &len);
    if (v) {
        nd->url_len = (u_short) ngx_min(len, NGX_VKSTREAM_URL_LEN);
        ngx_memcpy(nd->url, v, nd->url_len);
    }

    v = vks_cluster_record_get(rec, "version", &len);
    if (v) {
        nd->version_len = (u_short) ngx_min(len, 16);
        ngx_memcpy(nd->version, v, nd->version_len);
    }

    nd->live = (ngx_uint_t) ngx_vkstream_cluster_num(rec, "live");
    nd->transcodes = (ngx_uint_t) ngx_vkstream_cluster_num(rec, "transcodes");
    nd->max_transcodes = (ngx_uint_t) ngx_vkstream_cluster_num(rec,
                                                             "max_transcodes");
    /* per mille on the wire */
    nd->cpu_busy = ngx_min(ngx_vkstream_cluster_num(rec, "cpu_busy"), 1000)
                   / 1000.0;
    nd->heartbeat_ms = ngx_vkstream_cluster_num(rec, "time_ms");
    nd->vk = holder;
}


/* the global rules: Redis's copy wins, then ours go out when they change */

static void
ngx_vkstream_cluster_rules_in(void)
{
    char                     err[VKS_CLUSTER_DOC_ERR_LEN];
    char                    *json;
    size_t                   len, i, n;
    ngx_str_t               *tags, *values;
    vks_cluster_doc_rule_t  *dr;

    if (!vks_cluster_agent_take_rules(ngx_vkstream_cluster_agent, &json,
                                      &len))
    {
        return;
    }

    ngx_vkstream_cluster_rules_known = 1;

    if (json == NULL) {
        /* a new cluster: this node's rules, if any, seed it */
        ngx_vkstream_cluster_global_synced--;
        return;
    }

    if (vks_cluster_doc_rules_decode(json, len, &dr, &n, err, sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "vkstream: cluster: the global rules in Redis are not "
                      "ours, ignored: %s", err);
        free(json);
        return;
    }

    free(json);

    tags = ngx_alloc((n + 1) * 2 * sizeof(ngx_str_t), ngx_cycle->log);

    if (tags != NULL) {
        values = tags + n + 1;

        for (i = 0; i < n; i++) {
            tags[i].data = (u_char *) dr[i].tag;
            tags[i].len = dr[i].tag_len;
            values[i].data = (u_char *) dr[i].value;
            values[i].len = dr[i].value_len;
        }

        ngx_vkstream_cluster_global_synced =
                        ngx_vkstream_table_rules_replace(tags, values, n);
        ngx_free(tags);
    }

    free(dr);
}


static void
ngx_vkstream_cluster_rules_out(void)
{
    char                    *json;
    size_t                   len;
    uint64_t                 gen;
    ngx_uint_t               i, n;
    ngx_pool_t              *pool;
    ngx_array_t              rules;
    ngx_vkstream_grule_t    *gr;
    vks_cluster_doc_rule_t  *dr;

    /* not before Redis's copy is known: it would be overwritten */
    if (!ngx_vkstream_cluster_rules_known) {
        return;
    }

    gen = ngx_vkstream_table_global_generation();

    if (gen == ngx_vkstream_cluster_global_synced) {
        return;
    }

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    if (ngx_vkstream_table_global_rules(pool, &rules) != NGX_OK) {
        goto done;
    }

    gr = rules.elts;
    n = rules.nelts;

    dr = ngx_pcalloc(pool, (n + 1) * sizeof(vks_cluster_doc_rule_t));
    if (dr == NULL) {
        goto done;
    }

    for (i = 0; i < n; i++) {
        dr[i].tag_len = ngx_min(gr[i].tag_len, VKS_CLUSTER_DOC_TAG_LEN - 1);
        ngx_memcpy(dr[i].tag, gr[i].tag, dr[i].tag_len);
        dr[i].value_len = ngx_min(gr[i].value_len,
                                  VKS_CLUSTER_DOC_VALUE_LEN - 1);
        ngx_memcpy(dr[i].value, gr[i].value, dr[i].value_len);
    }

    json = vks_cluster_doc_rules_encode(dr, n, &len);

    if (json != NULL) {
        if (vks_cluster_agent_set_rules(ngx_vkstream_cluster_agent, json, len)
            == 0)
        {
            ngx_vkstream_cluster_global_synced = gen;
        }

        free(json);
    }

done:

    ngx_destroy_pool(pool);
}


/* what the other nodes sent: the holder's matches, requests for us */

static void
ngx_vkstream_cluster_events(void)
{
    size_t                    i, n, len;
    uint64_t                  token;
    ngx_str_t                 tag;
    const char               *type, *v;
    vks_cluster_record_t      recs[NGX_VKSTREAM_CLUSTER_EVENTS];
    ngx_vkstream_match_in_t   m;

    do {
        n = vks_cluster_agent_take_events(ngx_vkstream_cluster_agent, recs,
                                          NGX_VKSTREAM_CLUSTER_EVENTS);

        for (i = 0; i < n; i++) {
            type = vks_cluster_record_get(&recs[i], VKS_CLUSTER_F_TYPE, NULL);

            if (type && ngx_strcmp(type, "cmd") == 0) {
                ngx_vkstream_cluster_command(&recs[i]);
                vks_cluster_record_free(&recs[i]);
                continue;
            }

            if (type == NULL || ngx_strcmp(type, "match") != 0) {
                vks_cluster_record_free(&recs[i]);
                continue;
            }

            /*
             * A holder that lost the lease (an older fencing token) is
             * not heard.  The fence moves only as far as a token the
             * lease itself showed, so that another writer's huge token
             * cannot silence the real holder.
             */
            token = ngx_vkstream_cluster_num(&recs[i], "token");

            if (token < ngx_vkstream_cluster_token_seen) {
                vks_cluster_record_free(&recs[i]);
                continue;
            }

            ngx_vkstream_cluster_token_seen =
                ngx_max(ngx_vkstream_cluster_token_seen,
                        ngx_min(token, ngx_vkstream_cluster_lease_seen));

            tag.data = (u_char *) vks_cluster_record_get(&recs[i], "tag",
                                                         &tag.len);
            if (tag.data == NULL) {
                vks_cluster_record_free(&recs[i]);
                continue;
            }

            ngx_memzero(&m, sizeof(m));

#define ngx_vkstream_cluster_field(f, s)                                     \
            v = vks_cluster_record_get(&recs[i], f, &len);                   \
            if (v) {                                                         \
                (s).data = (u_char *) v;                                     \
                (s).len = len;                                               \
            }

            ngx_vkstream_cluster_field("event_type", m.event_type);
            ngx_vkstream_cluster_field("action", m.action);
            ngx_vkstream_cluster_field("url", m.url);
            ngx_vkstream_cluster_field("text", m.text);
            ngx_vkstream_cluster_field("author_url", m.author_url);

#undef ngx_vkstream_cluster_field

            v = vks_cluster_record_get(&recs[i], "author_id", &len);
            m.author_id = (v && len && len < 21) ? strtoll(v, NULL, 10) : 0;
            m.created = (time_t) ngx_vkstream_cluster_num(&recs[i],
                                                          "created");

            (void) ngx_vkstream_table_add_match(&tag, &m);

            vks_cluster_record_free(&recs[i]);
        }

    } while (n == NGX_VKSTREAM_CLUSTER_EVENTS);
}


static void
ngx_vkstream_cluster_command(vks_cluster_record_t *rec)
{
    size_t                  len;
    ngx_str_t               to, app, name, suffix, keywords, node, url;
    ngx_int_t               rc;
    ngx_uint_t              action;
    const char             *what;
    ngx_pool_t             *pool;
    ngx_vkstream_stream_t   st;

    ngx_vkstream_cluster_self(&node, &url);

    to.data = (u_char *) vks_cluster_record_get(rec, "to", &to.len);

    if (to.data == NULL || to.len != node.len
        || ngx_strncmp(to.data, node.data, node.len) != 0)
    {
        return;                                 /* for another node */
    }

    what = vks_cluster_record_get(rec, "action", &len);
    app.data = (u_char *) vks_cluster_record_get(rec, "app", &app.len);
    name.data = (u_char *) vks_cluster_record_get(rec, "name", &name.len);
    suffix.data = (u_char *) vks_cluster_record_get(rec, "suffix",
                                                    &suffix.len);
    keywords.data = (u_char *) vks_cluster_record_get(rec, "keywords",
                                                      &keywords.len);

    if (what == NULL || app.data == NULL || name.data == NULL) {
        return;
    }

    if (suffix.data == NULL) {
        ngx_str_set(&suffix, "");
    }

    action = ngx_strcmp(what, "drop") == 0 ? NGX_VKSTREAM_ACTION_DROP
             : ngx_strcmp(what, "restart") == 0 ? NGX_VKSTREAM_ACTION_RESTART
             : ngx_strcmp(what, "stop") == 0 ? NGX_VKSTREAM_ACTION_STOP
             : ngx_strcmp(what, "keywords") == 0
               ? NGX_VKSTREAM_ACTION_KEYWORDS : 0;

    /* only for a stream of this node: never sent on again */

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    rc = ngx_vkstream_table_stream(pool, &app, &name, &st, NULL, 0, 0);

    if (rc != NGX_OK || st.remote || st.end || action == 0) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "vkstream: cluster: request \"%s\" for \"%V/%V\" "
                      "ignored: no such live stream here", what, &app,
                      &name);
        ngx_destroy_pool(pool);
        return;
    }

    ngx_destroy_pool(pool);

    if (action == NGX_VKSTREAM_ACTION_KEYWORDS) {
        rc = ngx_vkstream_table_set_keywords(&app, &name,
                                             keywords.data && keywords.len
                                             ? &keywords : NULL);

    } else {
        rc = ngx_vkstream_table_request(&app, &name, action, &suffix);
    }

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "vkstream: cluster: request \"%s\" for \"%V/%V\" from "
                  "another node: %s", what, &app, &name,
                  rc == NGX_OK || rc == NGX_AGAIN ? "done" : "refused");
}


/* requests on other nodes' streams, made through this node's API */

static void
ngx_vkstream_cluster_actions(void)
{
    ngx_uint_t                     i;
    const char                    *what;
    ngx_pool_t                    *pool;
    ngx_array_t                    actions;
    vks_cluster_field_t            f[7];
    ngx_vkstream_remote_action_t  *a;

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    if (ngx_vkstream_table_remote_actions(pool, &actions) != NGX_OK) {
        goto done;
    }

    a = actions.elts;

    for (i = 0; i < actions.nelts; i++) {
        what = a[i].action == NGX_VKSTREAM_ACTION_DROP ? "drop"
               : a[i].action == NGX_VKSTREAM_ACTION_RESTART ? "restart"
               : a[i].action == NGX_VKSTREAM_ACTION_STOP ? "stop"
               : "keywords";

        f[0].name = VKS_CLUSTER_F_TYPE;
        f[0].value = "cmd";
        f[0].len = 3;
        f[1].name = "to";
        f[1].value = (char *) a[i].node.data;
        f[1].len = a[i].node.len;
        f[2].name = "action";
        f[2].value = what;
        f[2].len = ngx_strlen(what);
        f[3].name = "app";
        f[3].value = (char *) a[i].app.data;
        f[3].len = a[i].app.len;
        f[4].name = "name";
        f[4].value = (char *) a[i].name.data;
        f[4].len = a[i].name.len;
        f[5].name = "suffix";
        f[5].value = (char *) a[i].suffix.data;
        f[5].len = a[i].suffix.len;
        f[6].name = "keywords";
        f[6].value = (char *) a[i].keywords.data;
        f[6].len = a[i].action == NGX_VKSTREAM_ACTION_KEYWORDS
                   ? a[i].keywords.len : 0;

        if (vks_cluster_agent_send(ngx_vkstream_cluster_agent, f, 7) != 0) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "vkstream: cluster: request \"%s\" for \"%V/%V\" "
                          "on node \"%V\" not sent (queue full)", what,
                          &a[i].app, &a[i].name, &a[i].node);
        }
    }

done:

    ngx_destroy_pool(pool);
}


void
ngx_vkstream_cluster_match(ngx_str_t *tag, ngx_vkstream_match_in_t *m)
{
    u_char                       token[NGX_INT64_LEN], author[NGX_INT64_LEN];
    u_char                       created[NGX_INT64_LEN];
    vks_cluster_field_t          f[10];
    vks_cluster_agent_status_t   st;

    if (ngx_vkstream_cluster_agent == NULL) {
        return;
    }

    vks_cluster_agent_status(ngx_vkstream_cluster_agent, &st);

    if (st.verdict != VKS_CLUSTER_LEASE_MINE) {
        return;
    }

    f[0].name = VKS_CLUSTER_F_TYPE;
    f[0].value = "match";
    f[0].len = 5;
    f[1].name = "token";
    f[1].value = (char *) token;
    f[1].len = ngx_sprintf(token, "%uL", st.token) - token;
    f[2].name = "tag";
    f[2].value = (char *) tag->data;
    f[2].len = tag->len;
    f[3].name = "event_type";
    f[3].value = (char *) m->event_type.data;
    f[3].len = m->event_type.len;
    f[4].name = "action";
    f[4].value = (char *) m->action.data;
    f[4].len = m->action.len;
    f[5].name = "url";
    f[5].value = (char *) m->url.data;
    f[5].len = m->url.len;
    f[6].name = "text";
    f[6].value = (char *) m->text.data;
    f[6].len = m->text.len;
    f[7].name = "author_url";
    f[7].value = (char *) m->author_url.data;
    f[7].len = m->author_url.len;
    f[8].name = "author_id";
    f[8].value = (char *) author;
    f[8].len = ngx_sprintf(author, "%L", m->author_id) - author;
    f[9].name = "created";
    f[9].value = (char *) created;
    f[9].len = ngx_sprintf(created, "%T", m->created) - created;

    (void) vks_cluster_agent_send(ngx_vkstream_cluster_agent, f, 10);
}


/* this node's record: its live streams, its load, VK as the holder */

static void
ngx_vkstream_cluster_record(ngx_flag_t changed,
    vks_cluster_agent_status_t *ast)
{
    char                      *streams, *rules;
    u_char                     num[VKS_CLUSTER_FIELDS_MAX][NGX_INT64_LEN];

    /* at most VKS_CLUSTER_FIELDS_MAX fields: 8, and 8 more as holder */
    size_t                     slen, rlen;
    ngx_uint_t                 i, n, nr, k;
    ngx_pool_t                *pool;
    ngx_array_t                arr, grules;
    ngx_vkstream_conf_t       *vcf;
    ngx_vkstream_stream_t     *st;
    ngx_vkstream_grule_t      *gr;
    ngx_vkstream_summary_t     sum;
    vks_cluster_field_t        f[VKS_CLUSTER_FIELDS_MAX];
    vks_cluster_doc_stream_t  *ds;
    vks_cluster_doc_rule_t    *dr;

    vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);
    ngx_vkstream_cluster_cpu_busy = ngx_vkstream_cluster_cpu();

    if (ngx_vkstream_table_summary(&sum) != NGX_OK) {
        return;
    }

    pool = ngx_create_pool(16384, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    streams = NULL;
    rules = NULL;
    slen = 0;
    rlen = 0;

    if (ngx_vkstream_table_streams(pool, &arr) != NGX_OK) {
        goto done;
    }

    st = arr.elts;

    ds = ngx_pcalloc(pool, (arr.nelts + 1) * sizeof(vks_cluster_doc_stream_t));
    dr = ngx_pcalloc(pool, (arr.nelts + NGX_VKSTREAM_MAX_RULES + 1)
                           * sizeof(vks_cluster_doc_rule_t));
    if (ds == NULL || dr == NULL) {
        goto done;
    }

    n = 0;
    nr = 0;

    for (i = 0; i < arr.nelts && n < VKS_CLUSTER_DOC_STREAMS_MAX; i++) {
        if (st[i].end) {
            continue;
        }

        /* as holder: the state of every live stream's rule, ours or not */
        if (ast->verdict == VKS_CLUSTER_LEASE_MINE && st[i].tag_len
            && st[i].keywords_len && nr < VKS_CLUSTER_DOC_RULES_MAX)
        {
            dr[nr].tag_len = st[i].tag_len;
            ngx_memcpy(dr[nr].tag, st[i].tag, st[i].tag_len);
            dr[nr].state = (int) st[i].rule_state;
            dr[nr].code = st[i].rule_code;
            dr[nr].error_len = st[i].rule_error_len;
            ngx_memcpy(dr[nr].error, st[i].rule_error, st[i].rule_error_len);
            nr++;
        }

        if (st[i].remote) {
            continue;
        }

        ds[n].id = st[i].id;
        ds[n].start = st[i].start;
        ds[n].app_len = st[i].app_len;
        ngx_memcpy(ds[n].app, st[i].app, st[i].app_len);
        ds[n].name_len = st[i].name_len;
        ngx_memcpy(ds[n].name, st[i].name, st[i].name_len);
        ds[n].addr_len = st[i].addr_len;
        ngx_memcpy(ds[n].addr, st[i].addr, st[i].addr_len);
        ds[n].keywords_len = st[i].keywords_len;
        ngx_memcpy(ds[n].keywords, st[i].keywords, st[i].keywords_len);
        ds[n].tag_len = st[i].tag_len;
        ngx_memcpy(ds[n].tag, st[i].tag, st[i].tag_len);
        ds[n].rule_state = (int) st[i].rule_state;
        ds[n].rule_code = st[i].rule_code;
        ds[n].rule_error_len = st[i].rule_error_len;
        ngx_memcpy(ds[n].rule_error, st[i].rule_error,
                   st[i].rule_error_len);
        ds[n].transcoding = st[i].has_stats && st[i].stats.nrenditions > 0;
        ds[n].llhls = st[i].llhls ? 1 : 0;
        ds[n].has_stats = st[i].has_stats;
        ds[n].stats = st[i].stats;
        n++;
    }

    if (ast->verdict == VKS_CLUSTER_LEASE_MINE
        && ngx_vkstream_table_global_rules(pool, &grules) == NGX_OK)
    {
        gr = grules.elts;

        for (i = 0; i < grules.nelts && nr < VKS_CLUSTER_DOC_RULES_MAX; i++) {
            dr[nr].tag_len = ngx_min(gr[i].tag_len,
                                     VKS_CLUSTER_DOC_TAG_LEN - 1);
            ngx_memcpy(dr[nr].tag, gr[i].tag, dr[nr].tag_len);
            dr[nr].state = (int) gr[i].state;
            dr[nr].code = gr[i].code;
            dr[nr].error_len = gr[i].error_len;
            ngx_memcpy(dr[nr].error, gr[i].error, gr[i].error_len);
            nr++;
        }
    }

    streams = vks_cluster_doc_streams_encode(ds, n, &slen);
    if (streams == NULL) {
        goto done;
    }

    if (ast->verdict == VKS_CLUSTER_LEASE_MINE) {
        rules = vks_cluster_doc_rules_encode(dr, nr, &rlen);
    }

    k = 0;

#define ngx_vkstream_cluster_set(fname, v, l)                                \
    f[k].name = fname;                                                       \
    f[k].value = (const char *) (v);                                         \
    f[k].len = (l);                                                          \
    k++

#define ngx_vkstream_cluster_setnum(fname, fmt, v)                           \
    f[k].name = fname;                                                       \
    f[k].value = (const char *) num[k];                                      \
    f[k].len = ngx_sprintf(num[k], fmt, v) - num[k];                         \
    k++

    ngx_vkstream_cluster_set("url", vcf->cluster_url.data,
                             vcf->cluster_url.len);
    ngx_vkstream_cluster_set("version", NGX_VKSTREAM_VERSION,
                             sizeof(NGX_VKSTREAM_VERSION) - 1);
    ngx_vkstream_cluster_setnum("time_ms", "%uL",
                                (uint64_t) ngx_time() * 1000
                                + (ngx_timeofday())->msec);
    ngx_vkstream_cluster_setnum("live", "%ui", sum.streams_live);
    ngx_vkstream_cluster_setnum("transcodes", "%ui", sum.transcodes);
    ngx_vkstream_cluster_setnum("max_transcodes", "%ui", sum.max_transcodes);
    ngx_vkstream_cluster_setnum("cpu_busy", "%ui",
                                (ngx_uint_t) (ngx_vkstream_cluster_cpu_busy
                                              * 1000));
    ngx_vkstream_cluster_set("streams", streams, slen);

    if (ast->verdict == VKS_CLUSTER_LEASE_MINE) {
        ngx_vkstream_cluster_set("vk", "1", 1);
        ngx_vkstream_cluster_setnum("vk_state", "%ui", sum.vk.state);
        ngx_vkstream_cluster_setnum("vk_since", "%T", sum.vk.since);
        ngx_vkstream_cluster_setnum("vk_received", "%uL", sum.vk.received);
        ngx_vkstream_cluster_setnum("vk_stored", "%uL", sum.vk.stored);
        ngx_vkstream_cluster_setnum("vk_reconnects", "%uL",
                                    sum.vk.reconnects);
        ngx_vkstream_cluster_set("vk_endpoint", sum.vk.endpoint,
                                 sum.vk.endpoint_len);

        if (rules) {
            ngx_vkstream_cluster_set("rules", rules, rlen);
        }
    }

#undef ngx_vkstream_cluster_set
#undef ngx_vkstream_cluster_setnum

    if (vks_cluster_agent_set_record(ngx_vkstream_cluster_agent, f, k,
                                     changed)
        != 0)
    {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "vkstream: cluster: this node's record is too large "
                      "for Redis (%uz bytes of streams)", slen);
    }

done:

    free(streams);
    free(rules);
    ngx_destroy_pool(pool);
}


/* the share of CPU time not idle since the last call, 0..1 */

static double
ngx_vkstream_cluster_cpu(void)
{
    int        fd;
    char       buf[256];
    ssize_t    n;
    uint64_t   v[8], idle, total, di, dt;
    ngx_int_t  i;

    fd = open("/proc/stat", O_RDONLY);
    if (fd == -1) {
        return 0.0;
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (n <= 0) {
        return 0.0;
    }

    buf[n] = '\0';

    ngx_memzero(v, sizeof(v));

    if (sscanf(buf, "cpu %lu %lu %lu %lu %lu %lu %lu %lu",
               &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7])
        < 4)
    {
        return 0.0;
    }

    total = 0;
    for (i = 0; i < 8; i++) {
        total += v[i];
    }

    idle = v[3] + v[4];     /* idle, iowait */

    di = idle - ngx_vkstream_cluster_cpu_idle;
    dt = total - ngx_vkstream_cluster_cpu_total;

    ngx_vkstream_cluster_cpu_idle = idle;
    ngx_vkstream_cluster_cpu_total = total;

    if (dt == 0 || di > dt) {
        return ngx_vkstream_cluster_cpu_busy;
    }

    return 1.0 - (double) di / dt;
}
