
/*
 * vkstream HTTP glue: the JSON control API.  This file holds the
 * directives, the routing of paths under the location (split and routed
 * by api/vks_api.c), access checks, reading request bodies, and
 * responses; the endpoints' handlers are in ngx_http_vkstream_handlers.c,
 * documents are built in ngx_http_vkstream_json.c, /metrics and /events
 * have their own files.
 */


#include "ngx_http_vkstream.h"


static ngx_int_t ngx_http_vkstream_handler(ngx_http_request_t *r);
static vks_api_rc_e ngx_http_vkstream_parse(ngx_http_request_t *r,
    ngx_http_vkstream_ctx_t *ctx, ngx_flag_t test);
static ngx_int_t ngx_http_vkstream_auth(ngx_http_request_t *r);
static void ngx_http_vkstream_body_handler(ngx_http_request_t *r);
static void *ngx_http_vkstream_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_vkstream_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_vkstream_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_vkstream_variant(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_vkstream_url_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_http_vkstream_commands[] = {

    { ngx_string("vkstream_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_vkstream_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("vkstream_api_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vkstream_loc_conf_t, token),
      NULL },

    { ngx_string("vkstream_api_read_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vkstream_loc_conf_t, read_auth),
      NULL },

    { ngx_string("vkstream_api_hls_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_vkstream_url_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vkstream_loc_conf_t, hls_url),
      NULL },

    { ngx_string("vkstream_api_llhls_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_vkstream_url_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vkstream_loc_conf_t, llhls_url),
      NULL },

    { ngx_string("vkstream_api_test"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vkstream_loc_conf_t, test),
      NULL },

    { ngx_string("vkstream_api_hls_variant"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_vkstream_variant,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("vkstream_llhls_serve"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_vkstream_llhls_serve,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_vkstream_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    ngx_http_vkstream_create_loc_conf,     /* create location configuration */
    ngx_http_vkstream_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_vkstream_module = {
    NGX_MODULE_V1,
    &ngx_http_vkstream_module_ctx,         /* module context */
    ngx_http_vkstream_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_vkstream_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_table_elt_t               *h;
    ngx_http_vkstream_ctx_t       *ctx;
    ngx_http_vkstream_loc_conf_t  *vlcf;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_vkstream_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_vkstream_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_vkstream_module);

    rc = ngx_http_vkstream_parse(r, ctx, vlcf->test);

    if (rc == VKS_API_NO_BUFFER) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != VKS_API_OK) {
        return ngx_http_vkstream_api_error(r, rc);
    }

    if (!(r->method & ctx->methods)) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Allow");
        h->value.data = (u_char *) ctx->route.allow;
        h->value.len = ngx_strlen(ctx->route.allow);

        return ngx_http_vkstream_error(r, NGX_HTTP_NOT_ALLOWED,
                                       "method_not_allowed",
                                       "method not allowed here");
    }

    /*
     * the refusal is sent here: the status is what tells a refused
     * request from an authorised one (the sender's rc is NGX_OK either way)
     */
    rc = ngx_http_vkstream_auth(r);

    if (rc == NGX_HTTP_UNAUTHORIZED) {
        return ngx_http_vkstream_error(r, NGX_HTTP_UNAUTHORIZED,
                                       "unauthorized",
                                       "a bearer token is required");
    }

    if (rc == NGX_HTTP_FORBIDDEN) {
        return ngx_http_vkstream_error(r, NGX_HTTP_FORBIDDEN, "forbidden",
                                       "the bearer token is not valid");
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if ((ctx->route.ep == VKS_API_EP_KEYWORDS && r->method == NGX_HTTP_PUT)
        || (ctx->route.ep == VKS_API_EP_RULES && r->method == NGX_HTTP_POST)
        || ctx->route.ep == VKS_API_EP_TEST)
    {
        if (r->headers_in.content_length_n > NGX_HTTP_VKSTREAM_MAX_BODY) {
            return ngx_http_vkstream_api_error(r, VKS_API_BODY_TOO_LARGE);
        }

        rc = ngx_http_read_client_request_body(r,
                                            ngx_http_vkstream_body_handler);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_vkstream_dispatch(r, ctx, NULL);
}


static ngx_uint_t
ngx_http_vkstream_methods(unsigned methods)
{
    ngx_uint_t  m;

    m = 0;

    if (methods & VKS_API_GET) {
        m |= NGX_HTTP_GET;
    }

    if (methods & VKS_API_HEAD) {
        m |= NGX_HTTP_HEAD;
    }

    if (methods & VKS_API_POST) {
        m |= NGX_HTTP_POST;
    }

    if (methods & VKS_API_PUT) {
        m |= NGX_HTTP_PUT;
    }

    if (methods & VKS_API_DELETE) {
        m |= NGX_HTTP_DELETE;
    }

    return m;
}


static ngx_uint_t
ngx_http_vkstream_table_action(vks_api_action_e action)
{
    switch (action) {

    case VKS_API_ACTION_DROP:
        return NGX_VKSTREAM_ACTION_DROP;

    case VKS_API_ACTION_RESTART:
        return NGX_VKSTREAM_ACTION_RESTART;

    case VKS_API_ACTION_STOP:
        return NGX_VKSTREAM_ACTION_STOP;

    default:
        return 0;
    }
}


/*
 * Splits the raw path after the location's prefix into %-decoded
 * segments and routes them (api/vks_api.c): the raw path, so that a
 * stream name may hold an escaped "/" (%2F) and an escaped ".." is just
 * a name.
 */
static vks_api_rc_e
ngx_http_vkstream_parse(ngx_http_request_t *r, ngx_http_vkstream_ctx_t *ctx,
    ngx_flag_t test)
{
    u_char                    *p, *buf;
    size_t                     size;
    ngx_str_t                  raw;
    ngx_uint_t                 i;
    vks_api_rc_e               rc;
    vks_api_path_t             path;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    raw = r->unparsed_uri;

    p = ngx_strlchr(raw.data, raw.data + raw.len, '?');
    if (p) {
        raw.len = p - raw.data;
    }

    if (raw.len >= clcf->name.len
        && ngx_strncmp(raw.data, clcf->name.data, clcf->name.len) == 0)
    {
        p = raw.data + clcf->name.len;

    } else {
        /* the prefix itself was escaped: nginx has decoded it */
        raw = r->uri;
        p = raw.data + ngx_min(clcf->name.len, raw.len);
    }

    size = vks_api_split_size(raw.data + raw.len - p);

    buf = ngx_pnalloc(r->pool, size);
    if (buf == NULL) {
        return VKS_API_NO_BUFFER;
    }

    rc = vks_api_split(p, raw.data + raw.len - p, buf, size, &path);
    if (rc != VKS_API_OK) {
        return rc;
    }

    rc = vks_api_route(&path, test, &ctx->route);
    if (rc != VKS_API_OK) {
        return rc;
    }

    /* a route has at most VKS_API_MAX_SEGS segments */
    ctx->nsegs = path.nsegs;

    for (i = 0; i < path.nsegs; i++) {
        ctx->seg[i].data = path.seg[i].data;
        ctx->seg[i].len = path.seg[i].len;
    }

    ctx->methods = ngx_http_vkstream_methods(ctx->route.methods);
    ctx->action = ngx_http_vkstream_table_action(ctx->route.action);

    return VKS_API_OK;
}


/* the time taken depends on the lengths only, not on the contents */
static ngx_flag_t
ngx_http_vkstream_token_eq(ngx_str_t *given, ngx_str_t *token)
{
    u_char      c, diff;
    ngx_uint_t  i;

    diff = (given->len != token->len);

    for (i = 0; i < token->len; i++) {
        c = (i < given->len) ? given->data[i] : 0;
        diff |= token->data[i] ^ c;
    }

    return diff == 0;
}


/*
 * Returns NGX_OK for an authorised request, else the status to refuse it
 * with (NGX_HTTP_UNAUTHORIZED with WWW-Authenticate set, or
 * NGX_HTTP_FORBIDDEN); sends nothing.
 */
static ngx_int_t
ngx_http_vkstream_auth(ngx_http_request_t *r)
{
    ngx_str_t                      given;
    ngx_table_elt_t               *h;
    ngx_http_vkstream_loc_conf_t  *vlcf;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_vkstream_module);

    if (vlcf->token.len == 0) {
        return NGX_OK;
    }

    if ((r->method & NGX_HTTP_VKSTREAM_GET) && !vlcf->read_auth) {
        return NGX_OK;
    }

    h = r->headers_in.authorization;

    if (h == NULL || h->value.len < sizeof("Bearer ") - 1
        || ngx_strncasecmp(h->value.data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) != 0)
    {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "WWW-Authenticate");
        ngx_str_set(&h->value, "Bearer realm=\"vkstream\"");

        return NGX_HTTP_UNAUTHORIZED;
    }

    given.data = h->value.data + sizeof("Bearer ") - 1;
    given.len = h->value.len - (sizeof("Bearer ") - 1);

    while (given.len && given.data[0] == ' ') {
        given.data++;
        given.len--;
    }

    if (!ngx_http_vkstream_token_eq(&given, &vlcf->token)) {
        /* the token given is not logged: it may be a near miss */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "vkstream: API request with a wrong token");

        return NGX_HTTP_FORBIDDEN;
    }

    return NGX_OK;
}


/* the body in one buffer: api/vks_api.c checks and reads it */
static void
ngx_http_vkstream_body_handler(ngx_http_request_t *r)
{
    u_char                   *p;
    off_t                     len;
    ssize_t                   n;
    ngx_int_t                 rc;
    ngx_str_t                 body;
    ngx_buf_t                *b;
    ngx_chain_t              *cl;
    ngx_http_vkstream_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_vkstream_module);

    len = 0;

    if (r->request_body) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            len += ngx_buf_size(cl->buf);
        }
    }

    /* before the copy: a chunked body has no length announced */
    if (len > NGX_HTTP_VKSTREAM_MAX_BODY) {
        ngx_http_finalize_request(r, ngx_http_vkstream_api_error(r,
                                  VKS_API_BODY_TOO_LARGE));
        return;
    }

    body.len = len;
    body.data = NULL;

    if (len) {
        body.data = ngx_pnalloc(r->pool, len);
        if (body.data == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        p = body.data;

        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            b = cl->buf;

            if (b->in_file) {
                n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                                  b->file_pos);
                if (n != b->file_last - b->file_pos) {
                    ngx_http_finalize_request(r,
                                            NGX_HTTP_INTERNAL_SERVER_ERROR);
                    return;
                }

                p += n;

            } else {
                p = ngx_cpymem(p, b->pos, b->last - b->pos);
            }
        }

        body.len = p - body.data;
    }

    rc = ngx_http_vkstream_dispatch(r, ctx, &body);

    ngx_http_finalize_request(r, rc);
}


