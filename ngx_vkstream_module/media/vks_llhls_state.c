
/*
 * vkstream media: an LL-HLS media playlist read back into what blocking
 * reload needs, and the decision itself (see vks_llhls_state.h).
 */


#include <string.h>

#include "vks_llhls_state.h"


#define VKS_LLHLS_DIGITS_MAX  18     /* below 10^18 < 2^62 */


typedef struct {
    const char  *p;
    size_t       len;
} vks_llhls_str_t;


static int vks_llhls_prefix(vks_llhls_str_t *line, const char *tag);
static int vks_llhls_uri_clean(const char *p, size_t len);
static int vks_llhls_number(const char *p, size_t len, uint64_t *n);
static int vks_llhls_decimal_ms(const char *p, size_t len, uint32_t *ms);
static int vks_llhls_attr(const vks_llhls_str_t *list, const char *name,
    vks_llhls_str_t *value);


int
vks_llhls_state_parse(vks_llhls_state_t *st, const char *text, size_t len,
    const char **reason)
{
    int              first, has_td, has_msq, has_skip;
    size_t           i, eol;
    uint32_t         ms;
    uint64_t         n, pending, skipped, complete, pmsn, pidx;
    vks_llhls_str_t  line, v;

    memset(st, 0, sizeof(vks_llhls_state_t));

    if (len > VKS_LLHLS_STATE_MAX) {
        *reason = "playlist too long";
        return -1;
    }

    first = 1;
    has_td = 0;
    has_msq = 0;
    has_skip = 0;
    pending = 0;        /* parts of the segment not closed by EXTINF yet */
    skipped = 0;
    complete = 0;       /* EXTINFs */
    pmsn = 0;
    pidx = 0;

    for (i = 0; i < len; i = eol + 1) {
        for (eol = i; eol < len && text[eol] != '\n'; eol++) {
            /* void */
        }

        line.p = text + i;
        line.len = eol - i;

        if (line.len && line.p[line.len - 1] == '\r') {
            line.len--;
        }

        if (first) {
            if (line.len != 7 || memcmp(line.p, "#EXTM3U", 7) != 0) {
                *reason = "no #EXTM3U";
                return -1;
            }

            first = 0;
            continue;
        }

        if (line.len == 0 || line.p[0] != '#') {
            continue;     /* a URI, or blank */
        }

        if (vks_llhls_prefix(&line, "#EXT-X-TARGETDURATION:")) {
            if (vks_llhls_number(line.p, line.len, &n) != 0 || n == 0
                || n > 100000)
            {
                *reason = "bad EXT-X-TARGETDURATION";
                return -1;
            }

            st->td = (unsigned) n;
            has_td = 1;

        } else if (vks_llhls_prefix(&line, "#EXT-X-MEDIA-SEQUENCE:")) {
            if (vks_llhls_number(line.p, line.len, &n) != 0) {
                *reason = "bad EXT-X-MEDIA-SEQUENCE";
                return -1;
            }

            st->media_sequence = n;
            has_msq = 1;

        } else if (vks_llhls_prefix(&line, "#EXT-X-PART-INF:")) {
            if (vks_llhls_attr(&line, "PART-TARGET", &v) != 0
                || vks_llhls_decimal_ms(v.p, v.len, &ms) != 0)
            {
                *reason = "bad EXT-X-PART-INF";
                return -1;
            }

            st->part_target_ms = ms;

        } else if (vks_llhls_prefix(&line, "#EXT-X-SERVER-CONTROL:")) {
            st->can_skip = vks_llhls_attr(&line, "CAN-SKIP-UNTIL", &v) == 0;

        } else if (vks_llhls_prefix(&line, "#EXT-X-SKIP:")) {
            if (has_skip
                || vks_llhls_attr(&line, "SKIPPED-SEGMENTS", &v) != 0
                || vks_llhls_number(v.p, v.len, &n) != 0)
            {
                *reason = "bad or repeated EXT-X-SKIP";
                return -1;
            }

            skipped = n;
            has_skip = 1;

        } else if (vks_llhls_prefix(&line, "#EXT-X-PART:")) {
            pmsn = skipped + complete;
            pidx = pending++;
            st->has_part = 1;

        } else if (vks_llhls_prefix(&line, "#EXTINF:")) {
            st->last_nparts = (unsigned) (pending > 1000000 ? 1000000
                                                            : pending);
            pending = 0;
            complete++;

        } else if (vks_llhls_prefix(&line, "#EXT-X-PRELOAD-HINT:")) {
            if (vks_llhls_attr(&line, "TYPE", &v) == 0 && v.len == 4
                && memcmp(v.p, "PART", 4) == 0
                && vks_llhls_attr(&line, "URI", &v) == 0
                && v.len > 2 && v.len - 2 < VKS_LLHLS_URI_LEN
                && v.p[0] == '"' && v.p[v.len - 1] == '"'
                && vks_llhls_uri_clean(v.p + 1, v.len - 2))
            {
                memcpy(st->hint, v.p + 1, v.len - 2);
                st->hint[v.len - 2] = '\0';
                st->hinted = 1;
            }

        } else if (line.len == 14 && memcmp(line.p, "#EXT-X-ENDLIST", 14)
                                     == 0)
        {
            st->ended = 1;
        }
    }

    if (first) {
        *reason = "no #EXTM3U";
        return -1;
    }

    if (!has_td) {
        *reason = "no EXT-X-TARGETDURATION";
        return -1;
    }

    (void) has_msq;     /* absent means 0 (RFC 8216 §4.3.3.2) */

    /* lines are bounded by len; numbers by 18 digits, below 2^60 */
    if (st->media_sequence + skipped + complete > INT64_MAX / 4) {
        *reason = "EXT-X-MEDIA-SEQUENCE out of range";
        return -1;
    }

    st->nsegs = skipped + complete;
    st->last_msn = (int64_t) (st->media_sequence + st->nsegs) - 1;
    st->open_nparts = (unsigned) (pending > 1000000 ? 1000000 : pending);

    if (st->has_part) {
        st->part_msn = st->media_sequence + pmsn;
        st->part_index = pidx;
    }

    *reason = "ok";

    return 0;
}


