
/*
 * vkstream media: the decode stage: FLV tags in, decoders opened on
 * sequence headers, decoded frames and source packets out once the
 * stream's layout is settled.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>

#include "vks_decoder.h"
#include "vks_h264_sps.h"
#include "vks_timeline.h"


/* how long one track waits for the other before the layout is settled */
#define VKS_LAYOUT_WAIT_MS     1000
#define VKS_LAYOUT_HINT_MS     3000
#define VKS_MAX_PENDING        300


struct vks_decoder_s {
    vks_decoder_conf_t      conf;
    char                    name[256];
    vks_decoder_input_t     input;

    AVCodecContext         *vdec;
    AVCodecContext         *adec;
    AVPacket               *pkt;
    AVFrame                *frame;
    vks_stream_info_t       info;
    int                     audio_format;   /* FLV format of adec */
    int                     audio_flv_rate;
    int                     audio_flv_channels;
    int                     video_warned;
    int                     audio_warned;
    int                     video_bad;      /* unsupported codec */
    int                     sps_warned;
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
    int                     ready;
    vks_item_t             *pending;
    vks_item_t             *pending_tail;
    int                     npending;
    vks_timeline_t          tl;
};


static void
vks_decoder_log(vks_decoder_t *d, int level, const char *fmt, ...)
{
    char     msg[512];
    int      n;
    va_list  args;

    if (d->conf.log == NULL) {
        return;
    }

    n = snprintf(msg, sizeof(msg), "vkstream: \"%s\": ", d->name);

    va_start(args, fmt);
    vsnprintf(msg + n, sizeof(msg) - n, fmt, args);
    va_end(args);

    d->conf.log(d->conf.log_data, level, msg);
}


/* decoders */