ngx_int_t
ngx_http_vkstream_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_chain_t *out, off_t len)
{
    ngx_int_t         rc;
    ngx_table_elt_t  *h;

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_length_n = len;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    /* which worker answered: the table looks the same from every one */
    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-VKStream-Worker");
    h->value.len = ngx_sprintf(h->value.data, "%P", ngx_pid) - h->value.data;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}


ngx_int_t
ngx_http_vkstream_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    size_t        len;
    ngx_buf_t    *b;
    ngx_str_t     type = ngx_string("application/json; charset=utf-8");
    ngx_chain_t   out;

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* measure, then write straight into a buffer of the request's pool */

    len = json_dumpb(json, NULL, 0, NGX_HTTP_VKSTREAM_JSON_FLAGS);

    b = (len == 0) ? NULL : ngx_create_temp_buf(r->pool, len + 1);

    if (b == NULL
        || json_dumpb(json, (char *) b->last, len,
                      NGX_HTTP_VKSTREAM_JSON_FLAGS)
           != len)
    {
        json_decref(json);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_decref(json);

    b->last += len;
    *b->last++ = '\n';

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_vkstream_send(r, status, &type, &out, len + 1);
}


ngx_int_t
ngx_http_vkstream_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message)
{
    json_t  *j;

    r->expect_tested = 1;     /* no "100 Continue" for a refused body */

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    j = json_pack("{s:{s:s,s:s}}", "error", "code", code,
                  "message", message);

    return ngx_http_vkstream_send_json(r, status, j);
}


