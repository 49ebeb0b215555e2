
/*
 * vkstream vk: the client thread (see vks_vk_client.h).
 *
 * One connection attempt: getServerUrl (with a token, when there is no
 * endpoint yet or the service asked for a new one), GET /rules, open the
 * stream, and meanwhile turn the listed rules into the desired ones, one
 * request at a time.  Any failure of these closes everything and retries
 * after a backoff delay; rule errors (2000-2008) only mark the rule failed
 * and it is not tried again until its value changes.  Other failures of a
 * rule request (a 5xx without a VK answer, another VK error code) mark it
 * failed too, but are retried after a backoff delay of their own, with the
 * stream left connected.
 */


#ifndef _GNU_SOURCE
#define _GNU_SOURCE            /* pthread_timedjoin_np */
#endif

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "vks_vk_client.h"
#include "vks_vk_backoff.h"
#include "vks_vk_endpoint.h"
#include "vks_vk_message.h"
#include "vks_vk_reasm.h"
#include "vks_vk_sync.h"
#include "util/vks_thread.h"


#define VKS_VK_RESP_MAX      (1024 * 1024)
#define VKS_VK_API_VERSION   "5.199"
#define VKS_VK_FORCED_MAX    256         /* forced services per round */

enum {
    VKS_REQ_URL = 1,
    VKS_REQ_LIST,
    VKS_REQ_ADD,
    VKS_REQ_DEL,
    VKS_REQ_DIAG,
    VKS_REQ_STREAM
};


typedef struct {
    vks_vk_client_t      *c;
    struct lws           *wsi;
    int                   kind;
    unsigned              epoch;
    unsigned              done:1;
    unsigned              started:1;
    unsigned              destroyed:1;
    int                   status;
    int                   close_code;     /* of the server's close frame */
    int                   tls_seen;       /* a certificate was received */
    long                  tls_verify;     /* its X509_V_ERR_*, 0: none */
    char                 *body;
    size_t                body_len;
    char                 *resp;
    size_t                resp_len;
    size_t                resp_cap;
    vks_vk_pair_t         rule;
    char                  path[VKS_VK_KEY_MAX * 3 + VKS_VK_STR_MAX + 64];
    char                  addr[VKS_VK_HOST_MAX + 8];
} vks_vk_req_t;


struct vks_vk_client_s {
    vks_vk_client_conf_t  conf;
    char                  api_host[VKS_VK_HOST_MAX + 1];
    unsigned              api_port;
    int                   api_tls;
    char                  api_prefix[VKS_VK_STR_MAX];

    pthread_t             thread;
    pthread_mutex_t       mu;

    /* under mu */
    struct lws_context   *ctx;
    int                   stop;
    vks_vk_pairs_t        want;
    uint64_t              want_gen;
    vks_vk_out_t         *out_head;
    vks_vk_out_t         *out_tail;
    size_t                nout;
    uint64_t              out_dropped;
    int                   owner_polls;    /* it takes without wake-ups */
    vks_vk_status_t       status;
    int                   status_changed;

    /* the thread's own */
    int                   stopping;
    vks_vk_status_t       st;
    vks_vk_endpoint_t     ep;
    int                   have_ep;
    int                   refresh;
    int                   running;        /* between connect and fail */
    unsigned              epoch;
    vks_vk_req_t         *http;
    vks_vk_req_t         *ws;
    vks_vk_sync_t         sync;           /* the rules, see vks_vk_sync.h */
    uint64_t              desired_gen;    /* the want_gen in sync */
    vks_vk_backoff_t      backoff;
    lws_sorted_usec_list_t  sul;
    vks_vk_backoff_t      rule_backoff;   /* retries of failed requests */
    lws_sorted_usec_list_t  rule_sul;
    vks_vk_reasm_t        reasm;
    int                   reasm_binary;   /* the message is not text */
    /*
     * Inside a service round the owner is told once, at its end, not
     * per message: a wake-up is an eventfd write and a context switch.
     */
    unsigned              defer:1;
    unsigned              pending_publish:1;
    unsigned              pending_notify:1;
};


static void *vks_vk_client_thread(void *data);
static int vks_vk_client_callback(struct lws *wsi,
    enum lws_callback_reasons reason, void *user, void *in, size_t len);
static void vks_vk_client_connect(vks_vk_client_t *c);
static void vks_vk_client_fail(vks_vk_client_t *c, int refresh,
    const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
static void vks_vk_client_sync(vks_vk_client_t *c);
static void vks_vk_client_log(vks_vk_client_t *c, int level,
    const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));


static const struct lws_protocols  vks_vk_client_protocols[] = {
    { "vks", vks_vk_client_callback, 0, 65536, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};


/* --- small helpers ------------------------------------------------------- */

static char *
vks_vk_client_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}


static void
vks_vk_client_copy(char *dst, size_t size, const char *src, size_t len)
{
    if (len >= size) {
        len = size - 1;
    }

    memcpy(dst, src, len);
    dst[len] = '\0';
}


/* --- to the owner -------------------------------------------------------- */

static void
vks_vk_client_notify(vks_vk_client_t *c)
{
    if (c->conf.notify) {
        c->conf.notify(c->conf.notify_data);
    }
}


static void
vks_vk_client_push(vks_vk_client_t *c, vks_vk_out_t *o)
{
    int  wake;

    pthread_mutex_lock(&c->mu);

    if (c->nout >= VKS_VK_QUEUE_MAX) {
        c->out_dropped++;
        pthread_mutex_unlock(&c->mu);
        free(o);
        return;
    }

    wake = (c->out_head == NULL && !c->owner_polls);

    o->next = NULL;
    if (c->out_tail) {
        c->out_tail->next = o;
    } else {
        c->out_head = o;
    }
    c->out_tail = o;
    c->nout++;

    pthread_mutex_unlock(&c->mu);

    if (wake) {
        if (c->defer) {
            c->pending_notify = 1;
        } else {
            vks_vk_client_notify(c);
        }
    }
}


static void
vks_vk_client_copy_status(vks_vk_client_t *c)
{
    pthread_mutex_lock(&c->mu);
    c->st.dropped += c->out_dropped;
    c->out_dropped = 0;
    c->status = c->st;
    c->status_changed = 1;
    pthread_mutex_unlock(&c->mu);
}


static void
vks_vk_client_publish(vks_vk_client_t *c)
{
    if (c->defer) {
        c->pending_publish = 1;
        return;
    }

    vks_vk_client_copy_status(c);
    vks_vk_client_notify(c);
}


