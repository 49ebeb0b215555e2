
/*
 * Unit tests: media/vks_llhls_state (an LL-HLS media playlist read back
 * into the blocking-reload summary, the decision on it, the directives of
 * a query string, part file names).  A simulated live stream is rendered
 * with vks_llhls_render() at every step and parsed back: the summary must
 * be the model's, and the decision on the parsed text the model's for a
 * grid of requests (ENDLIST, no parts yet, delta updates, first_msn > 0).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/vks_llhls_playlist.h"
#include "media/vks_llhls_state.h"
#include "vks_tap.h"


#define T0  1700000000000LL


static char  out[65536];


static void
conf_init(vks_llhls_conf_t *c, uint32_t part_ms, uint32_t target_ms,
    unsigned window, int skip, uint64_t first_msn)
{
    memset(c, 0, sizeof(vks_llhls_conf_t));
    c->part_target_ms = part_ms;
    c->target_ms = target_ms;
    c->window = window;
    c->skip = skip ? 1 : 0;
    c->first_msn = first_msn;
    strcpy(c->map_uri, "init.mp4");
}


static int
same_state(const vks_llhls_state_t *a, const vks_llhls_state_t *b,
    char *why, size_t len)
{
#define VKS_CMP(f)                                                           \
    if (a->f != b->f) {                                                      \
        snprintf(why, len, #f " %lld != %lld", (long long) a->f,             \
                 (long long) b->f);                                          \
        return 0;                                                            \
    }

    VKS_CMP(media_sequence);
    VKS_CMP(last_msn);
    VKS_CMP(nsegs);
    VKS_CMP(last_nparts);
    VKS_CMP(open_nparts);
    VKS_CMP(has_part);
    VKS_CMP(ended);
    VKS_CMP(can_skip);
    VKS_CMP(hinted);
    VKS_CMP(td);
    VKS_CMP(part_target_ms);

    if (a->has_part) {
        VKS_CMP(part_msn);
        VKS_CMP(part_index);
    }

#undef VKS_CMP

    if (strcmp(a->hint, b->hint) != 0) {
        snprintf(why, len, "hint \"%s\" != \"%s\"", a->hint, b->hint);
        return 0;
    }

    return 1;
}


/*
 * The model's text parses to the model's summary, and every request of a
 * grid around the live edge gets the same answer from both.  Returns the
 * number of differences (each printed as a diagnostic).
 */
static unsigned
compare(vks_llhls_t *pl, int skip, const char *where)
{
    char                why[256];
    size_t              len;
    int64_t             m, last;
    uint64_t            n;
    unsigned            bad, hp;
    const char         *r1, *r2;
    vks_llhls_req_t     req;
    vks_llhls_state_t   model, text;
    vks_llhls_block_e   b1, b2;

    memset(&req, 0, sizeof(req));
    req.skip = skip;

    len = vks_llhls_render(pl, &req, NULL, 0, out, sizeof(out));
    if (len >= sizeof(out)) {
        printf("# %s: playlist too long\n", where);
        return 1;
    }

    vks_llhls_state_of(pl, &model);

    if (vks_llhls_state_parse(&text, out, len, &r1) != 0) {
        printf("# %s: parse failed: %s\n%s", where, r1, out);
        return 1;
    }

    if (!same_state(&model, &text, why, sizeof(why))) {
        printf("# %s: %s\n%s", where, why, out);
        return 1;
    }

    bad = 0;
    last = model.last_msn;

    for (m = last - 2; m <= last + 4; m++) {
        if (m < 0) {
            continue;
        }

        for (hp = 0; hp < 2; hp++) {
            for (n = 0; n < (hp ? 12 : 1); n++) {
                memset(&req, 0, sizeof(req));
                req.has_msn = 1;
                req.msn = (uint64_t) m;
                req.has_part = hp;
                req.part = n;

                b1 = vks_llhls_block(pl, &req, &r1);
                b2 = vks_llhls_state_block(&text, &req, &r2);

                if (b1 != b2 || strcmp(r1, r2) != 0) {
                    printf("# %s: msn %lld part %s%llu: model %d (%s), "
                           "text %d (%s)\n", where, (long long) m,
                           hp ? "" : "-", (unsigned long long) n, b1, r1,
                           b2, r2);
                    bad++;
                }
            }
        }
    }

    return bad;
}