void
vks_llhls_state_of(const vks_llhls_t *pl, vks_llhls_state_t *st)
{
    unsigned                    n, i;
    uint64_t                    msn, part;
    const vks_llhls_segment_t  *s;

    memset(st, 0, sizeof(vks_llhls_state_t));

    n = pl->nsegs + (pl->open ? 1 : 0);
    i = pl->seg_head;

    st->media_sequence = n ? pl->segs[i].msn : pl->next_msn;
    st->last_msn = (int64_t) pl->next_msn - (pl->open ? 2 : 1);
    st->nsegs = (uint64_t) (st->last_msn + 1 - (int64_t) st->media_sequence);

    if (pl->nsegs) {
        s = &pl->segs[(i + pl->nsegs - 1) % (VKS_LLHLS_SEGMENTS_MAX + 1)];
        st->last_nparts = s->nparts;
    }

    if (pl->open) {
        s = &pl->segs[(i + pl->nsegs) % (VKS_LLHLS_SEGMENTS_MAX + 1)];
        st->open_nparts = s->nparts;
    }

    if (vks_llhls_last_part(pl, &msn, &part) == 0) {
        st->has_part = 1;
        st->part_msn = msn;
        st->part_index = part;
    }

    st->ended = pl->ended;
    st->can_skip = pl->conf.skip;
    st->td = pl->td;
    st->part_target_ms = pl->conf.part_target_ms;

    if (pl->hinted && !pl->ended) {
        st->hinted = 1;
        strcpy(st->hint, pl->hint);
    }
}


