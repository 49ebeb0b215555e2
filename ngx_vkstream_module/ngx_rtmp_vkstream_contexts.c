
/*
 * vkstream RTMP glue: the worker's registry of transcoding contexts.  The
 * hooks (ngx_rtmp_vkstream_module.c) start, feed and stop a context; the
 * registry keeps it until its threads have drained and ended, reports its
 * statistics to the stream table, carries out control actions, and on a
 * reload or quit ends the transcodes so the worker can go.
 *
 * Only the event loop runs this file's code and touches nginx objects; the
 * context runs on its own threads (media/vks_transcoder.c), which queue
 * their log lines (media/vks_logq.c) and report their end through the
 * worker's notifier (ngx_vkstream_notify.c); the event loop then writes the
 * lines and reaps the context.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_rtmp.h>
#include <ngx_rtmp_codec_module.h>
#if (__GLIBC__)
#include <malloc.h>
#endif
#include "ngx_vkstream.h"
#include "ngx_vkstream_notify.h"
#include "ngx_vkstream_table.h"
#include "ngx_rtmp_vkstream.h"
#include "media/vks_logq.h"
#include "media/vks_transcoder.h"


#define NGX_RTMP_VKSTREAM_TICK       1000
#define NGX_RTMP_VKSTREAM_EXIT_TICK  50
#define NGX_RTMP_VKSTREAM_EXIT_WAIT  1500
#define NGX_RTMP_VKSTREAM_DROP_LOG   10000
#define NGX_RTMP_VKSTREAM_LOG_LINES  256     /* queued by context threads */


/* Outlives the session: the context may still be flushing after close. */
struct ngx_rtmp_vkstream_stream_s {
    ngx_queue_t               queue;
    ngx_rtmp_session_t       *session;      /* NULL once closed */
    vks_transcoder_t         *transcoder;   /* NULL: not transcoded */
    ngx_str_t                 app;
    ngx_str_t                 name;
    ngx_msec_t                stop_time;
    ngx_uint_t                table_id;
    uint64_t                  drops_logged;
    ngx_msec_t                drops_log_time;
    unsigned                  in_table:1;
    unsigned                  stopping:1;
};


static void ngx_rtmp_vkstream_contexts_log_flush(void);
static ngx_int_t ngx_rtmp_vkstream_contexts_output_host(ngx_rtmp_session_t *s,
    ngx_rtmp_vkstream_app_conf_t *vacf, char *host, size_t size);
static void ngx_rtmp_vkstream_contexts_hints(ngx_rtmp_session_t *s,
    vks_transcoder_conf_t *tc);
static void ngx_rtmp_vkstream_contexts_stream_free(
    ngx_rtmp_vkstream_stream_t *st);
static ngx_rtmp_vkstream_stream_t *ngx_rtmp_vkstream_contexts_stream_create(
    ngx_rtmp_session_t *s, ngx_rtmp_vkstream_ctx_t *ctx);
static vks_transcoder_t *ngx_rtmp_vkstream_contexts_transcoder(
    ngx_rtmp_session_t *s, ngx_rtmp_vkstream_ctx_t *ctx,
    ngx_rtmp_vkstream_stream_t *st);
static void ngx_rtmp_vkstream_contexts_log_drops(
    ngx_rtmp_vkstream_stream_t *st, vks_stream_stats_t *stats);
static void ngx_rtmp_vkstream_contexts_report(ngx_rtmp_vkstream_stream_t *st);
static void ngx_rtmp_vkstream_contexts_reap(void);
static void ngx_rtmp_vkstream_contexts_notify_handler(void);
static void ngx_rtmp_vkstream_contexts_tick_handler(ngx_event_t *ev);


/* per worker */
static ngx_queue_t        ngx_rtmp_vkstream_contexts_streams;
static ngx_uint_t         ngx_rtmp_vkstream_contexts_running;
static ngx_event_t        ngx_rtmp_vkstream_contexts_tick;
static ngx_connection_t   ngx_rtmp_vkstream_contexts_tick_dummy;
static ngx_flag_t         ngx_rtmp_vkstream_contexts_trim;
static ngx_flag_t         ngx_rtmp_vkstream_contexts_logq_ready;