/* a live stream of nseg segments, compared after every step */
static void
test_live(uint32_t part_ms, uint32_t target_ms, unsigned window, int skip,
    uint64_t first_msn, unsigned nseg)
{
    char              uri[32], err[VKS_LLHLS_ERR_LEN], where[96];
    unsigned          s, i, k, seq, steps, bad, nparts;
    vks_llhls_t      *pl;
    vks_llhls_conf_t  c;

    pl = malloc(sizeof(vks_llhls_t));
    conf_init(&c, part_ms, target_ms, window, skip, first_msn);

    if (pl == NULL || vks_llhls_init(pl, &c, err, sizeof(err)) != 0) {
        ok(0, "live: init");
        free(pl);
        return;
    }

    bad = 0;
    steps = 0;
    seq = 0;
    nparts = target_ms / part_ms;

    snprintf(where, sizeof(where), "parts %u ms, skip %d, first %llu, empty",
             part_ms, skip, (unsigned long long) first_msn);
    bad += compare(pl, 0, where);
    steps++;

    for (s = 0; s < nseg; s++) {
        snprintf(uri, sizeof(uri), "s%llu.m4s",
                 (unsigned long long) (first_msn + s));
        vks_llhls_segment_start(pl, T0 + (int64_t) s * target_ms, uri, err,
                                sizeof(err));

        /* open with no part yet */
        for (k = 0; k < 2; k++) {
            snprintf(where, sizeof(where), "segment %u open, no part", s);
            bad += compare(pl, k, where);
            steps++;
        }

        for (i = 0; i < nparts; i++) {
            snprintf(uri, sizeof(uri), "p%u.m4s", seq++);
            if (vks_llhls_part_add(pl, part_ms, i == 0, uri, err,
                                   sizeof(err)) != 0)
            {
                printf("# part_add: %s\n", err);
                bad++;
            }

            for (k = 0; k < 2; k++) {
                snprintf(where, sizeof(where), "segment %u part %u%s", s, i,
                         k ? " skip" : "");
                bad += compare(pl, k, where);
                steps++;
            }

            snprintf(uri, sizeof(uri), "p%u.m4s", seq);
            vks_llhls_hint(pl, uri, err, sizeof(err));

            snprintf(where, sizeof(where), "segment %u part %u hinted", s, i);
            bad += compare(pl, skip, where);
            steps++;
        }

        vks_llhls_segment_end(pl, err, sizeof(err));

        snprintf(where, sizeof(where), "segment %u complete", s);
        bad += compare(pl, skip, where);
        steps++;
    }

    /* a segment left open with parts, then the end */
    snprintf(uri, sizeof(uri), "s%llu.m4s",
             (unsigned long long) (first_msn + nseg));
    vks_llhls_segment_start(pl, T0 + (int64_t) nseg * target_ms, uri, err,
                            sizeof(err));
    snprintf(uri, sizeof(uri), "p%u.m4s", seq++);
    vks_llhls_part_add(pl, part_ms, 1, uri, err, sizeof(err));
    vks_llhls_end(pl);

    snprintf(where, sizeof(where), "ended");
    bad += compare(pl, skip, where);
    steps++;

    is_int(bad, 0, "live (parts %u ms, segments %u ms, window %u, skip %d, "
           "first MSN %llu): %u states, text and model agree", part_ms,
           target_ms, window, skip, (unsigned long long) first_msn, steps);

    free(pl);
}


/* segments written whole (no parts) and a stream ended while empty */
static void
test_whole(void)
{
    char              err[VKS_LLHLS_ERR_LEN];
    unsigned          bad;
    const char       *why;
    vks_llhls_t      *pl;
    vks_llhls_conf_t  c;
    vks_llhls_req_t   req;

    pl = malloc(sizeof(vks_llhls_t));
    if (pl == NULL) {
        return;
    }

    conf_init(&c, 500, 2000, 3, 0, 7);
    vks_llhls_init(pl, &c, err, sizeof(err));

    bad = compare(pl, 0, "whole: empty, first 7");
    vks_llhls_segment_add(pl, T0, 2000, "s7.m4s", err, sizeof(err));
    bad += compare(pl, 0, "whole: one segment");
    vks_llhls_segment_add(pl, T0 + 2000, 2000, "s8.m4s", err, sizeof(err));
    bad += compare(pl, 0, "whole: two segments");
    vks_llhls_segment_start(pl, T0 + 4000, "s9.m4s", err, sizeof(err));
    bad += compare(pl, 0, "whole: open, empty");
    vks_llhls_end(pl);
    bad += compare(pl, 0, "whole: ended, the empty one dropped");
    is_int(bad, 0, "whole segments: text and model agree");

    /* MSN 6 is before the first segment: long complete */
    memset(&req, 0, sizeof(req));
    conf_init(&c, 500, 2000, 3, 0, 7);
    vks_llhls_init(pl, &c, err, sizeof(err));
    req.has_msn = 1;
    req.msn = 6;
    req.has_part = 1;
    req.part = 3;
    is_int(vks_llhls_block(pl, &req, &why), VKS_LLHLS_READY,
           "first MSN 7, nothing yet: 6.3 is ready");

    free(pl);
}


