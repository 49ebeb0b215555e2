
/*
 * vkstream media: one rendition's LL-HLS window and media playlist (see
 * vks_llhls_playlist.h).
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/vks_err.h"
#include "vks_llhls_playlist.h"
#include "vks_llhls_state.h"


#define VKS_LLHLS_SLOTS  (VKS_LLHLS_SEGMENTS_MAX + 1)


typedef struct {
    char    *buf;
    size_t   size;
    size_t   len;          /* needed so far, may exceed size */
} vks_llhls_out_t;


static int vks_llhls_uri_ok(const char *uri);
static vks_llhls_segment_t *vks_llhls_seg(const vks_llhls_t *pl,
    unsigned i);
static vks_llhls_segment_t *vks_llhls_open_seg(const vks_llhls_t *pl);
static unsigned vks_llhls_round(uint32_t ms);
static int vks_llhls_writable(vks_llhls_t *pl, char *err, size_t errlen);
static void vks_llhls_complete(vks_llhls_t *pl);
static int vks_llhls_has_parts(const vks_llhls_t *pl,
    const vks_llhls_segment_t *s);
static void vks_llhls_print(vks_llhls_out_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void vks_llhls_print_pdt(vks_llhls_out_t *out, int64_t pdt_ms);
static void vks_llhls_print_segment(vks_llhls_out_t *out,
    const vks_llhls_t *pl, const vks_llhls_segment_t *s, int parts,
    int complete);
static unsigned vks_llhls_skippable(const vks_llhls_t *pl);


int
vks_llhls_init(vks_llhls_t *pl, const vks_llhls_conf_t *conf, char *err,
    size_t errlen)
{
    memset(pl, 0, sizeof(vks_llhls_t));

    if (conf->part_target_ms < VKS_LLHLS_PART_TARGET_MIN
        || conf->part_target_ms > VKS_LLHLS_PART_TARGET_MAX)
    {
        return vks_err(err, errlen, "part target %u ms is not "
                              "within %u-%u ms", conf->part_target_ms,
                              VKS_LLHLS_PART_TARGET_MIN,
                              VKS_LLHLS_PART_TARGET_MAX);
    }

    if (conf->target_ms < conf->part_target_ms) {
        return vks_err(err, errlen, "segment target %u ms is below "
                              "the part target %u ms", conf->target_ms,
                              conf->part_target_ms);
    }

    if (conf->window == 0 || conf->window > VKS_LLHLS_WINDOW_MAX) {
        return vks_err(err, errlen, "window of %u segments is not "
                              "within 1-%u", conf->window,
                              VKS_LLHLS_WINDOW_MAX);
    }

    if (!vks_llhls_uri_ok(conf->map_uri)) {
        return vks_err(err, errlen, "bad map URI (empty, too long, "
                              "or a quote, space or control character)");
    }

    /* MSNs are compared as signed numbers in vks_llhls_state_block() */
    if (conf->first_msn > INT64_MAX / 2) {
        return vks_err(err, errlen, "first media sequence number "
                              "too large");
    }

    pl->conf = *conf;
    pl->td = vks_llhls_round(conf->target_ms);
    if (pl->td == 0) {
        pl->td = 1;
    }

    pl->next_msn = conf->first_msn;

    return 0;
}


int
vks_llhls_segment_start(vks_llhls_t *pl, int64_t pdt_ms, const char *uri,
    char *err, size_t errlen)
{
    vks_llhls_segment_t  *s, *prev;

    if (vks_llhls_writable(pl, err, errlen) != 0) {
        return -1;
    }

    if (pl->open) {
        return vks_err(err, errlen, "segment %llu is still open",
                              (unsigned long long) pl->next_msn - 1);
    }

    if (!vks_llhls_uri_ok(uri)) {
        return vks_err(err, errlen, "bad segment URI (empty, too "
                              "long, or a quote, space or control "
                              "character)");
    }

    if (pdt_ms < 0) {
        return vks_err(err, errlen, "program date-time before 1970");
    }

    if (pl->nsegs) {
        prev = vks_llhls_seg(pl, pl->nsegs - 1);

        if (pdt_ms < prev->pdt_ms) {
            return vks_err(err, errlen, "program date-time goes "
                                  "back %lld ms",
                                  (long long) (prev->pdt_ms - pdt_ms));
        }
    }

    s = vks_llhls_seg(pl, pl->nsegs);
    memset(s, 0, sizeof(vks_llhls_segment_t));

    s->msn = pl->next_msn++;
    s->pdt_ms = pdt_ms;
    s->part_first = pl->next_part;
    strcpy(s->uri, uri);

    pl->open = 1;

    return 0;
}


int
vks_llhls_part_add(vks_llhls_t *pl, uint32_t duration_ms, int independent,
    const char *uri, char *err, size_t errlen)
{
    unsigned              r;
    vks_llhls_part_t     *p;
    vks_llhls_segment_t  *s;

    if (vks_llhls_writable(pl, err, errlen) != 0) {
        return -1;
    }

    s = vks_llhls_open_seg(pl);
    if (s == NULL) {
        return vks_err(err, errlen, "no open segment for the part");
    }

    if (duration_ms == 0 || duration_ms > pl->conf.part_target_ms) {
        /* players reject a part longer than PART-TARGET (AVPlayer) */
        return vks_err(err, errlen, "part of %u ms is not within "
                              "1-%u ms (PART-TARGET)", duration_ms,
                              pl->conf.part_target_ms);
    }

    if (!vks_llhls_uri_ok(uri)) {
        return vks_err(err, errlen, "bad part URI (empty, too long, "
                              "or a quote, space or control character)");
    }

    if (pl->hinted && strcmp(uri, pl->hint) != 0) {
        return vks_err(err, errlen, "part URI is not the preload "
                              "hint's");
    }

    if (s->nparts == VKS_LLHLS_SEG_PARTS_MAX) {
        return vks_err(err, errlen, "segment %llu has %u parts "
                              "already", (unsigned long long) s->msn,
                              VKS_LLHLS_SEG_PARTS_MAX);
    }

    r = vks_llhls_round(s->duration_ms + duration_ms);

    if (r > pl->td) {
        if (pl->published) {
            return vks_err(err, errlen, "segment %llu would last "
                                  "%u ms, above TARGETDURATION %u: end it "
                                  "first", (unsigned long long) s->msn,
                                  s->duration_ms + duration_ms, pl->td);
        }

        pl->td = r;
    }

    p = &pl->parts[pl->next_part % VKS_LLHLS_PARTS_MAX];
    p->duration_ms = duration_ms;
    p->independent = independent ? 1 : 0;
    strcpy(p->uri, uri);

    pl->next_part++;
    s->nparts++;
    s->duration_ms += duration_ms;
    pl->hinted = 0;

    return 0;
}


int
vks_llhls_hint(vks_llhls_t *pl, const char *uri, char *err, size_t errlen)
{
    if (vks_llhls_writable(pl, err, errlen) != 0) {
        return -1;
    }

    if (!vks_llhls_uri_ok(uri)) {
        return vks_err(err, errlen, "bad hint URI (empty, too long, "
                              "or a quote, space or control character)");
    }

    strcpy(pl->hint, uri);
    pl->hinted = 1;

    return 0;
}


int
vks_llhls_segment_end(vks_llhls_t *pl, char *err, size_t errlen)
{
    vks_llhls_segment_t  *s;

    if (vks_llhls_writable(pl, err, errlen) != 0) {
        return -1;
    }

    s = vks_llhls_open_seg(pl);
    if (s == NULL) {
        return vks_err(err, errlen, "no open segment to end");
    }

    if (s->nparts == 0) {
        return vks_err(err, errlen, "segment %llu has no part",
                              (unsigned long long) s->msn);
    }

    vks_llhls_complete(pl);

    return 0;
}


int
vks_llhls_segment_add(vks_llhls_t *pl, int64_t pdt_ms, uint32_t duration_ms,
    const char *uri, char *err, size_t errlen)
{
    unsigned              r;
    vks_llhls_segment_t  *s;

    if (duration_ms == 0) {
        return vks_err(err, errlen, "segment of 0 ms");
    }

    r = vks_llhls_round(duration_ms);

    if (r > pl->td && pl->published) {
        return vks_err(err, errlen, "segment of %u ms is above "
                              "TARGETDURATION %u", duration_ms, pl->td);
    }

    if (vks_llhls_segment_start(pl, pdt_ms, uri, err, errlen) != 0) {
        return -1;
    }

    if (r > pl->td) {
        pl->td = r;
    }

    s = vks_llhls_open_seg(pl);
    s->duration_ms = duration_ms;

    vks_llhls_complete(pl);

    return 0;
}


void
vks_llhls_end(vks_llhls_t *pl)
{
    vks_llhls_segment_t  *s;

    s = vks_llhls_open_seg(pl);

    if (s && s->nparts) {
        vks_llhls_complete(pl);

    } else if (s) {
        /* never listed: its MSN is given to no one */
        pl->open = 0;
        pl->next_msn--;
    }

    pl->hinted = 0;
    pl->ended = 1;
}


void
vks_llhls_publish(vks_llhls_t *pl)
{
    pl->published = 1;
}


uint32_t
vks_llhls_segment_limit_ms(const vks_llhls_t *pl)
{
    /* EXTINF rounds half up: td + 0.499 s still rounds to td */
    return pl->td * 1000 + 499;
}


int
vks_llhls_last_part(const vks_llhls_t *pl, uint64_t *msn, uint64_t *part)
{
    unsigned              i, n;
    vks_llhls_segment_t  *s;

    n = pl->nsegs + (pl->open ? 1 : 0);

    for (i = n; i > 0; i--) {
        s = vks_llhls_seg(pl, i - 1);

        if (s->nparts) {
            *msn = s->msn;
            *part = s->nparts - 1;
            return 0;
        }
    }

    return -1;
}


int
vks_llhls_last_msn(const vks_llhls_t *pl, uint64_t *msn)
{
    if (pl->nsegs == 0) {
        return -1;
    }

    *msn = vks_llhls_seg(pl, pl->nsegs - 1)->msn;

    return 0;
}


size_t
vks_llhls_render(vks_llhls_t *pl, const vks_llhls_req_t *req,
    const vks_llhls_report_t *reports, size_t nreports, char *buf,
    size_t size)
{
    size_t                i;
    uint64_t              after, limit;
    unsigned              n, skip, first;
    vks_llhls_out_t       out;
    vks_llhls_segment_t  *s, *open;

    pl->published = 1;

    out.buf = buf;
    out.size = size;
    out.len = 0;

    if (size) {
        buf[0] = '\0';
    }

    skip = (req && req->skip && pl->conf.skip) ? vks_llhls_skippable(pl) : 0;

    vks_llhls_print(&out, "#EXTM3U\n#EXT-X-VERSION:%u\n"
                    "#EXT-X-TARGETDURATION:%u\n", skip ? 9 : 6, pl->td);

    vks_llhls_print(&out, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES");

    if (pl->conf.skip) {
        vks_llhls_print(&out, ",CAN-SKIP-UNTIL=%u.000", 6 * pl->td);
    }

    vks_llhls_print(&out, ",PART-HOLD-BACK=%u.%03u,HOLD-BACK=%u.000\n",
                    3 * pl->conf.part_target_ms / 1000,
                    3 * pl->conf.part_target_ms % 1000, 3 * pl->td);

    vks_llhls_print(&out, "#EXT-X-PART-INF:PART-TARGET=%u.%03u\n",
                    pl->conf.part_target_ms / 1000,
                    pl->conf.part_target_ms % 1000);

    n = pl->nsegs + (pl->open ? 1 : 0);

    vks_llhls_print(&out, "#EXT-X-MEDIA-SEQUENCE:%llu\n",
                    (unsigned long long) (n ? vks_llhls_seg(pl, 0)->msn
                                            : pl->next_msn));

    if (skip) {
        vks_llhls_print(&out, "#EXT-X-SKIP:SKIPPED-SEGMENTS=%u\n", skip);
    }

    vks_llhls_print(&out, "#EXT-X-MAP:URI=\"%s\"\n", pl->conf.map_uri);

    /*
     * Parts are listed for the segments that end less than 3 target
     * durations before the end of the playlist (its open parts included):
     * players only need them near the live edge
     */
    limit = (uint64_t) 3 * 1000 * pl->td;
    open = vks_llhls_open_seg(pl);
    after = open ? open->duration_ms : 0;

    /* from the newest complete segment back: the first with parts */
    first = pl->nsegs;

    for (i = pl->nsegs; i > skip; i--) {
        if (after >= limit) {
            break;
        }

        first = i - 1;
        after += vks_llhls_seg(pl, i - 1)->duration_ms;
    }

    for (i = skip; i < pl->nsegs; i++) {
        s = vks_llhls_seg(pl, i);
        vks_llhls_print_segment(&out, pl, s, i >= first, 1);
    }

    if (open && open->nparts) {
        vks_llhls_print_segment(&out, pl, open, 1, 0);
    }

    if (pl->ended) {
        vks_llhls_print(&out, "#EXT-X-ENDLIST\n");

    } else {
        if (pl->hinted) {
            vks_llhls_print(&out, "#EXT-X-PRELOAD-HINT:TYPE=PART,"
                            "URI=\"%s\"\n", pl->hint);
        }

        for (i = 0; i < nreports; i++) {
            if (!vks_llhls_uri_ok(reports[i].uri)) {
                continue;
            }

            vks_llhls_print(&out, "#EXT-X-RENDITION-REPORT:URI=\"%s\","
                            "LAST-MSN=%llu", reports[i].uri,
                            (unsigned long long) reports[i].last_msn);

            if (reports[i].last_part >= 0) {
                vks_llhls_print(&out, ",LAST-PART=%lld",
                                (long long) reports[i].last_part);
            }

            vks_llhls_print(&out, "\n");
        }
    }

    return out.len;
}


/* one implementation, on the summary the HTTP glue parses from the file */
vks_llhls_block_e
vks_llhls_block(const vks_llhls_t *pl, const vks_llhls_req_t *req,
    const char **reason)
{
    vks_llhls_state_t  st;

    vks_llhls_state_of(pl, &st);

    return vks_llhls_state_block(&st, req, reason);
}


uint32_t
vks_llhls_block_timeout_ms(const vks_llhls_t *pl)
{
    return 3 * 1000 * pl->td;
}



/*
 * URIs go into playlist lines and quoted attributes: a quote, a space, a
 * control character or a leading "#" would change the playlist
 */
static int
vks_llhls_uri_ok(const char *uri)
{
    size_t  i;

    if (uri == NULL || uri[0] == '\0' || uri[0] == '#') {
        return 0;
    }

    for (i = 0; uri[i]; i++) {
        if (i == VKS_LLHLS_URI_LEN - 1) {
            return 0;
        }

        if ((unsigned char) uri[i] <= ' ' || (unsigned char) uri[i] >= 0x7f
            || uri[i] == '"')
        {
            return 0;
        }
    }

    return 1;
}


/* the i-th segment from the oldest; i == nsegs is the open one */
static vks_llhls_segment_t *
vks_llhls_seg(const vks_llhls_t *pl, unsigned i)
{
    return (vks_llhls_segment_t *)
               &pl->segs[(pl->seg_head + i) % VKS_LLHLS_SLOTS];
}


static vks_llhls_segment_t *
vks_llhls_open_seg(const vks_llhls_t *pl)
{
    return pl->open ? vks_llhls_seg(pl, pl->nsegs) : NULL;
}


/* as players round EXTINF: to the nearest second, halves up */
static unsigned
vks_llhls_round(uint32_t ms)
{
    return (unsigned) (((uint64_t) ms + 500) / 1000);
}


static int
vks_llhls_writable(vks_llhls_t *pl, char *err, size_t errlen)
{
    if (pl->ended) {
        return vks_err(err, errlen, "the stream has ended");
    }

    return 0;
}


/*
 * The open segment joins the complete ones; the oldest leave while more
 * than the window remain and the rest still holds 3 target durations (the
 * spec's minimum), or when the ring is full
 */
static void
vks_llhls_complete(vks_llhls_t *pl)
{
    unsigned  i;
    uint64_t  rest;

    pl->open = 0;
    pl->nsegs++;

    for ( ;; ) {
        if (pl->nsegs <= 1) {
            break;
        }

        rest = 0;
        for (i = 1; i < pl->nsegs; i++) {
            rest += vks_llhls_seg(pl, i)->duration_ms;
        }

        if (pl->nsegs < VKS_LLHLS_SEGMENTS_MAX
            && (pl->nsegs <= pl->conf.window
                || rest < (uint64_t) 3 * 1000 * pl->td))
        {
            break;
        }

        pl->seg_head = (pl->seg_head + 1) % VKS_LLHLS_SLOTS;
        pl->nsegs--;
    }
}


/* whether the ring still holds every part of s */
static int
vks_llhls_has_parts(const vks_llhls_t *pl, const vks_llhls_segment_t *s)
{
    return s->nparts && pl->next_part - s->part_first <= VKS_LLHLS_PARTS_MAX;
}


static void
vks_llhls_print(vks_llhls_out_t *out, const char *fmt, ...)
{
    int      n;
    size_t   room;
    va_list  args;

    room = out->len < out->size ? out->size - out->len : 0;

    va_start(args, fmt);
    n = vsnprintf(room ? out->buf + out->len : NULL, room, fmt, args);
    va_end(args);

    if (n > 0) {
        out->len += n;
    }
}


/* ISO 8601 with milliseconds and "Z": 2024-05-01T12:00:00.250Z */
static void
vks_llhls_print_pdt(vks_llhls_out_t *out, int64_t pdt_ms)
{
    time_t     t;
    struct tm  tm;

    t = (time_t) (pdt_ms / 1000);

    if (gmtime_r(&t, &tm) == NULL) {
        memset(&tm, 0, sizeof(struct tm));
    }

    vks_llhls_print(out, "#EXT-X-PROGRAM-DATE-TIME:"
                    "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\n",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec,
                    (int) (pdt_ms % 1000));
}


/* PDT first: it must precede the segment's first EXT-X-PART */
static void
vks_llhls_print_segment(vks_llhls_out_t *out, const vks_llhls_t *pl,
    const vks_llhls_segment_t *s, int parts, int complete)
{
    unsigned                 i;
    const vks_llhls_part_t  *p;

    vks_llhls_print_pdt(out, s->pdt_ms);

    if (parts && vks_llhls_has_parts(pl, s)) {
        for (i = 0; i < s->nparts; i++) {
            p = &pl->parts[(s->part_first + i) % VKS_LLHLS_PARTS_MAX];

            vks_llhls_print(out, "#EXT-X-PART:DURATION=%u.%03u,URI=\"%s\"%s"
                            "\n", p->duration_ms / 1000,
                            p->duration_ms % 1000, p->uri,
                            p->independent ? ",INDEPENDENT=YES" : "");
        }
    }

    if (complete) {
        vks_llhls_print(out, "#EXTINF:%u.%03u,\n%s\n", s->duration_ms / 1000,
                        s->duration_ms % 1000, s->uri);
    }
}


/*
 * Delta updates skip the oldest complete segments that end at least
 * CAN-SKIP-UNTIL (6 target durations) before the last complete segment
 * ends: the open parts are not counted, so the boundary errs on the side
 * of listing
 */
static unsigned
vks_llhls_skippable(const vks_llhls_t *pl)
{
    unsigned  i, n;
    uint64_t  after, until;

    until = (uint64_t) 6 * 1000 * pl->td;
    after = 0;
    n = 0;

    for (i = pl->nsegs; i > 0; i--) {
        if (after >= until) {
            n = i;
            break;
        }

        after += vks_llhls_seg(pl, i - 1)->duration_ms;
    }

    return n;
}
