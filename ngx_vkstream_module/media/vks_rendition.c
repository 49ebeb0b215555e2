
/*
 * vkstream media: one rendition: scale + encode (or copy) + RTMP output.
 */


#ifndef _GNU_SOURCE
#define _GNU_SOURCE                 /* SCHED_IDLE */
#endif

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#include "vks_clock.h"
#include "vks_llhls_writer.h"
#include "vks_rendition.h"
#include "vks_rtmp_pub.h"
#include "util/vks_thread.h"


/* decoded frames are large: a second of video is all we hold back */
#define VKS_MAX_QUEUED_VIDEO   32
#define VKS_MAX_QUEUED_AUDIO   256
#define VKS_RETRY_MS           2000
#define VKS_IO_TIMEOUT_MS      5000
#define VKS_FINISH_BUDGET_MS   800
#define VKS_DRAIN_BUDGET_MS    500     /* queued frames at the end */
#define VKS_STATS_WINDOW_MS    1000
#define VKS_OUTPUT_BUFFER      65536   /* the muxer's; a tag per flush */

/* libavformat 61 made the buffer of a write callback const */
#if LIBAVFORMAT_VERSION_MAJOR >= 61
#define VKS_AVIO_WRITE_BUF     const uint8_t
#else
#define VKS_AVIO_WRITE_BUF     uint8_t
#endif


struct vks_rendition_s {
    vks_rendition_conf_t    conf;
    char                   *url;
    char                   *playpath;
    int                     max_gop_ms;
    int                     nice;
    int                     sched;
    vks_log_pt              log;
    void                   *log_data;
    char                   *llhls_dir;      /* NULL: no LL-HLS output */
    unsigned                llhls_part_target_ms;
    unsigned                llhls_window;

    int                     inline_mode;    /* no thread: the caller's */
    int                     hold_ms;        /* env hold_ms */
    pthread_t               thread;
    pthread_mutex_t         mutex;
    pthread_cond_t          cond;
    vks_item_t             *head;
    vks_item_t             *tail;
    int                     queued_video;
    int                     queued_audio;
    int                     shedding;
    int                     control;
    int                     finishing;
    int64_t                 abort_at;       /* I/O deadline, ms */
    int64_t                 drain_by;       /* queued frames, at the end */

    vks_rendition_stats_t   stats;          /* under mutex */

    /* rendition thread only */
    vks_stream_info_t      *info;
    AVFormatContext        *oc;
    vks_rtmp_pub_t         *pub;            /* oc's output */
    AVStream               *vst;
    AVStream               *ast;
    AVCodecContext         *venc;
    AVCodecContext         *aenc;
    struct SwsContext      *sws;
    SwrContext             *swr;
    AVAudioFifo            *fifo;
    AVPacket               *pkt;
    int                     out_w;
    int                     out_h;
    int64_t                 last_vpts;
    int64_t                 last_idr_ms;
    int64_t                 next_frame_ms;  /* fps cap */
    int64_t                 audio_next;     /* in encoder samples */
    int                     audio_synced;
    int                     stopped;
    int                     output_failed;
    int64_t                 retry_at;
    int                     need_key;
    int64_t                 win_start;
    int64_t                 win_media_start;
    int64_t                 win_frames;
    int64_t                 win_bytes;
    int64_t                 media_ms;
    vks_llhls_writer_t     *llhls;
    int                     llhls_off;      /* failed or not possible */

    /* the ladder, and the GOP being measured for the classic master */
    vks_hls_ladder_t       *ladder;
    int                     ladder_index;
    int                     joined;
    int64_t                 gop_start_ms;   /* -1: none yet */
    uint64_t                gop_bytes;
    unsigned                gop_vframes;
    unsigned                gop_aframes;
};


static void vks_rendition_llhls_open(vks_rendition_t *r);
static int vks_rendition_send_inline(vks_rendition_t *r, vks_item_t *item);
static void vks_rendition_handle(vks_rendition_t *r, vks_item_t *item);
static void vks_rendition_apply_control(vks_rendition_t *r, int control);
static void vks_rendition_wind_up(vks_rendition_t *r);
static void vks_rendition_ladder_join(vks_rendition_t *r);
static void vks_rendition_ladder_leave(vks_rendition_t *r);
static void vks_rendition_ladder_packet(vks_rendition_t *r, AVPacket *pkt,
    int video);


static void
vks_rendition_log(vks_rendition_t *r, int level, const char *fmt, ...)
{
    char     msg[512];
    int      n;
    va_list  args;

    n = snprintf(msg, sizeof(msg), "vkstream: rendition \"%s\": ",
                 r->conf.suffix);

    va_start(args, fmt);
    vsnprintf(msg + n, sizeof(msg) - n, fmt, args);
    va_end(args);

    if (r->log) {
        r->log(r->log_data, level, msg);
    }
}


static void
vks_rendition_set_error(vks_rendition_t *r, const char *what, int err)
{
    char  buf[AV_ERROR_MAX_STRING_SIZE];

    av_strerror(err, buf, sizeof(buf));

    pthread_mutex_lock(&r->mutex);
    snprintf(r->stats.last_error, sizeof(r->stats.last_error), "%s: %s",
             what, buf);
    pthread_mutex_unlock(&r->mutex);

    vks_rendition_log(r, VKS_LOG_ERR, "%s: %s", what, buf);
}


static void
vks_rendition_set_error_text(vks_rendition_t *r, const char *what,
    const char *reason)
{
    char    msg[512];
    size_t  n;

    snprintf(msg, sizeof(msg), "%s: %s", what, reason);

    /* last_error is shorter than a connection's reasons can be */
    n = strlen(msg);
    if (n >= sizeof(r->stats.last_error)) {
        n = sizeof(r->stats.last_error) - 1;
    }

    pthread_mutex_lock(&r->mutex);
    memcpy(r->stats.last_error, msg, n);
    r->stats.last_error[n] = '\0';
    pthread_mutex_unlock(&r->mutex);

    vks_rendition_log(r, VKS_LOG_ERR, "%s: %s", what, reason);
}


static void
vks_rendition_set_state(vks_rendition_t *r, int state)
{
    pthread_mutex_lock(&r->mutex);
    r->stats.state = state;
    pthread_mutex_unlock(&r->mutex);
}


/*
 * A video frame offered but not encoded: every frame in is either out or
 * dropped.  A rendition stopped on purpose drops nothing.
 */
static void
vks_rendition_count_drop(vks_rendition_t *r)
{
    if (r->stopped) {
        return;
    }

    pthread_mutex_lock(&r->mutex);
    r->stats.frames_dropped++;
    pthread_mutex_unlock(&r->mutex);
}