static void
test_parse(void)
{
    const char         *why, *t;
    vks_llhls_state_t   st;

    t = "#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n"
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=24.0\r\n"
        "#EXT-X-PART-INF:PART-TARGET=1.25\r\n"
        "#EXT-X-MEDIA-SEQUENCE:100\r\n"
        "#EXT-X-SKIP:SKIPPED-SEGMENTS=3\r\n"
        "#EXTINF:4.0,\r\ns103.m4s\r\n"
        "#EXT-X-PART:DURATION=1.0,URI=\"a,b\"\r\n"
        "#EXT-X-PRELOAD-HINT:URI=\"p9.m4s\",TYPE=PART\r\n";

    is_int(vks_llhls_state_parse(&st, t, strlen(t), &why), 0,
           "parse: CRLF, attribute order, quoted comma");
    is_int(st.td, 4, "parse: TARGETDURATION");
    is_int(st.part_target_ms, 1250, "parse: PART-TARGET 1.25 is 1250 ms");
    is_int(st.media_sequence, 100, "parse: MEDIA-SEQUENCE");
    is_int(st.nsegs, 4, "parse: 3 skipped + 1 complete");
    is_int(st.last_msn, 103, "parse: last complete MSN 103");
    is_int(st.open_nparts, 1, "parse: one part of 104");
    is_int(st.part_msn, 104, "parse: last part in 104");
    is_int(st.part_index, 0, "parse: at index 0");
    ok(st.can_skip && st.hinted && !st.ended, "parse: skip, hint, live");
    is_str(st.hint, "p9.m4s", "parse: the hint's URI");

    t = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-ENDLIST\n";
    is_int(vks_llhls_state_parse(&st, t, strlen(t), &why), 0,
           "parse: minimal ended");
    ok(st.ended && st.last_msn == -1 && st.nsegs == 0,
       "parse: ended, nothing in it, MSN -1");

    /* refused */
    t = "#EXT-X-TARGETDURATION:2\n";
    is_int(vks_llhls_state_parse(&st, t, strlen(t), &why), -1,
           "parse: no #EXTM3U refused");
    is_str(why, "no #EXTM3U", "parse: its reason");
    is_int(vks_llhls_state_parse(&st, "", 0, &why), -1,
           "parse: empty refused");
    t = "#EXTM3U\n";
    is_int(vks_llhls_state_parse(&st, t, strlen(t), &why), -1,
           "parse: no TARGETDURATION refused");
    t = "#EXTM3U\n#EXT-X-TARGETDURATION:-2\n";
    is_int(vks_llhls_state_parse(&st, t, strlen(t), &why), -1,
           "parse: negative TARGETDURATION refused");
    t = "#EXTM3U\n#EXT-X-TARGETDURATION:0\n";
    is_int(vks_llhls_state_parse(&st, t, strlen(t), &why), -1,
           "parse: TARGETDURATION 0 refused");
    t = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
        "#EXT-X-MEDIA-SEQUENCE:99999999999999999999\n";
    is_int(vks_llhls_state_parse(&st, t, strlen(t), &why), -1,
           "parse: 20-digit MEDIA-SEQUENCE refused");
    t = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
        "#EXT-X-MEDIA-SEQUENCE:999999999999999999\n";
    is_int(vks_llhls_state_parse(&st, t, strlen(t), &why), 0,
           "parse: 18-digit MEDIA-SEQUENCE accepted");
    is_int(st.last_msn, 999999999999999998LL, "parse: last MSN before it");
    t = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PART-INF:PART-TARGET=x\n";
    is_int(vks_llhls_state_parse(&st, t, strlen(t), &why), -1,
           "parse: bad PART-TARGET refused");
    t = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
        "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p1.m4s\n";
    is_int(vks_llhls_state_parse(&st, t, strlen(t), &why), 0,
           "parse: unterminated hint URI is no hint");
    ok(!st.hinted, "parse: not hinted");
    t = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
        "#EXT-X-PRELOAD-HINT:TYPE=MAP,URI=\"init.mp4\"\n";
    vks_llhls_state_parse(&st, t, strlen(t), &why);
    ok(!st.hinted, "parse: a MAP hint is not a part hint");

    /* the length bounds the text, not a NUL */
    t = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-ENDLIST\n";
    is_int(vks_llhls_state_parse(&st, t, strlen(t) - 8, &why), 0,
           "parse: a cut text parses");
    ok(!st.ended, "parse: what is past len is not read");
}