/* the JSON error of an api/vks_api.c code */
ngx_int_t
ngx_http_vkstream_api_error(ngx_http_request_t *r, vks_api_rc_e rc)
{
    const vks_api_error_t  *e;

    e = vks_api_error(rc);

    if (e == NULL || e->status >= NGX_HTTP_INTERNAL_SERVER_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_vkstream_error(r, e->status, e->code, e->message);
}


static void *
ngx_http_vkstream_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_vkstream_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_vkstream_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->token = { 0, NULL };
     *     conf->hls_url = { 0, NULL };
     *     conf->llhls_url = { 0, NULL };
     */

    conf->read_auth = NGX_CONF_UNSET;
    conf->test = NGX_CONF_UNSET;
    conf->variant = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_vkstream_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_vkstream_loc_conf_t  *prev = parent;
    ngx_http_vkstream_loc_conf_t  *conf = child;

    ngx_conf_merge_str_value(conf->token, prev->token, "");
    ngx_conf_merge_value(conf->read_auth, prev->read_auth, 0);
    ngx_conf_merge_value(conf->test, prev->test, 0);
    ngx_conf_merge_str_value(conf->hls_url, prev->hls_url, "/hls/");
    ngx_conf_merge_str_value(conf->llhls_url, prev->llhls_url, "/ll/");
    ngx_conf_merge_ptr_value(conf->variant, prev->variant, NULL);

    if (conf->read_auth && conf->token.len == 0 && conf->enable) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"vkstream_api_read_auth\" needs "
                           "\"vkstream_api_token\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_vkstream_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vkstream_loc_conf_t *vlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_vkstream_handler;

    vlcf->enable = 1;

    return NGX_CONF_OK;
}