/*
 * The end of a service round: what it deferred, told once.  Not while the
 * owner polls (vks_vk_client_take_batch()): at a high rate a wake-up per
 * round would cost it (and this thread, a write and a context switch)
 * one per message or nearly.
 */
static void
vks_vk_client_flush(vks_vk_client_t *c)
{
    int  polling;

    c->defer = 0;

    if (!c->pending_publish && !c->pending_notify) {
        return;
    }

    pthread_mutex_lock(&c->mu);

    if (c->pending_publish) {
        c->st.dropped += c->out_dropped;
        c->out_dropped = 0;
        c->status = c->st;
        c->status_changed = 1;
    }

    polling = c->owner_polls;
    pthread_mutex_unlock(&c->mu);

    c->pending_publish = 0;
    c->pending_notify = 0;

    if (!polling) {
        vks_vk_client_notify(c);
    }
}


static void
vks_vk_client_set_state(vks_vk_client_t *c, int state)
{
    if (c->st.state != state) {
        c->st.state = state;
        c->st.since = time(NULL);
    }

    vks_vk_client_publish(c);
}


static void
vks_vk_client_log(vks_vk_client_t *c, int level, const char *fmt, ...)
{
    va_list        ap;
    vks_vk_out_t  *o;

    o = calloc(1, sizeof(vks_vk_out_t));
    if (o == NULL) {
        return;
    }

    va_start(ap, fmt);
    vsnprintf(o->text, sizeof(o->text), fmt, ap);
    va_end(ap);

    o->kind = VKS_VK_OUT_LOG;
    o->level = level;
    o->text_len = strlen(o->text);

    vks_vk_client_push(c, o);
}


static void
vks_vk_client_rule_state(vks_vk_client_t *c, const char *tag, int state,
    int64_t code, const char *msg)
{
    vks_vk_out_t  *o;

    o = calloc(1, sizeof(vks_vk_out_t));
    if (o == NULL) {
        return;
    }

    o->kind = VKS_VK_OUT_RULE;
    o->state = state;
    o->code = code;
    vks_vk_client_copy(o->tag, sizeof(o->tag), tag, strlen(tag));
    o->tag_len = strlen(o->tag);
    vks_vk_client_copy(o->text, sizeof(o->text), msg ? msg : "",
        msg ? strlen(msg) : 0);
    o->text_len = strlen(o->text);

    vks_vk_client_push(c, o);
}


/* --- requests ------------------------------------------------------------ */

static unsigned
vks_vk_client_tls_flags(vks_vk_client_t *c, int tls)
{
    if (!tls) {
        return 0;
    }

    if (c->conf.verify) {
        return LCCSCF_USE_SSL;
    }

    return LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED
           | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_EXPIRED
           | LCCSCF_ALLOW_INSECURE;
}


static void vks_vk_client_req_done(vks_vk_req_t *r, const char *error);


static vks_vk_req_t *
vks_vk_client_request(vks_vk_client_t *c, int kind, char *body, const char *tag,
    const char *value)
{
    vks_vk_req_t  *r;

    r = calloc(1, sizeof(vks_vk_req_t));
    if (r == NULL) {
        free(body);
        return NULL;
    }

    r->c = c;
    r->kind = kind;
    r->epoch = c->epoch;
    r->body = body;
    r->body_len = body ? strlen(body) : 0;
    r->rule.tag = vks_vk_client_strdup(tag);
    r->rule.value = vks_vk_client_strdup(value);

    return r;
}


/* The path is in r->path; returns 0 or -1 (r is then freed). */
static int
vks_vk_client_request_go(vks_vk_req_t *r, const char *method, const char *host,
    unsigned port, int tls)
{
    struct lws                      *wsi;
    vks_vk_client_t                 *c;
    struct lws_client_connect_info   i;

    c = r->c;

    snprintf(r->addr, sizeof(r->addr), "%s:%u", host, port);

    memset(&i, 0, sizeof(i));
    i.context = c->ctx;
    i.address = host;
    i.port = (int) port;
    i.ssl_connection = (int) vks_vk_client_tls_flags(c, tls);
    i.path = r->path;
    i.host = host;
    i.origin = host;
    i.method = method;                     /* NULL: WebSocket */
    i.ietf_version_or_minus_one = -1;
    i.local_protocol_name = "vks";
    i.opaque_user_data = r;
    i.alpn = "http/1.1";

    wsi = lws_client_connect_via_info(&i);

    if (wsi == NULL) {
        if (!r->done) {
            vks_vk_client_req_done(r, "cannot start the connection");
        }
        free(r->body);
        free(r->resp);
        free(r->rule.tag);
        free(r->rule.value);
        free(r);
        return -1;
    }

    r->wsi = wsi;
    r->started = 1;

    if (r->destroyed) {
        /* already finished inside the call */
        free(r->body);
        free(r->resp);
        free(r->rule.tag);
        free(r->rule.value);
        free(r);
    }

    return 0;
}


static int
vks_vk_client_api_request(vks_vk_client_t *c, int kind, const char *method,
    const char *path, char *body, const char *tag, const char *value)
{
    vks_vk_req_t  *r;

    r = vks_vk_client_request(c, kind, body, tag, value);
    if (r == NULL) {
        return -1;
    }

    if (kind == VKS_REQ_URL) {
        snprintf(r->path, sizeof(r->path), "%s%s", c->api_prefix, path);
        c->http = r;
        return vks_vk_client_request_go(r, method, c->api_host, c->api_port,
            c->api_tls);
    }

    snprintf(r->path, sizeof(r->path), "%s", path);

    if (kind != VKS_REQ_DIAG) {
        c->http = r;
    }

    return vks_vk_client_request_go(r, method, c->ep.host, c->ep.port, 1);
}