/* queue between the decoder thread and this rendition's thread */

int
vks_rendition_send(vks_rendition_t *r, vks_item_t *item)
{
    int  video, drop;

    if (r->inline_mode) {
        return vks_rendition_send_inline(r, item);
    }

    video = item->kind == VKS_ITEM_VFRAME || item->kind == VKS_ITEM_VPKT;
    drop = 0;

    pthread_mutex_lock(&r->mutex);

    if (video) {
        r->stats.frames_in++;

        if (r->shedding && item->keyframe
            && r->queued_video < VKS_MAX_QUEUED_VIDEO / 2)
        {
            r->shedding = 0;
        }

        if (r->shedding || r->queued_video >= VKS_MAX_QUEUED_VIDEO) {
            /* behind: skip to the next keyframe rather than buffer */
            r->shedding = 1;
            r->stats.frames_dropped++;
            drop = 1;
        }

    } else if ((item->kind == VKS_ITEM_AFRAME || item->kind == VKS_ITEM_APKT)
               && r->queued_audio >= VKS_MAX_QUEUED_AUDIO)
    {
        drop = 1;
    }

    if (!drop && r->finishing) {
        drop = 1;
        r->stats.frames_dropped += video;
    }

    if (drop) {
        pthread_mutex_unlock(&r->mutex);
        vks_item_free(item);
        return 1;
    }

    if (video) {
        r->queued_video++;
    } else if (item->kind == VKS_ITEM_AFRAME || item->kind == VKS_ITEM_APKT) {
        r->queued_audio++;
    }

    if (item->kind == VKS_ITEM_EOS) {
        /*
         * Teardown is bounded: what is queued is still encoded until the
         * deadline, the rest is dropped (vks_rendition_thread()).
         */
        r->finishing = 1;
        r->drain_by = vks_now_ms() + VKS_DRAIN_BUDGET_MS;
        r->abort_at = r->drain_by + VKS_FINISH_BUDGET_MS;
    }

    item->next = NULL;
    if (r->tail) {
        r->tail->next = item;
    } else {
        r->head = item;
    }
    r->tail = item;

    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->mutex);

    return 0;
}


/*
 * Inline: the item is handled at once on the caller's (the context's)
 * thread, so nothing queues and no thread is woken; a control waiting is
 * applied first, as the thread would have.
 */
static int
vks_rendition_send_inline(vks_rendition_t *r, vks_item_t *item)
{
    int  video, control, finishing;

    video = item->kind == VKS_ITEM_VFRAME || item->kind == VKS_ITEM_VPKT;

    pthread_mutex_lock(&r->mutex);

    control = r->control;
    r->control = 0;
    finishing = r->finishing;

    if (video) {
        r->stats.frames_in++;
        r->stats.frames_dropped += finishing;
    }

    pthread_mutex_unlock(&r->mutex);

    if (control) {
        vks_rendition_apply_control(r, control);
    }

    if (finishing || item->kind == VKS_ITEM_EOS) {
        vks_item_free(item);
        return 1;
    }

    vks_rendition_handle(r, item);

    return 0;
}


void
vks_rendition_poll(vks_rendition_t *r)
{
    int  control;

    if (!r->inline_mode) {
        return;
    }

    pthread_mutex_lock(&r->mutex);
    control = r->finishing ? 0 : r->control;
    r->control = 0;
    pthread_mutex_unlock(&r->mutex);

    if (control) {
        vks_rendition_apply_control(r, control);
    }
}


int
vks_rendition_is_inline(vks_rendition_t *r)
{
    return r->inline_mode;
}


static vks_item_t *
vks_rendition_pop(vks_rendition_t *r, int *control, int *late, int *last)
{
    vks_item_t  *item;

    pthread_mutex_lock(&r->mutex);

    while (r->head == NULL && r->control == 0 && !r->finishing) {
        pthread_cond_wait(&r->cond, &r->mutex);
    }

    *control = r->control;
    if (r->head == NULL && r->finishing) {
        *control = -1;
    }
    r->control = 0;

    item = r->head;
    if (item) {
        r->head = item->next;
        if (r->head == NULL) {
            r->tail = NULL;
        }

        if (item->kind == VKS_ITEM_VFRAME || item->kind == VKS_ITEM_VPKT) {
            r->queued_video--;
        } else if (item->kind == VKS_ITEM_AFRAME
                   || item->kind == VKS_ITEM_APKT)
        {
            r->queued_audio--;
        }
    }

    /* past the end's budget, what is left is dropped */
    *late = item && item->kind != VKS_ITEM_EOS && r->finishing
            && vks_now_ms() > r->drain_by;

    /* nothing more to encode now: the output held may go */
    *last = item && r->head == NULL;

    pthread_mutex_unlock(&r->mutex);

    return item;
}


void
vks_rendition_control(vks_rendition_t *r, int cmd)
{
    pthread_mutex_lock(&r->mutex);
    r->control = cmd;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->mutex);
}


void
vks_rendition_stats(vks_rendition_t *r, vks_rendition_stats_t *st)
{
    pthread_mutex_lock(&r->mutex);
    *st = r->stats;
    pthread_mutex_unlock(&r->mutex);
}


const vks_rendition_conf_t *
vks_rendition_conf(vks_rendition_t *r)
{
    return &r->conf;
}


/* encoders */

