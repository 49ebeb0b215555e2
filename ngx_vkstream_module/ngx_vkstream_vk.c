
/*
 * vkstream: the VK Streaming API client's nginx side.  The client itself
 * (vk/vks_vk_client.c) runs libwebsockets in a thread of worker 0 only
 * (a respawned worker 0 starts it again).  This event-loop side hands it
 * the desired rules when the table's rules generation moves (polled every
 * 100 ms) and, woken through the worker's notifier (ngx_vkstream_notify.c),
 * files what it sends back (matches, rule states, log lines, status) into
 * the stream table.  Only this side touches nginx structures and the shared
 * zone.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_vkstream.h"
#include "ngx_vkstream_cluster.h"
#include "ngx_vkstream_notify.h"
#include "ngx_vkstream_table.h"
#include "vk/vks_vk_client.h"
#include "vk/vks_vk_endpoint.h"
#include "vk/vks_vk_rules.h"


#define NGX_VKSTREAM_VK_POLL   100      /* ms */
/* matches closer than this: take them by a timer, not by wake-ups */
#define NGX_VKSTREAM_VK_BUSY   1        /* ms */
#define NGX_VKSTREAM_VK_STOP   1000     /* ms to wait for the thread */


/* states are copied from the client into the table as numbers */

_Static_assert(NGX_VKSTREAM_VK_OFF == VKS_VK_ST_OFF
               && NGX_VKSTREAM_VK_CONNECTING == VKS_VK_ST_CONNECTING
               && NGX_VKSTREAM_VK_CONNECTED == VKS_VK_ST_CONNECTED
               && NGX_VKSTREAM_VK_BACKOFF == VKS_VK_ST_BACKOFF
               && NGX_VKSTREAM_VK_ERROR == VKS_VK_ST_ERROR,
               "VK connection states differ");

_Static_assert(NGX_VKSTREAM_RULE_PENDING == VKS_VK_RULE_PENDING
               && NGX_VKSTREAM_RULE_ACTIVE == VKS_VK_RULE_ACTIVE
               && NGX_VKSTREAM_RULE_FAILED == VKS_VK_RULE_FAILED,
               "VK rule states differ");

/* and strings are cut to the table's sizes: the same, so nothing is lost */

_Static_assert(NGX_VKSTREAM_URL_LEN == VKS_VK_STR_MAX
               && NGX_VKSTREAM_ERROR_LEN == VKS_VK_STR_MAX
               && NGX_VKSTREAM_EVTYPE_LEN
                  == sizeof(((vks_vk_out_t *) 0)->event_type)
               && NGX_VKSTREAM_EVTYPE_LEN
                  == sizeof(((vks_vk_out_t *) 0)->action),
               "VK string sizes differ");


static void ngx_vkstream_vk_timer_handler(ngx_event_t *ev);
static void ngx_vkstream_vk_busy_handler(ngx_event_t *ev);
static void ngx_vkstream_vk_drain(void);
static void ngx_vkstream_vk_push_rules(void);
static void ngx_vkstream_vk_shutdown(ngx_log_t *log);


static vks_vk_client_t          *ngx_vkstream_vk_client;
static ngx_event_t               ngx_vkstream_vk_timer;
static ngx_event_t               ngx_vkstream_vk_busy;
static ngx_msec_t                ngx_vkstream_vk_last_take;
static ngx_connection_t          ngx_vkstream_vk_dummy;
static uint64_t                  ngx_vkstream_vk_gen;
static ngx_uint_t                ngx_vkstream_vk_pushed;
static uint64_t                  ngx_vkstream_vk_stored;
static uint64_t                  ngx_vkstream_vk_unrouted;
static ngx_vkstream_vk_state_t   ngx_vkstream_vk_state;
static ngx_uint_t                ngx_vkstream_vk_ticks;
static ngx_uint_t                ngx_vkstream_vk_force;


static char *
ngx_vkstream_vk_cstr(ngx_cycle_t *cycle, ngx_str_t *s)
{
    u_char  *p;

    if (s->len == 0) {
        return NULL;
    }

    p = ngx_pnalloc(cycle->pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s->data, s->len);
    p[s->len] = '\0';

    return (char *) p;
}


