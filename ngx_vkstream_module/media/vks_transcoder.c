
/*
 * vkstream media: transcoding context: input queue, decode once, fan out
 * to the renditions.
 */


#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>

#include "vks_flv.h"
#include "vks_queue.h"
#include "util/vks_thread.h"
#include "vks_timeline.h"
#include "vks_transcoder.h"


/* how long one track waits for the other before the layout is settled */
#define VKS_LAYOUT_WAIT_MS     1000
#define VKS_LAYOUT_HINT_MS     3000
#define VKS_MAX_PENDING        300
#define VKS_DRAIN_BUDGET_MS    1000


struct vks_transcoder_s {
    vks_transcoder_conf_t   conf;
    vks_queue_t             in;
    pthread_t               thread;
    atomic_int              ended;
    int                     nr;
    vks_rendition_t        *r[VKS_MAX_RENDITIONS];

    pthread_mutex_t         mutex;          /* guards stats */
    vks_stream_stats_t      stats;
    int64_t                 stats_time;     /* caller only */
    uint64_t                stats_bytes;

    /* decoder thread only */
    AVCodecContext         *vdec;
    AVCodecContext         *adec;
    AVPacket               *pkt;
    AVFrame                *frame;
    vks_stream_info_t       info;
    int                     audio_format;   /* FLV format of adec */
    int                     audio_flv_rate;
    int                     audio_flv_channels;
    int                     decode_video;   /* some rendition encodes */
    int                     decode_audio;
    int                     copy_video;
    int                     copy_audio;
    int                     video_warned;
    int                     audio_warned;
    int                     video_bad;      /* unsupported codec */
    int                     audio_bad;
    int                     seen_video;
    int                     seen_audio;
    int                     video_started;  /* first keyframe seen */
    int                     video_frames;
    int                     audio_frames;
    int64_t                 first_ms;
    int64_t                 last_ms;
    int64_t                 first_key_ms;
    int64_t                 last_vdts;
    double                  fps;
    int                     ready;
    vks_item_t             *pending;
    vks_item_t             *pending_tail;
    int                     npending;
    vks_timeline_t          tl;
};


static void
vks_tlog(vks_transcoder_t *t, int level, const char *fmt, ...)
{
    char     msg[512];
    int      n;
    va_list  args;

    if (t->conf.log == NULL) {
        return;
    }

    n = snprintf(msg, sizeof(msg), "vkstream: \"%s\": ", t->conf.name);

    va_start(args, fmt);
    vsnprintf(msg + n, sizeof(msg) - n, fmt, args);
    va_end(args);

    t->conf.log(t->conf.log_data, level, msg);
}


/* decoders */

static int
vks_open_decoder(vks_transcoder_t *t, AVCodecContext **ctx, int codec_id,
    const uint8_t *extra, size_t extra_len, int rate, int channels)
{
    int              rc;
    const AVCodec   *codec;
    AVCodecContext  *dec;

    avcodec_free_context(ctx);

    codec = avcodec_find_decoder(codec_id);
    if (codec == NULL) {
        return -1;
    }

    dec = avcodec_alloc_context3(codec);
    if (dec == NULL) {
        return -1;
    }

    if (extra_len) {
        dec->extradata = av_mallocz(extra_len + AV_INPUT_BUFFER_PADDING_SIZE);
        if (dec->extradata == NULL) {
            avcodec_free_context(&dec);
            return -1;
        }
        memcpy(dec->extradata, extra, extra_len);
        dec->extradata_size = (int) extra_len;
    }

    dec->pkt_timebase = (AVRational) { 1, 1000 };

    if (codec->type == AVMEDIA_TYPE_VIDEO) {
        /* slice threads add no delay, frame threads would */
        dec->thread_count = 2;
        dec->thread_type = FF_THREAD_SLICE;

    } else {
        dec->sample_rate = rate;
        av_channel_layout_default(&dec->ch_layout, channels);
    }

    rc = avcodec_open2(dec, codec, NULL);
    if (rc < 0) {
        avcodec_free_context(&dec);
        return -1;
    }

    *ctx = dec;
    return 0;
}


