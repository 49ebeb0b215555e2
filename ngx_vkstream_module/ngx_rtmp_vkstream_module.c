
/*
 * vkstream RTMP glue: notices accepted publishes in applications where
 * vkstream is enabled and follows them until they close.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_rtmp.h>
#include <ngx_rtmp_cmd_module.h>
#include <ngx_rtmp_live_module.h>
#include "ngx_vkstream.h"
#include "ngx_vkstream_table.h"


typedef struct {
    ngx_flag_t                enable;
} ngx_rtmp_vkstream_app_conf_t;


typedef struct {
    u_char                    name[NGX_RTMP_MAX_NAME];
    ngx_str_t                 vk;          /* "vk=" publish argument */
    ngx_uint_t                table_id;
    ngx_queue_t               queue;       /* table streams of the worker */
    ngx_rtmp_session_t       *session;
    unsigned                  publishing:1;
    unsigned                  started:1;
    unsigned                  in_table:1;
} ngx_rtmp_vkstream_ctx_t;


static ngx_int_t ngx_rtmp_vkstream_postconfiguration(ngx_conf_t *cf);
static void *ngx_rtmp_vkstream_create_app_conf(ngx_conf_t *cf);
static char *ngx_rtmp_vkstream_merge_app_conf(ngx_conf_t *cf, void *parent,
    void *child);


static void ngx_rtmp_vkstream_action(ngx_uint_t id, ngx_uint_t action,
    ngx_str_t *suffix);


static ngx_queue_t               ngx_rtmp_vkstream_streams;
static ngx_rtmp_publish_pt       next_publish;
static ngx_rtmp_close_stream_pt  next_close_stream;


static ngx_command_t  ngx_rtmp_vkstream_commands[] = {

    { ngx_string("vkstream"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, enable),
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
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_rtmp_vkstream_create_app_conf(ngx_conf_t *cf)
{
    ngx_rtmp_vkstream_app_conf_t  *vacf;

    vacf = ngx_pcalloc(cf->pool, sizeof(ngx_rtmp_vkstream_app_conf_t));
    if (vacf == NULL) {
        return NULL;
    }

    vacf->enable = NGX_CONF_UNSET;

    return vacf;
}


static char *
ngx_rtmp_vkstream_merge_app_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_rtmp_vkstream_app_conf_t  *prev = parent;
    ngx_rtmp_vkstream_app_conf_t  *conf = child;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    return NGX_CONF_OK;
}


static ngx_flag_t
ngx_rtmp_vkstream_is_own_output(ngx_rtmp_session_t *s, u_char *args)
{
    ngx_vkstream_conf_t  *vcf;

    vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);

    return ngx_strstrn(args, (char *) vcf->marker.data, vcf->marker.len - 1)
           != NULL;
}