vks_llhls_block_e
vks_llhls_state_block(const vks_llhls_state_t *st,
    const vks_llhls_req_t *req, const char **reason)
{
    int64_t  m, n, last, lp_msn, lp_part, ahead;

    *reason = "ready";

    if (req->has_part && !req->has_msn) {
        *reason = "_HLS_part without _HLS_msn";
        return VKS_LLHLS_BAD;
    }

    if (st->ended || !req->has_msn) {
        return VKS_LLHLS_READY;
    }

    /* no stream runs long enough for these to reach 2^62 */
    if (req->msn > INT64_MAX / 4 || req->part > INT64_MAX / 4) {
        *reason = "_HLS_msn or _HLS_part out of range";
        return VKS_LLHLS_BAD;
    }

    m = (int64_t) req->msn;
    n = (int64_t) req->part;
    last = st->last_msn;

    if (m > last + 2) {
        *reason = "_HLS_msn more than 2 segments past the last one";
        return VKS_LLHLS_BAD;
    }

    if (!req->has_part) {
        if (m <= last) {
            return VKS_LLHLS_READY;
        }

        *reason = "segment not complete yet";
        return VKS_LLHLS_WAIT;
    }

    if (m <= last) {
        /*
         * Before the last complete segment, or before the first segment
         * (gone from the window): long complete.  Past the last part of M
         * means part 0 of M + 1
         */
        if (m < last || st->nsegs == 0 || n < (int64_t) st->last_nparts
            || st->open_nparts)
        {
            return VKS_LLHLS_READY;
        }

        *reason = "part 0 of the next segment not written yet";
        return VKS_LLHLS_WAIT;
    }

    /*
     * Too far ahead of the last part: more than 3 / PART-TARGET parts
     * (3 s of parts) when PART-TARGET is below 1 s, else 3.  Counted from
     * the last part in its segment; in a later segment from its part 0,
     * as the parts still to come in between are not known
     */
    if (st->has_part) {
        lp_msn = (int64_t) st->part_msn;
        lp_part = (int64_t) st->part_index;

    } else {
        lp_msn = last;
        lp_part = -1;
    }

    ahead = (m == lp_msn) ? n - lp_part : n + 1;

    if (st->part_target_ms && st->part_target_ms < 1000
        ? ahead * st->part_target_ms > 3000 : ahead > 3)
    {
        *reason = "_HLS_part too far past the last part";
        return VKS_LLHLS_BAD;
    }

    if (m == last + 1 && n < (int64_t) st->open_nparts) {
        return VKS_LLHLS_READY;
    }

    *reason = "part not written yet";
    return VKS_LLHLS_WAIT;
}


uint32_t
vks_llhls_state_timeout_ms(const vks_llhls_state_t *st)
{
    return 3 * 1000 * (st->td ? st->td : 1);
}


int
vks_llhls_state_args(vks_llhls_req_t *req, const char *args, size_t len,
    const char **reason)
{
    size_t       i, end, eq;
    uint64_t     n;
    const char  *name, *val;
    size_t       nlen, vlen;

    memset(req, 0, sizeof(vks_llhls_req_t));

    for (i = 0; i <= len; i = end + 1) {
        for (end = i; end < len && args[end] != '&'; end++) {
            /* void */
        }

        for (eq = i; eq < end && args[eq] != '='; eq++) {
            /* void */
        }

        name = args + i;
        nlen = eq - i;
        val = args + eq + (eq < end ? 1 : 0);
        vlen = eq < end ? end - eq - 1 : 0;

        if (nlen == 8 && memcmp(name, "_HLS_msn", 8) == 0) {
            if (req->has_msn || vks_llhls_number(val, vlen, &n) != 0) {
                *reason = "bad or repeated _HLS_msn";
                return -1;
            }

            req->has_msn = 1;
            req->msn = n;

        } else if (nlen == 9 && memcmp(name, "_HLS_part", 9) == 0) {
            if (req->has_part || vks_llhls_number(val, vlen, &n) != 0) {
                *reason = "bad or repeated _HLS_part";
                return -1;
            }

            req->has_part = 1;
            req->part = n;

        } else if (nlen == 9 && memcmp(name, "_HLS_skip", 9) == 0) {
            if (req->skip
                || !((vlen == 3 && memcmp(val, "YES", 3) == 0)
                     || (vlen == 2 && memcmp(val, "v2", 2) == 0)))
            {
                *reason = "bad or repeated _HLS_skip";
                return -1;
            }

            req->skip = 1;
        }
    }

    *reason = "ok";

    return 0;
}


