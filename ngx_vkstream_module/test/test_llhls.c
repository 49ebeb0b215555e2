
/*
 * Unit tests: media/vks_hls_codecs (CODECS strings), media/vks_llhls_playlist
 * (the LL-HLS window, its media playlist, blocking reload) and
 * media/vks_hls_master (the multivariant playlist).
 *
 * "test_llhls --write DIR" instead writes sample playlists of a simulated
 * live stream into DIR, for the playlist checker of t/93-llhls-checker.t.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/vks_hls_codecs.h"
#include "media/vks_hls_master.h"
#include "media/vks_llhls_playlist.h"
#include "vks_tap.h"


/* 2023-11-14T22:13:20.000Z */
#define T0  1700000000000LL


static void
test_codecs_avc(void)
{
    char  codec[VKS_HLS_CODEC_LEN], err[VKS_HLS_CODEC_ERR_LEN];

    /* x264's High@3.1 avcC: one SPS, one PPS */
    static const uint8_t  avcc[] = {
        0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00,
        0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00, 0x00,
        0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83, 0x19,
        0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0
    };

    /* the record says Main, its SPS Constrained Baseline: the SPS wins */
    static const uint8_t  liar[] = {
        0x01, 0x4d, 0x40, 0x1e, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x42, 0xc0,
        0x1e
    };

    is_int(vks_hls_codec_avcc(avcc, sizeof(avcc), codec, err, sizeof(err)),
           0, "avcC: x264 High@3.1 parses");
    is_str(codec, "avc1.64001f", "avcC: avc1.64001f");

    is_int(vks_hls_codec_avcc(liar, sizeof(liar), codec, err, sizeof(err)),
           0, "avcC: SPS differing from the record parses");
    is_str(codec, "avc1.42c01e", "avcC: the SPS's bytes are used");

    is_int(vks_hls_codec_avcc(avcc, 7, codec, err, sizeof(err)), -1,
           "avcC: 7 bytes refused");
    is_str(err, "avcC: truncated (7 bytes, need 8 for the header and an SPS "
           "length)", "avcC: truncated header error");
    is_str(codec, "", "avcC: no codec string on error");

    is_int(vks_hls_codec_avcc(avcc, 11, codec, err, sizeof(err)), -1,
           "avcC: truncated SPS refused");
    is_str(err, "avcC: truncated SPS (25 bytes declared, 3 left)",
           "avcC: truncated SPS error");

    is_int(vks_hls_codec_avcc((const uint8_t *) "\x00\x64\x00\x1f\xff\xe1"
                              "\x00\x04\x67\x64\x00\x1f", 12, codec, err,
                              sizeof(err)), -1, "avcC: version 0 refused");
    is_str(err, "avcC: configurationVersion 0, not 1", "avcC: version error");

    is_int(vks_hls_codec_avcc((const uint8_t *) "\x01\x64\x00\x1f\xff\xe0"
                              "\x00\x04\x67\x64\x00\x1f", 12, codec, err,
                              sizeof(err)), -1, "avcC: no SPS refused");
    is_str(err, "avcC: no SPS", "avcC: no SPS error");

    is_int(vks_hls_codec_avcc((const uint8_t *) "\x01\x64\x00\x1f\xff\xe1"
                              "\x00\x03\x67\x64\x00", 11, codec, err,
                              sizeof(err)), -1, "avcC: 3-byte SPS refused");
    is_str(err, "avcC: SPS truncated (3 bytes, need 4)",
           "avcC: short SPS error");

    is_int(vks_hls_codec_sps((const uint8_t *) "\x67\x42\xc0\x1e", 4, codec,
                             err, sizeof(err)), 0, "SPS: raw NAL parses");
    is_str(codec, "avc1.42c01e", "SPS: avc1.42c01e");

    is_int(vks_hls_codec_sps((const uint8_t *) "\x00\x00\x00\x01\x27\x4d"
                             "\x40\x1e\xff", 9, codec, err, sizeof(err)), 0,
           "SPS: after a 4-byte start code, nal_ref_idc 1");
    is_str(codec, "avc1.4d401e", "SPS: avc1.4d401e");

    is_int(vks_hls_codec_sps((const uint8_t *) "\x00\x00\x01\x67\x64\x08"
                             "\x28", 7, codec, err, sizeof(err)), 0,
           "SPS: after a 3-byte start code");
    is_str(codec, "avc1.640828", "SPS: avc1.640828 (High@4.0, flags)");

    is_int(vks_hls_codec_sps((const uint8_t *) "\x68\x42\xc0\x1e", 4, codec,
                             err, sizeof(err)), -1, "SPS: a PPS refused");
    is_str(err, "SPS: NAL type 8, not an SPS (7)", "SPS: NAL type error");

    is_int(vks_hls_codec_sps((const uint8_t *) "\xe7\x42\xc0\x1e", 4, codec,
                             err, sizeof(err)), -1,
           "SPS: forbidden_zero_bit refused");
    is_str(err, "SPS: forbidden_zero_bit set in the SPS NAL header",
           "SPS: forbidden bit error");

    is_int(vks_hls_codec_sps((const uint8_t *) "\x67\x00\x00\x03", 4, codec,
                             err, sizeof(err)), -1,
           "SPS: profile 0 (emulation prevention) refused");
    is_str(err, "SPS: profile_idc 0", "SPS: profile 0 error");

    is_int(vks_hls_codec_sps((const uint8_t *) "\x67\x42\xc0\x00", 4, codec,
                             err, sizeof(err)), -1, "SPS: level 0 refused");
    is_str(err, "SPS: level_idc 0", "SPS: level 0 error");

    is_int(vks_hls_codec_sps((const uint8_t *) "\x00\x00\x01", 3, codec,
                             err, sizeof(err)), -1,
           "SPS: a start code alone refused");
    is_str(err, "SPS: SPS truncated (0 bytes, need 4)",
           "SPS: empty after start code error");

    is_int(vks_hls_codec_sps(NULL, 0, codec, err, sizeof(err)), -1,
           "SPS: empty refused");

    /* no room for the error: still refused, err untouched */
    strcpy(err, "x");
    is_int(vks_hls_codec_sps(NULL, 0, codec, err, 0), -1,
           "SPS: refused with errlen 0");
    is_str(err, "x", "SPS: errlen 0 writes nothing");
}


