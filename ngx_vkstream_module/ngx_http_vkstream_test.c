
/*
 * vkstream HTTP API: the "test" endpoints (vkstream_api_test on), which
 * feed the stream table the way the transcoder and the VK client do, so
 * that tests and demos can run without them.  Off by default; writes, so
 * they need the token when one is set.
 */


#include "ngx_http_vkstream.h"


static const char  *ngx_http_vkstream_rstates[] = {
    "starting", "running", "failed", "stopped", NULL
};

static const char  *ngx_http_vkstream_rule_states[] = {
    "none", "pending", "active", "failed", NULL
};

static const char  *ngx_http_vkstream_vk_states[] = {
    "off", "connecting", "connected", "backoff", "error", NULL
};


static ngx_int_t
ngx_http_vkstream_test_enum(json_t *o, const char *key, const char **names,
    ngx_int_t def)
{
    ngx_int_t    i;
    const char  *v;

    v = json_string_value(json_object_get(o, key));
    if (v == NULL) {
        return def;
    }

    for (i = 0; names[i]; i++) {
        if (ngx_strcmp(v, names[i]) == 0) {
            return i;
        }
    }

    return def;
}


static void
ngx_http_vkstream_test_cstr(char *dst, size_t size, json_t *o,
    const char *key)
{
    const char  *v;

    v = json_string_value(json_object_get(o, key));
    if (v == NULL) {
        v = "";
    }

    ngx_cpystrn((u_char *) dst, (u_char *) v, size);
}


static void
ngx_http_vkstream_test_str(ngx_str_t *dst, json_t *o, const char *key)
{
    json_t  *v;

    v = json_object_get(o, key);

    if (json_is_string(v)) {
        dst->data = (u_char *) json_string_value(v);
        dst->len = json_string_length(v);

    } else {
        /* empty, not NULL: callers copy it with memcpy() */
        ngx_str_set(dst, "");
    }
}


/* POST /test/stats/{app}/{name}: a statistics snapshot */
static ngx_int_t
ngx_http_vkstream_test_stats(ngx_http_request_t *r, ngx_str_t *app,
    ngx_str_t *name, json_t *body)
{
    size_t                  i;
    json_t                 *a, *o;
    vks_stream_stats_t     *stats;
    vks_rendition_stats_t  *rs;
    ngx_vkstream_stream_t  *st;

    st = ngx_palloc(r->pool, sizeof(ngx_vkstream_stream_t));
    stats = ngx_pcalloc(r->pool, sizeof(vks_stream_stats_t));
    if (st == NULL || stats == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_vkstream_table_stream(r->pool, app, name, st, NULL, 0, 0)
        != NGX_OK || st->end)
    {
        return ngx_http_vkstream_error(r, NGX_HTTP_NOT_FOUND,
                                       "stream_not_found",
                                       "no such live stream");
    }

    ngx_http_vkstream_test_cstr(stats->vcodec, VKS_CODEC_LEN, body,
                                "video_codec");
    ngx_http_vkstream_test_cstr(stats->acodec, VKS_CODEC_LEN, body,
                                "audio_codec");
    stats->width = json_integer_value(json_object_get(body, "width"));
    stats->height = json_integer_value(json_object_get(body, "height"));
    stats->fps = json_number_value(json_object_get(body, "fps"));
    stats->bitrate_kbps = json_number_value(json_object_get(body,
                                                            "bitrate_kbps"));

    a = json_object_get(body, "renditions");

    for (i = 0; i < json_array_size(a) && i < VKS_MAX_RENDITIONS; i++) {
        o = json_array_get(a, i);
        rs = &stats->r[i];

        ngx_http_vkstream_test_cstr(rs->suffix, VKS_SUFFIX_LEN, o, "suffix");
        ngx_http_vkstream_test_cstr(rs->app, VKS_APP_LEN, o, "app");
        ngx_http_vkstream_test_cstr(rs->last_error, VKS_ERROR_LEN, o,
                                    "last_error");
        rs->state = ngx_http_vkstream_test_enum(o, "state",
                                               ngx_http_vkstream_rstates, 0);
        rs->width = json_integer_value(json_object_get(o, "width"));
        rs->height = json_integer_value(json_object_get(o, "height"));
        rs->frames_in = json_integer_value(json_object_get(o, "frames_in"));
        rs->frames_out = json_integer_value(json_object_get(o,
                                                            "frames_out"));
        rs->frames_dropped = json_integer_value(json_object_get(o,
                                                      "frames_dropped"));
        rs->encode_fps = json_number_value(json_object_get(o, "encode_fps"));
        rs->speed = json_number_value(json_object_get(o, "speed"));
        rs->bitrate_kbps = json_number_value(json_object_get(o,
                                                         "bitrate_kbps"));
        stats->nrenditions++;
    }

    ngx_vkstream_table_update((ngx_uint_t) st->id, stats);

    return ngx_http_vkstream_send_json(r, NGX_HTTP_OK,
                                       json_pack("{s:b}", "ok", 1));
}


