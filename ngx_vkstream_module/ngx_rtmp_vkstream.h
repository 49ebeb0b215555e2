
/*
 * vkstream RTMP glue: declarations shared by its files, the publish hooks
 * and directives (ngx_rtmp_vkstream_module.c) and the worker's registry of
 * transcoding contexts (ngx_rtmp_vkstream_contexts.c).
 */


#ifndef _NGX_RTMP_VKSTREAM_H_INCLUDED_
#define _NGX_RTMP_VKSTREAM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_rtmp.h>
#include <ngx_rtmp_cmd_module.h>       /* NGX_RTMP_MAX_NAME */


/* vkstream_batch's default without LL-HLS */
#define NGX_RTMP_VKSTREAM_BATCH  250


typedef struct {
    ngx_flag_t                enable;
    ngx_array_t              *renditions;   /* vks_rendition_conf_t */
    ngx_msec_t                max_gop;
    ngx_msec_t                max_delay;
    ngx_msec_t                batch;
    size_t                    queue_size;
    ngx_int_t                 nice;
    ngx_uint_t                sched;        /* VKS_SCHED_* */
    ngx_uint_t                max_transcodes;
    ngx_uint_t                max_transcodes_total;
    ngx_str_t                 output;
    ngx_str_t                 vk_keywords;  /* template: $app, $name */
    ngx_flag_t                llhls;
    ngx_str_t                 llhls_path;
    ngx_msec_t                llhls_part_target;
    ngx_uint_t                llhls_window;
    ngx_str_t                 hls_master;   /* classic master's directory */
} ngx_rtmp_vkstream_app_conf_t;


/* a running context: the registry's own, opaque to the hooks */
typedef struct ngx_rtmp_vkstream_stream_s  ngx_rtmp_vkstream_stream_t;


typedef struct {
    u_char                    name[NGX_RTMP_MAX_NAME];
    ngx_str_t                 keywords;     /* from the "vk" argument */
    ngx_rtmp_vkstream_stream_t  *stream;
    unsigned                  publishing:1;
    unsigned                  refused:1;
} ngx_rtmp_vkstream_ctx_t;


extern ngx_module_t  ngx_rtmp_vkstream_module;


/*
 * All for the event loop.  start() lists the accepted publish (in the
 * stream table too) and, within the transcode limits, starts its context
 * with the headers that came before; NGX_ERROR: not even listed.
 */
ngx_int_t ngx_rtmp_vkstream_contexts_start(ngx_rtmp_session_t *s,
    ngx_rtmp_vkstream_ctx_t *ctx, uint32_t ts);
/* type: VKS_PACKET_*; a stream that is not transcoded takes nothing */
ngx_int_t ngx_rtmp_vkstream_contexts_push(ngx_rtmp_vkstream_stream_t *st,
    int type, uint32_t ts, ngx_chain_t *in);
/* the publish ended: the context drains, then is reaped */
void ngx_rtmp_vkstream_contexts_stop(ngx_rtmp_vkstream_stream_t *st);

/* ngx_vkstream_table_set_action_handler()'s: requests of any worker */
void ngx_rtmp_vkstream_contexts_action(ngx_uint_t id, ngx_uint_t action,
    ngx_str_t *suffix);

ngx_int_t ngx_rtmp_vkstream_contexts_init_process(ngx_cycle_t *cycle);
void ngx_rtmp_vkstream_contexts_exit_process(ngx_cycle_t *cycle);


#endif /* _NGX_RTMP_VKSTREAM_H_INCLUDED_ */
