
/*
 * vkstream HTTP API: JSON documents built with jansson from copies of the
 * stream table.  Field names are documented in README.md ("HTTP API").
 */


#include "ngx_http_vkstream.h"
#include "ngx_vkstream_cluster.h"
#include "util/vks_utf8.h"
#include "media/vks_conf.h"


static json_t *ngx_http_vkstream_json_url(ngx_http_request_t *r,
    ngx_str_t *base, ngx_str_t *node_url, ngx_str_t *name, u_char *suffix,
    size_t slen, const char *tail);
static json_t *ngx_http_vkstream_json_hls_url(ngx_http_request_t *r,
    ngx_str_t *node_url, ngx_str_t *name, u_char *suffix, size_t slen);
static json_t *ngx_http_vkstream_json_ll_url(ngx_http_request_t *r,
    ngx_str_t *node_url, ngx_str_t *name, u_char *suffix, size_t slen);
static ngx_flag_t ngx_http_vkstream_json_has_ll(ngx_vkstream_stream_t *st,
    vks_rendition_stats_t *rs);
static json_t *ngx_http_vkstream_json_llhls(ngx_http_request_t *r,
    ngx_vkstream_stream_t *st, ngx_str_t *node_url, ngx_str_t *name);


json_t *
ngx_http_vkstream_json_str(u_char *data, size_t len)
{
    json_t  *j;
    u_char  *buf;
    size_t   n;

    j = json_stringn((const char *) data, len);
    if (j != NULL) {
        return j;
    }

    /* stream names are whatever the publisher sent: keep JSON valid */

    buf = malloc(VKS_UTF8_REPAIR_SIZE(len) + 1);
    if (buf == NULL) {
        return NULL;
    }

    n = vks_utf8_repair((char *) buf, (const char *) data, len);
    j = json_stringn((const char *) buf, n);
    free(buf);

    return j;
}


/* a string, or null when empty */
static json_t *
ngx_http_vkstream_json_opt(u_char *data, size_t len)
{
    return len ? ngx_http_vkstream_json_str(data, len) : json_null();
}


static json_t *
ngx_http_vkstream_json_rendition(ngx_http_request_t *r,
    ngx_vkstream_stream_t *st, ngx_str_t *node_url, ngx_str_t *name,
    vks_rendition_stats_t *rs, vks_rendition_stats_t *dup)
{
    json_t  *j;

    j = json_object();
    if (j == NULL) {
        return NULL;
    }

    json_object_set_new(j, "suffix", ngx_http_vkstream_json_str(
                        (u_char *) rs->suffix, ngx_strlen(rs->suffix)));
    json_object_set_new(j, "app", ngx_http_vkstream_json_str(
                        (u_char *) rs->app, ngx_strlen(rs->app)));
    json_object_set_new(j, "state", json_string(
                        ngx_vkstream_rendition_state_name(rs->state)));
    json_object_set_new(j, "video_copy",
                        json_boolean(rs->video_mode == VKS_MODE_COPY));
    json_object_set_new(j, "audio_copy", json_boolean(rs->audio_copy));
    json_object_set_new(j, "width", json_integer(rs->width));
    json_object_set_new(j, "height", json_integer(rs->height));
    json_object_set_new(j, "duplicate_of", dup
                        ? ngx_http_vkstream_json_str((u_char *) dup->suffix,
                                                     ngx_strlen(dup->suffix))
                        : json_null());
    json_object_set_new(j, "frames_in", json_integer(rs->frames_in));
    json_object_set_new(j, "frames_out", json_integer(rs->frames_out));
    json_object_set_new(j, "frames_dropped",
                        json_integer(rs->frames_dropped));
    json_object_set_new(j, "bytes_out", json_integer(rs->bytes_out));
    json_object_set_new(j, "encode_fps", json_real(rs->encode_fps));
    json_object_set_new(j, "speed", json_real(rs->speed));
    json_object_set_new(j, "bitrate_kbps", json_real(rs->bitrate_kbps));
    json_object_set_new(j, "last_error", ngx_http_vkstream_json_opt(
                        (u_char *) rs->last_error,
                        ngx_strlen(rs->last_error)));
    json_object_set_new(j, "hls", ngx_http_vkstream_json_hls_url(r, node_url,
                        name, (u_char *) rs->suffix, ngx_strlen(rs->suffix)));
    json_object_set_new(j, "llhls", ngx_http_vkstream_json_has_ll(st, rs)
                        ? ngx_http_vkstream_json_ll_url(r, node_url, name,
                              (u_char *) rs->suffix, ngx_strlen(rs->suffix))
                        : json_null());

    return j;
}


