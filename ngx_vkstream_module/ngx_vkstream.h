
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
 * never starts a transcode for its own output.  The value is random per
 * configuration cycle, shared by all workers through fork().
 */
#define NGX_VKSTREAM_MARKER_ARG  "vkstream_src"


typedef struct {
    ngx_str_t                 marker;       /* "vkstream_src=<hex>" */
    ngx_uint_t                publishes;    /* seen by this worker */
    ngx_uint_t                closes;

    /* the stream table (ngx_vkstream_table.c) */
    size_t                    zone_size;
    time_t                    linger;
    ngx_int_t                 matches;      /* per stream */
    ngx_shm_zone_t           *zone;
} ngx_vkstream_conf_t;


extern ngx_module_t  ngx_vkstream_module;


ngx_vkstream_conf_t *ngx_vkstream_get_conf(ngx_cycle_t *cycle);


#endif /* _NGX_VKSTREAM_H_INCLUDED_ */