static int
vks_audio_codec_id(vks_flv_audio_t *a)
{
    switch (a->format) {
    case VKS_FLV_AUDIO_AAC:
        return AV_CODEC_ID_AAC;
    case VKS_FLV_AUDIO_MP3:
    case VKS_FLV_AUDIO_MP3_8K:
        return AV_CODEC_ID_MP3;
    case VKS_FLV_AUDIO_PCM:
    case VKS_FLV_AUDIO_PCM_LE:
        return a->bits == 16 ? AV_CODEC_ID_PCM_S16LE : AV_CODEC_ID_PCM_U8;
    case VKS_FLV_AUDIO_ADPCM:
        return AV_CODEC_ID_ADPCM_SWF;
    case VKS_FLV_AUDIO_NELLY16:
    case VKS_FLV_AUDIO_NELLY8:
    case VKS_FLV_AUDIO_NELLY:
        return AV_CODEC_ID_NELLYMOSER;
    case VKS_FLV_AUDIO_ALAW:
        return AV_CODEC_ID_PCM_ALAW;
    case VKS_FLV_AUDIO_MULAW:
        return AV_CODEC_ID_PCM_MULAW;
    case VKS_FLV_AUDIO_SPEEX:
        return AV_CODEC_ID_SPEEX;
    default:
        return AV_CODEC_ID_NONE;
    }
}


/* fan-out */

