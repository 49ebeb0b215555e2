
/*
 * Unit tests: media/vks_hls_ladder (a stream's renditions as HLS variants:
 * derived and measured bandwidth, the 125% rule, rendition reports, the
 * LL-HLS and classic master files) and vks_hls_codec_h264_extradata().
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "media/vks_hls_codecs.h"
#include "media/vks_hls_ladder.h"
#include "vks_tap.h"


static char  dir_ll[256], dir_ts[256];


static char *
slurp(const char *dir, const char *name)
{
    FILE         *f;
    char          path[512];
    static char   buf[8192];
    size_t        n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    f = fopen(path, "r");
    if (f == NULL) {
        return NULL;
    }

    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);

    return buf;
}


static void
output(vks_hls_output_t *o, const char *vc, unsigned w, unsigned h,
    const char *ac)
{
    memset(o, 0, sizeof(vks_hls_output_t));
    snprintf(o->video_codec, sizeof(o->video_codec), "%s", vc);
    snprintf(o->audio_codec, sizeof(o->audio_codec), "%s", ac);
    o->ll_audio = ac[0] != '\0';
    o->width = w;
    o->height = h;
    o->frame_rate = vc[0] ? 30 : 0;
    o->audio_rate = ac[0] ? 44100 : 0;
}


static void
test_extradata(void)
{
    char  codec[VKS_HLS_CODEC_LEN], err[VKS_HLS_CODEC_ERR_LEN];

    /* libx264's global header: SEI-free Annex B SPS then PPS */
    static const uint8_t  annexb[] = {
        0x00, 0x00, 0x00, 0x01, 0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9,
        0x00, 0x00, 0x00, 0x01, 0x68, 0xeb, 0xe3, 0xcb
    };
    static const uint8_t  pps_first[] = {
        0x00, 0x00, 0x01, 0x68, 0xeb, 0xe3, 0x00, 0x00, 0x01, 0x67, 0x4d,
        0x40, 0x1f
    };
    static const uint8_t  avcc[] = {
        0x01, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x42, 0xc0,
        0x1e
    };
    static const uint8_t  none[] = { 0x00, 0x00, 0x01, 0x68, 0xeb };

    is_int(vks_hls_codec_h264_extradata(annexb, sizeof(annexb), codec, err,
                                        sizeof(err)), 0, "Annex B parses");
    is_str(codec, "avc1.64001e", "Annex B: High@3.0");

    is_int(vks_hls_codec_h264_extradata(pps_first, sizeof(pps_first), codec,
                                        err, sizeof(err)), 0,
           "Annex B, PPS first: parses");
    is_str(codec, "avc1.4d401f", "Annex B: the SPS is found");

    is_int(vks_hls_codec_h264_extradata(avcc, sizeof(avcc), codec, err,
                                        sizeof(err)), 0, "avcC parses");
    is_str(codec, "avc1.42c01e", "avcC: its SPS");

    is_int(vks_hls_codec_h264_extradata(none, sizeof(none), codec, err,
                                        sizeof(err)), -1, "no SPS refused");
    is_str(codec, "", "no SPS: no codec");
    ok(strstr(err, "neither") != NULL, "no SPS: reason \"%s\"", err);

    is_int(vks_hls_codec_h264_extradata(NULL, 0, codec, err, sizeof(err)),
           -1, "empty extradata refused");
}


