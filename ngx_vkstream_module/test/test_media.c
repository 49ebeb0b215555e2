
/*
 * Unit tests: FLV tag bodies, the output timeline, the input queue,
 * rendition parameters, the log line queue and thread creation.
 */


#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "media/vks_clock.h"
#include "media/vks_conf.h"
#include "media/vks_flv.h"
#include "media/vks_logq.h"
#include "media/vks_queue.h"
#include "util/vks_thread.h"
#include "media/vks_timeline.h"
#include "vks_tap.h"


static void
test_flv(void)
{
    vks_flv_video_t  v;
    vks_flv_audio_t  a;
    uint8_t          key[] = { 0x17, 0x01, 0xff, 0xff, 0xfe, 0xaa };
    uint8_t          seq[] = { 0x17, 0x00, 0x00, 0x00, 0x00, 0x01 };
    uint8_t          hevc[] = { 0x1c, 0x00 };
    uint8_t          aac[] = { 0xaf, 0x01, 0x21 };
    uint8_t          mp3[] = { 0x2e, 0xff };
    uint8_t          speex[] = { 0xb2, 0x00 };

    ok(vks_flv_parse_video(key, sizeof(key), &v) == 0 && v.keyframe
       && v.codec == VKS_FLV_VIDEO_AVC && v.avc_type == VKS_FLV_AVC_NALU
       && v.cts == -2 && v.len == 1 && v.data[0] == 0xaa,
       "AVC keyframe with negative composition time");
    ok(vks_flv_parse_video(seq, sizeof(seq), &v) == 0
       && v.avc_type == VKS_FLV_AVC_SEQUENCE, "AVC sequence header");
    ok(vks_flv_parse_video(key, 3, &v) == -1, "truncated AVC header");
    ok(vks_flv_parse_video(key, 0, &v) == -1, "empty video body");
    ok(vks_flv_parse_video(hevc, sizeof(hevc), &v) == 0
       && v.codec == VKS_FLV_VIDEO_HEVC
       && strcmp(vks_flv_video_codec_name(v.codec), "hevc") == 0,
       "non-standard HEVC is recognised by name");
    ok(vks_flv_parse_audio(aac, sizeof(aac), &a) == 0
       && a.format == VKS_FLV_AUDIO_AAC && a.aac_type == VKS_FLV_AAC_RAW
       && a.channels == 2 && a.bits == 16 && a.rate == 44100 && a.len == 1,
       "AAC raw frame");
    ok(vks_flv_parse_audio(aac, 1, &a) == -1, "truncated AAC header");
    ok(vks_flv_parse_audio(mp3, sizeof(mp3), &a) == 0
       && a.format == VKS_FLV_AUDIO_MP3 && a.rate == 44100
       && a.channels == 1, "MP3 mono 44.1 kHz");
    ok(vks_flv_parse_audio(speex, sizeof(speex), &a) == 0
       && a.format == VKS_FLV_AUDIO_SPEEX && a.rate == 16000
       && a.channels == 1, "Speex is 16 kHz mono whatever the header says");
}


static void
test_timeline(void)
{
    int             i, mono;
    int64_t         out, prev;
    vks_timeline_t  tl;

    vks_timeline_init(&tl);
    ok(vks_timeline_map(&tl, VKS_TRACK_VIDEO, 5000, 33) == 0,
       "output starts at zero");
    ok(vks_timeline_map(&tl, VKS_TRACK_AUDIO, 5010, 23) == 10,
       "audio shares the video clock");
    ok(vks_timeline_map(&tl, VKS_TRACK_VIDEO, 5033, 33) == 33,
       "steady video");

    /* a jump forward by an hour is bridged by one frame */
    out = vks_timeline_map(&tl, VKS_TRACK_VIDEO, 5033 + 3600000, 33);
    ok(out == 66, "forward jump bridged (%lld)", (long long) out);
    out = vks_timeline_map(&tl, VKS_TRACK_AUDIO, 5033 + 3600000 + 10, 23);
    ok(out == 76, "audio follows the same offset (%lld)", (long long) out);

    /* backwards */
    out = vks_timeline_map(&tl, VKS_TRACK_VIDEO, 100, 33);
    ok(out == 99, "backward jump bridged (%lld)", (long long) out);

    /* 32-bit wrap */
    vks_timeline_init(&tl);
    vks_timeline_map(&tl, VKS_TRACK_VIDEO, 0xffffffff - 40, 33);
    prev = 0;
    mono = 1;
    for (i = 1; i < 5; i++) {
        out = vks_timeline_map(&tl, VKS_TRACK_VIDEO,
                               (uint32_t) (0xffffffffu - 40 + i * 33), 33);
        if (out != prev + 33) {
            mono = 0;
        }
        prev = out;
    }
    ok(mono && tl.discontinuities == 0, "timestamp wrap is seamless");

    /* equal timestamps still rise */
    vks_timeline_init(&tl);
    vks_timeline_map(&tl, VKS_TRACK_AUDIO, 10, 23);
    ok(vks_timeline_map(&tl, VKS_TRACK_AUDIO, 10, 23) == 1,
       "repeated timestamp made monotonic");
}