/*
 * Static: threads of a context still ending at exit may push into it
 * until the process is gone.
 */
static vks_logq_t         ngx_rtmp_vkstream_contexts_logq;
static vks_logq_line_t    ngx_rtmp_vkstream_contexts_log_lines[
                              NGX_RTMP_VKSTREAM_LOG_LINES];


/*
 * Writes the lines the context threads queued.  Only the event loop may
 * log: nginx's log writers (syslog's above all) are not thread-safe.
 */
static void
ngx_rtmp_vkstream_contexts_log_flush(void)
{
    int                      level;
    char                     line[VKS_LOGQ_LINE];
    uint64_t                 dropped;
    ngx_uint_t               n;
    static const ngx_uint_t  levels[] = {
        NGX_LOG_ERR, NGX_LOG_WARN, NGX_LOG_INFO, NGX_LOG_DEBUG
    };

    if (!ngx_rtmp_vkstream_contexts_logq_ready) {
        return;
    }

    /* a queue's worth per call: a chatty thread cannot hold the loop */
    for (n = 0; n < NGX_RTMP_VKSTREAM_LOG_LINES; n++) {
        if (!vks_logq_take(&ngx_rtmp_vkstream_contexts_logq, &level, line,
                           sizeof(line)))
        {
            break;
        }

        ngx_log_error(levels[level & 3], ngx_cycle->log, 0, "%s", line);
    }

    if (n == NGX_RTMP_VKSTREAM_LOG_LINES) {
        /* the rest on the next iteration: no wake-up comes for them */
        ngx_vkstream_notify(NULL);
    }

    dropped = vks_logq_dropped(&ngx_rtmp_vkstream_contexts_logq);

    if (dropped) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "vkstream: %uL log lines of transcoding threads "
                      "dropped", dropped);
    }
}


