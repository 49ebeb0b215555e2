
/*
 * vkstream core module: state that the RTMP and HTTP sides share, and the
 * directives of the shared stream table (see ngx_vkstream_table.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_vkstream.h"
#include "ngx_vkstream_cluster.h"
#include "ngx_vkstream_table.h"
#include "ngx_vkstream_wake.h"


static void *ngx_vkstream_create_conf(ngx_cycle_t *cycle);
static char *ngx_vkstream_init_conf(ngx_cycle_t *cycle, void *conf);
static ngx_int_t ngx_vkstream_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_vkstream_init_process(ngx_cycle_t *cycle);
static void ngx_vkstream_exit_process(ngx_cycle_t *cycle);


static char *ngx_vkstream_check_matches(ngx_conf_t *cf, void *post,
    void *data);


static ngx_conf_post_handler_pt  ngx_vkstream_matches_post =
    ngx_vkstream_check_matches;


static ngx_conf_enum_t  ngx_vkstream_loop_sched_values[] = {
    { ngx_string("normal"), NGX_VKSTREAM_LOOP_NORMAL },
    { ngx_string("realtime"), NGX_VKSTREAM_LOOP_REALTIME },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_vkstream_commands[] = {

    { ngx_string("vkstream_zone"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      0,
      offsetof(ngx_vkstream_conf_t, zone_size),
      NULL },

    { ngx_string("vkstream_linger"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      0,
      offsetof(ngx_vkstream_conf_t, linger),
      NULL },

    { ngx_string("vkstream_matches"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      0,
      offsetof(ngx_vkstream_conf_t, matches),
      &ngx_vkstream_matches_post },

    { ngx_string("vkstream_loop_sched"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_vkstream_conf_set_enum_slot,
      0,
      offsetof(ngx_vkstream_conf_t, loop_sched),
      &ngx_vkstream_loop_sched_values },

    { ngx_string("vkstream_sse_heartbeat"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      0,
      offsetof(ngx_vkstream_conf_t, sse_heartbeat),
      NULL },

    { ngx_string("vkstream_vk_token"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_vkstream_conf_t, vk_token),
      NULL },

    { ngx_string("vkstream_vk_api"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_vkstream_conf_t, vk_api),
      NULL },

    { ngx_string("vkstream_vk_endpoint"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_vkstream_conf_t, vk_endpoint),
      NULL },

    { ngx_string("vkstream_vk_key"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_vkstream_conf_t, vk_key),
      NULL },

    { ngx_string("vkstream_vk_ca"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_vkstream_conf_t, vk_ca),
      NULL },

    { ngx_string("vkstream_vk_verify"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_vkstream_conf_t, vk_verify),
      NULL },

    { ngx_string("vkstream_vk_delete_foreign"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_vkstream_conf_t, vk_delete_foreign),
      NULL },

    { ngx_string("vkstream_vk_max_message"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      0,
      offsetof(ngx_vkstream_conf_t, vk_max_message),
      NULL },

    { ngx_string("vkstream_vk_text_len"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      0,
      offsetof(ngx_vkstream_conf_t, vk_text_len),
      NULL },

    { ngx_string("vkstream_cluster"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_vkstream_cluster_set_redis,
      0,
      0,
      NULL },

    { ngx_string("vkstream_cluster_node"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_vkstream_cluster_set_node,
      0,
      0,
      NULL },

    { ngx_string("vkstream_cluster_url"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_vkstream_cluster_set_url,
      0,
      0,
      NULL },

    { ngx_string("vkstream_cluster_prefix"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_vkstream_cluster_set_prefix,
      0,
      0,
      NULL },

    { ngx_string("vkstream_cluster_ttl"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      0,
      offsetof(ngx_vkstream_conf_t, cluster_ttl),
      &ngx_vkstream_cluster_ttl_post },

      ngx_null_command
};


static ngx_core_module_t  ngx_vkstream_module_ctx = {
    ngx_string("vkstream"),
    ngx_vkstream_create_conf,
    ngx_vkstream_init_conf
};


ngx_module_t  ngx_vkstream_module = {
    NGX_MODULE_V1,
    &ngx_vkstream_module_ctx,              /* module context */
    ngx_vkstream_commands,                 /* module directives */
    NGX_CORE_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_vkstream_init_module,              /* init module */
    ngx_vkstream_init_process,             /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_vkstream_exit_process,             /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_vkstream_create_conf(ngx_cycle_t *cycle)
{
    u_char               *p;
    ngx_uint_t            i;
    ngx_vkstream_conf_t  *vcf;

    vcf = ngx_pcalloc(cycle->pool, sizeof(ngx_vkstream_conf_t));
    if (vcf == NULL) {
        return NULL;
    }

    vcf->zone_size = NGX_CONF_UNSET_SIZE;
    vcf->linger = NGX_CONF_UNSET;
    vcf->sse_heartbeat = NGX_CONF_UNSET_MSEC;
    vcf->matches = NGX_CONF_UNSET;
    vcf->vk_verify = NGX_CONF_UNSET;
    vcf->vk_delete_foreign = NGX_CONF_UNSET;
    vcf->vk_max_message = NGX_CONF_UNSET_SIZE;
    vcf->vk_text_len = NGX_CONF_UNSET_SIZE;
    vcf->cluster_ttl = NGX_CONF_UNSET_MSEC;
    vcf->loop_sched = NGX_CONF_UNSET_UINT;

    vcf->marker.len = sizeof(NGX_VKSTREAM_MARKER_ARG "=") - 1
                      + NGX_VKSTREAM_MARKER_LEN;
    vcf->marker.data = ngx_pnalloc(cycle->pool, vcf->marker.len);
    if (vcf->marker.data == NULL) {
        return NULL;
    }

    p = ngx_cpymem(vcf->marker.data, NGX_VKSTREAM_MARKER_ARG "=",
                   sizeof(NGX_VKSTREAM_MARKER_ARG "=") - 1);

    /* not a secret: it only tells our own output from a publisher's */
    for (i = 0; i < NGX_VKSTREAM_MARKER_LEN; i++) {
        *p++ = "0123456789abcdef"[ngx_random() & 0xf];
    }

    return vcf;
}