static void
test_queue(void)
{
    int                i, queued, dropped, kicked;
    uint8_t            buf[1000];
    vks_queue_t        q;
    vks_packet_t      *p;
    vks_queue_stats_t  st;

    memset(buf, 0, sizeof(buf));
    ok(vks_queue_init(&q, 5000) == 0, "queue init");

    queued = 0;
    for (i = 0; i < 5; i++) {
        queued += vks_queue_push(&q, VKS_PACKET_VIDEO, i, i == 0, 0, buf,
                                 1000) == 0;
    }
    ok(queued == 5, "fills to its bound");

    ok(vks_queue_push(&q, VKS_PACKET_VIDEO, 5, 0, 0, buf, 1000) == 1,
       "full: frame dropped");
    ok(vks_queue_push(&q, VKS_PACKET_VIDEO, 6, 1, 1, buf, 10) == 0,
       "sequence headers are never dropped");

    p = vks_queue_pop(&q);
    ok(p && p->ts == 0 && p->keyframe, "FIFO order");
    free(p);
    p = vks_queue_pop(&q);
    free(p);

    /* room again, but the GOP is broken: drop until the next keyframe */
    dropped = vks_queue_push(&q, VKS_PACKET_VIDEO, 7, 0, 0, buf, 1000);
    ok(dropped == 1, "rest of the GOP shed");
    ok(vks_queue_push(&q, VKS_PACKET_AUDIO, 7, 0, 0, buf, 100) == 0,
       "audio still flows while video sheds");
    ok(vks_queue_push(&q, VKS_PACKET_VIDEO, 8, 1, 0, buf, 1000) == 0,
       "next keyframe resumes");
    ok(q.dropped_gops == 1 && q.dropped_packets == 2,
       "drops counted (%llu GOPs, %llu packets)",
       (unsigned long long) q.dropped_gops,
       (unsigned long long) q.dropped_packets);
    vks_queue_stats(&q, &st);
    ok(st.dropped_gops == 1 && st.dropped_packets == 2
       && st.dropped_frames == 2 && st.bytes_in == 8110,
       "the same counters through vks_queue_stats() (%llu bytes in)",
       (unsigned long long) st.bytes_in);

    /* a time bound sheds a GOP long before the byte bound is reached */
    q.max_delay_ms = 2000;
    ok(vks_queue_push(&q, VKS_PACKET_VIDEO, 3000, 0, 0, buf, 10) == 1,
       "more than 2 s queued: the GOP is shed");
    ok(vks_queue_push(&q, VKS_PACKET_VIDEO, 3033, 1, 0, buf, 10) == 1,
       "even at a keyframe while still behind");

    vks_queue_close(&q);
    ok(vks_queue_pop(&q) == NULL, "closed queue returns NULL");
    ok(vks_queue_push(&q, VKS_PACKET_AUDIO, 9, 0, 0, buf, 10) == 1,
       "closed queue refuses");
    vks_queue_destroy(&q);

    /* what a lagging context still holds at the end is counted, too */
    ok(vks_queue_init(&q, 1 << 20) == 0, "queue init");
    vks_queue_push(&q, VKS_PACKET_VIDEO, 0, 1, 1, buf, 10);
    vks_queue_push(&q, VKS_PACKET_VIDEO, 0, 0, 0, buf, 10);
    vks_queue_push(&q, VKS_PACKET_AUDIO, 10, 0, 0, buf, 10);
    vks_queue_push(&q, VKS_PACKET_VIDEO, 40, 0, 0, buf, 10);
    vks_queue_push(&q, VKS_PACKET_VIDEO, 80, 1, 0, buf, 10);
    vks_queue_push(&q, VKS_PACKET_VIDEO, 120, 0, 0, buf, 10);
    vks_queue_close(&q);
    ok(q.dropped_frames == 4 && q.dropped_gops == 2
       && q.dropped_packets == 6,
       "discarded at close: %llu frames, %llu GOPs, %llu packets",
       (unsigned long long) q.dropped_frames,
       (unsigned long long) q.dropped_gops,
       (unsigned long long) q.dropped_packets);
    vks_queue_push(&q, VKS_PACKET_VIDEO, 160, 0, 0, buf, 10);
    ok(q.dropped_frames == 5, "a frame after the close is a drop");
    vks_queue_destroy(&q);

    /* the end of a publish: what is queued is still handed out */
    ok(vks_queue_init(&q, 1 << 20) == 0, "queue init");
    vks_queue_push(&q, VKS_PACKET_VIDEO, 0, 1, 0, buf, 10);
    vks_queue_push(&q, VKS_PACKET_VIDEO, 40, 0, 0, buf, 10);
    vks_queue_finish(&q, 10000);
    ok(vks_queue_push(&q, VKS_PACKET_VIDEO, 80, 0, 0, buf, 10) == 1,
       "finishing: no more input");
    p = vks_queue_pop(&q);
    ok(p && p->ts == 0, "finishing: first packet still handed out");
    free(p);
    p = vks_queue_pop(&q);
    ok(p && p->ts == 40, "finishing: second packet still handed out");
    free(p);
    ok(vks_queue_pop(&q) == NULL, "finishing: then the end");
    ok(q.dropped_frames == 1, "only the late frame dropped");
    vks_queue_destroy(&q);

    /* a kick wakes the consumer once, with no packet, then it waits on */
    ok(vks_queue_init(&q, 1 << 20) == 0, "queue init");
    vks_queue_kick(&q);
    p = vks_queue_pop_or_kick(&q, &kicked);
    ok(p == NULL && kicked == 1, "kicked: woken with no packet");
    vks_queue_push(&q, VKS_PACKET_VIDEO, 0, 1, 0, buf, 10);
    vks_queue_kick(&q);
    p = vks_queue_pop_or_kick(&q, &kicked);
    ok(p && p->ts == 0 && kicked == 1, "kicked with a packet: both");
    free(p);
    vks_queue_push(&q, VKS_PACKET_VIDEO, 40, 0, 0, buf, 10);
    p = vks_queue_pop_or_kick(&q, &kicked);
    ok(p && p->ts == 40 && kicked == 0, "a kick is seen once");
    free(p);
    vks_queue_kick(&q);
    vks_queue_push(&q, VKS_PACKET_VIDEO, 80, 0, 0, buf, 10);
    p = vks_queue_pop(&q);
    ok(p && p->ts == 80, "vks_queue_pop() passes over a kick");
    free(p);
    vks_queue_kick(&q);
    vks_queue_close(&q);
    p = vks_queue_pop_or_kick(&q, &kicked);
    ok(p == NULL, "closed: NULL (kicked %d)", kicked);
    p = vks_queue_pop_or_kick(&q, &kicked);
    ok(p == NULL && kicked == 0, "closed, kick seen: the end");
    vks_queue_destroy(&q);

    /* ... but not for longer than its budget */
    ok(vks_queue_init(&q, 1 << 20) == 0, "queue init");
    vks_queue_push(&q, VKS_PACKET_VIDEO, 0, 1, 0, buf, 10);
    vks_queue_push(&q, VKS_PACKET_VIDEO, 40, 0, 0, buf, 10);
    vks_queue_finish(&q, 0);
    usleep(2000);
    ok(vks_queue_pop(&q) == NULL && q.dropped_frames == 2
       && q.dropped_gops == 1,
       "budget spent: the rest is dropped and counted (%llu frames)",
       (unsigned long long) q.dropped_frames);
    vks_queue_destroy(&q);
}


