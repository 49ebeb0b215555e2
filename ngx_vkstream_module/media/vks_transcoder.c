
/*
 * vkstream media: transcoding context: input queue, decode once, fan out
 * to the renditions.
 */


#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>

#include "vks_clock.h"
#include "vks_decoder.h"
#include "vks_flv.h"
#include "vks_hls_ladder.h"
#include "vks_item.h"
#include "vks_queue.h"
#include "vks_rendition.h"
#include "util/vks_thread.h"
#include "vks_transcoder.h"


#define VKS_DRAIN_BUDGET_MS    1000
/* inline, the queue's drain also encodes: the rendition's 500 ms too */
#define VKS_INLINE_DRAIN_MS    1500


struct vks_transcoder_s {
    vks_transcoder_conf_t   conf;
    vks_queue_t             in;
    pthread_t               thread;
    atomic_int              ended;
    int                     nr;
    vks_rendition_t        *r[VKS_MAX_RENDITIONS];
    vks_decoder_t          *dec;            /* context thread only */
    vks_hls_ladder_t       *ladder;         /* NULL: no master playlist */

    pthread_mutex_t         mutex;          /* guards stats */
    vks_stream_stats_t      stats;
    int64_t                 stats_time;     /* caller only */
    uint64_t                stats_bytes;
};


static int
vks_transcoder_wants(vks_rendition_t *r, vks_item_t *item)
{
    const vks_rendition_conf_t  *rc;

    rc = vks_rendition_conf(r);

    switch (item->kind) {
    case VKS_ITEM_VFRAME:
        return rc->video_mode == VKS_MODE_ENCODE;
    case VKS_ITEM_AFRAME:
        return rc->audio_mode == VKS_MODE_ENCODE;
    case VKS_ITEM_VPKT:
        return rc->video_mode == VKS_MODE_COPY;
    case VKS_ITEM_APKT:
        return rc->audio_mode == VKS_MODE_COPY;
    case VKS_ITEM_VCONFIG:
        return rc->video_mode == VKS_MODE_COPY
               || rc->audio_mode == VKS_MODE_COPY;
    default:
        return 1;
    }
}


/*
 * fan-out: the decoder's output, a reference for each rendition that
 * wants it; one rendition gets the item itself
 */

static void
vks_transcoder_deliver(void *data, vks_item_t *item)
{
    int                i;
    vks_item_t        *copy;
    vks_transcoder_t  *t = data;

    if (t->nr == 1) {
        if (vks_transcoder_wants(t->r[0], item)) {
            vks_rendition_send(t->r[0], item);

        } else {
            vks_item_free(item);
        }

        return;
    }

    for (i = 0; i < t->nr; i++) {
        if (!vks_transcoder_wants(t->r[i], item)) {
            continue;
        }

        copy = vks_item_new(item->kind);
        if (copy == NULL) {
            continue;
        }

        copy->keyframe = item->keyframe;
        copy->ms = item->ms;

        if (item->frame) {
            copy->frame = av_frame_clone(item->frame);
        }

        if (item->pkt) {
            copy->pkt = av_packet_clone(item->pkt);
        }

        if (item->info) {
            copy->info = vks_stream_info_dup(item->info);
        }

        vks_rendition_send(t->r[i], copy);
    }

    vks_item_free(item);
}

/* what the decoder knows of the input, for vks_transcoder_stats() */
static void
vks_transcoder_input_stats(vks_transcoder_t *t)
{
    const vks_decoder_input_t  *in;

    in = vks_decoder_input(t->dec);

    pthread_mutex_lock(&t->mutex);
    memcpy(t->stats.vcodec, in->vcodec, sizeof(t->stats.vcodec));
    memcpy(t->stats.acodec, in->acodec, sizeof(t->stats.acodec));
    t->stats.width = in->width;
    t->stats.height = in->height;
    t->stats.fps = in->fps;
    pthread_mutex_unlock(&t->mutex);
}