static ngx_int_t
ngx_rtmp_vkstream_contexts_output_host(ngx_rtmp_session_t *s,
    ngx_rtmp_vkstream_app_conf_t *vacf, char *host, size_t size)
{
    u_char  *p;

    if (vacf->output.len) {
        p = ngx_cpymem(host, vacf->output.data,
                       ngx_min(vacf->output.len, size - 1));
        *p = '\0';
        return NGX_OK;
    }

    /* where the publisher reached us is an RTMP listener of ours */
    if (ngx_connection_local_sockaddr(s->connection, NULL, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    p = (u_char *) host;
    p += ngx_sock_ntop(s->connection->local_sockaddr,
                       s->connection->local_socklen, p, size - 1, 1);
    *p = '\0';

    return NGX_OK;
}


static void
ngx_rtmp_vkstream_contexts_hints(ngx_rtmp_session_t *s,
    vks_transcoder_conf_t *tc)
{
    ngx_rtmp_codec_ctx_t  *codec;

    tc->hint_video = VKS_HINT_UNKNOWN;
    tc->hint_audio = VKS_HINT_UNKNOWN;
    tc->hint_fps = 0;

    codec = ngx_rtmp_get_module_ctx(s, ngx_rtmp_codec_module);
    if (codec == NULL || codec->meta == NULL) {
        return;
    }

    /* onMetaData says which tracks to expect: no waiting for the other */
    tc->hint_video = codec->video_codec_id != 0;
    tc->hint_audio = codec->audio_codec_id != 0;

    if (codec->frame_rate > 0 && codec->frame_rate <= 120) {
        tc->hint_fps = (double) codec->frame_rate;
    }
}


ngx_int_t
ngx_rtmp_vkstream_contexts_push(ngx_rtmp_vkstream_stream_t *st, int type,
    uint32_t ts, ngx_chain_t *in)
{
    int            n, rc;
    ngx_chain_t   *cl;
    struct iovec  *iov, iovs[NGX_IOVS_PREALLOCATE];

    if (st->transcoder == NULL) {
        return NGX_OK;
    }

    n = 0;
    for (cl = in; cl; cl = cl->next) {
        n++;
    }

    if (n == 0) {
        return NGX_OK;
    }

    /* a big keyframe in small RTMP chunks has many buffers */
    iov = iovs;
    if (n > NGX_IOVS_PREALLOCATE) {
        iov = ngx_alloc(n * sizeof(struct iovec), ngx_cycle->log);
        if (iov == NULL) {
            return NGX_ERROR;
        }
    }

    n = 0;
    for (cl = in; cl; cl = cl->next) {
        iov[n].iov_base = cl->buf->pos;
        iov[n].iov_len = cl->buf->last - cl->buf->pos;
        n++;
    }

    /* the context copies the buffers once, into its queue */
    rc = vks_transcoder_pushv(st->transcoder, type, ts, iov, n);

    if (iov != iovs) {
        ngx_free(iov);
    }

    return rc < 0 ? NGX_ERROR : NGX_OK;
}


static void
ngx_rtmp_vkstream_contexts_stream_free(ngx_rtmp_vkstream_stream_t *st)
{
    ngx_queue_remove(&st->queue);

    if (st->transcoder) {
        vks_transcoder_free(st->transcoder);

        /* joined: its threads' last lines are queued, written now */
        ngx_rtmp_vkstream_contexts_log_flush();
    }

    ngx_free(st);
}


static ngx_rtmp_vkstream_stream_t *
ngx_rtmp_vkstream_contexts_stream_create(ngx_rtmp_session_t *s,
    ngx_rtmp_vkstream_ctx_t *ctx)
{
    size_t                          n;
    ngx_rtmp_vkstream_stream_t     *st;
    ngx_rtmp_vkstream_app_conf_t   *vacf;

    vacf = ngx_rtmp_get_module_app_conf(s, ngx_rtmp_vkstream_module);
    n = ngx_strlen(ctx->name);

    st = ngx_calloc(sizeof(ngx_rtmp_vkstream_stream_t) + s->app.len + n,
                    s->connection->log);
    if (st == NULL) {
        return NULL;
    }

    st->app.data = (u_char *) &st[1];
    st->app.len = s->app.len;
    ngx_memcpy(st->app.data, s->app.data, s->app.len);
    st->name.data = st->app.data + s->app.len;
    st->name.len = n;
    ngx_memcpy(st->name.data, ctx->name, n);

    st->session = s;

    if (ngx_vkstream_table_publish(&st->app, &st->name,
                                   &s->connection->addr_text, &ctx->keywords,
                                   vacf->llhls, &st->table_id)
        == NGX_OK)
    {
        st->in_table = 1;
    }

    ngx_queue_insert_tail(&ngx_rtmp_vkstream_contexts_streams, &st->queue);

    return st;
}


static vks_transcoder_t *
ngx_rtmp_vkstream_contexts_transcoder(ngx_rtmp_session_t *s,
    ngx_rtmp_vkstream_ctx_t *ctx, ngx_rtmp_vkstream_stream_t *st)
{
    ngx_uint_t                     i;
    vks_transcoder_t              *t;
    ngx_vkstream_conf_t           *vcf;
    vks_rendition_conf_t          *rc;
    vks_transcoder_conf_t         *tc;
    ngx_rtmp_vkstream_app_conf_t  *vacf;

    vacf = ngx_rtmp_get_module_app_conf(s, ngx_rtmp_vkstream_module);
    vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);

    if (vacf->max_transcodes
        && ngx_rtmp_vkstream_contexts_running >= vacf->max_transcodes)
    {
        ngx_log_error(NGX_LOG_WARN, s->connection->log, 0,
                      "vkstream: limit of %ui transcodes per worker reached, "
                      "\"%V/%s\" not transcoded", vacf->max_transcodes,
                      &s->app, ctx->name);
        return NULL;
    }

    if (vacf->max_transcodes_total
        && (!st->in_table
            || ngx_vkstream_table_claim_transcode(st->table_id,
                                                  vacf->max_transcodes_total)
               != NGX_OK))
    {
        ngx_log_error(NGX_LOG_WARN, s->connection->log, 0,
                      "vkstream: limit of %ui transcodes per server reached, "
                      "\"%V/%s\" not transcoded", vacf->max_transcodes_total,
                      &s->app, ctx->name);
        return NULL;
    }

    tc = ngx_calloc(sizeof(vks_transcoder_conf_t), s->connection->log);
    if (tc == NULL) {
        return NULL;
    }

    ngx_cpystrn((u_char *) tc->name, ctx->name, sizeof(tc->name));
    ngx_memcpy(tc->marker, vcf->marker.data,
               ngx_min(vcf->marker.len, sizeof(tc->marker) - 1));

    if (ngx_rtmp_vkstream_contexts_output_host(s, vacf, tc->host,
                                               sizeof(tc->host))
        != NGX_OK)
    {
        ngx_free(tc);
        return NULL;
    }

    rc = vacf->renditions->elts;
    for (i = 0; i < vacf->renditions->nelts; i++) {
        tc->renditions[tc->nrenditions++] = rc[i];
    }

    tc->max_gop_ms = (int) vacf->max_gop;
    tc->queue_bytes = vacf->queue_size;
    tc->max_delay_ms = (int) vacf->max_delay;
    /* an LL-HLS part waits for the batch: keep it well inside a part */
    if (vacf->batch != NGX_CONF_UNSET_MSEC) {
        tc->batch_ms = (int) vacf->batch;

    } else {
        tc->batch_ms = vacf->llhls ? (int) vacf->llhls_part_target / 5
                                   : NGX_RTMP_VKSTREAM_BATCH;
    }
    tc->nice = (int) vacf->nice;
    tc->sched = (int) vacf->sched;

    if (vacf->llhls) {
        ngx_cpystrn((u_char *) tc->llhls_path, vacf->llhls_path.data,
                    ngx_min(vacf->llhls_path.len + 1,
                            sizeof(tc->llhls_path)));
        tc->llhls_part_target_ms = (unsigned) vacf->llhls_part_target;
        tc->llhls_window = (unsigned) vacf->llhls_window;
    }

    if (vacf->hls_master.len) {
        ngx_cpystrn((u_char *) tc->hls_master_path, vacf->hls_master.data,
                    ngx_min(vacf->hls_master.len + 1,
                            sizeof(tc->hls_master_path)));
    }
    /* the context's threads only queue lines and wake the event loop */
    tc->ended = ngx_vkstream_notify;
    tc->log = vks_logq_log;
    tc->log_data = &ngx_rtmp_vkstream_contexts_logq;

    ngx_rtmp_vkstream_contexts_hints(s, tc);

    t = vks_transcoder_start(tc);
    ngx_free(tc);

    if (t == NULL) {
        ngx_log_error(NGX_LOG_ERR, s->connection->log, 0,
                      "vkstream: cannot start transcoding \"%V/%s\"",
                      &s->app, ctx->name);
    }

    return t;
}


ngx_int_t
ngx_rtmp_vkstream_contexts_start(ngx_rtmp_session_t *s,
    ngx_rtmp_vkstream_ctx_t *ctx, uint32_t ts)
{
    ngx_vkstream_conf_t         *vcf;
    ngx_rtmp_codec_ctx_t        *codec;
    ngx_rtmp_vkstream_stream_t  *st;

    vcf = ngx_vkstream_get_conf((ngx_cycle_t *) ngx_cycle);
    vcf->publishes++;

    ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                  "vkstream: publish \"%V/%s\"", &s->app, ctx->name);

    st = ngx_rtmp_vkstream_contexts_stream_create(s, ctx);
    if (st == NULL) {
        return NGX_ERROR;
    }

    ctx->stream = st;

    /* an untranscoded stream is still listed, with no renditions */
    st->transcoder = ngx_rtmp_vkstream_contexts_transcoder(s, ctx, st);
    if (st->transcoder == NULL) {
        return NGX_OK;
    }

    ngx_rtmp_vkstream_contexts_running++;

    /* headers that arrived before the publish was accepted */
    codec = ngx_rtmp_get_module_ctx(s, ngx_rtmp_codec_module);
    if (codec) {
        if (codec->avc_header) {
            ngx_rtmp_vkstream_contexts_push(st, VKS_PACKET_VIDEO, ts,
                                            codec->avc_header);
        }

        if (codec->aac_header) {
            ngx_rtmp_vkstream_contexts_push(st, VKS_PACKET_AUDIO, ts,
                                            codec->aac_header);
        }
    }

    return NGX_OK;
}