/*
 * "<base>/<name><suffix><tail>", name and suffix %-escaped; a base that is
 * a path gets the request's scheme and Host, or for another node's stream
 * that node's vkstream_cluster_url.
 */
static json_t *
ngx_http_vkstream_json_url(ngx_http_request_t *r, ngx_str_t *base,
    ngx_str_t *node_url, ngx_str_t *name, u_char *suffix, size_t slen,
    const char *tail)
{
    u_char     *buf, *p;
    size_t      len, tlen;
    ngx_str_t   host, scheme;

    ngx_str_null(&host);
    ngx_str_set(&scheme, "http://");

    if (base->len && base->data[0] == '/' && node_url != NULL && node_url->len)
    {
        ngx_str_null(&scheme);
        host = *node_url;

    } else if (base->len && base->data[0] == '/') {
#if (NGX_HTTP_SSL)
        if (r->connection->ssl) {
            ngx_str_set(&scheme, "https://");
        }
#endif
        if (r->headers_in.host) {
            host = r->headers_in.host->value;

        } else {
            host = r->headers_in.server;
        }

    } else {
        ngx_str_null(&scheme);
    }

    tlen = ngx_strlen(tail);
    len = scheme.len + host.len + base->len + 1
          + 3 * (name->len + slen) + tlen;

    buf = ngx_pnalloc(r->pool, len);
    if (buf == NULL) {
        return NULL;
    }

    p = buf;

    /* empty parts may have no data at all: memcpy() must not see NULL */
    if (scheme.len) {
        p = ngx_cpymem(p, scheme.data, scheme.len);
    }

    if (host.len) {
        p = ngx_cpymem(p, host.data, host.len);
    }

    p = ngx_cpymem(p, base->data, base->len);

    if (base->len && base->data[base->len - 1] != '/') {
        *p++ = '/';
    }

    p = (u_char *) ngx_escape_uri(p, name->data, name->len,
                                  NGX_ESCAPE_URI_COMPONENT);
    p = (u_char *) ngx_escape_uri(p, suffix, slen, NGX_ESCAPE_URI_COMPONENT);
    p = ngx_cpymem(p, tail, tlen);

    return ngx_http_vkstream_json_str(buf, p - buf);
}


/* classic HLS (nginx-rtmp): "<hls_url>/<name><suffix>.m3u8" */
static json_t *
ngx_http_vkstream_json_hls_url(ngx_http_request_t *r, ngx_str_t *node_url,
    ngx_str_t *name, u_char *suffix, size_t slen)
{
    ngx_http_vkstream_loc_conf_t  *vlcf;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_vkstream_module);

    return ngx_http_vkstream_json_url(r, &vlcf->hls_url, node_url, name,
                                      suffix, slen, ".m3u8");
}


/*
 * LL-HLS: a rendition's media playlist is "<llhls_url>/<name><suffix>/
 * index.m3u8" (its directory under vkstream_llhls_path), the master
 * "<llhls_url>/<name>.m3u8" (an empty suffix).
 */