static char *
ngx_vkstream_init_conf(ngx_cycle_t *cycle, void *conf)
{
    ngx_vkstream_conf_t  *vcf = conf;

    ngx_conf_init_size_value(vcf->zone_size, 32 * 1024 * 1024);
    ngx_conf_init_value(vcf->linger, 60);
    ngx_conf_init_value(vcf->matches, 100);
    ngx_conf_init_msec_value(vcf->sse_heartbeat, 15000);
    ngx_conf_init_uint_value(vcf->loop_sched, NGX_VKSTREAM_LOOP_REALTIME);

    if (vcf->sse_heartbeat < 100) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "\"vkstream_sse_heartbeat\" must be at least 100ms");
        return NGX_CONF_ERROR;
    }

    if (ngx_vkstream_vk_init_conf(cycle, vcf) != NGX_CONF_OK
        || ngx_vkstream_cluster_init_conf(cycle, vcf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_vkstream_table_init_conf(cycle);
}


/* returned, not logged, so that nginx names the directive */
static char *
ngx_vkstream_check_matches(ngx_conf_t *cf, void *post, void *data)
{
    ngx_int_t  *np = data;

    if (*np < 1 || *np > 10000) {
        return "must be between 1 and 10000";
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_vkstream_init_module(ngx_cycle_t *cycle)
{
    ngx_vkstream_loop_init_module(cycle);

    return NGX_OK;
}


static ngx_int_t
ngx_vkstream_init_process(ngx_cycle_t *cycle)
{
    /* first: the threads started below must not inherit its policy */
    if (ngx_vkstream_loop_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_vkstream_table_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_vkstream_wake_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_vkstream_vk_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_vkstream_cluster_init_process(cycle);
}


static void
ngx_vkstream_exit_process(ngx_cycle_t *cycle)
{
    /* VK stops before the cluster agent gives the lease back */
    ngx_vkstream_vk_exit_process(cycle);
    ngx_vkstream_cluster_exit_process(cycle);

    /* last: what the others wrote on the way out still wakes workers */
    ngx_vkstream_wake_exit_process(cycle);
}


ngx_vkstream_conf_t *
ngx_vkstream_get_conf(ngx_cycle_t *cycle)
{
    return (ngx_vkstream_conf_t *) ngx_get_conf(cycle->conf_ctx,
                                                ngx_vkstream_module);
}


char *
ngx_vkstream_conf_set_enum_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    u_char           *last;
    ngx_str_t        *value;
    ngx_uint_t       *np, i;
    ngx_conf_enum_t  *e;
    u_char            expected[128];

    np = (ngx_uint_t *) (p + cmd->offset);

    if (*np != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    e = cmd->post;

    for (i = 0; e[i].name.len != 0; i++) {
        if (e[i].name.len == value[1].len
            && ngx_strcasecmp(e[i].name.data, value[1].data) == 0)
        {
            *np = e[i].value;
            return NGX_CONF_OK;
        }
    }

    last = expected;

    for (i = 0; e[i].name.len != 0; i++) {
        last = ngx_slprintf(last, expected + sizeof(expected), "%s%V",
                            i == 0 ? "" : e[i + 1].name.len ? ", " : " or ",
                            &e[i].name);
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\": invalid value \"%V\", expected %*s",
                       &cmd->name, &value[1], (size_t) (last - expected),
                       expected);

    return NGX_CONF_ERROR;
}