/*
 * Drops are counted in the table; the log says when a stream starts to
 * fall behind, then at most every 10 s, and what its end still dropped.
 */
static void
ngx_rtmp_vkstream_contexts_log_drops(ngx_rtmp_vkstream_stream_t *st,
    vks_stream_stats_t *stats)
{
    int       i;
    uint64_t  frames;

    frames = stats->frames_dropped;

    for (i = 0; i < ngx_min(stats->nrenditions, VKS_MAX_RENDITIONS); i++) {
        frames += stats->r[i].frames_dropped;
    }

    if (frames <= st->drops_logged) {
        return;
    }

    if (st->drops_log_time
        && ngx_current_msec - st->drops_log_time < NGX_RTMP_VKSTREAM_DROP_LOG
        && !vks_transcoder_ended(st->transcoder))
    {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "vkstream: \"%V/%V\" falls behind: %uL frames dropped "
                  "(%uL in all; %uL before decoding, in %uL GOPs)",
                  &st->app, &st->name, frames - st->drops_logged, frames,
                  stats->frames_dropped, stats->gops_dropped);

    st->drops_logged = frames;
    st->drops_log_time = ngx_current_msec;
}


static void
ngx_rtmp_vkstream_contexts_report(ngx_rtmp_vkstream_stream_t *st)
{
    vks_stream_stats_t  stats;

    if (st->transcoder) {
        vks_transcoder_stats(st->transcoder, &stats);
        ngx_rtmp_vkstream_contexts_log_drops(st, &stats);

    } else {
        ngx_memzero(&stats, sizeof(vks_stream_stats_t));
    }

    if (st->in_table) {
        ngx_vkstream_table_update(st->table_id, &stats);
    }
}