static void *
vks_transcoder_thread(void *data)
{
    int                i, kicked;
    vks_packet_t      *p;
    vks_transcoder_t  *t = data;

    vks_thread_priority(t->conf.sched, t->conf.nice);

    for ( ;; ) {
        p = vks_queue_pop_or_kick(&t->in, &kicked);

        if (kicked) {
            /* a control for an inline rendition, with no media coming */
            for (i = 0; i < t->nr; i++) {
                vks_rendition_poll(t->r[i]);
            }
        }

        if (p == NULL) {
            if (kicked) {
                continue;
            }
            break;
        }

        vks_decoder_feed(t->dec, p->type, p->ts, p->data, p->len);
        free(p);
        vks_transcoder_input_stats(t);

        /* no batch, nothing held (batch_ms is set once, at the start) */
        if (t->in.batch_ms > 0 && vks_queue_would_wait(&t->in)) {
            for (i = 0; i < t->nr; i++) {
                if (vks_rendition_is_inline(t->r[i])) {
                    vks_rendition_flush(t->r[i]);
                }
            }
        }
    }

    vks_decoder_flush(t->dec);
    vks_transcoder_input_stats(t);

    /* the masters stay as they are, next to the ended playlists */
    if (t->ladder) {
        vks_hls_ladder_end(t->ladder);
    }

    /* stopped: every rendition flushes and ends its publish in parallel */
    for (i = 0; i < t->nr; i++) {
        vks_rendition_end(t->r[i]);
    }

    for (i = 0; i < t->nr; i++) {
        vks_rendition_finish(t->r[i]);
    }

    atomic_store(&t->ended, 1);

    if (t->conf.ended) {
        t->conf.ended(t->conf.ended_data);
    }

    return NULL;
}


void
vks_media_init(void)
{
    /* the libraries' own chatter would go to nginx's stderr/error log */
    av_log_set_level(AV_LOG_ERROR);
}