static void
test_codecs_aac(void)
{
    char           codec[VKS_HLS_CODEC_LEN], err[VKS_HLS_CODEC_ERR_LEN];
    vks_hls_aac_t  aac;

    is_int(vks_hls_codec_aac((const uint8_t *) "\x12\x10", 2, codec, &aac,
                             err, sizeof(err)), 0, "ASC: AAC-LC parses");
    is_str(codec, "mp4a.40.2", "ASC: mp4a.40.2");
    is_int(aac.object_type, 2, "ASC: object type 2");
    is_int(aac.sample_rate, 44100, "ASC: 44100 Hz");
    is_int(aac.channels, 2, "ASC: 2 channels");

    is_int(vks_hls_codec_aac((const uint8_t *) "\x29\x90", 2, codec, NULL,
                             err, sizeof(err)), 0, "ASC: SBR parses");
    is_str(codec, "mp4a.40.5", "ASC: explicit SBR is mp4a.40.5");

    is_int(vks_hls_codec_aac((const uint8_t *) "\xf9\x46\x40", 3, codec,
                             &aac, err, sizeof(err)), 0,
           "ASC: escaped object type parses");
    is_str(codec, "mp4a.40.42", "ASC: 31 + 6 bits of 10 is mp4a.40.42");
    is_int(aac.sample_rate, 48000, "ASC: escaped, then 48000 Hz");

    is_int(vks_hls_codec_aac((const uint8_t *) "\x17\x80\x56\x22\x08", 5,
                             codec, &aac, err, sizeof(err)), 0,
           "ASC: explicit frequency parses");
    is_int(aac.sample_rate, 44100, "ASC: explicit 44100 Hz");
    is_int(aac.channels, 1, "ASC: explicit, then 1 channel");

    is_int(vks_hls_codec_aac((const uint8_t *) "\x12", 1, codec, &aac, err,
                             sizeof(err)), -1, "ASC: 1 byte refused");
    is_str(err, "AudioSpecificConfig: truncated (1 bytes)",
           "ASC: truncated error");
    is_str(codec, "", "ASC: no codec string on error");
    is_int(aac.object_type, 0, "ASC: no object type on error");

    is_int(vks_hls_codec_aac((const uint8_t *) "\xf8", 1, codec, NULL, err,
                             sizeof(err)), -1, "ASC: cut escape refused");
    is_str(err, "AudioSpecificConfig: truncated (1 bytes)",
           "ASC: cut escape error");

    is_int(vks_hls_codec_aac((const uint8_t *) "\x17\x80\x56", 3, codec,
                             NULL, err, sizeof(err)), -1,
           "ASC: cut explicit frequency refused");

    is_int(vks_hls_codec_aac((const uint8_t *) "\x01\x90", 2, codec, NULL,
                             err, sizeof(err)), -1, "ASC: type 0 refused");
    is_str(err, "AudioSpecificConfig: object type 0 (null)",
           "ASC: type 0 error");

    is_int(vks_hls_codec_aac((const uint8_t *) "\x16\x90", 2, codec, NULL,
                             err, sizeof(err)), -1,
           "ASC: frequency index 13 refused");
    is_str(err, "AudioSpecificConfig: sampling frequency index 13 is "
           "reserved", "ASC: reserved index error");

    is_int(vks_hls_codec_aac((const uint8_t *) "\x17\x80\x00\x00\x08", 5,
                             codec, NULL, err, sizeof(err)), -1,
           "ASC: explicit frequency 0 refused");
    is_str(err, "AudioSpecificConfig: explicit sampling frequency 0",
           "ASC: frequency 0 error");

    is_int(vks_hls_codec_aac(NULL, 0, codec, NULL, err, sizeof(err)), -1,
           "ASC: empty refused");
}


static char  out[32768];


static void
conf_init(vks_llhls_conf_t *c, uint32_t part_ms, uint32_t target_ms,
    unsigned window)
{
    memset(c, 0, sizeof(vks_llhls_conf_t));
    c->part_target_ms = part_ms;
    c->target_ms = target_ms;
    c->window = window;
    strcpy(c->map_uri, "init.mp4");
}


static const char *
render(vks_llhls_t *pl, int skip, const vks_llhls_report_t *r, size_t n)
{
    size_t           len;
    vks_llhls_req_t  req;

    memset(&req, 0, sizeof(req));
    req.skip = skip;

    len = vks_llhls_render(pl, &req, r, n, out, sizeof(out));
    if (len >= sizeof(out)) {
        return "(too long)";
    }

    return out;
}


/* a part named by the global part counter, as the header advises */
static int
part(vks_llhls_t *pl, unsigned *seq, uint32_t ms, int independent)
{
    char  uri[32], err[VKS_LLHLS_ERR_LEN];

    snprintf(uri, sizeof(uri), "p%u.m4s", (*seq)++);

    if (vks_llhls_part_add(pl, ms, independent, uri, err, sizeof(err))
        != 0)
    {
        printf("# part_add: %s\n", err);
        return -1;
    }

    snprintf(uri, sizeof(uri), "p%u.m4s", *seq);

    return vks_llhls_hint(pl, uri, err, sizeof(err));
}


static int
segment(vks_llhls_t *pl, unsigned msn, int64_t pdt)
{
    char  uri[32], err[VKS_LLHLS_ERR_LEN];

    snprintf(uri, sizeof(uri), "s%u.m4s", msn);

    if (vks_llhls_segment_start(pl, pdt, uri, err, sizeof(err)) != 0) {
        printf("# segment_start: %s\n", err);
        return -1;
    }

    return 0;
}


/* a segment of 4 parts of 500 ms, the first independent */
static int
segment4(vks_llhls_t *pl, unsigned msn, unsigned *seq)
{
    int   i, rc;
    char  err[VKS_LLHLS_ERR_LEN];

    rc = segment(pl, msn, T0 + 2000LL * msn);

    for (i = 0; i < 4; i++) {
        rc |= part(pl, seq, 500, i == 0);
    }

    if (vks_llhls_segment_end(pl, err, sizeof(err)) != 0) {
        printf("# segment_end: %s\n", err);
        return -1;
    }

    return rc;
}