typedef struct {
    vks_queue_t   *q;
    int64_t        got_at;
    vks_packet_t  *p;
} batch_consumer_t;


static void *
batch_consume(void *data)
{
    batch_consumer_t  *c = data;

    c->p = vks_queue_pop(c->q);
    c->got_at = vks_now_ms();

    return NULL;
}


static void
test_queue_batch(void)
{
    int                idle, kicked;
    int64_t            start, pushed_at;
    uint8_t            buf[10];
    pthread_t          t;
    vks_queue_t        q;
    vks_packet_t      *p;
    batch_consumer_t   c;

    memset(buf, 0, sizeof(buf));

    /* the first packet after an empty queue waits out the batch ... */
    ok(vks_queue_init(&q, 1 << 20) == 0, "queue init");
    q.batch_ms = 150;
    start = vks_now_ms();
    vks_queue_push(&q, VKS_PACKET_VIDEO, 0, 1, 0, buf, 10);
    vks_queue_push(&q, VKS_PACKET_AUDIO, 10, 0, 0, buf, 10);
    vks_queue_push(&q, VKS_PACKET_VIDEO, 33, 0, 0, buf, 10);
    p = vks_queue_pop(&q);
    ok(p && p->ts == 0 && vks_now_ms() - start >= 150,
       "batch: the first packet comes %d ms after it was queued",
       (int) (vks_now_ms() - start));
    free(p);

    /* ... and what came with it follows at once, until the queue is empty */
    ok(q.collecting == 0, "batch: then the rest is handed out at once");
    ok(!vks_queue_would_wait(&q), "batch: the rest is ready");
    p = vks_queue_pop(&q);
    ok(p && p->ts == 10, "batch: second packet");
    free(p);
    p = vks_queue_pop(&q);
    ok(p && p->ts == 33, "batch: third packet");
    free(p);

    /* the output held may go: nothing is ready, or the next collects */
    ok(vks_queue_would_wait(&q), "batch: emptied, the next pop waits");
    q.batch_ms = 1000000;    /* however slow this machine is */
    vks_queue_push(&q, VKS_PACKET_VIDEO, 40, 0, 0, buf, 10);
    ok(vks_queue_would_wait(&q), "batch: a new arrival is collected first");
    q.batch_ms = 150;
    p = vks_queue_pop(&q);
    ok(p && p->ts == 40 && vks_queue_would_wait(&q),
       "batch: then handed out, and the queue is empty again");
    free(p);

    /* an emptied queue collects again, from the next arrival */
    vks_queue_kick(&q);
    p = vks_queue_pop_or_kick(&q, &kicked);
    ok(p == NULL && kicked && q.collecting == 1,
       "batch: emptied, the next packet waits again");
    start = vks_now_ms();
    vks_queue_push(&q, VKS_PACKET_VIDEO, 66, 0, 0, buf, 10);
    p = vks_queue_pop(&q);
    ok(p && p->ts == 66 && vks_now_ms() - start >= 150,
       "batch: waited %d ms again", (int) (vks_now_ms() - start));
    free(p);
    vks_queue_destroy(&q);

    /*
     * A consumer asleep on the empty queue wakes at the first packet and
     * still waits the batch out.  The queue's own flag says when it sleeps.
     */
    ok(vks_queue_init(&q, 1 << 20) == 0, "queue init");
    q.batch_ms = 100;
    c.q = &q;
    c.p = NULL;
    ok(pthread_create(&t, NULL, batch_consume, &c) == 0, "consumer started");

    do {
        usleep(1000);
        pthread_mutex_lock(&q.mutex);
        idle = q.idle;
        pthread_mutex_unlock(&q.mutex);
    } while (!idle);

    pushed_at = vks_now_ms();
    vks_queue_push(&q, VKS_PACKET_VIDEO, 0, 1, 0, buf, 10);
    pthread_join(t, NULL);
    ok(c.p && c.p->ts == 0 && c.got_at - pushed_at >= 100,
       "batch: an idle consumer gets the packet %d ms after it came",
       (int) (c.got_at - pushed_at));
    free(c.p);
    vks_queue_destroy(&q);

    /*
     * Control and the end never wait for a batch: with a batch of 1000 s,
     * waiting would hang the test.
     */
    ok(vks_queue_init(&q, 1 << 20) == 0, "queue init");
    q.batch_ms = 1000000;
    vks_queue_push(&q, VKS_PACKET_VIDEO, 0, 1, 0, buf, 10);
    vks_queue_kick(&q);
    ok(!vks_queue_would_wait(&q), "batch: a kick is seen at once");
    p = vks_queue_pop_or_kick(&q, &kicked);
    ok(p && p->ts == 0 && kicked, "batch: a kick hands out at once");
    free(p);
    vks_queue_push(&q, VKS_PACKET_VIDEO, 33, 0, 0, buf, 10);
    vks_queue_finish(&q, 10000);
    p = vks_queue_pop(&q);
    ok(p && p->ts == 33, "batch: finishing hands out at once");
    free(p);
    ok(vks_queue_pop(&q) == NULL, "batch: finished and empty: the end");
    vks_queue_destroy(&q);

    ok(vks_queue_init(&q, 1 << 20) == 0, "queue init");
    q.batch_ms = 1000000;
    vks_queue_push(&q, VKS_PACKET_VIDEO, 0, 1, 0, buf, 10);
    vks_queue_close(&q);
    ok(vks_queue_pop(&q) == NULL && q.dropped_frames == 1,
       "batch: closed: the end at once, the rest counted");
    vks_queue_destroy(&q);

    /* a batch queues up to its length more at the end: the drain gets it */
    ok(vks_queue_init(&q, 1 << 20) == 0, "queue init");
    q.batch_ms = 1000000;
    vks_queue_push(&q, VKS_PACKET_VIDEO, 0, 1, 0, buf, 10);
    vks_queue_push(&q, VKS_PACKET_VIDEO, 40, 0, 0, buf, 10);
    vks_queue_finish(&q, 0);
    usleep(2000);
    p = vks_queue_pop(&q);
    ok(p && p->ts == 0 && q.dropped_frames == 0,
       "drain: a spent budget still gets the batch on top");
    free(p);
    p = vks_queue_pop(&q);
    ok(p && p->ts == 40 && vks_queue_pop(&q) == NULL,
       "drain: a batch adds its length, then the end");
    free(p);
    vks_queue_destroy(&q);
}


