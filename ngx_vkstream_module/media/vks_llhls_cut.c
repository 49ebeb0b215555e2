
/*
 * vkstream media: LL-HLS part and segment cutting (see vks_llhls_cut.h).
 */


#include "vks_llhls_cut.h"


vks_llhls_cut_e
vks_llhls_cut(const vks_llhls_cutter_t *c, int keyframe, uint32_t duration_ms)
{
    if (!c->started) {
        return keyframe ? VKS_LLHLS_CUT_START : VKS_LLHLS_CUT_SKIP;
    }

    /* an empty part has nothing to cut: the packet goes in whatever */
    if (c->part_ms == 0) {
        return VKS_LLHLS_CUT_NONE;
    }

    if (keyframe) {
        return VKS_LLHLS_CUT_SEGMENT;
    }

    if (c->segment_limit_ms
        && c->segment_ms + duration_ms > c->segment_limit_ms)
    {
        return VKS_LLHLS_CUT_SEGMENT;
    }

    if (c->part_ms + duration_ms > c->part_target_ms) {
        /* the part would be the segment's last one past the limit */
        if (c->parts_max && c->nparts + 1 >= c->parts_max) {
            return VKS_LLHLS_CUT_SEGMENT;
        }

        return VKS_LLHLS_CUT_PART;
    }

    return VKS_LLHLS_CUT_NONE;
}


void
vks_llhls_cut_add(vks_llhls_cutter_t *c, vks_llhls_cut_e cut,
    uint32_t duration_ms)
{
    switch (cut) {

    case VKS_LLHLS_CUT_SKIP:
        return;

    case VKS_LLHLS_CUT_START:
    case VKS_LLHLS_CUT_SEGMENT:
        c->started = 1;
        c->segment_ms = 0;
        c->nparts = 0;
        c->part_ms = 0;
        break;

    case VKS_LLHLS_CUT_PART:
        c->nparts++;
        c->part_ms = 0;
        break;

    case VKS_LLHLS_CUT_NONE:
        break;
    }

    c->part_ms += duration_ms;
    c->segment_ms += duration_ms;
}
