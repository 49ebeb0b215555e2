
/*
 * vkstream HTTP API: GET /metrics in the Prometheus text format (0.0.4).
 */


#include "ngx_http_vkstream.h"
#include "util/vks_utf8.h"


/* per rendition: app, name, suffix escaped, plus the numbers */
#define NGX_HTTP_VKSTREAM_LABELS_LEN                                          \
    (2 * 3 * (NGX_VKSTREAM_APP_LEN + NGX_VKSTREAM_NAME_LEN + VKS_SUFFIX_LEN)  \
     + 64)


/* labels are app, name and suffix: the name is the longest */
#define NGX_HTTP_VKSTREAM_LABEL_MAX  NGX_VKSTREAM_NAME_LEN

_Static_assert(NGX_VKSTREAM_APP_LEN <= NGX_HTTP_VKSTREAM_LABEL_MAX
               && VKS_SUFFIX_LEN <= NGX_HTTP_VKSTREAM_LABEL_MAX,
               "a label longer than the name");


/* a label value: UTF-8, with \, " and newline escaped */
static u_char *
ngx_http_vkstream_metrics_label(u_char *p, u_char *data, size_t len)
{
    u_char   buf[VKS_UTF8_REPAIR_SIZE(NGX_HTTP_VKSTREAM_LABEL_MAX)];
    u_char  *s, *last;

    /* table copies are clamped already: a small buffer needs no malloc */
    len = ngx_min(len, NGX_HTTP_VKSTREAM_LABEL_MAX);

    last = buf + vks_utf8_repair((char *) buf, (const char *) data, len);

    for (s = buf; s < last; s++) {
        switch (*s) {

        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = *s;
            break;

        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;

        default:
            *p++ = *s;
        }
    }

    return p;
}


/* {app="",name="" without the closing brace */
static u_char *
ngx_http_vkstream_metrics_stream_labels(u_char *p, ngx_vkstream_stream_t *st)
{
    p = ngx_cpymem(p, "{app=\"", 6);
    p = ngx_http_vkstream_metrics_label(p, st->app, st->app_len);
    p = ngx_cpymem(p, "\",name=\"", 8);
    p = ngx_http_vkstream_metrics_label(p, st->name, st->name_len);

    return ngx_cpymem(p, "\"", 1);
}


static u_char *
ngx_http_vkstream_metrics_rendition_labels(u_char *p, ngx_vkstream_stream_t *st,
    vks_rendition_stats_t *rs)
{
    p = ngx_http_vkstream_metrics_stream_labels(p, st);
    p = ngx_cpymem(p, ",suffix=\"", 9);
    p = ngx_http_vkstream_metrics_label(p, (u_char *) rs->suffix,
                                        ngx_strlen(rs->suffix));
    p = ngx_cpymem(p, "\"}", 2);

    return p;
}


typedef enum {
    ngx_http_vkstream_m_encoded = 0,
    ngx_http_vkstream_m_dropped,
    ngx_http_vkstream_m_bytes,
    ngx_http_vkstream_m_speed,
    ngx_http_vkstream_m_fps,
    ngx_http_vkstream_m_bitrate,
    ngx_http_vkstream_m_last
} ngx_http_vkstream_metric_e;


static const char  *ngx_http_vkstream_rmetrics[] = {
    "# HELP vkstream_rendition_frames_encoded_total Video frames encoded.\n"
    "# TYPE vkstream_rendition_frames_encoded_total counter\n",
    "# HELP vkstream_rendition_frames_dropped_total Video frames dropped.\n"
    "# TYPE vkstream_rendition_frames_dropped_total counter\n",
    "# HELP vkstream_rendition_output_bytes_total Bytes published.\n"
    "# TYPE vkstream_rendition_output_bytes_total counter\n",
    "# HELP vkstream_rendition_encode_speed_ratio Encode rate / source "
    "frame rate (1: real time).\n"
    "# TYPE vkstream_rendition_encode_speed_ratio gauge\n",
    "# HELP vkstream_rendition_encode_frames_per_second Recent encode "
    "rate.\n"
    "# TYPE vkstream_rendition_encode_frames_per_second gauge\n",
    "# HELP vkstream_rendition_output_bytes_per_second Recent output "
    "bitrate.\n"
    "# TYPE vkstream_rendition_output_bytes_per_second gauge\n"
};

