
/*
 * Unit tests: the decode stage (media/vks_decoder.c), fed the tag bodies
 * of small real FLV streams that ffmpeg makes at test time (lavfi test
 * pattern, libx264, AAC), and garbage.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/log.h>

#include "media/vks_decoder.h"
#include "vks_tap.h"


#define MAX_TAGS      1024
#define MAX_FRAMES    256

#define FFMPEG  "ffmpeg -nostdin -v error -f lavfi "                         \
                "-i testsrc=size=%s:rate=25:duration=%d "                   \
                "-f lavfi -i sine=frequency=440:sample_rate=44100:"         \
                "duration=%d -c:v libx264 -preset veryfast -bf 2 -g 10 "    \
                "-c:a aac -b:a 64k -f flv pipe:1 2>/dev/null"


typedef struct {
    int             type;           /* VKS_PACKET_* */
    uint32_t        ts;
    const uint8_t  *data;
    size_t          len;
} tag_t;


typedef struct {
    uint8_t        *buf;
    size_t          size;
    tag_t           tags[MAX_TAGS];
    int             ntags;
    int             nalus;          /* AVC frames */
    int             aac;            /* raw AAC frames */
    const uint8_t  *avcc;           /* the AVC sequence header */
    size_t          avcc_len;
} flv_t;


typedef struct {
    int             n[VKS_ITEM_EOS + 1];
    int             widths[MAX_FRAMES];
    int             heights[MAX_FRAMES];
    int             nframes;
    int             start_video;
    int             start_audio;
    int             start_width;
    int             start_height;
    double          start_fps;
    int             vconfig_new;    /* a VCONFIG with the new avcC */
    int             before_start;   /* items before START */
    int             rising;         /* video frame times rise */
    int64_t         last_vms;
    const flv_t    *next;           /* the stream whose avcC comes next */
} out_t;


typedef struct {
    int             n[4];           /* by level */
    char            last[512];
} log_t;


static void
test_log(void *data, int level, const char *msg)
{
    log_t  *l = data;

    l->n[level & 3]++;
    snprintf(l->last, sizeof(l->last), "%s", msg);
}


static void
test_output(void *data, vks_item_t *item)
{
    out_t  *o = data;

    o->n[item->kind]++;

    if (item->kind != VKS_ITEM_START && o->n[VKS_ITEM_START] == 0) {
        o->before_start++;
    }

    switch (item->kind) {

    case VKS_ITEM_START:
        o->start_video = item->info->has_video;
        o->start_audio = item->info->has_audio;
        o->start_width = item->info->width;
        o->start_height = item->info->height;
        o->start_fps = item->info->fps;
        break;

    case VKS_ITEM_VFRAME:
        if (o->nframes < MAX_FRAMES) {
            o->widths[o->nframes] = item->frame->width;
            o->heights[o->nframes] = item->frame->height;
            o->nframes++;
        }

        if (item->ms <= o->last_vms) {
            o->rising = 0;
        }
        o->last_vms = item->ms;
        break;

    case VKS_ITEM_VCONFIG:
        if (o->next && item->info
            && (size_t) item->info->avcc_len == o->next->avcc_len
            && memcmp(item->info->avcc, o->next->avcc, o->next->avcc_len)
               == 0)
        {
            o->vconfig_new++;
        }
        break;
    }

    vks_item_free(item);
}


static void
out_init(out_t *o)
{
    memset(o, 0, sizeof(out_t));
    o->rising = 1;
    o->last_vms = INT64_MIN;
}