static int
vks_rendition_open_video_encoder(vks_rendition_t *r, int w, int h)
{
    int              rc, gop;
    char             opt[32];
    double           fps;
    const AVCodec   *codec;
    AVCodecContext  *enc;

    codec = avcodec_find_encoder_by_name("libx264");
    if (codec == NULL) {
        vks_rendition_set_error(r, "libx264 encoder",
                                AVERROR_ENCODER_NOT_FOUND);
        return -1;
    }

    enc = avcodec_alloc_context3(codec);
    if (enc == NULL) {
        return -1;
    }

    fps = r->info->fps > 0 ? r->info->fps : 30;
    if (r->conf.fps && r->conf.fps < fps) {
        fps = r->conf.fps;
    }

    vks_rendition_size(&r->conf, w, h, &r->out_w, &r->out_h);

    enc->width = r->out_w;
    enc->height = r->out_h;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = (AVRational) { 1, 1000 };
    enc->framerate = av_d2q(fps, 1000);
    enc->sample_aspect_ratio = (AVRational) { 1, 1 };
    enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    enc->thread_count = r->conf.threads;

    /* IDRs are placed where the source has keyframes; this is a backstop */
    gop = (int) (fps * r->max_gop_ms / 1000) + 1;
    enc->gop_size = gop;
    enc->keyint_min = 1;

    if (r->conf.bitrate) {
        enc->bit_rate = r->conf.bitrate;
    }

    if (r->conf.maxrate) {
        enc->rc_max_rate = r->conf.maxrate;
        enc->rc_buffer_size = r->conf.bufsize ? r->conf.bufsize
                                              : r->conf.maxrate * 2;

    } else if (r->conf.bitrate && r->conf.crf >= 0) {
        /* "-crf N -b:v R": R caps the crf encode */
        enc->rc_max_rate = r->conf.bitrate;
        enc->rc_buffer_size = r->conf.bufsize ? r->conf.bufsize
                                              : r->conf.bitrate * 2;
    }

    if (r->conf.level) {
        enc->level = r->conf.level;
    }

    av_opt_set(enc->priv_data, "preset", r->conf.preset, 0);

    if (r->conf.tune[0]) {
        av_opt_set(enc->priv_data, "tune", r->conf.tune, 0);
    }

    if (r->conf.profile[0]) {
        av_opt_set(enc->priv_data, "profile", r->conf.profile, 0);
    }

    if (r->conf.crf >= 0) {
        snprintf(opt, sizeof(opt), "%d", r->conf.crf);
        av_opt_set(enc->priv_data, "crf", opt, 0);
    }

    av_opt_set(enc->priv_data, "forced-idr", "1", 0);
    av_opt_set(enc->priv_data, "x264-params", "scenecut=0", 0);

    rc = avcodec_open2(enc, codec, NULL);
    if (rc < 0) {
        avcodec_free_context(&enc);
        vks_rendition_set_error(r, "opening libx264", rc);
        return -1;
    }

    r->venc = enc;
    r->last_vpts = INT64_MIN;
    r->last_idr_ms = INT64_MIN;

    pthread_mutex_lock(&r->mutex);
    r->stats.width = r->out_w;
    r->stats.height = r->out_h;
    pthread_mutex_unlock(&r->mutex);

    return 0;
}


static int
vks_rendition_open_audio_encoder(vks_rendition_t *r)
{
    int              rc, rate, channels;
    const AVCodec   *codec;
    AVCodecContext  *enc;

    codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (codec == NULL) {
        vks_rendition_set_error(r, "aac encoder", AVERROR_ENCODER_NOT_FOUND);
        return -1;
    }

    enc = avcodec_alloc_context3(codec);
    if (enc == NULL) {
        return -1;
    }

    rate = r->conf.audio_rate ? r->conf.audio_rate : r->info->audio_rate;
    channels = r->conf.audio_channels ? r->conf.audio_channels
                                      : r->info->audio_channels;

    /* FLV carries AAC at these rates only (and players expect them) */
    if (rate != 44100 && rate != 48000 && rate != 22050 && rate != 11025
        && rate != 32000 && rate != 24000 && rate != 16000)
    {
        rate = 44100;
    }

    if (channels < 1 || channels > 2) {
        channels = 2;
    }

    enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
    enc->sample_rate = rate;
    av_channel_layout_default(&enc->ch_layout, channels);
    enc->bit_rate = r->conf.audio_bitrate;
    enc->time_base = (AVRational) { 1, rate };
    enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

    rc = avcodec_open2(enc, codec, NULL);
    if (rc < 0) {
        avcodec_free_context(&enc);
        vks_rendition_set_error(r, "opening the AAC encoder", rc);
        return -1;
    }

    r->fifo = av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, channels,
                                  enc->frame_size * 4);
    if (r->fifo == NULL) {
        avcodec_free_context(&enc);
        return -1;
    }

    r->aenc = enc;
    r->audio_synced = 0;

    return 0;
}


/* output */

static int
vks_rendition_interrupt(void *data)
{
    int64_t           deadline;
    vks_rendition_t  *r = data;

    pthread_mutex_lock(&r->mutex);
    deadline = r->abort_at;
    pthread_mutex_unlock(&r->mutex);

    return deadline && vks_now_ms() > deadline;
}


static void
vks_rendition_io_deadline(vks_rendition_t *r, int ms)
{
    pthread_mutex_lock(&r->mutex);
    if (!r->finishing) {
        r->abort_at = vks_now_ms() + ms;
    }
    pthread_mutex_unlock(&r->mutex);
}


/* the muxer writes FLV here: each tag goes out as one RTMP message */
static int
vks_rendition_output_write(void *data, VKS_AVIO_WRITE_BUF *buf, int size)
{
    vks_rendition_t  *r = data;

    if (r->pub == NULL || vks_rtmp_pub_write(r->pub, buf, size) != 0) {
        return AVERROR(EIO);
    }

    return size;
}


static void
vks_rendition_output_free(vks_rendition_t *r, AVFormatContext *oc)
{
    if (oc->pb) {
        av_freep(&oc->pb->buffer);
        avio_context_free(&oc->pb);
    }

    vks_rtmp_pub_close(r->pub);
    r->pub = NULL;
}


/* the connection's own reason when it was the connection that failed */
static void
vks_rendition_output_error(vks_rendition_t *r, const char *what, int err)
{
    if (err == AVERROR(EIO) && r->pub) {
        vks_rendition_set_error_text(r, what, vks_rtmp_pub_error(r->pub));
        return;
    }

    vks_rendition_set_error(r, what, err);
}


static void
vks_rendition_close_output(vks_rendition_t *r, int clean)
{
    if (r->oc == NULL) {
        return;
    }

    vks_rendition_ladder_leave(r);

    if (clean) {
        vks_rendition_io_deadline(r, VKS_FINISH_BUDGET_MS);
        av_write_trailer(r->oc);
    }

    /* ends the RTMP publish: the HLS application closes the playlist */
    vks_rendition_output_free(r, r->oc);
    avformat_free_context(r->oc);
    r->oc = NULL;
    r->vst = NULL;
    r->ast = NULL;
}


/* the output broke: closed now, opened again after VKS_RETRY_MS */
static void
vks_rendition_output_failed(vks_rendition_t *r, int err)
{
    vks_rendition_output_error(r, "sending to the output", err);
    vks_rendition_close_output(r, 0);
    r->output_failed = 1;
    r->retry_at = vks_now_ms() + VKS_RETRY_MS;
    vks_rendition_set_state(r, VKS_STATE_FAILED);
}


