
/*
 * vkstream HTTP API: declarations shared by its files (routing and
 * directives, handlers, JSON documents, Prometheus metrics, Server-Sent
 * Events, test endpoints).
 */


#ifndef _NGX_HTTP_VKSTREAM_H_INCLUDED_
#define _NGX_HTTP_VKSTREAM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include "ngx_vkstream.h"
#include "ngx_vkstream_table.h"
#include "api/vks_api.h"


#define NGX_HTTP_VKSTREAM_MAX_BODY   VKS_API_MAX_BODY
#define NGX_HTTP_VKSTREAM_MAX_SEGS   VKS_API_MAX_SEGS

#define NGX_HTTP_VKSTREAM_GET        (NGX_HTTP_GET|NGX_HTTP_HEAD)

#define NGX_HTTP_VKSTREAM_JSON_FLAGS (JSON_COMPACT|JSON_REAL_PRECISION(6))


/* the parsed request: paths and routes are api/vks_api.c's */
typedef struct {
    ngx_str_t                 seg[NGX_HTTP_VKSTREAM_MAX_SEGS];
    ngx_uint_t                nsegs;
    vks_api_route_t           route;
    ngx_uint_t                methods;      /* NGX_HTTP_GET ... */
    ngx_uint_t                action;       /* NGX_VKSTREAM_ACTION_* */
    void                     *sse;          /* GET /events: its state */
} ngx_http_vkstream_ctx_t;


typedef struct {
    ngx_flag_t                enable;
    ngx_str_t                 token;        /* bearer, empty: none */
    ngx_flag_t                read_auth;    /* token for reads too */
    ngx_str_t                 hls_url;      /* "/hls/" or absolute */
    ngx_str_t                 llhls_url;    /* "/ll/" or absolute */
    ngx_array_t              *variant;      /* of ngx_str_t suffixes */
    ngx_flag_t                test;         /* the /test/ endpoints */
} ngx_http_vkstream_loc_conf_t;


extern ngx_module_t  ngx_http_vkstream_module;


/* ngx_http_vkstream_module.c */
ngx_int_t ngx_http_vkstream_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_chain_t *out, off_t len);
ngx_int_t ngx_http_vkstream_send_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);
ngx_int_t ngx_http_vkstream_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message);
ngx_int_t ngx_http_vkstream_api_error(ngx_http_request_t *r,
    vks_api_rc_e rc);

/* ngx_http_vkstream_handlers.c */
ngx_int_t ngx_http_vkstream_dispatch(ngx_http_request_t *r,
    ngx_http_vkstream_ctx_t *ctx, ngx_str_t *body);

/* ngx_http_vkstream_json.c */
json_t *ngx_http_vkstream_json_str(u_char *data, size_t len);
json_t *ngx_http_vkstream_json_stream(ngx_http_request_t *r,
    ngx_vkstream_stream_t *st, ngx_flag_t full);
json_t *ngx_http_vkstream_json_match(ngx_vkstream_match_t *m);
json_t *ngx_http_vkstream_json_status(ngx_vkstream_summary_t *sum);
json_t *ngx_http_vkstream_json_event(ngx_vkstream_event_t *ev);
json_t *ngx_http_vkstream_json_rule(ngx_vkstream_grule_t *gr);
json_t *ngx_http_vkstream_json_cluster(ngx_vkstream_cluster_t *c,
    ngx_flag_t full);

/* ngx_http_vkstream_metrics.c */
ngx_int_t ngx_http_vkstream_metrics(ngx_http_request_t *r);

/* ngx_http_vkstream_test.c */
ngx_int_t ngx_http_vkstream_test(ngx_http_request_t *r,
    ngx_http_vkstream_ctx_t *ctx, ngx_str_t *body);

/* ngx_http_vkstream_llhls.c */
char *ngx_http_vkstream_llhls_serve(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_vkstream_sse.c */
ngx_int_t ngx_http_vkstream_events(ngx_http_request_t *r);


#endif /* _NGX_HTTP_VKSTREAM_H_INCLUDED_ */