char *
ngx_vkstream_vk_init_conf(ngx_cycle_t *cycle, ngx_vkstream_conf_t *vcf)
{
    u_char             host[VKS_VK_HOST_MAX + 1], prefix[VKS_VK_STR_MAX];
    int                tls;
    unsigned           port;
    vks_vk_endpoint_t  ep;

    ngx_conf_init_value(vcf->vk_verify, 1);
    ngx_conf_init_value(vcf->vk_delete_foreign, 0);
    ngx_conf_init_size_value(vcf->vk_max_message, 1024 * 1024);
    ngx_conf_init_size_value(vcf->vk_text_len, NGX_VKSTREAM_TEXT_LEN);

    if (vcf->vk_api.len == 0) {
        ngx_str_set(&vcf->vk_api, "https://api.vk.com");
    }

    if (vcf->vk_text_len < 1 || vcf->vk_text_len > NGX_VKSTREAM_TEXT_LEN) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "\"vkstream_vk_text_len\" must be between 1 and %d",
                      NGX_VKSTREAM_TEXT_LEN);
        return NGX_CONF_ERROR;
    }

    if (vcf->vk_max_message < 4096) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "\"vkstream_vk_max_message\" must be at least 4k");
        return NGX_CONF_ERROR;
    }

    if (vcf->vk_api.len >= VKS_VK_STR_MAX
        || vks_vk_url_split(ngx_vkstream_vk_cstr(cycle, &vcf->vk_api),
                            (char *) host, &port, &tls, (char *) prefix)
           != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "invalid \"vkstream_vk_api\" \"%V\"", &vcf->vk_api);
        return NGX_CONF_ERROR;
    }

    if (vcf->vk_token.len && vcf->vk_endpoint.len) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "\"vkstream_vk_token\" and \"vkstream_vk_endpoint\" "
                      "exclude each other");
        return NGX_CONF_ERROR;
    }

    if ((vcf->vk_endpoint.len == 0) != (vcf->vk_key.len == 0)) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "\"vkstream_vk_endpoint\" needs \"vkstream_vk_key\" "
                      "and the other way round");
        return NGX_CONF_ERROR;
    }

    if (vcf->vk_endpoint.len
        && (vks_vk_endpoint_split((char *) vcf->vk_endpoint.data,
                                  vcf->vk_endpoint.len, &ep)
            != 0
            || vcf->vk_key.len > VKS_VK_KEY_MAX))
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "invalid \"vkstream_vk_endpoint\" \"%V\" (host[:port])"
                      " or \"vkstream_vk_key\"", &vcf->vk_endpoint);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_vkstream_vk_init_process(ngx_cycle_t *cycle)
{
    ngx_vkstream_conf_t   *vcf;

    vcf = ngx_vkstream_get_conf(cycle);

    if (vcf == NULL || (vcf->vk_token.len == 0 && vcf->vk_endpoint.len == 0))
    {
        return NGX_OK;          /* VK is off */
    }

    /* one connection per key: the client runs in worker 0 only */
    if (!(ngx_process == NGX_PROCESS_SINGLE
          || (ngx_process == NGX_PROCESS_WORKER && ngx_worker == 0)))
    {
        return NGX_OK;
    }

    /* in a cluster, only on the node that holds the lease */
    if (vcf->cluster.len) {
        return NGX_OK;
    }

    return ngx_vkstream_vk_start(cycle);
}


ngx_flag_t
ngx_vkstream_vk_enabled(ngx_cycle_t *cycle)
{
    ngx_vkstream_conf_t  *vcf;

    vcf = ngx_vkstream_get_conf(cycle);

    return vcf && (vcf->vk_token.len || vcf->vk_endpoint.len);
}


ngx_flag_t
ngx_vkstream_vk_running(void)
{
    return ngx_vkstream_vk_client != NULL;
}


