
/*
 * vkstream media: RFC 6381 CODECS strings (see vks_hls_codecs.h).
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vks_hls_codecs.h"


#define VKS_HLS_NAL_SPS  7


static int vks_hls_codecs_fail(char *codec, char *err, size_t errlen,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int vks_hls_codecs_sps(const uint8_t *p, size_t len, const char *what,
    char *codec, char *err, size_t errlen);
static int vks_hls_codecs_bits(const uint8_t *p, size_t len, size_t *pos,
    unsigned n, unsigned *out);


static const unsigned  vks_hls_aac_rates[13] = {
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000,
    11025, 8000, 7350
};



static int
vks_hls_codecs_fail(char *codec, char *err, size_t errlen, const char *fmt,
    ...)
{
    va_list  args;

    codec[0] = '\0';

    if (errlen) {
        va_start(args, fmt);
        vsnprintf(err, errlen, fmt, args);
        va_end(args);
    }

    return -1;
}


int
vks_hls_codec_avcc(const uint8_t *p, size_t len,
    char codec[VKS_HLS_CODEC_LEN], char *err, size_t errlen)
{
    size_t  n;

    /* version, profile, compat, level, lengthSize, numSPS, SPS length */
    if (len < 8) {
        return vks_hls_codecs_fail(codec, err, errlen,
                                   "avcC: truncated (%zu bytes, need 8 "
                                   "for the header and an SPS length)",
                                   len);
    }

    if (p[0] != 1) {
        return vks_hls_codecs_fail(codec, err, errlen,
                                   "avcC: configurationVersion %u, not 1",
                                   p[0]);
    }

    if ((p[5] & 0x1f) == 0) {
        return vks_hls_codecs_fail(codec, err, errlen, "avcC: no SPS");
    }

    n = ((size_t) p[6] << 8) | p[7];

    if (n > len - 8) {
        return vks_hls_codecs_fail(codec, err, errlen,
                                   "avcC: truncated SPS (%zu bytes "
                                   "declared, %zu left)", n, len - 8);
    }

    return vks_hls_codecs_sps(p + 8, n, "avcC", codec, err, errlen);
}


int
vks_hls_codec_sps(const uint8_t *p, size_t len,
    char codec[VKS_HLS_CODEC_LEN], char *err, size_t errlen)
{
    if (len >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 1) {
        p += 4;
        len -= 4;

    } else if (len >= 3 && p[0] == 0 && p[1] == 0 && p[2] == 1) {
        p += 3;
        len -= 3;
    }

    return vks_hls_codecs_sps(p, len, "SPS", codec, err, errlen);
}


int
vks_hls_codec_h264_extradata(const uint8_t *p, size_t len,
    char codec[VKS_HLS_CODEC_LEN], char *err, size_t errlen)
{
    size_t  i;

    if (len && p[0] == 1) {
        return vks_hls_codec_avcc(p, len, codec, err, errlen);
    }

    /* Annex B: the NAL unit after each 00 00 01 start code */
    for (i = 0; i + 3 < len; i++) {
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1
            && (p[i + 3] & 0x1f) == VKS_HLS_NAL_SPS)
        {
            return vks_hls_codecs_sps(p + i + 3, len - i - 3, "Annex B",
                                      codec, err, errlen);
        }
    }

    return vks_hls_codecs_fail(codec, err, errlen, "extradata: neither an "
                               "avcC record nor Annex B with an SPS (%zu "
                               "bytes)", len);
}


