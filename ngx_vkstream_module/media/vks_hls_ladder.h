
/*
 * vkstream media: one published stream's ladder as HLS sees it (issue
 * 14), shared by the threads of its renditions: what each rendition
 * really outputs (CODECS from its own SPS and AudioSpecificConfig, size,
 * frame rate), its BANDWIDTH and AVERAGE-BANDWIDTH, and where its LL-HLS
 * playlist stands.  From these it writes the master playlists
 *
 *   LL_DIR/NAME.m3u8   listing NAMESUFFIX/index.m3u8 (LL-HLS, fMP4)
 *   TS_DIR/NAME.m3u8   listing NAMESUFFIX.m3u8 (nginx-rtmp's classic HLS)
 *
 * with vks_hls_master_render(), under a temporary name and renamed, each
 * time what it lists changes (not on every part), and gives each LL-HLS
 * writer the EXT-X-RENDITION-REPORTs of its listed siblings.
 *
 * Bandwidth: derived from the rendition's limits (bitrate, maxrate,
 * bufsize, audio bitrate; the source's measured rate for a copy; a
 * bits-per-pixel guess for an uncapped crf encode) plus the container's
 * overhead, until VKS_HLS_RATE_SEGMENTS segments are measured; then the
 * measured peak segment bit rate and the mean.  A segment above 125% of
 * the advertised BANDWIDTH (Apple's limit for live streams) raises it to
 * that peak at once; the mean is re-advertised when it moves by more than
 * VKS_HLS_RATE_AVG_PERCENT.  LL-HLS measures its real segment files; the
 * classic side measures each GOP's packets with an MPEG-TS overhead
 * estimate (nginx-rtmp's segments are one GOP or more, so a GOP's peak is
 * never below theirs).
 *
 * A rendition is left out of both masters when the transcoder would mark
 * it duplicate_of an earlier one (vks_rendition_duplicates()), and
 * vks_hls_master_select() leaves out a dearer variant of the same picture.
 * When the stream ends (vks_hls_ladder_end()) the masters are left as
 * they are, next to the ended playlists; a new publish of the name
 * replaces them (vks_hls_ladder_create() removes the old ones).
 *
 * Plain C, no nginx types; every function is thread-safe (one mutex).
 */


#ifndef _VKS_HLS_LADDER_H_INCLUDED_
#define _VKS_HLS_LADDER_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "vks_conf.h"
#include "vks_hls_codecs.h"
#include "vks_hls_master.h"
#include "vks_llhls_playlist.h"
#include "vks_log.h"


#define VKS_HLS_LL      0       /* LL-HLS: fMP4 */
#define VKS_HLS_TS      1       /* classic: MPEG-TS by nginx-rtmp */

#define VKS_HLS_RATE_SEGMENTS     3     /* measured, then advertised */
#define VKS_HLS_RATE_AVG_PERCENT  10
#define VKS_HLS_RATE_PEAK_PERCENT 125   /* Apple: peak < 125% BANDWIDTH */

/* estimates of the containers' bytes beyond the codecs' packets */
#define VKS_HLS_TS_VFRAME    128    /* PES header, AUD, PCR, stuffing */
#define VKS_HLS_TS_AFRAME    16     /* ADTS header, share of a PES */
#define VKS_HLS_MP4_VFRAME   16     /* trun entry */
#define VKS_HLS_MP4_AFRAME   8
#define VKS_HLS_MP4_SECOND   600    /* moof and mdat headers of the parts */


/* a variant's advertised and measured bit rates, bit/s */
typedef struct {
    uint64_t   bandwidth;       /* advertised BANDWIDTH */
    uint64_t   average;         /* advertised AVERAGE-BANDWIDTH */
    uint64_t   peak;            /* measured: the highest segment */
    uint64_t   bytes;           /* measured: all segments */
    uint64_t   ms;
    unsigned   nsegs;
} vks_hls_rate_t;