static void
test_conf(void)
{
    int                   w, h;
    char                  err[256];
    vks_rendition_conf_t  rc;

    vks_rendition_conf_low(&rc);
    ok(strcmp(rc.suffix, "_low") == 0 && rc.width == 480 && rc.crf == 23
       && rc.maxrate == 256000 && rc.audio_bitrate == 32000
       && strcmp(rc.preset, "veryfast") == 0
       && strcmp(rc.tune, "zerolatency") == 0 && strcmp(rc.app, "hls") == 0,
       "_low defaults reproduce the exec command");

    ok(vks_rendition_conf_set(&rc, "maxrate", "off", err, sizeof(err)) == 0
       && vks_rendition_conf_set(&rc, "bufsize", "off", err, sizeof(err))
          == 0
       && rc.maxrate == 0 && rc.bufsize == 0 && rc.bitrate == 0
       && vks_rendition_conf_check(&rc, err, sizeof(err)) == 0,
       "_low maxrate=off bufsize=off: a pure crf encode");
    ok(vks_rendition_conf_set(&rc, "audio_bitrate", "off", err, sizeof(err))
       == -1 && strstr(err, "\"audio_bitrate\""),
       "audio_bitrate=off rejected: %s", err);
    vks_rendition_conf_low(&rc);
    ok(vks_rendition_conf_set(&rc, "maxrate", "off", err, sizeof(err)) == 0
       && vks_rendition_conf_check(&rc, err, sizeof(err)) == -1
       && strstr(err, "bufsize needs maxrate"),
       "maxrate=off with the default bufsize: %s", err);
    vks_rendition_conf_low(&rc);

    vks_rendition_size(&rc, 1280, 720, &w, &h);
    ok(w == 480 && h == 270, "1280x720 -> %dx%d", w, h);
    vks_rendition_size(&rc, 640, 480, &w, &h);
    ok(w == 480 && h == 360, "640x480 -> %dx%d", w, h);
    vks_rendition_size(&rc, 1000, 562, &w, &h);
    ok(w == 480 && h == 268, "odd height rounded down to even: %dx%d", w, h);

    vks_rendition_conf_init(&rc, "_720");
    ok(vks_rendition_conf_set(&rc, "height", "720", err, sizeof(err)) == 0,
       "height=720");
    vks_rendition_size(&rc, 1920, 1080, &w, &h);
    ok(w == 1280 && h == 720, "height given: width from aspect %dx%d", w, h);

    ok(vks_rendition_conf_set(&rc, "bitrate", "1.5m", err, sizeof(err)) == 0
       && rc.bitrate == 1500000, "1.5m bitrate");
    ok(vks_rendition_conf_set(&rc, "width", "481", err, sizeof(err)) == -1
       && strstr(err, "\"481\"") && strstr(err, "\"width\""),
       "odd width rejected: %s", err);
    ok(vks_rendition_conf_set(&rc, "preset", "turbo", err, sizeof(err)) == -1
       && strstr(err, "turbo"), "unknown preset rejected: %s", err);
    ok(vks_rendition_conf_set(&rc, "tune", "zerolatency,film", err,
                              sizeof(err)) == 0, "tune list");
    ok(vks_rendition_conf_set(&rc, "profile", "high444", err, sizeof(err))
       == -1, "4:4:4 profile refused (output is yuv420p)");
    ok(vks_rendition_conf_set(&rc, "level", "3.1", err, sizeof(err)) == 0
       && rc.level == 31, "level 3.1");
    ok(vks_rendition_conf_set(&rc, "crf", "52", err, sizeof(err)) == -1,
       "crf out of range");
    ok(vks_rendition_conf_set(&rc, "app", "a/b", err, sizeof(err)) == -1,
       "app with a slash refused");
    ok(vks_rendition_conf_set(&rc, "host", "10.0.0.1:1935", err,
                              sizeof(err)) == 0, "host:port");
    ok(vks_rendition_conf_set(&rc, "colour", "red", err, sizeof(err)) == -1
       && strstr(err, "unknown parameter"), "unknown key: %s", err);
    ok(vks_parse_rate("256k") == 256000 && vks_parse_rate("k") == -1
       && vks_parse_rate("12") == -1 && vks_parse_rate("1e99") == -1,
       "rates");

    vks_rendition_conf_init(&rc, "_src");
    vks_rendition_conf_set(&rc, "video", "copy", err, sizeof(err));
    vks_rendition_conf_set(&rc, "upscale", "on", err, sizeof(err));
    ok(vks_rendition_conf_check(&rc, err, sizeof(err)) == -1,
       "copy cannot upscale: %s", err);
    vks_rendition_conf_set(&rc, "upscale", "off", err, sizeof(err));
    ok(vks_rendition_conf_check(&rc, err, sizeof(err)) == 0, "copy is fine");
    vks_rendition_conf_set(&rc, "width", "640", err, sizeof(err));
    ok(vks_rendition_conf_check(&rc, err, sizeof(err)) == -1,
       "copy cannot scale: %s", err);
}