static void
vks_vk_client_key_path(vks_vk_client_t *c, char *buf, size_t size,
    const char *what)
{
    char        *p;
    const char  *k;

    /* the key is opaque: escape what would break the query */
    p = buf + snprintf(buf, size, "/%s?key=", what);

    for (k = c->ep.key; *k && (size_t) (p - buf) + 4 < size; k++) {
        if ((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z')
            || (*k >= '0' && *k <= '9') || *k == '-' || *k == '_'
            || *k == '.' || *k == '~')
        {
            *p++ = *k;
        } else {
            p += sprintf(p, "%%%02X", (unsigned char) *k);
        }
    }

    *p = '\0';
}


/* --- the connection cycle ------------------------------------------------ */

static void
vks_vk_client_kill(struct lws *wsi)
{
    if (wsi) {
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}


static void
vks_vk_client_retry(lws_sorted_usec_list_t *sul)
{
    vks_vk_client_t  *c;

    c = lws_container_of(sul, vks_vk_client_t, sul);

    if (c->stopping) {
        return;
    }

    c->st.reconnects++;
    vks_vk_client_connect(c);
}


static void
vks_vk_client_rule_retry(lws_sorted_usec_list_t *sul)
{
    vks_vk_client_t  *c;

    c = lws_container_of(sul, vks_vk_client_t, rule_sul);

    if (c->stopping) {
        return;
    }

    /* the plan finds what is still missing or still to delete */
    vks_vk_sync_replan(&c->sync);
    vks_vk_client_sync(c);
}


/*
 * A rule request that may work later: the rule shows failed with the
 * reason, and the plan is made again after a delay; the stream stays.
 */
static void
vks_vk_client_rule_later(vks_vk_client_t *c, vks_vk_req_t *r, int64_t code,
    const char *err)
{
    uint32_t  delay;
    char      msg[VKS_VK_ERR_LEN + 160];

    delay = vks_vk_backoff_next(&c->rule_backoff);

    snprintf(msg, sizeof(msg), "%s; retrying in %u ms", err, delay);

    vks_vk_client_log(c, VKS_VK_LOG_ERR, "rule \"%s\" not %s: %s", r->rule.tag,
        r->kind == VKS_REQ_ADD ? "added" : "deleted", msg);

    if (r->kind == VKS_REQ_ADD) {
        vks_vk_client_rule_state(c, r->rule.tag, VKS_VK_RULE_FAILED, code, msg);
    }

    lws_sul_schedule(c->ctx, 0, &c->rule_sul, vks_vk_client_rule_retry,
                     (lws_usec_t) delay * 1000);
}


static void
vks_vk_client_fail(vks_vk_client_t *c, int refresh, const char *fmt, ...)
{
    va_list   ap;
    uint32_t  delay;

    if (!c->running) {
        return;
    }

    va_start(ap, fmt);
    vsnprintf(c->st.last_error, sizeof(c->st.last_error), fmt, ap);
    va_end(ap);

    c->running = 0;
    c->epoch++;
    c->refresh |= refresh;
    vks_vk_sync_reset(&c->sync);

    if (c->http) {
        vks_vk_client_kill(c->http->wsi);
        c->http = NULL;
    }

    if (c->ws) {
        vks_vk_client_kill(c->ws->wsi);
        c->ws = NULL;
    }

    delay = vks_vk_backoff_next(&c->backoff);

    vks_vk_client_log(c, VKS_VK_LOG_ERR, "%s; reconnecting in %u ms%s",
        c->st.last_error, delay,
        c->refresh && c->conf.token ? ", asking for a new endpoint" : "");

    vks_vk_client_set_state(c, VKS_VK_ST_BACKOFF);

    if (!c->stopping) {
        lws_sul_schedule(c->ctx, 0, &c->sul, vks_vk_client_retry,
                         (lws_usec_t) delay * 1000);
    }
}


static void
vks_vk_client_connect(vks_vk_client_t *c)
{
    char  path[VKS_VK_KEY_MAX * 3 + 64];

    c->running = 1;
    c->epoch++;
    vks_vk_client_set_state(c, VKS_VK_ST_CONNECTING);

    if (c->conf.token && (!c->have_ep || c->refresh)) {
        /* the token stays out of the log and of the status */
        snprintf(path, sizeof(path),
                 "/method/streaming.getServerUrl?access_token=%s&v="
                 VKS_VK_API_VERSION, c->conf.token);

        if (vks_vk_client_api_request(c, VKS_REQ_URL, "GET", path, NULL,
                                      NULL, NULL)
            != 0)
        {
            vks_vk_client_fail(c, 0, "getServerUrl: cannot make the request");
        }

        return;
    }

    vks_vk_client_key_path(c, path, sizeof(path), "rules");

    if (vks_vk_client_api_request(c, VKS_REQ_LIST, "GET", path, NULL, NULL,
                                  NULL)
        != 0)
    {
        vks_vk_client_fail(c, 0, "GET /rules: cannot make the request");
    }
}


static void
vks_vk_client_open_stream(vks_vk_client_t *c)
{
    vks_vk_req_t  *r;

    r = vks_vk_client_request(c, VKS_REQ_STREAM, NULL, NULL, NULL);
    if (r == NULL) {
        vks_vk_client_fail(c, 0, "stream: out of memory");
        return;
    }

    vks_vk_client_key_path(c, r->path, sizeof(r->path), "stream");
    c->ws = r;

    if (vks_vk_client_request_go(r, NULL, c->ep.host, c->ep.port, 1) != 0) {
        c->ws = NULL;
        vks_vk_client_fail(c, 0, "stream: cannot make the connection");
    }
}


/* after a refused handshake: ask once more, plainly, to learn the code */
static void
vks_vk_client_diagnose(vks_vk_client_t *c)
{
    char  path[VKS_VK_KEY_MAX * 3 + 64];

    vks_vk_client_key_path(c, path, sizeof(path), "stream");
    (void) vks_vk_client_api_request(c, VKS_REQ_DIAG, "GET", path, NULL,
                                     NULL, NULL);
}


/* what a new plan says of a desired rule */
static void
vks_vk_client_sync_event(void *data, int event, const char *tag, int code)
{
    vks_vk_client_t  *c = data;

    if (event == VKS_VK_SYNC_EV_REFUSED) {
        vks_vk_client_log(c, VKS_VK_LOG_ERR, "rule \"%s\" refused locally "
            "(error %d), not sent", tag, code);
        vks_vk_client_rule_state(c, tag, VKS_VK_RULE_FAILED, code,
            "refused by the local syntax check");
        return;
    }

    vks_vk_client_rule_state(c, tag, VKS_VK_RULE_ACTIVE, 0, NULL);
}


static void
vks_vk_client_sync(vks_vk_client_t *c)
{
    char                 path[VKS_VK_KEY_MAX * 3 + 64];
    char                *body;
    const vks_vk_pair_t *op;

    if (!c->running || c->http) {
        return;
    }

    op = vks_vk_sync_next(&c->sync, vks_vk_client_sync_event, c);

    if (op == NULL) {
        return;
    }

    vks_vk_client_key_path(c, path, sizeof(path), "rules");
    if (op->value) {
        body = vks_vk_rules_add_body(op->value, op->tag);
    } else {
        body = vks_vk_rules_delete_body(op->tag);
    }

    if (body == NULL) {
        vks_vk_client_fail(c, 0, "rules: out of memory");
        return;
    }

    if (vks_vk_client_api_request(c, op->value ? VKS_REQ_ADD : VKS_REQ_DEL,
                                  op->value ? "POST" : "DELETE", path, body,
                                  op->tag, op->value)
        != 0)
    {
        vks_vk_client_fail(c, 0, "rules: cannot make the request");
    }
}


static void
vks_vk_client_after_url(vks_vk_client_t *c, vks_vk_req_t *r)
{
    int                rc;
    vks_vk_endpoint_t  ep;

    memset(&ep, 0, sizeof(ep));

    rc = vks_vk_endpoint_parse(r->resp, r->resp_len, &ep);

    if (rc == VKS_VK_EAPI) {
        vks_vk_client_fail(c, 0, "getServerUrl: error %lld: %s",
            (long long) ep.error_code, ep.err);
        return;
    }

    if (rc != VKS_VK_OK) {
        vks_vk_client_fail(c, 0, "getServerUrl: bad answer (HTTP %d): %s",
            r->status, ep.err);
        return;
    }

    c->ep = ep;
    c->have_ep = 1;
    c->refresh = 0;
    snprintf(c->st.endpoint, sizeof(c->st.endpoint), "%s:%u", ep.host,
             ep.port);
    vks_vk_client_publish(c);

    vks_vk_client_connect(c);
}


static void
vks_vk_client_after_list(vks_vk_client_t *c, vks_vk_req_t *r)
{
    int                  rc;
    vks_vk_rule_list_t   list;

    memset(&list, 0, sizeof(list));

    rc = vks_vk_rules_parse_list(r->resp, r->resp_len, &list);

    if (rc != VKS_VK_OK) {
        if (rc == VKS_VK_EAPI) {
            vks_vk_client_fail(c,
                list.error_code == 1003 || list.error_code == 1004,
                "GET /rules: error %lld: %s",
                (long long) list.error_code, list.err);
        } else {
            vks_vk_client_fail(c, 0, "GET /rules: bad answer (HTTP %d): %s",
                r->status, list.err);
        }

        vks_vk_rules_free(&list);
        return;
    }

    (void) vks_vk_sync_set_current(&c->sync, list.rules, list.n);

    vks_vk_rules_free(&list);

    vks_vk_client_log(c, VKS_VK_LOG_INFO, "%zu rules on the server",
        c->sync.cur.n);

    vks_vk_client_open_stream(c);

    if (c->running) {
        vks_vk_client_sync(c);
    }
}


static void
vks_vk_client_after_rule(vks_vk_client_t *c, vks_vk_req_t *r)
{
    int       rc;
    int64_t   code;
    char      err[VKS_VK_ERR_LEN], msg[VKS_VK_ERR_LEN + 64];

    code = 0;
    err[0] = '\0';

    rc = vks_vk_rules_parse_result(r->resp, r->resp_len, &code, err,
                                   sizeof(err));

    switch (vks_vk_sync_result(&c->sync, &r->rule, rc, code)) {

    case VKS_VK_SYNC_RETRY:
        if (rc != VKS_VK_EAPI) {
            snprintf(msg, sizeof(msg), "%s /rules: bad answer (HTTP %d): %s",
                     r->kind == VKS_REQ_ADD ? "POST" : "DELETE", r->status,
                     err);
            vks_vk_client_rule_later(c, r, r->status, msg);

        } else {
            snprintf(msg, sizeof(msg), "error %lld: %s (HTTP %d)",
                     (long long) code, err, r->status);
            vks_vk_client_rule_later(c, r, code, msg);
        }

        break;

    case VKS_VK_SYNC_RECONNECT:
        vks_vk_client_fail(c, 1, "rules: error %lld: %s", (long long) code,
            err);
        return;

    case VKS_VK_SYNC_DELETED:
        vks_vk_backoff_reset(&c->rule_backoff);
        vks_vk_client_log(c, VKS_VK_LOG_INFO, "rule \"%s\" deleted",
            r->rule.tag);
        break;

    case VKS_VK_SYNC_NOT_DELETED:
        vks_vk_backoff_reset(&c->rule_backoff);
        vks_vk_client_log(c, VKS_VK_LOG_ERR, "rule \"%s\" not deleted: "
            "error %lld: %s", r->rule.tag, (long long) code, err);
        break;

    case VKS_VK_SYNC_ADDED:
        vks_vk_backoff_reset(&c->rule_backoff);
        vks_vk_client_log(c, VKS_VK_LOG_INFO, "rule \"%s\" added", r->rule.tag);
        vks_vk_client_rule_state(c, r->rule.tag, VKS_VK_RULE_ACTIVE, 0, NULL);
        break;

    case VKS_VK_SYNC_REFUSED:
        vks_vk_backoff_reset(&c->rule_backoff);
        vks_vk_client_log(c, VKS_VK_LOG_ERR,
            "rule \"%s\" refused: error %lld: %s",
            r->rule.tag, (long long) code, err);
        vks_vk_client_rule_state(c, r->rule.tag, VKS_VK_RULE_FAILED, code, err);
        break;
    }

    vks_vk_client_sync(c);
}


static void
vks_vk_client_after_diag(vks_vk_client_t *c, vks_vk_req_t *r)
{
    json_t   *root;
    int64_t   code;
    int       rc;
    char      err[VKS_VK_ERR_LEN];
    const char  *msg;

    if (r->status == 101) {
        /*
         * The probe itself was taken as a stream: what refused us (e.g.
         * an old worker's connection) is gone, so no need to wait.
         */
        if (c->st.state == VKS_VK_ST_BACKOFF && !c->stopping) {
            vks_vk_client_log(c, VKS_VK_LOG_INFO,
                "the stream handshake is accepted again, reconnecting now");
            /* after the server has seen the probe close */
            lws_sul_schedule(c->ctx, 0, &c->sul, vks_vk_client_retry,
                             100 * LWS_US_PER_MS);
        }

        return;
    }

    root = vks_vk_json_load(r->resp, r->resp_len, &rc, err, sizeof(err));
    if (root == NULL) {
        return;
    }

    if (vks_vk_json_error(root, &code, &msg)) {
        snprintf(c->st.last_error, sizeof(c->st.last_error),
                 "stream handshake refused (HTTP %d): error %lld: %s",
                 r->status, (long long) code, msg);
        vks_vk_client_log(c, VKS_VK_LOG_ERR, "%s", c->st.last_error);
        vks_vk_client_publish(c);
    }

    json_decref(root);
}


/*
 * Names the cause of a failed TLS handshake: OpenSSL's own error string
 * says little ("lib(0)::reason(1)"), so tell apart a certificate that was
 * refused, and for what, from a server that never sent one.
 */
static void
vks_vk_client_tls_error(vks_vk_req_t *r, const char *error, char *buf,
    size_t size)
{
    const char  *ca;

    ca = r->c->conf.ca_file ? r->c->conf.ca_file : "the system's store";

    if (!r->tls_seen) {
        snprintf(buf, size, "TLS handshake with %s failed before any "
                 "certificate came: the server does not speak TLS there "
                 "(a plain HTTP port, or not the API?) (%s)", r->addr, error);

    } else if (r->tls_verify == X509_V_ERR_HOSTNAME_MISMATCH
               || r->tls_verify == X509_V_ERR_IP_ADDRESS_MISMATCH)
    {
        snprintf(buf, size, "TLS handshake with %s failed: the server's "
                 "certificate is not for that host name (%s)", r->addr,
                 X509_verify_cert_error_string(r->tls_verify));

    } else if (r->tls_verify == X509_V_ERR_CERT_HAS_EXPIRED
               || r->tls_verify == X509_V_ERR_CERT_NOT_YET_VALID)
    {
        snprintf(buf, size, "TLS handshake with %s failed: the server's "
                 "certificate is out of its validity period (%s)", r->addr,
                 X509_verify_cert_error_string(r->tls_verify));

    } else {
        /* the wording t/61 and the README rely on */
        snprintf(buf, size, "TLS handshake failed, is the server's "
                 "certificate signed by the CA in %s? (%s: %s)", ca, r->addr,
                 r->tls_verify ? X509_verify_cert_error_string(r->tls_verify)
                               : error);
    }
}


/* finishes a request once: error NULL means an answer arrived */
static void
vks_vk_client_req_done(vks_vk_req_t *r, const char *error)
{
    char              tls[1024];
    vks_vk_client_t  *c;

    if (r->done) {
        return;
    }

    r->done = 1;
    c = r->c;

    if (r->epoch != c->epoch && r->kind != VKS_REQ_DIAG) {
        return;                 /* of an attempt given up already */
    }

    if (r->kind == VKS_REQ_DIAG) {
        if (error == NULL) {
            vks_vk_client_after_diag(c, r);
        }
        return;
    }

    if (r->kind == VKS_REQ_STREAM) {
        c->ws = NULL;

        if (c->reasm.busy) {
            /* the connection went in the middle of a message: lost */
            c->st.dropped++;
            vks_vk_client_log(c, VKS_VK_LOG_WARN,
                "stream message cut off by the connection's end after "
                "%zu bytes, dropped", c->reasm.len);
            vks_vk_reasm_free(&c->reasm);
        }

        if (error && strstr(error, "SSL")) {
            vks_vk_client_tls_error(r, error, tls, sizeof(tls));
            vks_vk_client_fail(c, 0, "stream connection to %s failed: %s",
                c->st.endpoint, tls);

        } else if (error) {
            /* "HS: ..." is a refused handshake: the key may be stale */
            vks_vk_client_fail(c, strncmp(error, "HS:", 3) == 0,
                "stream connection to %s failed: %s", c->st.endpoint,
                error);

            if (strncmp(error, "HS:", 3) == 0) {
                vks_vk_client_diagnose(c);
            }

        } else if (r->close_code) {
            /* after 3000/3001 the message set c->refresh already */
            vks_vk_client_fail(c, 0, "stream connection closed by the server "
                "(close code %d)", r->close_code);

        } else {
            vks_vk_client_fail(c, 0, "stream connection closed without a close "
                "frame from the server");
        }

        return;
    }

    c->http = NULL;

    if (error && strstr(error, "SSL")) {
        vks_vk_client_tls_error(r, error, tls, sizeof(tls));
        vks_vk_client_fail(c, 0, "%s failed: %s",
            r->kind == VKS_REQ_URL ? "getServerUrl" : "rules request",
            tls);
        return;
    }

    if (error) {
        vks_vk_client_fail(c, 0, "%s failed: %s",
            r->kind == VKS_REQ_URL ? "getServerUrl"
            : r->kind == VKS_REQ_LIST ? "GET /rules"
            : r->kind == VKS_REQ_ADD ? "POST /rules" : "DELETE /rules",
            error);
        return;
    }

    switch (r->kind) {
    case VKS_REQ_URL:
        vks_vk_client_after_url(c, r);
        break;
    case VKS_REQ_LIST:
        vks_vk_client_after_list(c, r);
        break;
    default:
        vks_vk_client_after_rule(c, r);
        break;
    }
}


/* --- stream messages ----------------------------------------------------- */

static void
vks_vk_client_message(vks_vk_client_t *c, const char *data, size_t len)
{
    int                rc;
    size_t             i;
    vks_vk_out_t      *o;
    vks_vk_message_t   m;

    c->st.received++;

    rc = vks_vk_message_parse(&m, data, len, c->conf.text_max);

    if (rc != VKS_VK_OK) {
        c->st.malformed++;
        vks_vk_client_log(c, VKS_VK_LOG_WARN, "malformed stream message "
            "(%zu bytes): %s", len, m.err);
        vks_vk_message_free(&m);
        vks_vk_client_publish(c);
        return;
    }

    switch (m.code) {

    case VKS_VK_MSG_EVENT:
        for (i = 0; i < m.ntags; i++) {
            o = calloc(1, sizeof(vks_vk_out_t));
            if (o == NULL) {
                c->st.dropped++;
                continue;
            }

            o->kind = VKS_VK_OUT_MATCH;
            vks_vk_client_copy(o->tag, sizeof(o->tag), m.tags[i],
                strlen(m.tags[i]));
            o->tag_len = strlen(o->tag);
            vks_vk_client_copy(o->text, sizeof(o->text), m.text, m.text_len);
            o->text_len = m.text_len < VKS_VK_TEXT_MAX ? m.text_len
                                                       : VKS_VK_TEXT_MAX;
            vks_vk_client_copy(o->event_type, sizeof(o->event_type),
                m.event_type, strlen(m.event_type));
            o->event_type_len = strlen(o->event_type);
            vks_vk_client_copy(o->action, sizeof(o->action), m.action_str,
                strlen(m.action_str));
            o->action_len = strlen(o->action);
            vks_vk_client_copy(o->url, sizeof(o->url), m.url, strlen(m.url));
            o->url_len = strlen(o->url);
            vks_vk_client_copy(o->author_url, sizeof(o->author_url),
                m.author_url, strlen(m.author_url));
            o->author_url_len = strlen(o->author_url);
            o->author_id = m.author_id;
            o->created = m.creation_time;

            vks_vk_client_push(c, o);
        }
        break;

    case VKS_VK_MSG_SERVICE:
        c->st.service_code = m.status;
        vks_vk_client_copy(c->st.service_message, sizeof(c->st.service_message),
            m.message, strlen(m.message));
        vks_vk_client_log(c, VKS_VK_LOG_WARN, "service message %lld: %s",
            (long long) m.status, m.message);

        if (m.status == 3000 || m.status == 3001) {
            c->refresh = 1;
        }
        break;

    default:
        snprintf(c->st.last_error, sizeof(c->st.last_error),
                 "stream error %lld: %s", (long long) m.status, m.message);
        vks_vk_client_log(c, VKS_VK_LOG_ERR, "%s", c->st.last_error);
        break;
    }

    vks_vk_message_free(&m);
    vks_vk_client_publish(c);
}


/* --- libwebsockets ------------------------------------------------------- */

/* the owner called lws_cancel_service(): to stop, or new desired rules */
static int
vks_vk_client_cb_wakeup(vks_vk_client_t *c)
{
    pthread_mutex_lock(&c->mu);

    if (c->stop) {
        c->stopping = 1;
    }

    if (c->want_gen != c->desired_gen) {
        (void) vks_vk_sync_set_desired(&c->sync, c->want.a, c->want.n);
        c->desired_gen = c->want_gen;
    }

    pthread_mutex_unlock(&c->mu);

    if (!c->stopping) {
        vks_vk_client_sync(c);
    }

    return 0;
}


/*
 * An HTTP request: getServerUrl and the /rules calls, and the HTTP leg of
 * the stream and of the probe until the answer comes.
 */
static int
vks_vk_client_cb_http(vks_vk_req_t *r, struct lws *wsi,
    enum lws_callback_reasons reason, void *in, size_t len)
{
    int               n;
    char              buf[LWS_PRE + 4096], *p;
    unsigned char   **hp, *end;

    switch (reason) {

    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        if (r->body == NULL) {
            break;
        }

        hp = (unsigned char **) in;
        end = *hp + len;

        n = snprintf(buf, sizeof(buf), "%zu", r->body_len);

        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                (const unsigned char *) "application/json", 16, hp, end)
            || lws_add_http_header_by_token(wsi,
                   WSI_TOKEN_HTTP_CONTENT_LENGTH,
                   (const unsigned char *) buf, n, hp, end))
        {
            return -1;
        }

        lws_client_http_body_pending(wsi, 1);
        lws_callback_on_writable(wsi);
        break;

    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
        if (r->body == NULL) {
            break;
        }

        p = malloc(LWS_PRE + r->body_len);
        if (p == NULL) {
            return -1;
        }

        memcpy(p + LWS_PRE, r->body, r->body_len);
        n = lws_write(wsi, (unsigned char *) p + LWS_PRE, r->body_len,
                      LWS_WRITE_HTTP_FINAL);
        free(p);

        if (n < (int) r->body_len) {
            return -1;
        }

        lws_client_http_body_pending(wsi, 0);
        free(r->body);
        r->body = NULL;
        break;

    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        r->status = (int) lws_http_client_http_response(wsi);
        break;

    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
        p = buf + LWS_PRE;
        n = (int) sizeof(buf) - LWS_PRE;

        if (lws_http_client_read(wsi, &p, &n) < 0) {
            return -1;
        }
        break;

    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (r->resp_len + len + 1 > VKS_VK_RESP_MAX) {
            vks_vk_client_req_done(r, "answer too big");
            return -1;
        }

        if (r->resp_len + len + 1 > r->resp_cap) {
            p = realloc(r->resp, r->resp_len + len + 4096);
            if (p == NULL) {
                vks_vk_client_req_done(r, "out of memory");
                return -1;
            }
            r->resp = p;
            r->resp_cap = r->resp_len + len + 4096;
        }

        memcpy(r->resp + r->resp_len, in, len);
        r->resp_len += len;
        r->resp[r->resp_len] = '\0';
        break;

    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        vks_vk_client_req_done(r, NULL);
        return -1;              /* no keep-alive: one request each */

    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        /* an answer without a length ends with the connection */
        vks_vk_client_req_done(r, r->resp_len ? NULL : "connection closed");
        break;

    default:
        break;
    }

    return 0;
}


