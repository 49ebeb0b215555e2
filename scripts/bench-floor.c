
/*
 * vkstream benchmark floor: the cost no implementation of the _low
 * rendition can beat.  Reads a FLV file (H.264 + AAC) into memory, then,
 * with no further I/O, decodes, scales and encodes every frame with the
 * settings of the default rendition (480 wide, libx264 veryfast,
 * zerolatency, crf 23 capped at 256 kbit/s, IDRs at the source's
 * keyframes, AAC 32 kbit/s) and prints the CPU time it took:
 *
 *     bench-floor [-r] [-b MS] FILE
 *     floor media_s=20.000 cpu_s=3.210 wall_s=1.900 frames=600 bytes=...
 *
 * -r paces the packets at their timestamps, as a live source comes: the
 * same work, done a frame at a time with the caches and the CPU idle in
 * between, which is how every live transcoder has to do it.
 *
 * -b MS (with -r) hands the packets over in batches, as vkstream_batch
 * does: those of each MS window are decoded together when it ends.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>


#define FLOOR_MAX_PACKETS  (1 << 20)


typedef struct {
    AVCodecContext   *dec;
    AVCodecContext   *enc;
    AVFrame          *frame;
    AVPacket         *out;
    long              frames;
    long              bytes;
} floor_track_t;


static double floor_cpu(void);
static double floor_wall(void);
static void floor_pace(double wall0, double at, double batch);
static int64_t floor_dts_us(AVFormatContext *fmt, AVPacket *pkt);
static AVCodecContext *floor_decoder(AVStream *st, int threads);
static AVCodecContext *floor_video_encoder(int w, int h, AVRational fps);
static AVCodecContext *floor_audio_encoder(AVCodecContext *dec);
static void floor_drain(floor_track_t *t);
static void floor_fail(const char *what);


int
main(int argc, char **argv)
{
    int               vi, ai, rc, w, h, key, paced, arg;
    long              i, n;
    double            cpu0, wall0, cpu, wall, media, batch;
    int64_t           first, last, start;
    AVPacket        **pkts, *pkt;
    AVStream         *vs, *as;
    AVFrame          *scaled;
    AVRational        fps;
    floor_track_t     v, a;
    struct SwsContext  *sws;
    AVFormatContext  *fmt;

    paced = 0;
    batch = 0;

    for (arg = 1; arg < argc - 1; arg++) {
        if (strcmp(argv[arg], "-r") == 0) {
            paced = 1;

        } else if (strcmp(argv[arg], "-b") == 0 && arg + 1 < argc - 1
                   && atoi(argv[arg + 1]) > 0)
        {
            batch = atoi(argv[++arg]) / 1e3;

        } else {
            break;
        }
    }

    if (arg != argc - 1 || (batch > 0 && !paced)) {
        fprintf(stderr, "usage: bench-floor [-r [-b MS]] FILE.flv\n");
        return 2;
    }

    av_log_set_level(AV_LOG_ERROR);

    /* all the I/O happens here, before the clock starts */

    fmt = NULL;
    if (avformat_open_input(&fmt, argv[arg], NULL, NULL) < 0
        || avformat_find_stream_info(fmt, NULL) < 0)
    {
        floor_fail("open input");
    }

    vi = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    ai = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (vi < 0 || ai < 0) {
        floor_fail("the input needs a video and an audio stream");
    }

    vs = fmt->streams[vi];
    as = fmt->streams[ai];

    pkts = calloc(FLOOR_MAX_PACKETS, sizeof(AVPacket *));
    if (pkts == NULL) {
        floor_fail("calloc");
    }

    n = 0;
    first = AV_NOPTS_VALUE;
    last = 0;

    for ( ;; ) {
        pkt = av_packet_alloc();
        if (pkt == NULL || n == FLOOR_MAX_PACKETS) {
            floor_fail("too many packets");
        }

        if (av_read_frame(fmt, pkt) < 0) {
            av_packet_free(&pkt);
            break;
        }

        if (pkt->stream_index != vi && pkt->stream_index != ai) {
            av_packet_free(&pkt);
            continue;
        }

        if (pkt->stream_index == vi && pkt->pts != AV_NOPTS_VALUE) {
            if (first == AV_NOPTS_VALUE) {
                first = pkt->pts;
            }
            last = pkt->pts + pkt->duration;
        }

        pkts[n++] = pkt;
    }

    fps = av_guess_frame_rate(fmt, vs, NULL);
    if (fps.num <= 0 || fps.den <= 0) {
        fps = (AVRational) { 30, 1 };
    }

    media = (double) (last - first) * av_q2d(vs->time_base);

    /* the clock starts: codec set-up is part of the cost */

    cpu0 = floor_cpu();
    wall0 = floor_wall();

    memset(&v, 0, sizeof(floor_track_t));
    memset(&a, 0, sizeof(floor_track_t));

    /* as the module's decoder: two slice threads */
    v.dec = floor_decoder(vs, 2);
    a.dec = floor_decoder(as, 1);

    /* 480 wide, height keeping the aspect ratio, rounded down to even */
    w = 480;
    h = (int) (480.0 * v.dec->height / v.dec->width) & ~1;

    v.enc = floor_video_encoder(w, h, fps);
    a.enc = floor_audio_encoder(a.dec);

    v.frame = av_frame_alloc();
    a.frame = av_frame_alloc();
    v.out = av_packet_alloc();
    a.out = av_packet_alloc();
    scaled = av_frame_alloc();
    if (v.frame == NULL || a.frame == NULL || v.out == NULL
        || a.out == NULL || scaled == NULL)
    {
        floor_fail("alloc");
    }

    sws = NULL;

    if (n == 0) {
        floor_fail("no packets");
    }

    start = pkts[0]->dts != AV_NOPTS_VALUE ? floor_dts_us(fmt, pkts[0]) : 0;

    for (i = 0; i < n; i++) {
        pkt = pkts[i];

        if (paced && pkt->dts != AV_NOPTS_VALUE) {
            floor_pace(wall0, (floor_dts_us(fmt, pkt) - start) / 1e6,
                       batch);
        }

        if (pkt->stream_index == ai) {
            if (avcodec_send_packet(a.dec, pkt) < 0) {
                continue;
            }

            while (avcodec_receive_frame(a.dec, a.frame) == 0) {
                if (avcodec_send_frame(a.enc, a.frame) < 0) {
                    floor_fail("audio encode");
                }

                av_frame_unref(a.frame);
                floor_drain(&a);
            }

            continue;
        }

        if (avcodec_send_packet(v.dec, pkt) < 0) {
            continue;
        }

        while (avcodec_receive_frame(v.dec, v.frame) == 0) {
            key = v.frame->key_frame;

            sws = sws_getCachedContext(sws, v.frame->width, v.frame->height,
                                       v.frame->format, w, h,
                                       AV_PIX_FMT_YUV420P, SWS_BICUBIC,
                                       NULL, NULL, NULL);
            if (sws == NULL) {
                floor_fail("scaler");
            }

            scaled->format = AV_PIX_FMT_YUV420P;
            scaled->width = w;
            scaled->height = h;

            if (av_frame_get_buffer(scaled, 0) < 0) {
                floor_fail("frame buffer");
            }

            sws_scale(sws, (const uint8_t * const *) v.frame->data,
                      v.frame->linesize, 0, v.frame->height, scaled->data,
                      scaled->linesize);

            scaled->pts = av_rescale_q(v.frame->best_effort_timestamp,
                                       vs->time_base, v.enc->time_base);
            /* IDRs exactly at the source's keyframes */
            scaled->pict_type = key ? AV_PICTURE_TYPE_I
                                    : AV_PICTURE_TYPE_NONE;

            rc = avcodec_send_frame(v.enc, scaled);
            av_frame_unref(scaled);
            av_frame_unref(v.frame);

            if (rc < 0) {
                floor_fail("video encode");
            }

            floor_drain(&v);
        }
    }

    avcodec_send_packet(v.dec, NULL);
    while (avcodec_receive_frame(v.dec, v.frame) == 0) {
        av_frame_unref(v.frame);
    }

    avcodec_send_frame(v.enc, NULL);
    floor_drain(&v);
    avcodec_send_frame(a.enc, NULL);
    floor_drain(&a);

    cpu = floor_cpu() - cpu0;
    wall = floor_wall() - wall0;

    printf("floor media_s=%.3f cpu_s=%.3f wall_s=%.3f frames=%ld "
           "video_bytes=%ld audio_bytes=%ld size=%dx%d\n",
           media, cpu, wall, v.frames, v.bytes, a.bytes, w, h);

    sws_freeContext(sws);
    avcodec_free_context(&v.dec);
    avcodec_free_context(&a.dec);
    avcodec_free_context(&v.enc);
    avcodec_free_context(&a.enc);
    av_frame_free(&v.frame);
    av_frame_free(&a.frame);
    av_frame_free(&scaled);
    av_packet_free(&v.out);
    av_packet_free(&a.out);

    for (i = 0; i < n; i++) {
        av_packet_free(&pkts[i]);
    }

    free(pkts);
    avformat_close_input(&fmt);

    return 0;
}