static int
vks_rendition_open_output(vks_rendition_t *r)
{
    int                 rc;
    char                err[256];
    uint8_t            *buf;
    AVStream           *st;
    AVDictionary       *opts;
    AVFormatContext    *oc;
    AVCodecParameters  *par;

    rc = avformat_alloc_output_context2(&oc, NULL, "flv", NULL);
    if (rc < 0) {
        vks_rendition_set_error(r, "flv muxer", rc);
        return -1;
    }

    oc->interrupt_callback.callback = vks_rendition_interrupt;
    oc->interrupt_callback.opaque = r;
    oc->max_interleave_delta = 300000;
    oc->flags |= AVFMT_FLAG_FLUSH_PACKETS;

    if (r->venc || (r->conf.video_mode == VKS_MODE_COPY
                    && r->info->has_video))
    {
        st = avformat_new_stream(oc, NULL);
        if (st == NULL) {
            goto failed;
        }

        st->time_base = (AVRational) { 1, 1000 };

        if (r->venc) {
            avcodec_parameters_from_context(st->codecpar, r->venc);

        } else {
            par = st->codecpar;
            par->codec_type = AVMEDIA_TYPE_VIDEO;
            par->codec_id = AV_CODEC_ID_H264;
            par->width = r->info->width;
            par->height = r->info->height;

            /* the source's size, from its SPS (vks_h264_sps) */
            r->out_w = par->width;
            r->out_h = par->height;

            pthread_mutex_lock(&r->mutex);
            r->stats.width = r->out_w;
            r->stats.height = r->out_h;
            pthread_mutex_unlock(&r->mutex);

            if (r->info->avcc_len) {
                par->extradata = av_mallocz(r->info->avcc_len
                                            + AV_INPUT_BUFFER_PADDING_SIZE);
                if (par->extradata == NULL) {
                    goto failed;
                }
                memcpy(par->extradata, r->info->avcc, r->info->avcc_len);
                par->extradata_size = r->info->avcc_len;
            }
        }

        r->vst = st;
    }

    if (r->aenc || (r->conf.audio_mode == VKS_MODE_COPY
                    && r->info->has_audio))
    {
        st = avformat_new_stream(oc, NULL);
        if (st == NULL) {
            goto failed;
        }

        st->time_base = (AVRational) { 1, 1000 };

        if (r->aenc) {
            avcodec_parameters_from_context(st->codecpar, r->aenc);

        } else {
            par = st->codecpar;
            par->codec_type = AVMEDIA_TYPE_AUDIO;
            par->codec_id = r->info->audio_codec;
            par->sample_rate = r->info->audio_rate;
            av_channel_layout_default(&par->ch_layout,
                                      r->info->audio_channels);

            if (r->info->asc_len) {
                par->extradata = av_mallocz(r->info->asc_len
                                            + AV_INPUT_BUFFER_PADDING_SIZE);
                if (par->extradata == NULL) {
                    goto failed;
                }
                memcpy(par->extradata, r->info->asc, r->info->asc_len);
                par->extradata_size = r->info->asc_len;
            }
        }

        r->ast = st;
    }

    if (oc->nb_streams == 0) {
        goto failed;
    }

    vks_rendition_io_deadline(r, VKS_IO_TIMEOUT_MS);

    r->pub = vks_rtmp_pub_open(r->url, r->conf.app, r->playpath,
                               vks_rendition_interrupt, r, err, sizeof(err));
    if (r->pub == NULL) {
        vks_rendition_set_error_text(r, "connecting to the output", err);
        goto failed_quiet;
    }

    vks_rtmp_pub_hold(r->pub, r->hold_ms);

    buf = av_malloc(VKS_OUTPUT_BUFFER);
    if (buf) {
        oc->pb = avio_alloc_context(buf, VKS_OUTPUT_BUFFER, 1, r, NULL,
                                    vks_rendition_output_write, NULL);
    }

    if (oc->pb == NULL) {
        av_free(buf);
        vks_rendition_output_free(r, oc);
        goto failed;
    }

    oc->flags |= AVFMT_FLAG_CUSTOM_IO;

    opts = NULL;
    av_dict_set(&opts, "flvflags", "no_duration_filesize", 0);

    rc = avformat_write_header(oc, &opts);
    av_dict_free(&opts);

    if (rc < 0) {
        vks_rendition_output_error(r, "writing the FLV header", rc);
        vks_rendition_output_free(r, oc);
        goto failed_quiet;
    }

    r->oc = oc;
    r->output_failed = 0;
    r->need_key = 1;

    vks_rendition_ladder_join(r);
    vks_rendition_llhls_open(r);

    vks_rendition_set_state(r, VKS_STATE_RUNNING);
    vks_rendition_log(r, VKS_LOG_INFO, "publishing %dx%d to the output",
                      r->out_w, r->out_h);

    return 0;

failed:

    vks_rendition_set_error(r, "setting up the output", AVERROR(ENOMEM));

failed_quiet:

    avformat_free_context(oc);
    r->vst = NULL;
    r->ast = NULL;
    r->output_failed = 1;
    r->retry_at = vks_now_ms() + VKS_RETRY_MS;
    vks_rendition_set_state(r, VKS_STATE_FAILED);

    return -1;
}


/* LL-HLS: the same packets again, as CMAF files nginx serves */

static void
vks_rendition_llhls_fail(vks_rendition_t *r, const char *err)
{
    /* the RTMP output is not touched: only this one stops */
    vks_rendition_log(r, VKS_LOG_ERR, "LL-HLS: %s; LL-HLS is off for this "
                      "rendition", err);

    if (r->llhls) {
        vks_llhls_writer_close(r->llhls, 0, NULL, 0);
        r->llhls = NULL;
    }

    r->llhls_off = 1;
}


/* with the output's streams: the same parameters in both containers */
static void
vks_rendition_llhls_open(vks_rendition_t *r)
{
    char                     err[256];
    vks_llhls_writer_conf_t  wc;

    if (r->llhls_dir == NULL || r->llhls || r->llhls_off || r->oc == NULL) {
        return;
    }

    if (r->vst == NULL || r->vst->codecpar->codec_id != AV_CODEC_ID_H264) {
        vks_rendition_log(r, VKS_LOG_INFO, "LL-HLS: no H.264 video, no "
                          "LL-HLS output");
        r->llhls_off = 1;
        return;
    }

    memset(&wc, 0, sizeof(vks_llhls_writer_conf_t));
    wc.dir = r->llhls_dir;
    wc.part_target_ms = r->llhls_part_target_ms;
    wc.window = r->llhls_window;
    wc.video = r->vst->codecpar;
    wc.audio = r->ast ? r->ast->codecpar : NULL;
    wc.ladder = r->ladder;
    wc.ladder_index = r->ladder_index;

    r->llhls = vks_llhls_writer_open(&wc, err, sizeof(err));
    if (r->llhls == NULL) {
        vks_rendition_llhls_fail(r, err);
        return;
    }

    vks_rendition_log(r, VKS_LOG_INFO, "LL-HLS: writing \"%s\"",
                      r->llhls_dir);
}