/*
 * The probe after a refused stream handshake: a plain GET carrying the
 * WebSocket headers, so that the refusal's body can be read.
 */
static int
vks_vk_client_cb_diag(vks_vk_req_t *r, struct lws *wsi,
    enum lws_callback_reasons reason, void *in, size_t len)
{
    unsigned char  **hp, *end;

    switch (reason) {

    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        hp = (unsigned char **) in;
        end = *hp + len;

        if (lws_add_http_header_by_name(wsi,
                (const unsigned char *) "upgrade:",
                (const unsigned char *) "websocket", 9, hp, end)
            || lws_add_http_header_by_name(wsi,
                (const unsigned char *) "connection:",
                (const unsigned char *) "Upgrade", 7, hp, end)
            || lws_add_http_header_by_name(wsi,
                (const unsigned char *) "sec-websocket-key:",
                (const unsigned char *) "dGhlIHNhbXBsZSBub25jZQ==", 24,
                hp, end)
            || lws_add_http_header_by_name(wsi,
                (const unsigned char *) "sec-websocket-version:",
                (const unsigned char *) "13", 2, hp, end))
        {
            return -1;
        }

        break;

    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        r->status = (int) lws_http_client_http_response(wsi);

        if (r->status == 101) {
            /*
             * The probe was taken as a stream: that answers it.  Left
             * open, it would hold the key's one connection itself.
             */
            vks_vk_client_req_done(r, NULL);
            return -1;
        }

        return 0;

    default:
        break;
    }