/* the output size of the rendition made from "params" for a w x h source */
static void
size_of(const char *suffix, const char *params, int w, int h, int *ow,
    int *oh)
{
    char                  buf[128], err[256], *kv, *save, *eq;
    vks_rendition_conf_t  rc;

    if (strcmp(suffix, "_low") == 0) {
        vks_rendition_conf_low(&rc);

    } else {
        vks_rendition_conf_init(&rc, suffix);
    }

    snprintf(buf, sizeof(buf), "%s", params);

    for (kv = strtok_r(buf, " ", &save); kv; kv = strtok_r(NULL, " ", &save))
    {
        eq = strchr(kv, '=');
        *eq = '\0';
        if (vks_rendition_conf_set(&rc, kv, eq + 1, err, sizeof(err)) != 0) {
            printf("# %s\n", err);
        }
    }

    vks_rendition_size(&rc, w, h, ow, oh);
}


static void
test_size_cap(void)
{
    int                   i, w, h;
    char                  err[256];
    vks_rendition_conf_t  rc;

    static const struct {
        const char  *suffix;
        const char  *params;
        int          w, h, ow, oh;
        const char  *why;
    } cases[] = {
        { "_low", "", 176, 144, 176, 144, "_low of a QCIF source" },
        { "_low", "", 1280, 720, 480, 270, "_low of 720p unchanged" },
        { "_low", "", 480, 360, 480, 360, "exactly the source width" },
        { "_low", "", 320, 240, 320, 240, "_low of 320x240" },
        { "_low", "", 175, 143, 174, 142, "odd source: even, not larger" },
        { "_low", "", 479, 271, 478, 270, "odd source just below 480" },
        { "_low", "", 1, 1, 2, 2, "1x1 source: at least 2x2" },
        { "_low", "", 360, 640, 360, 640, "portrait below 480 wide" },
        { "_low", "", 720, 1280, 480, 852, "portrait above 480 wide" },
        { "_low", "", 144, 176, 144, 176, "portrait QCIF" },
        { "_p", "height=720", 1920, 1080, 1280, 720, "height below source" },
        { "_p", "height=720", 640, 360, 640, 360, "height above source" },
        { "_p", "height=720", 405, 720, 404, 720, "height equal, odd w" },
        { "_p", "height=720", 360, 640, 360, 640, "portrait under height" },
        { "_b", "width=640 height=480", 1280, 720, 640, 480,
          "both sides within the source: as given (stretched)" },
        { "_b", "width=640 height=480", 320, 240, 320, 240,
          "both sides, same aspect: the source size" },
        { "_b", "width=640 height=480", 320, 180, 240, 180,
          "both sides, wider source: 4:3 fitted by height" },
        { "_b", "width=640 height=360", 320, 240, 320, 180,
          "both sides, narrower source: 16:9 fitted by width" },
        { "_b", "width=640 height=480", 201, 151, 200, 150,
          "both sides fitted, odd source: even" },
        { "_b", "width=640 height=480", 600, 1000, 600, 450,
          "both sides, portrait source: fitted by width" },
        { "_low", "upscale=on", 176, 144, 480, 392,
          "upscale=on: 480 wide as before" },
        { "_low", "upscale=on", 1280, 720, 480, 270,
          "upscale=on changes nothing when smaller" },
        { "_p", "height=720 upscale=on", 640, 360, 1280, 720,
          "upscale=on with height" },
        { "_b", "width=640 height=480 upscale=on", 320, 180, 640, 480,
          "upscale=on with both sides" },
        { "_s", "", 177, 145, 176, 144, "source size: even" },
        { "_low", "upscale=off", 176, 144, 176, 144, "upscale=off" },
    };

    for (i = 0; i < (int) (sizeof(cases) / sizeof(cases[0])); i++) {
        size_of(cases[i].suffix, cases[i].params, cases[i].w, cases[i].h,
                &w, &h);
        ok(w == cases[i].ow && h == cases[i].oh,
           "%s %s: %dx%d -> %dx%d (want %dx%d)", cases[i].why,
           cases[i].params, cases[i].w, cases[i].h, w, h, cases[i].ow,
           cases[i].oh);
    }

    vks_rendition_conf_low(&rc);
    ok(rc.upscale == 0, "no upscaling by default");
    ok(vks_rendition_conf_set(&rc, "upscale", "yes", err, sizeof(err)) == -1
       && strstr(err, "\"yes\"") && strstr(err, "\"upscale\""),
       "upscale=yes rejected: %s", err);
    ok(vks_rendition_conf_set(&rc, "upscale", "", err, sizeof(err)) == -1,
       "upscale= rejected");
    ok(vks_rendition_conf_set(&rc, "upscale", "on", err, sizeof(err)) == 0
       && rc.upscale == 1, "upscale=on");
}


