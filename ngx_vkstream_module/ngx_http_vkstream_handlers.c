
/*
 * vkstream HTTP API: the endpoints' handlers, on copies taken from the
 * stream table.  Routing, access and reading bodies are done by the
 * caller (ngx_http_vkstream_module.c); bodies are checked here with
 * api/vks_api.c.
 */


#include "ngx_http_vkstream.h"


static ngx_int_t
ngx_http_vkstream_handlers_arg_num(ngx_http_request_t *r, char *name,
    ngx_int_t def, ngx_int_t *value)
{
    ngx_str_t  v;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &v) != NGX_OK) {
        *value = def;
        return NGX_OK;
    }

    *value = ngx_atoi(v.data, v.len);

    return (*value == NGX_ERROR) ? NGX_ERROR : NGX_OK;
}


/* a %-decoded query argument: NGX_DECLINED when absent */
static ngx_int_t
ngx_http_vkstream_handlers_arg_str(ngx_http_request_t *r, char *name,
    ngx_str_t *out)
{
    u_char     *dst, *src;
    ngx_str_t   v;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &v) != NGX_OK) {
        return NGX_DECLINED;
    }

    dst = ngx_pnalloc(r->pool, v.len + 1);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    out->data = dst;
    src = v.data;
    ngx_unescape_uri(&dst, &src, v.len, 0);
    out->len = dst - out->data;

    return NGX_OK;
}


static json_t *
ngx_http_vkstream_handlers_matches_json(ngx_array_t *matches)
{
    json_t                *a;
    ngx_uint_t             i;
    ngx_vkstream_match_t  *m;

    a = json_array();
    m = matches->elts;

    for (i = 0; a && i < matches->nelts; i++) {
        json_array_append_new(a, ngx_http_vkstream_json_match(&m[i]));
    }

    return a;
}