    return vks_vk_client_cb_http(r, wsi, reason, in, len);
}


/* the stream's WebSocket; its handshake is an HTTP request until then */
static int
vks_vk_client_cb_stream(vks_vk_req_t *r, struct lws *wsi,
    enum lws_callback_reasons reason, void *in, size_t len)
{
    int               rc;
    vks_vk_client_t  *c;

    c = r->c;

    switch (reason) {

    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (r->epoch != c->epoch) {
            return -1;
        }

        vks_vk_reasm_free(&c->reasm);
        vks_vk_reasm_init(&c->reasm, c->conf.max_message);
        vks_vk_backoff_reset(&c->backoff);
        c->st.connects++;
        vks_vk_client_log(c, VKS_VK_LOG_INFO, "stream connected to %s",
            c->st.endpoint);
        vks_vk_client_set_state(c, VKS_VK_ST_CONNECTED);
        return 0;

    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (r->epoch != c->epoch) {
            return -1;
        }

        if (lws_is_first_fragment(wsi)) {
            c->reasm_binary = lws_frame_is_binary(wsi);
        }

        rc = vks_vk_reasm_feed(&c->reasm, in, len,
                               lws_is_first_fragment(wsi),
                               lws_is_final_fragment(wsi));

        if (rc == VKS_VK_REASM_DONE && c->reasm_binary) {
            /* the API sends JSON text only: not worth a UTF-8 check */
            c->st.received++;
            c->st.malformed++;
            vks_vk_client_log(c, VKS_VK_LOG_WARN, "malformed stream message "
                "(%zu bytes): a binary frame, not JSON text",
                c->reasm.len);
            vks_vk_client_publish(c);

        } else if (rc == VKS_VK_REASM_DONE) {
            vks_vk_client_message(c, c->reasm.buf, c->reasm.len);

        } else if (rc == VKS_VK_REASM_DROPPED) {
            c->st.received++;
            c->st.dropped++;
            vks_vk_client_log(c, VKS_VK_LOG_WARN,
                "stream message over %zu bytes dropped", c->reasm.max);
            vks_vk_client_publish(c);

        } else if (rc == VKS_VK_REASM_ERROR) {
            c->st.dropped++;
            vks_vk_client_publish(c);
        }

        return 0;

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2) {
            r->close_code = (((unsigned char *) in)[0] << 8)
                            | ((unsigned char *) in)[1];
        } else {
            r->close_code = 1005;       /* a close frame without a code */
        }

