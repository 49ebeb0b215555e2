
/*
 * vkstream media: the picture size of an H.264 SPS (see vks_h264_sps.h).
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/vks_err.h"
#include "vks_h264_sps.h"


#define VKS_SPS_NAL_TYPE  7


/* RBSP bits, the emulation prevention bytes (00 00 03) left out */
typedef struct {
    const uint8_t  *p;
    size_t          len;
    size_t          pos;        /* next byte to load */
    unsigned        zeros;      /* zero bytes just loaded */
    unsigned        cur;
    unsigned        left;       /* bits of cur not yet read */
} vks_sps_bits_t;


static int vks_sps_bit(vks_sps_bits_t *b, unsigned *out);
static int vks_sps_u(vks_sps_bits_t *b, unsigned n, uint32_t *out);
static int vks_sps_ue(vks_sps_bits_t *b, uint32_t *out);
static int vks_sps_se(vks_sps_bits_t *b, int64_t *out);
static int vks_sps_scaling_list(vks_sps_bits_t *b, unsigned size);
static int vks_sps_high(unsigned profile_idc);


int
vks_h264_sps_avcc(const uint8_t *p, size_t len, vks_h264_sps_t *sps,
    char *err, size_t errlen)
{
    size_t  n;

    /* version, profile, compat, level, lengthSize, numSPS, SPS length */
    if (len < 8) {
        return vks_err(err, errlen, "avcC: truncated (%zu bytes)", len);
    }

    if (p[0] != 1) {
        return vks_err(err, errlen, "avcC: configurationVersion %u, "
                            "not 1", p[0]);
    }

    if ((p[5] & 0x1f) == 0) {
        return vks_err(err, errlen, "avcC: no SPS");
    }

    n = ((size_t) p[6] << 8) | p[7];

    if (n > len - 8) {
        return vks_err(err, errlen, "avcC: truncated SPS (%zu bytes "
                            "declared, %zu left)", n, len - 8);
    }

    return vks_h264_sps_parse(p + 8, n, sps, err, errlen);
}


