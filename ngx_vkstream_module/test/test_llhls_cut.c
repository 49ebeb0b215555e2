
/*
 * Unit tests: media/vks_llhls_cut (where LL-HLS parts and segments are
 * cut): parts never above PART-TARGET and as long as they can get below
 * it, segments at keyframes and at the TARGETDURATION limit, nothing
 * before the first keyframe.
 */


#include <stdlib.h>
#include <string.h>
#include "media/vks_llhls_cut.h"
#include "vks_tap.h"


/* feeds n frames of duration d (every gop-th a keyframe), counts cuts */
typedef struct {
    unsigned  parts;            /* complete parts */
    unsigned  segments;         /* segments started */
    uint32_t  part_max;         /* longest complete part */
    uint32_t  part_min;         /* shortest non-last part of a segment */
    uint32_t  seg_max;
    unsigned  skipped;
} run_t;


static void
feed(vks_llhls_cutter_t *c, run_t *run, unsigned n, const uint32_t *d,
    unsigned nd, unsigned gop, unsigned first_key)
{
    unsigned         i, key;
    uint32_t         prev_part, prev_seg;
    vks_llhls_cut_e  cut;

    memset(run, 0, sizeof(run_t));
    run->part_min = UINT32_MAX;

    for (i = 0; i < n; i++) {
        key = i >= first_key && (i - first_key) % gop == 0;
        prev_part = c->part_ms;
        prev_seg = c->segment_ms;

        cut = vks_llhls_cut(c, key, d[i % nd]);

        switch (cut) {
        case VKS_LLHLS_CUT_SKIP:
            run->skipped++;
            break;
        case VKS_LLHLS_CUT_START:
            run->segments++;
            break;
        case VKS_LLHLS_CUT_PART:
            run->parts++;
            if (prev_part > run->part_max) {
                run->part_max = prev_part;
            }
            if (prev_part < run->part_min) {
                run->part_min = prev_part;
            }
            break;
        case VKS_LLHLS_CUT_SEGMENT:
            run->parts++;
            run->segments++;
            if (prev_part > run->part_max) {
                run->part_max = prev_part;
            }
            if (prev_seg > run->seg_max) {
                run->seg_max = prev_seg;
            }
            break;
        case VKS_LLHLS_CUT_NONE:
            break;
        }

        vks_llhls_cut_add(c, cut, d[i % nd]);
    }
}


static void
init(vks_llhls_cutter_t *c, uint32_t part, uint32_t limit, unsigned max)
{
    memset(c, 0, sizeof(vks_llhls_cutter_t));
    c->part_target_ms = part;
    c->segment_limit_ms = limit;
    c->parts_max = max;
}


static void
test_basics(void)
{
    vks_llhls_cutter_t  c;

    init(&c, 500, 0, 0);

    is_int(vks_llhls_cut(&c, 0, 33), VKS_LLHLS_CUT_SKIP,
           "no segment before the first keyframe");
    is_int(vks_llhls_cut(&c, 1, 33), VKS_LLHLS_CUT_START,
           "the first keyframe starts the first segment");
    vks_llhls_cut_add(&c, VKS_LLHLS_CUT_START, 33);
    is_int(c.part_ms, 33, "the keyframe is in the open part");

    c.part_ms = 467;
    c.segment_ms = 467;
    is_int(vks_llhls_cut(&c, 0, 33), VKS_LLHLS_CUT_NONE,
           "467 + 33 ms fits a 500 ms part exactly");
    is_int(vks_llhls_cut(&c, 0, 34), VKS_LLHLS_CUT_PART,
           "467 + 34 ms would exceed it: cut first");
    is_int(vks_llhls_cut(&c, 1, 10), VKS_LLHLS_CUT_SEGMENT,
           "a keyframe opens a segment");

    vks_llhls_cut_add(&c, VKS_LLHLS_CUT_PART, 34);
    is_int(c.part_ms, 34, "a cut part starts with the packet");
    is_int(c.segment_ms, 501, "the segment goes on");
    is_int(c.nparts, 1, "one complete part");

    /* a packet longer than a part still goes somewhere */
    init(&c, 100, 0, 0);
    vks_llhls_cut_add(&c, vks_llhls_cut(&c, 1, 40), 40);
    c.part_ms = 0;
    is_int(vks_llhls_cut(&c, 0, 250), VKS_LLHLS_CUT_NONE,
           "an empty part takes any packet");

    /* the segment limit cuts without a keyframe */
    init(&c, 500, 2499, 0);
    vks_llhls_cut_add(&c, vks_llhls_cut(&c, 1, 40), 40);
    c.segment_ms = 2480;
    c.part_ms = 80;
    is_int(vks_llhls_cut(&c, 0, 19), VKS_LLHLS_CUT_NONE,
           "up to the segment limit");
    is_int(vks_llhls_cut(&c, 0, 20), VKS_LLHLS_CUT_SEGMENT,
           "past the segment limit: a new segment");

    /* parts per segment */
    init(&c, 100, 0, 3);
    vks_llhls_cut_add(&c, vks_llhls_cut(&c, 1, 100), 100);
    is_int(vks_llhls_cut(&c, 0, 100), VKS_LLHLS_CUT_PART, "part 2 of 3");
    vks_llhls_cut_add(&c, VKS_LLHLS_CUT_PART, 100);
    is_int(vks_llhls_cut(&c, 0, 100), VKS_LLHLS_CUT_PART, "part 3 of 3");
    vks_llhls_cut_add(&c, VKS_LLHLS_CUT_PART, 100);
    is_int(vks_llhls_cut(&c, 0, 100), VKS_LLHLS_CUT_SEGMENT,
           "a 4th part would be too many: new segment");
}


