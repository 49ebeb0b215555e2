
/*
 * vkstream media: what a blocking-reload server needs to know of an LL-HLS
 * media playlist, read back from its text (issue 14).  The HTTP workers
 * serving LL-HLS do not hold the writer's model (vks_llhls_t, in the
 * rendition thread of whichever worker transcodes, if any): they read the
 * playlist file the writer renames into place and parse it into a summary.
 * The blocking decision (shared/ll-hls.md §3) is made on that summary,
 * here, for the HTTP glue and for vks_llhls_block() alike.
 *
 * The text is our own renderer's output but is treated as untrusted:
 * bounded (VKS_LLHLS_STATE_MAX bytes), no allocation, never reads past
 * len, refuses what is not a media playlist.  Also here: the strict
 * parsing of the delivery directives of a request's query string and of
 * part file names.  Plain C, no nginx types.
 */


#ifndef _VKS_LLHLS_STATE_H_INCLUDED_
#define _VKS_LLHLS_STATE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "vks_llhls_playlist.h"


#define VKS_LLHLS_STATE_MAX   (1024 * 1024)   /* bytes of playlist read */


typedef struct {
    uint64_t   media_sequence;  /* EXT-X-MEDIA-SEQUENCE */
    int64_t    last_msn;        /* last complete segment, or one before
                                   the first when none is */
    uint64_t   nsegs;           /* complete segments, skipped ones too */
    unsigned   last_nparts;     /* EXT-X-PARTs of the last complete one */
    unsigned   open_nparts;     /* of the segment after it (last_msn+1) */
    unsigned   has_part:1;      /* part_msn and part_index are set */
    unsigned   ended:1;         /* EXT-X-ENDLIST */
    unsigned   can_skip:1;      /* CAN-SKIP-UNTIL offered */
    unsigned   hinted:1;        /* EXT-X-PRELOAD-HINT of TYPE=PART */
    uint64_t   part_msn;        /* the last part: its segment */
    uint64_t   part_index;      /* and its index there */
    unsigned   td;              /* EXT-X-TARGETDURATION, s */
    uint32_t   part_target_ms;  /* PART-TARGET, 0 when absent */
    char       hint[VKS_LLHLS_URI_LEN];
} vks_llhls_state_t;


/*
 * Parses a media playlist.  Returns 0, or -1 with the reason in *reason
 * (a static string) when it is not one: no #EXTM3U first, no or a bad
 * TARGETDURATION, MEDIA-SEQUENCE or part numbers out of range, too long.
 */
int vks_llhls_state_parse(vks_llhls_state_t *st, const char *text,
    size_t len, const char **reason);

/* The summary of the writer's model, as its rendered text parses. */
void vks_llhls_state_of(const vks_llhls_t *pl, vks_llhls_state_t *st);

/*
 * Blocking reload (draft-pantos §6.2.5.2): whether a request with these
 * directives is answered now, parked, or refused with 400 (the reason in
 * *reason).  _HLS_part past the last part of a complete segment M means
 * part 0 of M+1.  After ENDLIST every well-formed request is READY.
 */
vks_llhls_block_e vks_llhls_state_block(const vks_llhls_state_t *st,
    const vks_llhls_req_t *req, const char **reason);

/* How long a parked request waits before its 503: 3 target durations. */
uint32_t vks_llhls_state_timeout_ms(const vks_llhls_state_t *st);

/*
 * The directives of a query string ("a=1&_HLS_msn=5&_HLS_part=2", without
 * the "?"): _HLS_msn and _HLS_part decimal digits only (at most 18),
 * _HLS_skip YES or v2, none twice; other arguments are ignored.  Returns
 * 0, or -1 with the reason in *reason (a 400).  Checks no relation between
 * them (vks_llhls_state_block() does).
 */
int vks_llhls_state_args(vks_llhls_req_t *req, const char *args,
    size_t len, const char **reason);

/*
 * The number N of a part file name "pN.m4s" (decimal, at most 18 digits,
 * no leading zero but "p0.m4s"); -1 when the name is not one.
 */
int vks_llhls_state_part_number(const char *name, size_t len,
    uint64_t *n);


#endif /* _VKS_LLHLS_STATE_H_INCLUDED_ */