/* ffmpeg's FLV on a pipe, split into its audio and video tag bodies */
static int
flv_make(flv_t *f, const char *size, int seconds)
{
    char            cmd[512];
    FILE           *p;
    size_t          n, pos, len, cap;
    uint8_t        *b, *nb;
    const uint8_t  *t;

    memset(f, 0, sizeof(flv_t));

    snprintf(cmd, sizeof(cmd), FFMPEG, size, seconds, seconds);

    p = popen(cmd, "r");
    if (p == NULL) {
        return -1;
    }

    cap = 1 << 16;
    b = malloc(cap);

    while (b) {
        n = fread(b + f->size, 1, cap - f->size, p);
        if (n == 0) {
            break;
        }

        f->size += n;

        if (f->size == cap) {
            cap *= 2;
            nb = realloc(b, cap);
            if (nb == NULL) {
                free(b);
            }
            b = nb;
        }
    }

    if (pclose(p) != 0 || b == NULL || f->size < 13
        || memcmp(b, "FLV", 3) != 0)
    {
        free(b);
        return -1;
    }

    f->buf = b;

    /* the header, then tags each after the previous tag's size */
    pos = ((size_t) b[5] << 24 | b[6] << 16 | b[7] << 8 | b[8]) + 4;

    while (pos + 11 <= f->size && f->ntags < MAX_TAGS) {
        t = b + pos;
        len = (size_t) t[1] << 16 | t[2] << 8 | t[3];

        if (pos + 11 + len > f->size) {
            break;
        }

        if (len >= 2 && ((t[0] & 0x1f) == 8 || (t[0] & 0x1f) == 9)) {
            tag_t  *tag = &f->tags[f->ntags++];

            tag->type = (t[0] & 0x1f) == 9 ? VKS_PACKET_VIDEO
                                           : VKS_PACKET_AUDIO;
            tag->ts = (uint32_t) t[4] << 16 | t[5] << 8 | t[6]
                      | (uint32_t) t[7] << 24;
            tag->data = t + 11;
            tag->len = len;

            if (tag->type == VKS_PACKET_VIDEO) {
                if (tag->data[1] == VKS_FLV_AVC_NALU) {
                    f->nalus++;
                } else if (tag->data[1] == VKS_FLV_AVC_SEQUENCE) {
                    f->avcc = tag->data + 5;
                    f->avcc_len = len - 5;
                }

            } else if (tag->data[1] == VKS_FLV_AAC_RAW) {
                f->aac++;
            }
        }

        pos += 11 + len + 4;
    }

    return 0;
}


static vks_decoder_t *
decoder(out_t *o, log_t *l, int copy, int hint_video)
{
    vks_decoder_t       *d;
    vks_decoder_conf_t   conf;

    memset(&conf, 0, sizeof(vks_decoder_conf_t));
    conf.name = "test";
    conf.decode_video = 1;
    conf.decode_audio = 1;
    conf.copy_video = copy;
    conf.copy_audio = copy;
    conf.hint_video = hint_video;
    conf.hint_audio = VKS_HINT_UNKNOWN;
    conf.output = test_output;
    conf.output_data = o;
    conf.log = test_log;
    conf.log_data = l;

    out_init(o);
    memset(l, 0, sizeof(log_t));

    d = vks_decoder_create(&conf);
    if (d == NULL) {
        printf("Bail out! vks_decoder_create() failed\n");
        exit(1);
    }

    return d;
}


static void
feed(vks_decoder_t *d, const flv_t *f, int types, uint32_t offset)
{
    int  i;

    for (i = 0; i < f->ntags; i++) {
        if (types & (1 << f->tags[i].type)) {
            vks_decoder_feed(d, f->tags[i].type, f->tags[i].ts + offset,
                             f->tags[i].data, f->tags[i].len);
        }
    }
}


static int
sizes(const out_t *o, int from, int to, int w, int h)
{
    int  i;

    for (i = from; i < to; i++) {
        if (o->widths[i] != w || o->heights[i] != h) {
            return 0;
        }
    }

    return 1;
}


#define BOTH   (1 << VKS_PACKET_VIDEO | 1 << VKS_PACKET_AUDIO)
#define AUDIO  (1 << VKS_PACKET_AUDIO)