vks_transcoder_t *
vks_transcoder_start(const vks_transcoder_conf_t *conf)
{
    int                          i;
    char                         url[512], playpath[1024], msg[512];
    char                         dir[1024];
    const char                  *host;
    vks_transcoder_t            *t;
    vks_decoder_conf_t           dc;
    vks_rendition_env_t          env;
    vks_hls_ladder_conf_t        lc;
    const vks_rendition_conf_t  *rc;

    t = calloc(1, sizeof(vks_transcoder_t));
    if (t == NULL) {
        return NULL;
    }

    t->conf = *conf;

    memset(&dc, 0, sizeof(vks_decoder_conf_t));
    dc.name = conf->name;
    dc.hint_video = conf->hint_video;
    dc.hint_audio = conf->hint_audio;
    dc.hint_fps = conf->hint_fps;
    dc.output = vks_transcoder_deliver;
    dc.output_data = t;
    dc.log = conf->log;
    dc.log_data = conf->log_data;

    for (i = 0; i < conf->nrenditions && i < VKS_MAX_RENDITIONS; i++) {
        rc = &conf->renditions[i];
        dc.decode_video |= rc->video_mode == VKS_MODE_ENCODE;
        dc.decode_audio |= rc->audio_mode == VKS_MODE_ENCODE;
        dc.copy_video |= rc->video_mode == VKS_MODE_COPY;
        dc.copy_audio |= rc->audio_mode == VKS_MODE_COPY;
    }

    t->dec = vks_decoder_create(&dc);

    if (t->dec == NULL || vks_queue_init(&t->in, conf->queue_bytes) != 0) {
        goto failed;
    }

    t->in.max_delay_ms = conf->max_delay_ms > 0 ? conf->max_delay_ms : 0;
    t->in.batch_ms = conf->batch_ms > 0 ? conf->batch_ms : 0;

    if (pthread_mutex_init(&t->mutex, NULL) != 0) {
        vks_queue_destroy(&t->in);
        goto failed;
    }

    env.max_gop_ms = conf->max_gop_ms;
    env.nice = conf->nice;
    env.sched = conf->sched;
    env.log = conf->log;
    env.log_data = conf->log_data;
    env.llhls_part_target_ms = conf->llhls_part_target_ms;
    env.llhls_window = conf->llhls_window;
    env.llhls_dir = NULL;

    /*
     * One rendition: decode, scale, encode and mux on this context's one
     * thread.  The hand-off per frame to a rendition thread cost CPU
     * (wake-ups, each decoded picture moving between cores) and memory
     * (decoded pictures queued, up to 32); what it bought, decoding while
     * the previous picture encodes, a real-time source does not need.
     */
    env.inline_mode = conf->nrenditions == 1;

    /* a batch's output leaves together: one wake-up of the server */
    env.hold_ms = conf->batch_ms > 0 ? conf->batch_ms : 0;

    /* the name becomes a directory: nothing that leaves llhls_path */
    if (conf->llhls_path[0]
        && (conf->name[0] == '.' || strchr(conf->name, '/') != NULL))
    {
        if (conf->log) {
            snprintf(msg, sizeof(msg), "vkstream: \"%s\": no LL-HLS output "
                     "for a name with \"/\" or a leading \".\"",
                     conf->name);
            conf->log(conf->log_data, VKS_LOG_WARN, msg);
        }

        conf = &t->conf;
        t->conf.llhls_path[0] = '\0';
    }

    if (conf->llhls_path[0] || conf->hls_master_path[0]) {
        memset(&lc, 0, sizeof(vks_hls_ladder_conf_t));
        lc.name = conf->name;
        lc.ll_dir = conf->llhls_path;
        lc.ts_dir = conf->hls_master_path;
        lc.n = conf->nrenditions;
        lc.rc = conf->renditions;
        lc.log = conf->log;
        lc.log_data = conf->log_data;

        /* without it the renditions still run, with no master */
        t->ladder = vks_hls_ladder_create(&lc);
    }

    env.ladder = t->ladder;

    for (i = 0; i < conf->nrenditions && i < VKS_MAX_RENDITIONS; i++) {
        rc = &conf->renditions[i];
        host = rc->host[0] ? rc->host : conf->host;

        snprintf(url, sizeof(url), "rtmp://%s/%s", host, rc->app);
        snprintf(playpath, sizeof(playpath), "%s%s?%s", conf->name,
                 rc->suffix, conf->marker);
        env.url = url;
        env.playpath = playpath;
        env.ladder_index = i;

        if (conf->llhls_path[0]) {
            snprintf(dir, sizeof(dir), "%s/%s%s", conf->llhls_path,
                     conf->name, rc->suffix);
            env.llhls_dir = dir;
        }

        t->r[t->nr] = vks_rendition_start(rc, &env);
        if (t->r[t->nr] == NULL) {
            if (conf->log) {
                snprintf(msg, sizeof(msg), "vkstream: \"%s\": cannot start "
                         "rendition \"%s\"", conf->name, rc->suffix);
                conf->log(conf->log_data, VKS_LOG_ERR, msg);
            }
            continue;
        }

        t->nr++;
    }

    t->stats.nrenditions = t->nr;

    if (vks_thread_create(&t->thread, vks_transcoder_thread, t) != 0) {
        for (i = 0; i < t->nr; i++) {
            vks_rendition_finish(t->r[i]);
            vks_rendition_free(t->r[i]);
        }
        pthread_mutex_destroy(&t->mutex);
        vks_queue_destroy(&t->in);
        goto failed;
    }

    return t;

failed:

    vks_hls_ladder_free(t->ladder);

    if (t->dec) {
        vks_decoder_free(t->dec);
    }

    free(t);

    return NULL;
}


int
vks_transcoder_push(vks_transcoder_t *t, int type, uint32_t ts,
    const uint8_t *data, size_t len)
{
    struct iovec  iov;

    iov.iov_base = (void *) data;
    iov.iov_len = len;

    return vks_transcoder_pushv(t, type, ts, &iov, 1);
}