static json_t *
ngx_http_vkstream_json_ll_url(ngx_http_request_t *r, ngx_str_t *node_url,
    ngx_str_t *name, u_char *suffix, size_t slen)
{
    ngx_http_vkstream_loc_conf_t  *vlcf;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_vkstream_module);

    return ngx_http_vkstream_json_url(r, &vlcf->llhls_url, node_url, name,
                                      suffix, slen,
                                      slen ? "/index.m3u8" : ".m3u8");
}


/*
 * Whether a rendition of the stream has LL-HLS: the stream's application
 * writes it, and the rendition has video, in H.264 (only a copy of another
 * codec is not).
 */
static ngx_flag_t
ngx_http_vkstream_json_has_ll(ngx_vkstream_stream_t *st,
    vks_rendition_stats_t *rs)
{
    if (!st->llhls || rs->video_mode == VKS_MODE_NONE) {
        return 0;
    }

    return rs->video_mode != VKS_MODE_COPY || st->stats.vcodec[0] == '\0'
           || ngx_strcmp(st->stats.vcodec, "h264") == 0;
}


/*
 * {"master": URL, "playlists": {SUFFIX: URL, ...}}, or null when the
 * stream's application does not write LL-HLS.  A duplicate_of rendition is
 * listed (its playlist exists); only the master leaves it out.
 */
static json_t *
ngx_http_vkstream_json_llhls(ngx_http_request_t *r, ngx_vkstream_stream_t *st,
    ngx_str_t *node_url, ngx_str_t *name)
{
    int                     i;
    json_t                 *ll, *pl;
    vks_rendition_stats_t  *rst;

    if (!st->llhls) {
        return json_null();
    }

    ll = json_object();
    pl = json_object();
    if (ll == NULL || pl == NULL) {
        json_decref(ll);
        json_decref(pl);
        return NULL;
    }

    for (i = 0; st->has_stats && i < st->stats.nrenditions; i++) {
        rst = &st->stats.r[i];

        if (ngx_http_vkstream_json_has_ll(st, rst)) {
            json_object_set_new(pl, rst->suffix,
                                ngx_http_vkstream_json_ll_url(r, node_url,
                                    name, (u_char *) rst->suffix,
                                    ngx_strlen(rst->suffix)));
        }
    }

    json_object_set_new(ll, "master", ngx_http_vkstream_json_ll_url(r,
                        node_url, name, (u_char *) "", 0));
    json_object_set_new(ll, "playlists", pl);

    return ll;
}


json_t *
ngx_http_vkstream_json_match(ngx_vkstream_match_t *m)
{
    json_t  *j;

    j = json_object();
    if (j == NULL) {
        return NULL;
    }

    json_object_set_new(j, "id", json_integer(m->id));
    json_object_set_new(j, "tag", ngx_http_vkstream_json_str(m->tag,
                                                             m->tag_len));
    json_object_set_new(j, "event_type", ngx_http_vkstream_json_str(
                        m->event_type, m->event_type_len));
    json_object_set_new(j, "action", ngx_http_vkstream_json_str(
                        m->action, m->action_len));
    json_object_set_new(j, "url", ngx_http_vkstream_json_str(m->url,
                                                             m->url_len));
    json_object_set_new(j, "text", ngx_http_vkstream_json_str(m->text,
                                                              m->text_len));
    json_object_set_new(j, "author_id", json_integer(m->author_id));
    json_object_set_new(j, "author_url", ngx_http_vkstream_json_str(
                        m->author_url, m->author_url_len));
    json_object_set_new(j, "created", json_integer(m->created));
    json_object_set_new(j, "received_ms", json_integer(m->received));

    return j;
}