static void
test_playlist_small(void)
{
    unsigned            seq;
    vks_llhls_t         pl;
    vks_llhls_conf_t    c;
    vks_llhls_report_t  r[2];

    conf_init(&c, 500, 2000, 5);
    is_int(vks_llhls_init(&pl, &c, NULL, 0), 0, "playlist: init");

    seq = 0;
    ok(segment4(&pl, 0, &seq) == 0, "playlist: segment 0 of 4 parts");
    ok(segment(&pl, 1, T0 + 2000) == 0, "playlist: segment 1 starts");
    ok(part(&pl, &seq, 500, 1) == 0 && part(&pl, &seq, 500, 0) == 0,
       "playlist: 2 parts of segment 1, hint p6");

    r[0].uri = "b.m3u8";
    r[0].last_msn = 1;
    r[0].last_part = 1;
    r[1].uri = "c.m3u8";
    r[1].last_msn = 0;
    r[1].last_part = -1;

    is_str(render(&pl, 0, r, 2),
           "#EXTM3U\n"
           "#EXT-X-VERSION:6\n"
           "#EXT-X-TARGETDURATION:2\n"
           "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
           "PART-HOLD-BACK=1.500,HOLD-BACK=6.000\n"
           "#EXT-X-PART-INF:PART-TARGET=0.500\n"
           "#EXT-X-MEDIA-SEQUENCE:0\n"
           "#EXT-X-MAP:URI=\"init.mp4\"\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p0.m4s\",INDEPENDENT=YES\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p1.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p2.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p3.m4s\"\n"
           "#EXTINF:2.000,\n"
           "s0.m4s\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p4.m4s\",INDEPENDENT=YES\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p5.m4s\"\n"
           "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p6.m4s\"\n"
           "#EXT-X-RENDITION-REPORT:URI=\"b.m3u8\",LAST-MSN=1,LAST-PART=1\n"
           "#EXT-X-RENDITION-REPORT:URI=\"c.m3u8\",LAST-MSN=0\n",
           "playlist: one segment, two open parts, hint, two reports");
}


static void
test_playlist_first_whole(void)
{
    char              err[VKS_LLHLS_ERR_LEN];
    unsigned          seq;
    uint64_t          msn, pn;
    vks_llhls_t       pl;
    vks_llhls_conf_t  c;

    conf_init(&c, 500, 2000, 5);
    c.first_msn = 7;
    vks_llhls_init(&pl, &c, NULL, 0);

    is_int(vks_llhls_last_part(&pl, &msn, &pn), -1, "whole: no part yet");
    is_int(vks_llhls_last_msn(&pl, &msn), -1, "whole: no segment yet");

    is_int(vks_llhls_segment_add(&pl, T0 + 250, 1980, "s7.m4s", err,
                                 sizeof(err)), 0,
           "whole: a first segment without parts");
    ok(vks_llhls_last_msn(&pl, &msn) == 0 && msn == 7, "whole: last MSN 7");
    is_int(vks_llhls_last_part(&pl, &msn, &pn), -1,
           "whole: still no part");

    /* right after the segment boundary: nothing open, hint for MSN 8 */
    is_int(vks_llhls_hint(&pl, "p0.m4s", err, sizeof(err)), 0,
           "whole: hint before segment 8 starts");

    is_str(render(&pl, 0, NULL, 0),
           "#EXTM3U\n"
           "#EXT-X-VERSION:6\n"
           "#EXT-X-TARGETDURATION:2\n"
           "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
           "PART-HOLD-BACK=1.500,HOLD-BACK=6.000\n"
           "#EXT-X-PART-INF:PART-TARGET=0.500\n"
           "#EXT-X-MEDIA-SEQUENCE:7\n"
           "#EXT-X-MAP:URI=\"init.mp4\"\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.250Z\n"
           "#EXTINF:1.980,\n"
           "s7.m4s\n"
           "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p0.m4s\"\n",
           "whole: a segment without parts, a hint");

    seq = 0;
    ok(segment(&pl, 8, T0 + 2230) == 0 && part(&pl, &seq, 480, 1) == 0,
       "whole: segment 8 and its first part");
    ok(vks_llhls_last_part(&pl, &msn, &pn) == 0 && msn == 8 && pn == 0,
       "whole: last part 0 of MSN 8");

    is_str(strstr(render(&pl, 0, NULL, 0), "s7.m4s\n"),
           "s7.m4s\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.230Z\n"
           "#EXT-X-PART:DURATION=0.480,URI=\"p0.m4s\",INDEPENDENT=YES\n"
           "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p1.m4s\"\n",
           "whole: then the open segment's part");
}


static void
test_playlist_ended(void)
{
    unsigned          seq;
    vks_llhls_t       pl;
    vks_llhls_conf_t  c;
    char              err[VKS_LLHLS_ERR_LEN];

    vks_llhls_report_t  r = { "b.m3u8", 1, 0 };

    conf_init(&c, 500, 2000, 5);
    vks_llhls_init(&pl, &c, NULL, 0);

    seq = 0;
    segment4(&pl, 0, &seq);
    segment(&pl, 1, T0 + 2000);
    part(&pl, &seq, 500, 1);
    part(&pl, &seq, 300, 0);

    vks_llhls_end(&pl);

    is_str(render(&pl, 0, &r, 1),
           "#EXTM3U\n"
           "#EXT-X-VERSION:6\n"
           "#EXT-X-TARGETDURATION:2\n"
           "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
           "PART-HOLD-BACK=1.500,HOLD-BACK=6.000\n"
           "#EXT-X-PART-INF:PART-TARGET=0.500\n"
           "#EXT-X-MEDIA-SEQUENCE:0\n"
           "#EXT-X-MAP:URI=\"init.mp4\"\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p0.m4s\",INDEPENDENT=YES\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p1.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p2.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p3.m4s\"\n"
           "#EXTINF:2.000,\n"
           "s0.m4s\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p4.m4s\",INDEPENDENT=YES\n"
           "#EXT-X-PART:DURATION=0.300,URI=\"p5.m4s\"\n"
           "#EXTINF:0.800,\n"
           "s1.m4s\n"
           "#EXT-X-ENDLIST\n",
           "ended: open segment completed, ENDLIST, no hint or reports");

    is_int(vks_llhls_part_add(&pl, 500, 0, "p6.m4s", err, sizeof(err)), -1,
           "ended: no more parts");
    is_str(err, "the stream has ended", "ended: error");

    /* an empty open segment is dropped, its MSN unused */
    vks_llhls_init(&pl, &c, NULL, 0);
    seq = 0;
    segment4(&pl, 0, &seq);
    segment(&pl, 1, T0 + 2000);
    vks_llhls_end(&pl);
    ok(strstr(render(&pl, 0, NULL, 0), "s1.m4s") == NULL
       && strstr(out, "s0.m4s\n#EXT-X-ENDLIST\n") != NULL,
       "ended: an empty open segment is not listed");
}


