
/*
 * Unit tests: media/vks_h264_sps (the picture size of an H.264 SPS, for
 * copy renditions).  Real SPSs from libx264 (through libavcodec's avcC
 * extradata) of many sizes, chroma formats, bit depths, interlaced and
 * with scaling matrices; SPSs written bit by bit here (emulation
 * prevention, POC type 1, 4:0:0, limits); and hostile input: every
 * truncation of a real one, wrong NAL types, endless exp-Golomb codes,
 * sizes too large or cropped to nothing, broken avcC records.
 */


#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>

#include "media/vks_h264_sps.h"
#include "vks_tap.h"


/*
 * libx264's global header is Annex B: its SPS (up to the next start code)
 * in an avcC record as FLV carries it
 */
static int
annexb_avcc(const uint8_t *p, int n, uint8_t **avcc)
{
    int       i, start, end;
    uint8_t  *a;

    start = -1;
    end = n;

    for (i = 0; i + 3 <= n; i++) {
        if (p[i] != 0 || p[i + 1] != 0 || p[i + 2] != 1) {
            continue;
        }

        if (start >= 0) {
            end = (i > 0 && p[i - 1] == 0) ? i - 1 : i;
            break;
        }

        if (i + 3 < n && (p[i + 3] & 0x1f) == 7) {
            start = i + 3;
        }
    }

    if (start < 0 || end - start < 4) {
        return 0;
    }

    a = malloc(8 + end - start);
    a[0] = 1;
    memcpy(a + 1, p + start + 1, 3);
    a[4] = 0xff;
    a[5] = 0xe1;
    a[6] = (uint8_t) ((end - start) >> 8);
    a[7] = (uint8_t) (end - start);
    memcpy(a + 8, p + start, end - start);
    *avcc = a;

    return 8 + end - start;
}


/* an encoder's SPS in an avcC record: 0 when made */
static int
x264_avcc(int w, int h, enum AVPixelFormat fmt, const char *profile,
    int interlaced, const char *params, uint8_t **avcc, int *len)
{
    int              rc;
    const AVCodec   *codec;
    AVCodecContext  *c;

    codec = avcodec_find_encoder_by_name("libx264");
    if (codec == NULL) {
        return -1;
    }

    c = avcodec_alloc_context3(codec);
    if (c == NULL) {
        return -1;
    }

    c->width = w;
    c->height = h;
    c->pix_fmt = fmt;
    c->time_base = (AVRational) { 1, 25 };
    c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

    if (interlaced) {
        c->flags |= AV_CODEC_FLAG_INTERLACED_DCT;
    }

    av_opt_set(c->priv_data, "preset", "ultrafast", 0);

    if (profile) {
        av_opt_set(c->priv_data, "profile", profile, 0);
    }

    if (params) {
        av_opt_set(c->priv_data, "x264-params", params, 0);
    }

    rc = avcodec_open2(c, codec, NULL);

    if (rc == 0 && c->extradata_size > 0) {
        *len = annexb_avcc(c->extradata, c->extradata_size, avcc);
    }

    avcodec_free_context(&c);

    return rc == 0 && *len > 0 ? 0 : -1;
}


