
/*
 * vkstream media: the multivariant (master) playlist from the real ladder
 * (issue 14), for LL-HLS and the classic HLS alike.  Each variant carries
 * what Apple's authoring spec makes mandatory: BANDWIDTH (the peak) and
 * AVERAGE-BANDWIDTH in bit/s, CODECS of the tracks that exist (video then
 * audio, from vks_hls_codecs.h), RESOLUTION and FRAME-RATE for video; the
 * playlist says EXT-X-INDEPENDENT-SEGMENTS, as every segment starts with
 * an IDR.
 *
 * Variants are listed by BANDWIDTH, lowest first (ties: as given).  A
 * variant that duplicates a cheaper one is left out: same tracks, same
 * resolution, and a peak less than 125% of that one's, as when a source
 * smaller than the ladder caps two rungs to its own size.  A variant that
 * fails vks_hls_variant_check() is left out too.
 * Plain C, no nginx types.
 */


#ifndef _VKS_HLS_MASTER_H_INCLUDED_
#define _VKS_HLS_MASTER_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "vks_hls_codecs.h"


#define VKS_HLS_VARIANTS_MAX  32
#define VKS_HLS_URI_LEN       256
#define VKS_HLS_BANDWIDTH_MAX 1000000000000ULL   /* 1 Tbit/s */

/* a variant within 125% of a cheaper one of the same picture duplicates */
#define VKS_HLS_DUP_PERCENT   125


typedef struct {
    char      uri[VKS_HLS_URI_LEN];          /* e.g. "NAME_low.m3u8" */
    uint64_t  bandwidth;                     /* peak bit/s */
    uint64_t  average_bandwidth;             /* bit/s, 0: not known */
    unsigned  width;                         /* 0: no video */
    unsigned  height;
    double    frame_rate;                    /* 0: not known */
    char      video_codec[VKS_HLS_CODEC_LEN];    /* "" without video */
    char      audio_codec[VKS_HLS_CODEC_LEN];    /* "" without audio */
} vks_hls_variant_t;


/*
 * Whether v can be listed: a clean URI, a BANDWIDTH (1 bit/s-1 Tbit/s),
 * an average not above it, at least one track, a size with the video and
 * none without, a frame rate within 0-1000.  Returns 0, or -1 with the
 * reason in err.
 */
int vks_hls_variant_check(const vks_hls_variant_t *v, char *err,
    size_t errlen);

/*
 * Which of the n variants the playlist lists, in its order: their indexes
 * into v go into listed (room for VKS_HLS_VARIANTS_MAX); returns how many.
 * What vks_hls_master_render() prints, so that a media playlist can carry
 * a rendition report for exactly the variants of its master.
 */
size_t vks_hls_master_select(const vks_hls_variant_t *v, size_t n,
    size_t *listed);

/*
 * The playlist for the n variants (at most VKS_HLS_VARIANTS_MAX are
 * considered).  Writes at most size bytes, NUL-terminated when size > 0;
 * returns the length needed without the NUL (as snprintf).  *listed, if
 * not NULL, gets the number of variants in it.
 */
size_t vks_hls_master_render(const vks_hls_variant_t *v, size_t n,
    char *buf, size_t size, size_t *listed);


#endif /* _VKS_HLS_MASTER_H_INCLUDED_ */