        return 0;

    case LWS_CALLBACK_CLIENT_CLOSED:
        vks_vk_client_req_done(r, NULL);
        return 0;

    default:
        return vks_vk_client_cb_http(r, wsi, reason, in, len);
    }
}


/* any connection's end: failure, certificate check, destruction */
static int
vks_vk_client_cb_conn(vks_vk_req_t *r, struct lws *wsi,
    enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    switch (reason) {

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        vks_vk_client_req_done(r, in ? (const char *) in : "connection error");
        break;

    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
        /* user: the X509_STORE_CTX, len: OpenSSL's verdict so far */
        r->tls_seen = 1;

        if (len == 0 && r->tls_verify == 0) {
            r->tls_verify = X509_STORE_CTX_get_error(user);
        }
        break;

    case LWS_CALLBACK_WSI_DESTROY:
        lws_set_opaque_user_data(wsi, NULL);

        if (!r->done) {
            vks_vk_client_req_done(r, "connection lost");
        }

        r->destroyed = 1;

        if (r->started) {
            free(r->body);
            free(r->resp);
            free(r->rule.tag);
            free(r->rule.value);
            free(r);
        }
        break;

    default:
        break;
    }

    return 0;
}


static int
vks_vk_client_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
    vks_vk_req_t  *r;

    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
        return vks_vk_client_cb_wakeup(lws_context_user(lws_get_context(wsi)));
    }

    r = lws_get_opaque_user_data(wsi);
    if (r == NULL) {
        return 0;
    }

    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
    case LWS_CALLBACK_WSI_DESTROY:
        return vks_vk_client_cb_conn(r, wsi, reason, user, in, len);
    default:
        break;
    }

    switch (r->kind) {
    case VKS_REQ_STREAM:
        return vks_vk_client_cb_stream(r, wsi, reason, in, len);
    case VKS_REQ_DIAG:
        return vks_vk_client_cb_diag(r, wsi, reason, in, len);
    default:
        /* getServerUrl and the /rules calls */
        return vks_vk_client_cb_http(r, wsi, reason, in, len);
    }
}


