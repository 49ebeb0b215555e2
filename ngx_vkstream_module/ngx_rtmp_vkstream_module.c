
/*
 * vkstream RTMP glue: directives, and the publish hooks that start a
 * transcoding context for every accepted publish in applications where
 * vkstream is enabled, feed it the stream's audio and video messages and
 * stop it with the publish.  The worker's running contexts, their threads'
 * log lines and their end are ngx_rtmp_vkstream_contexts.c's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_rtmp.h>
#include <ngx_rtmp_cmd_module.h>
#include <ngx_rtmp_live_module.h>
#include "ngx_vkstream.h"
#include "ngx_vkstream_table.h"
#include "ngx_rtmp_vkstream.h"
#include "media/vks_llhls_playlist.h"
#include "media/vks_transcoder.h"
#include "vk/vks_vk_keywords.h"


static ngx_int_t ngx_rtmp_vkstream_postconfiguration(ngx_conf_t *cf);
static void *ngx_rtmp_vkstream_create_app_conf(ngx_conf_t *cf);
static char *ngx_rtmp_vkstream_merge_app_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_rtmp_vkstream_rendition(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_rtmp_vkstream_output(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_rtmp_vkstream_llhls_check(ngx_conf_t *cf,
    ngx_rtmp_vkstream_app_conf_t *conf);
static char *ngx_rtmp_vkstream_hls_master(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_rtmp_vkstream_dir(ngx_conf_t *cf, ngx_str_t *dir,
    const char *directive);


static ngx_rtmp_publish_pt       next_publish;
static ngx_rtmp_close_stream_pt  next_close_stream;


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

    { ngx_string("vkstream_batch"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, batch),
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

    { ngx_string("vkstream_llhls"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, llhls),
      NULL },

    { ngx_string("vkstream_llhls_path"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, llhls_path),
      NULL },

    { ngx_string("vkstream_llhls_part_target"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, llhls_part_target),
      NULL },

    { ngx_string("vkstream_llhls_window"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, llhls_window),
      NULL },

    { ngx_string("vkstream_hls_master"),
      NGX_RTMP_MAIN_CONF|NGX_RTMP_SRV_CONF|NGX_RTMP_APP_CONF|NGX_CONF_TAKE1,
      ngx_rtmp_vkstream_hls_master,
      NGX_RTMP_APP_CONF_OFFSET,
      offsetof(ngx_rtmp_vkstream_app_conf_t, hls_master),
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
    &ngx_rtmp_vkstream_module_ctx,            /* module context */
    ngx_rtmp_vkstream_commands,               /* module directives */
    NGX_RTMP_MODULE,                          /* module type */
    NULL,                                     /* init master */
    NULL,                                     /* init module */
    ngx_rtmp_vkstream_contexts_init_process,  /* init process */
    NULL,                                     /* init thread */
    NULL,                                     /* exit thread */
    ngx_rtmp_vkstream_contexts_exit_process,  /* exit process */
    NULL,                                     /* exit master */
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
     *     vacf->llhls_path = { 0, NULL };
     *     vacf->hls_master = { 0, NULL };
     */

    vacf->enable = NGX_CONF_UNSET;
    vacf->max_gop = NGX_CONF_UNSET_MSEC;
    vacf->max_delay = NGX_CONF_UNSET_MSEC;
    vacf->batch = NGX_CONF_UNSET_MSEC;
    vacf->queue_size = NGX_CONF_UNSET_SIZE;
    vacf->nice = NGX_CONF_UNSET;
    vacf->sched = NGX_CONF_UNSET_UINT;
    vacf->max_transcodes = NGX_CONF_UNSET_UINT;
    vacf->max_transcodes_total = NGX_CONF_UNSET_UINT;
    vacf->llhls = NGX_CONF_UNSET;
    vacf->llhls_part_target = NGX_CONF_UNSET_MSEC;
    vacf->llhls_window = NGX_CONF_UNSET_UINT;

    return vacf;
}


