
/*
 * vkstream: declarations shared by the core, RTMP and HTTP glue.
 */


#ifndef _NGX_VKSTREAM_H_INCLUDED_
#define _NGX_VKSTREAM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_VKSTREAM_VERSION  "0.1.0"


/*
 * Outgoing rendition publishes carry this argument so that the RTMP side
 * never starts a transcode for its own output.  The value is random, made
 * by the first configuration cycle and kept in the shared zone across
 * reloads (ngx_vkstream_table.c), shared by all workers through fork().
 */
#define NGX_VKSTREAM_MARKER_ARG  "vkstream_src"
#define NGX_VKSTREAM_MARKER_LEN  16       /* hex digits */


typedef struct {
    ngx_str_t                 marker;       /* "vkstream_src=<hex>" */
    ngx_uint_t                publishes;    /* seen by this worker */
    ngx_uint_t                closes;

    /* the stream table (ngx_vkstream_table.c) */
    size_t                    zone_size;
    time_t                    linger;
    ngx_int_t                 matches;      /* per stream */
    ngx_shm_zone_t           *zone;
    ngx_msec_t                sse_heartbeat;  /* ngx_http_vkstream_sse.c */

    /* the VK Streaming API client (ngx_vkstream_vk.c) */
    ngx_str_t                 vk_token;
    ngx_str_t                 vk_api;
    ngx_str_t                 vk_endpoint;
    ngx_str_t                 vk_key;
    ngx_str_t                 vk_ca;
    ngx_flag_t                vk_verify;
    ngx_flag_t                vk_delete_foreign;
    size_t                    vk_max_message;
    size_t                    vk_text_len;

    /* cluster mode (ngx_vkstream_cluster.c) */
    ngx_str_t                 cluster;        /* as given: never logged */
    void                     *cluster_redis;  /* vks_cluster_url_t */
    ngx_str_t                 cluster_node;
    ngx_str_t                 cluster_url;
    ngx_str_t                 cluster_prefix;
    ngx_msec_t                cluster_ttl;

    /* the workers' event loops (ngx_vkstream_loop.c) */
    ngx_uint_t                loop_sched;   /* NGX_VKSTREAM_LOOP_* */
    ngx_flag_t                transcodes;   /* "vkstream on" somewhere */
} ngx_vkstream_conf_t;


#define NGX_VKSTREAM_LOOP_NORMAL    0
#define NGX_VKSTREAM_LOOP_REALTIME  1


extern ngx_module_t  ngx_vkstream_module;


ngx_vkstream_conf_t *ngx_vkstream_get_conf(ngx_cycle_t *cycle);

/* ngx_conf_set_enum_slot() whose error names the directive and values */
char *ngx_vkstream_conf_set_enum_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

char *ngx_vkstream_vk_init_conf(ngx_cycle_t *cycle, ngx_vkstream_conf_t *vcf);
ngx_int_t ngx_vkstream_vk_init_process(ngx_cycle_t *cycle);
void ngx_vkstream_vk_exit_process(ngx_cycle_t *cycle);

/* the event loops' real-time priority (vkstream_loop_sched) */
void ngx_vkstream_loop_init_module(ngx_cycle_t *cycle);
ngx_int_t ngx_vkstream_loop_init_process(ngx_cycle_t *cycle);

/* the VK client's switch, for the cluster glue (lease holder only) */
ngx_flag_t ngx_vkstream_vk_enabled(ngx_cycle_t *cycle);
ngx_flag_t ngx_vkstream_vk_running(void);
ngx_int_t ngx_vkstream_vk_start(ngx_cycle_t *cycle);
void ngx_vkstream_vk_stop(ngx_log_t *log);


#endif /* _NGX_VKSTREAM_H_INCLUDED_ */