/* what a rendition outputs, once its output is open */
typedef struct {
    char       video_codec[VKS_HLS_CODEC_LEN];  /* "" without video */
    char       audio_codec[VKS_HLS_CODEC_LEN];  /* "" without audio */
    unsigned   ll_audio:1;      /* the audio is in its LL-HLS output */
    unsigned   width;
    unsigned   height;
    double     frame_rate;      /* 0: not known */
    unsigned   audio_rate;      /* Hz, for the overhead estimate */
} vks_hls_output_t;


typedef struct {
    const char                  *name;      /* the stream's */
    const char                  *ll_dir;    /* "" or NULL: no LL master */
    const char                  *ts_dir;    /* "" or NULL: no classic */
    int                          n;         /* renditions, as configured */
    const vks_rendition_conf_t  *rc;
    vks_log_pt                   log;
    void                        *log_data;
} vks_hls_ladder_conf_t;


typedef struct vks_hls_ladder_s  vks_hls_ladder_t;


/* NULL when out of memory; removes the masters a previous publish left. */
vks_hls_ladder_t *vks_hls_ladder_create(const vks_hls_ladder_conf_t *conf);
void vks_hls_ladder_free(vks_hls_ladder_t *l);

/*
 * Rendition i (its index in conf->rc) has an open output: it is listed
 * in the classic master (unless it publishes to another host) and its
 * bandwidth is derived.  Again after a reconnect: measurements are kept
 * unless the output changed.
 */
void vks_hls_ladder_join(vks_hls_ladder_t *l, int i,
    const vks_hls_output_t *out);

/* Its output is gone (stopped, failed): out of both masters. */
void vks_hls_ladder_leave(vks_hls_ladder_t *l, int i);

/*
 * Its LL-HLS playlist, just renamed into place, ends with part "part" of
 * segment "msn" (vks_llhls_last_part()): the first call lists it in the
 * LL master.  vks_hls_ladder_ll_leave(): its LL-HLS output closed.
 */
void vks_hls_ladder_ll_progress(vks_hls_ladder_t *l, int i, uint64_t msn,
    uint64_t part);
void vks_hls_ladder_ll_leave(vks_hls_ladder_t *l, int i);

/* One complete segment of kind VKS_HLS_LL or VKS_HLS_TS, in bytes. */
void vks_hls_ladder_measure(vks_hls_ladder_t *l, int i, int kind,
    uint64_t bytes, uint32_t duration_ms);

/*
 * The reports for rendition i's playlist: one per other rendition listed
 * in the LL master, URIs "../NAMESUFFIX/index.m3u8" written into uris.
 * Returns how many (at most max).
 */
size_t vks_hls_ladder_reports(vks_hls_ladder_t *l, int i,
    vks_llhls_report_t *reports, char (*uris)[VKS_LLHLS_URI_LEN],
    size_t max);

/* The source's measured bit rate (the transcoder's), for copies. */
void vks_hls_ladder_source_rate(vks_hls_ladder_t *l, uint64_t bps);

/* The stream ends: the masters stay as they are. */
void vks_hls_ladder_end(vks_hls_ladder_t *l);

/*
 * The building blocks, for the tests.  vks_hls_derive(): the bit rates
 * of rendition rc with output out before anything is measured.
 * vks_hls_rate_add(): one measured segment; returns 1 when the advertised
 * values changed.  vks_hls_ts_bytes(): a GOP's packets as MPEG-TS bytes.
 */
void vks_hls_derive(const vks_rendition_conf_t *rc,
    const vks_hls_output_t *out, uint64_t source_bps, int kind,
    vks_hls_rate_t *rate);
int vks_hls_rate_add(vks_hls_rate_t *r, uint64_t bytes,
    uint32_t duration_ms);
uint64_t vks_hls_ts_bytes(uint64_t payload, unsigned vframes,
    unsigned aframes);


#endif /* _VKS_HLS_LADDER_H_INCLUDED_ */