/* the "vk" publish argument, url-decoded: the stream's VK keywords */
static ngx_int_t
ngx_rtmp_vkstream_keywords(ngx_rtmp_session_t *s, u_char *args,
    ngx_str_t *vk)
{
    u_char  *p, *end, *dst, *src;

    for (p = args; *p; p = end + (*end == '&')) {
        end = p;
        while (*end && *end != '&') {
            end++;
        }

        if (end - p < 3 || ngx_strncmp(p, "vk=", 3) != 0) {
            continue;
        }

        vk->data = ngx_pnalloc(s->connection->pool, end - p - 3);
        if (vk->data == NULL) {
            return NGX_ERROR;
        }

        /* decoded in a copy: later modules see the arguments unchanged */
        ngx_memcpy(vk->data, p + 3, end - p - 3);

        for (src = vk->data; src < vk->data + (end - p - 3); src++) {
            if (*src == '+') {
                *src = ' ';
            }
        }

        dst = vk->data;
        src = vk->data;
        ngx_unescape_uri(&dst, &src, end - p - 3, 0);
        vk->len = dst - vk->data;
    }

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

    if (ngx_rtmp_vkstream_is_own_output(s, v->args)) {
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

    if (ctx->in_table) {
        ngx_queue_remove(&ctx->queue);
    }

    ngx_memzero(ctx, sizeof(ngx_rtmp_vkstream_ctx_t));
    ngx_memcpy(ctx->name, v->name, NGX_RTMP_MAX_NAME);
    ctx->name[NGX_RTMP_MAX_NAME - 1] = '\0';

    if (ngx_rtmp_vkstream_keywords(s, v->args, &ctx->vk) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * Access checks and on_publish may still refuse this publish (the
     * latter asynchronously), so the stream counts as published only once
     * nginx-rtmp's live module has made it active: see the media hook.
     */
    ctx->publishing = 1;

next:

    return next_publish(s, v);
}


static ngx_flag_t
ngx_rtmp_vkstream_accepted(ngx_rtmp_session_t *s)
{
    ngx_rtmp_live_ctx_t  *lctx;

    lctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_live_module);

    return lctx != NULL && lctx->publishing && lctx->stream != NULL;
}


static ngx_int_t
ngx_rtmp_vkstream_av(ngx_rtmp_session_t *s, ngx_rtmp_header_t *h,
    ngx_chain_t *in)
{
    ngx_str_t                 name;
    ngx_vkstream_conf_t      *vcf;
    ngx_rtmp_vkstream_ctx_t  *ctx;

    ctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_vkstream_module);
    if (ctx == NULL || !ctx->publishing) {
        return NGX_OK;
    }

    if (!ctx->started) {
        if (!ngx_rtmp_vkstream_accepted(s)) {
            return NGX_OK;
        }

        ctx->started = 1;

        vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);
        vcf->publishes++;

        ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                      "vkstream: publish \"%V/%s\"", &s->app, ctx->name);

        name.data = ctx->name;
        name.len = ngx_strlen(ctx->name);

        if (ngx_vkstream_table_publish(&s->app, &name,
                                       &s->connection->addr_text, &ctx->vk,
                                       &ctx->table_id)
            == NGX_OK)
        {
            ctx->session = s;
            ctx->in_table = 1;
            ngx_queue_insert_tail(&ngx_rtmp_vkstream_streams, &ctx->queue);
        }
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
        if (ctx->started) {
            vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);
            vcf->closes++;

            ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                          "vkstream: close \"%V/%s\"", &s->app, ctx->name);
        }

        if (ctx->in_table) {
            ngx_vkstream_table_close(ctx->table_id);
            ngx_queue_remove(&ctx->queue);
            ctx->in_table = 0;
        }

        ctx->publishing = 0;
        ctx->started = 0;
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

    ngx_queue_init(&ngx_rtmp_vkstream_streams);
    ngx_vkstream_table_set_action_handler(ngx_rtmp_vkstream_action);

    next_publish = ngx_rtmp_publish;
    ngx_rtmp_publish = ngx_rtmp_vkstream_publish;

    next_close_stream = ngx_rtmp_close_stream;
    ngx_rtmp_close_stream = ngx_rtmp_vkstream_close_stream;

    return NGX_OK;
}


/* control actions from the HTTP API, for streams of this worker */
static void
ngx_rtmp_vkstream_action(ngx_uint_t id, ngx_uint_t action, ngx_str_t *suffix)
{
    ngx_queue_t              *q;
    ngx_rtmp_vkstream_ctx_t  *ctx;

    for (q = ngx_queue_head(&ngx_rtmp_vkstream_streams);
         q != ngx_queue_sentinel(&ngx_rtmp_vkstream_streams);
         q = ngx_queue_next(q))
    {
        ctx = ngx_queue_data(q, ngx_rtmp_vkstream_ctx_t, queue);

        if (ctx->table_id != id) {
            continue;
        }

        if (action == NGX_VKSTREAM_ACTION_DROP) {
            ngx_log_error(NGX_LOG_INFO, ctx->session->connection->log, 0,
                          "vkstream: drop \"%V/%s\" requested",
                          &ctx->session->app, ctx->name);
            ngx_rtmp_finalize_session(ctx->session);

        } else {
            /* renditions come with transcoding (issue 3) */
            ngx_log_error(NGX_LOG_WARN, ctx->session->connection->log, 0,
                          "vkstream: rendition \"%V\" action %ui ignored",
                          suffix, action);
        }

        return;
    }
}