static void
test_playlist_window(void)
{
    unsigned          i, seq;
    const char       *p;
    vks_llhls_t       pl;
    vks_llhls_conf_t  c;

    conf_init(&c, 500, 2000, 3);
    vks_llhls_init(&pl, &c, NULL, 0);

    seq = 0;
    for (i = 0; i < 6; i++) {
        segment4(&pl, i, &seq);
    }

    segment(&pl, 6, T0 + 12000);
    part(&pl, &seq, 500, 1);
    part(&pl, &seq, 500, 0);

    /* 3 segments of 2 s hold 3 target durations: the window is 3 */
    p = render(&pl, 0, NULL, 0);
    ok(strstr(p, "#EXT-X-MEDIA-SEQUENCE:3\n") != NULL,
       "window: the last 3 segments");
    ok(strstr(p, "s2.m4s") == NULL && strstr(p, "s3.m4s") != NULL,
       "window: s2 left");

    /*
     * 1 s open: s5 and s4 end within 3 s, s3 ends 5 s before the end,
     * within 6 s: all listed with parts
     */
    ok(strstr(p, "\"p12.m4s\"") != NULL, "window: s3's parts listed");

    part(&pl, &seq, 500, 0);
    part(&pl, &seq, 500, 0);
    vks_llhls_segment_end(&pl, NULL, 0);
    segment(&pl, 7, T0 + 14000);
    part(&pl, &seq, 500, 1);

    /* now s4 ends 4.5 s before the end, s3 6.5 s: s3 listed whole */
    p = render(&pl, 0, NULL, 0);
    ok(strstr(p, "#EXT-X-MEDIA-SEQUENCE:4\n") != NULL,
       "window: moved to MSN 4");
    ok(strstr(p, "\"p15.m4s\"") == NULL && strstr(p, "\"p16.m4s\"") != NULL,
       "window: parts only for the last 3 target durations");
    is_str(strstr(p, "#EXT-X-MEDIA-SEQUENCE"),
           "#EXT-X-MEDIA-SEQUENCE:4\n"
           "#EXT-X-MAP:URI=\"init.mp4\"\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:28.000Z\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p16.m4s\",INDEPENDENT=YES\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p17.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p18.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p19.m4s\"\n"
           "#EXTINF:2.000,\n"
           "s4.m4s\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:30.000Z\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p20.m4s\",INDEPENDENT=YES\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p21.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p22.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p23.m4s\"\n"
           "#EXTINF:2.000,\n"
           "s5.m4s\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:32.000Z\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p24.m4s\",INDEPENDENT=YES\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p25.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p26.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p27.m4s\"\n"
           "#EXTINF:2.000,\n"
           "s6.m4s\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:34.000Z\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p28.m4s\",INDEPENDENT=YES\n"
           "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p29.m4s\"\n",
           "window: 3 segments and an open part");

    /* short segments: more than the window, to keep 3 target durations */
    conf_init(&c, 500, 2000, 2);
    vks_llhls_init(&pl, &c, NULL, 0);

    for (i = 0; i < 10; i++) {
        vks_llhls_segment_add(&pl, T0 + 1000LL * i, 1000, "s.m4s", NULL, 0);
    }

    p = render(&pl, 0, NULL, 0);
    ok(strstr(p, "#EXT-X-MEDIA-SEQUENCE:4\n") != NULL,
       "window: 1 s segments, window 2: 6 kept for 6 s");
}


static void
test_playlist_skip(void)
{
    unsigned          i, seq;
    const char       *p;
    vks_llhls_t       pl;
    vks_llhls_conf_t  c;

    conf_init(&c, 500, 2000, 10);
    c.skip = 1;
    vks_llhls_init(&pl, &c, NULL, 0);

    seq = 0;
    for (i = 0; i < 10; i++) {
        segment4(&pl, i, &seq);
    }

    segment(&pl, 10, T0 + 20000);
    part(&pl, &seq, 500, 1);

    /* without _HLS_skip: everything, CAN-SKIP-UNTIL offered, version 6 */
    p = render(&pl, 0, NULL, 0);
    ok(strncmp(p, "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n"
               "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
               "CAN-SKIP-UNTIL=12.000,PART-HOLD-BACK=1.500,HOLD-BACK=6.000\n",
               strlen("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n"
               "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
               "CAN-SKIP-UNTIL=12.000,PART-HOLD-BACK=1.500,HOLD-BACK=6.000\n"))
       == 0, "skip: CAN-SKIP-UNTIL is 6 target durations");
    ok(strstr(p, "EXT-X-SKIP") == NULL && strstr(p, "\ns0.m4s\n") != NULL,
       "skip: no skip without _HLS_skip");

    /* segments 0-3 end 12 s or more before s9 ends */
    p = render(&pl, 1, NULL, 0);
    is_str(p,
           "#EXTM3U\n"
           "#EXT-X-VERSION:9\n"
           "#EXT-X-TARGETDURATION:2\n"
           "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
           "CAN-SKIP-UNTIL=12.000,PART-HOLD-BACK=1.500,HOLD-BACK=6.000\n"
           "#EXT-X-PART-INF:PART-TARGET=0.500\n"
           "#EXT-X-MEDIA-SEQUENCE:0\n"
           "#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n"
           "#EXT-X-MAP:URI=\"init.mp4\"\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:28.000Z\n"
           "#EXTINF:2.000,\n"
           "s4.m4s\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:30.000Z\n"
           "#EXTINF:2.000,\n"
           "s5.m4s\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:32.000Z\n"
           "#EXTINF:2.000,\n"
           "s6.m4s\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:34.000Z\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p28.m4s\",INDEPENDENT=YES\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p29.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p30.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p31.m4s\"\n"
           "#EXTINF:2.000,\n"
           "s7.m4s\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:36.000Z\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p32.m4s\",INDEPENDENT=YES\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p33.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p34.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p35.m4s\"\n"
           "#EXTINF:2.000,\n"
           "s8.m4s\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:38.000Z\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p36.m4s\",INDEPENDENT=YES\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p37.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p38.m4s\"\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p39.m4s\"\n"
           "#EXTINF:2.000,\n"
           "s9.m4s\n"
           "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:40.000Z\n"
           "#EXT-X-PART:DURATION=0.500,URI=\"p40.m4s\",INDEPENDENT=YES\n"
           "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p41.m4s\"\n",
           "skip: delta update, version 9, 4 segments skipped");

    /* a window of 6 target durations has nothing to skip */
    conf_init(&c, 500, 2000, 6);
    c.skip = 1;
    vks_llhls_init(&pl, &c, NULL, 0);
    seq = 0;
    for (i = 0; i < 6; i++) {
        segment4(&pl, i, &seq);
    }

    p = render(&pl, 1, NULL, 0);
    ok(strstr(p, "EXT-X-SKIP") == NULL && strstr(p, "VERSION:6") != NULL,
       "skip: 12 s window: nothing skipped, version 6");

    /* skips not offered: _HLS_skip is ignored */
    conf_init(&c, 500, 2000, 10);
    vks_llhls_init(&pl, &c, NULL, 0);
    seq = 0;
    for (i = 0; i < 10; i++) {
        segment4(&pl, i, &seq);
    }

    p = render(&pl, 1, NULL, 0);
    ok(strstr(p, "EXT-X-SKIP") == NULL && strstr(p, "CAN-SKIP") == NULL,
       "skip: not offered, not done");
}