/* the ladder: what this output is, for the master playlists */

static void
vks_rendition_ladder_join(vks_rendition_t *r)
{
    char                      err[VKS_HLS_CODEC_ERR_LEN];
    vks_hls_output_t          out;
    const AVCodecParameters  *par;

    if (r->ladder == NULL) {
        return;
    }

    memset(&out, 0, sizeof(vks_hls_output_t));

    if (r->vst) {
        par = r->vst->codecpar;

        if (par->codec_id != AV_CODEC_ID_H264
            || vks_hls_codec_h264_extradata(par->extradata,
                                            par->extradata_size,
                                            out.video_codec, err,
                                            sizeof(err)) != 0)
        {
            vks_rendition_log(r, VKS_LOG_WARN, "left out of the master "
                              "playlists: no H.264 parameters (%s)",
                              par->codec_id == AV_CODEC_ID_H264
                              ? err : "not H.264");
            return;
        }

        out.width = par->width;
        out.height = par->height;
        out.frame_rate = r->venc ? av_q2d(r->venc->framerate) : r->info->fps;
    }

    if (r->ast) {
        par = r->ast->codecpar;
        out.audio_rate = par->sample_rate;

        if (par->codec_id == AV_CODEC_ID_AAC) {
            if (vks_hls_codec_aac(par->extradata, par->extradata_size,
                                  out.audio_codec, NULL, err, sizeof(err))
                != 0)
            {
                /* the usual: an encoder's or a publisher's AAC-LC */
                strcpy(out.audio_codec, "mp4a.40.2");
            }

            out.ll_audio = par->sample_rate > 0;

        } else if (par->codec_id == AV_CODEC_ID_MP3) {
            strcpy(out.audio_codec, "mp4a.40.34");
        }
    }

    if (out.video_codec[0] == '\0' && out.audio_codec[0] == '\0') {
        return;
    }

    vks_hls_ladder_join(r->ladder, r->ladder_index, &out);

    r->joined = 1;
    r->gop_start_ms = -1;
}


static void
vks_rendition_ladder_leave(vks_rendition_t *r)
{
    if (r->joined) {
        vks_hls_ladder_leave(r->ladder, r->ladder_index);
        r->joined = 0;
    }
}


/*
 * A GOP, from one keyframe to the next, is measured as nginx-rtmp would
 * write it in MPEG-TS (its segments are one or more GOPs); audio-only
 * outputs count per second
 */
static void
vks_rendition_ladder_packet(vks_rendition_t *r, AVPacket *pkt, int video)
{
    int64_t  ms, end;

    if (pkt->dts == AV_NOPTS_VALUE) {
        return;
    }

    ms = pkt->dts;                      /* the output's 1/1000 timebase */
    end = (r->vst ? video && (pkt->flags & AV_PKT_FLAG_KEY)
                  : ms - r->gop_start_ms >= 1000);

    if (end && r->gop_start_ms >= 0 && ms > r->gop_start_ms) {
        vks_hls_ladder_measure(r->ladder, r->ladder_index, VKS_HLS_TS,
                               vks_hls_ts_bytes(r->gop_bytes,
                                                r->gop_vframes,
                                                r->gop_aframes),
                               (uint32_t) (ms - r->gop_start_ms));
    }

    if (end || r->gop_start_ms < 0) {
        if (r->vst && !(video && (pkt->flags & AV_PKT_FLAG_KEY))) {
            return;                     /* a GOP starts at a keyframe */
        }

        r->gop_start_ms = ms;
        r->gop_bytes = 0;
        r->gop_vframes = 0;
        r->gop_aframes = 0;
    }

    r->gop_bytes += pkt->size;
    r->gop_vframes += video;
    r->gop_aframes += !video;
}


/* the stream ended here: the last part, EXT-X-ENDLIST */
static void
vks_rendition_llhls_close(vks_rendition_t *r)
{
    char  err[256];

    if (r->llhls == NULL) {
        return;
    }

    if (vks_llhls_writer_close(r->llhls, 1, err, sizeof(err)) != 0) {
        vks_rendition_log(r, VKS_LOG_ERR, "LL-HLS: %s", err);
    }

    r->llhls = NULL;
}


/* the wall clock of a picture's media time, for PROGRAM-DATE-TIME */
static void
vks_rendition_llhls_anchor(vks_rendition_t *r, int64_t ms)
{
    struct timespec  ts;

    if (r->llhls == NULL) {
        return;
    }

    clock_gettime(CLOCK_REALTIME, &ts);
    vks_llhls_writer_anchor(r->llhls, ms,
                            (int64_t) ts.tv_sec * 1000
                            + ts.tv_nsec / 1000000);
}


static void
vks_rendition_llhls_packet(vks_rendition_t *r, AVPacket *pkt, int video,
    AVRational tb)
{
    int   rc;
    char  err[256];

    rc = video ? vks_llhls_writer_video(r->llhls, pkt, tb, err, sizeof(err))
               : vks_llhls_writer_audio(r->llhls, pkt, tb, err, sizeof(err));

    if (rc != 0) {
        vks_rendition_llhls_fail(r, err);
    }
}


static void
vks_rendition_account(vks_rendition_t *r, AVPacket *pkt, int video)
{
    int64_t  now, dt;

    now = vks_now_ms();

    pthread_mutex_lock(&r->mutex);

    r->stats.bytes_out += pkt->size;
    r->win_bytes += pkt->size;

    if (video) {
        r->stats.frames_out++;
        r->win_frames++;
    }

    if (r->win_start == 0) {
        r->win_start = now;
        r->win_media_start = r->media_ms;

    } else if (now - r->win_start >= VKS_STATS_WINDOW_MS) {
        dt = now - r->win_start;
        r->stats.encode_fps = r->win_frames * 1000.0 / dt;
        r->stats.speed = (double) (r->media_ms - r->win_media_start) / dt;

        if (r->media_ms > r->win_media_start) {
            r->stats.bitrate_kbps = r->win_bytes * 8.0
                                    / (r->media_ms - r->win_media_start);
        }

        r->win_start = now;
        r->win_media_start = r->media_ms;
        r->win_frames = 0;
        r->win_bytes = 0;
    }

    pthread_mutex_unlock(&r->mutex);
}