int
vks_llhls_state_part_number(const char *name, size_t len, uint64_t *n)
{
    if (len < 6 || name[0] != 'p'
        || memcmp(name + len - 4, ".m4s", 4) != 0
        || (name[1] == '0' && len != 6))
    {
        return -1;
    }

    return vks_llhls_number(name + 1, len - 5, n);
}


/* line starts with tag: line is cut to what follows it */
static int
vks_llhls_prefix(vks_llhls_str_t *line, const char *tag)
{
    size_t  n;

    n = strlen(tag);

    if (line->len < n || memcmp(line->p, tag, n) != 0) {
        return 0;
    }

    line->p += n;
    line->len -= n;

    return 1;
}


/* no space, quote, control or non-ASCII byte (the renderer's rule) */
static int
vks_llhls_uri_clean(const char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) p[i] <= ' ' || (unsigned char) p[i] >= 0x7f
            || p[i] == '"')
        {
            return 0;
        }
    }

    return 1;
}


/* 1-18 decimal digits, nothing else */
static int
vks_llhls_number(const char *p, size_t len, uint64_t *n)
{
    size_t  i;

    if (len == 0 || len > VKS_LLHLS_DIGITS_MAX) {
        return -1;
    }

    *n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        *n = *n * 10 + (uint64_t) (p[i] - '0');
    }

    return 0;
}


/* "0.500", "2", "1.5": to ms (digits past the third decimal cut) */
static int
vks_llhls_decimal_ms(const char *p, size_t len, uint32_t *ms)
{
    size_t    i, dot;
    uint64_t  s;
    unsigned  k, frac;

    for (dot = 0; dot < len && p[dot] != '.'; dot++) {
        /* void */
    }

    if (dot > 6 || vks_llhls_number(p, dot, &s) != 0) {
        return -1;
    }

    frac = 0;
    k = 0;

    for (i = dot + 1; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        if (k < 3) {
            frac = frac * 10 + (unsigned) (p[i] - '0');
            k++;
        }
    }

    if (dot < len && dot + 1 == len) {
        return -1;    /* "1." */
    }

    for ( /* void */ ; k < 3; k++) {
        frac *= 10;
    }

    *ms = (uint32_t) (s * 1000 + frac);

    return 0;
}


/*
 * The value of attribute name in an attribute list (RFC 8216 §4.2):
 * NAME=value pairs separated by commas; a quoted value may hold commas.
 * Quotes are kept in the value
 */
static int
vks_llhls_attr(const vks_llhls_str_t *list, const char *name,
    vks_llhls_str_t *value)
{
    size_t       i, start, nlen, eq;
    const char  *p;

    p = list->p;
    nlen = strlen(name);

    for (i = 0; i < list->len; i++) {
        start = i;

        for (eq = i; eq < list->len && p[eq] != '=' && p[eq] != ','; eq++) {
            /* void */
        }

        if (eq == list->len || p[eq] == ',') {
            i = eq;
            continue;     /* not NAME=value: skipped */
        }

        i = eq + 1;

        if (i < list->len && p[i] == '"') {
            for (i++; i < list->len && p[i] != '"'; i++) {
                /* void */
            }

            if (i == list->len) {
                return -1;    /* unterminated */
            }

            i++;
        }

        for ( /* void */ ; i < list->len && p[i] != ','; i++) {
            /* void */
        }

        if (eq - start == nlen && memcmp(p + start, name, nlen) == 0) {
            value->p = p + eq + 1;
            value->len = i - eq - 1;
            return 0;
        }
    }

    return -1;
}
