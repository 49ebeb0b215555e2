
/*
 * vkstream media: one rendition's Low-Latency HLS window and its media
 * playlist (issue 14; the rules are those of shared/ll-hls.md, draft-pantos-
 * hls-rfc8216bis and Apple's authoring spec).
 *
 * The writer (a rendition thread cutting CMAF) tells the model what it
 * wrote: vks_llhls_segment_start() when a segment begins (its IDR, the
 * capture time as PROGRAM-DATE-TIME), vks_llhls_part_add() for every part
 * written and complete, vks_llhls_hint() with the URI of the part it will
 * write next, vks_llhls_segment_end() when the next IDR closes the segment,
 * vks_llhls_end() when the publish stops.  Segments without parts (written
 * whole) go in with vks_llhls_segment_add().
 *
 * The model keeps the rules that the writer cannot break by accident:
 *   - TARGETDURATION is the largest rounded EXTINF until the playlist is
 *     first published (rendered, or vks_llhls_publish()); from then on it
 *     never changes, and a part that would make the open segment round
 *     above it is refused, so the writer closes the segment first
 *     (vks_llhls_segment_limit_ms() says how long one may get);
 *   - a part is never longer than PART-TARGET;
 *   - the part added after a hint must be the hinted URI;
 *   - PDTs do not go backwards, URIs cannot inject playlist lines.
 * Name parts by a global part counter, not by (segment, index): a hint
 * then stays true whether the next part opens a segment or not.
 *
 * The window keeps the last "window" complete segments, more when they
 * would hold less than 3 target durations (the spec's minimum), at most
 * VKS_LLHLS_SEGMENTS_MAX.  Parts are listed for the segments within 3
 * target durations of the end, from a ring of VKS_LLHLS_PARTS_MAX parts;
 * a segment whose parts the ring no longer holds is listed whole.
 * Durations are integer milliseconds, printed with 3 decimals.
 * Plain C, no nginx types, no allocation; not thread-safe (one writer, the
 * glue copies or locks).
 */


#ifndef _VKS_LLHLS_PLAYLIST_H_INCLUDED_
#define _VKS_LLHLS_PLAYLIST_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define VKS_LLHLS_URI_LEN        96       /* with its NUL */
#define VKS_LLHLS_SEGMENTS_MAX   128
#define VKS_LLHLS_PARTS_MAX      512      /* the ring of parts */
#define VKS_LLHLS_SEG_PARTS_MAX  128      /* in one segment */
#define VKS_LLHLS_WINDOW_MAX     64
#define VKS_LLHLS_ERR_LEN        128

#define VKS_LLHLS_PART_TARGET_MIN  100    /* ms */
#define VKS_LLHLS_PART_TARGET_MAX  5000


/* the answer to a blocking playlist request */
typedef enum {
    VKS_LLHLS_READY = 0,    /* answer now with the playlist */
    VKS_LLHLS_WAIT,         /* park until the segment or part exists */
    VKS_LLHLS_BAD           /* 400 Bad Request */
} vks_llhls_block_e;


typedef struct {
    uint32_t   part_target_ms;  /* PART-TARGET */
    uint32_t   target_ms;       /* expected longest segment (the GOP) */
    unsigned   window;          /* complete segments kept, at least 1 */
    unsigned   skip:1;          /* offer delta updates (CAN-SKIP-UNTIL) */
    uint64_t   first_msn;       /* media sequence number of segment 1 */
    char       map_uri[VKS_LLHLS_URI_LEN];   /* EXT-X-MAP, the init */
} vks_llhls_conf_t;


typedef struct {
    uint32_t   duration_ms;
    unsigned   independent:1;   /* starts with an IDR */
    char       uri[VKS_LLHLS_URI_LEN];
} vks_llhls_part_t;


typedef struct {
    uint64_t   msn;
    int64_t    pdt_ms;          /* capture time, ms since the epoch */
    uint32_t   duration_ms;     /* the sum of its parts when it has some */
    uint64_t   part_first;      /* global number of its first part */
    unsigned   nparts;
    char       uri[VKS_LLHLS_URI_LEN];
} vks_llhls_segment_t;


typedef struct {
    vks_llhls_conf_t     conf;
    unsigned             td;            /* TARGETDURATION, seconds */
    unsigned             published:1;
    unsigned             ended:1;
    unsigned             open:1;        /* segs[last] is being written */
    unsigned             hinted:1;

    /* complete segments, then the open one; a ring */
    vks_llhls_segment_t  segs[VKS_LLHLS_SEGMENTS_MAX + 1];
    unsigned             seg_head;      /* index of the oldest */
    unsigned             nsegs;         /* complete ones */
    uint64_t             next_msn;      /* of the next segment started */

    vks_llhls_part_t     parts[VKS_LLHLS_PARTS_MAX];
    uint64_t             next_part;     /* global number of the next one */

    char                 hint[VKS_LLHLS_URI_LEN];
} vks_llhls_t;