static void
test_playlist_target(void)
{
    char              err[VKS_LLHLS_ERR_LEN];
    unsigned          seq;
    vks_llhls_t       pl;
    vks_llhls_conf_t  c;

    /* 2.499 s still rounds to 2 */
    conf_init(&c, 500, 2000, 5);
    vks_llhls_init(&pl, &c, NULL, 0);
    vks_llhls_segment_add(&pl, T0, 2499, "s0.m4s", NULL, 0);
    ok(strstr(render(&pl, 0, NULL, 0), "#EXT-X-TARGETDURATION:2\n") != NULL,
       "target: 2.499 s rounds to 2");
    is_int(vks_llhls_segment_limit_ms(&pl), 2499, "target: limit 2499 ms");

    /* a longer segment before publishing raises it */
    conf_init(&c, 500, 2000, 5);
    vks_llhls_init(&pl, &c, NULL, 0);
    vks_llhls_segment_add(&pl, T0, 2500, "s0.m4s", NULL, 0);
    ok(strstr(render(&pl, 0, NULL, 0), "#EXT-X-TARGETDURATION:3\n") != NULL,
       "target: 2.5 s rounds to 3 before publishing");
    ok(strstr(out, "HOLD-BACK=9.000\n") != NULL,
       "target: HOLD-BACK follows");

    /* published: fixed */
    is_int(vks_llhls_segment_add(&pl, T0 + 2500, 3500, "s1.m4s", err,
                                 sizeof(err)), -1,
           "target: 3.5 s refused once published");
    is_str(err, "segment of 3500 ms is above TARGETDURATION 3",
           "target: refusal reason");

    ok(segment(&pl, 1, T0 + 2500) == 0, "target: segment 1 starts");
    seq = 0;
    while (seq < 6) {
        part(&pl, &seq, 500, seq == 0);
    }

    /* 3 s so far: one more part of 500 would be 3.5 s */
    is_int(vks_llhls_part_add(&pl, 500, 0, "p6.m4s", err, sizeof(err)), -1,
           "target: a part that would round above is refused");
    is_str(err, "segment 1 would last 3500 ms, above TARGETDURATION 3: end "
           "it first", "target: part refusal reason");
    is_int(vks_llhls_part_add(&pl, 499, 0, "p6.m4s", err, sizeof(err)), 0,
           "target: 3.499 s still fits");
    ok(strstr(render(&pl, 0, NULL, 0), "#EXT-X-TARGETDURATION:3\n") != NULL,
       "target: never changes");

    /* unpublished, the open segment raises it as it grows */
    conf_init(&c, 500, 1000, 5);
    vks_llhls_init(&pl, &c, NULL, 0);
    segment(&pl, 0, T0);
    seq = 0;
    while (seq < 4) {
        part(&pl, &seq, 500, seq == 0);
    }

    ok(strstr(render(&pl, 0, NULL, 0), "#EXT-X-TARGETDURATION:2\n") != NULL,
       "target: an open segment of 2 s before publishing gives 2");

    /* explicit publish */
    conf_init(&c, 500, 1000, 5);
    vks_llhls_init(&pl, &c, NULL, 0);
    vks_llhls_publish(&pl);
    is_int(vks_llhls_segment_add(&pl, T0, 1600, "s0.m4s", NULL, 0), -1,
           "target: vks_llhls_publish() fixes it too");
}