static void *
vks_vk_client_thread(void *data)
{
    int                  rc, n;
    vks_vk_client_t     *c = data;
    struct lws_context  *ctx;

    vks_vk_client_connect(c);

    while (!c->stopping) {
        c->defer = 1;
        rc = lws_service(c->ctx, 0);

        /*
         * libwebsockets hands over one message per round and keeps the
         * rest of what it read for "forced service", which it does after
         * a poll() that then does not wait: serve it without the polls.
         */
        for (n = 0; rc >= 0 && n < VKS_VK_FORCED_MAX
                    && lws_service_adjust_timeout(c->ctx, 1, 0) == 0; n++)
        {
            rc = lws_service_tsi(c->ctx, -1, 0);
        }

        vks_vk_client_flush(c);

        if (rc < 0) {
            break;
        }
    }

    lws_sul_cancel(&c->sul);
    lws_sul_cancel(&c->rule_sul);

    pthread_mutex_lock(&c->mu);
    ctx = c->ctx;
    c->ctx = NULL;
    pthread_mutex_unlock(&c->mu);

    /* closes the connections, calls back WSI_DESTROY for each */
    c->running = 0;
    lws_context_destroy(ctx);

    return NULL;
}


/* --- the owner's side ---------------------------------------------------- */

int
vks_vk_url_split(const char *url, char *host, unsigned *port, int *tls,
    char *prefix)
{
    size_t             n;
    const char        *p, *slash;
    vks_vk_endpoint_t  ep;

    if (strncmp(url, "https://", 8) == 0) {
        *tls = 1;
        p = url + 8;

    } else if (strncmp(url, "http://", 7) == 0) {
        *tls = 0;
        p = url + 7;

    } else {
        return -1;
    }

    slash = strchr(p, '/');
    n = slash ? (size_t) (slash - p) : strlen(p);

    memset(&ep, 0, sizeof(ep));

    if (n == 0 || vks_vk_endpoint_split(p, n, &ep) != 0) {
        return -1;
    }

    if (memchr(p, ':', n) == NULL && !*tls) {
        ep.port = 80;
    }

    strcpy(host, ep.host);
    *port = ep.port;

    prefix[0] = '\0';

    if (slash) {
        n = strlen(slash);
        while (n && slash[n - 1] == '/') {
            n--;
        }

        if (n >= VKS_VK_STR_MAX) {
            return -1;
        }

        memcpy(prefix, slash, n);
        prefix[n] = '\0';
    }

    return 0;
}