/* one sibling rendition's EXT-X-RENDITION-REPORT */
typedef struct {
    const char  *uri;
    uint64_t     last_msn;
    int64_t      last_part;     /* -1: the rendition has no parts */
} vks_llhls_report_t;


/* a playlist request's delivery directives */
typedef struct {
    unsigned     has_msn:1;     /* _HLS_msn */
    unsigned     has_part:1;    /* _HLS_part */
    unsigned     skip:1;        /* _HLS_skip=YES or v2 */
    uint64_t     msn;
    uint64_t     part;
} vks_llhls_req_t;


/*
 * Checks conf (part target 100-5000 ms, a part target below the segment
 * target, window 1-VKS_LLHLS_WINDOW_MAX, a clean map URI) and starts an
 * empty window: TARGETDURATION from conf->target_ms rounded, at least 1.
 * Returns 0, or -1 with the reason in err.
 */
int vks_llhls_init(vks_llhls_t *pl, const vks_llhls_conf_t *conf, char *err,
    size_t errlen);

/* A new segment: the previous one must have been ended. */
int vks_llhls_segment_start(vks_llhls_t *pl, int64_t pdt_ms, const char *uri,
    char *err, size_t errlen);

/* A complete part of the open segment (0 < duration <= PART-TARGET). */
int vks_llhls_part_add(vks_llhls_t *pl, uint32_t duration_ms, int independent,
    const char *uri, char *err, size_t errlen);

/* The URI of the next part, for EXT-X-PRELOAD-HINT. */
int vks_llhls_hint(vks_llhls_t *pl, const char *uri, char *err,
    size_t errlen);

/* The open segment is complete (it has at least one part). */
int vks_llhls_segment_end(vks_llhls_t *pl, char *err, size_t errlen);

/* A complete segment without parts (no segment may be open). */
int vks_llhls_segment_add(vks_llhls_t *pl, int64_t pdt_ms,
    uint32_t duration_ms, const char *uri, char *err, size_t errlen);

/*
 * The stream ended: an open segment with parts is completed, an empty one
 * dropped, the hint forgotten; the playlist gets EXT-X-ENDLIST.
 */
void vks_llhls_end(vks_llhls_t *pl);

/* TARGETDURATION is fixed from now on (rendering does this too). */
void vks_llhls_publish(vks_llhls_t *pl);

/* The longest a segment may get and still round to TARGETDURATION. */
uint32_t vks_llhls_segment_limit_ms(const vks_llhls_t *pl);

/*
 * The last part, for a sibling's EXT-X-RENDITION-REPORT: the MSN of its
 * segment (open or complete) and its index there.  Returns 0, or -1 when
 * there is no part yet.
 */
int vks_llhls_last_part(const vks_llhls_t *pl, uint64_t *msn,
    uint64_t *part);

/* The last complete segment's MSN; -1 when there is none yet. */
int vks_llhls_last_msn(const vks_llhls_t *pl, uint64_t *msn);

/*
 * The media playlist, with the delivery directives of req (only skip
 * matters here; NULL for none) and the siblings' reports.  Writes at most
 * size bytes, NUL-terminated when size > 0, and returns the length it
 * needed without the NUL (as snprintf): a result >= size means "grow the
 * buffer and render again".  Publishes (fixes TARGETDURATION).
 */
size_t vks_llhls_render(vks_llhls_t *pl, const vks_llhls_req_t *req,
    const vks_llhls_report_t *reports, size_t nreports, char *buf,
    size_t size);

/*
 * Blocking reload: whether a request with these directives is answered
 * now, parked, or refused with 400 (the reason in *reason, a static
 * string).  An _HLS_part beyond the last part of a complete segment M
 * means part 0 of M+1.  After ENDLIST every well-formed request is READY.
 */
vks_llhls_block_e vks_llhls_block(const vks_llhls_t *pl,
    const vks_llhls_req_t *req, const char **reason);

/* How long a parked request waits before its 503: 3 target durations. */
uint32_t vks_llhls_block_timeout_ms(const vks_llhls_t *pl);


#endif /* _VKS_LLHLS_PLAYLIST_H_INCLUDED_ */