static void
test_duplicates(void)
{
    int                          i, w, h;
    char                         err[256];
    vks_rendition_conf_t         rc[6];
    vks_rendition_stats_t        st[6];
    const vks_rendition_conf_t  *p[6];

    /* _low, _mid, _hi and _30 of a 320x240 source, _a audio only */
    vks_rendition_conf_low(&rc[0]);
    vks_rendition_conf_init(&rc[1], "_mid");
    vks_rendition_conf_set(&rc[1], "width", "640", err, sizeof(err));
    vks_rendition_conf_init(&rc[2], "_hi");
    vks_rendition_conf_set(&rc[2], "height", "720", err, sizeof(err));
    vks_rendition_conf_init(&rc[3], "_15");
    vks_rendition_conf_set(&rc[3], "fps", "15", err, sizeof(err));
    vks_rendition_conf_init(&rc[4], "_a");
    vks_rendition_conf_set(&rc[4], "video", "none", err, sizeof(err));
    vks_rendition_conf_init(&rc[5], "_a2");
    vks_rendition_conf_set(&rc[5], "video", "none", err, sizeof(err));

    memset(st, 0, sizeof(st));

    for (i = 0; i < 6; i++) {
        p[i] = &rc[i];
        st[i].state = VKS_STATE_RUNNING;
        st[i].duplicate_of = 7;

        if (rc[i].video_mode == VKS_MODE_ENCODE) {
            vks_rendition_size(&rc[i], 320, 240, &w, &h);
            st[i].width = w;
            st[i].height = h;
        }
    }

    vks_rendition_duplicates(p, st, 6);
    ok(st[0].duplicate_of == 0 && st[1].duplicate_of == 1
       && st[2].duplicate_of == 1,
       "_mid and _hi capped to the source duplicate _low (%d %d %d)",
       st[0].duplicate_of, st[1].duplicate_of, st[2].duplicate_of);
    ok(st[3].duplicate_of == 0, "another fps cap is no duplicate");
    ok(st[4].duplicate_of == 0 && st[5].duplicate_of == 0,
       "audio-only renditions are never duplicates");

    st[0].state = VKS_STATE_STOPPED;
    vks_rendition_duplicates(p, st, 6);
    ok(st[0].duplicate_of == 0 && st[1].duplicate_of == 0
       && st[2].duplicate_of == 2,
       "_low stopped: _mid stays, _hi duplicates it (%d %d)",
       st[1].duplicate_of, st[2].duplicate_of);

    st[0].state = VKS_STATE_RUNNING;
    st[1].width = 0;
    st[1].height = 0;
    vks_rendition_duplicates(p, st, 6);
    ok(st[1].duplicate_of == 0 && st[2].duplicate_of == 1,
       "a size not known yet duplicates nothing");

    vks_rendition_conf_set(&rc[1], "upscale", "on", err, sizeof(err));
    vks_rendition_size(&rc[1], 320, 240, &st[1].width, &st[1].height);
    vks_rendition_conf_set(&rc[2], "app", "other", err, sizeof(err));
    vks_rendition_duplicates(p, st, 6);
    ok(st[1].duplicate_of == 0 && st[2].duplicate_of == 0,
       "an upscaled size or another application is no duplicate");

    vks_rendition_conf_set(&rc[1], "upscale", "off", err, sizeof(err));
    vks_rendition_size(&rc[1], 320, 240, &st[1].width, &st[1].height);
    vks_rendition_conf_set(&rc[1], "audio", "none", err, sizeof(err));
    vks_rendition_duplicates(p, st, 6);
    ok(st[1].duplicate_of == 0, "video-only beside video+audio: no");
}