json_t *
ngx_http_vkstream_json_stream(ngx_http_request_t *r,
    ngx_vkstream_stream_t *st, ngx_flag_t full)
{
    int                            i;
    json_t                        *j, *in, *rs, *vk, *hls, *pl;
    ngx_str_t                      name, *sfx, node, url, *node_url;
    ngx_uint_t                     k;
    vks_rendition_stats_t         *rst, *dup;
    ngx_http_vkstream_loc_conf_t  *vlcf;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_vkstream_module);

    name.data = st->name;
    name.len = st->name_len;

    /* cluster mode: which node has it, and its links there */
    ngx_vkstream_cluster_self(&node, &url);
    node_url = NULL;

    if (st->remote) {
        node.data = st->node;
        node.len = st->node_len;
        url.data = st->node_url;
        url.len = st->node_url_len;
        node_url = &url;
    }

    j = json_object();
    if (j == NULL) {
        return NULL;
    }

    json_object_set_new(j, "id", json_integer(st->id));
    json_object_set_new(j, "app", ngx_http_vkstream_json_str(st->app,
                                                             st->app_len));
    json_object_set_new(j, "name", ngx_http_vkstream_json_str(st->name,
                                                              st->name_len));
    json_object_set_new(j, "state", json_string(st->end ? "ended" : "live"));
    json_object_set_new(j, "publisher", ngx_http_vkstream_json_str(
                        st->addr, st->addr_len));
    json_object_set_new(j, "worker_pid",
                        st->remote ? json_null() : json_integer(st->pid));
    json_object_set_new(j, "node", node.len
                        ? ngx_http_vkstream_json_str(node.data, node.len)
                        : json_null());
    json_object_set_new(j, "node_url", url.len
                        ? ngx_http_vkstream_json_str(url.data, url.len)
                        : json_null());
    json_object_set_new(j, "start_time", json_integer(st->start));
    json_object_set_new(j, "end_time",
                        st->end ? json_integer(st->end) : json_null());
    json_object_set_new(j, "duration", json_integer(
                        (st->end ? st->end : ngx_time()) - st->start));

    if (st->has_stats) {
        in = json_object();
        json_object_set_new(in, "video_codec", ngx_http_vkstream_json_opt(
                            (u_char *) st->stats.vcodec,
                            ngx_strlen(st->stats.vcodec)));
        json_object_set_new(in, "audio_codec", ngx_http_vkstream_json_opt(
                            (u_char *) st->stats.acodec,
                            ngx_strlen(st->stats.acodec)));
        json_object_set_new(in, "width", json_integer(st->stats.width));
        json_object_set_new(in, "height", json_integer(st->stats.height));
        json_object_set_new(in, "fps", json_real(st->stats.fps));
        json_object_set_new(in, "bitrate_kbps",
                            json_real(st->stats.bitrate_kbps));
        json_object_set_new(in, "bytes_in",
                            json_integer(st->stats.bytes_in));
        json_object_set_new(in, "frames_dropped",
                            json_integer(st->stats.frames_dropped));
        json_object_set_new(in, "gops_dropped",
                            json_integer(st->stats.gops_dropped));

    } else {
        in = json_null();
    }

    json_object_set_new(j, "input", in);

    rs = json_array();
    pl = json_object();

    for (i = 0; st->has_stats && i < st->stats.nrenditions; i++) {
        rst = &st->stats.r[i];
        /* only an earlier one: the table may hold what a peer sent */
        dup = (rst->duplicate_of > 0 && rst->duplicate_of <= i)
              ? &st->stats.r[rst->duplicate_of - 1] : NULL;
        json_array_append_new(rs, ngx_http_vkstream_json_rendition(r, st,
                              node_url, &name, rst, dup));
        json_object_set_new(pl, rst->suffix, ngx_http_vkstream_json_hls_url(r,
                            node_url, &name, (u_char *) rst->suffix,
                            ngx_strlen(rst->suffix)));
    }

    json_object_set_new(j, "renditions", rs);

    hls = json_object();

    if (vlcf->variant) {
        sfx = vlcf->variant->elts;

        for (k = 0; k < vlcf->variant->nelts; k++) {
            if (json_object_get(pl, (char *) sfx[k].data) == NULL) {
                json_object_set_new(pl, (char *) sfx[k].data,
                                    ngx_http_vkstream_json_hls_url(r,
                                        node_url, &name, sfx[k].data,
                                        sfx[k].len));
            }
        }

        json_object_set_new(hls, "master",
                            ngx_http_vkstream_json_hls_url(r, node_url,
                                                           &name,
                                                           (u_char *) "", 0));

    } else {
        json_object_set_new(hls, "master", json_null());
    }

    json_object_set_new(hls, "playlists", pl);
    json_object_set_new(j, "hls", hls);
    json_object_set_new(j, "llhls", ngx_http_vkstream_json_llhls(r, st,
                                                                 node_url,
                                                                 &name));

    vk = json_object();
    json_object_set_new(vk, "keywords", ngx_http_vkstream_json_opt(
                        st->keywords, st->keywords_len));
    json_object_set_new(vk, "tag", ngx_http_vkstream_json_str(st->tag,
                                                              st->tag_len));
    json_object_set_new(vk, "rule_state", json_string(
                        ngx_vkstream_rule_state_name(st->rule_state)));
    json_object_set_new(vk, "rule_code", json_integer(st->rule_code));
    json_object_set_new(vk, "rule_error", ngx_http_vkstream_json_opt(
                        st->rule_error, st->rule_error_len));
    json_object_set_new(vk, "matches_total",
                        json_integer(st->matches_total));
    json_object_set_new(vk, "last_match_id",
                        json_integer(st->match_last_id));
    json_object_set_new(j, "vk", vk);

    if (full) {
        json_object_set_new(j, "pending_actions",
                            json_integer(st->nactions));
    }

    return j;
}


