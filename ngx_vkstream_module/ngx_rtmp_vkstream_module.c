
/*
 * vkstream RTMP glue: starts a transcoding context for every accepted
 * publish in applications where vkstream is enabled, feeds it the
 * stream's audio and video messages and ends it with the publish.
 *
 * Only this file's event-loop code touches nginx objects; the context
 * runs on its own threads (media/vks_transcoder.c), which queue their log
 * lines (media/vks_logq.c) and report their end through the worker's
 * notifier (ngx_vkstream_notify.c); the event loop then writes the lines
 * and reaps the context.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_rtmp.h>
#include <ngx_rtmp_cmd_module.h>
#include <ngx_rtmp_codec_module.h>
#include <ngx_rtmp_live_module.h>
#if (__GLIBC__)
#include <malloc.h>
#endif
#include "ngx_vkstream.h"
#include "ngx_vkstream_notify.h"
#include "ngx_vkstream_table.h"
#include "media/vks_logq.h"
#include "media/vks_transcoder.h"
#include "vk/vks_vk_keywords.h"


#define NGX_RTMP_VKSTREAM_TICK       1000
#define NGX_RTMP_VKSTREAM_EXIT_TICK  50
#define NGX_RTMP_VKSTREAM_EXIT_WAIT  1500
#define NGX_RTMP_VKSTREAM_DROP_LOG   10000
#define NGX_RTMP_VKSTREAM_LOG_LINES  256     /* queued by context threads */


typedef struct {
    ngx_flag_t                enable;
    ngx_array_t              *renditions;   /* vks_rendition_conf_t */
    ngx_msec_t                max_gop;
    ngx_msec_t                max_delay;
    size_t                    queue_size;
    ngx_int_t                 nice;
    ngx_uint_t                sched;        /* VKS_SCHED_* */
    ngx_uint_t                max_transcodes;
    ngx_uint_t                max_transcodes_total;
    ngx_str_t                 output;
    ngx_str_t                 vk_keywords;  /* template: $app, $name */
} ngx_rtmp_vkstream_app_conf_t;


/* Outlives the session: the context may still be flushing after close. */
typedef struct {
    ngx_queue_t               queue;
    ngx_rtmp_session_t       *session;      /* NULL once closed */
    vks_transcoder_t         *transcoder;   /* NULL: not transcoded */
    ngx_str_t                 app;
    ngx_str_t                 name;
    ngx_msec_t                stop_time;
    ngx_uint_t                table_id;
    uint64_t                  drops_logged;
    ngx_msec_t                drops_log_time;
    unsigned                  in_table:1;
    unsigned                  stopping:1;
} ngx_rtmp_vkstream_stream_t;


typedef struct {
    u_char                    name[NGX_RTMP_MAX_NAME];
    ngx_str_t                 keywords;     /* from the "vk" argument */
    ngx_rtmp_vkstream_stream_t  *stream;
    unsigned                  publishing:1;
    unsigned                  refused:1;
} ngx_rtmp_vkstream_ctx_t;