static void
test_x264(void)
{
    int              i, len;
    char             err[128];
    uint8_t         *avcc;
    vks_h264_sps_t   sps;

    static const struct {
        int                  w, h;
        enum AVPixelFormat   fmt;
        const char          *profile;
        int                  interlaced;
        const char          *params;
        unsigned             chroma, depth, frame_mbs_only;
    } t[] = {
        { 640, 360, AV_PIX_FMT_YUV420P, NULL, 0, NULL, 1, 8, 1 },
        { 176, 144, AV_PIX_FMT_YUV420P, "baseline", 0, NULL, 1, 8, 1 },
        { 1920, 1080, AV_PIX_FMT_YUV420P, "main", 0, NULL, 1, 8, 1 },
        { 1280, 720, AV_PIX_FMT_YUV420P, "high", 0, "cqm=jvt", 1, 8, 1 },
        { 322, 182, AV_PIX_FMT_YUV420P, NULL, 0, NULL, 1, 8, 1 },
        { 16, 16, AV_PIX_FMT_YUV420P, NULL, 0, NULL, 1, 8, 1 },
        { 321, 181, AV_PIX_FMT_YUV444P, NULL, 0, NULL, 3, 8, 1 },
        { 322, 181, AV_PIX_FMT_YUV422P, NULL, 0, NULL, 2, 8, 1 },
        { 720, 576, AV_PIX_FMT_YUV420P, NULL, 1, NULL, 1, 8, 0 },
        { 1920, 1080, AV_PIX_FMT_YUV420P, NULL, 1, NULL, 1, 8, 0 },
        { 1920, 1080, AV_PIX_FMT_YUV420P10LE, NULL, 0, NULL, 1, 10, 1 },
        { 640, 480, AV_PIX_FMT_YUV422P10LE, NULL, 1, NULL, 2, 10, 0 },
        { 3840, 2160, AV_PIX_FMT_YUV420P, NULL, 0, NULL, 1, 8, 1 },
    };

    for (i = 0; i < (int) (sizeof(t) / sizeof(t[0])); i++) {
        avcc = NULL;
        len = 0;

        if (x264_avcc(t[i].w, t[i].h, t[i].fmt, t[i].profile,
                      t[i].interlaced, t[i].params, &avcc, &len) != 0)
        {
            /* a libx264 built without 10-bit: nothing to test */
            ok(1, "# skip libx264 cannot make %dx%d %s", t[i].w, t[i].h,
               av_get_pix_fmt_name(t[i].fmt));
            continue;
        }

        err[0] = '\0';
        if (!ok(vks_h264_sps_avcc(avcc, len, &sps, err, sizeof(err)) == 0,
                "x264 %dx%d %s%s%s: parsed", t[i].w, t[i].h,
                av_get_pix_fmt_name(t[i].fmt),
                t[i].interlaced ? " interlaced" : "",
                t[i].params ? " with a scaling matrix" : ""))
        {
            printf("#   %s\n", err);
        }

        is_int(sps.width, t[i].w, "  width");
        is_int(sps.height, t[i].h, "  height");
        is_int(sps.chroma_format_idc, t[i].chroma, "  chroma_format_idc");
        is_int(sps.bit_depth_luma, t[i].depth, "  bit depth");
        is_int(sps.frame_mbs_only, t[i].frame_mbs_only, "  frame_mbs_only");

        /* every shorter record is refused or still complete enough */
        {
            int  n, bad;

            bad = 0;

            for (n = 0; n < len; n++) {
                vks_h264_sps_t  s2;
                uint8_t        *cut = malloc(n ? n : 1);

                memcpy(cut, avcc, n);
                err[0] = '\0';

                if (vks_h264_sps_avcc(cut, n, &s2, err, sizeof(err)) == 0) {
                    bad += s2.width != sps.width
                           || s2.height != sps.height;

                } else {
                    bad += err[0] == '\0';
                }

                free(cut);
            }

            is_int(bad, 0, "  every truncation refused with a reason or "
                   "complete");
        }

        free(avcc);
    }
}


/* an SPS written bit by bit */
typedef struct {
    uint8_t   buf[256];
    unsigned  bits;
} bw_t;


static void
put(bw_t *b, unsigned n, uint64_t v)
{
    while (n--) {
        if ((v >> n) & 1) {
            b->buf[b->bits >> 3] |= 0x80 >> (b->bits & 7);
        }
        b->bits++;
    }
}


static void
put_ue(bw_t *b, uint64_t v)
{
    unsigned  n;

    for (n = 0; ((v + 1) >> n) > 1; n++) { /* void */ }

    put(b, n, 0);
    put(b, n + 1, v + 1);
}


static void
put_se(bw_t *b, int64_t v)
{
    put_ue(b, v > 0 ? (uint64_t) v * 2 - 1 : (uint64_t) (-v) * 2);
}


typedef struct {
    unsigned  profile;
    unsigned  chroma;
    unsigned  poc_type;
    int64_t   poc_offset;       /* offset_for_non_ref_pic */
    uint64_t  w_mbs_m1;
    uint64_t  h_units_m1;
    unsigned  frame_mbs_only;
    uint64_t  crop[4];
    int       cropping;
} sps_in_t;