json_t *
ngx_http_vkstream_json_rule(ngx_vkstream_grule_t *gr)
{
    json_t  *j;

    j = json_object();
    if (j == NULL) {
        return NULL;
    }

    json_object_set_new(j, "tag", ngx_http_vkstream_json_str(gr->tag,
                                                             gr->tag_len));
    json_object_set_new(j, "value", ngx_http_vkstream_json_str(gr->value,
                                                           gr->value_len));
    json_object_set_new(j, "state", json_string(
                        ngx_vkstream_rule_state_name(gr->state)));
    json_object_set_new(j, "code", json_integer(gr->code));
    json_object_set_new(j, "error", ngx_http_vkstream_json_opt(gr->error,
                                                           gr->error_len));

    return j;
}


static const char *
ngx_http_vkstream_json_cluster_state(ngx_uint_t state)
{
    return state == NGX_VKSTREAM_CLUSTER_CONNECTED ? "connected"
           : state == NGX_VKSTREAM_CLUSTER_DISCONNECTED ? "disconnected"
           : "connecting";
}


/* GET /cluster, and the short form in /status; null when it is off */
json_t *
ngx_http_vkstream_json_cluster(ngx_vkstream_cluster_t *c, ngx_flag_t full)
{
    uint64_t              now;
    json_t               *j, *o, *a;
    ngx_uint_t            i;
    ngx_time_t           *tp;
    ngx_vkstream_node_t  *nd;

    if (!c->enabled) {
        return json_null();
    }

    j = json_object();
    if (j == NULL) {
        return NULL;
    }

    json_object_set_new(j, "enabled", json_true());
    json_object_set_new(j, "node", ngx_http_vkstream_json_str(c->node,
                                                              c->node_len));
    json_object_set_new(j, "state", json_string(
                        ngx_http_vkstream_json_cluster_state(c->state)));
    json_object_set_new(j, "since_ms", json_integer(c->since_ms));
    json_object_set_new(j, "redis", ngx_http_vkstream_json_str(c->redis,
                                                               c->redis_len));

    o = json_object();
    json_object_set_new(o, "holder", ngx_http_vkstream_json_opt(c->holder,
                                                           c->holder_len));
    json_object_set_new(o, "mine", json_boolean(c->mine));
    json_object_set_new(o, "token", c->mine ? json_integer(c->token)
                                            : json_null());
    json_object_set_new(j, "vk", o);

    if (!full) {
        return j;
    }

    json_object_set_new(j, "last_error", ngx_http_vkstream_json_opt(
                        c->last_error, c->last_error_len));

    o = json_object();
    json_object_set_new(o, "heartbeats", json_integer(c->heartbeats));
    json_object_set_new(o, "reconnects", json_integer(c->reconnects));
    json_object_set_new(o, "errors", json_integer(c->errors));
    json_object_set_new(o, "sent", json_integer(c->sent));
    json_object_set_new(o, "received", json_integer(c->received));
    json_object_set_new(o, "dropped", json_integer(c->dropped));
    json_object_set_new(o, "invalid", json_integer(c->invalid));
    json_object_set_new(o, "lease_acquisitions",
                        json_integer(c->acquisitions));
    json_object_set_new(o, "lease_losses", json_integer(c->losses));
    json_object_set_new(j, "counters", o);

    tp = ngx_timeofday();
    now = (uint64_t) tp->sec * 1000 + tp->msec;

    a = json_array();

    for (i = 0; i < c->nnodes; i++) {
        nd = &c->nodes[i];

        o = json_object();
        json_object_set_new(o, "name", ngx_http_vkstream_json_str(nd->name,
                                                              nd->name_len));
        json_object_set_new(o, "url", ngx_http_vkstream_json_opt(nd->url,
                                                             nd->url_len));
        json_object_set_new(o, "self", json_boolean(nd->self));
        json_object_set_new(o, "version", ngx_http_vkstream_json_opt(
                            nd->version, nd->version_len));
        json_object_set_new(o, "live", json_integer(nd->live));
        json_object_set_new(o, "transcodes", json_integer(nd->transcodes));
        json_object_set_new(o, "max_transcodes",
                            json_integer(nd->max_transcodes));
        json_object_set_new(o, "cpu_busy", json_real(nd->cpu_busy));
        json_object_set_new(o, "heartbeat_ms",
                            json_integer(nd->heartbeat_ms));
        json_object_set_new(o, "age_ms", json_integer(
                            now > nd->heartbeat_ms ? now - nd->heartbeat_ms
                                                   : 0));
        json_object_set_new(o, "vk", json_boolean(nd->vk));

        json_array_append_new(a, o);
    }

    json_object_set_new(j, "nodes", a);

    return j;
}


