
/*
 * vkstream media: maps RTMP message timestamps (32-bit milliseconds that
 * wrap, jump and stall) onto one continuous, monotonic output timeline
 * shared by audio and video.
 */


#ifndef _VKS_TIMELINE_H_INCLUDED_
#define _VKS_TIMELINE_H_INCLUDED_


#include <stdint.h>


#define VKS_TRACK_VIDEO  0
#define VKS_TRACK_AUDIO  1

/* a step larger than this, either way, is a discontinuity, not a gap */
#define VKS_TIMELINE_MAX_STEP  5000
#define VKS_TIMELINE_MAX_BACK  500


typedef struct {
    int          started;
    uint32_t     last_raw;
    int64_t      last_ext;           /* unwrapped source time */
    int64_t      offset;             /* output = source + offset */
    int64_t      last_out[2];
    int          have_out[2];
    uint64_t     discontinuities;
} vks_timeline_t;


void vks_timeline_init(vks_timeline_t *tl);

/*
 * Returns the output time (ms) of a message of the track with raw
 * timestamp ts; frame_ms is the track's nominal frame duration, used to
 * bridge a discontinuity.
 */
int64_t vks_timeline_map(vks_timeline_t *tl, int track, uint32_t ts,
    int frame_ms);


#endif /* _VKS_TIMELINE_H_INCLUDED_ */
