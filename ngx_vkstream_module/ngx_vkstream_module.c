
/*
 * vkstream core module: state that the RTMP and HTTP sides share.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_vkstream.h"


static void *ngx_vkstream_create_conf(ngx_cycle_t *cycle);


static ngx_core_module_t  ngx_vkstream_module_ctx = {
    ngx_string("vkstream"),
    ngx_vkstream_create_conf,
    NULL
};


ngx_module_t  ngx_vkstream_module = {
    NGX_MODULE_V1,
    &ngx_vkstream_module_ctx,              /* module context */
    NULL,                                  /* module directives */
    NGX_CORE_MODULE,                       /* module type */
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
ngx_vkstream_create_conf(ngx_cycle_t *cycle)
{
    u_char               *p;
    ngx_uint_t            i;
    ngx_vkstream_conf_t  *vcf;

    vcf = ngx_pcalloc(cycle->pool, sizeof(ngx_vkstream_conf_t));
    if (vcf == NULL) {
        return NULL;
    }

    vcf->marker.len = sizeof(NGX_VKSTREAM_MARKER_ARG "=") - 1 + 16;
    vcf->marker.data = ngx_pnalloc(cycle->pool, vcf->marker.len);
    if (vcf->marker.data == NULL) {
        return NULL;
    }

    p = ngx_cpymem(vcf->marker.data, NGX_VKSTREAM_MARKER_ARG "=",
                   sizeof(NGX_VKSTREAM_MARKER_ARG "=") - 1);

    /* not a secret: it only tells our own output from a publisher's */
    for (i = 0; i < 16; i++) {
        *p++ = "0123456789abcdef"[ngx_random() & 0xf];
    }

    return vcf;
}


ngx_vkstream_conf_t *
ngx_vkstream_get_conf(ngx_cycle_t *cycle)
{
    return (ngx_vkstream_conf_t *) ngx_get_conf(cycle->conf_ctx,
                                                ngx_vkstream_module);
}