void
ngx_rtmp_vkstream_contexts_stop(ngx_rtmp_vkstream_stream_t *st)
{
    if (st->stopping) {
        return;
    }

    st->stopping = 1;
    st->session = NULL;
    st->stop_time = ngx_current_msec;

    if (st->transcoder) {
        ngx_rtmp_vkstream_contexts_running--;
        /* a publish that ends is finished; a worker that exits hurries */
        vks_transcoder_stop(st->transcoder,
                            !(ngx_exiting || ngx_quit || ngx_terminate));
    }

    /*
     * The entry ends now; its statistics follow the renditions' flush
     * until the context is reaped, so the final counts add up.
     */
    if (st->in_table) {
        ngx_rtmp_vkstream_contexts_report(st);
        ngx_vkstream_table_close(st->table_id);
    }
}


static void
ngx_rtmp_vkstream_contexts_reap(void)
{
    ngx_queue_t                 *q, *next;
    ngx_rtmp_vkstream_stream_t  *st;

    for (q = ngx_queue_head(&ngx_rtmp_vkstream_contexts_streams);
         q != ngx_queue_sentinel(&ngx_rtmp_vkstream_contexts_streams);
         q = next)
    {
        next = ngx_queue_next(q);
        st = ngx_queue_data(q, ngx_rtmp_vkstream_stream_t, queue);

        if (st->stopping && (st->transcoder == NULL
                             || vks_transcoder_ended(st->transcoder)))
        {
            ngx_log_debug2(NGX_LOG_DEBUG_RTMP, ngx_cycle->log, 0,
                           "vkstream: context \"%V/%V\" reaped",
                           &st->app, &st->name);
            ngx_rtmp_vkstream_contexts_report(st);
            ngx_rtmp_vkstream_contexts_stream_free(st);
            ngx_rtmp_vkstream_contexts_trim = 1;
        }
    }
}