/* POST /test/match: a VK event with a rule tag */
static ngx_int_t
ngx_http_vkstream_test_match(ngx_http_request_t *r, json_t *body)
{
    ngx_str_t                tag;
    ngx_vkstream_match_in_t  m;

    ngx_memzero(&m, sizeof(ngx_vkstream_match_in_t));

    ngx_http_vkstream_test_str(&tag, body, "tag");
    ngx_http_vkstream_test_str(&m.event_type, body, "event_type");
    ngx_http_vkstream_test_str(&m.action, body, "action");
    ngx_http_vkstream_test_str(&m.url, body, "url");
    ngx_http_vkstream_test_str(&m.text, body, "text");
    ngx_http_vkstream_test_str(&m.author_url, body, "author_url");
    m.author_id = json_integer_value(json_object_get(body, "author_id"));
    m.created = json_integer_value(json_object_get(body, "created"));

    if (ngx_vkstream_table_add_match(&tag, &m) != NGX_OK) {
        return ngx_http_vkstream_error(r, NGX_HTTP_NOT_FOUND,
                                       "rule_not_found",
                                       "no stream or rule has this tag");
    }

    return ngx_http_vkstream_send_json(r, NGX_HTTP_CREATED,
                                       json_pack("{s:b}", "ok", 1));
}


/* POST /test/rule_state: what VK answered for a rule */
static ngx_int_t
ngx_http_vkstream_test_rule_state(ngx_http_request_t *r, json_t *body)
{
    ngx_str_t  tag, error;

    ngx_http_vkstream_test_str(&tag, body, "tag");
    ngx_http_vkstream_test_str(&error, body, "error");

    ngx_vkstream_table_rule_state(&tag,
                 ngx_http_vkstream_test_enum(body, "state",
                                             ngx_http_vkstream_rule_states,
                                             NGX_VKSTREAM_RULE_PENDING),
                 json_integer_value(json_object_get(body, "code")),
                 error.len ? &error : NULL);

    return ngx_http_vkstream_send_json(r, NGX_HTTP_OK,
                                       json_pack("{s:b}", "ok", 1));
}


/* POST /test/vk: the VK client's state */
static ngx_int_t
ngx_http_vkstream_test_vk(ngx_http_request_t *r, json_t *body)
{
    ngx_str_t                 s;
    ngx_vkstream_vk_state_t  *vk;

    vk = ngx_pcalloc(r->pool, sizeof(ngx_vkstream_vk_state_t));
    if (vk == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    vk->state = ngx_http_vkstream_test_enum(body, "state",
                                            ngx_http_vkstream_vk_states, 0);
    vk->since = ngx_time();
    vk->pid = ngx_pid;
    vk->received = json_integer_value(json_object_get(body, "received"));
    vk->stored = json_integer_value(json_object_get(body, "stored"));
    vk->dropped = json_integer_value(json_object_get(body, "dropped"));
    vk->malformed = json_integer_value(json_object_get(body, "malformed"));
    vk->service_code = json_integer_value(json_object_get(body,
                                                          "service_code"));

    ngx_http_vkstream_test_str(&s, body, "endpoint");
    vk->endpoint_len = ngx_min(s.len, NGX_VKSTREAM_URL_LEN);
    ngx_memcpy(vk->endpoint, s.data, vk->endpoint_len);

    ngx_http_vkstream_test_str(&s, body, "service_message");
    vk->service_message_len = ngx_min(s.len, NGX_VKSTREAM_ERROR_LEN);
    ngx_memcpy(vk->service_message, s.data, vk->service_message_len);

    ngx_vkstream_table_set_vk_state(vk);

    return ngx_http_vkstream_send_json(r, NGX_HTTP_OK,
                                       json_pack("{s:b}", "ok", 1));
}


/* the body is checked before the endpoint, as the API always did */
ngx_int_t
ngx_http_vkstream_test(ngx_http_request_t *r, ngx_http_vkstream_ctx_t *ctx,
    ngx_str_t *body)
{
    json_t        *json;
    ngx_int_t      rc;
    vks_api_rc_e   arc;

    arc = vks_api_body((char *) body->data, body->len, 1, &json);
    if (arc != VKS_API_OK) {
        return ngx_http_vkstream_api_error(r, arc);
    }

    switch (ctx->route.test) {

    case VKS_API_TEST_STATS:
        rc = ngx_http_vkstream_test_stats(r, &ctx->seg[2], &ctx->seg[3],
                                          json);
        break;

    case VKS_API_TEST_MATCH:
        rc = ngx_http_vkstream_test_match(r, json);
        break;

    case VKS_API_TEST_RULE_STATE:
        rc = ngx_http_vkstream_test_rule_state(r, json);
        break;

    case VKS_API_TEST_VK:
        rc = ngx_http_vkstream_test_vk(r, json);
        break;

    default:
        rc = ngx_http_vkstream_api_error(r, VKS_API_NOT_FOUND);
    }

    json_decref(json);

    return rc;
}