int
vks_transcoder_pushv(vks_transcoder_t *t, int type, uint32_t ts,
    const struct iovec *iov, int iovcnt)
{
    int       i, keyframe, config;
    size_t    n, k;
    uint8_t   head[2];

    /* the first two bytes say keyframe / sequence header */
    n = 0;
    for (i = 0; i < iovcnt && n < 2; i++) {
        for (k = 0; k < iov[i].iov_len && n < 2; k++) {
            head[n++] = ((const uint8_t *) iov[i].iov_base)[k];
        }
    }

    if (n == 0) {
        return 1;
    }

    if (type == VKS_PACKET_VIDEO) {
        /* an end-of-sequence marker is no frame either: never shed */
        keyframe = (head[0] >> 4) == 1;
        config = (head[0] & 0x0f) == VKS_FLV_VIDEO_AVC && n > 1
                 && (head[1] == VKS_FLV_AVC_SEQUENCE
                     || head[1] == VKS_FLV_AVC_END);

    } else {
        keyframe = 0;
        config = (head[0] >> 4) == VKS_FLV_AUDIO_AAC && n > 1
                 && head[1] == VKS_FLV_AAC_SEQUENCE;
    }

    return vks_queue_pushv(&t->in, type, ts, keyframe, config, iov, iovcnt);
}


void
vks_transcoder_stats(vks_transcoder_t *t, vks_stream_stats_t *st)
{
    int                          i;
    int64_t                      now;
    uint64_t                     bytes;
    vks_queue_stats_t            qs;
    const vks_rendition_conf_t  *rc[VKS_MAX_RENDITIONS];

    pthread_mutex_lock(&t->mutex);
    *st = t->stats;
    pthread_mutex_unlock(&t->mutex);

    vks_queue_stats(&t->in, &qs);
    bytes = qs.bytes_in;
    st->frames_dropped = qs.dropped_frames;
    st->gops_dropped = qs.dropped_gops;

    st->bytes_in = bytes;

    /* the caller polls about once a second: measure over its interval */
    now = vks_now_ms();
    if (t->stats_time && now > t->stats_time) {
        t->stats.bitrate_kbps = (bytes - t->stats_bytes) * 8.0
                                / (now - t->stats_time);
    }
    if (t->stats_time == 0 || now - t->stats_time >= 1000) {
        t->stats_time = now;
        t->stats_bytes = bytes;
    }
    st->bitrate_kbps = t->stats.bitrate_kbps;

    /* what a copy rendition's BANDWIDTH starts from */
    if (t->ladder && st->bitrate_kbps > 0) {
        vks_hls_ladder_source_rate(t->ladder,
                                   (uint64_t) (st->bitrate_kbps * 1000));
    }

    st->nrenditions = t->nr;
    for (i = 0; i < t->nr; i++) {
        vks_rendition_stats(t->r[i], &st->r[i]);
        rc[i] = vks_rendition_conf(t->r[i]);
    }

    vks_rendition_duplicates(rc, st->r, t->nr);
}


int
vks_transcoder_control(vks_transcoder_t *t, const char *suffix, int cmd)
{
    int  i, found;

    found = 0;

    for (i = 0; i < t->nr; i++) {
        if (suffix == NULL
            || strcmp(vks_rendition_conf(t->r[i])->suffix, suffix) == 0)
        {
            vks_rendition_control(t->r[i], cmd);
            found = 1;

            if (vks_rendition_is_inline(t->r[i])) {
                vks_queue_kick(&t->in);
            }
        }
    }

    return found ? 0 : -1;
}


void
vks_transcoder_stop(vks_transcoder_t *t, int drain)
{
    if (drain) {
        vks_queue_finish(&t->in, t->nr == 1 && vks_rendition_is_inline(t->r[0])
                                 ? VKS_INLINE_DRAIN_MS : VKS_DRAIN_BUDGET_MS);

    } else {
        vks_queue_close(&t->in);
    }
}


int
vks_transcoder_ended(vks_transcoder_t *t)
{
    return atomic_load(&t->ended);
}


void
vks_transcoder_free(vks_transcoder_t *t)
{
    int  i;

    vks_queue_close(&t->in);
    pthread_join(t->thread, NULL);

    for (i = 0; i < t->nr; i++) {
        vks_rendition_free(t->r[i]);
    }

    vks_queue_destroy(&t->in);
    vks_decoder_free(t->dec);
    vks_hls_ladder_free(t->ladder);
    pthread_mutex_destroy(&t->mutex);
    free(t);
}
