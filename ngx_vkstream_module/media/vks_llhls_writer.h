
/*
 * vkstream media: one rendition's Low-Latency HLS output (issue 14): its
 * encoded packets cut into CMAF parts and segments with libavformat's mp4
 * muxer (movflags cmaf+frag_custom: one moof+mdat per part, shared/ll-hls.md
 * §6), and the files a plain nginx location serves:
 *
 *   DIR/init.mp4        the init segment (ftyp+moov), EXT-X-MAP
 *   DIR/pN.m4s          part N, numbered over the whole publish
 *   DIR/sM.m4s          segment M (media sequence number), the
 *                       concatenation of its parts
 *   DIR/index.m3u8      the media playlist (vks_llhls_playlist), replaced
 *                       after every part
 *   DIR/index_skip.m3u8 the same as a delta update (EXT-X-SKIP), for
 *                       _HLS_skip requests, when the window is long enough
 *                       (VKS_LLHLS_SKIP_WINDOW); renamed just before
 *                       index.m3u8, so it is never older than that one
 *
 * Every file is written under a temporary name and renamed, so a reader
 * sees it complete or not at all; a part and its segment exist before a
 * playlist lists them.  A blocking-reload server can wait for the playlist
 * (or the hinted part's file) to change.  Files of segments that left the
 * playlist are removed 3 target durations later (the spec's minimum);
 * those of a previous publish when the output opens.
 *
 * Runs on the rendition's thread only; any error (file I/O, muxer) is
 * returned with its reason, and the caller then closes the output.
 */


#ifndef _VKS_LLHLS_WRITER_H_INCLUDED_
#define _VKS_LLHLS_WRITER_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <libavcodec/avcodec.h>

#include "vks_hls_ladder.h"


/*
 * Delta updates from this window on: CAN-SKIP-UNTIL is 6 target durations
 * and a window of 12 segments (about 12 target durations) lets a delta
 * update leave out about half of the playlist; below that it saves too
 * little to be worth a second playlist per part.  Apple asks for them
 * only above 2 minutes, which 64 segments of 2 s barely reach.
 */
#define VKS_LLHLS_SKIP_WINDOW  12


typedef struct {
    const char                *dir;             /* created if missing */
    uint32_t                   part_target_ms;
    unsigned                   window;          /* segments listed */
    const AVCodecParameters   *video;           /* H.264, required */
    const AVCodecParameters   *audio;           /* AAC, or NULL */

    /*
     * The stream's ladder, or NULL: the playlist carries the reports of
     * the siblings, and the writer tells where it stands, its segments'
     * sizes, and when it closes (as rendition ladder_index)
     */
    vks_hls_ladder_t          *ladder;
    int                        ladder_index;
} vks_llhls_writer_conf_t;


typedef struct vks_llhls_writer_s  vks_llhls_writer_t;


/* Returns the writer, or NULL with the reason in err. */
vks_llhls_writer_t *vks_llhls_writer_open(const vks_llhls_writer_conf_t *conf,
    char *err, size_t errlen);

/*
 * The wall clock (ms since the epoch) of one media time (ms), for
 * PROGRAM-DATE-TIME; the first call sets it, later ones are ignored.
 */
void vks_llhls_writer_anchor(vks_llhls_writer_t *w, int64_t media_ms,
    int64_t wall_ms);

/*
 * One packet; its timestamps in tb.  The packet is not taken (it may be
 * written elsewhere too).  Returns 0, or -1 with the reason in err.
 */
int vks_llhls_writer_video(vks_llhls_writer_t *w, const AVPacket *pkt,
    AVRational tb, char *err, size_t errlen);
int vks_llhls_writer_audio(vks_llhls_writer_t *w, const AVPacket *pkt,
    AVRational tb, char *err, size_t errlen);

/*
 * The longest a segment may get, in ms (0 while the playlist is not
 * published): an encoder places an IDR before it.
 */
uint32_t vks_llhls_writer_segment_limit_ms(const vks_llhls_writer_t *w);

/*
 * Ends the output: with ended, what is held is written as the last part
 * and the playlist gets EXT-X-ENDLIST (errors are returned as above).
 * Frees the writer in any case.
 */
int vks_llhls_writer_close(vks_llhls_writer_t *w, int ended, char *err,
    size_t errlen);


#endif /* _VKS_LLHLS_WRITER_H_INCLUDED_ */