static void
test_playlist_errors(void)
{
    char              err[VKS_LLHLS_ERR_LEN];
    unsigned          seq;
    size_t            len, len2;
    vks_llhls_t       pl;
    vks_llhls_conf_t  c;

    conf_init(&c, 50, 2000, 5);
    is_int(vks_llhls_init(&pl, &c, err, sizeof(err)), -1,
           "init: part target 50 ms refused");
    is_str(err, "part target 50 ms is not within 100-5000 ms",
           "init: part target reason");

    conf_init(&c, 500, 400, 5);
    is_int(vks_llhls_init(&pl, &c, err, sizeof(err)), -1,
           "init: segment target below part target refused");
    is_str(err, "segment target 400 ms is below the part target 500 ms",
           "init: segment target reason");

    conf_init(&c, 500, 2000, 0);
    is_int(vks_llhls_init(&pl, &c, err, sizeof(err)), -1,
           "init: window 0 refused");
    is_str(err, "window of 0 segments is not within 1-64",
           "init: window reason");

    conf_init(&c, 500, 2000, 5);
    strcpy(c.map_uri, "init\".mp4");
    is_int(vks_llhls_init(&pl, &c, err, sizeof(err)), -1,
           "init: a quote in the map URI refused");

    conf_init(&c, 500, 2000, 5);
    vks_llhls_init(&pl, &c, NULL, 0);

    is_int(vks_llhls_part_add(&pl, 500, 1, "p0.m4s", err, sizeof(err)), -1,
           "part: none without a segment");
    is_str(err, "no open segment for the part", "part: no segment reason");

    is_int(vks_llhls_segment_end(&pl, err, sizeof(err)), -1,
           "end: none without a segment");

    is_int(vks_llhls_segment_start(&pl, T0, "s0.m4s\n#EXT-X-ENDLIST", err,
                                   sizeof(err)), -1,
           "segment: a URI with a newline refused");
    is_int(vks_llhls_segment_start(&pl, T0, "#s0.m4s", err, sizeof(err)),
           -1, "segment: a URI starting with # refused");
    is_int(vks_llhls_segment_start(&pl, -1, "s0.m4s", err, sizeof(err)),
           -1, "segment: a negative PDT refused");

    segment(&pl, 0, T0 + 5000);
    is_int(vks_llhls_segment_end(&pl, err, sizeof(err)), -1,
           "end: a segment without parts cannot end");
    is_str(err, "segment 0 has no part", "end: reason");

    is_int(vks_llhls_segment_start(&pl, T0, "s1.m4s", err, sizeof(err)), -1,
           "segment: none while one is open");
    is_str(err, "segment 0 is still open", "segment: open reason");

    is_int(vks_llhls_part_add(&pl, 501, 1, "p0.m4s", err, sizeof(err)), -1,
           "part: longer than PART-TARGET refused");
    is_str(err, "part of 501 ms is not within 1-500 ms (PART-TARGET)",
           "part: duration reason");
    is_int(vks_llhls_part_add(&pl, 0, 1, "p0.m4s", err, sizeof(err)), -1,
           "part: 0 ms refused");
    is_int(vks_llhls_part_add(&pl, 500, 1, "p 0.m4s", err, sizeof(err)), -1,
           "part: a space refused");

    vks_llhls_hint(&pl, "p0.m4s", NULL, 0);
    is_int(vks_llhls_part_add(&pl, 500, 1, "p9.m4s", err, sizeof(err)), -1,
           "part: not the hinted URI refused");
    is_str(err, "part URI is not the preload hint's", "part: hint reason");

    seq = 0;
    part(&pl, &seq, 500, 1);
    vks_llhls_segment_end(&pl, NULL, 0);
    is_int(vks_llhls_segment_start(&pl, T0 + 4000, "s1.m4s", err,
                                   sizeof(err)), -1,
           "segment: a PDT going back refused");
    is_str(err, "program date-time goes back 1000 ms", "segment: PDT reason");

    /* the size check */
    len = vks_llhls_render(&pl, NULL, NULL, 0, NULL, 0);
    ok(len > 100, "render: size 0 gives the length needed (%zu)", len);
    len2 = vks_llhls_render(&pl, NULL, NULL, 0, out, 10);
    is_int(len2, len, "render: a short buffer gives the same length");
    is_str(out, "#EXTM3U\n#", "render: cut, NUL-terminated");
    len2 = vks_llhls_render(&pl, NULL, NULL, 0, out, len);
    is_int(strlen(out), len - 1, "render: one byte short is cut");
    len2 = vks_llhls_render(&pl, NULL, NULL, 0, out, len + 1);
    is_int(strlen(out), len, "render: length + 1 holds it all");
    is_str(strstr(out, "#EXT-X-PRELOAD"),
           "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p1.m4s\"\n",
           "render: ends with the hint");
}


static vks_llhls_block_e
block(vks_llhls_t *pl, int has_msn, uint64_t msn, int has_part,
    uint64_t pn, const char **reason)
{
    vks_llhls_req_t  req;

    memset(&req, 0, sizeof(req));
    req.has_msn = has_msn;
    req.msn = msn;
    req.has_part = has_part;
    req.part = pn;

    return vks_llhls_block(pl, &req, reason);
}


static void
test_block(void)
{
    unsigned          seq;
    const char       *why;
    vks_llhls_t       pl;
    vks_llhls_conf_t  c;

    conf_init(&c, 500, 2000, 5);
    vks_llhls_init(&pl, &c, NULL, 0);

    /* nothing yet: segment 0 is "last + 1" */
    is_int(block(&pl, 1, 0, 1, 0, &why), VKS_LLHLS_WAIT,
           "block: empty, 0.0 waits");
    is_int(block(&pl, 1, 1, 0, 0, &why), VKS_LLHLS_WAIT,
           "block: empty, MSN 1 waits");
    is_int(block(&pl, 1, 2, 0, 0, &why), VKS_LLHLS_BAD,
           "block: empty, MSN 2 is 400");

    /* segment 0: 4 parts; segment 1 open with 2 */
    seq = 0;
    segment4(&pl, 0, &seq);
    segment(&pl, 1, T0 + 2000);
    part(&pl, &seq, 500, 1);
    part(&pl, &seq, 500, 0);

    is_int(block(&pl, 0, 0, 0, 0, &why), VKS_LLHLS_READY,
           "block: no directive, ready");
    is_int(block(&pl, 0, 0, 1, 0, &why), VKS_LLHLS_BAD,
           "block: _HLS_part alone is 400");
    is_str(why, "_HLS_part without _HLS_msn", "block: its reason");

    is_int(block(&pl, 1, 0, 0, 0, &why), VKS_LLHLS_READY,
           "block: MSN 0 complete, ready");
    is_int(block(&pl, 1, 1, 0, 0, &why), VKS_LLHLS_WAIT,
           "block: MSN 1 open, waits");
    is_str(why, "segment not complete yet", "block: wait reason");
    is_int(block(&pl, 1, 2, 0, 0, &why), VKS_LLHLS_WAIT,
           "block: MSN 2 = last + 2, waits");
    is_int(block(&pl, 1, 3, 0, 0, &why), VKS_LLHLS_BAD,
           "block: MSN 3 > last + 2, 400");
    is_str(why, "_HLS_msn more than 2 segments past the last one",
           "block: MSN reason");

    is_int(block(&pl, 1, 1, 1, 1, &why), VKS_LLHLS_READY,
           "block: 1.1 exists");
    is_int(block(&pl, 1, 1, 1, 2, &why), VKS_LLHLS_WAIT,
           "block: 1.2 is the next part, waits");
    is_str(why, "part not written yet", "block: part wait reason");
    is_int(block(&pl, 1, 1, 1, 7, &why), VKS_LLHLS_WAIT,
           "block: 1.7 is 6 parts (3 s) ahead, waits");
    is_int(block(&pl, 1, 1, 1, 8, &why), VKS_LLHLS_BAD,
           "block: 1.8 is 7 parts ahead, 400");
    is_str(why, "_HLS_part too far past the last part",
           "block: part reason");
    is_int(block(&pl, 1, 2, 1, 5, &why), VKS_LLHLS_WAIT,
           "block: 2.5 (6 from part 0 of 2) waits");
    is_int(block(&pl, 1, 2, 1, 6, &why), VKS_LLHLS_BAD,
           "block: 2.6 is 400");

    is_int(block(&pl, 1, 0, 1, 3, &why), VKS_LLHLS_READY,
           "block: 0.3 exists");
    is_int(block(&pl, 1, 0, 1, 4, &why), VKS_LLHLS_READY,
           "block: 0.4 past the last part of 0 is 1.0, exists");
    is_int(block(&pl, 1, 0, 1, 1000, &why), VKS_LLHLS_READY,
           "block: 0.1000 too is 1.0");

    /* segment 1 ends with 2 parts: 1.2 means 2.0 */
    vks_llhls_segment_end(&pl, NULL, 0);
    is_int(block(&pl, 1, 1, 1, 2, &why), VKS_LLHLS_WAIT,
           "block: 1.2 after segment 1 ended is 2.0, waits");
    is_str(why, "part 0 of the next segment not written yet",
           "block: next segment reason");
    is_int(block(&pl, 1, 1, 0, 0, &why), VKS_LLHLS_READY,
           "block: MSN 1 complete now");
    is_int(block(&pl, 1, 3, 1, 0, &why), VKS_LLHLS_WAIT,
           "block: 3.0 = last + 2, waits");

    segment(&pl, 2, T0 + 3000);
    is_int(block(&pl, 1, 2, 1, 0, &why), VKS_LLHLS_WAIT,
           "block: 2.0 with segment 2 open and empty, waits");
    part(&pl, &seq, 500, 1);
    is_int(block(&pl, 1, 1, 1, 2, &why), VKS_LLHLS_READY,
           "block: 1.2 = 2.0 written, ready");
    is_int(block(&pl, 1, 2, 1, 0, &why), VKS_LLHLS_READY,
           "block: 2.0 ready");

    is_int(vks_llhls_block_timeout_ms(&pl), 6000,
           "block: 503 after 3 target durations");

    vks_llhls_end(&pl);
    is_int(block(&pl, 1, 100, 1, 100, &why), VKS_LLHLS_READY,
           "block: after ENDLIST directives are ignored");
    is_int(block(&pl, 0, 0, 1, 0, &why), VKS_LLHLS_BAD,
           "block: after ENDLIST _HLS_part alone is still 400");

    /* PART-TARGET of 1 s and more: 3 parts ahead */
    conf_init(&c, 1000, 4000, 5);
    vks_llhls_init(&pl, &c, NULL, 0);
    segment(&pl, 0, T0);
    seq = 0;
    part(&pl, &seq, 1000, 1);
    is_int(block(&pl, 1, 0, 1, 3, &why), VKS_LLHLS_WAIT,
           "block: 1 s parts, 3 ahead waits");
    is_int(block(&pl, 1, 0, 1, 4, &why), VKS_LLHLS_BAD,
           "block: 1 s parts, 4 ahead is 400");

    is_int(block(&pl, 1, (uint64_t) -1, 0, 0, &why), VKS_LLHLS_BAD,
           "block: a huge MSN is 400");
}