static int
vks_decoder_open(vks_decoder_t *d, AVCodecContext **ctx, int codec_id,
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
vks_decoder_audio_codec_id(vks_flv_audio_t *a)
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


/* output: held back until both tracks are known, then in order */

static void
vks_decoder_settle_layout(vks_decoder_t *d)
{
    int          missing_video, missing_audio, video_ok, audio_ok;
    int64_t      waited;
    vks_item_t  *item, *next;

    if (d->ready || (!d->seen_video && !d->seen_audio)) {
        return;
    }

    /*
     * a sequence header alone marks a track seen before any timestamp is
     * mapped: first_ms is still INT64_MIN then, and nothing has waited
     */
    waited = (d->first_ms == INT64_MIN) ? 0 : d->last_ms - d->first_ms;

    /* copies count packets, decoders frames: see vks_decoder_video() */
    video_ok = !d->seen_video || d->video_frames >= 2;
    audio_ok = !d->seen_audio || d->audio_frames >= 1;

    if (!video_ok || !audio_ok) {
        if (waited < VKS_LAYOUT_HINT_MS) {
            return;
        }

        /* a track that never decodes must not hold the other back */
        if (!video_ok) {
            d->seen_video = 0;
        }

        if (!audio_ok) {
            d->seen_audio = 0;
        }

        if (!d->seen_video && !d->seen_audio) {
            return;
        }
    }

    missing_video = !d->seen_video;
    missing_audio = !d->seen_audio;

    if (missing_video || missing_audio) {
        int  hint = missing_video ? d->conf.hint_video : d->conf.hint_audio;

        if (hint == 1 ? waited < VKS_LAYOUT_HINT_MS
                      : hint != 0 && waited < VKS_LAYOUT_WAIT_MS)
        {
            return;
        }
    }

    d->ready = 1;
    d->info.has_video = d->seen_video;
    d->info.has_audio = d->seen_audio;
    d->info.fps = d->input.fps;

    vks_decoder_log(d, VKS_LOG_INFO,
                    "input: video %s %dx%d %.2f fps, audio %s",
                    d->seen_video ? "h264" : "none", d->info.width,
                    d->info.height, d->input.fps,
                    d->seen_audio ? d->input.acodec : "none");

    item = vks_item_new(VKS_ITEM_START);
    if (item) {
        item->info = vks_stream_info_dup(&d->info);
        d->conf.output(d->conf.output_data, item);
    }

    for (item = d->pending; item; item = next) {
        next = item->next;

        /* audio before the first picture would play over a black screen */
        if (d->seen_video && (item->kind == VKS_ITEM_AFRAME
                              || item->kind == VKS_ITEM_APKT)
            && item->ms < d->first_key_ms)
        {
            vks_item_free(item);
            continue;
        }

        d->conf.output(d->conf.output_data, item);
    }

    d->pending = NULL;
    d->pending_tail = NULL;
    d->npending = 0;
}


static void
vks_decoder_emit(vks_decoder_t *d, vks_item_t *item)
{
    vks_item_t  *old;

    if (d->ready) {
        d->conf.output(d->conf.output_data, item);
        return;
    }

    if (d->npending >= VKS_MAX_PENDING) {
        old = d->pending;
        d->pending = old->next;
        vks_item_free(old);
        d->npending--;
    }

    item->next = NULL;
    if (d->pending_tail && d->pending) {
        d->pending_tail->next = item;
    } else {
        d->pending = item;
    }
    d->pending_tail = item;
    d->npending++;
}


static void
vks_decoder_emit_packet(vks_decoder_t *d, int kind, AVPacket *pkt)
{
    vks_item_t  *item;

    item = vks_item_new(kind);
    if (item == NULL) {
        return;
    }

    item->pkt = av_packet_clone(pkt);
    item->ms = pkt->dts;
    item->keyframe = (pkt->flags & AV_PKT_FLAG_KEY) != 0;

    vks_decoder_emit(d, item);
}


static void
vks_decoder_emit_frames(vks_decoder_t *d, AVCodecContext *dec, int kind)
{
    vks_item_t  *item;

    while (avcodec_receive_frame(dec, d->frame) == 0) {
        item = vks_item_new(kind);
        if (item == NULL) {
            av_frame_unref(d->frame);
            continue;
        }

        item->ms = d->frame->best_effort_timestamp != AV_NOPTS_VALUE
                   ? d->frame->best_effort_timestamp : d->frame->pts;

        if (kind == VKS_ITEM_VFRAME) {
            item->keyframe = d->frame->key_frame;
            d->video_frames++;

            d->input.width = d->frame->width;
            d->input.height = d->frame->height;

            if (d->info.width == 0) {
                d->info.width = d->frame->width;
                d->info.height = d->frame->height;
            }

        } else {
            d->audio_frames++;

            if (d->info.audio_rate == 0) {
                d->info.audio_rate = d->frame->sample_rate;
                d->info.audio_channels = d->frame->ch_layout.nb_channels;
            }
        }

        item->frame = av_frame_alloc();
        if (item->frame == NULL) {
            vks_item_free(item);
            av_frame_unref(d->frame);
            continue;
        }

        av_frame_move_ref(item->frame, d->frame);
        vks_decoder_emit(d, item);
    }
}


/* input */

/*
 * A sequence header's payload, kept for the decoder and the copies: 1 when
 * it is new, 0 when empty or as before (a repeat changes nothing), -1 out
 * of memory (the old one is gone).
 */
static int
vks_decoder_keep_config(uint8_t **cfg, int *cfg_len, const uint8_t *data,
    size_t len)
{
    if (len == 0
        || ((size_t) *cfg_len == len && memcmp(*cfg, data, len) == 0))
    {
        return 0;
    }

    free(*cfg);

    *cfg = malloc(len);
    if (*cfg == NULL) {
        *cfg_len = 0;
        return -1;
    }

    memcpy(*cfg, data, len);
    *cfg_len = (int) len;

    return 1;
}


/*
 * A copy decodes nothing, but its muxers need the picture size: the SPS
 * of each new sequence header tells it (a bad one keeps the last size)
 */
static void
vks_decoder_copy_size(vks_decoder_t *d, const uint8_t *avcc, size_t len)
{
    char            err[128];
    vks_h264_sps_t  sps;

    if (vks_h264_sps_avcc(avcc, len, &sps, err, sizeof(err)) != 0) {
        if (!d->sps_warned) {
            d->sps_warned = 1;
            vks_decoder_log(d, VKS_LOG_WARN, "AVC sequence header: %s; "
                            "no picture size for the copies", err);
        }
        return;
    }

    d->info.width = (int) sps.width;
    d->info.height = (int) sps.height;

    if (!d->conf.decode_video) {
        d->input.width = (int) sps.width;
        d->input.height = (int) sps.height;
    }
}


static void
vks_decoder_video(vks_decoder_t *d, uint32_t ts, const uint8_t *data,
    size_t len)
{
    int               frame_ms;
    int64_t           dts;
    vks_item_t       *item;
    vks_flv_video_t   v;

    if (vks_flv_parse_video(data, len, &v) != 0 || d->video_bad) {
        return;
    }

    if (v.codec != VKS_FLV_VIDEO_AVC) {
        if (!d->video_warned) {
            d->video_warned = 1;
            vks_decoder_log(d, VKS_LOG_WARN,
                            "video codec \"%s\" (FLV id %d) "
                            "cannot be transcoded, video skipped",
                            vks_flv_video_codec_name(v.codec), v.codec);
        }

        if (!d->ready) {
            d->video_bad = 1;
        }
        return;
    }

    if (v.avc_type == VKS_FLV_AVC_SEQUENCE) {
        if (vks_decoder_keep_config(&d->info.avcc, &d->info.avcc_len, v.data,
                                    v.len) != 1)
        {
            return;
        }

        if (d->conf.copy_video) {
            vks_decoder_copy_size(d, v.data, v.len);
        }

        if (d->conf.decode_video
            && vks_decoder_open(d, &d->vdec, AV_CODEC_ID_H264, v.data,
                                v.len, 0, 0) != 0)
        {
            vks_decoder_log(d, VKS_LOG_ERR, "cannot open the H.264 decoder");
        }

        strcpy(d->input.vcodec, "h264");

        d->seen_video = 1;

        if (d->ready && d->conf.copy_video) {
            /* a new resolution mid-stream: copies restart their publish */
            item = vks_item_new(VKS_ITEM_VCONFIG);
            if (item) {
                item->info = vks_stream_info_dup(&d->info);
                d->conf.output(d->conf.output_data, item);
            }
        }

        if (d->video_started) {
            vks_decoder_log(d, VKS_LOG_INFO, "new AVC sequence header");
        }

        d->video_started = 0;       /* wait for its keyframe */
        return;
    }

    if (v.avc_type != VKS_FLV_AVC_NALU || d->info.avcc_len == 0) {
        return;
    }

    if (!d->video_started) {
        if (!v.keyframe) {
            return;
        }
        d->video_started = 1;
    }

    d->seen_video = 1;

    frame_ms = d->input.fps > 0 ? (int) (1000 / d->input.fps) : 33;
    dts = vks_timeline_map(&d->tl, VKS_TRACK_VIDEO, ts, frame_ms);

    if (d->last_vdts != INT64_MIN && dts > d->last_vdts && d->video_frames
        < 100 && d->conf.hint_fps <= 0)
    {
        d->input.fps = 1000.0 / (double) (dts - d->last_vdts);
    }
    d->last_vdts = dts;

    if (d->first_key_ms == INT64_MIN) {
        d->first_key_ms = dts;
    }

    if (av_new_packet(d->pkt, (int) v.len) < 0) {
        return;
    }

    memcpy(d->pkt->data, v.data, v.len);
    d->pkt->dts = dts;
    d->pkt->pts = dts + v.cts;
    d->pkt->flags = v.keyframe ? AV_PKT_FLAG_KEY : 0;

    if (d->conf.copy_video) {
        vks_decoder_emit_packet(d, VKS_ITEM_VPKT, d->pkt);
        if (!d->conf.decode_video) {
            d->video_frames++;
        }
    }

    if (d->conf.decode_video && d->vdec) {
        if (avcodec_send_packet(d->vdec, d->pkt) == 0) {
            vks_decoder_emit_frames(d, d->vdec, VKS_ITEM_VFRAME);
        }
    }

    av_packet_unref(d->pkt);
}


static void
vks_decoder_audio(vks_decoder_t *d, uint32_t ts, const uint8_t *data,
    size_t len)
{
    int               codec;
    int64_t           out;
    vks_flv_audio_t   a;

    if (vks_flv_parse_audio(data, len, &a) != 0 || d->audio_bad) {
        return;
    }

    codec = vks_decoder_audio_codec_id(&a);

    if (codec == AV_CODEC_ID_NONE || avcodec_find_decoder(codec) == NULL) {
        if (!d->audio_warned) {
            d->audio_warned = 1;
            vks_decoder_log(d, VKS_LOG_WARN,
                            "audio codec \"%s\" (FLV id %d) "
                            "cannot be transcoded, audio skipped",
                            vks_flv_audio_codec_name(a.format), a.format);
        }

        if (!d->ready) {
            d->audio_bad = 1;
        }
        return;
    }

    if (a.format == VKS_FLV_AUDIO_AAC && a.aac_type == VKS_FLV_AAC_SEQUENCE) {
        if (vks_decoder_keep_config(&d->info.asc, &d->info.asc_len, a.data,
                                    a.len) != 1)
        {
            return;
        }

        avcodec_free_context(&d->adec);
        d->audio_format = -1;
        return;
    }

    if (a.format == VKS_FLV_AUDIO_AAC && d->info.asc_len == 0) {
        return;                     /* raw AAC cannot decode without it */
    }

    if (d->adec == NULL || d->audio_format != a.format
        || d->audio_flv_rate != a.rate || d->audio_flv_channels != a.channels)
    {
        if (vks_decoder_open(d, &d->adec, codec, d->info.asc,
                             a.format == VKS_FLV_AUDIO_AAC
                             ? (size_t) d->info.asc_len : 0,
                             a.rate, a.channels) != 0)
        {
            if (!d->audio_warned) {
                d->audio_warned = 1;
                vks_decoder_log(d, VKS_LOG_WARN,
                                "cannot open the \"%s\" decoder",
                                vks_flv_audio_codec_name(a.format));
            }
            return;
        }

        d->audio_format = a.format;
        d->audio_flv_rate = a.rate;
        d->audio_flv_channels = a.channels;
        d->info.audio_codec = codec;

        if (a.format != VKS_FLV_AUDIO_AAC) {
            d->info.audio_rate = a.rate;
            d->info.audio_channels = a.channels;
        } else {
            d->info.audio_rate = d->adec->sample_rate;
            d->info.audio_channels = d->adec->ch_layout.nb_channels;
        }

        snprintf(d->input.acodec, sizeof(d->input.acodec), "%s",
                 vks_flv_audio_codec_name(a.format));
    }

    d->seen_audio = 1;

    out = vks_timeline_map(&d->tl, VKS_TRACK_AUDIO, ts, 23);

    if (av_new_packet(d->pkt, (int) a.len) < 0) {
        return;
    }

    memcpy(d->pkt->data, a.data, a.len);
    d->pkt->dts = out;
    d->pkt->pts = out;
    d->pkt->flags = AV_PKT_FLAG_KEY;

    if (d->conf.copy_audio && (codec == AV_CODEC_ID_AAC
                          || codec == AV_CODEC_ID_MP3))
    {
        vks_decoder_emit_packet(d, VKS_ITEM_APKT, d->pkt);
        if (!d->conf.decode_audio) {
            d->audio_frames++;
        }
    }

    if (d->conf.decode_audio) {
        if (avcodec_send_packet(d->adec, d->pkt) == 0) {
            vks_decoder_emit_frames(d, d->adec, VKS_ITEM_AFRAME);
        }
    }

    av_packet_unref(d->pkt);
}


/* the state, and the decoder itself */

static void
vks_decoder_drop_pending(vks_decoder_t *d)
{
    vks_item_t  *item, *next;

    for (item = d->pending; item; item = next) {
        next = item->next;
        vks_item_free(item);
    }

    d->pending = NULL;
    d->pending_tail = NULL;
    d->npending = 0;
}


vks_decoder_t *
vks_decoder_create(const vks_decoder_conf_t *conf)
{
    vks_decoder_t  *d;

    d = calloc(1, sizeof(vks_decoder_t));
    if (d == NULL) {
        return NULL;
    }

    d->conf = *conf;
    snprintf(d->name, sizeof(d->name), "%s", conf->name ? conf->name : "");
    d->conf.name = d->name;
    d->first_ms = INT64_MIN;
    d->first_key_ms = INT64_MIN;
    d->last_vdts = INT64_MIN;
    d->audio_format = -1;
    d->input.fps = conf->hint_fps > 0 ? conf->hint_fps : 0;
    vks_timeline_init(&d->tl);

    d->pkt = av_packet_alloc();
    d->frame = av_frame_alloc();

    if (d->pkt == NULL || d->frame == NULL) {
        vks_decoder_free(d);
        return NULL;
    }

    return d;
}


/* one input message: decode it, then see whether the layout is known */
void
vks_decoder_feed(vks_decoder_t *d, int type, uint32_t ts,
    const uint8_t *data, size_t len)
{
    if (type == VKS_PACKET_VIDEO) {
        vks_decoder_video(d, ts, data, len);
    } else {
        vks_decoder_audio(d, ts, data, len);
    }

    if (d->tl.started) {
        if (d->first_ms == INT64_MIN) {
            d->first_ms = d->tl.last_ext;
        }
        d->last_ms = d->tl.last_ext;
    }

    vks_decoder_settle_layout(d);
}


void
vks_decoder_flush(vks_decoder_t *d)
{
    /* the decoders' delayed frames (frame threads, reordering) go out */
    if (d->conf.decode_video && d->vdec
        && avcodec_send_packet(d->vdec, NULL) == 0)
    {
        vks_decoder_emit_frames(d, d->vdec, VKS_ITEM_VFRAME);
    }

    if (d->conf.decode_audio && d->adec
        && avcodec_send_packet(d->adec, NULL) == 0)
    {
        vks_decoder_emit_frames(d, d->adec, VKS_ITEM_AFRAME);
    }

    vks_decoder_drop_pending(d);
}


const vks_decoder_input_t *
vks_decoder_input(vks_decoder_t *d)
{
    return &d->input;
}


void
vks_decoder_free(vks_decoder_t *d)
{
    vks_decoder_drop_pending(d);

    avcodec_free_context(&d->vdec);
    avcodec_free_context(&d->adec);
    av_packet_free(&d->pkt);
    av_frame_free(&d->frame);
    free(d->info.avcc);
    free(d->info.asc);
    free(d);
}