static int
vks_hls_codecs_sps(const uint8_t *p, size_t len, const char *what,
    char *codec, char *err, size_t errlen)
{
    /* NAL header, profile_idc, constraint flags, level_idc */
    if (len < 4) {
        return vks_hls_codecs_fail(codec, err, errlen,
                                   "%s: SPS truncated (%zu bytes, need 4)",
                                   what, len);
    }

    if (p[0] & 0x80) {
        return vks_hls_codecs_fail(codec, err, errlen,
                                   "%s: forbidden_zero_bit set in the SPS "
                                   "NAL header", what);
    }

    if ((p[0] & 0x1f) != VKS_HLS_NAL_SPS) {
        return vks_hls_codecs_fail(codec, err, errlen,
                                   "%s: NAL type %u, not an SPS (7)",
                                   what, p[0] & 0x1f);
    }

    /*
     * No emulation prevention can hide in bytes 1-3 once profile_idc is
     * not 0 (a 00 00 03 needs two zero bytes first), and no H.264 profile
     * or level is 0: so refusing 0 is all the unescaping needed here
     */
    if (p[1] == 0) {
        return vks_hls_codecs_fail(codec, err, errlen,
                                   "%s: profile_idc 0", what);
    }

    if (p[3] == 0) {
        return vks_hls_codecs_fail(codec, err, errlen,
                                   "%s: level_idc 0", what);
    }

    snprintf(codec, VKS_HLS_CODEC_LEN, "avc1.%02x%02x%02x", p[1], p[2],
             p[3]);

    return 0;
}


int
vks_hls_codec_aac(const uint8_t *p, size_t len,
    char codec[VKS_HLS_CODEC_LEN], vks_hls_aac_t *aac, char *err,
    size_t errlen)
{
    size_t         pos;
    unsigned       aot, idx, rate, ch;
    vks_hls_aac_t  tmp;

    if (aac == NULL) {
        aac = &tmp;
    }

    memset(aac, 0, sizeof(vks_hls_aac_t));
    pos = 0;

    if (vks_hls_codecs_bits(p, len, &pos, 5, &aot) != 0) {
        goto truncated;
    }

    if (aot == 31) {
        /* escape: 32 + the next 6 bits */
        if (vks_hls_codecs_bits(p, len, &pos, 6, &aot) != 0) {
            goto truncated;
        }

        aot += 32;
    }

    if (aot == 0) {
        return vks_hls_codecs_fail(codec, err, errlen,
                                   "AudioSpecificConfig: object type 0 "
                                   "(null)");
    }

    if (vks_hls_codecs_bits(p, len, &pos, 4, &idx) != 0) {
        goto truncated;
    }

    if (idx == 0x0f) {
        if (vks_hls_codecs_bits(p, len, &pos, 24, &rate) != 0) {
            goto truncated;
        }

        if (rate == 0) {
            return vks_hls_codecs_fail(codec, err, errlen,
                                       "AudioSpecificConfig: explicit "
                                       "sampling frequency 0");
        }

    } else if (idx >= 13) {
        return vks_hls_codecs_fail(codec, err, errlen,
                                   "AudioSpecificConfig: sampling "
                                   "frequency index %u is reserved", idx);

    } else {
        rate = vks_hls_aac_rates[idx];
    }

    if (vks_hls_codecs_bits(p, len, &pos, 4, &ch) != 0) {
        goto truncated;
    }

    aac->object_type = aot;
    aac->sample_rate = rate;
    aac->channels = ch;

    /* at most 32 + 63 */
    snprintf(codec, VKS_HLS_CODEC_LEN, "mp4a.40.%u",
             (unsigned) (uint8_t) aot);

    return 0;

truncated:

    return vks_hls_codecs_fail(codec, err, errlen,
                               "AudioSpecificConfig: truncated (%zu "
                               "bytes)", len);
}


/* n (at most 24) bits, most significant first */
static int
vks_hls_codecs_bits(const uint8_t *p, size_t len, size_t *pos, unsigned n,
    unsigned *out)
{
    unsigned  v;
    size_t    i;

    if (*pos + n > len * 8) {
        return -1;
    }

    v = 0;

    for (i = *pos; i < *pos + n; i++) {
        v = (v << 1) | ((p[i >> 3] >> (7 - (i & 7))) & 1);
    }

    *pos += n;
    *out = v;

    return 0;
}