static ngx_int_t ngx_rtmp_vkstream_postconfiguration(ngx_conf_t *cf);
static void *ngx_rtmp_vkstream_create_app_conf(ngx_conf_t *cf);
static char *ngx_rtmp_vkstream_merge_app_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_rtmp_vkstream_rendition(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_rtmp_vkstream_output(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_rtmp_vkstream_init_process(ngx_cycle_t *cycle);
static void ngx_rtmp_vkstream_exit_process(ngx_cycle_t *cycle);
static void ngx_rtmp_vkstream_action(ngx_uint_t id, ngx_uint_t action,
    ngx_str_t *suffix);


static ngx_rtmp_publish_pt       next_publish;
static ngx_rtmp_close_stream_pt  next_close_stream;


/* per worker */
static ngx_queue_t               ngx_rtmp_vkstream_streams;
static ngx_uint_t                ngx_rtmp_vkstream_running;
static ngx_event_t               ngx_rtmp_vkstream_tick;
static ngx_connection_t          ngx_rtmp_vkstream_tick_dummy;
static ngx_flag_t                ngx_rtmp_vkstream_trim;
static ngx_flag_t                ngx_rtmp_vkstream_logq_ready;

/*
 * Static: threads of a context still ending at exit may push into it
 * until the process is gone.
 */
static vks_logq_t                ngx_rtmp_vkstream_logq;
static vks_logq_line_t           ngx_rtmp_vkstream_log_lines[
                                     NGX_RTMP_VKSTREAM_LOG_LINES];


static ngx_conf_num_bounds_t  ngx_rtmp_vkstream_nice_bounds = {
    ngx_conf_check_num_bounds, 0, 19
};


static ngx_conf_enum_t  ngx_rtmp_vkstream_sched_values[] = {
    { ngx_string("normal"), VKS_SCHED_NORMAL },
    { ngx_string("idle"), VKS_SCHED_IDLE },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_rtmp_vkstream_commands[] = {

    { ngx_string("vkstream"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, enable),
      NULL },

    { ngx_string("vkstream_rendition"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_1MORE,
      ngx_rtmp_vkstream_rendition,
      NGX_RTMP_APP_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("vkstream_max_gop"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, max_gop),
      NULL },

    { ngx_string("vkstream_max_delay"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, max_delay),
      NULL },

    { ngx_string("vkstream_queue_size"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, queue_size),
      NULL },

    { ngx_string("vkstream_nice"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, nice),
      &ngx_rtmp_vkstream_nice_bounds },

    { ngx_string("vkstream_sched"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_vkstream_conf_set_enum_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, sched),
      &ngx_rtmp_vkstream_sched_values },

    { ngx_string("vkstream_max_transcodes"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, max_transcodes),
      NULL },

    { ngx_string("vkstream_max_transcodes_total"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, max_transcodes_total),
      NULL },

    { ngx_string("vkstream_output"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_rtmp_vkstream_output,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, output),
      NULL },

    { ngx_string("vkstream_vk_keywords"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, vk_keywords),
      NULL },

      ngx_null_command
};


static ngx_rtmp_module_t  ngx_rtmp_vkstream_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_rtmp_vkstream_postconfiguration,   /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    ngx_rtmp_vkstream_create_app_conf,     /* create app configuration */
    ngx_rtmp_vkstream_merge_app_conf       /* merge app configuration */
};


ngx_module_t  ngx_rtmp_vkstream_module = {
    NGX_MODULE_V1,
    &ngx_rtmp_vkstream_module_ctx,         /* module context */
    ngx_rtmp_vkstream_commands,            /* module directives */
    NGX_RTMP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_rtmp_vkstream_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_rtmp_vkstream_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* configuration */

static void *
ngx_rtmp_vkstream_create_app_conf(ngx_conf_t *cf)
{
    ngx_rtmp_vkstream_app_conf_t  *vacf;

    vacf = ngx_pcalloc(cf->pool, sizeof(ngx_rtmp_vkstream_app_conf_t));
    if (vacf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     vacf->renditions = NULL;
     *     vacf->output = { 0, NULL };
     */

    vacf->enable = NGX_CONF_UNSET;
    vacf->max_gop = NGX_CONF_UNSET_MSEC;
    vacf->max_delay = NGX_CONF_UNSET_MSEC;
    vacf->queue_size = NGX_CONF_UNSET_SIZE;
    vacf->nice = NGX_CONF_UNSET;
    vacf->sched = NGX_CONF_UNSET_UINT;
    vacf->max_transcodes = NGX_CONF_UNSET_UINT;
    vacf->max_transcodes_total = NGX_CONF_UNSET_UINT;

    return vacf;
}


static char *
ngx_rtmp_vkstream_merge_app_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_rtmp_vkstream_app_conf_t  *prev = parent;
    ngx_rtmp_vkstream_app_conf_t  *conf = child;

    vks_rendition_conf_t  *rc;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_msec_value(conf->max_gop, prev->max_gop, 10000);
    ngx_conf_merge_msec_value(conf->max_delay, prev->max_delay, 3000);
    ngx_conf_merge_size_value(conf->queue_size, prev->queue_size,
                              16 * 1024 * 1024);
    ngx_conf_merge_value(conf->nice, prev->nice, 5);
    ngx_conf_merge_uint_value(conf->sched, prev->sched, VKS_SCHED_NORMAL);
    ngx_conf_merge_uint_value(conf->max_transcodes, prev->max_transcodes, 0);
    ngx_conf_merge_uint_value(conf->max_transcodes_total,
                              prev->max_transcodes_total, 0);
    ngx_conf_merge_str_value(conf->output, prev->output, "");
    ngx_conf_merge_str_value(conf->vk_keywords, prev->vk_keywords, "");

    if (conf->renditions == NULL) {
        conf->renditions = prev->renditions;
    }

    if (conf->renditions == NULL && conf->enable) {
        /* what "exec ffmpeg ... $name_low" gives today */
        conf->renditions = ngx_array_create(cf->pool, 1,
                                            sizeof(vks_rendition_conf_t));
        if (conf->renditions == NULL) {
            return NGX_CONF_ERROR;
        }

        rc = ngx_array_push(conf->renditions);
        if (rc == NULL) {
            return NGX_CONF_ERROR;
        }

        vks_rendition_conf_low(rc);
    }

    if (conf->max_gop < 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"vkstream_max_gop\" must be at least 1s");
        return NGX_CONF_ERROR;
    }

    if (conf->queue_size < 256 * 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"vkstream_queue_size\" must be at least 256k");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* vkstream_rendition SUFFIX [key=value ...] */
static char *
ngx_rtmp_vkstream_rendition(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rtmp_vkstream_app_conf_t  *vacf = conf;

    u_char                *eq;
    char                   err[256], key[64], value[256];
    size_t                 klen, vlen;
    ngx_str_t             *args;
    ngx_uint_t             i;
    vks_rendition_conf_t  *rc, *other;

    args = cf->args->elts;

    if (args[1].len == 0 || args[1].len >= VKS_SUFFIX_LEN
        || ngx_strlchr(args[1].data, args[1].data + args[1].len, '/')
        || ngx_strlchr(args[1].data, args[1].data + args[1].len, '?'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"vkstream_rendition\": invalid suffix \"%V\"",
                           &args[1]);
        return NGX_CONF_ERROR;
    }

    if (vacf->renditions == NULL) {
        vacf->renditions = ngx_array_create(cf->pool, 2,
                                            sizeof(vks_rendition_conf_t));
        if (vacf->renditions == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    other = vacf->renditions->elts;
    for (i = 0; i < vacf->renditions->nelts; i++) {
        if (ngx_strlen(other[i].suffix) == args[1].len
            && ngx_strncmp(other[i].suffix, args[1].data, args[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"vkstream_rendition\": duplicate suffix "
                               "\"%V\"", &args[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (vacf->renditions->nelts >= VKS_MAX_RENDITIONS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"vkstream_rendition\": at most %d renditions",
                           VKS_MAX_RENDITIONS);
        return NGX_CONF_ERROR;
    }

    rc = ngx_array_push(vacf->renditions);
    if (rc == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(key, args[1].data, args[1].len);
    key[args[1].len] = '\0';

    if (ngx_strcmp(key, "_low") == 0) {
        vks_rendition_conf_low(rc);
    } else {
        vks_rendition_conf_init(rc, key);
    }

    for (i = 2; i < cf->args->nelts; i++) {
        eq = ngx_strlchr(args[i].data, args[i].data + args[i].len, '=');
        if (eq == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"vkstream_rendition\": invalid parameter "
                               "\"%V\", expected key=value", &args[i]);
            return NGX_CONF_ERROR;
        }

        klen = eq - args[i].data;
        vlen = args[i].len - klen - 1;

        if (klen >= sizeof(key) || vlen >= sizeof(value)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"vkstream_rendition\": parameter \"%V\" "
                               "too long", &args[i]);
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(key, args[i].data, klen);
        key[klen] = '\0';
        ngx_memcpy(value, eq + 1, vlen);
        value[vlen] = '\0';

        if (vks_rendition_conf_set(rc, key, value, err, sizeof(err)) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"vkstream_rendition\": %s", err);
            return NGX_CONF_ERROR;
        }
    }

    if (vks_rendition_conf_check(rc, err, sizeof(err)) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"vkstream_rendition\": %s",
                           err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_rtmp_vkstream_output(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char       *rv;
    ngx_str_t  *value;
    ngx_url_t   u;

    rv = ngx_conf_set_str_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    value = cf->args->elts;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = value[1];
    u.no_resolve = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.no_port
        || u.uri.len || value[1].len >= 128)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"vkstream_output\": invalid address \"%V\", "
                           "expected host:port", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* contexts */

/*
 * Writes the lines the context threads queued.  Only the event loop may
 * log: nginx's log writers (syslog's above all) are not thread-safe.
 */
static void
ngx_rtmp_vkstream_log_flush(void)
{
    int                      level;
    char                     line[VKS_LOGQ_LINE];
    uint64_t                 dropped;
    ngx_uint_t               n;
    static const ngx_uint_t  levels[] = {
        NGX_LOG_ERR, NGX_LOG_WARN, NGX_LOG_INFO, NGX_LOG_DEBUG
    };

    if (!ngx_rtmp_vkstream_logq_ready) {
        return;
    }

    /* a queue's worth per call: a chatty thread cannot hold the loop */
    for (n = 0; n < NGX_RTMP_VKSTREAM_LOG_LINES; n++) {
        if (!vks_logq_take(&ngx_rtmp_vkstream_logq, &level, line,
                           sizeof(line)))
        {
            break;
        }

        ngx_log_error(levels[level & 3], ngx_cycle->log, 0, "%s", line);
    }

    if (n == NGX_RTMP_VKSTREAM_LOG_LINES) {
        /* the rest on the next iteration: no wake-up comes for them */
        ngx_vkstream_notify(NULL);
    }

    dropped = vks_logq_dropped(&ngx_rtmp_vkstream_logq);

    if (dropped) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "vkstream: %uL log lines of transcoding threads "
                      "dropped", dropped);
    }
}


static ngx_flag_t
ngx_rtmp_vkstream_accepted(ngx_rtmp_session_t *s)
{
    ngx_rtmp_live_ctx_t  *lctx;

    lctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_live_module);

    return lctx != NULL && lctx->publishing && lctx->stream != NULL;
}


static ngx_int_t
ngx_rtmp_vkstream_output_host(ngx_rtmp_session_t *s,
    ngx_rtmp_vkstream_app_conf_t *vacf, char *host, size_t size)
{
    u_char  *p;

    if (vacf->output.len) {
        p = ngx_cpymem(host, vacf->output.data,
                       ngx_min(vacf->output.len, size - 1));
        *p = '\0';
        return NGX_OK;
    }

    /* where the publisher reached us is an RTMP listener of ours */
    if (ngx_connection_local_sockaddr(s->connection, NULL, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    p = (u_char *) host;
    p += ngx_sock_ntop(s->connection->local_sockaddr,
                       s->connection->local_socklen, p, size - 1, 1);
    *p = '\0';

    return NGX_OK;
}


static void
ngx_rtmp_vkstream_hints(ngx_rtmp_session_t *s, vks_transcoder_conf_t *tc)
{
    ngx_rtmp_codec_ctx_t  *codec;

    tc->hint_video = VKS_HINT_UNKNOWN;
    tc->hint_audio = VKS_HINT_UNKNOWN;
    tc->hint_fps = 0;

    codec = ngx_rtmp_get_module_ctx(s, ngx_rtmp_codec_module);
    if (codec == NULL || codec->meta == NULL) {
        return;
    }

    /* onMetaData says which tracks to expect: no waiting for the other */
    tc->hint_video = codec->video_codec_id != 0;
    tc->hint_audio = codec->audio_codec_id != 0;

    if (codec->frame_rate > 0 && codec->frame_rate <= 120) {
        tc->hint_fps = (double) codec->frame_rate;
    }
}


static ngx_int_t
ngx_rtmp_vkstream_push_chain(ngx_rtmp_vkstream_stream_t *st, int type,
    uint32_t ts, ngx_chain_t *in)
{
    int            n, rc;
    ngx_chain_t   *cl;
    struct iovec  *iov, iovs[NGX_IOVS_PREALLOCATE];

    if (st->transcoder == NULL) {
        return NGX_OK;
    }

    n = 0;
    for (cl = in; cl; cl = cl->next) {
        n++;
    }

    if (n == 0) {
        return NGX_OK;
    }

    /* a big keyframe in small RTMP chunks has many buffers */
    iov = iovs;
    if (n > NGX_IOVS_PREALLOCATE) {
        iov = ngx_alloc(n * sizeof(struct iovec), ngx_cycle->log);
        if (iov == NULL) {
            return NGX_ERROR;
        }
    }

    n = 0;
    for (cl = in; cl; cl = cl->next) {
        iov[n].iov_base = cl->buf->pos;
        iov[n].iov_len = cl->buf->last - cl->buf->pos;
        n++;
    }

    /* the context copies the buffers once, into its queue */
    rc = vks_transcoder_pushv(st->transcoder, type, ts, iov, n);

    if (iov != iovs) {
        ngx_free(iov);
    }

    return rc < 0 ? NGX_ERROR : NGX_OK;
}


static void
ngx_rtmp_vkstream_stream_free(ngx_rtmp_vkstream_stream_t *st)
{
    ngx_queue_remove(&st->queue);

    if (st->transcoder) {
        vks_transcoder_free(st->transcoder);

        /* joined: its threads' last lines are queued, written now */
        ngx_rtmp_vkstream_log_flush();
    }

    ngx_free(st);
}


static ngx_rtmp_vkstream_stream_t *
ngx_rtmp_vkstream_stream_create(ngx_rtmp_session_t *s,
    ngx_rtmp_vkstream_ctx_t *ctx)
{
    size_t                       n;
    ngx_rtmp_vkstream_stream_t  *st;

    n = ngx_strlen(ctx->name);

    st = ngx_calloc(sizeof(ngx_rtmp_vkstream_stream_t) + s->app.len + n,
                    s->connection->log);
    if (st == NULL) {
        return NULL;
    }

    st->app.data = (u_char *) &st[1];
    st->app.len = s->app.len;
    ngx_memcpy(st->app.data, s->app.data, s->app.len);
    st->name.data = st->app.data + s->app.len;
    st->name.len = n;
    ngx_memcpy(st->name.data, ctx->name, n);

    st->session = s;

    if (ngx_vkstream_table_publish(&st->app, &st->name,
                                   &s->connection->addr_text, &ctx->keywords,
                                   &st->table_id)
        == NGX_OK)
    {
        st->in_table = 1;
    }

    ngx_queue_insert_tail(&ngx_rtmp_vkstream_streams, &st->queue);

    return st;
}


static vks_transcoder_t *
ngx_rtmp_vkstream_transcoder(ngx_rtmp_session_t *s,
    ngx_rtmp_vkstream_ctx_t *ctx, ngx_rtmp_vkstream_stream_t *st)
{
    ngx_uint_t                     i;
    vks_transcoder_t              *t;
    ngx_vkstream_conf_t           *vcf;
    vks_rendition_conf_t          *rc;
    vks_transcoder_conf_t         *tc;
    ngx_rtmp_vkstream_app_conf_t  *vacf;

    vacf = ngx_rtmp_get_module_app_conf(s, ngx_rtmp_vkstream_module);
    vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);

    if (vacf->max_transcodes
        && ngx_rtmp_vkstream_running >= vacf->max_transcodes)
    {
        ngx_log_error(NGX_LOG_WARN, s->connection->log, 0,
                      "vkstream: limit of %ui transcodes per worker reached, "
                      "\"%V/%s\" not transcoded", vacf->max_transcodes,
                      &s->app, ctx->name);
        return NULL;
    }

    if (vacf->max_transcodes_total
        && (!st->in_table
            || ngx_vkstream_table_claim_transcode(st->table_id,
                                                  vacf->max_transcodes_total)
               != NGX_OK))
    {
        ngx_log_error(NGX_LOG_WARN, s->connection->log, 0,
                      "vkstream: limit of %ui transcodes per server reached, "
                      "\"%V/%s\" not transcoded", vacf->max_transcodes_total,
                      &s->app, ctx->name);
        return NULL;
    }

    tc = ngx_calloc(sizeof(vks_transcoder_conf_t), s->connection->log);
    if (tc == NULL) {
        return NULL;
    }

    ngx_cpystrn((u_char *) tc->name, ctx->name, sizeof(tc->name));
    ngx_memcpy(tc->marker, vcf->marker.data,
               ngx_min(vcf->marker.len, sizeof(tc->marker) - 1));

    if (ngx_rtmp_vkstream_output_host(s, vacf, tc->host, sizeof(tc->host))
        != NGX_OK)
    {
        ngx_free(tc);
        return NULL;
    }

    rc = vacf->renditions->elts;
    for (i = 0; i < vacf->renditions->nelts; i++) {
        tc->renditions[tc->nrenditions++] = rc[i];
    }

    tc->max_gop_ms = (int) vacf->max_gop;
    tc->queue_bytes = vacf->queue_size;
    tc->max_delay_ms = (int) vacf->max_delay;
    tc->nice = (int) vacf->nice;
    tc->sched = (int) vacf->sched;
    /* the context's threads only queue lines and wake the event loop */
    tc->ended = ngx_vkstream_notify;
    tc->log = vks_logq_log;
    tc->log_data = &ngx_rtmp_vkstream_logq;

    ngx_rtmp_vkstream_hints(s, tc);

    t = vks_transcoder_start(tc);
    ngx_free(tc);

    if (t == NULL) {
        ngx_log_error(NGX_LOG_ERR, s->connection->log, 0,
                      "vkstream: cannot start transcoding \"%V/%s\"",
                      &s->app, ctx->name);
    }

    return t;
}


static ngx_int_t
ngx_rtmp_vkstream_start(ngx_rtmp_session_t *s, ngx_rtmp_vkstream_ctx_t *ctx,
    uint32_t ts)
{
    ngx_vkstream_conf_t         *vcf;
    ngx_rtmp_codec_ctx_t        *codec;
    ngx_rtmp_vkstream_stream_t  *st;

    vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);
    vcf->publishes++;

    ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                  "vkstream: publish \"%V/%s\"", &s->app, ctx->name);

    st = ngx_rtmp_vkstream_stream_create(s, ctx);
    if (st == NULL) {
        return NGX_ERROR;
    }

    ctx->stream = st;

    /* an untranscoded stream is still listed, with no renditions */
    st->transcoder = ngx_rtmp_vkstream_transcoder(s, ctx, st);
    if (st->transcoder == NULL) {
        return NGX_OK;
    }

    ngx_rtmp_vkstream_running++;

    /* headers that arrived before the publish was accepted */
    codec = ngx_rtmp_get_module_ctx(s, ngx_rtmp_codec_module);
    if (codec) {
        if (codec->avc_header) {
            ngx_rtmp_vkstream_push_chain(st, VKS_PACKET_VIDEO, ts,
                                         codec->avc_header);
        }

        if (codec->aac_header) {
            ngx_rtmp_vkstream_push_chain(st, VKS_PACKET_AUDIO, ts,
                                         codec->aac_header);
        }
    }

    return NGX_OK;
}


/*
 * Drops are counted in the table; the log says when a stream starts to
 * fall behind, then at most every 10 s, and what its end still dropped.
 */
static void
ngx_rtmp_vkstream_log_drops(ngx_rtmp_vkstream_stream_t *st,
    vks_stream_stats_t *stats)
{
    int       i;
    uint64_t  frames;

    frames = stats->frames_dropped;

    for (i = 0; i < ngx_min(stats->nrenditions, VKS_MAX_RENDITIONS); i++) {
        frames += stats->r[i].frames_dropped;
    }

    if (frames <= st->drops_logged) {
        return;
    }

    if (st->drops_log_time
        && ngx_current_msec - st->drops_log_time < NGX_RTMP_VKSTREAM_DROP_LOG
        && !vks_transcoder_ended(st->transcoder))
    {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "vkstream: \"%V/%V\" falls behind: %uL frames dropped "
                  "(%uL in all; %uL before decoding, in %uL GOPs)",
                  &st->app, &st->name, frames - st->drops_logged, frames,
                  stats->frames_dropped, stats->gops_dropped);

    st->drops_logged = frames;
    st->drops_log_time = ngx_current_msec;
}


static void
ngx_rtmp_vkstream_report(ngx_rtmp_vkstream_stream_t *st)
{
    vks_stream_stats_t  stats;

    if (st->transcoder) {
        vks_transcoder_stats(st->transcoder, &stats);
        ngx_rtmp_vkstream_log_drops(st, &stats);

    } else {
        ngx_memzero(&stats, sizeof(vks_stream_stats_t));
    }

    if (st->in_table) {
        ngx_vkstream_table_update(st->table_id, &stats);
    }
}


static void
ngx_rtmp_vkstream_stop(ngx_rtmp_vkstream_stream_t *st)
{
    if (st->stopping) {
        return;
    }

    st->stopping = 1;
    st->session = NULL;
    st->stop_time = ngx_current_msec;

    if (st->transcoder) {
        ngx_rtmp_vkstream_running--;
        /* a publish that ends is finished; a worker that exits hurries */
        vks_transcoder_stop(st->transcoder,
                            !(ngx_exiting || ngx_quit || ngx_terminate));
    }

    /*
     * The entry ends now; its statistics follow the renditions' flush
     * until the context is reaped, so the final counts add up.
     */
    if (st->in_table) {
        ngx_rtmp_vkstream_report(st);
        ngx_vkstream_table_close(st->table_id);
    }
}


static void
ngx_rtmp_vkstream_reap(void)
{
    ngx_queue_t                 *q, *next;
    ngx_rtmp_vkstream_stream_t  *st;

    for (q = ngx_queue_head(&ngx_rtmp_vkstream_streams);
         q != ngx_queue_sentinel(&ngx_rtmp_vkstream_streams);
         q = next)
    {
        next = ngx_queue_next(q);
        st = ngx_queue_data(q, ngx_rtmp_vkstream_stream_t, queue);

        if (st->stopping && (st->transcoder == NULL
                             || vks_transcoder_ended(st->transcoder)))
        {
            ngx_log_debug2(NGX_LOG_DEBUG_RTMP, ngx_cycle->log, 0,
                           "vkstream: context \"%V/%V\" reaped",
                           &st->app, &st->name);
            ngx_rtmp_vkstream_report(st);
            ngx_rtmp_vkstream_stream_free(st);
            ngx_rtmp_vkstream_trim = 1;
        }
    }
}


static void
ngx_rtmp_vkstream_notify_handler(void)
{
    ngx_rtmp_vkstream_log_flush();
    ngx_rtmp_vkstream_reap();
}


static void
ngx_rtmp_vkstream_tick_handler(ngx_event_t *ev)
{
    ngx_queue_t                 *q, *next;
    ngx_rtmp_vkstream_stream_t  *st;

    /* in case a wake-up was lost */
    ngx_rtmp_vkstream_log_flush();
    ngx_rtmp_vkstream_reap();

#if (__GLIBC__)
    if (ngx_rtmp_vkstream_trim) {
        /*
         * The codecs' frame buffers were freed in the context threads'
         * malloc arenas, which glibc keeps mapped: a 1080p context would
         * leave tens of MB in the worker after it ended.  Once a second
         * at most, and only after a context went away.
         */
        malloc_trim(0);
        ngx_rtmp_vkstream_trim = 0;
    }
#endif

    for (q = ngx_queue_head(&ngx_rtmp_vkstream_streams);
         q != ngx_queue_sentinel(&ngx_rtmp_vkstream_streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_rtmp_vkstream_stream_t, queue);
        ngx_rtmp_vkstream_report(st);
    }

    if (ngx_exiting) {
        /*
         * Reload or graceful stop: nginx-rtmp keeps publishers on the old
         * worker for ever.  End the transcodes and let publishers
         * reconnect to the new workers, or this worker never exits.
         */
        for (q = ngx_queue_head(&ngx_rtmp_vkstream_streams);
             q != ngx_queue_sentinel(&ngx_rtmp_vkstream_streams);
             q = next)
        {
            next = ngx_queue_next(q);
            st = ngx_queue_data(q, ngx_rtmp_vkstream_stream_t, queue);

            if (st->session) {
                ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                              "vkstream: worker exiting, closing \"%V/%V\"",
                              &st->app, &st->name);
                ngx_rtmp_finalize_session(st->session);
                ngx_rtmp_vkstream_stop(st);
            }
        }
    }

    if (ngx_exiting && ngx_queue_empty(&ngx_rtmp_vkstream_streams)) {
        return;
    }

    /* while contexts flush on exit, this timer keeps the worker alive */
    ev->cancelable = !ngx_exiting;
    ngx_add_timer(ev, ngx_exiting ? NGX_RTMP_VKSTREAM_EXIT_TICK
                                  : NGX_RTMP_VKSTREAM_TICK);
}


static ngx_int_t
ngx_rtmp_vkstream_init_process(ngx_cycle_t *cycle)
{
    ngx_queue_init(&ngx_rtmp_vkstream_streams);
    vks_media_init();

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    if (vks_logq_init(&ngx_rtmp_vkstream_logq, ngx_rtmp_vkstream_log_lines,
                      NGX_RTMP_VKSTREAM_LOG_LINES, ngx_vkstream_notify, NULL)
        != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "vkstream: cannot set up the log queue");
        return NGX_ERROR;
    }

    ngx_rtmp_vkstream_logq_ready = 1;

    if (ngx_vkstream_notify_add(cycle, ngx_rtmp_vkstream_notify_handler)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_rtmp_vkstream_tick.handler = ngx_rtmp_vkstream_tick_handler;
    ngx_rtmp_vkstream_tick.log = cycle->log;
    /* the timer's ident in debug logs: no connection of its own */
    ngx_rtmp_vkstream_tick_dummy.fd = (ngx_socket_t) -1;
    ngx_rtmp_vkstream_tick.data = &ngx_rtmp_vkstream_tick_dummy;
    ngx_rtmp_vkstream_tick.cancelable = 1;
    ngx_add_timer(&ngx_rtmp_vkstream_tick, NGX_RTMP_VKSTREAM_TICK);

    return NGX_OK;
}


static void
ngx_rtmp_vkstream_exit_process(ngx_cycle_t *cycle)
{
    ngx_msec_t                   waited;
    ngx_queue_t                 *q;
    ngx_rtmp_vkstream_stream_t  *st;

    if (ngx_rtmp_vkstream_streams.next == NULL) {
        return;
    }

    for (q = ngx_queue_head(&ngx_rtmp_vkstream_streams);
         q != ngx_queue_sentinel(&ngx_rtmp_vkstream_streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_rtmp_vkstream_stream_t, queue);
        ngx_rtmp_vkstream_stop(st);
    }

    /* fast shutdown: give the outputs their end of stream, briefly */
    for (waited = 0;
         waited < NGX_RTMP_VKSTREAM_EXIT_WAIT
         && !ngx_queue_empty(&ngx_rtmp_vkstream_streams);
         waited += 20)
    {
        ngx_rtmp_vkstream_reap();
        ngx_msleep(20);
    }

    ngx_rtmp_vkstream_reap();
    ngx_rtmp_vkstream_log_flush();

    if (!ngx_queue_empty(&ngx_rtmp_vkstream_streams)) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "vkstream: contexts still ending at exit");
    }

    /* threads still ending then notify into nothing */
    ngx_vkstream_notify_del(ngx_rtmp_vkstream_notify_handler);
}


/* hooks */

static ngx_flag_t
ngx_rtmp_vkstream_is_own_output(u_char *args)
{
    ngx_vkstream_conf_t  *vcf;

    vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);

    return ngx_strstrn(args, (char *) vcf->marker.data, vcf->marker.len - 1)
           != NULL;
}


/* "vk=" publish argument: the stream's VK keywords, url-encoded */
static ngx_int_t
ngx_rtmp_vkstream_keywords(ngx_rtmp_session_t *s, u_char *args,
    ngx_str_t *vk)
{
    size_t       len;
    const char  *value;

    if (!vks_vk_keywords_arg((char *) args, &value, &len)) {
        return NGX_OK;
    }

    /* decoded in a copy: later modules see the arguments unchanged */
    vk->data = ngx_pnalloc(s->connection->pool, len);
    if (vk->data == NULL) {
        return NGX_ERROR;
    }

    vk->len = vks_vk_keywords_decode((char *) vk->data, value, len);

    return NGX_OK;
}


static void
ngx_rtmp_vkstream_action(ngx_uint_t id, ngx_uint_t action, ngx_str_t *suffix)
{
    u_char                       name[VKS_SUFFIX_LEN];
    ngx_queue_t                 *q;
    ngx_rtmp_vkstream_stream_t  *st;

    for (q = ngx_queue_head(&ngx_rtmp_vkstream_streams);
         q != ngx_queue_sentinel(&ngx_rtmp_vkstream_streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_rtmp_vkstream_stream_t, queue);

        if (st->stopping || !st->in_table || st->table_id != id) {
            continue;
        }

        if (action == NGX_VKSTREAM_ACTION_DROP) {
            ngx_log_error(NGX_LOG_INFO, st->session->connection->log, 0,
                          "vkstream: drop \"%V/%V\" requested",
                          &st->app, &st->name);
            ngx_rtmp_finalize_session(st->session);
            return;
        }

        if (st->transcoder == NULL || suffix->len >= sizeof(name)) {
            return;
        }

        ngx_cpystrn(name, suffix->data, suffix->len + 1);

        ngx_log_error(NGX_LOG_INFO, st->session->connection->log, 0,
                      "vkstream: %s rendition \"%s\" of \"%V/%V\" "
                      "requested",
                      action == NGX_VKSTREAM_ACTION_STOP ? "stop" : "restart",
                      name, &st->app, &st->name);

        vks_transcoder_control(st->transcoder, (char *) name,
                               action == NGX_VKSTREAM_ACTION_STOP
                               ? VKS_CONTROL_STOP : VKS_CONTROL_RESTART);
        return;
    }
}


/*
 * vkstream_vk_keywords: the application's keywords for publishers that give
 * no "vk" argument; "$app" and "$name" are replaced, nothing else is.
 */
static ngx_int_t
ngx_rtmp_vkstream_keywords_template(ngx_rtmp_session_t *s, ngx_str_t *tpl,
    u_char *name, ngx_str_t *out)
{
    size_t  nlen;

    nlen = ngx_strlen(name);

    out->len = vks_vk_keywords_expand(NULL, (char *) tpl->data, tpl->len,
                                      (char *) s->app.data, s->app.len,
                                      (char *) name, nlen);

    out->data = ngx_pnalloc(s->connection->pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    vks_vk_keywords_expand((char *) out->data, (char *) tpl->data, tpl->len,
                           (char *) s->app.data, s->app.len,
                           (char *) name, nlen);

    return NGX_OK;
}


static ngx_int_t
ngx_rtmp_vkstream_publish(ngx_rtmp_session_t *s, ngx_rtmp_publish_t *v)
{
    ngx_rtmp_vkstream_ctx_t       *ctx;
    ngx_rtmp_vkstream_app_conf_t  *vacf;

    vacf = ngx_rtmp_get_module_app_conf(s, ngx_rtmp_vkstream_module);

    if (vacf == NULL || !vacf->enable || s->relay) {
        goto next;
    }

    if (ngx_rtmp_vkstream_is_own_output(v->args)) {
        ngx_log_debug1(NGX_LOG_DEBUG_RTMP, s->connection->log, 0,
                       "vkstream: own output \"%s\" not transcoded", v->name);
        goto next;
    }

    ctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_vkstream_module);
    if (ctx == NULL) {
        ctx = ngx_pcalloc(s->connection->pool,
                          sizeof(ngx_rtmp_vkstream_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_rtmp_set_ctx(s, ctx, ngx_rtmp_vkstream_module);
    }

    if (ctx->stream) {
        ngx_rtmp_vkstream_stop(ctx->stream);
    }

    ngx_memzero(ctx, sizeof(ngx_rtmp_vkstream_ctx_t));
    ngx_memcpy(ctx->name, v->name, NGX_RTMP_MAX_NAME);
    ctx->name[NGX_RTMP_MAX_NAME - 1] = '\0';

    if (ngx_rtmp_vkstream_keywords(s, v->args, &ctx->keywords) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx->keywords.len == 0 && vacf->vk_keywords.len
        && ngx_rtmp_vkstream_keywords_template(s, &vacf->vk_keywords,
                                               ctx->name, &ctx->keywords)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * Access checks and on_publish may still refuse this publish (the
     * latter asynchronously), so the context starts only once nginx-rtmp's
     * live module has made the stream active: see ngx_rtmp_vkstream_av().
     */
    ctx->publishing = 1;

next:

    return next_publish(s, v);
}


static ngx_int_t
ngx_rtmp_vkstream_av(ngx_rtmp_session_t *s, ngx_rtmp_header_t *h,
    ngx_chain_t *in)
{
    ngx_rtmp_vkstream_ctx_t  *ctx;

    ctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_vkstream_module);
    if (ctx == NULL || !ctx->publishing || ctx->refused) {
        return NGX_OK;
    }

    if (ctx->stream == NULL) {
        if (!ngx_rtmp_vkstream_accepted(s)) {
            return NGX_OK;
        }

        if (ngx_rtmp_vkstream_start(s, ctx, h->timestamp) != NGX_OK) {
            /* the source itself goes on untouched */
            ctx->refused = 1;
            return NGX_OK;
        }
    }

    if (ngx_rtmp_vkstream_push_chain(ctx->stream,
                                     h->type == NGX_RTMP_MSG_VIDEO
                                     ? VKS_PACKET_VIDEO : VKS_PACKET_AUDIO,
                                     h->timestamp, in)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, s->connection->log, 0,
                      "vkstream: out of memory queueing a message");
    }

    return NGX_OK;
}


static ngx_int_t
ngx_rtmp_vkstream_close_stream(ngx_rtmp_session_t *s,
    ngx_rtmp_close_stream_t *v)
{
    ngx_vkstream_conf_t      *vcf;
    ngx_rtmp_vkstream_ctx_t  *ctx;

    ctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_vkstream_module);

    if (ctx != NULL && ctx->publishing) {
        if (ctx->stream) {
            vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);
            vcf->closes++;

            ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                          "vkstream: close \"%V/%s\"", &s->app, ctx->name);

            ngx_rtmp_vkstream_stop(ctx->stream);
            ctx->stream = NULL;
        }

        ctx->publishing = 0;
    }

    return next_close_stream(s, v);
}


static ngx_int_t
ngx_rtmp_vkstream_postconfiguration(ngx_conf_t *cf)
{
    ngx_rtmp_handler_pt        *h;
    ngx_rtmp_core_main_conf_t  *cmcf;

    cmcf = ngx_rtmp_conf_get_module_main_conf(cf, ngx_rtmp_core_module);

    h = ngx_array_push(&cmcf->events[NGX_RTMP_MSG_VIDEO]);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = ngx_rtmp_vkstream_av;

    h = ngx_array_push(&cmcf->events[NGX_RTMP_MSG_AUDIO]);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = ngx_rtmp_vkstream_av;

    next_publish = ngx_rtmp_publish;
    ngx_rtmp_publish = ngx_rtmp_vkstream_publish;

    next_close_stream = ngx_rtmp_close_stream;
    ngx_rtmp_close_stream = ngx_rtmp_vkstream_close_stream;

    ngx_vkstream_table_set_action_handler(ngx_rtmp_vkstream_action);

    return NGX_OK;
}