/*
 * The base of the playlist URLs the API lists: a path ("/hls/"), given
 * the request's scheme and Host, or an absolute http(s) URL used as is;
 * anything else would make links no player can follow.
 */
static char *
ngx_http_vkstream_url_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char       *rv;
    ngx_str_t  *url;

    rv = ngx_conf_set_str_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    url = (ngx_str_t *) ((char *) conf + cmd->offset);

    if ((url->len > 1 && url->data[0] == '/' && url->data[1] != '/')
        || (url->len == 1 && url->data[0] == '/')
        || (url->len > 7 && ngx_strncasecmp(url->data, (u_char *) "http://", 7)
                            == 0)
        || (url->len > 8
            && ngx_strncasecmp(url->data, (u_char *) "https://", 8) == 0))
    {
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" must be a path starting with \"/\" or an "
                       "http:// or https:// URL, not \"%V\"",
                       &cmd->name, url);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_vkstream_variant(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vkstream_loc_conf_t *vlcf = conf;

    ngx_str_t   *value, *s;
    ngx_uint_t   i;

    if (vlcf->variant != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    vlcf->variant = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                     sizeof(ngx_str_t));
    if (vlcf->variant == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0 || value[i].len >= VKS_SUFFIX_LEN) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid rendition suffix \"%V\" in "
                               "\"vkstream_api_hls_variant\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        s = ngx_array_push(vlcf->variant);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];    /* NUL-terminated by the parser */
    }

    return NGX_CONF_OK;
}
