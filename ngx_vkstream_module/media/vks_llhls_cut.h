
/*
 * vkstream media: where a rendition's LL-HLS output cuts its parts and
 * segments (issue 14, shared/ll-hls.md §2 and §6).
 *
 * The writer holds each video packet back until the next one arrives, so
 * that its duration is known exactly (the next DTS minus its own); then it
 * asks vks_llhls_cut() what to do before the packet goes into the fMP4:
 *   - a keyframe opens a new segment (segments start with an IDR);
 *   - a segment that would get longer than the playlist's limit (rounded
 *     EXTINF above TARGETDURATION) is cut anyway, without an IDR;
 *   - a part that would get longer than PART-TARGET with this packet is
 *     cut first: a part never exceeds PART-TARGET (a MUST: AVPlayer
 *     rejects longer ones), and is as long as it can get below it;
 *   - nothing is written before the first keyframe.
 * Plain C, no allocation, no library.
 */


#ifndef _VKS_LLHLS_CUT_H_INCLUDED_
#define _VKS_LLHLS_CUT_H_INCLUDED_


#include <stdint.h>


typedef enum {
    VKS_LLHLS_CUT_NONE = 0,     /* into the open part */
    VKS_LLHLS_CUT_SKIP,         /* before the first keyframe: drop it */
    VKS_LLHLS_CUT_START,        /* the first segment starts with it */
    VKS_LLHLS_CUT_PART,         /* end the part, then a new one */
    VKS_LLHLS_CUT_SEGMENT       /* end the part and segment, a new one */
} vks_llhls_cut_e;


typedef struct {
    uint32_t   part_target_ms;
    uint32_t   segment_limit_ms;    /* 0: none (yet) */
    unsigned   parts_max;           /* parts in one segment, 0: any */

    /* what the open part and segment hold; vks_llhls_cut_add() keeps it */
    uint32_t   part_ms;
    uint32_t   segment_ms;          /* its complete parts and the open one */
    unsigned   nparts;              /* complete parts of the segment */
    unsigned   started:1;           /* a segment is open */
} vks_llhls_cutter_t;


/* What to do before a video packet of duration_ms goes in. */
vks_llhls_cut_e vks_llhls_cut(const vks_llhls_cutter_t *c, int keyframe,
    uint32_t duration_ms);

/* The decision was carried out and the packet written. */
void vks_llhls_cut_add(vks_llhls_cutter_t *c, vks_llhls_cut_e cut,
    uint32_t duration_ms);


#endif /* _VKS_LLHLS_CUT_H_INCLUDED_ */