static void
test_streams(void)
{
    run_t               run;
    vks_llhls_cutter_t  c;
    static const uint32_t  d30[] = { 33, 33, 34 };     /* 30 fps in ms */
    static const uint32_t  d25[] = { 40 };
    static const uint32_t  d2997[] = { 33, 34, 33, 33, 34 };
    static const uint32_t  jitter[] = { 20, 45, 33, 60, 10, 33, 40 };

    /* 30 fps, 2 s GOP, 500 ms parts: 4 parts of exactly 500 ms */
    init(&c, 500, 0, 0);
    feed(&c, &run, 600, d30, 3, 60, 0);
    is_int(run.segments, 10, "30 fps: 10 segments of 2 s");
    is_int(run.part_max, 500, "30 fps: parts of at most 500 ms");
    is_int(run.part_min, 500, "30 fps: and no shorter");
    is_int(run.parts, 39, "30 fps: 4 parts a segment");
    is_int(run.seg_max, 2000, "30 fps: segments of 2000 ms");

    /* 25 fps, 200 ms parts */
    init(&c, 200, 0, 0);
    feed(&c, &run, 500, d25, 1, 50, 0);
    is_int(run.part_max, 200, "25 fps: 200 ms parts");
    is_int(run.part_min, 200, "25 fps: all of them");

    /* 29.97 fps, 300 ms: never above, at least 85% */
    init(&c, 300, 0, 0);
    feed(&c, &run, 900, d2997, 5, 60, 0);
    ok(run.part_max <= 300, "29.97 fps: parts <= 300 ms (%u)",
       run.part_max);
    ok(run.part_min * 100 >= 85 * 300, "29.97 fps: parts >= 85%% (%u)",
       run.part_min);

    /* jittery timestamps, 500 ms: never above */
    init(&c, 500, 0, 0);
    feed(&c, &run, 1000, jitter, 7, 55, 0);
    ok(run.part_max <= 500, "jitter: parts <= 500 ms (%u)", run.part_max);
    ok(run.part_min * 100 >= 85 * 500, "jitter: parts >= 85%% (%u)",
       run.part_min);

    /* a stream that starts between keyframes */
    init(&c, 500, 0, 0);
    feed(&c, &run, 100, d25, 1, 50, 7);
    is_int(run.skipped, 7, "frames before the first keyframe skipped");
    is_int(run.segments, 2, "then segments at keyframes");

    /* a GOP longer than the limit: segments cut at the limit */
    init(&c, 500, 2499, 0);
    feed(&c, &run, 750, d25, 1, 250, 0);
    ok(run.seg_max <= 2499, "10 s GOP: segments <= 2499 ms (%u)",
       run.seg_max);
    is_int(run.segments, 15, "10 s GOP: 5 segments of <= 2.48 s each");
}


int
main(void)
{
    test_basics();
    test_streams();

    return done_testing();
}