static void
ngx_rtmp_vkstream_contexts_notify_handler(void)
{
    ngx_rtmp_vkstream_contexts_log_flush();
    ngx_rtmp_vkstream_contexts_reap();
}


static void
ngx_rtmp_vkstream_contexts_tick_handler(ngx_event_t *ev)
{
    ngx_queue_t                 *q, *next;
    ngx_rtmp_vkstream_stream_t  *st;

    /* in case a wake-up was lost */
    ngx_rtmp_vkstream_contexts_log_flush();
    ngx_rtmp_vkstream_contexts_reap();

#if (__GLIBC__)
    if (ngx_rtmp_vkstream_contexts_trim) {
        /*
         * The codecs' frame buffers were freed in the context threads'
         * malloc arenas, which glibc keeps mapped: a 1080p context would
         * leave tens of MB in the worker after it ended.  Once a second
         * at most, and only after a context went away.
         */
        malloc_trim(0);
        ngx_rtmp_vkstream_contexts_trim = 0;
    }
#endif

    for (q = ngx_queue_head(&ngx_rtmp_vkstream_contexts_streams);
         q != ngx_queue_sentinel(&ngx_rtmp_vkstream_contexts_streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_rtmp_vkstream_stream_t, queue);
        ngx_rtmp_vkstream_contexts_report(st);
    }

    if (ngx_exiting) {
        /*
         * Reload or graceful stop: nginx-rtmp keeps publishers on the old
         * worker for ever.  End the transcodes and let publishers
         * reconnect to the new workers, or this worker never exits.
         */
        for (q = ngx_queue_head(&ngx_rtmp_vkstream_contexts_streams);
             q != ngx_queue_sentinel(&ngx_rtmp_vkstream_contexts_streams);
             q = next)
        {
            next = ngx_queue_next(q);
            st = ngx_queue_data(q, ngx_rtmp_vkstream_stream_t, queue);

            if (st->session) {
                ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                              "vkstream: worker exiting, closing \"%V/%V\"",
                              &st->app, &st->name);
                ngx_rtmp_finalize_session(st->session);
                ngx_rtmp_vkstream_contexts_stop(st);
            }
        }
    }

    if (ngx_exiting && ngx_queue_empty(&ngx_rtmp_vkstream_contexts_streams)) {
        return;
    }

    /* while contexts flush on exit, this timer keeps the worker alive */
    ev->cancelable = !ngx_exiting;
    ngx_add_timer(ev, ngx_exiting ? NGX_RTMP_VKSTREAM_EXIT_TICK
                                  : NGX_RTMP_VKSTREAM_TICK);
}