int
vks_h264_sps_parse(const uint8_t *p, size_t len, vks_h264_sps_t *sps,
    char *err, size_t errlen)
{
    int64_t         s;
    uint32_t        v, i, n, poc_type, w_mbs, h_units, crop[4];
    uint64_t        width, height, cx, cy;
    unsigned        separate;
    vks_sps_bits_t  b;

    memset(sps, 0, sizeof(vks_h264_sps_t));

    if (len < 4) {
        return vks_err(err, errlen, "SPS truncated (%zu bytes)", len);
    }

    if ((p[0] & 0x80) || (p[0] & 0x1f) != VKS_SPS_NAL_TYPE) {
        return vks_err(err, errlen, "NAL header 0x%02x is not an SPS",
                            p[0]);
    }

    memset(&b, 0, sizeof(vks_sps_bits_t));
    b.p = p + 1;
    b.len = len - 1;

    if (vks_sps_u(&b, 8, &v) != 0) {
        goto truncated;
    }

    sps->profile_idc = v;

    /* constraint flags, level_idc, seq_parameter_set_id */
    if (vks_sps_u(&b, 8, &v) != 0 || vks_sps_u(&b, 8, &v) != 0) {
        goto truncated;
    }

    sps->level_idc = v;

    if (vks_sps_ue(&b, &v) != 0) {
        goto truncated;
    }

    if (v > 31) {
        return vks_err(err, errlen, "SPS: seq_parameter_set_id %u",
                            (unsigned) v);
    }

    sps->chroma_format_idc = 1;
    sps->bit_depth_luma = 8;
    separate = 0;

    if (vks_sps_high(sps->profile_idc)) {
        if (vks_sps_ue(&b, &v) != 0) {
            goto truncated;
        }

        if (v > 3) {
            return vks_err(err, errlen, "SPS: chroma_format_idc %u",
                                (unsigned) v);
        }

        sps->chroma_format_idc = v;

        if (v == 3 && vks_sps_u(&b, 1, &separate) != 0) {
            goto truncated;
        }

        /* bit depths of luma and chroma */
        for (i = 0; i < 2; i++) {
            if (vks_sps_ue(&b, &v) != 0) {
                goto truncated;
            }

            if (v > 6) {
                return vks_err(err, errlen, "SPS: bit depth %u",
                                    (unsigned) v + 8);
            }

            if (i == 0) {
                sps->bit_depth_luma = v + 8;
            }
        }

        /* qpprime_y_zero_transform_bypass, seq_scaling_matrix_present */
        if (vks_sps_u(&b, 1, &v) != 0 || vks_sps_u(&b, 1, &v) != 0) {
            goto truncated;
        }

        if (v) {
            n = sps->chroma_format_idc == 3 ? 12 : 8;

            for (i = 0; i < n; i++) {
                if (vks_sps_u(&b, 1, &v) != 0) {
                    goto truncated;
                }

                if (v && vks_sps_scaling_list(&b, i < 6 ? 16 : 64) != 0) {
                    goto bad_list;
                }
            }
        }
    }

    /* log2_max_frame_num_minus4, pic_order_cnt_type */
    if (vks_sps_ue(&b, &v) != 0 || vks_sps_ue(&b, &poc_type) != 0) {
        goto truncated;
    }

    if (v > 12 || poc_type > 2) {
        return vks_err(err, errlen, "SPS: log2_max_frame_num_minus4 "
                            "%u or pic_order_cnt_type %u out of range",
                            (unsigned) v, (unsigned) poc_type);
    }

    if (poc_type == 0) {
        if (vks_sps_ue(&b, &v) != 0) {
            goto truncated;
        }

    } else if (poc_type == 1) {
        /* delta_pic_order_always_zero, two offsets, the cycle */
        if (vks_sps_u(&b, 1, &v) != 0 || vks_sps_se(&b, &s) != 0
            || vks_sps_se(&b, &s) != 0 || vks_sps_ue(&b, &n) != 0)
        {
            goto truncated;
        }

        if (n > 255) {
            return vks_err(err, errlen, "SPS: %u reference frames in "
                                "the POC cycle", (unsigned) n);
        }

        for (i = 0; i < n; i++) {
            if (vks_sps_se(&b, &s) != 0) {
                goto truncated;
            }
        }
    }

    /* max_num_ref_frames, gaps_in_frame_num_value_allowed_flag */
    if (vks_sps_ue(&b, &v) != 0 || vks_sps_u(&b, 1, &v) != 0
        || vks_sps_ue(&b, &w_mbs) != 0 || vks_sps_ue(&b, &h_units) != 0
        || vks_sps_u(&b, 1, &v) != 0)
    {
        goto truncated;
    }

    sps->frame_mbs_only = v;

    /* mb_adaptive_frame_field_flag, direct_8x8_inference_flag */
    if ((!sps->frame_mbs_only && vks_sps_u(&b, 1, &v) != 0)
        || vks_sps_u(&b, 1, &v) != 0 || vks_sps_u(&b, 1, &v) != 0)
    {
        goto truncated;
    }

    memset(crop, 0, sizeof(crop));

    if (v) {
        for (i = 0; i < 4; i++) {
            if (vks_sps_ue(&b, &crop[i]) != 0) {
                goto truncated;
            }
        }
    }

    width = ((uint64_t) w_mbs + 1) * 16;
    height = ((uint64_t) h_units + 1) * 16 * (2 - sps->frame_mbs_only);

    /* the crop units: chroma samples, and field pairs (Table 6-1) */
    if (separate || sps->chroma_format_idc == 0) {
        cx = 1;
        cy = 2 - sps->frame_mbs_only;

    } else {
        cx = sps->chroma_format_idc == 3 ? 1 : 2;
        cy = (sps->chroma_format_idc == 1 ? 2 : 1)
             * (2 - sps->frame_mbs_only);
    }

    if (width > VKS_H264_SPS_MAX || height > VKS_H264_SPS_MAX) {
        return vks_err(err, errlen, "SPS: %llux%llu is too large",
                            (unsigned long long) width,
                            (unsigned long long) height);
    }

    if (cx * ((uint64_t) crop[0] + crop[1]) >= width
        || cy * ((uint64_t) crop[2] + crop[3]) >= height)
    {
        return vks_err(err, errlen, "SPS: cropping leaves nothing of "
                            "%llux%llu", (unsigned long long) width,
                            (unsigned long long) height);
    }

    sps->width = (unsigned) (width - cx * (crop[0] + crop[1]));
    sps->height = (unsigned) (height - cy * (crop[2] + crop[3]));

    return 0;

truncated:

    return vks_err(err, errlen, "SPS truncated or an exp-Golomb code "
                        "over 32 bits (%zu bytes)", len);

bad_list:

    return vks_err(err, errlen, "SPS: bad scaling list");
}