/* starts the client in this worker: worker 0, or the lease holder's */
ngx_int_t
ngx_vkstream_vk_start(ngx_cycle_t *cycle)
{
    char                   err[256];
    ngx_vkstream_conf_t   *vcf;
    vks_vk_client_conf_t   cf;

    vcf = ngx_vkstream_get_conf(cycle);

    if (ngx_vkstream_vk_client != NULL || !ngx_vkstream_vk_enabled(cycle)) {
        return NGX_OK;
    }

    if (ngx_vkstream_notify_add(cycle, ngx_vkstream_vk_drain) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "vkstream: VK client not started");
        return NGX_OK;
    }

    ngx_memzero(&cf, sizeof(cf));
    cf.api = ngx_vkstream_vk_cstr(cycle, &vcf->vk_api);
    cf.token = ngx_vkstream_vk_cstr(cycle, &vcf->vk_token);
    cf.endpoint = ngx_vkstream_vk_cstr(cycle, &vcf->vk_endpoint);
    cf.key = ngx_vkstream_vk_cstr(cycle, &vcf->vk_key);
    cf.ca_file = ngx_vkstream_vk_cstr(cycle, &vcf->vk_ca);
    cf.verify = vcf->vk_verify;
    cf.delete_foreign = vcf->vk_delete_foreign;
    cf.max_message = vcf->vk_max_message;
    cf.text_max = vcf->vk_text_len;
    cf.notify = ngx_vkstream_notify;
    cf.notify_data = NULL;
    cf.seed = (uint32_t) ngx_pid ^ (uint32_t) ngx_time();

    ngx_vkstream_vk_client = vks_vk_client_start(&cf, err, sizeof(err));

    if (ngx_vkstream_vk_client == NULL) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "vkstream: VK client not started: %s", err);
        ngx_vkstream_notify_del(ngx_vkstream_vk_drain);
        return NGX_OK;
    }

    /* logged where it is seen: in error_log, by the worker that connects */
    if (!vcf->vk_verify) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "vkstream: TLS certificates of the VK service are not "
                      "verified (\"vkstream_vk_verify off\")");
    }

    ngx_memzero(&ngx_vkstream_vk_state, sizeof(ngx_vkstream_vk_state_t));
    ngx_vkstream_vk_state.state = NGX_VKSTREAM_VK_CONNECTING;
    ngx_vkstream_vk_state.since = ngx_time();
    ngx_vkstream_vk_state.pid = ngx_pid;
    ngx_vkstream_table_set_vk_state(&ngx_vkstream_vk_state);

    ngx_vkstream_vk_pushed = 0;

    ngx_vkstream_vk_timer.handler = ngx_vkstream_vk_timer_handler;
    ngx_vkstream_vk_timer.log = cycle->log;
    /* the timer's ident in debug logs: no connection of its own */
    ngx_vkstream_vk_dummy.fd = (ngx_socket_t) -1;
    ngx_vkstream_vk_timer.data = &ngx_vkstream_vk_dummy;
    ngx_vkstream_vk_timer.cancelable = 1;   /* never delays a shutdown */

    ngx_vkstream_vk_busy.handler = ngx_vkstream_vk_busy_handler;
    ngx_vkstream_vk_busy.log = cycle->log;
    ngx_vkstream_vk_busy.data = &ngx_vkstream_vk_dummy;
    ngx_vkstream_vk_busy.cancelable = 1;

    ngx_vkstream_vk_push_rules();
    ngx_add_timer(&ngx_vkstream_vk_timer, NGX_VKSTREAM_VK_POLL);

    ngx_log_error(NGX_LOG_INFO, cycle->log, 0,
                  "vkstream: VK client started in worker %P", ngx_pid);

    return NGX_OK;
}


void
ngx_vkstream_vk_exit_process(ngx_cycle_t *cycle)
{
    ngx_vkstream_vk_shutdown(cycle->log);
}


void
ngx_vkstream_vk_stop(ngx_log_t *log)
{
    ngx_vkstream_vk_shutdown(log);
}


/*
 * On quit or reload the client stops as soon as the worker starts to exit,
 * not when its last RTMP connection has gone: worker 0 of the new cycle
 * wants the one connection VK allows per key.
 */
static void
ngx_vkstream_vk_shutdown(ngx_log_t *log)
{
    ngx_vkstream_summary_t  sum;

    if (ngx_vkstream_vk_client == NULL) {
        return;
    }

    if (ngx_vkstream_vk_timer.timer_set) {
        ngx_del_timer(&ngx_vkstream_vk_timer);
    }

    if (ngx_vkstream_vk_busy.timer_set) {
        ngx_del_timer(&ngx_vkstream_vk_busy);
    }

    if (vks_vk_client_stop(ngx_vkstream_vk_client, NGX_VKSTREAM_VK_STOP)
        != 0)
    {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "vkstream: VK client thread did not stop in time");
    }

    ngx_vkstream_vk_client = NULL;

    /* unless the next cycle's worker has taken over already */
    if (ngx_vkstream_table_summary(&sum) == NGX_OK && sum.vk.pid == ngx_pid)
    {
        ngx_vkstream_vk_state.state = NGX_VKSTREAM_VK_OFF;
        ngx_vkstream_vk_state.since = ngx_time();
        ngx_vkstream_table_set_vk_state(&ngx_vkstream_vk_state);
    }

    ngx_log_error(NGX_LOG_INFO, log, 0, "vkstream: VK client stopped");

    /* a thread that did not stop in time notifies into nothing */
    ngx_vkstream_notify_del(ngx_vkstream_vk_drain);
}