void
ngx_rtmp_vkstream_contexts_action(ngx_uint_t id, ngx_uint_t action,
    ngx_str_t *suffix)
{
    u_char                       name[VKS_SUFFIX_LEN];
    ngx_queue_t                 *q;
    ngx_rtmp_vkstream_stream_t  *st;

    for (q = ngx_queue_head(&ngx_rtmp_vkstream_contexts_streams);
         q != ngx_queue_sentinel(&ngx_rtmp_vkstream_contexts_streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_rtmp_vkstream_stream_t, queue);

        if (st->stopping || !st->in_table || st->table_id != id) {
            continue;
        }

        if (action == NGX_VKSTREAM_ACTION_DROP) {
            ngx_log_error(NGX_LOG_INFO, st->session->connection->log, 0,
                          "vkstream: drop \"%V/%V\" requested",
                          &st->app, &st->name);
            ngx_rtmp_finalize_session(st->session);
            return;
        }

        if (st->transcoder == NULL || suffix->len >= sizeof(name)) {
            return;
        }

        ngx_cpystrn(name, suffix->data, suffix->len + 1);

        ngx_log_error(NGX_LOG_INFO, st->session->connection->log, 0,
                      "vkstream: %s rendition \"%s\" of \"%V/%V\" "
                      "requested",
                      action == NGX_VKSTREAM_ACTION_STOP ? "stop" : "restart",
                      name, &st->app, &st->name);

        vks_transcoder_control(st->transcoder, (char *) name,
                               action == NGX_VKSTREAM_ACTION_STOP
                               ? VKS_CONTROL_STOP : VKS_CONTROL_RESTART);
        return;
    }
}


ngx_int_t
ngx_rtmp_vkstream_contexts_init_process(ngx_cycle_t *cycle)
{
    ngx_queue_init(&ngx_rtmp_vkstream_contexts_streams);
    vks_media_init();

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    if (vks_logq_init(&ngx_rtmp_vkstream_contexts_logq,
                      ngx_rtmp_vkstream_contexts_log_lines,
                      NGX_RTMP_VKSTREAM_LOG_LINES, ngx_vkstream_notify, NULL)
        != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "vkstream: cannot set up the log queue");
        return NGX_ERROR;
    }

    ngx_rtmp_vkstream_contexts_logq_ready = 1;

    if (ngx_vkstream_notify_add(cycle,
                                ngx_rtmp_vkstream_contexts_notify_handler)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_rtmp_vkstream_contexts_tick.handler =
        ngx_rtmp_vkstream_contexts_tick_handler;
    ngx_rtmp_vkstream_contexts_tick.log = cycle->log;
    /* the timer's ident in debug logs: no connection of its own */
    ngx_rtmp_vkstream_contexts_tick_dummy.fd = (ngx_socket_t) -1;
    ngx_rtmp_vkstream_contexts_tick.data =
        &ngx_rtmp_vkstream_contexts_tick_dummy;
    ngx_rtmp_vkstream_contexts_tick.cancelable = 1;
    ngx_add_timer(&ngx_rtmp_vkstream_contexts_tick, NGX_RTMP_VKSTREAM_TICK);

    return NGX_OK;
}


void
ngx_rtmp_vkstream_contexts_exit_process(ngx_cycle_t *cycle)
{
    ngx_msec_t                   waited;
    ngx_queue_t                 *q;
    ngx_rtmp_vkstream_stream_t  *st;

    if (ngx_rtmp_vkstream_contexts_streams.next == NULL) {
        return;
    }

    for (q = ngx_queue_head(&ngx_rtmp_vkstream_contexts_streams);
         q != ngx_queue_sentinel(&ngx_rtmp_vkstream_contexts_streams);
         q = ngx_queue_next(q))
    {
        st = ngx_queue_data(q, ngx_rtmp_vkstream_stream_t, queue);
        ngx_rtmp_vkstream_contexts_stop(st);
    }

    /* fast shutdown: give the outputs their end of stream, briefly */
    for (waited = 0;
         waited < NGX_RTMP_VKSTREAM_EXIT_WAIT
         && !ngx_queue_empty(&ngx_rtmp_vkstream_contexts_streams);
         waited += 20)
    {
        ngx_rtmp_vkstream_contexts_reap();
        ngx_msleep(20);
    }

    ngx_rtmp_vkstream_contexts_reap();
    ngx_rtmp_vkstream_contexts_log_flush();

    if (!ngx_queue_empty(&ngx_rtmp_vkstream_contexts_streams)) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "vkstream: contexts still ending at exit");
    }

    /* threads still ending then notify into nothing */
    ngx_vkstream_notify_del(ngx_rtmp_vkstream_contexts_notify_handler);
}