static void
test_derive(void)
{
    vks_hls_rate_t        r;
    vks_hls_output_t      o;
    vks_rendition_conf_t  rc;

    /* _low: crf capped at maxrate 256k, bufsize 512k, AAC 32k */
    vks_rendition_conf_low(&rc);
    output(&o, "avc1.64001e", 480, 270, "mp4a.40.2");

    /*
     * video: 256k + 512k / 2 s = 512k peak, 256k average; audio 32k;
     * fMP4: 30 x 16 + 43.07 x 8 + 600 bytes a second = 11396 bit/s
     */
    vks_hls_derive(&rc, &o, 0, VKS_HLS_LL, &r);
    is_int(r.bandwidth, 512000 + 32000 + 11396, "LL _low: peak derived");
    is_int(r.average, 256000 + 32000 + 11396, "LL _low: average derived");
    is_int(r.nsegs, 0, "nothing measured");

    /* TS: 68000 bytes + 4/184 + 30 x 128 + 43 x 16 */
    vks_hls_derive(&rc, &o, 0, VKS_HLS_TS, &r);
    is_int(r.bandwidth, 544000 + (1478 + 3840 + 688) * 8,
           "TS _low: peak with the MPEG-TS overhead");
    ok(r.average > 288000 && r.average < 288000 * 115 / 100,
       "TS _low: average %llu within 15%% above the payload",
       (unsigned long long) r.average);

    /* video only: no audio in it */
    output(&o, "avc1.64001e", 480, 270, "");
    vks_hls_derive(&rc, &o, 0, VKS_HLS_LL, &r);
    is_int(r.bandwidth, 512000 + 30 * 16 * 8 + 600 * 8,
           "LL _low without audio: video and overhead only");

    /* bitrate below maxrate: the average is the bitrate */
    vks_rendition_conf_init(&rc, "_720");
    rc.bitrate = 1500000;
    rc.maxrate = 2000000;
    rc.bufsize = 3000000;
    rc.audio_bitrate = 64000;
    output(&o, "avc1.64001f", 1280, 720, "mp4a.40.2");
    vks_hls_derive(&rc, &o, 0, VKS_HLS_LL, &r);
    is_int(r.bandwidth, 2000000 + 1500000 + 64000 + 11396,
           "_720: maxrate + bufsize / 2 s");
    is_int(r.average, 1500000 + 64000 + 11396, "_720: bitrate average");

    /* uncapped crf: 0.1 bit a pixel, peak twice that */
    vks_rendition_conf_init(&rc, "_crf");
    output(&o, "avc1.64001f", 1280, 720, "");
    vks_hls_derive(&rc, &o, 0, VKS_HLS_LL, &r);
    is_int(r.average, 2764800 + 30 * 16 * 8 + 600 * 8, "crf: guessed");
    is_int(r.bandwidth, 2 * 2764800 + 30 * 16 * 8 + 600 * 8,
           "crf: peak twice the guess");

    /* copy: the source's measured rate, audio copied with it */
    vks_rendition_conf_init(&rc, "_src");
    rc.video_mode = VKS_MODE_COPY;
    rc.audio_mode = VKS_MODE_COPY;
    output(&o, "avc1.4d401f", 1280, 720, "mp4a.40.2");
    vks_hls_derive(&rc, &o, 3000000, VKS_HLS_LL, &r);
    is_int(r.average, 3000000 + 11396, "copy: the source's rate");
    is_int(r.bandwidth, 6000000 + 11396, "copy: peak twice that");
}