static void
test_stream(const flv_t *big)
{
    out_t                       o;
    log_t                       l;
    vks_decoder_t              *d;
    const vks_decoder_input_t  *in;

    d = decoder(&o, &l, 1, VKS_HINT_UNKNOWN);

    feed(d, big, BOTH, 0);

    ok(o.n[VKS_ITEM_START] == 1 && o.before_start == 0,
       "one START, before anything else");
    ok(o.start_video && o.start_audio && o.start_width == 320
       && o.start_height == 240, "layout: video 320x240 and audio");
    ok(o.start_fps > 24 && o.start_fps < 26, "frame rate measured: %.2f",
       o.start_fps);

    vks_decoder_flush(d);

    /* reordering delay: the last frames come out of the flush */
    is_int(o.n[VKS_ITEM_VFRAME], big->nalus, "every picture decoded");
    ok(sizes(&o, 0, o.nframes, 320, 240), "all 320x240");
    ok(o.rising, "picture times rise");
    is_int(o.n[VKS_ITEM_VPKT], big->nalus, "every video packet for copy");
    is_int(o.n[VKS_ITEM_AFRAME], big->aac, "every AAC frame decoded");
    is_int(o.n[VKS_ITEM_APKT], big->aac, "every AAC packet for copy");
    is_int(o.n[VKS_ITEM_VCONFIG], 0, "no new configuration");
    is_int(l.n[VKS_LOG_ERR] + l.n[VKS_LOG_WARN], 0, "nothing to complain");
    ok(strstr(l.last, "\"test\": input: video h264 320x240") != NULL,
       "the layout is logged: %s", l.last);

    in = vks_decoder_input(d);
    ok(strcmp(in->vcodec, "h264") == 0 && strcmp(in->acodec, "aac") == 0
       && in->width == 320 && in->height == 240,
       "input: %s %dx%d, %s", in->vcodec, in->width, in->height,
       in->acodec);

    vks_decoder_free(d);
}


static void
test_new_sequence_header(const flv_t *big, const flv_t *small)
{
    int                         old;
    out_t                       o;
    log_t                       l;
    vks_decoder_t              *d;
    const vks_decoder_input_t  *in;

    d = decoder(&o, &l, 1, VKS_HINT_UNKNOWN);

    o.next = small;
    feed(d, big, BOTH, 0);
    feed(d, small, BOTH, big->tags[big->ntags - 1].ts + 40);
    vks_decoder_flush(d);

    is_int(o.n[VKS_ITEM_VCONFIG], 1, "new AVC sequence header: one VCONFIG");
    is_int(o.vconfig_new, 1, "which carries the new avcC");
    /*
     * the old decoder is closed at once: the pictures its reordering
     * still held (-bf 2) do not come out
     */
    old = o.nframes - small->nalus;
    ok(old >= big->nalus - 2 && old <= big->nalus,
       "pictures before the change decoded, but the held ones (%d of %d)",
       old, big->nalus);
    ok(sizes(&o, 0, old, 320, 240) && sizes(&o, old, o.nframes, 160, 120),
       "320x240, then all %d pictures at 160x120 from the reopened decoder",
       small->nalus);
    ok(o.rising, "picture times still rise");
    is_int(o.n[VKS_ITEM_START], 1, "the layout is settled once");
    ok(strstr(l.last, "new AVC sequence header") != NULL,
       "the change is logged");

    in = vks_decoder_input(d);
    ok(in->width == 160 && in->height == 120, "input size follows: %dx%d",
       in->width, in->height);

    vks_decoder_free(d);
}


static void
test_layout(const flv_t *big)
{
    out_t           o;
    log_t           l;
    vks_decoder_t  *d;

    /* no video said, none comes: audio-only at once */
    d = decoder(&o, &l, 0, 0);

    feed(d, big, AUDIO, 0);
    vks_decoder_flush(d);

    ok(o.n[VKS_ITEM_START] == 1 && !o.start_video && o.start_audio,
       "metadata without video: audio-only layout");
    is_int(o.n[VKS_ITEM_AFRAME], big->aac, "every AAC frame decoded");
    is_int(o.n[VKS_ITEM_APKT], 0, "no copies wanted, none made");
    vks_decoder_free(d);

    /* nothing said: audio waits a second for video, then goes alone */
    d = decoder(&o, &l, 0, VKS_HINT_UNKNOWN);

    feed(d, big, AUDIO, 0);
    vks_decoder_flush(d);

    ok(o.n[VKS_ITEM_START] == 1 && !o.start_video && o.before_start == 0,
       "no metadata: audio-only after the wait");
    is_int(o.n[VKS_ITEM_AFRAME], big->aac, "the waiting frames go out too");
    vks_decoder_free(d);

    /* video said but not sent: at the end, what waited is dropped */
    d = decoder(&o, &l, 0, 1);

    feed(d, big, AUDIO, 0);
    ok(o.n[VKS_ITEM_START] == 0 && o.n[VKS_ITEM_AFRAME] == 0,
       "video announced: audio waits for it (%d items)",
       o.n[VKS_ITEM_AFRAME]);
    vks_decoder_flush(d);
    ok(o.n[VKS_ITEM_START] == 0 && o.n[VKS_ITEM_AFRAME] == 0,
       "flush drops what waited");
    vks_decoder_free(d);
}