static void
vks_deliver(vks_transcoder_t *t, vks_item_t *item)
{
    int                          i, wants;
    vks_item_t                  *copy;
    const vks_rendition_conf_t  *rc;

    for (i = 0; i < t->nr; i++) {
        rc = vks_rendition_conf(t->r[i]);

        switch (item->kind) {
        case VKS_ITEM_VFRAME:
            wants = rc->video_mode == VKS_MODE_ENCODE;
            break;
        case VKS_ITEM_AFRAME:
            wants = rc->audio_mode == VKS_MODE_ENCODE;
            break;
        case VKS_ITEM_VPKT:
            wants = rc->video_mode == VKS_MODE_COPY;
            break;
        case VKS_ITEM_APKT:
            wants = rc->audio_mode == VKS_MODE_COPY;
            break;
        case VKS_ITEM_VCONFIG:
            wants = rc->video_mode == VKS_MODE_COPY
                    || rc->audio_mode == VKS_MODE_COPY;
            break;
        default:
            wants = 1;
        }

        if (!wants) {
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


static void
vks_settle_layout(vks_transcoder_t *t)
{
    int          missing_video, missing_audio, video_ok, audio_ok;
    int64_t      waited;
    vks_item_t  *item, *next;

    if (t->ready || (!t->seen_video && !t->seen_audio)) {
        return;
    }

    /*
     * a sequence header alone marks a track seen before any timestamp is
     * mapped: first_ms is still INT64_MIN then, and nothing has waited
     */
    waited = (t->first_ms == INT64_MIN) ? 0 : t->last_ms - t->first_ms;

    /* copies count packets, decoders frames: see vks_video/vks_audio */
    video_ok = !t->seen_video || t->video_frames >= 2;
    audio_ok = !t->seen_audio || t->audio_frames >= 1;

    if (!video_ok || !audio_ok) {
        if (waited < VKS_LAYOUT_HINT_MS) {
            return;
        }

        /* a track that never decodes must not hold the other back */
        if (!video_ok) {
            t->seen_video = 0;
        }

        if (!audio_ok) {
            t->seen_audio = 0;
        }

        if (!t->seen_video && !t->seen_audio) {
            return;
        }
    }

    missing_video = !t->seen_video;
    missing_audio = !t->seen_audio;

    if (missing_video || missing_audio) {
        int  hint = missing_video ? t->conf.hint_video : t->conf.hint_audio;

        if (hint == 1 ? waited < VKS_LAYOUT_HINT_MS
                      : hint != 0 && waited < VKS_LAYOUT_WAIT_MS)
        {
            return;
        }
    }

    t->ready = 1;
    t->info.has_video = t->seen_video;
    t->info.has_audio = t->seen_audio;
    t->info.fps = t->fps;

    vks_tlog(t, VKS_LOG_INFO, "input: video %s %dx%d %.2f fps, audio %s",
             t->seen_video ? "h264" : "none", t->info.width, t->info.height,
             t->fps, t->seen_audio ? t->stats.acodec : "none");

    item = vks_item_new(VKS_ITEM_START);
    if (item) {
        item->info = vks_stream_info_dup(&t->info);
        vks_deliver(t, item);
    }

    for (item = t->pending; item; item = next) {
        next = item->next;

        /* audio before the first picture would play over a black screen */
        if (t->seen_video && (item->kind == VKS_ITEM_AFRAME
                              || item->kind == VKS_ITEM_APKT)
            && item->ms < t->first_key_ms)
        {
            vks_item_free(item);
            continue;
        }

        vks_deliver(t, item);
    }

    t->pending = NULL;
    t->pending_tail = NULL;
    t->npending = 0;
}


static void
vks_emit(vks_transcoder_t *t, vks_item_t *item)
{
    vks_item_t  *old;

    if (t->ready) {
        vks_deliver(t, item);
        return;
    }

    if (t->npending >= VKS_MAX_PENDING) {
        old = t->pending;
        t->pending = old->next;
        vks_item_free(old);
        t->npending--;
    }

    item->next = NULL;
    if (t->pending_tail && t->pending) {
        t->pending_tail->next = item;
    } else {
        t->pending = item;
    }
    t->pending_tail = item;
    t->npending++;
}


static void
vks_emit_packet(vks_transcoder_t *t, int kind, AVPacket *pkt)
{
    vks_item_t  *item;

    item = vks_item_new(kind);
    if (item == NULL) {
        return;
    }

    item->pkt = av_packet_clone(pkt);
    item->ms = pkt->dts;
    item->keyframe = (pkt->flags & AV_PKT_FLAG_KEY) != 0;

    vks_emit(t, item);
}


static void
vks_emit_frames(vks_transcoder_t *t, AVCodecContext *dec, int kind)
{
    vks_item_t  *item;

    while (avcodec_receive_frame(dec, t->frame) == 0) {
        item = vks_item_new(kind);
        if (item == NULL) {
            av_frame_unref(t->frame);
            continue;
        }

        item->ms = t->frame->best_effort_timestamp != AV_NOPTS_VALUE
                   ? t->frame->best_effort_timestamp : t->frame->pts;

        if (kind == VKS_ITEM_VFRAME) {
            item->keyframe = t->frame->key_frame;
            t->video_frames++;

            pthread_mutex_lock(&t->mutex);
            t->stats.width = t->frame->width;
            t->stats.height = t->frame->height;
            pthread_mutex_unlock(&t->mutex);

            if (t->info.width == 0) {
                t->info.width = t->frame->width;
                t->info.height = t->frame->height;
            }

        } else {
            t->audio_frames++;

            if (t->info.audio_rate == 0) {
                t->info.audio_rate = t->frame->sample_rate;
                t->info.audio_channels = t->frame->ch_layout.nb_channels;
            }
        }

        item->frame = av_frame_alloc();
        if (item->frame == NULL) {
            vks_item_free(item);
            av_frame_unref(t->frame);
            continue;
        }

        av_frame_move_ref(item->frame, t->frame);
        vks_emit(t, item);
    }
}


/* input */

static void
vks_video(vks_transcoder_t *t, vks_packet_t *p)
{
    int               frame_ms;
    int64_t           dts;
    vks_item_t       *item;
    vks_flv_video_t   v;

    if (vks_flv_parse_video(p->data, p->len, &v) != 0 || t->video_bad) {
        return;
    }

    if (v.codec != VKS_FLV_VIDEO_AVC) {
        if (!t->video_warned) {
            t->video_warned = 1;
            vks_tlog(t, VKS_LOG_WARN, "video codec \"%s\" (FLV id %d) "
                     "cannot be transcoded, video skipped",
                     vks_flv_video_codec_name(v.codec), v.codec);
        }

        if (!t->ready) {
            t->video_bad = 1;
        }
        return;
    }

    if (v.avc_type == VKS_FLV_AVC_SEQUENCE) {
        if (v.len == 0 || ((size_t) t->info.avcc_len == v.len
                           && memcmp(t->info.avcc, v.data, v.len) == 0))
        {
            return;
        }

        free(t->info.avcc);
        t->info.avcc = malloc(v.len);
        if (t->info.avcc == NULL) {
            t->info.avcc_len = 0;
            return;
        }
        memcpy(t->info.avcc, v.data, v.len);
        t->info.avcc_len = (int) v.len;

        if (t->decode_video
            && vks_open_decoder(t, &t->vdec, AV_CODEC_ID_H264, v.data, v.len,
                                0, 0) != 0)
        {
            vks_tlog(t, VKS_LOG_ERR, "cannot open the H.264 decoder");
        }

        pthread_mutex_lock(&t->mutex);
        strcpy(t->stats.vcodec, "h264");
        pthread_mutex_unlock(&t->mutex);

        t->seen_video = 1;

        if (t->ready && t->copy_video) {
            /* a new resolution mid-stream: copies restart their publish */
            item = vks_item_new(VKS_ITEM_VCONFIG);
            if (item) {
                item->info = vks_stream_info_dup(&t->info);
                vks_deliver(t, item);
            }
        }

        if (t->video_started) {
            vks_tlog(t, VKS_LOG_INFO, "new AVC sequence header");
        }

        t->video_started = 0;       /* wait for its keyframe */
        return;
    }

    if (v.avc_type != VKS_FLV_AVC_NALU || t->info.avcc_len == 0) {
        return;
    }

    if (!t->video_started) {
        if (!v.keyframe) {
            return;
        }
        t->video_started = 1;
    }

    t->seen_video = 1;

    frame_ms = t->fps > 0 ? (int) (1000 / t->fps) : 33;
    dts = vks_timeline_map(&t->tl, VKS_TRACK_VIDEO, p->ts, frame_ms);

    if (t->last_vdts != INT64_MIN && dts > t->last_vdts && t->video_frames
        < 100 && t->conf.hint_fps <= 0)
    {
        t->fps = 1000.0 / (double) (dts - t->last_vdts);
    }
    t->last_vdts = dts;

    if (t->first_key_ms == INT64_MIN) {
        t->first_key_ms = dts;
    }

    if (av_new_packet(t->pkt, (int) v.len) < 0) {
        return;
    }

    memcpy(t->pkt->data, v.data, v.len);
    t->pkt->dts = dts;
    t->pkt->pts = dts + v.cts;
    t->pkt->flags = v.keyframe ? AV_PKT_FLAG_KEY : 0;

    if (t->copy_video) {
        vks_emit_packet(t, VKS_ITEM_VPKT, t->pkt);
        if (!t->decode_video) {
            t->video_frames++;
        }
    }

    if (t->decode_video && t->vdec) {
        if (avcodec_send_packet(t->vdec, t->pkt) == 0) {
            vks_emit_frames(t, t->vdec, VKS_ITEM_VFRAME);
        }
    }

    av_packet_unref(t->pkt);
}


static void
vks_audio(vks_transcoder_t *t, vks_packet_t *p)
{
    int               codec;
    int64_t           ts;
    vks_flv_audio_t   a;

    if (vks_flv_parse_audio(p->data, p->len, &a) != 0 || t->audio_bad) {
        return;
    }

    codec = vks_audio_codec_id(&a);

    if (codec == AV_CODEC_ID_NONE || avcodec_find_decoder(codec) == NULL) {
        if (!t->audio_warned) {
            t->audio_warned = 1;
            vks_tlog(t, VKS_LOG_WARN, "audio codec \"%s\" (FLV id %d) "
                     "cannot be transcoded, audio skipped",
                     vks_flv_audio_codec_name(a.format), a.format);
        }

        if (!t->ready) {
            t->audio_bad = 1;
        }
        return;
    }

    if (a.format == VKS_FLV_AUDIO_AAC && a.aac_type == VKS_FLV_AAC_SEQUENCE) {
        if (a.len == 0 || ((size_t) t->info.asc_len == a.len
                           && memcmp(t->info.asc, a.data, a.len) == 0))
        {
            return;
        }

        free(t->info.asc);
        t->info.asc = malloc(a.len);
        if (t->info.asc == NULL) {
            t->info.asc_len = 0;
            return;
        }
        memcpy(t->info.asc, a.data, a.len);
        t->info.asc_len = (int) a.len;

        avcodec_free_context(&t->adec);
        t->audio_format = -1;
        return;
    }

    if (a.format == VKS_FLV_AUDIO_AAC && t->info.asc_len == 0) {
        return;                     /* raw AAC cannot decode without it */
    }

    if (t->adec == NULL || t->audio_format != a.format
        || t->audio_flv_rate != a.rate || t->audio_flv_channels != a.channels)
    {
        if (vks_open_decoder(t, &t->adec, codec, t->info.asc,
                             a.format == VKS_FLV_AUDIO_AAC
                             ? (size_t) t->info.asc_len : 0,
                             a.rate, a.channels) != 0)
        {
            if (!t->audio_warned) {
                t->audio_warned = 1;
                vks_tlog(t, VKS_LOG_WARN, "cannot open the \"%s\" decoder",
                         vks_flv_audio_codec_name(a.format));
            }
            return;
        }

        t->audio_format = a.format;
        t->audio_flv_rate = a.rate;
        t->audio_flv_channels = a.channels;
        t->info.audio_codec = codec;

        if (a.format != VKS_FLV_AUDIO_AAC) {
            t->info.audio_rate = a.rate;
            t->info.audio_channels = a.channels;
        } else {
            t->info.audio_rate = t->adec->sample_rate;
            t->info.audio_channels = t->adec->ch_layout.nb_channels;
        }

        pthread_mutex_lock(&t->mutex);
        snprintf(t->stats.acodec, sizeof(t->stats.acodec), "%s",
                 vks_flv_audio_codec_name(a.format));
        pthread_mutex_unlock(&t->mutex);
    }

    t->seen_audio = 1;

    ts = vks_timeline_map(&t->tl, VKS_TRACK_AUDIO, p->ts, 23);

    if (av_new_packet(t->pkt, (int) a.len) < 0) {
        return;
    }

    memcpy(t->pkt->data, a.data, a.len);
    t->pkt->dts = ts;
    t->pkt->pts = ts;
    t->pkt->flags = AV_PKT_FLAG_KEY;

    if (t->copy_audio && (codec == AV_CODEC_ID_AAC
                          || codec == AV_CODEC_ID_MP3))
    {
        vks_emit_packet(t, VKS_ITEM_APKT, t->pkt);
        if (!t->decode_audio) {
            t->audio_frames++;
        }
    }

    if (t->decode_audio) {
        if (avcodec_send_packet(t->adec, t->pkt) == 0) {
            vks_emit_frames(t, t->adec, VKS_ITEM_AFRAME);
        }
    }

    av_packet_unref(t->pkt);
}


/* the decoder thread's state, and the context itself */
static void
vks_free_input(vks_transcoder_t *t)
{
    avcodec_free_context(&t->vdec);
    avcodec_free_context(&t->adec);
    av_packet_free(&t->pkt);
    av_frame_free(&t->frame);
    free(t->info.avcc);
    free(t->info.asc);
    pthread_mutex_destroy(&t->mutex);
    free(t);
}


/* one input message: decode it, then see whether the layout is known */
static void
vks_feed(vks_transcoder_t *t, vks_packet_t *p)
{
    if (p->type == VKS_PACKET_VIDEO) {
        vks_video(t, p);
    } else {
        vks_audio(t, p);
    }

    if (t->tl.started) {
        if (t->first_ms == INT64_MIN) {
            t->first_ms = t->tl.last_ext;
        }
        t->last_ms = t->tl.last_ext;
    }

    vks_settle_layout(t);
}


static void *
vks_transcoder_thread(void *data)
{
    int                i;
    vks_packet_t      *p;
    vks_item_t        *item, *next;
    vks_transcoder_t  *t = data;

    vks_thread_priority(t->conf.sched, t->conf.nice);

    while ((p = vks_queue_pop(&t->in)) != NULL) {
        vks_feed(t, p);
        free(p);
    }

    /* the decoders' delayed frames (frame threads, reordering) go out */
    if (t->decode_video && t->vdec
        && avcodec_send_packet(t->vdec, NULL) == 0)
    {
        vks_emit_frames(t, t->vdec, VKS_ITEM_VFRAME);
    }

    if (t->decode_audio && t->adec
        && avcodec_send_packet(t->adec, NULL) == 0)
    {
        vks_emit_frames(t, t->adec, VKS_ITEM_AFRAME);
    }

    /* stopped: every rendition flushes and ends its publish in parallel */
    for (i = 0; i < t->nr; i++) {
        vks_rendition_end(t->r[i]);
    }

    for (i = 0; i < t->nr; i++) {
        vks_rendition_finish(t->r[i]);
    }

    for (item = t->pending; item; item = next) {
        next = item->next;
        vks_item_free(item);
    }
    t->pending = NULL;

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
    char                         url[1024];
    const char                  *host;
    vks_transcoder_t            *t;
    vks_rendition_env_t          env;
    const vks_rendition_conf_t  *rc;

    t = calloc(1, sizeof(vks_transcoder_t));
    if (t == NULL) {
        return NULL;
    }

    t->conf = *conf;
    t->first_ms = INT64_MIN;
    t->first_key_ms = INT64_MIN;
    t->last_vdts = INT64_MIN;
    t->audio_format = -1;
    t->fps = conf->hint_fps > 0 ? conf->hint_fps : 0;
    vks_timeline_init(&t->tl);

    t->pkt = av_packet_alloc();
    t->frame = av_frame_alloc();

    if (t->pkt == NULL || t->frame == NULL
        || vks_queue_init(&t->in, conf->queue_bytes) != 0)
    {
        goto failed;
    }

    t->in.max_delay_ms = conf->max_delay_ms > 0 ? conf->max_delay_ms : 0;

    if (pthread_mutex_init(&t->mutex, NULL) != 0) {
        vks_queue_destroy(&t->in);
        goto failed;
    }

    env.max_gop_ms = conf->max_gop_ms;
    env.nice = conf->nice;
    env.sched = conf->sched;
    env.log = conf->log;
    env.log_data = conf->log_data;

    for (i = 0; i < conf->nrenditions && i < VKS_MAX_RENDITIONS; i++) {
        rc = &conf->renditions[i];
        host = rc->host[0] ? rc->host : conf->host;

        snprintf(url, sizeof(url), "rtmp://%s/%s/%s%s?%s", host, rc->app,
                 conf->name, rc->suffix, conf->marker);
        env.url = url;

        t->decode_video |= rc->video_mode == VKS_MODE_ENCODE;
        t->decode_audio |= rc->audio_mode == VKS_MODE_ENCODE;
        t->copy_video |= rc->video_mode == VKS_MODE_COPY;
        t->copy_audio |= rc->audio_mode == VKS_MODE_COPY;

        t->r[t->nr] = vks_rendition_start(rc, &env);
        if (t->r[t->nr] == NULL) {
            vks_tlog(t, VKS_LOG_ERR, "cannot start rendition \"%s\"",
                     rc->suffix);
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

    av_packet_free(&t->pkt);
    av_frame_free(&t->frame);
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
    int       i;
    int64_t   now;
    uint64_t  bytes;

    pthread_mutex_lock(&t->mutex);
    *st = t->stats;
    pthread_mutex_unlock(&t->mutex);

    pthread_mutex_lock(&t->in.mutex);
    bytes = t->in.bytes_in;
    st->frames_dropped = t->in.dropped_frames;
    st->gops_dropped = t->in.dropped_gops;
    pthread_mutex_unlock(&t->in.mutex);

    st->bytes_in = bytes;
    st->fps = t->fps;

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

    st->nrenditions = t->nr;
    for (i = 0; i < t->nr; i++) {
        vks_rendition_stats(t->r[i], &st->r[i]);
    }
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
        }
    }

    return found ? 0 : -1;
}


void
vks_transcoder_stop(vks_transcoder_t *t, int drain)
{
    if (drain) {
        vks_queue_finish(&t->in, VKS_DRAIN_BUDGET_MS);

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
    vks_free_input(t);
}