static void
test_rate(void)
{
    vks_hls_rate_t  r;

    memset(&r, 0, sizeof(vks_hls_rate_t));
    r.bandwidth = 1000000;
    r.average = 500000;

    /* 100000 bytes in 2 s: 400 kbit/s */
    is_int(vks_hls_rate_add(&r, 100000, 2000), 0, "segment 1: derived kept");
    is_int(vks_hls_rate_add(&r, 100000, 2000), 0, "segment 2: derived kept");
    is_int(r.bandwidth, 1000000, "still the derived peak");

    is_int(vks_hls_rate_add(&r, 125000, 2000), 1,
           "segment 3: measured from now on");
    is_int(r.bandwidth, 500000, "BANDWIDTH: the measured peak");
    is_int(r.average, 433333, "AVERAGE-BANDWIDTH: the measured mean");

    /* 640 kbit/s: above 125% of 500k; the mean moves 12% too */
    is_int(vks_hls_rate_add(&r, 160000, 2000), 1, "a peak above 125%%");
    is_int(r.bandwidth, 640000, "BANDWIDTH raised to it");
    is_int(r.average, 485000, "average re-advertised: moved 12%%");

    /* 700 kbit/s: within 125% of 640k: kept; the mean moves 9% */
    is_int(vks_hls_rate_add(&r, 175000, 2000), 0,
           "a peak within 125%%, a mean within 10%%: no change");
    is_int(r.bandwidth, 640000, "BANDWIDTH kept");
    ok(r.peak * 100 <= r.bandwidth * 125, "peak %llu within 125%% of %llu",
       (unsigned long long) r.peak, (unsigned long long) r.bandwidth);
    is_int(r.average, 485000, "average kept");

    /* the mean moves by 15%: re-advertised */
    is_int(vks_hls_rate_add(&r, 175000, 2000), 1, "mean moved: changed");
    is_int(r.average, 556666, "average re-advertised");

    /* before the measured switch, a peak far above the derived raises it */
    memset(&r, 0, sizeof(vks_hls_rate_t));
    r.bandwidth = 100000;
    r.average = 80000;
    is_int(vks_hls_rate_add(&r, 100000, 2000), 1,
           "first segment 4x the derived: raised at once");
    is_int(r.bandwidth, 400000, "BANDWIDTH 400k");
    is_int(r.average, 80000, "average still derived");

    is_int(vks_hls_rate_add(&r, 100000, 0), 0, "a 0 ms segment ignored");
    is_int(r.nsegs, 1, "and not counted");

    memset(&r, 0, sizeof(vks_hls_rate_t));
    r.bandwidth = 1000;
    r.average = 1000;
    vks_hls_rate_add(&r, 100, 2000);
    vks_hls_rate_add(&r, 100, 2000);
    vks_hls_rate_add(&r, 100, 2000);
    ok(r.average <= r.bandwidth, "average never above BANDWIDTH");
}


static vks_hls_ladder_t *
ladder(const char *name, vks_rendition_conf_t *rc)
{
    vks_hls_ladder_conf_t  lc;

    vks_rendition_conf_low(&rc[0]);
    vks_rendition_conf_init(&rc[1], "_mid");
    rc[1].width = 640;
    rc[1].maxrate = 600000;
    vks_rendition_conf_init(&rc[2], "_hi");
    rc[2].maxrate = 2000000;
    rc[2].bufsize = 2000000;

    memset(&lc, 0, sizeof(vks_hls_ladder_conf_t));
    lc.name = name;
    lc.ll_dir = dir_ll;
    lc.ts_dir = dir_ts;
    lc.n = 3;
    lc.rc = rc;

    return vks_hls_ladder_create(&lc);
}