static double
floor_cpu(void)
{
    struct rusage  ru;

    getrusage(RUSAGE_SELF, &ru);

    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
           + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}


static double
floor_wall(void)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);

    return tv.tv_sec + tv.tv_usec / 1e6;
}


static int64_t
floor_dts_us(AVFormatContext *fmt, AVPacket *pkt)
{
    return av_rescale_q(pkt->dts, fmt->streams[pkt->stream_index]->time_base,
                        AV_TIME_BASE_Q);
}


/*
 * sleeps until "at" seconds after wall0, or with a batch until the end of
 * the batch window "at" falls in
 */
static void
floor_pace(double wall0, double at, double batch)
{
    double           left;
    struct timespec  ts;

    if (batch > 0) {
        at = ((long) (at / batch) + 1) * batch;
    }

    left = wall0 + at - floor_wall();
    if (left <= 0) {
        return;
    }

    ts.tv_sec = (time_t) left;
    ts.tv_nsec = (long) ((left - ts.tv_sec) * 1e9);

    nanosleep(&ts, NULL);
}


static AVCodecContext *
floor_decoder(AVStream *st, int threads)
{
    const AVCodec   *codec;
    AVCodecContext  *dec;

    codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (codec == NULL) {
        floor_fail("no decoder");
    }

    dec = avcodec_alloc_context3(codec);
    if (dec == NULL
        || avcodec_parameters_to_context(dec, st->codecpar) < 0)
    {
        floor_fail("decoder context");
    }

    dec->pkt_timebase = st->time_base;

    if (threads > 1) {
        dec->thread_count = threads;
        dec->thread_type = FF_THREAD_SLICE;
    }

    if (avcodec_open2(dec, codec, NULL) < 0) {
        floor_fail("open decoder");
    }

    return dec;
}