static void
test_garbage(void)
{
    int             i, j;
    size_t          len;
    uint8_t         buf[512];
    uint32_t        seed;
    out_t           o;
    log_t           l;
    vks_decoder_t  *d;
    static uint8_t  hevc[] = { 0x1c, 0x01, 0x00, 0x00, 0x00, 0x65 };
    static uint8_t  seq[] = { 0x17, 0x00, 0x00, 0x00, 0x00, 0xde, 0xad };
    static uint8_t  key[] = { 0x17, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                              0x00, 0x05, 0x65, 0x88, 0x84, 0x00, 0x33 };

    d = decoder(&o, &l, 1, VKS_HINT_UNKNOWN);

    /* frames before any sequence header, a bogus one, then frames */
    vks_decoder_feed(d, VKS_PACKET_VIDEO, 0, key, sizeof(key));
    vks_decoder_feed(d, VKS_PACKET_VIDEO, 0, seq, 0);
    vks_decoder_feed(d, VKS_PACKET_VIDEO, 0, seq, 3);
    vks_decoder_feed(d, VKS_PACKET_VIDEO, 0, seq, sizeof(seq));

    for (i = 0; i < 50; i++) {
        vks_decoder_feed(d, VKS_PACKET_VIDEO, i * 40, key, sizeof(key));
    }

    vks_decoder_flush(d);
    is_int(o.n[VKS_ITEM_VFRAME], 0, "broken H.264: no picture");
    vks_decoder_free(d);

    /* a codec that cannot be transcoded is said once and skipped */
    d = decoder(&o, &l, 0, VKS_HINT_UNKNOWN);

    for (i = 0; i < 10; i++) {
        vks_decoder_feed(d, VKS_PACKET_VIDEO, i * 40, hevc, sizeof(hevc));
    }

    ok(l.n[VKS_LOG_WARN] == 1 && strstr(l.last, "\"hevc\"") != NULL,
       "HEVC warned once: %s", l.last);
    vks_decoder_free(d);

    /* random tag bodies, with valid first bytes now and then */
    d = decoder(&o, &l, 1, VKS_HINT_UNKNOWN);

    seed = 12345;

    for (i = 0; i < 3000; i++) {
        seed = seed * 1103515245 + 12345;
        len = (seed >> 8) % sizeof(buf);

        for (j = 0; j < (int) len; j++) {
            seed = seed * 1103515245 + 12345;
            buf[j] = (uint8_t) (seed >> 16);
        }

        if (len > 1 && (i & 1)) {
            buf[0] = (i & 2) ? 0x17 : 0xaf;
            buf[1] = (i & 4) ? 0 : 1;
        }

        vks_decoder_feed(d, (i & 2) ? VKS_PACKET_VIDEO : VKS_PACKET_AUDIO,
                         (uint32_t) (i * 20), buf, len);
    }

    vks_decoder_flush(d);
    vks_decoder_free(d);
    ok(1, "3000 random tags fed, flushed and freed");
}


int
main(void)
{
    flv_t  big, small;

    av_log_set_level(AV_LOG_QUIET);

    if (flv_make(&big, "320x240", 1) != 0
        || flv_make(&small, "160x120", 1) != 0)
    {
        ok(0, "ffmpeg makes the test streams");
        return done_testing();
    }

    ok(big.nalus == 25 && big.aac > 40 && big.avcc_len > 0,
       "test stream: %d pictures, %d AAC frames", big.nalus, big.aac);

    test_stream(&big);
    test_new_sequence_header(&big, &small);
    test_layout(&big);
    test_garbage();

    free(big.buf);
    free(small.buf);

    return done_testing();
}