/* NAL header, RBSP, stop bit, then emulation prevention: into out */
static size_t
write_sps(const sps_in_t *in, uint8_t *out)
{
    bw_t      b;
    size_t    i, n, zeros;
    unsigned  k;

    memset(&b, 0, sizeof(b));

    put(&b, 8, in->profile);
    put(&b, 8, 0);
    put(&b, 8, 31);
    put_ue(&b, 0);

    if (in->profile == 100 || in->profile == 244) {
        put_ue(&b, in->chroma);
        if (in->chroma == 3) {
            put(&b, 1, 0);
        }
        put_ue(&b, 0);
        put_ue(&b, 0);
        put(&b, 1, 0);
        put(&b, 1, 0);
    }

    put_ue(&b, 0);
    put_ue(&b, in->poc_type);

    if (in->poc_type == 0) {
        put_ue(&b, 2);

    } else if (in->poc_type == 1) {
        put(&b, 1, 0);
        put_se(&b, in->poc_offset);
        put_se(&b, 7);
        put_ue(&b, 3);
        put_se(&b, 1);
        put_se(&b, -100);
        put_se(&b, 0);
    }

    put_ue(&b, 1);
    put(&b, 1, 0);
    put_ue(&b, in->w_mbs_m1);
    put_ue(&b, in->h_units_m1);
    put(&b, 1, in->frame_mbs_only);
    if (!in->frame_mbs_only) {
        put(&b, 1, 0);
    }
    put(&b, 1, 1);
    put(&b, 1, in->cropping);

    if (in->cropping) {
        for (k = 0; k < 4; k++) {
            put_ue(&b, in->crop[k]);
        }
    }

    put(&b, 1, 0);          /* vui_parameters_present_flag */
    put(&b, 1, 1);          /* rbsp_stop_one_bit */

    n = 0;
    out[n++] = 0x67;
    zeros = 0;

    for (i = 0; i < (b.bits + 7) / 8; i++) {
        if (zeros >= 2 && b.buf[i] <= 3) {
            out[n++] = 3;
            zeros = 0;
        }

        out[n++] = b.buf[i];
        zeros = b.buf[i] == 0 ? zeros + 1 : 0;
    }

    return n;
}


static int
has_epb(const uint8_t *p, size_t n)
{
    size_t  i;

    for (i = 0; i + 2 < n; i++) {
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 3) {
            return 1;
        }
    }

    return 0;
}


static void
test_written(void)
{
    char            err[128];
    size_t          n;
    uint8_t         out[512];
    sps_in_t        in;
    vks_h264_sps_t  sps;

    /* Baseline, POC type 1, crop right and bottom */
    memset(&in, 0, sizeof(in));
    in.profile = 66;
    in.poc_type = 1;
    in.poc_offset = -3;
    in.w_mbs_m1 = 39;
    in.h_units_m1 = 22;
    in.frame_mbs_only = 1;
    in.cropping = 1;
    in.crop[1] = 3;
    in.crop[3] = 4;
    n = write_sps(&in, out);
    ok(vks_h264_sps_parse(out, n, &sps, err, sizeof(err)) == 0,
       "POC type 1: parsed");
    is_int(sps.width, 640 - 6, "POC type 1: width");
    is_int(sps.height, 368 - 8, "POC type 1: height");

    /* 4:0:0 (crop units of 1), fields: crop unit 2 vertically */
    memset(&in, 0, sizeof(in));
    in.profile = 100;
    in.chroma = 0;
    in.w_mbs_m1 = 9;
    in.h_units_m1 = 4;
    in.frame_mbs_only = 0;
    in.cropping = 1;
    in.crop[0] = 1;
    in.crop[2] = 1;
    n = write_sps(&in, out);
    ok(vks_h264_sps_parse(out, n, &sps, err, sizeof(err)) == 0,
       "4:0:0 fields: parsed");
    is_int(sps.width, 160 - 1, "4:0:0 fields: width");
    is_int(sps.height, 160 - 2, "4:0:0 fields: height");

    /* 31 zero bits in a row inside the RBSP: emulation prevention */
    memset(&in, 0, sizeof(in));
    in.profile = 66;
    in.poc_type = 1;
    in.poc_offset = -(1LL << 30);
    in.w_mbs_m1 = 79;
    in.h_units_m1 = 44;
    in.frame_mbs_only = 1;
    in.cropping = 1;
    in.crop[3] = 4;
    n = write_sps(&in, out);
    ok(has_epb(out, n), "the written SPS has emulation prevention bytes");
    ok(vks_h264_sps_parse(out, n, &sps, err, sizeof(err)) == 0,
       "with emulation prevention: parsed");
    is_int(sps.width, 1280, "with emulation prevention: width");
    is_int(sps.height, 712, "with emulation prevention: height");

    memset(&in, 0, sizeof(in));
    in.profile = 66;
    in.w_mbs_m1 = 1023;
    in.h_units_m1 = 1023;
    in.frame_mbs_only = 1;
    in.cropping = 1;
    in.crop[3] = 8192;
    n = write_sps(&in, out);
    ok(vks_h264_sps_parse(out, n, &sps, err, sizeof(err)) != 0
       && strstr(err, "cropping"), "cropped to nothing: refused (%s)", err);

    in.crop[3] = 0;
    in.crop[0] = 0;
    in.w_mbs_m1 = 255;
    in.h_units_m1 = 0x4000 / 16 - 1;
    n = write_sps(&in, out);
    ok(vks_h264_sps_parse(out, n, &sps, err, sizeof(err)) == 0,
       "16384 high: parsed");
    is_int(sps.height, 16384, "16384 high: height");
    is_int(sps.width, 4096, "16384 high: width");

    in.h_units_m1 = 0x4000 / 16;
    n = write_sps(&in, out);
    ok(vks_h264_sps_parse(out, n, &sps, err, sizeof(err)) != 0
       && strstr(err, "too large"), "16400 high: refused (%s)", err);

    /* a width of 2^32 macroblocks */
    in.h_units_m1 = 8;
    in.w_mbs_m1 = 0xfffffffeULL;
    n = write_sps(&in, out);
    ok(vks_h264_sps_parse(out, n, &sps, err, sizeof(err)) != 0,
       "2^32 macroblocks wide: refused (%s)", err);

    /* a crop of 2^32 - 2 */
    in.w_mbs_m1 = 8;
    in.crop[0] = 0xfffffffeULL;
    n = write_sps(&in, out);
    ok(vks_h264_sps_parse(out, n, &sps, err, sizeof(err)) != 0,
       "a crop of 2^32 - 2: refused (%s)", err);

    /* escaped and unescaped differ: the parser reads the RBSP */
    memset(&in, 0, sizeof(in));
    in.profile = 66;
    in.w_mbs_m1 = 19;
    in.h_units_m1 = 14;
    in.frame_mbs_only = 1;
    in.cropping = 1;
    in.crop[0] = 0;
    in.crop[1] = 0;
    in.crop[2] = 0;
    in.crop[3] = 0x10000 - 1;
    n = write_sps(&in, out);
    ok(vks_h264_sps_parse(out, n, &sps, err, sizeof(err)) != 0,
       "crop 65535 of 240: refused");
}