static int
vks_sps_bit(vks_sps_bits_t *b, unsigned *out)
{
    unsigned  byte;

    while (b->left == 0) {
        if (b->pos >= b->len) {
            return -1;
        }

        byte = b->p[b->pos++];

        if (b->zeros >= 2 && byte == 3) {
            b->zeros = 0;               /* emulation prevention */
            continue;
        }

        b->zeros = byte == 0 ? b->zeros + 1 : 0;
        b->cur = byte;
        b->left = 8;
    }

    b->left--;
    *out = (b->cur >> b->left) & 1;

    return 0;
}


/* n (at most 32) bits, most significant first */
static int
vks_sps_u(vks_sps_bits_t *b, unsigned n, uint32_t *out)
{
    unsigned  i, bit;
    uint32_t  v;

    v = 0;

    for (i = 0; i < n; i++) {
        if (vks_sps_bit(b, &bit) != 0) {
            return -1;
        }

        v = (v << 1) | bit;
    }

    *out = v;

    return 0;
}


/* ue(v): at most 31 leading zeros, so the value fits 32 bits */
static int
vks_sps_ue(vks_sps_bits_t *b, uint32_t *out)
{
    unsigned  zeros, bit;
    uint32_t  v;

    for (zeros = 0; ; zeros++) {
        if (vks_sps_bit(b, &bit) != 0 || zeros > 31) {
            return -1;
        }

        if (bit) {
            break;
        }
    }

    if (vks_sps_u(b, zeros, &v) != 0) {
        return -1;
    }

    *out = (uint32_t) (((uint64_t) 1 << zeros) - 1 + v);

    return 0;
}


static int
vks_sps_se(vks_sps_bits_t *b, int64_t *out)
{
    uint32_t  k;

    if (vks_sps_ue(b, &k) != 0) {
        return -1;
    }

    *out = (k & 1) ? (int64_t) (k / 2) + 1 : -(int64_t) (k / 2);

    return 0;
}


/* 7.3.2.1.1.1: only skipped, but a delta must be within -128..127 */
static int
vks_sps_scaling_list(vks_sps_bits_t *b, unsigned size)
{
    int64_t   delta, last, next;
    unsigned  j;

    last = 8;
    next = 8;

    for (j = 0; j < size; j++) {
        if (next != 0) {
            if (vks_sps_se(b, &delta) != 0 || delta < -128 || delta > 127) {
                return -1;
            }

            next = (last + delta + 256) % 256;
        }

        last = next == 0 ? last : next;
    }

    return 0;
}


/* the profiles whose SPS carries chroma format, bit depths, scaling */
static int
vks_sps_high(unsigned profile_idc)
{
    switch (profile_idc) {
    case 100: case 110: case 122: case 244: case 44: case 83: case 86:
    case 118: case 128: case 138: case 139: case 134: case 135:
        return 1;
    default:
        return 0;
    }
}