static int
vks_rendition_write(vks_rendition_t *r, AVPacket *pkt, AVStream *st,
    AVRational tb)
{
    int  rc, video;

    if (r->oc == NULL || st == NULL) {
        av_packet_unref(pkt);
        return 0;
    }

    video = st == r->vst;

    if (r->llhls) {
        vks_rendition_llhls_packet(r, pkt, video, tb);
    }

    av_packet_rescale_ts(pkt, tb, st->time_base);

    if (r->joined) {
        vks_rendition_ladder_packet(r, pkt, video);
    }
    pkt->stream_index = st->index;

    if (pkt->dts != AV_NOPTS_VALUE && pkt->dts > r->media_ms) {
        r->media_ms = pkt->dts;
    }

    vks_rendition_account(r, pkt, video);
    vks_rendition_io_deadline(r, VKS_IO_TIMEOUT_MS);

    rc = av_interleaved_write_frame(r->oc, pkt);
    if (rc < 0) {
        vks_rendition_output_failed(r, rc);
        return -1;
    }

    return 0;
}


void
vks_rendition_flush(vks_rendition_t *r)
{
    /* pub is there exactly while the output is open */
    if (r->pub && vks_rtmp_pub_flush(r->pub) != 0) {
        vks_rendition_output_failed(r, AVERROR(EIO));
    }
}


static int
vks_rendition_drain(vks_rendition_t *r, AVCodecContext *enc, AVStream **st)
{
    int  rc;

    for ( ;; ) {
        rc = avcodec_receive_packet(enc, r->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) {
            return 0;
        }

        if (rc < 0) {
            vks_rendition_set_error(r, "encoding", rc);
            return -1;
        }

        /* *st: the output may be closed (and reopened) while draining */
        vks_rendition_write(r, r->pkt, *st, enc->time_base);
    }
}


/* media */

/*
 * An LL-HLS segment must not outgrow TARGETDURATION: the last picture
 * that still fits becomes an IDR when the source's keyframe is late
 */
static int
vks_rendition_llhls_idr_due(vks_rendition_t *r, int64_t ms)
{
    int64_t   frame;
    uint32_t  limit;

    if (r->llhls == NULL || r->last_idr_ms == INT64_MIN) {
        return 0;
    }

    limit = vks_llhls_writer_segment_limit_ms(r->llhls);
    if (limit == 0) {
        return 0;
    }

    frame = r->venc->framerate.num > 0
            ? 1000LL * r->venc->framerate.den / r->venc->framerate.num : 40;

    return ms - r->last_idr_ms + frame > limit;
}


static int
vks_rendition_want_output(vks_rendition_t *r, int keyframe)
{
    if (r->stopped) {
        return 0;
    }

    if (r->oc) {
        return 1;
    }

    /* (re)connect only where a rendition may start: at a keyframe */
    if (!keyframe || (r->output_failed && vks_now_ms() < r->retry_at)) {
        return 0;
    }

    return vks_rendition_open_output(r) == 0;
}


/* no video goes out: audio need not wait for a keyframe to start */
static int
vks_rendition_audio_only(vks_rendition_t *r)
{
    return !(r->info->has_video && r->conf.video_mode != VKS_MODE_NONE);
}


/* 0 when the frame went to the encoder, -1 when it was not encoded */
static int
vks_rendition_video_frame(vks_rendition_t *r, vks_item_t *item)
{
    int       rc, key;
    AVFrame  *in, *out;

    in = item->frame;
    key = item->keyframe;

    if (r->venc == NULL
        && vks_rendition_open_video_encoder(r, in->width, in->height))
    {
        return -1;
    }

    if (!key && r->last_idr_ms != INT64_MIN
        && item->ms - r->last_idr_ms >= r->max_gop_ms)
    {
        key = 1;                        /* long source GOP: the backstop */
    }

    if (!key && vks_rendition_llhls_idr_due(r, item->ms)) {
        key = 1;
    }

    if (r->conf.fps && !key && item->ms < r->next_frame_ms) {
        return -1;
    }

    if (item->ms <= r->last_vpts) {
        return -1;                      /* encoders need rising pts */
    }

    if (!vks_rendition_want_output(r, key)) {
        return -1;
    }

    if (r->need_key) {
        key = 1;
        r->need_key = 0;
    }

    vks_rendition_llhls_anchor(r, item->ms);

    /* any source pixel format and size: always yuv420p at our size */
    r->sws = sws_getCachedContext(r->sws, in->width, in->height, in->format,
                                  r->out_w, r->out_h, AV_PIX_FMT_YUV420P,
                                  SWS_BICUBIC, NULL, NULL, NULL);
    if (r->sws == NULL) {
        vks_rendition_set_error(r, "scaler", AVERROR(EINVAL));
        return -1;
    }

    out = av_frame_alloc();
    if (out == NULL) {
        return -1;
    }

    out->format = AV_PIX_FMT_YUV420P;
    out->width = r->out_w;
    out->height = r->out_h;

    rc = av_frame_get_buffer(out, 0);
    if (rc < 0) {
        av_frame_free(&out);
        return -1;
    }

    sws_scale(r->sws, (const uint8_t * const *) in->data, in->linesize, 0,
              in->height, out->data, out->linesize);

    out->pts = item->ms;
    out->pict_type = key ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;

    r->last_vpts = item->ms;

    if (key) {
        r->last_idr_ms = item->ms;
    }

    if (r->conf.fps) {
        r->next_frame_ms = item->ms + 1000 / r->conf.fps - 1;
    }

    rc = avcodec_send_frame(r->venc, out);
    av_frame_free(&out);

    if (rc < 0) {
        vks_rendition_set_error(r, "encoding video", rc);
        return -1;
    }

    vks_rendition_drain(r, r->venc, &r->vst);

    return 0;
}


static void
vks_rendition_audio_encode_fifo(vks_rendition_t *r, int final)
{
    int       n, rc;
    AVFrame  *f;

    while (av_audio_fifo_size(r->fifo) >= r->aenc->frame_size
           || (final && av_audio_fifo_size(r->fifo) > 0))
    {
        n = av_audio_fifo_size(r->fifo);
        if (n > r->aenc->frame_size) {
            n = r->aenc->frame_size;
        }

        f = av_frame_alloc();
        if (f == NULL) {
            return;
        }

        f->nb_samples = n;
        f->format = AV_SAMPLE_FMT_FLTP;
        f->sample_rate = r->aenc->sample_rate;
        av_channel_layout_copy(&f->ch_layout, &r->aenc->ch_layout);

        if (av_frame_get_buffer(f, 0) < 0) {
            av_frame_free(&f);
            return;
        }

        av_audio_fifo_read(r->fifo, (void **) f->data, n);

        f->pts = r->audio_next;
        r->audio_next += n;

        rc = avcodec_send_frame(r->aenc, f);
        av_frame_free(&f);

        if (rc < 0) {
            vks_rendition_set_error(r, "encoding audio", rc);
            return;
        }

        vks_rendition_drain(r, r->aenc, &r->ast);
    }
}