static void
test_ladder(void)
{
    int                   i;
    char                 *t, uris[8][VKS_LLHLS_URI_LEN], path[512];
    FILE                 *f;
    size_t                n;
    vks_hls_ladder_t     *l;
    vks_hls_output_t      o;
    vks_llhls_report_t    rep[8];
    vks_rendition_conf_t  rc[3];

    /* a previous publish's masters go */
    mkdir(dir_ts, 0755);
    snprintf(path, sizeof(path), "%s/s.m3u8", dir_ts);
    f = fopen(path, "w");
    if (f) {
        fputs("#EXTM3U\nold\n", f);
        fclose(f);
    }

    l = ladder("s", rc);
    ok(l != NULL, "ladder created");
    ok(slurp(dir_ts, "s.m3u8") == NULL, "the old classic master is gone");

    /* a small source: _low and _mid both 320x180, _mid a duplicate */
    output(&o, "avc1.64000d", 320, 180, "mp4a.40.2");
    vks_hls_ladder_join(l, 0, &o);

    t = slurp(dir_ts, "s.m3u8");
    ok(t && strstr(t, "\ns_low.m3u8\n") != NULL,
       "classic master lists _low once it joined");
    ok(slurp(dir_ll, "s.m3u8") == NULL,
       "no LL master before a playlist exists");

    output(&o, "avc1.64000d", 320, 180, "mp4a.40.2");
    vks_hls_ladder_join(l, 1, &o);
    output(&o, "avc1.640020", 1280, 720, "mp4a.40.2");
    vks_hls_ladder_join(l, 2, &o);

    t = slurp(dir_ts, "s.m3u8");
    ok(t && strstr(t, "s_mid") == NULL, "_mid, a duplicate, left out");
    ok(t && strstr(t, "s_low.m3u8\n#EXT-X-STREAM-INF") != NULL
       && strstr(t, "\ns_hi.m3u8\n") != NULL, "_low, then _hi");
    ok(t && strstr(t, "#EXT-X-INDEPENDENT-SEGMENTS\n") != NULL,
       "INDEPENDENT-SEGMENTS");
    ok(t && strstr(t, "CODECS=\"avc1.640020,mp4a.40.2\",RESOLUTION=1280x720,"
                      "FRAME-RATE=30.000\n") != NULL, "_hi attributes");

    /* LL: listed once each playlist is published */
    vks_hls_ladder_ll_progress(l, 0, 3, 1);
    t = slurp(dir_ll, "s.m3u8");
    ok(t && strstr(t, "\ns_low/index.m3u8\n") != NULL,
       "LL master: _low's playlist");
    ok(t && strstr(t, "s_hi") == NULL, "not _hi's yet");

    vks_hls_ladder_ll_progress(l, 1, 3, 0);
    vks_hls_ladder_ll_progress(l, 2, 2, 3);
    t = slurp(dir_ll, "s.m3u8");
    ok(t && strstr(t, "\ns_hi/index.m3u8\n") != NULL
       && strstr(t, "s_mid") == NULL, "LL master: _low and _hi");

    /* reports: the other listed ones */
    n = vks_hls_ladder_reports(l, 0, rep, uris, 8);
    is_int(n, 1, "_low reports one sibling");
    is_str(n ? rep[0].uri : NULL, "../s_hi/index.m3u8", "_hi's URI");
    is_int(n ? rep[0].last_msn : 0, 2, "its LAST-MSN");
    is_int(n ? rep[0].last_part : 0, 3, "its LAST-PART");

    n = vks_hls_ladder_reports(l, 2, rep, uris, 8);
    is_int(n, 1, "_hi reports one sibling, not itself");
    is_str(n ? rep[0].uri : NULL, "../s_low/index.m3u8", "_low's URI");

    n = vks_hls_ladder_reports(l, 1, rep, uris, 8);
    is_int(n, 2, "the duplicate _mid reports both listed ones");

    vks_hls_ladder_ll_progress(l, 2, 3, 0);
    n = vks_hls_ladder_reports(l, 0, rep, uris, 8);
    ok(n == 1 && rep[0].last_msn == 3 && rep[0].last_part == 0,
       "a report follows its sibling's progress");

    /* measured: three segments of _hi replace the derived values */
    for (i = 0; i < 3; i++) {
        vks_hls_ladder_measure(l, 2, VKS_HLS_LL, 250000, 2000);
    }

    t = slurp(dir_ll, "s.m3u8");
    ok(t && strstr(t, "BANDWIDTH=1000000,AVERAGE-BANDWIDTH=1000000,"
                      "CODECS=\"avc1.640020") != NULL,
       "LL master: _hi measured at 1 Mbit/s");
    t = slurp(dir_ts, "s.m3u8");
    ok(t && strstr(t, "BANDWIDTH=1000000,") == NULL,
       "the classic master is measured on its own");

    vks_hls_ladder_measure(l, 2, VKS_HLS_LL, 400000, 2000);
    t = slurp(dir_ll, "s.m3u8");
    ok(t && strstr(t, "BANDWIDTH=1600000,") != NULL,
       "a segment above 125%%: BANDWIDTH raised");

    /* _hi stops: out of both masters and of the reports */
    vks_hls_ladder_leave(l, 2);
    t = slurp(dir_ll, "s.m3u8");
    ok(t && strstr(t, "s_hi") == NULL && strstr(t, "s_low") != NULL,
       "LL master without the stopped _hi");
    t = slurp(dir_ts, "s.m3u8");
    ok(t && strstr(t, "s_hi") == NULL, "classic master without it");
    n = vks_hls_ladder_reports(l, 0, rep, uris, 8);
    is_int(n, 0, "_low has no sibling to report");

    /* _low stops: _mid is no duplicate any more */
    vks_hls_ladder_leave(l, 0);
    t = slurp(dir_ts, "s.m3u8");
    ok(t && strstr(t, "\ns_mid.m3u8\n") != NULL && strstr(t, "s_low") == NULL,
       "_low stopped: _mid listed instead");

    /* the stream ends: the masters stay as they were */
    vks_hls_ladder_end(l);
    vks_hls_ladder_leave(l, 1);
    t = slurp(dir_ts, "s.m3u8");
    ok(t && strstr(t, "\ns_mid.m3u8\n") != NULL, "ended: master kept");

    vks_hls_ladder_free(l);
}