static int  notified;


static void
count_notify(void *data)
{
    (*(int *) data)++;
}


static void
test_logq(void)
{
    int              i, level, n;
    char             text[VKS_LOGQ_LINE], big[2 * VKS_LOGQ_LINE], small[8];
    vks_logq_t       q;
    vks_logq_line_t  lines[4];

    notified = 0;
    ok(vks_logq_init(&q, lines, 4, count_notify, &notified) == 0,
       "log queue set up");
    ok(vks_logq_take(&q, &level, text, sizeof(text)) == 0, "empty at first");

    vks_logq_log(&q, 0, "one");
    vks_logq_log(&q, 2, "two");
    ok(notified == 1, "one wake-up for lines into an empty queue");
    ok(vks_logq_take(&q, &level, text, sizeof(text)) == 1 && level == 0
       && strcmp(text, "one") == 0, "oldest line first");
    ok(vks_logq_take(&q, &level, text, sizeof(text)) == 1 && level == 2
       && strcmp(text, "two") == 0, "then the next");
    ok(vks_logq_take(&q, &level, text, sizeof(text)) == 0, "then empty");

    vks_logq_log(&q, 1, "three");
    ok(notified == 2, "emptied and filled again: woken again");

    for (i = 0; i < 5; i++) {
        vks_logq_log(&q, 1, "more");
    }
    ok(vks_logq_dropped(&q) == 2, "full: the lines over 4 are counted");
    ok(vks_logq_dropped(&q) == 0, "the count restarts");
    ok(notified == 2, "no wake-up while not empty");

    n = 0;
    while (vks_logq_take(&q, &level, text, sizeof(text))) {
        n++;
    }
    ok(n == 4 && strcmp(text, "more") == 0, "the ring wraps (%d lines)", n);

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    vks_logq_log(&q, 0, big);
    ok(vks_logq_take(&q, &level, text, sizeof(text)) == 1
       && strlen(text) == VKS_LOGQ_LINE - 1, "a long line is cut");
    vks_logq_log(&q, 0, "abcdefghij");
    ok(vks_logq_take(&q, &level, small, sizeof(small)) == 1
       && strcmp(small, "abcdefg") == 0, "and cut to the reader's buffer");

    pthread_mutex_destroy(&q.mutex);
}