static void
vks_rendition_audio_frame(vks_rendition_t *r, vks_item_t *item)
{
    int       rc, n, cap;
    int64_t   expect_ms;
    AVFrame  *in;
    uint8_t  **buf;

    in = item->frame;

    if (r->aenc == NULL && vks_rendition_open_audio_encoder(r) != 0) {
        return;
    }

    /* audio-only output starts at once; with video it waits for it */
    if (!vks_rendition_want_output(r, vks_rendition_audio_only(r))) {
        return;
    }

    if (r->swr == NULL) {
        rc = swr_alloc_set_opts2(&r->swr, &r->aenc->ch_layout,
                                 AV_SAMPLE_FMT_FLTP, r->aenc->sample_rate,
                                 &in->ch_layout, in->format, in->sample_rate,
                                 0, NULL);
        if (rc < 0 || swr_init(r->swr) < 0) {
            vks_rendition_set_error(r, "resampler",
                                    rc < 0 ? rc : AVERROR(EINVAL));
            swr_free(&r->swr);
            return;
        }
    }

    /* keep audio on the source clock: resync after gaps and drops */
    expect_ms = (r->audio_next + av_audio_fifo_size(r->fifo)) * 1000
                / r->aenc->sample_rate;

    if (!r->audio_synced || llabs(expect_ms - item->ms) > 200) {
        av_audio_fifo_reset(r->fifo);
        r->audio_next = item->ms * r->aenc->sample_rate / 1000;
        r->audio_synced = 1;
    }

    cap = swr_get_out_samples(r->swr, in->nb_samples);
    if (cap <= 0) {
        return;
    }

    rc = av_samples_alloc_array_and_samples(&buf, NULL,
                                            r->aenc->ch_layout.nb_channels,
                                            cap, AV_SAMPLE_FMT_FLTP, 0);
    if (rc < 0) {
        return;
    }

    n = swr_convert(r->swr, buf, cap, (const uint8_t **) in->extended_data,
                    in->nb_samples);
    if (n > 0) {
        av_audio_fifo_write(r->fifo, (void **) buf, n);
    }

    av_freep(&buf[0]);
    av_freep(&buf);

    vks_rendition_audio_encode_fifo(r, 0);
}


/* 0 when the packet was written, -1 when it was not */
static int
vks_rendition_copy_packet(vks_rendition_t *r, vks_item_t *item, int video)
{
    AVStream  *st;

    if (!vks_rendition_want_output(r, video ? item->keyframe
                                            : vks_rendition_audio_only(r)))
    {
        return -1;
    }

    st = video ? r->vst : r->ast;
    if (st == NULL) {
        return -1;
    }

    if (video && r->need_key) {
        if (!item->keyframe) {
            return -1;
        }
        r->need_key = 0;
    }

    if (video) {
        vks_rendition_llhls_anchor(r, item->ms);
    }

    vks_rendition_write(r, item->pkt, st, (AVRational) { 1, 1000 });

    return 0;
}


static void
vks_rendition_new_config(vks_rendition_t *r, vks_item_t *item)
{
    vks_stream_info_t  *info;

    /* a copy rendition restarts its publish with the new parameters */
    info = item->info;
    item->info = NULL;

    vks_stream_info_free(r->info);
    r->info = info;

    /* new parameters need a new init segment: this LL-HLS stream ends */
    vks_rendition_llhls_close(r);
    vks_rendition_close_output(r, 1);
}


static void
vks_rendition_layout(vks_rendition_t *r, vks_item_t *item)
{
    vks_stream_info_free(r->info);
    r->info = item->info;
    item->info = NULL;

    /* both encoders exist before the output is opened with their streams */
    if (r->info->has_video && r->conf.video_mode == VKS_MODE_ENCODE
        && r->venc == NULL)
    {
        vks_rendition_open_video_encoder(r, r->info->width, r->info->height);
    }

    if (r->info->has_audio && r->conf.audio_mode == VKS_MODE_ENCODE
        && r->aenc == NULL)
    {
        vks_rendition_open_audio_encoder(r);
    }
}


static void
vks_rendition_finish_encoders(vks_rendition_t *r)
{
    if (r->venc && r->oc) {
        avcodec_send_frame(r->venc, NULL);
        vks_rendition_drain(r, r->venc, &r->vst);
    }

    if (r->aenc && r->oc && r->swr) {
        vks_rendition_audio_encode_fifo(r, 1);
        avcodec_send_frame(r->aenc, NULL);
        vks_rendition_drain(r, r->aenc, &r->ast);
    }
}


static void
vks_rendition_apply_control(vks_rendition_t *r, int control)
{
    if (control == VKS_CONTROL_STOP && !r->stopped) {
        vks_rendition_llhls_close(r);
        vks_rendition_close_output(r, 1);
        r->stopped = 1;
        vks_rendition_set_state(r, VKS_STATE_STOPPED);
        vks_rendition_log(r, VKS_LOG_INFO, "stopped on request");

    } else if (control == VKS_CONTROL_RESTART) {
        vks_rendition_close_output(r, 1);
        r->stopped = 0;
        r->output_failed = 0;
        vks_rendition_set_state(r, VKS_STATE_STARTING);
        vks_rendition_log(r, VKS_LOG_INFO, "restarting on request");
    }
}


/* one item off the queue (or inline): takes it */
static void
vks_rendition_handle(vks_rendition_t *r, vks_item_t *item)
{
    int  video;

    switch (item->kind) {

    case VKS_ITEM_START:
        vks_rendition_layout(r, item);
        break;

    case VKS_ITEM_VFRAME:
        if (r->info == NULL || vks_rendition_video_frame(r, item) != 0) {
            vks_rendition_count_drop(r);
        }
        break;

    case VKS_ITEM_AFRAME:
        if (r->info) {
            vks_rendition_audio_frame(r, item);
        }
        break;

    case VKS_ITEM_VPKT:
    case VKS_ITEM_APKT:
        video = item->kind == VKS_ITEM_VPKT;
        if ((r->info == NULL
             || vks_rendition_copy_packet(r, item, video) != 0)
            && video)
        {
            vks_rendition_count_drop(r);
        }
        break;

    case VKS_ITEM_VCONFIG:
        vks_rendition_new_config(r, item);
        break;
    }

    vks_item_free(item);
}