static void
ngx_vkstream_vk_timer_handler(ngx_event_t *ev)
{
    if (ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_vkstream_vk_shutdown(ev->log);
        return;
    }

    /*
     * Rewritten every second: during a reload the old cycle's worker may
     * have written its state over the new one's.
     */
    if (++ngx_vkstream_vk_ticks % 10 == 0) {
        ngx_vkstream_vk_force = 1;
    }

    ngx_vkstream_vk_push_rules();
    ngx_vkstream_vk_drain();

    ngx_add_timer(ev, NGX_VKSTREAM_VK_POLL);
}


/*
 * The server tag of a table rule: stream tags are own tags already; a
 * global rule "NAME" goes to the server as "vks:g:NAME".
 */
static ngx_int_t
ngx_vkstream_vk_server_tag(ngx_pool_t *pool, ngx_vkstream_rule_t *r,
    char **out)
{
    int    n;
    char  *name, *buf;

    buf = ngx_pnalloc(pool, VKS_VK_TAG_MAX + 1);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    if (r->stream_id) {
        ngx_memcpy(buf, r->tag.data, ngx_min(r->tag.len, VKS_VK_TAG_MAX));
        buf[ngx_min(r->tag.len, VKS_VK_TAG_MAX)] = '\0';
        *out = buf;
        return NGX_OK;
    }

    name = ngx_pnalloc(pool, r->tag.len + 1);
    if (name == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(name, r->tag.data, r->tag.len);
    name[r->tag.len] = '\0';

    n = vks_vk_tag_encode(buf, VKS_VK_TAG_GLOBAL, NULL, name, 0);
    if (n < 0) {
        return NGX_DECLINED;
    }

    *out = buf;
    return NGX_OK;
}


static void
ngx_vkstream_vk_push_rules(void)
{
    char                 *tag, *value;
    uint64_t              gen;
    ngx_str_t             msg;
    ngx_int_t             rc;
    ngx_uint_t            i, n;
    ngx_pool_t           *pool;
    ngx_array_t           rules;
    vks_vk_rule_t        *want;
    ngx_vkstream_rule_t  *r;

    gen = ngx_vkstream_table_rules_generation();

    if (ngx_vkstream_vk_pushed && gen == ngx_vkstream_vk_gen) {
        return;
    }

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    if (ngx_vkstream_table_rules(pool, &rules, &gen) != NGX_OK) {
        goto done;
    }

    want = ngx_pcalloc(pool, (rules.nelts + 1) * sizeof(vks_vk_rule_t));
    if (want == NULL) {
        goto done;
    }

    r = rules.elts;
    n = 0;

    for (i = 0; i < rules.nelts; i++) {
        rc = ngx_vkstream_vk_server_tag(pool, &r[i], &tag);

        if (rc == NGX_DECLINED) {
            ngx_str_set(&msg, "tag too long for VK");
            ngx_vkstream_table_rule_state(&r[i].tag, NGX_VKSTREAM_RULE_FAILED,
                                          0, &msg);
            continue;
        }

        value = ngx_pnalloc(pool, r[i].value.len + 1);

        if (rc != NGX_OK || value == NULL) {
            goto done;
        }

        ngx_memcpy(value, r[i].value.data, r[i].value.len);
        value[r[i].value.len] = '\0';

        want[n].tag = tag;
        want[n].value = value;
        n++;
    }

    if (vks_vk_client_set_rules(ngx_vkstream_vk_client, want, n) == 0) {
        ngx_vkstream_vk_gen = gen;
        ngx_vkstream_vk_pushed = 1;
    }

done:

    ngx_destroy_pool(pool);
}


/* the table tag of a server tag; NGX_DECLINED for foreign tags */
static ngx_int_t
ngx_vkstream_vk_table_tag(vks_vk_out_t *o, ngx_str_t *tag)
{
    static vks_vk_tag_t  t;

    switch (vks_vk_tag_decode(o->tag, o->tag_len, &t)) {

    case VKS_VK_TAG_STREAM:
        tag->data = (u_char *) o->tag;
        tag->len = o->tag_len;
        return NGX_OK;

    case VKS_VK_TAG_GLOBAL:
        tag->data = (u_char *) t.name;
        tag->len = ngx_strlen(t.name);
        return NGX_OK;

    default:
        return NGX_DECLINED;
    }
}


/* the matches come fast: take them every NGX_VKSTREAM_VK_BUSY ms */
static void
ngx_vkstream_vk_busy_handler(ngx_event_t *ev)
{
    ngx_vkstream_vk_drain();
}


static void
ngx_vkstream_vk_drain(void)
{
    int                       polls;
    ngx_str_t                 tag, msg;
    ngx_uint_t                level, changed;
    vks_vk_out_t             *list, *o;
    vks_vk_status_t           st;
    ngx_vkstream_vk_state_t  *vk;
    ngx_vkstream_match_in_t   m;

    if (ngx_vkstream_vk_client == NULL) {
        return;
    }

    /*
     * Wake-ups closer than NGX_VKSTREAM_VK_BUSY: the client stops them
     * and this side takes by a timer until a take finds nothing.
     */
    list = vks_vk_client_take_batch(ngx_vkstream_vk_client,
               ngx_current_msec - ngx_vkstream_vk_last_take
               <= NGX_VKSTREAM_VK_BUSY, &polls);
    changed = 0;

    if (list) {
        ngx_vkstream_vk_last_take = ngx_current_msec;
    }

    if (polls && !ngx_vkstream_vk_busy.timer_set
        && !(ngx_exiting || ngx_quit || ngx_terminate))
    {
        ngx_add_timer(&ngx_vkstream_vk_busy, NGX_VKSTREAM_VK_BUSY);
    }

    for (o = list; o; o = o->next) {

        switch (o->kind) {

        case VKS_VK_OUT_LOG:
            level = o->level == VKS_VK_LOG_ERR ? NGX_LOG_ERR
                    : o->level == VKS_VK_LOG_WARN ? NGX_LOG_WARN
                    : NGX_LOG_INFO;
            ngx_log_error(level, ngx_cycle->log, 0, "vkstream: VK %*s",
                          o->text_len, o->text);
            break;

        case VKS_VK_OUT_RULE:
            if (ngx_vkstream_vk_table_tag(o, &tag) == NGX_OK) {
                msg.data = (u_char *) o->text;
                msg.len = o->text_len;
                ngx_vkstream_table_rule_state(&tag, o->state, o->code,
                                              msg.len ? &msg : NULL);
            }
            break;

        case VKS_VK_OUT_MATCH:
            changed = 1;

            if (ngx_vkstream_vk_table_tag(o, &tag) != NGX_OK) {
                ngx_vkstream_vk_unrouted++;
                break;
            }

            m.event_type.data = (u_char *) o->event_type;
            m.event_type.len = o->event_type_len;
            m.action.data = (u_char *) o->action;
            m.action.len = o->action_len;
            m.url.data = (u_char *) o->url;
            m.url.len = o->url_len;
            m.text.data = (u_char *) o->text;
            m.text.len = o->text_len;
            m.author_url.data = (u_char *) o->author_url;
            m.author_url.len = o->author_url_len;
            m.author_id = o->author_id;
            m.created = (time_t) o->created;

            if (ngx_vkstream_table_add_match(&tag, &m) == NGX_OK) {
                ngx_vkstream_vk_stored++;
            } else {
                ngx_vkstream_vk_unrouted++;
            }

            /* the other nodes file it too */
            ngx_vkstream_cluster_match(&tag, &m);
            break;
        }
    }

    vks_vk_out_free(list);

    if (!vks_vk_client_status(ngx_vkstream_vk_client, &st) && !changed
        && !ngx_vkstream_vk_force)
    {
        return;
    }

    ngx_vkstream_vk_force = 0;

    vk = &ngx_vkstream_vk_state;

    if (st.state != VKS_VK_ST_OFF) {
        vk->state = st.state;
        vk->since = st.since;
    }

    vk->pid = ngx_pid;
    vk->received = st.received;
    vk->stored = ngx_vkstream_vk_stored;
    vk->dropped = st.dropped + ngx_vkstream_vk_unrouted;
    vk->malformed = st.malformed;
    vk->reconnects = st.reconnects;
    vk->service_code = (ngx_int_t) st.service_code;

    vk->endpoint_len = (u_short) ngx_min(ngx_strlen(st.endpoint),
                                         NGX_VKSTREAM_URL_LEN);
    ngx_memcpy(vk->endpoint, st.endpoint, vk->endpoint_len);

    vk->service_message_len = (u_short) ngx_min(
                                  ngx_strlen(st.service_message),
                                  NGX_VKSTREAM_ERROR_LEN);
    ngx_memcpy(vk->service_message, st.service_message,
               vk->service_message_len);

    vk->last_error_len = (u_short) ngx_min(ngx_strlen(st.last_error),
                                           NGX_VKSTREAM_ERROR_LEN);
    ngx_memcpy(vk->last_error, st.last_error, vk->last_error_len);

    ngx_vkstream_table_set_vk_state(vk);
}
