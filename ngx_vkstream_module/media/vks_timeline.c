
/*
 * vkstream media: continuous output timeline.
 */


#include <string.h>
#include "vks_timeline.h"


void
vks_timeline_init(vks_timeline_t *tl)
{
    memset(tl, 0, sizeof(vks_timeline_t));
}


int64_t
vks_timeline_map(vks_timeline_t *tl, int track, uint32_t ts, int frame_ms)
{
    int64_t  ext, out, last;

    if (!tl->started) {
        tl->started = 1;
        tl->last_raw = ts;
        tl->last_ext = ts;
        tl->offset = -(int64_t) ts;

    } else {
        /* signed 32-bit difference survives the 49.7-day wrap */
        tl->last_ext += (int32_t) (ts - tl->last_raw);
        tl->last_raw = ts;
    }

    ext = tl->last_ext;
    out = ext + tl->offset;

    if (tl->have_out[track]) {
        last = tl->last_out[track];

        if (out < last - VKS_TIMELINE_MAX_BACK
            || out > last + VKS_TIMELINE_MAX_STEP)
        {
            /* continue right after the last output of this track */
            tl->offset = last + (frame_ms > 0 ? frame_ms : 1) - ext;
            out = ext + tl->offset;
            tl->discontinuities++;
        }

        if (out <= last) {
            out = last + 1;
        }
    }

    tl->last_out[track] = out;
    tl->have_out[track] = 1;

    return out;
}