/* the end: flush the encoders, end both outputs */
static void
vks_rendition_wind_up(vks_rendition_t *r)
{
    vks_rendition_finish_encoders(r);
    vks_rendition_llhls_close(r);
    vks_rendition_close_output(r, 1);

    pthread_mutex_lock(&r->mutex);
    if (r->stats.state != VKS_STATE_FAILED) {
        r->stats.state = VKS_STATE_STOPPED;
    }
    pthread_mutex_unlock(&r->mutex);
}


static void *
vks_rendition_thread(void *data)
{
    int               control, late, last;
    vks_item_t       *item;
    vks_rendition_t  *r = data;

    vks_thread_priority(r->sched, r->nice);

    for ( ;; ) {
        item = vks_rendition_pop(r, &control, &late, &last);

        if (control == -1) {
            break;                      /* ending, nothing left */
        }

        if (control) {
            vks_rendition_apply_control(r, control);
        }

        if (item == NULL) {
            continue;
        }

        if (late) {
            if (item->kind == VKS_ITEM_VFRAME || item->kind == VKS_ITEM_VPKT) {
                vks_rendition_count_drop(r);
            }

            vks_item_free(item);
            continue;
        }

        if (item->kind == VKS_ITEM_EOS) {
            vks_item_free(item);
            break;
        }

        vks_rendition_handle(r, item);

        if (last) {
            vks_rendition_flush(r);
        }
    }

    vks_rendition_wind_up(r);

    return NULL;
}


vks_rendition_t *
vks_rendition_start(const vks_rendition_conf_t *rc,
    const vks_rendition_env_t *env)
{
    vks_rendition_t  *r;

    r = calloc(1, sizeof(vks_rendition_t));
    if (r == NULL) {
        return NULL;
    }

    r->conf = *rc;
    r->url = strdup(env->url);
    r->playpath = strdup(env->playpath);
    r->max_gop_ms = env->max_gop_ms;
    r->nice = env->nice;
    r->sched = env->sched;
    r->log = env->log;
    r->log_data = env->log_data;
    r->pkt = av_packet_alloc();

    r->ladder = env->ladder;
    r->ladder_index = env->ladder_index;
    r->inline_mode = env->inline_mode;
    r->hold_ms = env->hold_ms;

    if (env->llhls_dir) {
        r->llhls_dir = strdup(env->llhls_dir);
        r->llhls_part_target_ms = env->llhls_part_target_ms;
        r->llhls_window = env->llhls_window;
        r->llhls_off = r->llhls_dir == NULL;
    }

    snprintf(r->stats.suffix, sizeof(r->stats.suffix), "%s", rc->suffix);
    snprintf(r->stats.app, sizeof(r->stats.app), "%s", rc->app);
    r->stats.state = VKS_STATE_STARTING;
    r->stats.video_mode = rc->video_mode;
    r->stats.audio_copy = rc->audio_mode == VKS_MODE_COPY;

    if (r->url == NULL || r->playpath == NULL || r->pkt == NULL) {
        goto failed;
    }

    if (pthread_mutex_init(&r->mutex, NULL) != 0) {
        goto failed;
    }

    if (pthread_cond_init(&r->cond, NULL) != 0) {
        pthread_mutex_destroy(&r->mutex);
        goto failed;
    }

    if (!r->inline_mode
        && vks_thread_create(&r->thread, vks_rendition_thread, r) != 0)
    {
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->mutex);
        goto failed;
    }

    return r;

failed:

    av_packet_free(&r->pkt);
    free(r->llhls_dir);
    free(r->url);
    free(r->playpath);
    free(r);

    return NULL;
}


void
vks_rendition_end(vks_rendition_t *r)
{
    int          finishing;
    vks_item_t  *eos;

    if (r->inline_mode) {
        vks_rendition_poll(r);

        /* the flush and the trailer get what the thread's end would */
        pthread_mutex_lock(&r->mutex);
        finishing = r->finishing;
        r->finishing = 1;
        r->abort_at = vks_now_ms() + VKS_FINISH_BUDGET_MS;
        pthread_mutex_unlock(&r->mutex);

        if (!finishing) {
            vks_rendition_wind_up(r);
        }

        return;
    }

    pthread_mutex_lock(&r->mutex);
    finishing = r->finishing;
    pthread_mutex_unlock(&r->mutex);

    if (finishing) {
        return;
    }

    eos = vks_item_new(VKS_ITEM_EOS);

    if (eos == NULL || vks_rendition_send(r, eos) != 0) {
        /* out of memory: end without the flush */
        pthread_mutex_lock(&r->mutex);
        r->finishing = 1;
        r->abort_at = vks_now_ms();
        pthread_cond_signal(&r->cond);
        pthread_mutex_unlock(&r->mutex);
    }
}


void
vks_rendition_finish(vks_rendition_t *r)
{
    vks_rendition_end(r);

    if (!r->inline_mode) {
        pthread_join(r->thread, NULL);
    }
}


void
vks_rendition_free(vks_rendition_t *r)
{
    vks_item_t  *item, *next;

    for (item = r->head; item; item = next) {
        next = item->next;
        vks_item_free(item);
    }

    avcodec_free_context(&r->venc);
    avcodec_free_context(&r->aenc);
    sws_freeContext(r->sws);
    swr_free(&r->swr);

    if (r->fifo) {
        av_audio_fifo_free(r->fifo);
    }

    if (r->llhls) {
        vks_llhls_writer_close(r->llhls, 0, NULL, 0);
    }

    av_packet_free(&r->pkt);
    vks_stream_info_free(r->info);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->mutex);
    free(r->llhls_dir);
    free(r->url);
    free(r->playpath);
    free(r);
}


void
vks_thread_priority(int sched, int nice)
{
    struct sched_param  sp;

    /*
     * Linux: policy and nice belong to this thread only, and the threads
     * the codecs create later from it inherit both.  Failures are ignored:
     * the thread then keeps the worker's priority.
     */

    if (sched == VKS_SCHED_IDLE) {
        /* runs only when nothing else wants the CPU; nice does not apply */
        sp.sched_priority = 0;
        (void) pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
        return;
    }

    if (nice) {
        (void) setpriority(PRIO_PROCESS, (id_t) syscall(SYS_gettid), nice);
    }
}