json_t *
ngx_http_vkstream_json_status(ngx_vkstream_summary_t *sum)
{
    json_t  *j, *o;

    j = json_object();
    if (j == NULL) {
        return NULL;
    }

    json_object_set_new(j, "version", json_string(NGX_VKSTREAM_VERSION));
    json_object_set_new(j, "pid", json_integer(ngx_pid));
    json_object_set_new(j, "publishes", json_integer(sum->publishes));
    json_object_set_new(j, "closes", json_integer(sum->closes));

    o = json_object();
    json_object_set_new(o, "live", json_integer(sum->streams_live));
    json_object_set_new(o, "ended", json_integer(sum->streams_ended));
    json_object_set_new(o, "not_recorded", json_integer(sum->not_recorded));
    json_object_set_new(o, "remote", json_integer(sum->streams_remote));
    json_object_set_new(j, "streams", o);

    o = json_object();
    json_object_set_new(o, "size", json_integer(sum->zone_size));
    json_object_set_new(o, "used",
                        json_integer(sum->zone_size - sum->zone_free));
    json_object_set_new(o, "free", json_integer(sum->zone_free));
    json_object_set_new(o, "matches_per_stream",
                        json_integer(sum->matches_per_stream));
    json_object_set_new(j, "zone", o);

    o = json_object();
    json_object_set_new(o, "last_id", json_integer(sum->event_seq));
    json_object_set_new(o, "backlog", json_integer(NGX_VKSTREAM_EVENTS));
    json_object_set_new(o, "subscribers",
                        json_integer(sum->sse.subscribers));
    json_object_set_new(o, "blocked", json_integer(sum->sse.blocked));
    json_object_set_new(o, "wakeups", json_integer(sum->sse.wakeups));
    json_object_set_new(o, "timer_wakeups",
                        json_integer(sum->sse.timer_wakeups));
    json_object_set_new(o, "wake_messages", json_integer(sum->sse.sent));
    json_object_set_new(j, "events", o);

    o = json_object();
    json_object_set_new(o, "state", json_string(
                        ngx_vkstream_vk_state_name(sum->vk.state)));
    json_object_set_new(o, "since", sum->vk.since
                        ? json_integer(sum->vk.since) : json_null());
    json_object_set_new(o, "endpoint", ngx_http_vkstream_json_opt(
                        sum->vk.endpoint, sum->vk.endpoint_len));
    json_object_set_new(o, "received", json_integer(sum->vk.received));
    json_object_set_new(o, "stored", json_integer(sum->vk.stored));
    json_object_set_new(o, "dropped", json_integer(sum->vk.dropped));
    json_object_set_new(o, "malformed", json_integer(sum->vk.malformed));
    json_object_set_new(o, "reconnects", json_integer(sum->vk.reconnects));
    json_object_set_new(o, "service_code",
                        json_integer(sum->vk.service_code));
    json_object_set_new(o, "service_message", ngx_http_vkstream_json_opt(
                        sum->vk.service_message,
                        sum->vk.service_message_len));
    json_object_set_new(o, "last_error", ngx_http_vkstream_json_opt(
                        sum->vk.last_error, sum->vk.last_error_len));
    json_object_set_new(o, "rules", json_integer(sum->nrules));
    json_object_set_new(o, "rules_generation",
                        json_integer(sum->rules_generation));
    json_object_set_new(o, "global_matches",
                        json_integer(sum->global_matches));
    json_object_set_new(j, "vk", o);

    return j;
}