static void
test_hostile(void)
{
    char            err[128];
    uint8_t         p[64];
    vks_h264_sps_t  sps;

    static const uint8_t  pps[] = { 0x68, 0xce, 0x38, 0x80 };
    static const uint8_t  forbidden[] = { 0xe7, 0x42, 0, 0x1f, 0xff };
    static const uint8_t  zeros[] = { 0x67, 0x42, 0, 0x1f, 0, 0, 3, 0, 0, 3,
                                      0, 0, 3, 0, 0, 3, 0, 0, 0 };
    static const uint8_t  avcc_v2[] = { 2, 0x42, 0, 0x1f, 0xff, 0xe1, 0, 4,
                                        0x67, 0x42, 0, 0x1f };
    static const uint8_t  avcc_none[] = { 1, 0x42, 0, 0x1f, 0xff, 0xe0, 0,
                                          4, 0x67, 0x42, 0, 0x1f };
    static const uint8_t  avcc_long[] = { 1, 0x42, 0, 0x1f, 0xff, 0xe1, 0,
                                          40, 0x67, 0x42, 0, 0x1f };

    ok(vks_h264_sps_parse(pps, sizeof(pps), &sps, err, sizeof(err)) != 0
       && strstr(err, "not an SPS"), "a PPS is refused (%s)", err);
    ok(vks_h264_sps_parse(forbidden, sizeof(forbidden), &sps, err,
                          sizeof(err)) != 0,
       "forbidden_zero_bit: refused (%s)", err);
    ok(vks_h264_sps_parse(zeros, sizeof(zeros), &sps, err, sizeof(err))
       != 0, "an endless exp-Golomb code: refused (%s)", err);
    ok(vks_h264_sps_parse(p, 0, &sps, err, sizeof(err)) != 0,
       "empty: refused (%s)", err);
    ok(vks_h264_sps_avcc(avcc_v2, sizeof(avcc_v2), &sps, err, sizeof(err))
       != 0 && strstr(err, "configurationVersion"),
       "avcC version 2: refused (%s)", err);
    ok(vks_h264_sps_avcc(avcc_none, sizeof(avcc_none), &sps, err,
                         sizeof(err)) != 0 && strstr(err, "no SPS"),
       "avcC without SPS: refused (%s)", err);
    ok(vks_h264_sps_avcc(avcc_long, sizeof(avcc_long), &sps, err,
                         sizeof(err)) != 0 && strstr(err, "declared"),
       "avcC SPS longer than the record: refused (%s)", err);
    ok(vks_h264_sps_avcc(avcc_long, 7, &sps, err, sizeof(err)) != 0,
       "avcC of 7 bytes: refused (%s)", err);

    /* 0xff everywhere: ue codes of no zeros, values 0, runs off the end */
    memset(p, 0xff, sizeof(p));
    p[0] = 0x67;
    ok(vks_h264_sps_parse(p, sizeof(p), &sps, err, sizeof(err)) == 0
       || err[0], "all ones: refused with a reason or parsed");
}


int
main(void)
{
    av_log_set_level(AV_LOG_QUIET);

    test_x264();
    test_written();
    test_hostile();

    return done_testing();
}