static void *
thread_mask(void *data)
{
    sigset_t  *set = data;

    pthread_sigmask(SIG_BLOCK, NULL, set);

    return NULL;
}


static void
test_thread(void)
{
    sigset_t   set, before, after;
    pthread_t  t;

    sigemptyset(&set);
    pthread_sigmask(SIG_SETMASK, NULL, &before);

    ok(vks_thread_create(&t, thread_mask, &set) == 0
       && pthread_join(t, NULL) == 0, "thread started and joined");
    ok(sigismember(&set, SIGHUP) && sigismember(&set, SIGTERM)
       && sigismember(&set, SIGQUIT) && sigismember(&set, SIGIO)
       && sigismember(&set, SIGCHLD) && sigismember(&set, SIGUSR1),
       "nginx's signals are blocked in the thread");
    ok(!sigismember(&set, SIGSEGV) && !sigismember(&set, SIGBUS),
       "faults are not");

    pthread_sigmask(SIG_SETMASK, NULL, &after);
    ok(sigismember(&after, SIGHUP) == sigismember(&before, SIGHUP)
       && sigismember(&after, SIGTERM) == sigismember(&before, SIGTERM),
       "the caller's mask is as it was");
}


int
main(void)
{
    test_flv();
    test_timeline();
    test_queue();
    test_queue_batch();
    test_conf();
    test_size_cap();
    test_duplicates();
    test_logq();
    test_thread();

    return done_testing();
}