json_t *
ngx_http_vkstream_json_event(ngx_vkstream_event_t *ev)
{
    json_t  *j, *s;

    j = json_object();
    if (j == NULL) {
        return NULL;
    }

    json_object_set_new(j, "id", json_integer(ev->seq));
    json_object_set_new(j, "type", json_string(
                        ngx_vkstream_event_name(ev->type)));
    json_object_set_new(j, "time", json_integer(ev->time));

    if (ev->stream_id) {
        s = json_object();
        json_object_set_new(s, "id", json_integer(ev->stream_id));
        json_object_set_new(s, "app", ngx_http_vkstream_json_str(ev->app,
                                                             ev->app_len));
        json_object_set_new(s, "name", ngx_http_vkstream_json_str(ev->name,
                                                            ev->name_len));
        json_object_set_new(j, "stream", s);
    }

    switch (ev->type) {

    case NGX_VKSTREAM_EV_RENDITION:
        json_object_set_new(j, "suffix", ngx_http_vkstream_json_str(
                            ev->suffix, ev->suffix_len));
        json_object_set_new(j, "state", json_string(
                            ngx_vkstream_rendition_state_name(ev->state)));
        break;

    case NGX_VKSTREAM_EV_MATCH:
        json_object_set_new(j, "tag", ngx_http_vkstream_json_str(
                            ev->suffix, ev->suffix_len));
        json_object_set_new(j, "match_id", json_integer(ev->match_id));
        break;

    case NGX_VKSTREAM_EV_KEYWORDS:
        json_object_set_new(j, "rule_state", json_string(
                            ngx_vkstream_rule_state_name(ev->state)));
        break;

    case NGX_VKSTREAM_EV_RULES:
        json_object_set_new(j, "tag", ngx_http_vkstream_json_str(
                            ev->suffix, ev->suffix_len));
        json_object_set_new(j, "state", json_string(
                            ngx_vkstream_rule_state_name(ev->state)));
        break;
    }

    return j;
}