static ngx_int_t
ngx_http_vkstream_handlers_get_matches(ngx_http_request_t *r, ngx_str_t *app,
    ngx_str_t *name)
{
    json_t                 *j;
    ngx_int_t               after, limit, rc;
    ngx_array_t             matches;
    ngx_vkstream_stream_t  *st;

    if (ngx_http_vkstream_handlers_arg_num(r, "after", 0, &after) != NGX_OK
        || ngx_http_vkstream_handlers_arg_num(r, "limit", 100, &limit) != NGX_OK
        || limit < 1 || limit > 1000)
    {
        return ngx_http_vkstream_error(r, NGX_HTTP_BAD_REQUEST,
                                       "bad_argument",
                                       "\"after\" must be a number, "
                                       "\"limit\" from 1 to 1000");
    }

    st = ngx_palloc(r->pool, sizeof(ngx_vkstream_stream_t));
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_vkstream_table_stream(r->pool, app, name, st, &matches,
                                   (uint64_t) after, limit);

    if (rc == NGX_DECLINED) {
        return ngx_http_vkstream_error(r, NGX_HTTP_NOT_FOUND,
                                       "stream_not_found", "no such stream");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    j = json_object();
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_object_set_new(j, "last_id", json_integer(st->match_last_id));
    json_object_set_new(j, "total", json_integer(st->matches_total));
    json_object_set_new(j, "matches",
                        ngx_http_vkstream_handlers_matches_json(&matches));

    return ngx_http_vkstream_send_json(r, NGX_HTTP_OK, j);
}


static ngx_int_t
ngx_http_vkstream_handlers_get_stream(ngx_http_request_t *r, ngx_str_t *app,
    ngx_str_t *name, ngx_uint_t status)
{
    json_t                 *j;
    ngx_int_t               rc;
    ngx_array_t             matches;
    ngx_vkstream_stream_t  *st;

    st = ngx_palloc(r->pool, sizeof(ngx_vkstream_stream_t));
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_vkstream_table_stream(r->pool, app, name, st, &matches, 0,
                                   NGX_MAX_UINT32_VALUE);

    if (rc == NGX_DECLINED) {
        return ngx_http_vkstream_error(r, NGX_HTTP_NOT_FOUND,
                                       "stream_not_found", "no such stream");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    j = ngx_http_vkstream_json_stream(r, st, 1);
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_object_set_new(j, "matches",
                        ngx_http_vkstream_handlers_matches_json(&matches));

    return ngx_http_vkstream_send_json(r, status, j);
}


static ngx_int_t
ngx_http_vkstream_handlers_get_streams(ngx_http_request_t *r)
{
    json_t                 *j, *a;
    ngx_int_t               has_app, has_name;
    ngx_str_t               app, name;
    ngx_uint_t              i, n;
    ngx_array_t             streams;
    ngx_vkstream_stream_t  *st;

    /* ?app=&name= filter: it also reaches names that a path cannot */
    has_app = ngx_http_vkstream_handlers_arg_str(r, "app", &app);
    has_name = ngx_http_vkstream_handlers_arg_str(r, "name", &name);

    if (has_app == NGX_ERROR || has_name == NGX_ERROR
        || ngx_vkstream_table_streams(r->pool, &streams) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    j = json_object();
    a = json_array();
    if (j == NULL || a == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st = streams.elts;

    n = 0;

    for (i = 0; i < streams.nelts; i++) {
        if (has_app == NGX_OK
            && (app.len != st[i].app_len
                || ngx_memcmp(app.data, st[i].app, app.len) != 0))
        {
            continue;
        }

        if (has_name == NGX_OK
            && (name.len != st[i].name_len
                || ngx_memcmp(name.data, st[i].name, name.len) != 0))
        {
            continue;
        }

        json_array_append_new(a, ngx_http_vkstream_json_stream(r, &st[i], 0));
        n++;
    }

    json_object_set_new(j, "count", json_integer(n));
    json_object_set_new(j, "streams", a);

    return ngx_http_vkstream_send_json(r, NGX_HTTP_OK, j);
}


/* body: the PUT's, NULL for a DELETE */
static ngx_int_t
ngx_http_vkstream_handlers_keywords(ngx_http_request_t *r, ngx_str_t *app,
    ngx_str_t *name, ngx_str_t *body)
{
    ngx_str_t            keywords;
    vks_api_rc_e         rc;
    vks_api_keywords_t  *kw;

    ngx_str_null(&keywords);

    if (body != NULL) {
        kw = ngx_palloc(r->pool, sizeof(vks_api_keywords_t));
        if (kw == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc = vks_api_keywords((char *) body->data, body->len, kw);
        if (rc != VKS_API_OK) {
            return ngx_http_vkstream_api_error(r, rc);
        }

        keywords.data = (u_char *) kw->data;
        keywords.len = kw->len;
    }

    if (ngx_vkstream_table_set_keywords(app, name, &keywords) != NGX_OK) {
        return ngx_http_vkstream_error(r, NGX_HTTP_NOT_FOUND,
                                       "stream_not_found",
                                       "no such live stream");
    }

    return ngx_http_vkstream_handlers_get_stream(r, app, name, NGX_HTTP_OK);
}


static ngx_int_t
ngx_http_vkstream_handlers_action(ngx_http_request_t *r,
    ngx_http_vkstream_ctx_t *ctx)
{
    json_t     *j;
    ngx_int_t   rc;
    ngx_str_t   suffix;

    ngx_str_null(&suffix);

    if (ctx->route.ep == VKS_API_EP_RENDITION) {
        suffix = ctx->seg[4];

        if (suffix.len >= VKS_SUFFIX_LEN) {
            return ngx_http_vkstream_error(r, NGX_HTTP_NOT_FOUND,
                                           "rendition_not_found",
                                           "no such rendition");
        }
    }

    rc = ngx_vkstream_table_request(&ctx->seg[1], &ctx->seg[2], ctx->action,
                                    &suffix);

    switch (rc) {

    case NGX_DECLINED:
        return ngx_http_vkstream_error(r, NGX_HTTP_NOT_FOUND,
                                       "stream_not_found",
                                       "no such live stream");

    case NGX_ABORT:
        return ngx_http_vkstream_error(r, NGX_HTTP_NOT_FOUND,
                                       "rendition_not_found",
                                       "no such rendition");

    case NGX_BUSY:
        return ngx_http_vkstream_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                       "busy",
                                       "too many actions pending");
    }

    j = json_pack("{s:s}", "result", rc == NGX_OK ? "done" : "requested");

    return ngx_http_vkstream_send_json(r, rc == NGX_OK ? NGX_HTTP_OK
                                                       : NGX_HTTP_ACCEPTED,
                                       j);
}


static ngx_int_t
ngx_http_vkstream_handlers_rules_get(ngx_http_request_t *r, ngx_str_t *tag,
    ngx_uint_t status)
{
    json_t                *j, *a;
    uint64_t               gen;
    ngx_uint_t             i;
    ngx_array_t            global, all;
    ngx_vkstream_rule_t   *rule;
    ngx_vkstream_grule_t  *gr;

    if (ngx_vkstream_table_global_rules(r->pool, &global) != NGX_OK
        || ngx_vkstream_table_rules(r->pool, &all, &gen) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    gr = global.elts;

    if (tag != NULL) {
        for (i = 0; i < global.nelts; i++) {
            if (gr[i].tag_len == tag->len
                && ngx_memcmp(gr[i].tag, tag->data, tag->len) == 0)
            {
                return ngx_http_vkstream_send_json(r, status,
                                         ngx_http_vkstream_json_rule(&gr[i]));
            }
        }

        return ngx_http_vkstream_error(r, NGX_HTTP_NOT_FOUND,
                                       "rule_not_found", "no such rule");
    }

    j = json_object();
    a = json_array();
    if (j == NULL || a == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < global.nelts; i++) {
        json_array_append_new(a, ngx_http_vkstream_json_rule(&gr[i]));
    }

    json_object_set_new(j, "generation", json_integer(gen));
    json_object_set_new(j, "rules", a);

    a = json_array();
    rule = all.elts;

    for (i = 0; a && i < all.nelts; i++) {
        if (rule[i].stream_id == 0) {
            continue;
        }

        json_array_append_new(a, json_pack("{s:o,s:o,s:I}",
                              "tag", ngx_http_vkstream_json_str(
                                         rule[i].tag.data, rule[i].tag.len),
                              "value", ngx_http_vkstream_json_str(
                                         rule[i].value.data,
                                         rule[i].value.len),
                              "stream_id", (json_int_t) rule[i].stream_id));
    }

    json_object_set_new(j, "stream_rules", a);

    return ngx_http_vkstream_send_json(r, NGX_HTTP_OK, j);
}


static ngx_int_t
ngx_http_vkstream_handlers_rules_post(ngx_http_request_t *r, ngx_str_t *body)
{
    ngx_int_t        rc;
    ngx_str_t        tag, value;
    vks_api_rule_t  *rule;

    rule = ngx_palloc(r->pool, sizeof(vks_api_rule_t));
    if (rule == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = vks_api_rule((char *) body->data, body->len, rule);
    if (rc != VKS_API_OK) {
        return ngx_http_vkstream_api_error(r, rc);
    }

    tag.data = (u_char *) rule->tag;
    tag.len = rule->tag_len;
    value.data = (u_char *) rule->value;
    value.len = rule->value_len;

    rc = ngx_vkstream_table_rule_add(&tag, &value);

    if (rc == NGX_BUSY) {
        return ngx_http_vkstream_error(r, NGX_HTTP_CONFLICT, "rules_full",
                                       "too many global rules");
    }

    /* answer with the rule as stored */
    return ngx_http_vkstream_handlers_rules_get(r, &tag, NGX_HTTP_CREATED);
}


static ngx_int_t
ngx_http_vkstream_handlers_rules_delete(ngx_http_request_t *r, ngx_str_t *tag)
{
    ngx_int_t  rc;
    ngx_str_t  t;

    if (tag == NULL) {
        rc = ngx_http_vkstream_handlers_arg_str(r, "tag", &t);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == NGX_DECLINED || t.len == 0) {
            return ngx_http_vkstream_error(r, NGX_HTTP_BAD_REQUEST,
                                           "bad_argument",
                                           "\"tag\" argument required");
        }

        tag = &t;
    }

    if (ngx_vkstream_table_rule_delete(tag) != NGX_OK) {
        return ngx_http_vkstream_error(r, NGX_HTTP_NOT_FOUND,
                                       "rule_not_found", "no such rule");
    }

    return ngx_http_vkstream_send_json(r, NGX_HTTP_OK,
                    json_pack("{s:o}", "deleted",
                              ngx_http_vkstream_json_str(tag->data,
                                                         tag->len)));
}


ngx_int_t
ngx_http_vkstream_dispatch(ngx_http_request_t *r,
    ngx_http_vkstream_ctx_t *ctx, ngx_str_t *body)
{
    json_t                  *j;
    ngx_vkstream_cluster_t  *cl;
    ngx_vkstream_summary_t   sum;

    switch (ctx->route.ep) {

    case VKS_API_EP_STATUS:
        ngx_vkstream_table_summary(&sum);
        j = ngx_http_vkstream_json_status(&sum);

        cl = ngx_palloc(r->pool, sizeof(ngx_vkstream_cluster_t));
        if (j != NULL && cl != NULL) {
            ngx_vkstream_table_cluster(cl);
            json_object_set_new(j, "cluster",
                                ngx_http_vkstream_json_cluster(cl, 0));
        }

        return ngx_http_vkstream_send_json(r, NGX_HTTP_OK, j);

    case VKS_API_EP_CLUSTER:
        cl = ngx_palloc(r->pool, sizeof(ngx_vkstream_cluster_t));
        if (cl == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_vkstream_table_cluster(cl);

        if (!cl->enabled) {
            return ngx_http_vkstream_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                           "cluster mode is off "
                                           "(vkstream_cluster)");
        }

        return ngx_http_vkstream_send_json(r, NGX_HTTP_OK,
                                      ngx_http_vkstream_json_cluster(cl, 1));

    case VKS_API_EP_METRICS:
        return ngx_http_vkstream_metrics(r);

    case VKS_API_EP_EVENTS:
        return ngx_http_vkstream_events(r);

    case VKS_API_EP_STREAMS:
        return ngx_http_vkstream_handlers_get_streams(r);

    case VKS_API_EP_STREAM:
        return ngx_http_vkstream_handlers_get_stream(r, &ctx->seg[1],
                                                     &ctx->seg[2],
                                                     NGX_HTTP_OK);

    case VKS_API_EP_MATCHES:
        return ngx_http_vkstream_handlers_get_matches(r, &ctx->seg[1],
                                                      &ctx->seg[2]);

    case VKS_API_EP_GLOBAL_MATCHES:
        return ngx_http_vkstream_handlers_get_matches(r, NULL, NULL);

    case VKS_API_EP_KEYWORDS:
        return ngx_http_vkstream_handlers_keywords(r, &ctx->seg[1],
                                  &ctx->seg[2],
                                  r->method == NGX_HTTP_PUT ? body : NULL);

    case VKS_API_EP_DROP:
    case VKS_API_EP_RENDITION:
        return ngx_http_vkstream_handlers_action(r, ctx);

    case VKS_API_EP_RULES:
        if (r->method == NGX_HTTP_POST) {
            return ngx_http_vkstream_handlers_rules_post(r, body);
        }

        if (r->method == NGX_HTTP_DELETE) {
            return ngx_http_vkstream_handlers_rules_delete(r, NULL);
        }

        return ngx_http_vkstream_handlers_rules_get(r, NULL, NGX_HTTP_OK);

    case VKS_API_EP_RULE:
        if (r->method == NGX_HTTP_DELETE) {
            return ngx_http_vkstream_handlers_rules_delete(r, &ctx->seg[1]);
        }

        return ngx_http_vkstream_handlers_rules_get(r, &ctx->seg[1],
                                                    NGX_HTTP_OK);

    case VKS_API_EP_TEST:
        return ngx_http_vkstream_test(r, ctx, body);
    }

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}