static AVCodecContext *
floor_video_encoder(int w, int h, AVRational fps)
{
    const AVCodec   *codec;
    AVCodecContext  *enc;

    codec = avcodec_find_encoder_by_name("libx264");
    if (codec == NULL) {
        floor_fail("no libx264");
    }

    enc = avcodec_alloc_context3(codec);
    if (enc == NULL) {
        floor_fail("encoder context");
    }

    enc->width = w;
    enc->height = h;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = (AVRational) { 1, 1000 };
    enc->framerate = fps;
    enc->sample_aspect_ratio = (AVRational) { 1, 1 };
    enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    enc->thread_count = 1;
    enc->gop_size = 10 * fps.num / fps.den + 1;
    enc->keyint_min = 1;
    enc->rc_max_rate = 256000;
    enc->rc_buffer_size = 512000;

    av_opt_set(enc->priv_data, "preset", "veryfast", 0);
    av_opt_set(enc->priv_data, "tune", "zerolatency", 0);
    av_opt_set(enc->priv_data, "crf", "23", 0);
    av_opt_set(enc->priv_data, "forced-idr", "1", 0);
    av_opt_set(enc->priv_data, "x264-params", "scenecut=0", 0);

    if (avcodec_open2(enc, codec, NULL) < 0) {
        floor_fail("open libx264");
    }

    return enc;
}


static AVCodecContext *
floor_audio_encoder(AVCodecContext *dec)
{
    const AVCodec   *codec;
    AVCodecContext  *enc;

    codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (codec == NULL) {
        floor_fail("no aac encoder");
    }

    enc = avcodec_alloc_context3(codec);
    if (enc == NULL) {
        floor_fail("encoder context");
    }

    enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
    enc->sample_rate = dec->sample_rate;
    enc->time_base = (AVRational) { 1, dec->sample_rate };
    enc->bit_rate = 32000;
    enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

    if (av_channel_layout_copy(&enc->ch_layout, &dec->ch_layout) < 0) {
        floor_fail("channel layout");
    }

    if (dec->sample_fmt != AV_SAMPLE_FMT_FLTP) {
        floor_fail("the audio must decode to fltp");
    }

    if (avcodec_open2(enc, codec, NULL) < 0) {
        floor_fail("open aac encoder");
    }

    return enc;
}


static void
floor_drain(floor_track_t *t)
{
    while (avcodec_receive_packet(t->enc, t->out) == 0) {
        t->frames++;
        t->bytes += t->out->size;
        av_packet_unref(t->out);
    }
}


static void
floor_fail(const char *what)
{
    fprintf(stderr, "bench-floor: %s\n", what);
    exit(1);
}