static void
test_ladder_names(void)
{
    char                 *t;
    vks_hls_ladder_t     *l;
    vks_hls_output_t      o;
    vks_rendition_conf_t  rc[3];

    /* a name with a space and a quote: escaped in the URIs */
    l = ladder("a b\"c", rc);
    output(&o, "avc1.64000d", 320, 180, "");
    vks_hls_ladder_join(l, 0, &o);

    t = slurp(dir_ts, "a b\"c.m3u8");
    ok(t && strstr(t, "\na%20b%22c_low.m3u8\n") != NULL,
       "name %%-escaped in the URI");
    ok(t && strstr(t, "CODECS=\"avc1.64000d\",") != NULL,
       "video only: no mp4a");
    vks_hls_ladder_free(l);

    /* a name that would leave the directory: no file */
    l = ladder("../x", rc);
    vks_hls_ladder_join(l, 0, &o);
    ok(slurp(dir_ts, "../x.m3u8") == NULL, "no master for \"../x\"");
    vks_hls_ladder_free(l);

    /* a copy rendition takes the source's rate once it is known */
    vks_rendition_conf_init(&rc[0], "_src");
    rc[0].video_mode = VKS_MODE_COPY;
    rc[0].audio_mode = VKS_MODE_COPY;
    {
        vks_hls_ladder_conf_t  lc;

        memset(&lc, 0, sizeof(vks_hls_ladder_conf_t));
        lc.name = "c";
        lc.ts_dir = dir_ts;
        lc.n = 1;
        lc.rc = rc;
        l = vks_hls_ladder_create(&lc);
    }
    output(&o, "avc1.4d401f", 640, 360, "mp4a.40.2");
    vks_hls_ladder_join(l, 0, &o);
    vks_hls_ladder_source_rate(l, 1000000);
    vks_hls_ladder_measure(l, 0, VKS_HLS_TS, 0, 0);
    t = slurp(dir_ts, "c.m3u8");
    ok(t && strstr(t, "AVERAGE-BANDWIDTH=10") != NULL,
       "copy: derived from the source's 1 Mbit/s");
    vks_hls_ladder_free(l);
}


int
main(void)
{
    char  tmpl[] = "/tmp/test_hls_ladder.XXXXXX", cmd[128];

    if (mkdtemp(tmpl) == NULL) {
        return 1;
    }

    snprintf(dir_ll, sizeof(dir_ll), "%s/ll", tmpl);
    snprintf(dir_ts, sizeof(dir_ts), "%s/hls", tmpl);
    mkdir(dir_ll, 0755);

    test_extradata();
    test_derive();
    test_rate();
    test_ladder();
    test_ladder_names();

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
    (void) system(cmd);

    return done_testing();
}
