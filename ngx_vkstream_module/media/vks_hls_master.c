
/*
 * vkstream media: the multivariant playlist (see vks_hls_master.h).
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/vks_err.h"
#include "vks_hls_master.h"


static int vks_hls_master_text_ok(const char *s, size_t max);
static int vks_hls_master_dup(const vks_hls_variant_t *a,
    const vks_hls_variant_t *b);
static void vks_hls_master_print(char *buf, size_t size, size_t *len,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));


int
vks_hls_variant_check(const vks_hls_variant_t *v, char *err, size_t errlen)
{
    if (!vks_hls_master_text_ok(v->uri, VKS_HLS_URI_LEN)) {
        return vks_err(err, errlen, "bad URI (empty, "
                                   "unterminated, or a quote, space or "
                                   "control character)");
    }

    if (v->bandwidth == 0 || v->bandwidth > VKS_HLS_BANDWIDTH_MAX) {
        return vks_err(err, errlen, "%s: BANDWIDTH not within "
                                   "1-%llu", v->uri,
                                   (unsigned long long) VKS_HLS_BANDWIDTH_MAX);
    }

    if (v->average_bandwidth > v->bandwidth) {
        return vks_err(err, errlen, "%s: AVERAGE-BANDWIDTH "
                                   "%llu above the peak %llu", v->uri,
                                   (unsigned long long) v->average_bandwidth,
                                   (unsigned long long) v->bandwidth);
    }

    if (v->video_codec[0] == '\0' && v->audio_codec[0] == '\0') {
        return vks_err(err, errlen, "%s: no track", v->uri);
    }

    if ((v->video_codec[0]
         && !vks_hls_master_text_ok(v->video_codec, VKS_HLS_CODEC_LEN))
        || (v->audio_codec[0]
            && !vks_hls_master_text_ok(v->audio_codec, VKS_HLS_CODEC_LEN)))
    {
        return vks_err(err, errlen, "%s: bad codec string",
                                   v->uri);
    }

    if (v->video_codec[0] ? (v->width == 0 || v->height == 0
                             || v->width > 16384 || v->height > 16384)
                          : (v->width || v->height))
    {
        return vks_err(err, errlen, "%s: RESOLUTION %ux%u does "
                                   "not fit the tracks", v->uri, v->width,
                                   v->height);
    }

    if (!(v->frame_rate >= 0 && v->frame_rate < 1000)
        || (v->frame_rate > 0 && v->video_codec[0] == '\0'))
    {
        return vks_err(err, errlen, "%s: bad FRAME-RATE",
                                   v->uri);
    }

    return 0;
}


size_t
vks_hls_master_select(const vks_hls_variant_t *v, size_t n, size_t *listed)
{
    size_t  i, j, k, nkept, order[VKS_HLS_VARIANTS_MAX];

    if (n > VKS_HLS_VARIANTS_MAX) {
        n = VKS_HLS_VARIANTS_MAX;
    }

    /* the valid ones by bandwidth; insertion sort keeps ties in order */
    k = 0;
    for (i = 0; i < n; i++) {
        if (vks_hls_variant_check(&v[i], NULL, 0) != 0) {
            continue;
        }

        for (j = k; j > 0 && v[order[j - 1]].bandwidth > v[i].bandwidth;
             j--)
        {
            order[j] = order[j - 1];
        }

        order[j] = i;
        k++;
    }

    /* cheapest first, so a duplicate is always the dearer of the two */
    nkept = 0;
    for (i = 0; i < k; i++) {
        for (j = 0; j < nkept; j++) {
            if (vks_hls_master_dup(&v[listed[j]], &v[order[i]])) {
                break;
            }
        }

        if (j == nkept) {
            listed[nkept++] = order[i];
        }
    }

    return nkept;
}


size_t
vks_hls_master_render(const vks_hls_variant_t *v, size_t n, char *buf,
    size_t size, size_t *listed)
{
    size_t                    i, len, nkept, kept[VKS_HLS_VARIANTS_MAX];
    const vks_hls_variant_t  *t;

    nkept = vks_hls_master_select(v, n, kept);

    len = 0;
    if (size) {
        buf[0] = '\0';
    }

    vks_hls_master_print(buf, size, &len,
                         "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n");

    for (i = 0; i < nkept; i++) {
        t = &v[kept[i]];

        vks_hls_master_print(buf, size, &len,
                             "#EXT-X-STREAM-INF:BANDWIDTH=%llu",
                             (unsigned long long) t->bandwidth);

        if (t->average_bandwidth) {
            vks_hls_master_print(buf, size, &len, ",AVERAGE-BANDWIDTH=%llu",
                                 (unsigned long long) t->average_bandwidth);
        }

        vks_hls_master_print(buf, size, &len, ",CODECS=\"%s%s%s\"",
                             t->video_codec,
                             t->video_codec[0] && t->audio_codec[0]
                             ? "," : "", t->audio_codec);

        if (t->video_codec[0]) {
            vks_hls_master_print(buf, size, &len, ",RESOLUTION=%ux%u",
                                 t->width, t->height);
        }

        if (t->frame_rate > 0) {
            vks_hls_master_print(buf, size, &len, ",FRAME-RATE=%.3f",
                                 t->frame_rate);
        }

        vks_hls_master_print(buf, size, &len, "\n%s\n", t->uri);
    }

    if (listed) {
        *listed = nkept;
    }

    return len;
}



/*
 * URIs and codec strings go into playlist lines and quoted attributes: a
 * quote, a space, a control character or a leading "#" would change the
 * playlist; NUL-terminated within max
 */
static int
vks_hls_master_text_ok(const char *s, size_t max)
{
    size_t  i;

    if (s[0] == '\0' || s[0] == '#') {
        return 0;
    }

    for (i = 0; i < max; i++) {
        if (s[i] == '\0') {
            return 1;
        }

        if ((unsigned char) s[i] <= ' ' || (unsigned char) s[i] >= 0x7f
            || s[i] == '"')
        {
            return 0;
        }
    }

    return 0;
}


/* b (not cheaper than a) shows the same picture for not much more */
static int
vks_hls_master_dup(const vks_hls_variant_t *a, const vks_hls_variant_t *b)
{
    if (a->width != b->width || a->height != b->height
        || (a->video_codec[0] == '\0') != (b->video_codec[0] == '\0')
        || (a->audio_codec[0] == '\0') != (b->audio_codec[0] == '\0'))
    {
        return 0;
    }

    /* b < 1.25 a; bandwidths are at most 10^12, so this cannot wrap */
    return b->bandwidth * 100 < a->bandwidth * VKS_HLS_DUP_PERCENT;
}


static void
vks_hls_master_print(char *buf, size_t size, size_t *len, const char *fmt,
    ...)
{
    int      r;
    size_t   room;
    va_list  args;

    room = *len < size ? size - *len : 0;

    va_start(args, fmt);
    r = vsnprintf(room ? buf + *len : NULL, room, fmt, args);
    va_end(args);

    if (r > 0) {
        *len += r;
    }
}