static void
vks_vk_client_free(vks_vk_client_t *c)
{
    vks_vk_out_free(c->out_head);
    vks_vk_pairs_free(&c->want);
    vks_vk_sync_free(&c->sync);
    vks_vk_reasm_free(&c->reasm);
    free((char *) c->conf.api);
    free((char *) c->conf.token);
    free((char *) c->conf.endpoint);
    free((char *) c->conf.key);
    free((char *) c->conf.ca_file);
    pthread_mutex_destroy(&c->mu);
    free(c);
}


vks_vk_client_t *
vks_vk_client_start(const vks_vk_client_conf_t *conf, char *err,
    size_t errlen)
{
    int                                rc;
    vks_vk_client_t                   *c;
    struct lws_context_creation_info   info;

    c = calloc(1, sizeof(vks_vk_client_t));
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    c->conf = *conf;
    c->conf.api = vks_vk_client_strdup(conf->api ? conf->api
                                                 : "https://api.vk.com");
    c->conf.token = vks_vk_client_strdup(conf->token);
    c->conf.endpoint = vks_vk_client_strdup(conf->endpoint);
    c->conf.key = vks_vk_client_strdup(conf->key);
    c->conf.ca_file = vks_vk_client_strdup(conf->ca_file);

    if (c->conf.text_max == 0 || c->conf.text_max > VKS_VK_TEXT_MAX) {
        c->conf.text_max = VKS_VK_TEXT_MAX;
    }

    vks_vk_sync_init(&c->sync, conf->delete_foreign
                               ? VKS_VK_PLAN_DELETE_FOREIGN : 0);

    pthread_mutex_init(&c->mu, NULL);
    vks_vk_reasm_init(&c->reasm, conf->max_message);
    vks_vk_backoff_init(&c->backoff, 0, 0, NULL, NULL, conf->seed);
    vks_vk_backoff_init(&c->rule_backoff, 0, 0, NULL, NULL,
                        conf->seed ^ 0x5bd1e995);

    if (vks_vk_url_split(c->conf.api, c->api_host, &c->api_port,
                         &c->api_tls, c->api_prefix)
        != 0)
    {
        snprintf(err, errlen, "bad API URL");
        vks_vk_client_free(c);
        return NULL;
    }

    if (c->conf.token == NULL) {
        if (c->conf.endpoint == NULL || c->conf.key == NULL
            || vks_vk_endpoint_split(c->conf.endpoint,
                                     strlen(c->conf.endpoint), &c->ep)
               != 0
            || strlen(c->conf.key) > VKS_VK_KEY_MAX)
        {
            snprintf(err, errlen, "bad endpoint or key");
            vks_vk_client_free(c);
            return NULL;
        }

        strcpy(c->ep.key, c->conf.key);
        c->have_ep = 1;
        snprintf(c->st.endpoint, sizeof(c->st.endpoint), "%s:%u",
                 c->ep.host, c->ep.port);
    }

    /* lws logs URLs, which carry the key: keep it quiet */
    lws_set_log_level(0, NULL);

    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = vks_vk_client_protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.gid = -1;
    info.uid = -1;
    info.user = c;
    info.timeout_secs = 10;

    if (c->conf.verify && c->conf.ca_file) {
        info.client_ssl_ca_filepath = c->conf.ca_file;
    }

    c->ctx = lws_create_context(&info);
    if (c->ctx == NULL) {
        snprintf(err, errlen, "cannot create the libwebsockets context%s",
                 info.client_ssl_ca_filepath ? " (is the CA file readable?)"
                                             : "");
        vks_vk_client_free(c);
        return NULL;
    }

    rc = vks_thread_create(&c->thread, vks_vk_client_thread, c);

    if (rc != 0) {
        snprintf(err, errlen, "pthread_create: %s", strerror(rc));
        lws_context_destroy(c->ctx);
        vks_vk_client_free(c);
        return NULL;
    }

    return c;
}


int
vks_vk_client_stop(vks_vk_client_t *c, unsigned timeout_ms)
{
    struct timespec  ts;

    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    if (c->ctx) {
        lws_cancel_service(c->ctx);
    }
    pthread_mutex_unlock(&c->mu);

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long) (timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }

    if (pthread_timedjoin_np(c->thread, NULL, &ts) != 0) {
        pthread_detach(c->thread);
        return -1;
    }

    vks_vk_client_free(c);
    return 0;
}


int
vks_vk_client_set_rules(vks_vk_client_t *c, const vks_vk_rule_t *rules,
    size_t n)
{
    int     rc;
    size_t  i;

    rc = 0;

    pthread_mutex_lock(&c->mu);

    vks_vk_pairs_clear(&c->want);

    for (i = 0; i < n && rc == 0; i++) {
        rc = vks_vk_pairs_push(&c->want, rules[i].tag, rules[i].value);
    }

    c->want_gen++;

    if (c->ctx) {
        lws_cancel_service(c->ctx);
    }

    pthread_mutex_unlock(&c->mu);

    return rc;
}


vks_vk_out_t *
vks_vk_client_take(vks_vk_client_t *c)
{
    vks_vk_out_t  *list;

    pthread_mutex_lock(&c->mu);
    list = c->out_head;
    c->out_head = NULL;
    c->out_tail = NULL;
    c->nout = 0;
    pthread_mutex_unlock(&c->mu);

    return list;
}


vks_vk_out_t *
vks_vk_client_take_batch(vks_vk_client_t *c, int poll, int *polls)
{
    vks_vk_out_t  *list;

    pthread_mutex_lock(&c->mu);
    list = c->out_head;

    /* decided under the lock push() looks at: no item is left untold */
    c->owner_polls = (list != NULL) && poll;
    *polls = c->owner_polls;

    c->out_head = NULL;
    c->out_tail = NULL;
    c->nout = 0;
    pthread_mutex_unlock(&c->mu);

    return list;
}


void
vks_vk_out_free(vks_vk_out_t *list)
{
    vks_vk_out_t  *next;

    while (list) {
        next = list->next;
        free(list);
        list = next;
    }
}


int
vks_vk_client_status(vks_vk_client_t *c, vks_vk_status_t *st)
{
    int  changed;

    pthread_mutex_lock(&c->mu);
    *st = c->status;
    changed = c->status_changed;
    c->status_changed = 0;
    pthread_mutex_unlock(&c->mu);

    return changed;
}