static char *
ngx_rtmp_vkstream_merge_app_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_rtmp_vkstream_app_conf_t  *prev = parent;
    ngx_rtmp_vkstream_app_conf_t  *conf = child;

    vks_rendition_conf_t  *rc;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    if (conf->enable) {
        /* for ngx_vkstream_loop.c: the event loops compete with encoders */
        ngx_vkstream_get_conf(cf->cycle)->transcodes = 1;
    }
    ngx_conf_merge_msec_value(conf->max_gop, prev->max_gop, 10000);
    ngx_conf_merge_msec_value(conf->max_delay, prev->max_delay, 3000);
    /* unset stays unset: its default depends on the application's LL-HLS */
    ngx_conf_merge_msec_value(conf->batch, prev->batch, NGX_CONF_UNSET_MSEC);
    ngx_conf_merge_size_value(conf->queue_size, prev->queue_size,
                              16 * 1024 * 1024);
    ngx_conf_merge_value(conf->nice, prev->nice, 5);
    ngx_conf_merge_uint_value(conf->sched, prev->sched, VKS_SCHED_NORMAL);
    ngx_conf_merge_uint_value(conf->max_transcodes, prev->max_transcodes, 0);
    ngx_conf_merge_uint_value(conf->max_transcodes_total,
                              prev->max_transcodes_total, 0);
    ngx_conf_merge_str_value(conf->output, prev->output, "");
    ngx_conf_merge_str_value(conf->vk_keywords, prev->vk_keywords, "");
    ngx_conf_merge_value(conf->llhls, prev->llhls, 0);
    ngx_conf_merge_str_value(conf->llhls_path, prev->llhls_path, "");
    ngx_conf_merge_msec_value(conf->llhls_part_target,
                              prev->llhls_part_target, 500);
    ngx_conf_merge_uint_value(conf->llhls_window, prev->llhls_window, 6);
    ngx_conf_merge_str_value(conf->hls_master, prev->hls_master, "");

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

    if (conf->batch != NGX_CONF_UNSET_MSEC && conf->batch > 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"vkstream_batch\" must be at most 1s");
        return NGX_CONF_ERROR;
    }

    if (conf->queue_size < 256 * 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"vkstream_queue_size\" must be at least 256k");
        return NGX_CONF_ERROR;
    }

    return ngx_rtmp_vkstream_llhls_check(cf, conf);
}


/* LL-HLS parameters are checked where the values are final: merged */
static char *
ngx_rtmp_vkstream_llhls_check(ngx_conf_t *cf,
    ngx_rtmp_vkstream_app_conf_t *conf)
{
    if (conf->llhls_part_target < 100 || conf->llhls_part_target > 2000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"vkstream_llhls_part_target\" must be within "
                           "100ms-2s");
        return NGX_CONF_ERROR;
    }

    if (conf->llhls_window < 1 || conf->llhls_window > VKS_LLHLS_WINDOW_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"vkstream_llhls_window\" must be within 1-%d",
                           VKS_LLHLS_WINDOW_MAX);
        return NGX_CONF_ERROR;
    }

    if (!conf->llhls) {
        return NGX_CONF_OK;
    }

    if (conf->llhls_path.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"vkstream_llhls\" needs \"vkstream_llhls_path\"");
        return NGX_CONF_ERROR;
    }

    if (ngx_rtmp_vkstream_dir(cf, &conf->llhls_path, "vkstream_llhls_path")
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* vkstream_hls_master PATH: the hls_path of the renditions' application */
static char *
ngx_rtmp_vkstream_hls_master(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rtmp_vkstream_app_conf_t  *vacf = conf;

    ngx_str_t  *value;

    if (vacf->hls_master.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    vacf->hls_master = value[1];

    if (ngx_rtmp_vkstream_dir(cf, &vacf->hls_master, "vkstream_hls_master")
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * A directory the transcoder's threads write: relative to the prefix, as
 * nginx's own paths, without trailing slashes; its copy holds 512 bytes,
 * names and files come under it
 */
static ngx_int_t
ngx_rtmp_vkstream_dir(ngx_conf_t *cf, ngx_str_t *dir, const char *directive)
{
    if (dir->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\": empty or invalid path", directive);
        return NGX_ERROR;
    }

    if (ngx_conf_full_name(cf->cycle, dir, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    while (dir->len > 1 && dir->data[dir->len - 1] == '/') {
        dir->len--;
    }

    if (dir->len > 400) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" is longer than 400 bytes", directive);
        return NGX_ERROR;
    }

    return NGX_OK;
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


/* hooks */

static ngx_flag_t
ngx_rtmp_vkstream_accepted(ngx_rtmp_session_t *s)
{
    ngx_rtmp_live_ctx_t  *lctx;

    lctx = ngx_rtmp_get_module_ctx(s, ngx_rtmp_live_module);

    return lctx != NULL && lctx->publishing && lctx->stream != NULL;
}


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
        ngx_rtmp_vkstream_contexts_stop(ctx->stream);
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

        if (ngx_rtmp_vkstream_contexts_start(s, ctx, h->timestamp) != NGX_OK) {
            /* the source itself goes on untouched */
            ctx->refused = 1;
            return NGX_OK;
        }
    }

    if (ngx_rtmp_vkstream_contexts_push(ctx->stream,
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

            ngx_rtmp_vkstream_contexts_stop(ctx->stream);
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

    ngx_vkstream_table_set_action_handler(ngx_rtmp_vkstream_contexts_action);

    return NGX_OK;
}