/* base units in the names (promtool's lint): bytes, not kbit/s; no fps */
static const char  *ngx_http_vkstream_rnames[] = {
    "vkstream_rendition_frames_encoded_total",
    "vkstream_rendition_frames_dropped_total",
    "vkstream_rendition_output_bytes_total",
    "vkstream_rendition_encode_speed_ratio",
    "vkstream_rendition_encode_frames_per_second",
    "vkstream_rendition_output_bytes_per_second"
};


ngx_int_t
ngx_http_vkstream_metrics(ngx_http_request_t *r)
{
    int                      k;
    ngx_vkstream_cluster_t  *cl;
    u_char                  *p;
    size_t                   len;
    ngx_buf_t               *b;
    ngx_str_t                type = ngx_string("text/plain; version=0.0.4; "
                                               "charset=utf-8");
    ngx_uint_t               i, m, nrend, ninput, nstream_rules;
    ngx_uint_t               by_state[4];
    ngx_chain_t              out;
    ngx_array_t              streams;
    ngx_vkstream_stream_t   *st;
    ngx_vkstream_summary_t   sum;
    vks_rendition_stats_t   *rs;

    if (ngx_vkstream_table_streams(r->pool, &streams) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_vkstream_table_summary(&sum);

    st = streams.elts;

    /* this node's streams only: each node exports its own */
    for (i = 0, k = 0; i < streams.nelts; i++) {
        if (!st[i].remote) {
            st[k++] = st[i];
        }
    }

    streams.nelts = k;

    nrend = 0;
    ninput = 0;
    nstream_rules = 0;
    ngx_memzero(by_state, sizeof(by_state));

    for (i = 0; i < streams.nelts; i++) {
        if (st[i].end == 0 && st[i].keywords_len) {
            nstream_rules++;
        }

        if (!st[i].has_stats || st[i].end) {
            continue;
        }

        ninput++;

        for (k = 0; k < st[i].stats.nrenditions; k++) {
            nrend++;

            if ((ngx_uint_t) st[i].stats.r[k].state < 4) {
                by_state[st[i].stats.r[k].state]++;
            }
        }
    }

    len = 13312 + (nrend * ngx_http_vkstream_m_last + ninput * 2)
                 * (NGX_HTTP_VKSTREAM_LABELS_LEN + 64 + NGX_INT64_LEN);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;

    p = ngx_sprintf(p,
            "# HELP vkstream_streams Streams in the table.\n"
            "# TYPE vkstream_streams gauge\n"
            "vkstream_streams{state=\"live\"} %ui\n"
            "vkstream_streams{state=\"ended\"} %ui\n"
            "# HELP vkstream_publishes_total Publishes seen.\n"
            "# TYPE vkstream_publishes_total counter\n"
            "vkstream_publishes_total %uL\n"
            "# HELP vkstream_streams_not_recorded_total Publishes the full "
            "table could not record.\n"
            "# TYPE vkstream_streams_not_recorded_total counter\n"
            "vkstream_streams_not_recorded_total %uL\n"
            "# HELP vkstream_renditions Renditions of live streams.\n"
            "# TYPE vkstream_renditions gauge\n"
            "vkstream_renditions{state=\"starting\"} %ui\n"
            "vkstream_renditions{state=\"running\"} %ui\n"
            "vkstream_renditions{state=\"failed\"} %ui\n"
            "vkstream_renditions{state=\"stopped\"} %ui\n",
            sum.streams_live, sum.streams_ended, sum.publishes,
            sum.not_recorded, by_state[0], by_state[1], by_state[2],
            by_state[3]);

    for (m = 0; m < ngx_http_vkstream_m_last && nrend; m++) {
        p = ngx_cpymem(p, ngx_http_vkstream_rmetrics[m],
                       ngx_strlen(ngx_http_vkstream_rmetrics[m]));

        for (i = 0; i < streams.nelts; i++) {
            if (!st[i].has_stats || st[i].end) {
                continue;
            }

            for (k = 0; k < st[i].stats.nrenditions; k++) {
                rs = &st[i].stats.r[k];

                p = ngx_sprintf(p, "%s", ngx_http_vkstream_rnames[m]);
                p = ngx_http_vkstream_metrics_rendition_labels(p, &st[i], rs);

                switch (m) {
                case ngx_http_vkstream_m_encoded:
                    p = ngx_sprintf(p, " %uL\n", rs->frames_out);
                    break;
                case ngx_http_vkstream_m_dropped:
                    p = ngx_sprintf(p, " %uL\n", rs->frames_dropped);
                    break;
                case ngx_http_vkstream_m_bytes:
                    p = ngx_sprintf(p, " %uL\n", rs->bytes_out);
                    break;
                case ngx_http_vkstream_m_speed:
                    p = ngx_sprintf(p, " %.3f\n", rs->speed);
                    break;
                case ngx_http_vkstream_m_fps:
                    p = ngx_sprintf(p, " %.3f\n", rs->encode_fps);
                    break;
                default:
                    p = ngx_sprintf(p, " %.0f\n", rs->bitrate_kbps * 125);
                }
            }
        }
    }

    for (m = 0; m < 2 && ninput; m++) {
        p = ngx_sprintf(p, m == 0
            ? "# HELP vkstream_input_frames_dropped_total Source video "
              "frames not transcoded: shed while behind, or still queued "
              "at the end.\n"
              "# TYPE vkstream_input_frames_dropped_total counter\n"
            : "# HELP vkstream_input_gops_dropped_total Source GOPs those "
              "drops touched.\n"
              "# TYPE vkstream_input_gops_dropped_total counter\n");

        for (i = 0; i < streams.nelts; i++) {
            if (!st[i].has_stats || st[i].end) {
                continue;
            }

            p = ngx_sprintf(p, m == 0 ? "vkstream_input_frames_dropped_total"
                                      : "vkstream_input_gops_dropped_total");
            p = ngx_http_vkstream_metrics_stream_labels(p, &st[i]);
            p = ngx_sprintf(p, "} %uL\n", m == 0 ? st[i].stats.frames_dropped
                                                : st[i].stats.gops_dropped);
        }
    }

    p = ngx_sprintf(p,
            "# HELP vkstream_vk_connection_state VK streaming connection "
            "state (1 for the current one).\n"
            "# TYPE vkstream_vk_connection_state gauge\n");

    for (i = NGX_VKSTREAM_VK_OFF; i <= NGX_VKSTREAM_VK_ERROR; i++) {
        p = ngx_sprintf(p, "vkstream_vk_connection_state{state=\"%s\"} %d\n",
                        ngx_vkstream_vk_state_name(i), sum.vk.state == i);
    }

    p = ngx_sprintf(p,
            "# HELP vkstream_vk_events_total VK events by outcome.\n"
            "# TYPE vkstream_vk_events_total counter\n"
            "vkstream_vk_events_total{outcome=\"received\"} %uL\n"
            "vkstream_vk_events_total{outcome=\"stored\"} %uL\n"
            "vkstream_vk_events_total{outcome=\"dropped\"} %uL\n"
            "vkstream_vk_events_total{outcome=\"malformed\"} %uL\n"
            "# HELP vkstream_vk_reconnects_total VK reconnections.\n"
            "# TYPE vkstream_vk_reconnects_total counter\n"
            "vkstream_vk_reconnects_total %uL\n"
            "# HELP vkstream_vk_rules Desired VK rules.\n"
            "# TYPE vkstream_vk_rules gauge\n"
            "vkstream_vk_rules{kind=\"global\"} %ui\n"
            "vkstream_vk_rules{kind=\"stream\"} %ui\n"
            "# HELP vkstream_events_total API events (SSE ids) so far.\n"
            "# TYPE vkstream_events_total counter\n"
            "vkstream_events_total %uL\n"
            "# HELP vkstream_sse_subscribers Open /events streams, all "
            "workers.\n"
            "# TYPE vkstream_sse_subscribers gauge\n"
            "vkstream_sse_subscribers %uL\n"
            "# HELP vkstream_sse_blocked Of those, the ones whose socket "
            "takes no more for now.\n"
            "# TYPE vkstream_sse_blocked gauge\n"
            "vkstream_sse_blocked %uL\n"
            "# HELP vkstream_sse_wakeups_total Looks of a worker at new "
            "events for its subscribers, by cause.\n"
            "# TYPE vkstream_sse_wakeups_total counter\n"
            "vkstream_sse_wakeups_total{cause=\"event\"} %uL\n"
            "vkstream_sse_wakeups_total{cause=\"timer\"} %uL\n"
            "# HELP vkstream_sse_wake_messages_total Wake-ups sent to "
            "another worker.\n"
            "# TYPE vkstream_sse_wake_messages_total counter\n"
            "vkstream_sse_wake_messages_total %uL\n"
            "# HELP vkstream_zone_bytes Stream table zone.\n"
            "# TYPE vkstream_zone_bytes gauge\n"
            "vkstream_zone_bytes{kind=\"size\"} %uz\n"
            "vkstream_zone_bytes{kind=\"used\"} %uz\n"
            "vkstream_zone_bytes{kind=\"free\"} %uz\n",
            sum.vk.received, sum.vk.stored, sum.vk.dropped, sum.vk.malformed,
            sum.vk.reconnects, sum.nrules, nstream_rules, sum.event_seq,
            sum.sse.subscribers, sum.sse.blocked, sum.sse.wakeups,
            sum.sse.timer_wakeups, sum.sse.sent, sum.zone_size,
            sum.zone_size - sum.zone_free, sum.zone_free);

    cl = ngx_palloc(r->pool, sizeof(ngx_vkstream_cluster_t));

    if (cl != NULL && ngx_vkstream_table_cluster(cl) == NGX_OK
        && cl->enabled)
    {
        p = ngx_sprintf(p,
                "# HELP vkstream_cluster_up Connected to the cluster's "
                "Redis.\n"
                "# TYPE vkstream_cluster_up gauge\n"
                "vkstream_cluster_up %d\n"
                "# HELP vkstream_cluster_vk_lease This node holds the VK "
                "lease.\n"
                "# TYPE vkstream_cluster_vk_lease gauge\n"
                "vkstream_cluster_vk_lease %d\n"
                "# HELP vkstream_cluster_nodes Live nodes seen, this one "
                "included.\n"
                "# TYPE vkstream_cluster_nodes gauge\n"
                "vkstream_cluster_nodes %ui\n"
                "# HELP vkstream_cluster_streams_remote Live streams of "
                "the other nodes.\n"
                "# TYPE vkstream_cluster_streams_remote gauge\n"
                "vkstream_cluster_streams_remote %ui\n"
                "# HELP vkstream_cluster_events_total Entries of the "
                "cluster's events stream.\n"
                "# TYPE vkstream_cluster_events_total counter\n"
                "vkstream_cluster_events_total{direction=\"sent\"} %uL\n"
                "vkstream_cluster_events_total{direction=\"received\"} "
                "%uL\n"
                "vkstream_cluster_events_total{direction=\"dropped\"} "
                "%uL\n"
                "# HELP vkstream_cluster_reconnects_total Redis "
                "reconnections.\n"
                "# TYPE vkstream_cluster_reconnects_total counter\n"
                "vkstream_cluster_reconnects_total %uL\n",
                cl->state == NGX_VKSTREAM_CLUSTER_CONNECTED, cl->mine,
                cl->nnodes, sum.streams_remote, cl->sent, cl->received,
                cl->dropped, cl->reconnects);
    }

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_vkstream_send(r, NGX_HTTP_OK, &type, &out, p - b->pos);
}