static void
variant(vks_hls_variant_t *v, const char *uri, uint64_t bw, uint64_t avg,
    unsigned w, unsigned h, double fps, const char *vc, const char *ac)
{
    memset(v, 0, sizeof(vks_hls_variant_t));
    snprintf(v->uri, sizeof(v->uri), "%s", uri);
    v->bandwidth = bw;
    v->average_bandwidth = avg;
    v->width = w;
    v->height = h;
    v->frame_rate = fps;
    snprintf(v->video_codec, sizeof(v->video_codec), "%s", vc);
    snprintf(v->audio_codec, sizeof(v->audio_codec), "%s", ac);
}


static void
test_master(void)
{
    char               buf[4096], err[128];
    size_t             len, listed;
    vks_hls_variant_t  v[8];

    variant(&v[0], "a.m3u8", 2500000, 2000000, 1280, 720, 30,
            "avc1.64001f", "mp4a.40.2");
    variant(&v[1], "a_low.m3u8", 400000, 300000, 480, 270, 29.97,
            "avc1.42c01e", "mp4a.40.2");
    variant(&v[2], "a_mid.m3u8", 499999, 0, 480, 270, 30, "avc1.42c01e",
            "mp4a.40.2");
    variant(&v[3], "a_hi.m3u8", 500000, 450000, 480, 270, 30,
            "avc1.4d401e", "mp4a.40.2");
    variant(&v[4], "a_audio.m3u8", 64000, 64000, 0, 0, 0, "",
            "mp4a.40.2");
    variant(&v[5], "a_bad.m3u8", 0, 0, 480, 270, 30, "avc1.42c01e", "");
    variant(&v[6], "a_vonly.m3u8", 300000, 0, 320, 180, 15, "avc1.42c00d",
            "");

    len = vks_hls_master_render(v, 7, buf, sizeof(buf), &listed);
    is_int(len, strlen(buf), "master: length returned");
    is_int(listed, 5, "master: 5 of 7 listed");
    is_str(buf,
           "#EXTM3U\n"
           "#EXT-X-INDEPENDENT-SEGMENTS\n"
           "#EXT-X-STREAM-INF:BANDWIDTH=64000,AVERAGE-BANDWIDTH=64000,"
           "CODECS=\"mp4a.40.2\"\n"
           "a_audio.m3u8\n"
           "#EXT-X-STREAM-INF:BANDWIDTH=300000,CODECS=\"avc1.42c00d\","
           "RESOLUTION=320x180,FRAME-RATE=15.000\n"
           "a_vonly.m3u8\n"
           "#EXT-X-STREAM-INF:BANDWIDTH=400000,AVERAGE-BANDWIDTH=300000,"
           "CODECS=\"avc1.42c01e,mp4a.40.2\",RESOLUTION=480x270,"
           "FRAME-RATE=29.970\n"
           "a_low.m3u8\n"
           "#EXT-X-STREAM-INF:BANDWIDTH=500000,AVERAGE-BANDWIDTH=450000,"
           "CODECS=\"avc1.4d401e,mp4a.40.2\",RESOLUTION=480x270,"
           "FRAME-RATE=30.000\n"
           "a_hi.m3u8\n"
           "#EXT-X-STREAM-INF:BANDWIDTH=2500000,AVERAGE-BANDWIDTH=2000000,"
           "CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,"
           "FRAME-RATE=30.000\n"
           "a.m3u8\n",
           "master: by bandwidth, the duplicate and the invalid left out");

    /* the cheaper of two duplicates stays, whatever the order given */
    variant(&v[0], "a.m3u8", 460000, 0, 176, 144, 25, "avc1.42c00b",
            "mp4a.40.2");
    variant(&v[1], "a_low.m3u8", 400000, 0, 176, 144, 25, "avc1.42c00b",
            "mp4a.40.2");
    vks_hls_master_render(v, 2, buf, sizeof(buf), &listed);
    is_int(listed, 1, "master: capped to the source: one left");
    ok(strstr(buf, "\na_low.m3u8\n") != NULL && strstr(buf, "\na.m3u8\n")
       == NULL, "master: the cheaper kept");

    /* size check */
    len = vks_hls_master_render(v, 2, buf, 20, NULL);
    is_int(strlen(buf), 19, "master: cut to the buffer");
    ok(len > 19, "master: needed length returned");

    len = vks_hls_master_render(v, 0, buf, sizeof(buf), &listed);
    is_str(buf, "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n",
           "master: no variant");

    /* the checks */
    variant(&v[0], "a\".m3u8", 1, 0, 2, 2, 0, "avc1.42c00b", "");
    is_int(vks_hls_variant_check(&v[0], err, sizeof(err)), -1,
           "variant: a quote in the URI refused");
    variant(&v[0], "a.m3u8", 100, 200, 2, 2, 0, "avc1.42c00b", "");
    is_int(vks_hls_variant_check(&v[0], err, sizeof(err)), -1,
           "variant: average above the peak refused");
    is_str(err, "a.m3u8: AVERAGE-BANDWIDTH 200 above the peak 100",
           "variant: average reason");
    variant(&v[0], "a.m3u8", 100, 0, 0, 0, 0, "", "");
    is_int(vks_hls_variant_check(&v[0], err, sizeof(err)), -1,
           "variant: no track refused");
    is_str(err, "a.m3u8: no track", "variant: no track reason");
    variant(&v[0], "a.m3u8", 100, 0, 0, 0, 0, "avc1.42c00b", "");
    is_int(vks_hls_variant_check(&v[0], err, sizeof(err)), -1,
           "variant: video without a size refused");
    is_str(err, "a.m3u8: RESOLUTION 0x0 does not fit the tracks",
           "variant: size reason");
    variant(&v[0], "a.m3u8", 100, 0, 0, 0, 0, "", "mp4a.40.2\"x");
    is_int(vks_hls_variant_check(&v[0], err, sizeof(err)), -1,
           "variant: a quote in a codec refused");
    variant(&v[0], "a.m3u8", 100, 0, 2, 2, 1e9, "avc1.42c00b", "");
    is_int(vks_hls_variant_check(&v[0], err, sizeof(err)), -1,
           "variant: absurd frame rate refused");
    variant(&v[0], "a.m3u8", 100, 0, 0, 0, 0, "", "mp4a.40.2");
    is_int(vks_hls_variant_check(&v[0], err, sizeof(err)), 0,
           "variant: audio only is fine");
}