static int
args(const char *a, vks_llhls_req_t *req, const char **why)
{
    return vks_llhls_state_args(req, a, strlen(a), why);
}


static void
test_args(void)
{
    const char       *why;
    vks_llhls_req_t   req;

    is_int(args("", &req, &why), 0, "args: none");
    ok(!req.has_msn && !req.has_part && !req.skip, "args: nothing set");
    is_int(args("_HLS_msn=12&_HLS_part=3&_HLS_skip=YES", &req, &why), 0,
           "args: all three");
    ok(req.has_msn && req.msn == 12 && req.has_part && req.part == 3
       && req.skip, "args: their values");
    is_int(args("x=1&_HLS_skip=v2&&y&_HLS_msn=0", &req, &why), 0,
           "args: others ignored, v2");
    ok(req.skip && req.has_msn && req.msn == 0 && !req.has_part,
       "args: v2 skip, msn 0");
    is_int(args("_HLS_part=1", &req, &why), 0,
           "args: _HLS_part alone parses (the decision refuses it)");
    is_int(args("_HLS_msn=", &req, &why), -1, "args: empty msn refused");
    is_int(args("_HLS_msn", &req, &why), -1, "args: msn without = refused");
    is_int(args("_HLS_msn=-1", &req, &why), -1, "args: negative refused");
    is_int(args("_HLS_msn=+1", &req, &why), -1, "args: sign refused");
    is_int(args("_HLS_msn=1x", &req, &why), -1, "args: trailing refused");
    is_int(args("_HLS_msn=%31", &req, &why), -1, "args: escaped refused");
    is_int(args("_HLS_msn=1234567890123456789", &req, &why), -1,
           "args: 19 digits refused");
    is_int(args("_HLS_msn=1&_HLS_msn=1", &req, &why), -1,
           "args: repeated refused");
    is_str(why, "bad or repeated _HLS_msn", "args: its reason");
    is_int(args("_HLS_msn=1&_HLS_part=1.5", &req, &why), -1,
           "args: decimal part refused");
    is_int(args("_HLS_skip=yes", &req, &why), -1,
           "args: lowercase yes refused");
    is_int(args("_HLS_skip=v3", &req, &why), -1, "args: v3 refused");
    is_int(args("_hls_msn=x", &req, &why), 0,
           "args: names are case-sensitive (others ignored)");
}


static void
test_part_number(void)
{
    uint64_t  n;

    is_int(vks_llhls_state_part_number("p0.m4s", 6, &n), 0, "name: p0");
    is_int(n, 0, "name: p0 is 0");
    is_int(vks_llhls_state_part_number("p123.m4s", 8, &n), 0, "name: p123");
    is_int(n, 123, "name: 123");
    is_int(vks_llhls_state_part_number("p01.m4s", 7, &n), -1,
           "name: leading zero refused");
    is_int(vks_llhls_state_part_number("p.m4s", 5, &n), -1,
           "name: no digits refused");
    is_int(vks_llhls_state_part_number("s1.m4s", 6, &n), -1,
           "name: a segment is not a part");
    is_int(vks_llhls_state_part_number("p1.mp4", 6, &n), -1,
           "name: other extension refused");
    is_int(vks_llhls_state_part_number("p1x.m4s", 7, &n), -1,
           "name: letters refused");
}


static void
test_timeout(void)
{
    vks_llhls_state_t  st;

    memset(&st, 0, sizeof(st));
    st.td = 2;
    is_int(vks_llhls_state_timeout_ms(&st), 6000, "timeout: 3 TD");
    st.td = 0;
    is_int(vks_llhls_state_timeout_ms(&st), 3000, "timeout: TD 0 as 1");
}


int
main(void)
{
    test_live(500, 2000, 4, 0, 0, 12);
    test_live(500, 2000, 12, 1, 0, 40);
    test_live(200, 1000, 3, 0, 5, 10);
    test_live(1000, 4000, 2, 1, 1000000, 12);
    test_live(1500, 2000, 1, 0, 0, 6);
    test_whole();
    test_parse();
    test_args();
    test_part_number();
    test_timeout();

    return done_testing();
}