static int
write_file(const char *dir, const char *name, const char *text)
{
    char   path[1024];
    FILE  *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return -1;
    }

    fputs(text, f);

    return fclose(f);
}


/*
 * Three renditions a, b, c in step: 0.5 s parts, segments of 4 parts
 * (0.5 + 0.5 + 0.5 + 0.48 s, the short one last), window 8 with delta
 * updates.  Writes a's playlist after every part (live-NNN.m3u8), a delta
 * update (delta.m3u8), the ended playlist (ended.m3u8) and the master.
 */
static int
write_samples(const char *dir)
{
    int                  r, k, rc;
    char                 name[64], uri[64], err[VKS_LLHLS_ERR_LEN];
    unsigned             i, j, file;
    uint64_t             msn, pn;
    vks_llhls_t         *pl;
    vks_llhls_conf_t     c;
    vks_hls_variant_t    v[3];
    vks_llhls_report_t   rep[2];
    static const char   *names = "abc";

    pl = calloc(3, sizeof(vks_llhls_t));
    if (pl == NULL) {
        return 1;
    }

    conf_init(&c, 500, 2000, 8);
    c.skip = 1;
    rc = 0;

    for (r = 0; r < 3; r++) {
        rc |= vks_llhls_init(&pl[r], &c, err, sizeof(err));
    }

    file = 0;

    for (i = 0; i < 11; i++) {
        for (r = 0; r < 3; r++) {
            snprintf(uri, sizeof(uri), "%c-s%u.m4s", names[r], i);
            rc |= vks_llhls_segment_start(&pl[r], T0 + 1980LL * i, uri,
                                          err, sizeof(err));
        }

        for (j = 0; j < 4; j++) {
            for (r = 0; r < 3; r++) {
                snprintf(uri, sizeof(uri), "%c-p%u.m4s", names[r],
                         i * 4 + j);
                rc |= vks_llhls_part_add(&pl[r], j == 3 ? 480 : 500, j == 0,
                                         uri, err, sizeof(err));

                if (j == 3) {
                    rc |= vks_llhls_segment_end(&pl[r], err, sizeof(err));
                }

                snprintf(uri, sizeof(uri), "%c-p%u.m4s", names[r],
                         i * 4 + j + 1);
                rc |= vks_llhls_hint(&pl[r], uri, err, sizeof(err));
            }

            for (k = 1; k < 3; k++) {
                rep[k - 1].uri = k == 1 ? "b.m3u8" : "c.m3u8";
                rc |= vks_llhls_last_part(&pl[k], &msn, &pn);
                rep[k - 1].last_msn = msn;
                rep[k - 1].last_part = (int64_t) pn;
            }

            snprintf(name, sizeof(name), "live-%03u.m3u8", file++);
            rc |= write_file(dir, name, render(&pl[0], 0, rep, 2));
        }
    }

    rc |= write_file(dir, "delta.m3u8", render(&pl[0], 1, rep, 2));

    vks_llhls_end(&pl[0]);
    rc |= write_file(dir, "ended.m3u8", render(&pl[0], 0, rep, 2));

    variant(&v[0], "a.m3u8", 2500000, 2000000, 1280, 720, 30,
            "avc1.64001f", "mp4a.40.2");
    variant(&v[1], "b.m3u8", 800000, 600000, 640, 360, 30, "avc1.4d401e",
            "mp4a.40.2");
    variant(&v[2], "c.m3u8", 400000, 300000, 480, 270, 30, "avc1.42c01e",
            "mp4a.40.2");
    vks_hls_master_render(v, 3, out, sizeof(out), NULL);
    rc |= write_file(dir, "master.m3u8", out);

    free(pl);

    if (rc) {
        fprintf(stderr, "test_llhls: samples failed: %s\n", err);
    }

    return rc ? 1 : 0;
}


int
main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write") == 0) {
        return write_samples(argv[2]);
    }

    test_codecs_avc();
    test_codecs_aac();
    test_playlist_small();
    test_playlist_first_whole();
    test_playlist_ended();
    test_playlist_window();
    test_playlist_skip();
    test_playlist_target();
    test_playlist_errors();
    test_block();
    test_master();

    return done_testing();
}
